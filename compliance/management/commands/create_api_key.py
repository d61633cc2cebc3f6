from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.choices import KeyAction
from compliance.keys import issue_key
from compliance.models import AIModel


class Command(BaseCommand):
    help = (
        "Issue an API key of a user, scoped to models and actions, and print it once (only its "
        "hash is stored). The issue is a ledger event. Example: create_api_key --user "
        "scoring-service --model credit-scoring --action log_predictions --action log_outcomes"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="username the key acts as")
        parser.add_argument(
            "--model", action="append", default=[], metavar="SLUG", help="a model (repeatable)"
        )
        parser.add_argument(
            "--all-models", action="store_true", help="every model, present and future"
        )
        parser.add_argument(
            "--action",
            action="append",
            default=[],
            choices=KeyAction.values,
            help="what the key may do (repeatable)",
        )
        parser.add_argument("--all-actions", action="store_true", help="every action")
        parser.add_argument("--name", default="", help="what the key is for")
        expiry = parser.add_mutually_exclusive_group()
        expiry.add_argument("--expires-in-days", type=int, default=None)
        expiry.add_argument(
            "--expires",
            type=dt.date.fromisoformat,
            default=None,
            metavar="YYYY-MM-DD",
            help="the day the key stops working (at 00:00 UTC)",
        )
        parser.add_argument("--reason", default="", help="why the key is issued (in the ledger)")

    def handle(self, *args, **options) -> None:
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {options['user']!r}.") from None
        days = options["expires_in_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-in-days must be positive.")
        expiry_date = timezone.now() + dt.timedelta(days=days) if days else None
        if options["expires"] is not None:
            expiry_date = dt.datetime.combine(options["expires"], dt.time(), tzinfo=dt.UTC)
            if expiry_date <= timezone.now():
                raise CommandError("--expires must be a day in the future.")
        models = list(AIModel.objects.filter(slug__in=options["model"]))
        missing = set(options["model"]) - {m.slug for m in models}
        if missing:
            raise CommandError(f"No model {', '.join(sorted(missing))}.")
        actions = KeyAction.values if options["all_actions"] else options["action"]
        try:
            _, key = issue_key(
                user=user,
                models=models,
                all_models=options["all_models"],
                actions=actions,
                expiry_date=expiry_date,
                name=options["name"],
                reason=options["reason"] or "Issued with manage.py create_api_key.",
            )
        except ValidationError as exc:
            raise CommandError(
                " ".join(exc.messages) + " Use --model SLUG or --all-models, and --action."
            ) from None
        self.stdout.write(key)
