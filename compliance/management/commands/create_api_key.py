from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.models import UserAPIKey


class Command(BaseCommand):
    help = "Create an API key for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--user", required=True, help="username the key acts as")
        parser.add_argument("--name", default="", help="what the key is for")
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args, **options) -> None:
        try:
            user = get_user_model().objects.get(username=options["user"])
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {options['user']!r}.") from None
        days = options["expires_in_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-in-days must be positive.")
        expiry = timezone.now() + dt.timedelta(days=days) if days else None
        name = options["name"] or f"{user.username} key"
        _, key = UserAPIKey.objects.create_key(name=name, user=user, expiry_date=expiry)
        self.stdout.write(key)
