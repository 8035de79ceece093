"""Key lifecycle (issue 8): rotate, resume, verify, destroy, and keys split among custodians.

Each test runs on SQLite and on PostgreSQL. Values are opened the way the
console opens them (disclosure, attachment download) wherever the console
can; hotline callers, which no page opens yet, directly.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select, update

from app.context import attachment_policy, intake_keys
from app.extensions import db
from app.models import AuditEvent, Channel, Clue, EvidenceKey, HotlineOrder, IdentityKey, User
from app.security import envelope, keystore, shares
from app.services import (
    attachments,
    audit,
    disclosure,
    hotline,
    intake,
    key_lifecycle,
    keys,
    people,
)
from app.services.errors import Conflict
from app.services.hotline_store import caller_aad
from app.services.sealed import PLACES, KeyKind
from app.timeutil import utcnow
from tests.conftest import EVIDENCE_PASSPHRASE, PASSPHRASE
from tests.evidence_files import jpeg_with_gps
from tests.factories import anonymous_payload, payload

NEW_PASSPHRASE = "the next custodian passphrase"
NEW_EVIDENCE = "the next evidence passphrase"
ENFORCEMENT_CALL = ("企业负责人来电反映，其公司经营的海鲜加工厂上月被普陀区某执法中队以卫生检查为名"
                    "一个月内检查了四次，每次都要求停工配合，还罚款两万元，认为检查过于频繁。")


@dataclass
class World:
    real_name: list[int]  # clue ids with an identity
    with_files: list[int]  # clue ids with an attachment
    order_no: str


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return str(path)


def submit(data: dict, *, photo: bool = False) -> int:
    uploads = [attachments.Upload("现场照片.jpg", io.BytesIO(jpeg_with_gps((64, 48))))] \
        if photo else []
    return intake.submit(db.session, data, channel=Channel.WEB, keys=intake_keys(),
                         now=utcnow(), actor="reporter", uploads=uploads,
                         policy=attachment_policy()).clue_id


@pytest.fixture
def world(app, ready, evidence_key) -> World:
    """Identities on web and hotline clues, a hotline caller, and two attachments."""
    real_name = [submit(payload(), photo=True), submit(payload()), submit(payload())]
    anonymous = submit(anonymous_payload(), photo=True)
    order, _new = hotline.receive(
        db.session, {"order_no": "12345-20250501-0001", "received_at": "2025-05-01T09:30:00+08:00",
                     "content": ENFORCEMENT_CALL, "district": "putuo",
                     "hotline_category": "投诉举报",
                     "caller": {"name": "王海明", "phone": "13957001234"}},
        public_key=keys.active_public_key(db.session),
        receipt_key=app.config["JIDU_RECEIPT_KEY"], now=utcnow(), actor="test")
    assert order.clue_id is not None
    assert order.caller_sealed
    return World(real_name + [order.clue_id], [real_name[0], anonymous], order.order_no)


def sealed(kind: KeyKind) -> dict[str, str]:
    """Every sealed value of a kind, by a printable name."""
    return {item.label: item.sealed for place in PLACES[kind]
            for items in place.batches(db.session, 100) for item in items}


def kids(kind: KeyKind) -> set[str | None]:
    return {envelope.kid_of(text) for text in sealed(kind).values()}


def current_kid(kind: KeyKind) -> str:
    return key_lifecycle.current(db.session, kind).kid


def user(name: str, role: str):
    return people.create_user(db.session, username=name, role=role,
                              password="a long enough password", actor="test")[0]


def disclose(clue_id: int, secret: str) -> dict:
    """Through the console's two-person rule, with ``secret`` typed as the passphrase."""
    requester = db.session.scalar(select(User).where(User.username == "rv")) \
        or user("rv", "reviewer")
    approver = db.session.scalar(select(User).where(User.username == "sup")) \
        or user("sup", "supervisor")
    request = disclosure.request(db.session, clue_id, user=requester, reason="核实身份以便回访",
                                 now=utcnow())
    disclosure.decide(db.session, request.id, supervisor=approver, approve=True, now=utcnow())
    return disclosure.disclose(db.session, request.id, user=requester, passphrase=secret,
                               now=utcnow())


