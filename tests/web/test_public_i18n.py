"""English pages via ?lang=en, and a catalog with every message translated."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from app.extensions import db
from app.services.demo import ensure_campaigns
from app.timeutil import utcnow
from tests.web.test_public import csrf, post_form, receipt_on

PO = Path(__file__).resolve().parents[2] / "app/translations/en/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def test_every_message_has_an_english_translation_with_the_same_placeholders():
    with PO.open("rb") as source:
        catalog = read_po(source)
    entries = [m for m in catalog if m.id]
    assert len(entries) > 300
    untranslated = [m.id for m in entries if not m.string or m.fuzzy]
    assert untranslated == []
    for m in entries:
        assert set(PLACEHOLDER.findall(m.id)) == set(PLACEHOLDER.findall(m.string)), m.id
        assert not re.search(r"[\u4e00-\u9fff]", m.string.replace("涉企行政执法", "")), m.id


def test_form_in_english(client, ready):
    page = client.get("/report?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Report a problem with administrative enforcement" in page
    assert "Enforcement body you are reporting" in page
    assert "Arbitrary fines" in page
    assert "被反映的执法单位" not in page
    # The switch back keeps the page.
    assert 'href="/report?lang=zh_CN"' in page


def test_language_is_remembered_and_errors_are_english(client, ready):
    client.get("/?lang=en")
    page = post_form(client, phone="12345").get_data(as_text=True)
    assert "Please enter an 11-digit mainland China mobile number." in page
    assert "everything you typed is still here" in page
    assert "普陀区某某局执法大队" in page


def test_language_link_keeps_the_query(client, ready):
    page = client.get("/poster?tag=hall-putuo").get_data(as_text=True)
    assert 'href="/poster?tag=hall-putuo&amp;lang=en"' in page


def test_notice_dates_in_english(client, app):
    ensure_campaigns(db.session, utcnow())
    page = client.get("/?lang=en").get_data(as_text=True)
    assert "Check progress" in page
    assert re.search(r"\d{4}-\d{2}-\d{2}", page)


def test_status_label_in_english(client, ready):
    response = post_form(client)
    done = client.get(response.headers["Location"]).get_data(as_text=True)
    receipt = receipt_on(done)
    page = client.get("/status?lang=en").get_data(as_text=True)
    answer = client.post("/status", data={"csrf_token": csrf(page), "receipt": receipt})
    text = answer.get_data(as_text=True)
    assert "Current status" in text
    assert "Received" in text
