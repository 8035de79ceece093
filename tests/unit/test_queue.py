"""The queue: filters, keyset pages that neither skip nor repeat, counts per status."""

from datetime import timedelta

from app.context import intake_keys
from app.extensions import db
from app.models import Channel, Clue
from app.services import intake, queue
from app.timeutil import local_today, utcnow
from tests.factories import anonymous_payload


def make(n, **changes):
    now = utcnow()
    ids = []
    for i in range(n):
        ids.append(intake.submit(db.session, anonymous_payload(**changes), channel=Channel.WEB,
                                 keys=intake_keys(), now=now - timedelta(minutes=i),
                                 actor="reporter", require_open_campaign=False).clue_id)
    return ids


def test_pages_cover_every_clue_once_in_order(ready):
    ids = make(23)
    seen, cursor = [], None
    while True:
        page = queue.list_clues(db.session, queue.Filters(), now=utcnow(), cursor=cursor,
                                page_size=5)
        seen += [c.id for c in page.clues]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids  # newest first: made at now, now-1min, …


def test_oldest_sort_reverses(ready):
    ids = make(7)
    page = queue.list_clues(db.session, queue.Filters(), now=utcnow(), sort="oldest",
                            page_size=10)
    assert [c.id for c in page.clues] == list(reversed(ids))


def test_filters_and_counts(ready):
    make(3, district="putuo", category="fees", situations=["fees_raised"])
    make(2, district="dinghai")
    page = queue.list_clues(db.session, queue.Filters(district="putuo"), now=utcnow())
    assert len(page.clues) == 3
    assert page.counts == {"received": 3}
    fees = queue.list_clues(db.session, queue.Filters(category="fees"), now=utcnow())
    assert {c.category_code for c in fees.clues} == {"fees"}
    text = queue.list_clues(db.session, queue.Filters(text="最高档"), now=utcnow())
    assert len(text.clues) == 5


def test_overdue_and_scope(ready):
    ids = make(3)
    now = utcnow()
    first, second, _third = (db.session.get(Clue, i) for i in ids)
    first.due_at, first.handling_department_code = now - timedelta(hours=1), "market"
    second.due_at, second.handling_department_code = now + timedelta(hours=1), "tourism"
    db.session.commit()
    overdue = queue.list_clues(db.session, queue.Filters(overdue=True), now=now)
    assert [c.id for c in overdue.clues] == [first.id]
    scoped = queue.list_clues(db.session, queue.Filters(scope_department="tourism"), now=now)
    assert [c.id for c in scoped.clues] == [second.id]
    due = queue.list_clues(db.session, queue.Filters(), now=now, sort="due")
    assert [c.id for c in due.clues] == [first.id, second.id]


def test_date_range_is_judged_in_shanghai(ready):
    make(2)
    today = local_today()
    assert len(queue.list_clues(db.session, queue.Filters(date_from=today), now=utcnow())
               .clues) >= 1
    assert queue.list_clues(db.session, queue.Filters(date_to=today - timedelta(days=2)),
                            now=utcnow()).clues == []


def test_garbage_cursor_starts_over(ready):
    make(2)
    page = queue.list_clues(db.session, queue.Filters(), now=utcnow(), cursor="!!garbage")
    assert len(page.clues) == 2


def test_free_text_finds_chinese_substrings_through_the_index(ready):
    make(2, description="大风停航，民宿拒绝退还订金。")
    make(3, description="检查消防设施时态度粗暴。")
    for term, expected in [("民宿拒绝", 2), ("消防设施", 3), ("态度", 3), ("订金", 2),
                           ("不存在的词", 0), ("100%", 0), ('"引号"', 0)]:
        page = queue.list_clues(db.session, queue.Filters(text=term), now=utcnow())
        assert len(page.clues) == expected, term
        assert sum(page.counts.values()) == expected, term


def test_unfiltered_counts_follow_every_transition(ready):
    from app.services import people, workflow
    ids = make(3)
    reviewer = people.create_user(db.session, username="rv", role="reviewer",
                                  password="a long enough password", actor="t")[0]
    workflow.start_triage(db.session, ids[0], actor=reviewer, now=utcnow())
    workflow.not_accept(db.session, ids[1], reason="duplicate", actor=reviewer, now=utcnow())
    page = queue.list_clues(db.session, queue.Filters(), now=utcnow())
    assert page.counts == {"received": 1, "triaging": 1, "not_accepted": 1}
    assert not page.counts_capped


def test_filtered_counts_are_capped(ready, monkeypatch):
    make(5, district="putuo")
    monkeypatch.setattr(queue, "COUNT_CAP", 3)
    page = queue.list_clues(db.session, queue.Filters(district="putuo"), now=utcnow())
    assert page.counts_capped
    assert sum(page.counts.values()) == 4


def test_a_broad_term_pages_the_same_by_either_plan(ready, monkeypatch):
    from app import search

    ids = make(7, description="检查消防设施时态度粗暴。")
    make(2, description="大风停航，民宿拒绝退还订金。")
    results = {}
    for broad_at in (10_000, 1):  # rare (fetch and sort), then broad (walk the order)
        monkeypatch.setattr(search, "BROAD_MATCHES", broad_at)
        assert search.is_broad(db.session, "消防设施") == (
            broad_at == 1 and db.engine.dialect.name == "sqlite")
        seen, cursor = [], None
        while True:
            page = queue.list_clues(db.session, queue.Filters(text="消防设施"), now=utcnow(),
                                    cursor=cursor, page_size=3)
            seen += [c.id for c in page.clues]
            cursor = page.next_cursor
            if cursor is None:
                break
        results[broad_at] = seen
    assert results[10_000] == results[1] == ids
