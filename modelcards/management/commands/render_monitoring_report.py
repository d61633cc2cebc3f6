"""Write the PDF of a stored monitoring report (by id, or the model's latest)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from compliance.models import MonitoringReport
from modelcards.monitoring import reference, render_monitoring_report


class Command(BaseCommand):
    help = (
        "Render a monitoring report as a PDF: breaches, selection rate by group with confidence "
        "intervals and the four-fifths line, PSI by feature, performance over time."
    )

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--report", type=int, metavar="ID")
        which.add_argument("--model", metavar="SLUG", help="the model's latest report")
        parser.add_argument("--out", required=True, metavar="FILE.pdf")

    def handle(self, *args, **options) -> None:
        reports = MonitoringReport.objects.select_related("model", "version")
        if options["report"] is not None:
            report = reports.filter(pk=options["report"]).first()
            missing = f"No monitoring report {options['report']}."
        else:
            report = reports.filter(model__slug=options["model"]).order_by("-created_at", "-pk")
            report = report.first()
            missing = f"No monitoring report of {options['model']!r}: run_report runs one."
        if report is None:
            raise CommandError(missing)
        pdf = render_monitoring_report(report)
        Path(options["out"]).write_bytes(pdf.content)
        verdict = "passed" if report.passed else f"{len(report.breaches)} breaches"
        self.stdout.write(
            f"Monitoring report {report.pk} ({reference(report)}): {verdict}\n"
            f"  {pdf.pages} pages, SHA-256 {pdf.sha256}\n  written to {options['out']}"
        )
