"""Documentation: the narrative a model's owners maintain, the documents issued, and the jobs
that generate them.

An issued document is evidence: its bytes, its SHA-256 and the ledger event that recorded its
issue never change. Its reference (printed in the footer of every page) is its primary key and
the ``object_id`` of that ledger event, so an auditor holding a printout can find the event.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from audit.models import AppendOnlyModel, GovernanceEvent
from compliance.models import AIModel, ModelVersion
from compliance.names import checked
from compliance.roles import scope_reads


class DocumentKind(models.TextChoices):
    SR117 = "sr117", "SR 11-7 model documentation"
    VALIDATION = "validation", "SR 11-7 validation report"
    ANNEX4 = "annex4", "EU AI Act Annex IV technical documentation"
    MODELCARD = "modelcard", "Model card"
    DOSSIER = "dossier", "Prediction dossier"
    EVIDENCE_PACK = "evidence_pack", "Evidence pack"


# The documents an evidence pack holds for a model, in this order.
PACK_DOCUMENTS = (
    DocumentKind.SR117,
    DocumentKind.VALIDATION,
    DocumentKind.ANNEX4,
    DocumentKind.MODELCARD,
)


class ModelNarrative(models.Model):
    """The prose a model's documents need that no other record holds: limitations, design
    rationale, oversight measures, risk management, the declaration of conformity...

    Maintained by the model's developers and the risk officer; every change is kept (history)
    and becomes a ledger event, so a document as of a past date prints what was written then.
    An empty field is printed as a gap and counted in the evidence coverage.
    """

    model = models.OneToOneField(AIModel, on_delete=models.PROTECT, related_name="narrative")
    methodology = models.TextField(
        "methodology, design choices and rationale",
        blank=True,
        help_text="Methods and steps of development, key design choices and why (SR 11-7 "
        "design, theory and logic; Annex IV 2(a), 2(b)).",
    )
    assumptions = models.TextField(blank=True, help_text="Assumptions the model relies on.")
    limitations = models.TextField(
        "limitations and known weaknesses",
        blank=True,
        help_text="Where the model must not be relied upon, and why.",
    )
    architecture = models.TextField(
        "system architecture and computational resources",
        blank=True,
        help_text="How the components fit together, and the hardware it runs on "
        "(Annex IV 1(b), 1(e), 2(c)).",
    )
    data_provenance = models.TextField(
        "data provenance, selection, labelling and cleaning",
        blank=True,
        help_text="Where the training data come from and how they were prepared (Annex IV 2(d)).",
    )
    instructions_for_use = models.TextField(
        "instructions for use and user interface",
        blank=True,
        help_text="What deployers see and must do (Annex IV 1(g), 1(h)).",
    )
    human_oversight = models.TextField(
        "human oversight measures",
        blank=True,
        help_text="How people interpret, override and stop the model (EU AI Act Art. 14).",
    )
    predetermined_changes = models.TextField(
        "pre-determined changes",
        blank=True,
        help_text="Changes to the model and its performance planned in advance (Annex IV 2(f)).",
    )
    cybersecurity = models.TextField(
        "cybersecurity measures", blank=True, help_text="Annex IV 2(h); Art. 15."
    )
    risk_management = models.TextField(
        "risk management system",
        blank=True,
        help_text="Identified risks and the measures taken (EU AI Act Art. 9; Annex IV 5).",
    )
    standards_applied = models.TextField(
        "standards and specifications applied", blank=True, help_text="Annex IV 7."
    )
    declaration_of_conformity = models.TextField(
        "EU declaration of conformity",
        blank=True,
        help_text="Its text or reference (Art. 47; Annex IV 8).",
    )
    post_market_monitoring_plan = models.TextField(
        "post-market monitoring plan",
        blank=True,
        help_text="What is monitored after release, how often, and who acts (Art. 72).",
    )
    ethical_considerations = models.TextField(blank=True, help_text="Model card.")
    caveats_and_recommendations = models.TextField(blank=True, help_text="Model card.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    # The narrative fields, in the order the admin and the documents show them.
    FIELDS = (
        "methodology",
        "assumptions",
        "limitations",
        "architecture",
        "data_provenance",
        "instructions_for_use",
        "human_oversight",
        "predetermined_changes",
        "cybersecurity",
        "risk_management",
        "standards_applied",
        "declaration_of_conformity",
        "post_market_monitoring_plan",
        "ethical_considerations",
        "caveats_and_recommendations",
    )

    class Meta:
        verbose_name = "model narrative"

    def __str__(self) -> str:
        return f"narrative of {self.model}"


class IssuedDocument(AppendOnlyModel):
    """A document as it was issued: its PDF (or zip) bytes, their SHA-256, and the ledger event
    that recorded the issue. Never changed, never deleted.

    Issued by risk officers, validators and auditors (admin, API or ``generate_document``);
    read by auditors. The reference is derived from what the document says (kind, model,
    version, as-of date and a digest of its evidence), so issuing the same document twice gives
    the same reference and the same bytes, and returns the record already issued.
    """

    reference = models.CharField(max_length=160, primary_key=True)
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="documents")
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    prediction_event_id = models.UUIDField(
        null=True, blank=True, help_text="The prediction a dossier is about."
    )
    as_of = models.DateField(help_text="The document shows the records as they stood then.")
    sha256 = models.CharField("SHA-256", max_length=64)
    content = models.BinaryField()
    content_type = models.CharField(max_length=50, default="application/pdf")
    size = models.PositiveIntegerField()
    pages = models.PositiveIntegerField(null=True, blank=True)
    coverage = models.JSONField(
        default=dict, help_text="Evidence coverage per framework, with the list of gaps."
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    issued_at = models.DateTimeField()
    event = models.OneToOneField(
        GovernanceEvent, on_delete=models.PROTECT, related_name="issued_document"
    )

    class Meta:
        ordering = ["-issued_at", "reference"]
        get_latest_by = "issued_at"
        indexes = [models.Index(fields=["model", "kind", "as_of"], name="document_model_kind")]

    def __str__(self) -> str:
        return self.reference

    @property
    def filename(self) -> str:
        """The file's name (in a pack, a download): built only from a checked name."""
        extension = "zip" if self.kind == DocumentKind.EVIDENCE_PACK else "pdf"
        return f"{checked(self.reference)}.{extension}"


class DocumentJob(models.Model):
    """A request to generate a document, and how far it has got: what the admin and the API
    poll while a long document is generated in the background (a Celery worker in production,
    the request itself in the embedded default).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="document_jobs")
    version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    prediction_event_id = models.UUIDField(null=True, blank=True)
    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    stage = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    document = models.ForeignKey(
        IssuedDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.model} ({self.get_status_display().lower()})"

    def report(self, progress: int, stage: str) -> None:
        """Record progress (a single UPDATE, visible at once to whoever polls)."""
        DocumentJob.objects.filter(pk=self.pk).update(progress=progress, stage=stage)
        self.progress, self.stage = progress, stage


def readable_documents(user, key=None) -> models.QuerySet:
    """The issued documents ``user`` may read (``key``: the API key of the request, if any).

    A prediction dossier is the trail of one prediction, so it is scoped as predictions are
    (``compliance.roles.scope_reads``); every other document is about a model and open to
    every reader of documents."""
    documents = IssuedDocument.objects.all()
    dossiers = documents.filter(kind=DocumentKind.DOSSIER)
    return documents.exclude(kind=DocumentKind.DOSSIER) | scope_reads(dossiers, user, key, "model")
