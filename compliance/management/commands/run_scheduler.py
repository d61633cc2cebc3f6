from django.core.management.base import BaseCommand

from compliance.scheduling import run_forever


class Command(BaseCommand):
    help = "Run due report schedules every minute until stopped (the embedded default's beat)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between looks")
        parser.add_argument("--stop-after", type=float, default=None, help="seconds, for tests")

    def handle(self, *args, **options) -> None:
        self.stdout.write("Scheduler running; Ctrl-C stops it.")
        try:
            run_forever(options["interval"], options["stop_after"])
        except KeyboardInterrupt:
            pass
