"""The append-only, tamper-evident ledger.

Every prediction, outcome and governance event is a ``LedgerEntry``: the RFC 8785 canonical
bytes of what happened and their RFC 6962 leaf hash. Typed records (``PredictionRecord`` …) are
projections of an entry for queries; the entry's bytes are the evidence. The sequencer gives
each entry a leaf index (``Leaf``), stores the Merkle tree's perfect subtrees (``TreeNode``)
and signs ``Checkpoint``s. None of these rows is ever updated or deleted: the ORM refuses, and
database triggers refuse (see migration ``0002_append_only``). The one exception: past its
model's retention a sealed prediction's or outcome's payload may be dropped, its leaf hash kept,
by a recorded purge (``LedgerEntryQuerySet.purge``, migration ``0007_erasure_and_retention``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction

from compliance.models import AIModel, ModelVersion

from .appendonly import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet

__all__ = ["AppendOnlyError", "AppendOnlyModel", "AppendOnlyQuerySet"]


class EntryKind(models.TextChoices):
    PREDICTION = "prediction", "Prediction"
    OUTCOME = "outcome", "Outcome"
    EVENT = "event", "Governance event"
    EXPLANATION = "explanation", "Explanation of a prediction"


class Environment(models.TextChoices):
    PRODUCTION = "production", "Production"
    SHADOW = "shadow", "Shadow"
    CANARY = "canary", "Canary"


# Every transaction that writes entries holds this PostgreSQL advisory lock in shared mode; the
# sequencer takes it exclusively for the moment it reads what is pending (see audit.sequencer).
LEDGER_WRITE_LOCK = 0x41545445  # "ATTE"


def hold_ledger_write_lock() -> None:
    """Call inside the writing transaction, before the first entry is inserted."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [LEDGER_WRITE_LOCK])


class LedgerEntryQuerySet(AppendOnlyQuerySet):
    def bulk_create(self, objs, *args: Any, **kwargs: Any):
        with transaction.atomic(savepoint=False):
            hold_ledger_write_lock()
            return super().bulk_create(objs, *args, **kwargs)

    def purge(self, event: GovernanceEvent) -> int:
        """Drop these entries' payloads, keeping their leaf hashes: the one change the
        append-only triggers allow, and only with a ``ledger.purged`` event to point to."""
        return models.QuerySet.update(
            self.filter(purged_by__isnull=True), canonical=b"", purged_by=event.entry
        )


class LedgerEntry(AppendOnlyModel):
    """One entry of the log: the canonical bytes of what happened, and their leaf hash.

    Written by ingest and by every governance action; read by the sequencer, the trail, the
    exporter and the verifier. ``leaf_hash`` is SHA-256(0x00 ‖ canonical).
    """

    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    received_at = models.DateTimeField()
    canonical = models.BinaryField(help_text="Empty once purged past retention.")
    leaf_hash = models.BinaryField(max_length=32)
    purged_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The ledger.purged event that dropped this entry's payload (its hash stays).",
    )

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"{self.kind} entry {self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic(savepoint=False):
            hold_ledger_write_lock()
            super().save(*args, **kwargs)

    @property
    def leaf_hash_hex(self) -> str:
        return bytes(self.leaf_hash).hex()

    @property
    def purged(self) -> bool:
        return self.purged_by_id is not None

    def payload(self) -> dict[str, Any] | None:
        """The parsed canonical bytes, or None once purged."""
        return None if self.purged else json.loads(bytes(self.canonical))