def download(app, clue_id: int, secret: str) -> bytes:
    (row,) = attachments.for_clue(db.session, clue_id)
    got = attachments.open_for_download(
        db.session, row.id, clue_id=clue_id, actor="user:rv", passphrase=secret,
        folder=Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER, now=utcnow())
    return b"".join(got.chunks)


def open_caller(order_no: str, secret: str) -> dict:
    order = db.session.scalar(select(HotlineOrder).where(HotlineOrder.order_no == order_no))
    kid = envelope.kid_of(order.caller_sealed)
    private = keys.unlock_private_key(db.session, kid, secret)
    return json.loads(envelope.open_sealed(order.caller_sealed, private, caller_aad(order_no)))


def ciphertexts(kind: KeyKind) -> dict[str, str]:
    return {label: json.loads(text)["ct"] for label, text in sealed(kind).items()}


def test_rotation_rewraps_everything_and_the_old_private_keys_can_be_destroyed(
        app, runner, world, tmp_path):
    old_identity, old_evidence = current_kid(KeyKind.IDENTITY), current_kid(KeyKind.EVIDENCE)
    identity_ct, evidence_ct = ciphertexts(KeyKind.IDENTITY), ciphertexts(KeyKind.EVIDENCE)
    assert len(identity_ct) == 5
    assert len(evidence_ct) == 2

    rotated = runner.invoke(args=[
        "keys", "rotate", "--passphrase-file", write(tmp_path, "old", PASSPHRASE),
        "--new-passphrase-file", write(tmp_path, "new", NEW_PASSPHRASE)])
    assert rotated.exit_code == 0, rotated.output
    assert "re-wrapped 5 values" in rotated.output
    assert f"keys destroy {old_identity}" in rotated.output
    evidence = runner.invoke(args=[
        "keys", "rotate", "--evidence", "--passphrase-file",
        write(tmp_path, "old-e", EVIDENCE_PASSPHRASE),
        "--new-passphrase-file", write(tmp_path, "new-e", NEW_EVIDENCE)])
    assert evidence.exit_code == 0, evidence.output

    new_identity, new_evidence = current_kid(KeyKind.IDENTITY), current_kid(KeyKind.EVIDENCE)
    assert new_identity != old_identity
    assert new_evidence != old_evidence
    assert kids(KeyKind.IDENTITY) == {new_identity}
    assert kids(KeyKind.EVIDENCE) == {new_evidence}
    # Envelope encryption: only the wrapped data keys changed, never the payloads.
    assert ciphertexts(KeyKind.IDENTITY) == identity_ct
    assert ciphertexts(KeyKind.EVIDENCE) == evidence_ct

    for kid, flag in ((old_identity, []), (old_evidence, ["--evidence"])):
        gone = runner.invoke(args=["keys", "destroy", kid, "--yes", *flag])
        assert gone.exit_code == 0, gone.output
    assert db.session.get(IdentityKey, old_identity).private_key_protected == keystore.DESTROYED
    assert db.session.get(EvidenceKey, old_evidence).private_key_protected == keystore.DESTROYED

    # With the old private keys gone, everything still opens with the new ones…
    for clue_id in world.real_name[:3]:
        assert disclose(clue_id, NEW_PASSPHRASE)["name"] == "林晓梅"
    assert disclose(world.real_name[3], NEW_PASSPHRASE)["name"] == "王海明"
    assert open_caller(world.order_no, NEW_PASSPHRASE)["phone"] == "13957001234"
    for clue_id in world.with_files:
        assert download(app, clue_id, NEW_EVIDENCE).startswith(b"\xff\xd8")
    # …and the old passphrases open nothing any more.
    with pytest.raises(keystore.PassphraseError):
        disclose(world.real_name[1], PASSPHRASE)
    with pytest.raises(keystore.PassphraseError):
        download(app, world.with_files[1], EVIDENCE_PASSPHRASE)
    with pytest.raises(keystore.PassphraseError):
        keys.unlock_private_key(db.session, old_identity, PASSPHRASE)

    # New submissions are sealed for the new keys.
    fresh = db.session.get(Clue, submit(payload(), photo=True))
    assert envelope.kid_of(fresh.identity_sealed) == new_identity
    (row,) = attachments.for_clue(db.session, fresh.id)
    assert envelope.kid_of(row.key_sealed) == new_evidence

    verified = runner.invoke(args=["keys", "verify", "--passphrase-file",
                                   write(tmp_path, "new", NEW_PASSPHRASE)])
    assert verified.exit_code == 0, verified.output
    assert verified.output.strip().splitlines()[-1] == (
        f"identity key {new_identity}: 6 ok, 0 failed, 0 on an old key")
    actions = list(db.session.scalars(select(AuditEvent.action)
                                      .where(AuditEvent.action.like("keys.%"))
                                      .order_by(AuditEvent.id)))
    assert actions == ["keys.init", "keys.init_evidence", "keys.rotate", "keys.rotate_finished",
                       "keys.rotate", "keys.rotate_finished", "keys.destroy", "keys.destroy",
                       "keys.verify"]
    assert audit.verify_chain(db.session) is None
    assert PASSPHRASE not in json.dumps([e.details for e in db.session.scalars(
        select(AuditEvent))], ensure_ascii=False)


