"""The command line of INTERFACES §2: output, audit, and one-line failures."""

from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Campaign, Clue, HotlineOrder, IdentityKey, User
from app.services import audit
from tests.conftest import bearer
from tests.factories import payload


def secret_file(tmp_path, text, name="secret.txt"):
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


def test_keys_init_stores_only_the_protected_key_and_refuses_twice(runner, tmp_path):
    passphrase = "a custodian passphrase"
    result = runner.invoke(args=["keys", "init", "--passphrase-file",
                                 secret_file(tmp_path, passphrase)])
    assert result.exit_code == 0, result.output
    key = db.session.scalar(select(IdentityKey))
    assert passphrase not in key.private_key_protected
    again = runner.invoke(args=["keys", "init", "--passphrase-file",
                                secret_file(tmp_path, passphrase)])
    assert again.exit_code != 0
    assert "refusing to overwrite" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert db.session.scalar(select(func.count(IdentityKey.kid))) == 1


def test_keys_init_missing_file_fails_in_one_line(runner, tmp_path):
    result = runner.invoke(args=["keys", "init", "--passphrase-file", str(tmp_path / "none")])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_users_create_prints_totp_last(runner, tmp_path):
    result = runner.invoke(args=["users", "create", "wang", "--role", "reviewer",
                                 "--email", "wang@example.gov.cn", "--password-file",
                                 secret_file(tmp_path, "long enough password")])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("totp: ")
    user = db.session.scalar(select(User).where(User.username == "wang"))
    assert user.totp_secret == last.removeprefix("totp: ")
    assert "long enough password" not in user.password_hash
    assert user.password_hash.startswith("$argon2")


def test_liaison_needs_a_department(runner, tmp_path):
    password = secret_file(tmp_path, "long enough password")
    refused = runner.invoke(args=["users", "create", "li", "--role", "liaison",
                                  "--password-file", password])
    assert refused.exit_code != 0
    assert "department" in refused.stderr
    ok = runner.invoke(args=["users", "create", "li", "--role", "liaison", "--department",
                             "market", "--password-file", password])
    assert ok.exit_code == 0, ok.output


def test_unknown_role_fails(runner, tmp_path):
    result = runner.invoke(args=["users", "create", "x1", "--role", "boss", "--password-file",
                                 secret_file(tmp_path, "long enough password")])
    assert result.exit_code != 0


def test_token_create_prints_a_working_token_last(runner, client, ready):
    result = runner.invoke(args=["tokens", "create", "--channel", "app", "--name", "浙企之家"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    response = client.post("/api/v1/clues", json=payload(), headers=bearer(token))
    assert response.status_code == 201


def test_campaigns_create_and_audit(runner):
    result = runner.invoke(args=["campaigns", "create", "--slug", "s2026", "--title", "2026征集",
                                 "--opens", "2026-01-01T00:00:00+08:00",
                                 "--deadline", "2026-10-01T00:00:00+08:00"])
    assert result.exit_code == 0, result.output
    campaign = db.session.scalar(select(Campaign))
    assert campaign.deadline.isoformat() == "2026-09-30T16:00:00+00:00"
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert actions == ["campaigns.create"]
    assert audit.verify_chain(db.session) is None


def test_campaigns_create_rejects_naive_time_and_bad_order(runner):
    naive = runner.invoke(args=["campaigns", "create", "--slug", "s", "--title", "t",
                                "--opens", "2026-01-01T00:00:00",
                                "--deadline", "2026-10-01T00:00:00+08:00"])
    assert naive.exit_code != 0
    assert "offset" in naive.stderr
    backwards = runner.invoke(args=["campaigns", "create", "--slug", "s", "--title", "t",
                                    "--opens", "2026-10-01T00:00:00+08:00",
                                    "--deadline", "2026-01-01T00:00:00+08:00"])
    assert backwards.exit_code != 0
    assert "deadline" in backwards.stderr


def test_tokens_and_keys_are_audited(runner, tmp_path):
    runner.invoke(args=["keys", "init", "--passphrase-file",
                        secret_file(tmp_path, "a custodian passphrase")])
    runner.invoke(args=["tokens", "create", "--channel", "hotline", "--name", "12345"])
    actions = list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["keys.init", "tokens.create"]
    assert audit.verify_chain(db.session) is None


def test_demo_data(runner, identity_key):
    result = runner.invoke(args=["demo-data", "--clues", "12"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Clue.id)).where(Clue.channel != "hotline")) == 12
    # The sample day of the hotline: every order in, the enforcement ones as clues.
    assert db.session.scalar(select(func.count(HotlineOrder.id))) == 61
    assert db.session.scalar(select(func.count(Clue.id)).where(Clue.channel == "hotline")) > 0
    slugs = set(db.session.scalars(select(Campaign.slug)))
    assert slugs == {"2025-enterprise-enforcement", "demo-open"}


def test_dev_setup_prints_admin_once_and_then_does_nothing(runner):
    first = runner.invoke(args=["dev-setup", "--clues", "3"])
    assert first.exit_code == 0, first.output
    assert "totp:" in first.output
    assert "password:" in first.output
    second = runner.invoke(args=["dev-setup"])
    assert second.exit_code == 0
    assert "nothing to do" in second.output
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_audit_verify_catches_an_edited_row(runner):
    runner.invoke(args=["tokens", "create", "--channel", "app", "--name", "a"])
    runner.invoke(args=["tokens", "create", "--channel", "app", "--name", "b"])
    assert runner.invoke(args=["audit", "verify"]).output.strip() == "audit chain intact"
    first = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id))
    first.actor = "someone-else"
    db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert f"broken at entry {first.id}" in result.stderr