class SubjectKey(models.Model):
    """The AES-256-GCM key that encrypts one data subject's personal fields (GDPR).

    Ledger entries hold only the ciphertext and ``reference``, a random pseudonym; the
    subject's own id is kept as a keyed HMAC (``subject_digest``) to find the key again.
    Erasure (``manage.py erase_subject``) destroys the key and the digest: the ciphertext in
    the ledger can then never be read, and the reference points at nobody. Mutable.
    """

    reference = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    subject_digest = models.CharField(max_length=64, unique=True, null=True)
    key = models.BinaryField(max_length=32, null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(erased_at__isnull=True, key__isnull=False)
                | models.Q(erased_at__isnull=False, key__isnull=True, subject_digest__isnull=True),
                name="subject_key_erased_means_gone",
            )
        ]

    def __str__(self) -> str:
        return f"data subject {self.reference}" + (" (erased)" if self.erased_at else "")


class PredictionRecord(AppendOnlyModel):
    """A prediction a model service logged: which version, when, with what result.

    The full payload (inputs, output, explanation, context) is the entry's canonical bytes;
    these columns are what reports and the trail look up. Sensitive attributes live apart in
    ``SensitiveAttributes``: the entry commits only to their salted digest.
    """

    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="prediction")
    event_id = models.UUIDField(unique=True)
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="predictions")
    decided_at = models.DateTimeField()
    received_at = models.DateTimeField()
    environment = models.CharField(max_length=20, choices=Environment.choices)
    score = models.FloatField(null=True)
    favourable = models.BooleanField(null=True, help_text="The decision was the favourable one.")
    schema_violation = models.BooleanField(default=False)
    unapproved_version = models.BooleanField(default=False)
    content_sha256 = models.CharField(
        max_length=64, help_text="Keyed HMAC-SHA256 of the item as submitted (retries)."
    )
    subject = models.ForeignKey(
        SubjectKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predictions",
        help_text="The data subject whose personal fields the entry holds encrypted.",
    )

    class Meta:
        indexes = [models.Index(fields=["version", "decided_at"], name="prediction_version_time")]

    def __str__(self) -> str:
        return f"prediction {self.event_id}"


class ExplanationRecord(AppendOnlyModel):
    """A SHAP explanation computed in the background for a prediction logged without one.

    The evidence is its own ledger entry (``entry``), which names the prediction's entry, leaf
    index and leaf hash, the artifact and background it was computed from, and the additivity
    check; these columns are what the trail, reason codes and global importance look up. One
    per prediction at most; ``status`` "unexplainable" records why none could be computed
    (e.g. an input missing), so a gap is visible rather than silent.
    """

    class Status(models.TextChoices):
        COMPUTED = "computed", "Computed"
        UNEXPLAINABLE = "unexplainable", "Could not be explained"

    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="explanation")
    prediction = models.OneToOneField(
        PredictionRecord, on_delete=models.PROTECT, related_name="computed_explanation"
    )
    # Looked up by (version, decided_at), whose index serves "by version" too.
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    decided_at = models.DateTimeField(help_text="The prediction's, for windows of importance.")
    computed_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices)
    method = models.CharField(max_length=60, blank=True, help_text="e.g. shap.LinearExplainer")
    output_space = models.CharField(max_length=20, blank=True, help_text="e.g. log_odds")
    base_value = models.FloatField(null=True)
    model_output = models.FloatField(null=True)
    contributions = models.JSONField(null=True, help_text="feature -> SHAP value")
    additivity_error = models.FloatField(null=True)
    additive = models.BooleanField(
        null=True, help_text="Contributions + base value = model output, within tolerance."
    )
    note = models.TextField(blank=True, help_text="Why it could not be explained.")

    class Meta:
        indexes = [models.Index(fields=["version", "decided_at"], name="explanation_version_time")]

    def __str__(self) -> str:
        return f"explanation of prediction {self.prediction_id} ({self.status})"


