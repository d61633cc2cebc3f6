import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from compliance.models import AIModel
from compliance.reports import run_report


def moment(value: str, name: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--{name} {value!r} is not a date (YYYY-MM-DD) or a datetime.")
        parsed = dt.datetime.combine(day, dt.time())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Run a model's monitoring report now (default window: the last 7 days)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True, help="model slug")
        parser.add_argument("--from", dest="start", help="window start, YYYY-MM-DD[THH:MM]")
        parser.add_argument("--to", dest="end", help="window end (exclusive)")

    def handle(self, *args, **options) -> None:
        model = AIModel.objects.filter(slug=options["model"]).first()
        if model is None:
            raise CommandError(f"No model {options['model']!r}.")
        end = moment(options["end"], "to") if options["end"] else timezone.now()
        start = moment(options["start"], "from") if options["start"] else end - dt.timedelta(7)
        schedule = model.report_schedules.filter(active=True).first()
        try:
            reports = run_report(model, start=start, end=end, schedule=schedule)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not reports:
            self.stdout.write(f"No predictions of {model.slug} between {start} and {end}.")
        for report in reports:
            self.stdout.write(str(report))
            for breach in report.breaches:
                self.stdout.write(f"  BREACH {breach['message']}")
