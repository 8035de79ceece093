"""POST /api/v1/clues, GET /campaigns/current, POST /receipts/lookup per INTERFACES §4."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from app.extensions import db
from app.models import Campaign, Clue
from app.services import campaigns
from app.services.demo import ensure_campaigns
from app.timeutil import utcnow
from tests.conftest import bearer
from tests.factories import NO_EXCLUSIONS, anonymous_payload, payload

URL = "/api/v1/clues"


def clue_count():
    return db.session.scalar(select(func.count(Clue.id)))


def test_created_answer(client, ready, app_token):
    response = client.post(URL, json=payload(), headers=bearer(app_token))
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"tracking_no", "receipt", "status"}
    assert body["status"] == "received"
    clue = db.session.scalar(select(Clue))
    assert clue.tracking_no == body["tracking_no"]
    assert clue.channel == "app"


def test_hotline_token_records_hotline_channel(client, ready, hotline_token):
    assert client.post(URL, json=payload(), headers=bearer(hotline_token)).status_code == 201
    assert db.session.scalar(select(Clue.channel)) == "hotline"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nope", "Basic abc", "bearer  "])
def test_missing_or_wrong_token_is_401(client, ready, header):
    headers = {"Authorization": header} if header else {}
    response = client.post(URL, json=payload(), headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_token_is_checked_before_the_body(client, ready):
    response = client.post(URL, data="not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401


@pytest.mark.parametrize("body", ["not json", "[1, 2]", '"text"', "null", "{"])
def test_not_a_json_object_is_400(client, ready, app_token, body):
    response = client.post(URL, data=body, headers={**bearer(app_token),
                                                     "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_closed_campaign_is_403_before_exclusions_and_validation(client, identity_key,
                                                                  app_token):
    now = utcnow()
    campaigns.create_campaign(db.session, slug="past", title="过去", actor="t",
                              opens_at=now - timedelta(days=9), deadline=now - timedelta(days=1))
    body = {"exclusions": {**NO_EXCLUSIONS, "litigation": True}, "district": 5}
    response = client.post(URL, json=body, headers=bearer(app_token))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "campaign_closed"
    assert clue_count() == 0


def test_excluded_before_validation(client, ready, app_token):
    body = {"exclusions": {**NO_EXCLUSIONS, "reconsideration": True}, "district": 5}
    response = client.post(URL, json=body, headers=bearer(app_token))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "excluded"
    assert error["rules"] == ["reconsideration"]
    assert clue_count() == 0


def test_malformed_exclusions_fall_through_to_validation(client, ready, app_token):
    body = payload(exclusions={"discipline": "yes", "petition": True})
    response = client.post(URL, json=body, headers=bearer(app_token))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation"
    assert "exclusions.discipline" in error["fields"]


def test_validation_fields_use_dotted_keys(client, ready, app_token):
    body = payload(identity={"name": "", "phone": "110"}, pledge=False)
    response = client.post(URL, json=body, headers=bearer(app_token))
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert {"identity.name", "identity.phone", "pledge"} <= set(fields)
    assert clue_count() == 0


def test_defaults_and_optional_fields(client, ready, app_token):
    body = anonymous_payload(situations=None, occurred_on=None, amount_yuan=None)
    body.pop("confidential")
    assert client.post(URL, json=body, headers=bearer(app_token)).status_code == 201
    clue = db.session.scalar(select(Clue))
    assert clue.confidential is True
    assert clue.amount_fen is None
    assert clue.situations == []


@pytest.mark.parametrize("junk", [
    {"category": ["fines"]}, {"agency": 12}, {"amount_yuan": "lots"}, {"amount_yuan": True},
    {"situations": "fines_discretion"}, {"identity": "林晓梅"}, {"exclusions": []},
    {"occurred_on": 20250501}, {"description": {"a": 1}}, {"confidential": "no"},
])
def test_wrong_types_are_422_never_500(client, ready, app_token, junk):
    response = client.post(URL, json=payload(**junk), headers=bearer(app_token))
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation"


def test_campaign_current(client, ready):
    body = client.get("/api/v1/campaigns/current").get_json()
    assert body["open"] is True
    assert [c["code"] for c in body["categories"]] == [
        "fees", "fines", "inspections", "seizures", "cross_region", "profit_driven", "quality",
        "other"]
    assert body["categories"][1]["name"] == "乱罚款"
    assert {e["code"] for e in body["exclusions"]} == {
        "discipline", "petition", "reconsideration", "litigation"}
    assert {d["code"] for d in body["districts"]} == {
        "city", "dinghai", "putuo", "daishan", "shengsi", "xincheng", "putuoshan"}
    assert body["deadline"].endswith("+08:00")


def test_campaign_current_when_closed_and_when_none(client, app):
    assert client.get("/api/v1/campaigns/current").status_code == 404
    assert client.get("/api/v1/campaigns/current").get_json()["error"]["code"] == "no_campaign"
    ensure_campaigns(db.session, utcnow())
    db.session.execute(delete(Campaign).where(Campaign.slug == "demo-open"))
    db.session.commit()
    body = client.get("/api/v1/campaigns/current").get_json()
    assert body["open"] is False
    assert body["slug"] == "2025-enterprise-enforcement"
    assert body["deadline"] == "2025-10-01T00:00:00+08:00"
    assert body["opens_at"] == "2025-04-25T00:00:00+08:00"


def test_lookup_same_answer_for_wrong_and_unknown(client, ready, app_token):
    receipt = client.post(URL, json=payload(), headers=bearer(app_token)).get_json()["receipt"]
    ok = client.post("/api/v1/receipts/lookup", json={"receipt": receipt})
    assert ok.status_code == 200
    assert ok.get_json()["feedback"] == []
    assert ok.get_json()["submitted_at"].endswith("+08:00")
    last = "Y" if receipt.endswith("X") else "X"
    wrong = client.post("/api/v1/receipts/lookup", json={"receipt": receipt[:-1] + last})
    unknown = client.post("/api/v1/receipts/lookup", json={"receipt": "0000-0000-0000-0000-0000"})
    garbage = client.post("/api/v1/receipts/lookup", json={"receipt": "hello"})
    assert wrong.status_code == unknown.status_code == garbage.status_code == 404
    assert wrong.get_json() == unknown.get_json() == garbage.get_json()


def test_lookup_never_shows_internal_detail(client, ready, app_token):
    receipt = client.post(URL, json=payload(department="market"),
                          headers=bearer(app_token)).get_json()["receipt"]
    body = client.post("/api/v1/receipts/lookup", json={"receipt": receipt}).get_json()
    assert set(body) == {"tracking_no", "status", "status_label", "submitted_at", "feedback"}


def test_lookup_read_aloud_variants(client, ready, app_token):
    receipt = client.post(URL, json=payload(), headers=bearer(app_token)).get_json()["receipt"]
    spoken = " ".join(receipt.replace("-", "").lower())
    assert client.post("/api/v1/receipts/lookup", json={"receipt": spoken}).status_code == 200


def test_lookup_is_rate_limited(client, app):
    app.config["JIDU_LIMIT_LOOKUP_SESSION"] = "1000 per minute"
    app.config["JIDU_LIMIT_LOOKUP_RECEIPT"] = "1000 per minute"
    try:
        statuses = [client.post("/api/v1/receipts/lookup",
                                json={"receipt": f"{i:020d}"}).status_code for i in range(65)]
    finally:
        app.config["JIDU_LIMIT_LOOKUP_SESSION"] = "10 per minute"
        app.config["JIDU_LIMIT_LOOKUP_RECEIPT"] = "10 per minute"
    assert statuses[:60] == [404] * 60
    assert statuses[-1] == 429


def test_one_receipt_cannot_be_hammered(client, app):
    receipt = "ABCD-EFGH-JKMN-PQRS-TVWX"
    statuses = [client.post("/api/v1/receipts/lookup", json={"receipt": receipt},
                            environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code
                for i in range(12)]
    assert statuses[:10] == [404] * 10
    assert statuses[-1] == 429


def test_lookup_empty_is_422(client, app):
    response = client.post("/api/v1/receipts/lookup", json={})
    assert response.status_code == 422


def test_unknown_api_path_is_json_404(client, app):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert "error" in response.get_json()