class ExplainerProgress(models.Model):
    """How far the background explainer has come through one version's predictions.

    Created when the version's artifact is uploaded (starting at 0, so earlier predictions are
    explained too). The explainer reads only sealed entries, whose ids are final (see
    ``audit.sequencer``), so "entry id > watermark" never skips a row that commits late.
    Mutable, one row per version with an artifact.
    """

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, related_name="explainer_progress", primary_key=True
    )
    watermark_id = models.BigIntegerField(default=0, help_text="Entries up to this id are done.")
    explained = models.BigIntegerField(default=0)
    unexplainable = models.BigIntegerField(default=0)
    logged_with_explanation = models.BigIntegerField(default=0)
    mismatches = models.BigIntegerField(default=0, help_text="Explanations that did not add up.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "explainer progress"

    def __str__(self) -> str:
        return f"explainer of {self.version_id} at entry {self.watermark_id}"


class SensitiveAttributes(models.Model):
    """Sensitive attributes of one prediction (e.g. sex, age band), kept apart from the ledger.

    Readable only by risk officers, auditors and validators. The ledger entry commits to
    SHA-256(salt ‖ canonical values), so these can be erased (GDPR) without breaking
    verification.
    """

    prediction = models.OneToOneField(
        PredictionRecord, on_delete=models.PROTECT, related_name="sensitive", primary_key=True
    )
    values = models.JSONField()
    salt = models.BinaryField(max_length=16)

    class Meta:
        verbose_name_plural = "sensitive attributes"

    def __str__(self) -> str:
        return f"sensitive attributes of {self.prediction_id}"


class OutcomeRecord(AppendOnlyModel):
    """The true outcome of a prediction, when it becomes known (often weeks later).

    A correction is a new record that references the one it corrects.
    """

    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="outcome")
    outcome_id = models.UUIDField(unique=True)
    prediction = models.ForeignKey(
        PredictionRecord, on_delete=models.PROTECT, related_name="outcomes"
    )
    label = models.JSONField(null=True, help_text="outcome['label'], the observed truth")
    observed_at = models.DateTimeField()
    received_at = models.DateTimeField()
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    content_sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"outcome {self.outcome_id}"


class GovernanceEvent(AppendOnlyModel):
    """Every approval, deployment, document issued, schedule change, alert and admin change.

    The actor and the object are kept as plain text as well as references, so the record
    survives the deletion of either (the references are not database constraints).
    """

    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="event")
    event_type = models.CharField(max_length=60, db_index=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150)
    model = models.ForeignKey(
        AIModel, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["model", "occurred_at"], name="event_model_time")]

    def __str__(self) -> str:
        return f"{self.event_type} by {self.actor_name}"


class Leaf(AppendOnlyModel):
    """The position of an entry in the Merkle tree, assigned once by the sequencer."""

    index = models.BigIntegerField(primary_key=True)
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="leaf")

    def __str__(self) -> str:
        return f"leaf {self.index}"


class TreeNode(AppendOnlyModel):
    """The hash of one perfect subtree: level ``key >> 48``, index ``key & (2**48 - 1)``.

    Level 0 nodes are leaf hashes. Proofs are assembled from these in one query.
    """

    key = models.BigIntegerField(primary_key=True)
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        level, index = node_position(self.key)
        return f"node {level}/{index}"


def node_key(level: int, index: int) -> int:
    return (level << 48) | index


def node_position(key: int) -> tuple[int, int]:
    return key >> 48, key & ((1 << 48) - 1)


class Checkpoint(AppendOnlyModel):
    """A signed statement of the tree: its size and root hash at a time (Ed25519).

    Issued by the sequencer at least every second while entries are pending. An auditor who
    keeps a copy of one can later detect any rewrite or truncation of what it covers. Each is
    issued in two forms signed by the same key: Attest's JSON ``statement()`` with its
    ``signature``, and a C2SP signed note (``audit.note``) that standard transparency-log
    tools and witnesses verify.
    """

    tree_size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    issued_at = models.DateTimeField()
    log_id = models.CharField(max_length=100)
    key_id = models.CharField(max_length=64)
    signature = models.BinaryField(max_length=64)
    # The note exactly as issued, so a later key or origin never rewrites it; null on the
    # checkpoints issued before notes were.
    note = models.TextField(null=True, editable=False)

    class Meta:
        get_latest_by = "tree_size"

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size}"

    def statement(self) -> dict[str, Any]:
        """What the signature covers (as RFC 8785 canonical JSON)."""
        return {
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "root_hash": bytes(self.root_hash).hex(),
            "issued_at": self.issued_at.isoformat().replace("+00:00", "Z"),
            "key_id": self.key_id,
        }

    def signed(self) -> dict[str, Any]:
        import base64

        return {
            "statement": self.statement(),
            "signature": base64.b64encode(bytes(self.signature)).decode(),
        }


