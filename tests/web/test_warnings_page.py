"""The console's 预警监测 pages: list, series with its band, clues, acknowledgement."""

from __future__ import annotations

import re
from datetime import date, datetime, time

import pyotp
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, EarlyWarning
from app.services import people, warnings
from app.timeutil import LOCAL, local_today
from tests.warning_data import AGENCY, SECRET_TEXT, surge_sample

PASSWORD = "a long enough password"
SURGE_DAY = date(2025, 3, 19)


def signed_in(app, role):
    _user, secret = people.create_user(db.session, username=f"u-{role}", role=role,
                                       password=PASSWORD, actor="test")
    client = app.test_client()
    # CSRF stays on: the sign-in form's token is read from the page.
    page = client.get("/review/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/review/login", data={"username": f"u-{role}", "password": PASSWORD,
                                       "otp": pyotp.TOTP(secret).now(), "csrf_token": token})
    return client


def csrf_token(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.fixture
def agency_warning(app):
    surge_sample(SURGE_DAY)
    result = warnings.scan(db.session, now=datetime.combine(date(2025, 3, 20), time(15),
                                                             tzinfo=LOCAL))
    return next(w for w in result.new if w.dimension == "agency")


def test_reviewer_sees_the_list_the_series_the_band_and_the_clues(app, agency_warning):
    client = signed_in(app, "reviewer")
    listing = client.get("/review/warnings").get_data(as_text=True)
    # The list keeps 90 days; the sample is of 2025, so the page shows none of it.
    assert "近90日没有预警" in listing
    page = client.get(f"/review/warnings/{agency_warning.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert AGENCY in html
    assert "2025-03-19" in html
    chart_url = re.search(r'<img class="series-chart" src="([^"]+)"', html).group(1)
    chart = client.get(chart_url)
    assert chart.mimetype == "image/svg+xml"
    svg = chart.get_data(as_text=True)
    assert svg.startswith("<svg")
    assert "#c62828" in svg  # the surge day is drawn red, beside the grey ones
    assert "#8a8f98" in svg
    assert "<table" in html
    assert "0–8" in html
    assert len(re.findall(r'href="/review/clues/\d+', html)) == 22
    assert SECRET_TEXT not in html
    assert "<script" not in html


def test_the_list_shows_recent_warnings(app, agency_warning):
    # Move the warnings to today: the list covers the last 90 days.
    for warning in db.session.scalars(select(EarlyWarning)):
        warning.day = local_today()
    db.session.commit()
    client = signed_in(app, "supervisor")
    html = client.get("/review/warnings").get_data(as_text=True)
    assert html.count('href="/review/warnings/') == 3
    assert ">fines<" not in html  # the category by its name, not its code
    assert "普陀区" in html
    assert AGENCY in html


def test_analyst_sees_numbers_but_no_tracking_numbers_and_cannot_acknowledge(
        app, agency_warning):
    client = signed_in(app, "analyst")
    html = client.get(f"/review/warnings/{agency_warning.id}").get_data(as_text=True)
    assert "0–8" in html
    assert "22" in html
    assert not re.search(r"/review/clues/\d", html)
    assert "WT0" not in html
    assert "确认预警" not in html
    # That the acknowledging POST answers 403 to analysts: test_access_matrix.py.


def test_reviewer_acknowledges_with_a_note_audited(app, agency_warning):
    client = signed_in(app, "reviewer")
    url = f"/review/warnings/{agency_warning.id}"
    # Without the CSRF token nothing changes.
    client.post(f"{url}/acknowledge", data={"note": "已通知该局"})
    db.session.expire_all()
    assert db.session.get(EarlyWarning, agency_warning.id).acknowledged_at is None
    response = client.post(f"{url}/acknowledge",
                           data={"note": "已通知该局", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 302
    db.session.expire_all()
    warning = db.session.get(EarlyWarning, agency_warning.id)
    assert warning.acknowledged_at is not None
    assert warning.note == "已通知该局"
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "warning.acknowledged")).one()
    assert (event.actor, event.target) == ("user:u-reviewer", f"warning:{warning.id}")
    html = client.get(url).get_data(as_text=True)
    assert "已确认" in html
    assert "已通知该局" in html
    assert "确认预警" not in html


def test_an_unknown_warning_is_404(app):
    client = signed_in(app, "supervisor")
    assert client.get("/review/warnings/999").status_code == 404
