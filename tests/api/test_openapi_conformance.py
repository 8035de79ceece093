"""The OpenAPI document matches the code: every route documented, answers validate."""

import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from app.api.openapi import document
from tests.conftest import bearer
from tests.factories import payload


def check(response, path, method="post"):
    """Validate a real response against the documented schema for its status."""
    doc = document()
    operation = doc["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method.upper()} {path} answered undocumented {response.status_code}"
    schema = documented["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": doc["components"]})
    validator.validate(response.get_json())


def test_document_is_valid_openapi(client):
    validate(client.get("/api/v1/openapi.json").get_json())


def test_every_api_route_is_documented(app):
    documented = {(path, method) for path, ops in document()["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == documented


def test_situation_codes_are_documented():
    description = document()["info"]["description"]
    assert "`fines_discretion`" in description
    assert "`other_favouritism`" in description


def test_request_example_validates_against_the_request_schema():
    doc = document()
    schema = doc["paths"]["/clues"]["post"]["requestBody"]["content"]["application/json"]
    Draft202012Validator({**schema["schema"], "components": doc["components"]}).validate(
        payload())


@pytest.mark.parametrize("variant", ["ok", "validation", "excluded", "unauthorized"])
def test_clue_answers_follow_the_document(client, ready, app_token, variant):
    headers = bearer(app_token)
    body = payload()
    if variant == "validation":
        body = payload(district="nowhere")
    elif variant == "excluded":
        body = payload(exclusions={"discipline": True, "petition": False,
                                   "reconsideration": False, "litigation": False})
    elif variant == "unauthorized":
        headers = bearer("wrong")
    check(client.post("/api/v1/clues", json=body, headers=headers), "/clues")


def test_campaign_and_lookup_answers_follow_the_document(client, ready, app_token):
    check(client.get("/api/v1/campaigns/current"), "/campaigns/current", "get")
    receipt = client.post("/api/v1/clues", json=payload(),
                          headers=bearer(app_token)).get_json()["receipt"]
    check(client.post("/api/v1/receipts/lookup", json={"receipt": receipt}), "/receipts/lookup")
    check(client.post("/api/v1/receipts/lookup", json={"receipt": "nope"}), "/receipts/lookup")


def test_no_campaign_answer_follows_the_document(client):
    check(client.get("/api/v1/campaigns/current"), "/campaigns/current", "get")
