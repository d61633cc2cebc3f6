from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from compliance.models import AIModel
from compliance.retention import set_retention

from .erase_subject import user_named


class Command(BaseCommand):
    help = (
        "Set how many months a model's prediction and outcome payloads are kept (at least 6, "
        "EU AI Act Art. 19). The change is kept in the model's history and the ledger."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("model", help="model slug")
        parser.add_argument("months", type=int)
        parser.add_argument("--by", help="username (default: system)")
        parser.add_argument("--reason", default="")

    def handle(self, *args, **options) -> None:
        model = AIModel.objects.filter(slug=options["model"]).first()
        if model is None:
            raise CommandError(f"No model {options['model']!r}.")
        actor = user_named(options["by"]) if options["by"] else None
        try:
            set_retention(model, options["months"], actor=actor, reason=options["reason"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"{model.slug}: payloads kept {model.retention_months} months.")
        )