def test_an_interrupted_rotation_resumes_where_it_stopped(app, runner, world, tmp_path):
    for _ in range(5):
        submit(payload())
    old = current_kid(KeyKind.IDENTITY)
    total = len(sealed(KeyKind.IDENTITY))
    assert total == 10

    class Crash(Exception):
        pass

    def crash_after_two_batches(_place: str, moved: int) -> None:
        if moved >= 4:
            raise Crash

    with pytest.raises(Crash):
        key_lifecycle.rotate(db.session, KeyKind.IDENTITY, secret=PASSPHRASE,
                             protection=key_lifecycle.Protection(passphrase=NEW_PASSPHRASE),
                             log2n=app.config["JIDU_SCRYPT_LOG2N"], actor="test", batch=2,
                             progress=crash_after_two_batches)
    db.session.rollback()
    new = current_kid(KeyKind.IDENTITY)
    assert new != old
    halfway = sealed(KeyKind.IDENTITY)
    moved = {label for label, text in halfway.items() if envelope.kid_of(text) == new}
    assert len(moved) == 4  # two committed batches, nothing of the third

    # The old key cannot be destroyed while values remain on it, nor a new rotation start.
    refused = runner.invoke(args=["keys", "destroy", old, "--yes"])
    assert refused.exit_code == 1
    assert f"{total - 4} values are still sealed" in refused.stderr
    with pytest.raises(Conflict, match="unfinished"):
        key_lifecycle.rotate(db.session, KeyKind.IDENTITY, secret=PASSPHRASE,
                             protection=key_lifecycle.Protection(passphrase="yet another one!"),
                             log2n=app.config["JIDU_SCRYPT_LOG2N"], actor="test")

    resumed = runner.invoke(args=["keys", "rotate", "--passphrase-file",
                                  write(tmp_path, "old", PASSPHRASE)])
    assert resumed.exit_code == 0, resumed.output
    assert f"finishing the rotation to identity key {new}: {total - 4} values" in resumed.output
    assert f"re-wrapped {total - 4} values" in resumed.output
    after = sealed(KeyKind.IDENTITY)
    assert kids(KeyKind.IDENTITY) == {new}
    # What the first run moved was not touched again.
    assert {label: after[label] for label in moved} == {label: halfway[label] for label in moved}
    assert current_kid(KeyKind.IDENTITY) == new
    assert db.session.scalar(select(IdentityKey.retired_at).where(IdentityKey.kid == old))
    for clue_id in world.real_name:
        assert disclose(clue_id, NEW_PASSPHRASE)["name"] in ("林晓梅", "王海明")
    nothing_left = runner.invoke(args=["keys", "rotate", "--passphrase-file",
                                       write(tmp_path, "new", NEW_PASSPHRASE)])
    assert nothing_left.exit_code == 1
    assert "needs a passphrase or a split" in nothing_left.stderr


