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
            "--priority",
            choices=["idle", "low", "normal"],
            default="idle",
            help="CPU priority of reading and computing (default idle: ingest on the same "
            "machine keeps its rate and the explainer catches up when it is quiet); the short "
            "write transactions always run at normal priority",
        )
        parser.add_argument("--stop-after", type=float, default=None, help="seconds, for tests")

    def handle(self, *args, **options) -> None:
        if options["once"]:
            done = explain_all(options["batch"])
            self.stdout.write(
                f"Explained {done.explained} predictions ({done.unexplainable} unexplainable, "
                f"{done.mismatches} did not add up; {done.logged} came with an explanation)."
            )
            return
        self.stdout.write(f"Explainer running ({options['priority']} priority); Ctrl-C stops it.")
        try:
            run_forever(
                options["interval"], options["stop_after"], options["batch"], options["priority"]
            )
        except KeyboardInterrupt:
            pass
