from django.core.management.base import BaseCommand

from compliance.scheduling import run_due


class Command(BaseCommand):
    help = "Run every report schedule that is due, once, and exit (for cron)."

    def handle(self, *args, **options) -> None:
        reports = run_due()
        for report in reports:
            self.stdout.write(f"{report}")
        self.stdout.write(f"Ran {len(reports)} reports.")
