"""Issue #16, hole 9: personal data leaked into the immutable ledger.

The input schema's messages quoted the offending value ("'Jane Q. Public' is too long") into
the entry's ``schema_violations`` before personal fields were taken out: the plaintext was in
the signed payload, shown to roles that see ``[withheld]``, kept after ``erase_subject``, and in
every export and evidence pack. Now a violation names the field and the rule, never the value.

The attack: log predictions whose personal fields break the schema (too long, wrong type,
pattern, enum) with values found nowhere else, erase the subject, then look for each value in
everything the system keeps: every column of every table (history tables and alerts
included), the ledger export, the documents and the evidence pack (PDFs read back with
pdftotext), the trail, and every log line at DEBUG, SQL included.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import PredictionRecord
from audit.sequencer import seal_all
from compliance.models import ModelVersion
from modelcards.documents import issue
from modelcards.models import DocumentKind
from modelcards.pack import issue_pack
from tests.audit.conftest import committed, prediction
from tests.conftest import bundle
from tests.modelcards.conftest import pdf_text

pytestmark = committed

SUBJECT = "subject-qx-5521"
# Each breaks its field's rule; none appears anywhere else in the code or the fixtures.
NAME = "Zebulon Quartermaine-Vex"  # longer than maxLength
EMAIL = "zebulon.quartermaine.at.nowhere"  # no @: breaks the pattern
PHONE = 4470091234567  # a number where a string is required
TITLE = "Archduchess Zephyrine"  # not one of the enum
SECRETS = [NAME, EMAIL, str(PHONE), TITLE, SUBJECT]  # the subject's id is kept only as an HMAC


def schema() -> dict:
    return {
        "type": "object",
        "properties": {
            "income": {"type": "number"},
            "name": {"type": "string", "maxLength": 12, "x-personal": True},
            "email": {"type": "string", "pattern": "^[^@]+@[^@]+$", "x-personal": True},
            "phone": {"type": "string", "x-personal": True},
            "title": {"enum": ["Mr", "Ms", "Dr"], "x-personal": True},
        },
        "required": ["income"],
    }


@pytest.fixture
def strict_version(ai_model, developer) -> ModelVersion:
    fields = bundle(label="3.0.0", input_schema=schema())
    fields["training_date_from"] = dt.date(2024, 1, 1)
    fields["training_date_to"] = dt.date(2025, 12, 31)
    return ModelVersion.objects.create(model=ai_model, created_by=developer, **fields)


def found_in(data: bytes | str) -> list[str]:
    """The secrets ``data`` holds."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return [secret for secret in SECRETS if secret in text]


def cell_text(value) -> str:
    if isinstance(value, memoryview | bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def leaks_in_the_database() -> dict[str, list[str]]:
    """Every table, every column: the secrets each table holds, by table."""
    tables = connection.introspection.table_names()
    assert any("historical" in table for table in tables)  # simple-history's are searched too
    leaks = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            text = "\n".join(cell_text(cell) for row in cursor.fetchall() for cell in row)
            if found_in(text):
                leaks[table] = found_in(text)
    return leaks


def leaks_in_documents(documents) -> dict[str, list[str]]:
    leaks = {}
    for document in documents:
        content = bytes(document.content)
        if document.content_type == "application/pdf":
            files = {document.reference: pdf_text(content)}
        else:
            archive = zipfile.ZipFile(io.BytesIO(content))
            files = {
                name: pdf_text(archive.read(name)) if name.endswith(".pdf") else archive.read(name)
                for name in archive.namelist()
            }
        for name, text in files.items():
            if found_in(text):
                leaks[name] = found_in(text)
    return leaks


def test_personal_values_that_break_the_schema_reach_nothing_the_system_keeps(
    api, service, developer, risk_officer, strict_version, caplog, tmp_path
):
    caplog.set_level(logging.DEBUG)
    items = [
        prediction(
            version="3.0.0",
            subject_id=SUBJECT,
            inputs={"income": 52.5, "name": NAME, "email": EMAIL, "phone": PHONE, "title": TITLE},
        ),
        prediction(version="3.0.0", subject_id=SUBJECT, inputs={"income": 1.0, "name": NAME}),
    ]
    with CaptureQueriesContext(connection) as queries:  # every SQL statement logged at DEBUG
        response = api.as_(service).post(
            "/api/v1/predictions/", json.dumps(items), content_type="application/json"
        )
        assert response.status_code == 201, response.content
        record = PredictionRecord.objects.get(event_id=items[0]["event_id"])
        assert record.schema_violation
        violations = json.loads(bytes(record.entry.canonical))["schema_violations"]
        seal_all()
        withheld = api.as_(developer).get(f"/api/v1/predictions/{items[0]['event_id']}/trail/")

        call_command("erase_subject", SUBJECT, "--by", risk_officer.username, stdout=io.StringIO())
        seal_all()
        call_command("export_ledger", str(tmp_path / "export"), stdout=io.StringIO())
        today = timezone.now().date()
        documents = [
            issue(DocumentKind.DOSSIER, strict_version.model, as_of=today,
                  event_id=items[0]["event_id"], user=risk_officer),
            issue_pack(strict_version.model, as_of=today, user=risk_officer),
        ]  # fmt: skip
        erased = api.as_(risk_officer).get(f"/api/v1/predictions/{items[0]['event_id']}/trail/")

    assert withheld.status_code == 200 and erased.status_code == 200 and len(queries) > 0
    log = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    leaks = {
        "the trail a developer reads": found_in(withheld.content),
        "the trail after erasure": found_in(erased.content),
        "the log at DEBUG, SQL included": found_in(log),
        **{f"table {table}": found for table, found in leaks_in_the_database().items()},
        **{
            f"export {path.name}": found_in(path.read_bytes())
            for path in Path(tmp_path / "export").rglob("*")
            if path.is_file()
        },
        **{f"document {name}": found for name, found in leaks_in_documents(documents).items()},
    }
    assert {where: found for where, found in leaks.items() if found} == {}
    # What the entry says instead: the field and the rule it breaks.
    assert violations == [
        'inputs.email: breaks pattern "^[^@]+@[^@]+$"',
        "inputs.name: breaks maxLength 12",
        'inputs.phone: breaks type "string"',
        'inputs.title: breaks enum ["Mr","Ms","Dr"]',
    ]
