from tests.conftest import bearer
from tests.factories import payload


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_submit_and_lookup(client, ready, app_token):
    response = client.post("/api/v1/clues", json=payload(), headers=bearer(app_token))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    found = client.post("/api/v1/receipts/lookup", json={"receipt": body["receipt"].lower()})
    assert found.status_code == 200
    assert found.get_json()["tracking_no"] == body["tracking_no"]
    assert found.get_json()["status_label"] == "已收到"