class SequencerState(models.Model):
    """Where the sequencer stands: tree size, frontier and the last entry id sequenced.

    Mutable, one row; its row lock elects the one sequencer that may work at a time.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    tree_size = models.BigIntegerField(default=0)
    frontier = models.JSONField(default=dict)
    watermark_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"sequencer at {self.tree_size}"


class Alert(models.Model):
    """An alert raised by the ledger or the monitors, open until someone acknowledges it.

    A risk officer acknowledges it (who, when, why: ``audit.ledger.acknowledge_alert``, a ledger
    event); until then the dashboard shows it. One row per open (kind, model, subject) — the
    subject says what it is about, e.g. a version label or "sex=F": repeats increase
    ``occurrences`` rather than flooding. Raising it writes a governance event.
    """

    class Kind(models.TextChoices):
        SCHEMA_VIOLATION = "schema_violation", "Inputs do not match the input schema"
        UNAPPROVED_VERSION = "unapproved_version", "Unapproved version serving"
        REVALIDATION_OVERDUE = "revalidation_overdue", "Revalidation overdue"
        FAIRNESS_BREACH = "fairness_breach", "Fairness threshold breached"
        DRIFT_BREACH = "drift_breach", "Drift threshold breached"
        PERFORMANCE_BREACH = "performance_breach", "Performance threshold breached"
        EXPLANATION_MISMATCH = "explanation_mismatch", "Explanation does not add up"

    kind = models.CharField(max_length=40, choices=Kind.choices)
    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="alerts")
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, related_name="alerts"
    )
    subject = models.CharField(max_length=200, blank=True)
    message = models.TextField()
    occurrences = models.PositiveBigIntegerField(default=1)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledgement = models.TextField(
        blank=True, help_text="Why it was acknowledged: what was looked at, what follows."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="alert_acknowledged_by_whom_and_why",
                condition=models.Q(acknowledged_at__isnull=True)
                | (models.Q(acknowledged_by__isnull=False) & ~models.Q(acknowledgement="")),
                violation_error_message=(
                    "An acknowledged alert records who acknowledged it, and why."
                ),
            ),
            models.UniqueConstraint(
                fields=["kind", "model", "subject"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="one_open_alert_per_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.version or self.model}"


class VerificationRun(models.Model):
    """The result of one run of ``verify_ledger``, shown to risk officers and auditors."""

    ran_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    entries = models.BigIntegerField()
    checkpoints = models.IntegerField()
    message = models.TextField()

    class Meta:
        get_latest_by = "ran_at"

    def __str__(self) -> str:
        return f"{'verified' if self.ok else 'FAILED'} {self.ran_at:%Y-%m-%d %H:%M}"


# The tables no one may change: triggers guard them, and the application's database role is
# granted only SELECT and INSERT on them (``manage.py grant_app_role``).
LEDGER_MODELS = (
    LedgerEntry,
    PredictionRecord,
    OutcomeRecord,
    GovernanceEvent,
    Leaf,
    TreeNode,
    Checkpoint,
    ExplanationRecord,
)

# What only the sequencer writes (under its own database role in production, ``manage.py
# grant_sequencer_role``); the application's role may only read these.
SEQUENCER_MODELS = (SequencerState, Leaf, TreeNode, Checkpoint)
