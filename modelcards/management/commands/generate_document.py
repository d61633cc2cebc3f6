"""Generate one document as of a date, record its issue in the ledger and write the PDF."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.models import PredictionRecord
from compliance.models import AIModel
from modelcards.documents import issue
from modelcards.evidence import EvidenceError, cutoff_for
from modelcards.models import DocumentKind

KINDS = [k for k in DocumentKind.values if k != DocumentKind.EVIDENCE_PACK]


def parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of {value!r} is not a date: use YYYY-MM-DD.") from None


def issuer(username: str | None):
    if username is None:
        return None
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}.")
    return user


def latest_declined(model: AIModel, as_of: dt.date) -> str | None:
    """The event id of the model's latest declined production decision logged by ``as_of``."""
    record = (
        PredictionRecord.objects.filter(
            version__model=model,
            environment="production",
            favourable=False,
            received_at__lt=cutoff_for(as_of),
        )
        .order_by("-decided_at", "-pk")
        .values_list("event_id", flat=True)
        .first()
    )
    return str(record) if record else None


class Command(BaseCommand):
    help = (
        "Generate a document (SR 11-7 documentation or validation report, EU AI Act Annex IV, "
        "model card, prediction dossier) as the records stood at the end of a date."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names the model version here, not Django's.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument("--model", required=True, metavar="SLUG")
        parser.add_argument(
            "--version",
            metavar="LABEL",
            help="default: the production champion on that date, else the latest registered",
        )
        parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: today (UTC)")
        parser.add_argument("--event-id", metavar="UUID", help="the prediction (dossier only)")
        parser.add_argument(
            "--latest-declined",
            action="store_true",
            help="dossier only, instead of --event-id: the model's latest declined production "
            "decision logged by the as-of date",
        )
        parser.add_argument("--user", metavar="USERNAME", help="who issues it (default: system)")
        parser.add_argument("--out", required=True, metavar="FILE")

    def handle(self, *args, **options) -> None:
        model = AIModel.objects.filter(slug=options["model"]).first()
        if model is None:
            raise CommandError(f"No model {options['model']!r} in the inventory.")
        as_of = parse_day(options["as_of"]) or timezone.now().date()
        event_id = options["event_id"]
        if options["kind"] == DocumentKind.DOSSIER and options["latest_declined"]:
            event_id = latest_declined(model, as_of)
            if event_id is None:
                raise CommandError(f"No declined decision of {model.slug} logged by {as_of}.")
        if options["kind"] == DocumentKind.DOSSIER and not event_id:
            raise CommandError("A prediction dossier needs --event-id (or --latest-declined).")
        try:
            document = issue(
                options["kind"],
                model,
                as_of=as_of,
                version_label=options["version"],
                event_id=event_id,
                user=issuer(options["user"]),
            )
        except EvidenceError as exc:
            raise CommandError(str(exc)) from exc
        Path(options["out"]).write_bytes(bytes(document.content))
        coverage = document.coverage["frameworks"][0]
        self.stdout.write(
            f"{document.get_kind_display()} {document.reference}\n"
            f"  {document.pages} pages, SHA-256 {document.sha256}\n"
            f"  coverage {coverage['framework']}: {coverage['present']}/{coverage['required']}"
            f" ({len(coverage['gaps'])} gaps)\n"
            f"  ledger event {document.event.entry_id} ({document.event.event_type})\n"
            f"  written to {options['out']}"
        )
