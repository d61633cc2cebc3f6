from django.core.management.base import BaseCommand

from audit.sequencer import run


class Command(BaseCommand):
    help = "Run the sequencer: seal pending entries and sign checkpoints, until stopped."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between rounds")
        parser.add_argument("--stop-after", type=float, default=None, help="seconds, for tests")

    def handle(self, *args, **options) -> None:
        self.stdout.write("Sequencer running; Ctrl-C stops it.")
        try:
            run(interval=options["interval"], stop_after=options["stop_after"])
        except KeyboardInterrupt:
            pass
