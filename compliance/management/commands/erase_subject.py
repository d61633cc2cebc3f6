from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from compliance.retention import RetentionError, erase_subject


def user_named(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No user {username!r}.") from None


class Command(BaseCommand):
    help = (
        "Erase a data subject (GDPR Art. 17): destroy the key of their personal fields "
        "(crypto-shredding) and delete their sensitive attributes; the ledger still verifies."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("subject_id", help="the subject's id, as model services send it")
        parser.add_argument("--by", required=True, help="username of who ordered the erasure")
        parser.add_argument("--reason", default="", help="e.g. the request's reference")

    def handle(self, *args, **options) -> None:
        actor = user_named(options["by"])
        try:
            key = erase_subject(options["subject_id"], actor=actor, reason=options["reason"])
        except RetentionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Erased data subject {key.reference}: the key is destroyed.")
        )
