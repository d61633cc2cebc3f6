"""Third parties check the log's checkpoints with a verifier the project did not write.

Issue 17, point 9: a checkpoint was only Attest's own JSON, which only Attest's own verifier
reads, so an auditor had to trust the log's code to judge the log. Every checkpoint is now
also a C2SP signed note (c2sp.org/tlog-checkpoint), which transparency-log tooling verifies.
Here the judge is Go's ``golang.org/x/mod/sumdb/note`` (Debian's golang-golang-x-mod-dev),
driven by ``tests/go/verifynote``, offline: it must accept every note the log serves, with the
verifier key ``show_log_key`` prints, and refuse a note whose tree size was changed or that
another key signed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import call_command

from audit import note
from audit.ledger import record_event
from audit.models import Checkpoint
from audit.sequencer import seal_all
from tests.audit.conftest import committed

pytestmark = committed

PROGRAM = Path(__file__).resolve().parents[1] / "go" / "verifynote"
GOPATH = "/usr/share/gocode"  # where Debian's golang-* packages put the Go sources


@pytest.fixture(scope="session")
def verifynote(tmp_path_factory) -> Path:
    """The Go verifier, built offline against Debian's golang.org/x/mod."""
    if shutil.which("go") is None:
        pytest.skip("no Go toolchain: `make test` installs golang-go and golang-golang-x-mod-dev")
    out = tmp_path_factory.mktemp("go")
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOFLAGS": "",
           "GOPROXY": "off", "GOCACHE": str(out / "cache")}  # fmt: skip
    build = subprocess.run(
        ["go", "build", "-o", str(out / "verifynote"), "."],
        cwd=PROGRAM, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert build.returncode == 0, f"go build failed (golang-golang-x-mod-dev?):\n{build.stderr}"
    return out / "verifynote"


def go_verify(binary: Path, verifier_key: str, text: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(binary), verifier_key], input=text.encode(), capture_output=True, timeout=30
    )


def log_verifier_key() -> str:
    out = StringIO()
    call_command("show_log_key", "--verifier-key", stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def checkpoints(db) -> list[Checkpoint]:
    """Three checkpoints, of trees of 1, 3 and 6 entries."""
    for n in range(3):
        for _ in range(n + 1):
            record_event("test.event")
        seal_all()
    return list(Checkpoint.objects.order_by("tree_size"))


def test_the_go_reference_verifies_every_checkpoint_note_the_api_serves(
    verifynote, checkpoints, api, auditor
):
    client, key = api.as_(auditor), log_verifier_key()
    for checkpoint in checkpoints:
        response = client.get(f"/api/v1/checkpoints/{checkpoint.tree_size}/note")
        assert response.status_code == 200
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        result = go_verify(verifynote, key, response.content.decode())
        assert result.returncode == 0, result.stderr.decode()
        stated = result.stdout.decode().splitlines()
        root = bytes(checkpoint.root_hash).hex()
        assert stated == [settings.LEDGER_LOG_ORIGIN, str(checkpoint.tree_size), root]
    latest = client.get("/api/v1/checkpoints/latest/note").content.decode()
    assert latest == checkpoints[-1].note


def test_the_go_reference_refuses_a_note_whose_tree_size_was_changed(verifynote, checkpoints):
    checkpoint = checkpoints[-1]
    size = checkpoint.tree_size
    forged = checkpoint.note.replace(f"\n{size}\n", f"\n{size + 1}\n", 1)
    assert forged != checkpoint.note
    result = go_verify(verifynote, log_verifier_key(), forged)
    assert result.returncode == 1
    assert "invalid signature" in result.stderr.decode()


def test_the_go_reference_refuses_a_note_signed_by_another_key(verifynote, checkpoints):
    checkpoint, impostor = checkpoints[-1], Ed25519PrivateKey.generate()
    raw = impostor.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    origin = settings.LEDGER_LOG_ORIGIN
    body = note.checkpoint_body(origin, checkpoint.tree_size, bytes(checkpoint.root_hash))
    forged = note.sign_note(body, origin, raw, impostor.sign)  # same name, same tree
    assert go_verify(verifynote, note.verifier_key(origin, raw), forged).returncode == 0
    result = go_verify(verifynote, log_verifier_key(), forged)
    assert result.returncode == 1
    assert "no verifiable signatures" in result.stderr.decode()