def test_verify_names_a_tampered_record_and_exits_non_zero(app, runner, world, tmp_path):
    clue = db.session.get(Clue, world.real_name[1])
    raw = json.loads(clue.identity_sealed)
    raw["ct"] = ("A" if raw["ct"][0] != "A" else "B") + raw["ct"][1:]
    clue.identity_sealed = json.dumps(raw, separators=(",", ":"))
    # An envelope copied onto another clue does not open there either.
    other = db.session.get(Clue, world.real_name[2])
    other.identity_sealed = db.session.get(Clue, world.real_name[0]).identity_sealed
    db.session.commit()

    result = runner.invoke(args=["keys", "verify", "--passphrase-file",
                                 write(tmp_path, "p", PASSPHRASE)])
    assert result.exit_code == 1
    failures = [line for line in result.output.splitlines() if line.startswith("failed: ")]
    assert sorted(failures) == sorted([f"failed: clue {clue.tracking_no}: envelope does not "
                                       "belong here or was altered",
                                       f"failed: clue {other.tracking_no}: envelope does not "
                                       "belong here or was altered"])
    assert ": 3 ok, 2 failed, 0 on an old key" in result.output
    assert "verify failed" in result.stderr
    assert "林晓梅" not in result.output
    assert "1385700" not in result.output
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "keys.verify"))
    assert (event.details["ok"], event.details["failed"]) == (3, 2)


def test_verify_with_files_decrypts_every_attachment(app, runner, world, tmp_path):
    secret = write(tmp_path, "e", EVIDENCE_PASSPHRASE)
    clean = runner.invoke(args=["keys", "verify", "--evidence", "--files",
                                "--passphrase-file", secret])
    assert clean.exit_code == 0, clean.output
    assert ": 2 ok, 0 failed" in clean.output
    (row,) = attachments.for_clue(db.session, world.with_files[1])
    path = Path(app.config["JIDU_DATA_DIR"]) / attachments.FOLDER / row.storage_name
    data = bytearray(path.read_bytes())
    data[-20] ^= 1
    path.write_bytes(bytes(data))
    # The key envelope alone still opens: only --files reads the file itself.
    assert runner.invoke(args=["keys", "verify", "--evidence", "--passphrase-file",
                               secret]).exit_code == 0
    result = runner.invoke(args=["keys", "verify", "--evidence", "--files",
                                 "--passphrase-file", secret])
    assert result.exit_code == 1
    assert f"failed: attachment {row.id} of clue" in result.output
    assert ": 1 ok, 1 failed" in result.output


def test_a_value_sealed_for_the_old_key_during_rotation_is_reported_then_moved(
        app, runner, world, tmp_path):
    old_public = keys.active_public_key(db.session)
    old = current_kid(KeyKind.IDENTITY)
    key_lifecycle.rotate(db.session, KeyKind.IDENTITY, secret=PASSPHRASE,
                         protection=key_lifecycle.Protection(passphrase=NEW_PASSPHRASE),
                         log2n=app.config["JIDU_SCRYPT_LOG2N"], actor="test")
    # A submission that had read the public key just before the switch.
    late = db.session.get(Clue, submit(anonymous_payload()))
    late.identity_sealed = envelope.seal(b'{"name": "\\u8fdf\\u5230"}', old_public,
                                         late.identity_aad)
    db.session.commit()

    new_secret = write(tmp_path, "new", NEW_PASSPHRASE)
    report = runner.invoke(args=["keys", "verify", "--passphrase-file", new_secret])
    assert report.exit_code == 1
    assert f"5 ok, 0 failed, 1 on an old key ({old}: 1)" in report.output
    assert runner.invoke(args=["keys", "destroy", old, "--yes"]).exit_code == 1

    again = runner.invoke(args=["keys", "rotate", "--passphrase-file",
                                write(tmp_path, "old", PASSPHRASE)])
    assert again.exit_code == 0, again.output
    assert "re-wrapped 1 values" in again.output
    assert runner.invoke(args=["keys", "verify", "--passphrase-file",
                               new_secret]).exit_code == 0
    assert runner.invoke(args=["keys", "destroy", old, "--yes"]).exit_code == 0


