"""Early warning: scanning the clues, storing warnings once, copying them by mail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import EarlyWarning, OutboxMessage
from app.services import outbox, people, warnings
from app.services.errors import Conflict
from app.timeutil import LOCAL, local_today
from tests.warning_data import AGENCY, SECRET_TEXT, add_clues, surge_sample

SURGE_DAY = date(2025, 3, 19)  # a Wednesday
NOW = datetime.combine(date(2025, 3, 20), time(15), tzinfo=LOCAL)


def user(name, role, email):
    return people.create_user(db.session, username=name, role=role, email=email,
                              password="a long enough password", actor="test")[0]


def found(result):
    return sorted((str(w.dimension), w.key, w.day, w.count, w.expected, w.upper)
                  for w in result.new)


def test_the_injected_surge_is_found_per_category_district_and_agency(app):
    surge_sample(SURGE_DAY)
    result = warnings.scan(db.session, now=NOW)
    # 2 a day expected; 22 counted on the Shanghai day (the UTC day would split them).
    assert found(result) == [("agency", AGENCY, SURGE_DAY, 22, 2.0, 8),
                             ("category", "fines", SURGE_DAY, 22, 2.0, 8),
                             ("district", "putuo", SURGE_DAY, 22, 2.0, 8)]


def test_a_quiet_period_raises_nothing(app):
    for k in range(40):
        add_clues(date(2025, 3, 20) - timedelta(days=k), 3)
    db.session.commit()
    assert warnings.scan(db.session, now=NOW).new == []


def test_a_rescan_neither_duplicates_nor_mails_again(app):
    user("sup", "supervisor", "sup@bureau.example")
    surge_sample(SURGE_DAY)
    assert len(warnings.scan(db.session, now=NOW).new) == 3
    mails = db.session.scalar(select(func.count(OutboxMessage.id)))
    again = warnings.scan(db.session, now=NOW + timedelta(hours=1))
    assert (again.new, again.updated) == ([], 0)
    assert db.session.scalar(select(func.count(EarlyWarning.id))) == 3
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == mails


def test_a_rescan_updates_the_count_of_today(app):
    surge_sample(date(2025, 3, 20))
    first = warnings.scan(db.session, now=NOW)
    add_clues(date(2025, 3, 20), 5, at=time(14))
    db.session.commit()
    again = warnings.scan(db.session, now=NOW + timedelta(hours=1))
    assert (len(first.new), again.new, again.updated) == (3, [], 3)
    assert {w.count for w in db.session.scalars(select(EarlyWarning))} == {27}


def test_new_warnings_are_copied_to_supervisors_and_analysts_without_clue_text(app):
    supervisor = user("sup", "supervisor", "sup@bureau.example")
    analyst = user("ana", "analyst", "ana@bureau.example")
    user("rev", "reviewer", "rev@bureau.example")
    user("quiet", "supervisor", None)
    surge_sample(SURGE_DAY)
    warnings.scan(db.session, now=NOW)
    messages = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "warning")).all()
    assert sorted(m.user_id for m in messages) == sorted([supervisor.id, analyst.id] * 3)
    for message in messages:
        text = repr(message.params)
        assert SECRET_TEXT not in text
        assert AGENCY not in text
        assert "WT" not in text  # no tracking numbers either
    category = next(m for m in messages if m.params["dimension"] == "category")
    mail = outbox.render(db.session, category, notify_key=b"k" * 32,
                         base_url="https://jidu.example")
    assert mail.to in ("sup@bureau.example", "ana@bureau.example")
    assert "2025-03-19" in mail.subject
    assert "22" in mail.body
    assert "https://jidu.example/review/warnings" in mail.body
    assert SECRET_TEXT not in mail.body
    assert AGENCY not in mail.body
    district = next(m for m in messages if m.params["dimension"] == "district")
    assert "普陀区" in outbox.render(db.session, district, notify_key=b"k" * 32,
                                    base_url="https://jidu.example").body


def test_acknowledging_is_recorded_once(app):
    reviewer = user("rev", "reviewer", None)
    surge_sample(SURGE_DAY)
    warning = warnings.scan(db.session, now=NOW).new[0]
    warnings.acknowledge(db.session, warning.id, user=reviewer, note=" 已核实 ", now=NOW)
    assert (warning.acknowledged_by_id, warning.note) == (reviewer.id, "已核实")
    with pytest.raises(Conflict):
        warnings.acknowledge(db.session, warning.id, user=reviewer, note="", now=NOW)


def test_the_detail_shows_the_series_its_band_and_the_clues(app):
    surge_sample(SURGE_DAY)
    warning = next(w for w in warnings.scan(db.session, now=NOW).new if w.dimension == "agency")
    detail = warnings.detail(db.session, warning)
    assert len(detail.days) == 28
    assert detail.days[-1].day == SURGE_DAY
    assert [(d.count, d.expected, d.upper) for d in detail.days[-2:]] == [(2, 2.0, 8),
                                                                          (22, 2.0, 8)]
    assert detail.days[-1].flag is not None
    assert len(detail.clues) == 22
    assert not detail.more_clues


def test_the_cli_scans_now_and_prints_each_new_warning(app, runner):
    surge_sample(local_today() - timedelta(days=1))
    result = runner.invoke(args=["warnings", "scan"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("3 new warnings")
    assert sum(line.startswith("warning ") for line in lines) == 3
    again = runner.invoke(args=["warnings", "scan"])
    assert again.output.strip().splitlines()[-1].startswith("0 new warnings")
