"""Every checkpoint is issued also as a C2SP signed note: stored as issued, served by the API,
printed by the commands, exported and checked by the standalone verifier."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from audit import note, signing
from audit.export import export_ledger
from audit.ledger import record_event
from audit.models import Checkpoint
from audit.sequencer import seal_all
from audit.verify import verify_directory
from tests.audit.conftest import committed

pytestmark = committed


@pytest.fixture
def checkpoint(db) -> Checkpoint:
    for _ in range(3):
        record_event("test.event")
    seal_all()
    return Checkpoint.objects.get()


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_sequencer_signs_the_note_with_the_logs_key_at_checkpoint_time(checkpoint):
    stated = note.open_checkpoint(
        checkpoint.note, settings.LEDGER_LOG_ORIGIN, signing.public_key_raw()
    )
    assert stated.tree_size == checkpoint.tree_size == 3
    assert stated.root_hash == bytes(checkpoint.root_hash)
    # The JSON checkpoint is unchanged beside it.
    assert set(checkpoint.signed()["statement"]) == {
        "log_id", "tree_size", "root_hash", "issued_at", "key_id"
    }  # fmt: skip


def test_the_api_serves_a_checkpoint_as_json_and_as_a_note(checkpoint, api, auditor):
    client = api.as_(auditor)
    assert client.get("/api/v1/checkpoints/3/").json() == checkpoint.signed()
    assert client.get("/api/v1/checkpoints/latest/").json() == checkpoint.signed()
    for url in ("/api/v1/checkpoints/3/note", "/api/v1/checkpoints/latest/note"):
        response = client.get(url, HTTP_ACCEPT="text/plain")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response.content.decode() == checkpoint.note


def test_checkpoint_urls_need_credentials_and_unknown_sizes_are_404(
    checkpoint, api, client, auditor
):
    for url in ("/api/v1/checkpoints/3/", "/api/v1/checkpoints/3/note"):
        assert client.get(url).status_code == 401
    for url, accept in (
        ("/api/v1/checkpoints/4/", "*/*"),
        ("/api/v1/checkpoints/4/note", "text/plain"),
    ):
        response = api.as_(auditor).get(url, HTTP_ACCEPT=accept)  # a refusal is JSON
        assert response.status_code == 404
        assert response.json() == {"detail": "No checkpoint of that size."}


def test_a_checkpoint_issued_before_notes_has_no_note_to_serve(api, auditor):
    client = api.as_(auditor)
    Checkpoint.objects.create(
        tree_size=1,
        root_hash=bytes(32),
        issued_at=timezone.now() - dt.timedelta(days=400),
        log_id="attest",
        key_id=signing.key_id(),
        signature=bytes(64),
    )
    response = client.get("/api/v1/checkpoints/1/note")
    assert response.status_code == 404
    assert "before checkpoints were signed as notes" in response.json()["detail"]
    assert client.get("/api/v1/checkpoints/2/note").json() == {
        "detail": "No checkpoint of that size."
    }


def test_show_log_key_prints_the_verifier_key_beside_the_pem(db):
    printed = run("show_log_key")
    raw = signing.public_key_raw()
    verifier_key = note.verifier_key(settings.LEDGER_LOG_ORIGIN, raw)
    assert f"verifier key  {verifier_key}" in printed
    assert signing.key_id() in printed
    assert signing.public_key_pem().decode() in printed
    assert run("show_log_key", "--verifier-key").strip() == verifier_key
    name, key_hash, encoded = verifier_key.split("+", 2)
    assert name == settings.LEDGER_LOG_ORIGIN and key_hash == note.key_hash(name, raw).hex()


def test_export_checkpoint_writes_the_note_as_issued(checkpoint, tmp_path):
    assert run("export_checkpoint", "--note") == checkpoint.note
    run("export_checkpoint", "--note", "--out", str(tmp_path / "cp.note"))
    assert (tmp_path / "cp.note").read_text(encoding="utf-8") == checkpoint.note


def test_the_export_holds_every_note_and_the_verifier_checks_them(checkpoint, tmp_path):
    record_event("test.more")
    seal_all()
    export_ledger(tmp_path)
    lines = (tmp_path / "checkpoint_notes.jsonl").read_text().splitlines()
    notes = [json.loads(line) for line in lines]
    issued = list(Checkpoint.objects.order_by("tree_size").values_list("tree_size", "note"))
    assert [(n["tree_size"], n["note"]) for n in notes] == issued
    assert (tmp_path / "checkpoint.note").read_text(encoding="utf-8") == issued[-1][1]
    assert (tmp_path / "public_key.vkey").read_text().strip() == signing.verifier_key()
    result = verify_directory(tmp_path)
    assert result.ok, result.message
    assert "notes: 2 checkpoint notes" in result.message


def rewrite_note(directory, index: int, text: str) -> None:
    path = directory / "checkpoint_notes.jsonl"
    lines = path.read_text().splitlines()
    line = json.loads(lines[index])
    lines[index] = json.dumps({**line, "note": text})
    path.write_text("\n".join(lines) + "\n")


def test_the_verifier_refuses_a_note_that_states_another_tree(checkpoint, tmp_path):
    export_ledger(tmp_path)
    # Signed by the log's own key, so only the comparison with the JSON checkpoints catches it.
    rewrite_note(tmp_path, 0, signing.sign_checkpoint_note(3, bytes(32)))
    result = verify_directory(tmp_path)
    assert not result.ok
    assert "which no signed checkpoint in the export does" in result.message


def test_the_verifier_refuses_an_altered_note(checkpoint, tmp_path):
    export_ledger(tmp_path)
    rewrite_note(tmp_path, 0, checkpoint.note.replace("\n3\n", "\n4\n", 1))
    result = verify_directory(tmp_path)
    assert not result.ok
    assert "checkpoint note #1 is refused: the signature" in result.message


def test_the_verifier_refuses_a_latest_note_that_is_not_the_last(checkpoint, tmp_path):
    record_event("test.more")
    seal_all()
    export_ledger(tmp_path)
    (tmp_path / "checkpoint.note").write_text(checkpoint.note, encoding="utf-8")
    result = verify_directory(tmp_path)
    assert not result.ok
    assert "checkpoint.note is not the last line" in result.message