def test_wrong_secret_changes_nothing_and_is_audited(app, runner, world, tmp_path):
    before = sealed(KeyKind.IDENTITY)
    result = runner.invoke(args=["keys", "rotate", "--passphrase-file",
                                 write(tmp_path, "bad", "not the passphrase at all"),
                                 "--new-passphrase-file", write(tmp_path, "n", NEW_PASSPHRASE)])
    assert result.exit_code == 1
    assert "wrong passphrase" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert db.session.scalar(select(IdentityKey).where(IdentityKey.active.is_(True))).kid == \
        envelope.kid_of(next(iter(before.values())))
    assert len(db.session.scalars(select(IdentityKey)).all()) == 1
    assert sealed(KeyKind.IDENTITY) == before
    assert db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc())
                             .limit(1)) == "keys.unlock_failed"


def share_files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("*.txt"))


def test_split_any_three_of_five_shares_open_the_key_and_fewer_do_not(
        app, runner, world, tmp_path):
    dealt = tmp_path / "shares"
    split = runner.invoke(args=["keys", "split", "--shares", "5", "--threshold", "3",
                                "--shares-dir", str(dealt), "--passphrase-file",
                                write(tmp_path, "p", PASSPHRASE)])
    assert split.exit_code == 0, split.output
    files = share_files(dealt)
    assert len(files) == 5
    assert all(Path(f).stat().st_mode & 0o077 == 0 for f in files)
    # No share's words reach the audit log, the database or the command's output.
    words = Path(files[0]).read_text(encoding="utf-8").splitlines()[1]
    assert words not in split.output
    assert words not in db.session.get(IdentityKey, current_kid(KeyKind.IDENTITY)) \
        .private_key_protected

    for chosen in combinations(files, 3):
        args = ["keys", "verify"] + [a for f in chosen for a in ("--share-file", f)]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (chosen, result.output)
    for chosen in combinations(files, 2):
        args = ["keys", "verify"] + [a for f in chosen for a in ("--share-file", f)]
        result = runner.invoke(args=args)
        assert result.exit_code == 1
        assert "3 different shares are needed, 2 given" in result.stderr
    old = runner.invoke(args=["keys", "verify", "--passphrase-file",
                              write(tmp_path, "p", PASSPHRASE)])
    assert old.exit_code == 1
    assert "is split among custodians" in old.stderr
    # The console's passphrase field takes the shares, typed one after another.
    typed = " ".join(Path(f).read_text(encoding="utf-8").splitlines()[1] for f in files[2:])
    assert disclose(world.real_name[0], typed)["name"] == "林晓梅"
    with pytest.raises(keystore.PassphraseError):
        disclose(world.real_name[1], PASSPHRASE)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "keys.split"))
    assert (event.details["threshold"], event.details["count"]) == (3, 5)


