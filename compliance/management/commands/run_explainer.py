import os

from django.core.management.base import BaseCommand

from compliance.explanations import EXPLAIN_BATCH, explain_all, run_forever


class Command(BaseCommand):
    help = (
        "Compute SHAP explanations of sealed predictions logged without one, in the background "
        "(the embedded default's worker; production runs the attest.explain_pending task)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="explain what is pending, exit")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between looks")
        parser.add_argument("--batch", type=int, default=EXPLAIN_BATCH, help="rows per batch")
        parser.add_argument(
            "--nice",
            type=int,
            default=10,
            help="lower this process's CPU priority by this much (0: not at all), so that "
            "ingest keeps the CPU when both are busy",
        )
        parser.add_argument("--stop-after", type=float, default=None, help="seconds, for tests")

    def handle(self, *args, **options) -> None:
        if options["nice"] > 0:
            os.nice(options["nice"])
        if options["once"]:
            done = explain_all(options["batch"])
            self.stdout.write(
                f"Explained {done.explained} predictions ({done.unexplainable} unexplainable, "
                f"{done.mismatches} did not add up; {done.logged} came with an explanation)."
            )
            return
        self.stdout.write("Explainer running; Ctrl-C stops it.")
        try:
            run_forever(options["interval"], options["stop_after"], options["batch"])
        except KeyboardInterrupt:
            pass
