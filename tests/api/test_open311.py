"""Open311 GeoReport v2 (read): categories as services, hotline clues as requests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Clue
from app.services import people, workflow
from app.timeutil import utcnow
from tests.api.test_hotline_api import UNRELATED, order
from tests.conftest import bearer
from tests.factories import payload


def test_services_are_the_eight_categories(client, hotline_token):
    services = client.get("/open311/v2/services.json", headers=bearer(hotline_token))
    assert services.status_code == 200
    codes = [s["service_code"] for s in services.get_json()]
    assert codes == ["fees", "fines", "inspections", "seizures", "cross_region", "profit_driven",
                     "quality", "other"]
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in services.get_json())
    definition = client.get("/open311/v2/services/fines.json", headers=bearer(hotline_token))
    assert definition.get_json() == {"service_code": "fines", "attributes": []}
    assert client.get("/open311/v2/services/nope.json",
                      headers=bearer(hotline_token)).status_code == 404


def test_only_the_hotline_token_reads_it(client, app_token):
    assert client.get("/open311/v2/services.json").status_code == 401
    refused = client.get("/open311/v2/services.json", headers=bearer(app_token))
    assert refused.status_code == 403
    assert refused.get_json()[0]["code"] == 403
    xml = client.get("/open311/v2/services.xml", headers=bearer(
        people.create_token(db.session, channel="hotline", name="h2", actor="test")))
    assert xml.status_code == 400


def test_requests_are_hotline_clues_with_status_department_and_sla(client, ready,
                                                                  hotline_token, app_token):
    client.post("/api/v1/hotline/orders", json=order(), headers=bearer(hotline_token))
    client.post("/api/v1/hotline/orders", json=order(order_no="12345-20250501-0002",
                                                     content=UNRELATED),
                headers=bearer(hotline_token))
    # A web reporter's clue is never a 311 request.
    client.post("/api/v1/clues", json=payload(), headers=bearer(app_token))
    clue = db.session.scalars(select(Clue).where(Clue.channel == "hotline")).one()
    reviewer, _ = people.create_user(db.session, username="rev", role="reviewer",
                                     password="a long enough password", actor="test")
    now = utcnow()
    workflow.start_triage(db.session, clue.id, actor=reviewer, now=now)
    workflow.accept(db.session, clue.id, actor=reviewer, now=now)
    workflow.assign(db.session, clue.id, department="market", due_at=now + timedelta(days=3),
                    reason="", actor=reviewer, now=now)
    requests = client.get("/open311/v2/requests.json", headers=bearer(hotline_token))
    body = requests.get_json()
    assert [r["service_request_id"] for r in body] == ["12345-20250501-0001"]
    item = body[0]
    assert (item["status"], item["service_code"]) == ("open", clue.category_code)
    assert item["agency_responsible"] == "市场监督管理局"
    assert item["expected_datetime"].endswith("+08:00")
    assert item["status_notes"].startswith("已交办")
    assert "王海明" not in str(body)
    assert "13957001234" not in str(body)
    one = client.get("/open311/v2/requests/12345-20250501-0001.json",
                     headers=bearer(hotline_token))
    assert one.get_json()[0]["service_request_id"] == "12345-20250501-0001"
    assert client.get("/open311/v2/requests/12345-20250501-0002.json",
                      headers=bearer(hotline_token)).status_code == 404
    closed = client.get("/open311/v2/requests.json?status=closed",
                        headers=bearer(hotline_token))
    assert closed.get_json() == []
    bad = client.get("/open311/v2/requests.json?start_date=yesterday",
                     headers=bearer(hotline_token))
    assert bad.status_code == 400
