from django.core.management.base import BaseCommand, CommandError

from compliance.models import AIModel, LegalHold
from compliance.retention import (
    RetentionError,
    find_subject,
    place_legal_hold,
    release_legal_hold,
)

from .erase_subject import user_named


class Command(BaseCommand):
    help = (
        "Place a legal hold on a model or a data subject (nothing of it is purged or erased "
        "while it lasts), release one, or list the active holds. Each step is a ledger event."
    )

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        place = actions.add_parser("place")
        target = place.add_mutually_exclusive_group(required=True)
        target.add_argument("--model", help="model slug")
        target.add_argument("--subject", help="the data subject's id")
        release = actions.add_parser("release")
        release.add_argument("hold", type=int, help="the hold's id (see list)")
        for sub in (place, release):
            sub.add_argument("--reason", required=True)
            sub.add_argument("--by", required=True, help="username")
        actions.add_parser("list")

    def handle(self, *args, **options) -> None:
        if options["action"] == "list":
            for hold in LegalHold.objects.active().select_related("model", "subject"):
                self.stdout.write(
                    f"{hold.pk}: {hold} since {hold.placed_at:%Y-%m-%d}: {hold.reason}"
                )
            return
        actor = user_named(options["by"])
        try:
            if options["action"] == "place":
                model = subject = None
                if options["model"]:
                    model = AIModel.objects.filter(slug=options["model"]).first()
                    if model is None:
                        raise RetentionError(f"No model {options['model']!r}.")
                else:
                    subject = find_subject(options["subject"])
                hold = place_legal_hold(
                    reason=options["reason"], actor=actor, model=model, subject=subject
                )
                self.stdout.write(self.style.SUCCESS(f"Placed {hold} (id {hold.pk})."))
            else:
                hold = LegalHold.objects.filter(pk=options["hold"]).first()
                if hold is None:
                    raise RetentionError(f"No legal hold {options['hold']}.")
                release_legal_hold(hold, reason=options["reason"], actor=actor)
                self.stdout.write(self.style.SUCCESS(f"Released {hold}."))
        except RetentionError as exc:
            raise CommandError(str(exc)) from None