def test_shares_of_another_split_do_not_mix(app, runner, world, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert runner.invoke(args=["keys", "split", "--shares", "3", "--threshold", "2",
                               "--shares-dir", str(first), "--passphrase-file",
                               write(tmp_path, "p", PASSPHRASE)]).exit_code == 0
    old_shares = share_files(first)
    # Re-dealt (a custodian left): two old shares open the key for the new split.
    again = runner.invoke(args=["keys", "split", "--shares", "3", "--threshold", "2",
                                "--shares-dir", str(second), "--share-file", old_shares[0],
                                "--share-file", old_shares[2]])
    assert again.exit_code == 0, again.output
    new_shares = share_files(second)

    mixed = runner.invoke(args=["keys", "verify", "--share-file", old_shares[0],
                                "--share-file", new_shares[1]])
    assert mixed.exit_code == 1
    assert "different splits" in mixed.stderr
    stale = runner.invoke(args=["keys", "verify", "--share-file", old_shares[0],
                                "--share-file", old_shares[1]])
    assert stale.exit_code == 1
    assert "but the key was split as" in stale.stderr
    good = runner.invoke(args=["keys", "verify", "--share-file", new_shares[0],
                               "--share-file", new_shares[2]])
    assert good.exit_code == 0, good.output
    assert ": 5 ok, 0 failed" in good.output


def test_typed_shares_and_a_split_new_key_on_rotation(app, runner, world, tmp_path):
    dealt = tmp_path / "evidence-shares"
    split = runner.invoke(args=["keys", "split", "--evidence", "--shares", "3", "--threshold",
                                "2", "--shares-dir", str(dealt), "--passphrase-file",
                                write(tmp_path, "e", EVIDENCE_PASSPHRASE)])
    assert split.exit_code == 0, split.output
    typed = [Path(f).read_text(encoding="utf-8").splitlines()[1] for f in share_files(dealt)]
    # Asked without echo, one share at a time (the prompt names the key, never the words).
    rotated = runner.invoke(args=["keys", "rotate", "--evidence", "--new-shares", "3",
                                  "--new-threshold", "2"],
                            input=f"{typed[0]}\n{typed[1]}\n")
    assert rotated.exit_code == 0, rotated.output
    printed = [line for line in rotated.output.splitlines() if shares.from_text(line)]
    assert len(printed) == 3
    assert typed[0] not in rotated.output
    assert typed[1] not in rotated.output
    new = current_kid(KeyKind.EVIDENCE)
    assert kids(KeyKind.EVIDENCE) == {new}
    assert download(app, world.with_files[0], " ".join(printed[1:])).startswith(b"\xff\xd8")
    verify = runner.invoke(args=["keys", "verify", "--evidence"],
                           input=f"{printed[0]}\n{printed[2]}\n")
    assert verify.exit_code == 0, verify.output


def test_passphrase_is_asked_when_no_file_is_given(app, runner, world):
    result = runner.invoke(args=["keys", "verify"], input=f"{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output
    wrong = runner.invoke(args=["keys", "verify"], input="not it, sorry\n")
    assert wrong.exit_code == 1
    assert "wrong passphrase" in wrong.stderr


def test_the_current_key_cannot_be_destroyed(app, runner, world):
    result = runner.invoke(args=["keys", "destroy", current_kid(KeyKind.IDENTITY), "--yes"])
    assert result.exit_code == 1
    assert "is current" in result.stderr
    assert not keystore.is_destroyed(
        db.session.get(IdentityKey, current_kid(KeyKind.IDENTITY)).private_key_protected)


def test_rewrap_needs_the_key_the_envelope_names():
    first, second = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    text = envelope.seal(b"x", first.public_key(), b"aad")
    with pytest.raises(envelope.EnvelopeError, match="sealed for key"):
        envelope.rewrap(text, second, second.public_key())
    with pytest.raises(ValueError, match="another key"):
        envelope.rewrap(text, first, second.public_key(), envelope.Sealer(first.public_key()))


def test_a_value_erased_while_its_batch_is_rewrapped_stays_erased(app, world, monkeypatch):
    target = world.real_name[1]
    real_rewrap = envelope.rewrap

    erased = []

    def erase_meanwhile(text, *args, **kwargs):
        # Another request erases that identity between the batch's read and its write.
        if not erased:
            db.session.execute(update(Clue).where(Clue.id == target)
                               .values(identity_sealed=None))
            erased.append(target)
        return real_rewrap(text, *args, **kwargs)

    monkeypatch.setattr(envelope, "rewrap", erase_meanwhile)
    result = key_lifecycle.rotate(
        db.session, KeyKind.IDENTITY, secret=PASSPHRASE,
        protection=key_lifecycle.Protection(passphrase=NEW_PASSPHRASE),
        log2n=app.config["JIDU_SCRYPT_LOG2N"], actor="test")
    assert result.remaining == 0
    assert db.session.get(Clue, target).identity_sealed is None
    assert kids(KeyKind.IDENTITY) == {result.new}


def test_the_evidence_passphrase_opens_no_identity_and_the_reverse(app, world):
    with pytest.raises(keystore.PassphraseError):
        disclose(world.real_name[0], EVIDENCE_PASSPHRASE)
    with pytest.raises(keystore.PassphraseError):
        download(app, world.with_files[0], PASSPHRASE)
    assert disclose(world.real_name[0], PASSPHRASE)["name"] == "林晓梅"
    assert download(app, world.with_files[0], EVIDENCE_PASSPHRASE).startswith(b"\xff\xd8")
