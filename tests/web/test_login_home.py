"""After signing in, each role lands on a page it may open (never a 403)."""

import pyotp
import pytest

from app.extensions import db
from app.services import people

PASSWORD = "a long enough password"


@pytest.mark.parametrize(("role", "home"), [
    ("reviewer", "/review/"), ("supervisor", "/review/"), ("liaison", "/review/"),
    ("analyst", "/review/dashboard"), ("admin", "/admin/"),
])
def test_each_role_lands_on_its_own_page(app, role, home):
    _user, secret = people.create_user(db.session, username=f"u-{role}", role=role,
                                       password=PASSWORD, actor="test",
                                       department="market" if role == "liaison" else None)
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post("/review/login", data={"username": f"u-{role}",
                                                      "password": PASSWORD,
                                                      "otp": pyotp.TOTP(secret).now()})
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(home)
    assert client.get(location).status_code == 200
