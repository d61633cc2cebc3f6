from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from compliance.accounts import check_email_free
from compliance.choices import Role
from compliance.roles import GROUP_NAMES, STAFF_ROLES


class Command(BaseCommand):
    help = "Create a user with one role (risk_officer, validator, auditor, developer, service)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password",
            help="Password to set; omitted, a random one is generated and printed once. "
            "Service accounts get no password (they use API keys).",
        )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        User = get_user_model()
        username, role = options["username"], Role(options["role"])
        if User.objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        try:
            check_email_free(options["email"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        user = User(
            username=username,
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
            is_staff=role in STAFF_ROLES,
        )
        password = options["password"]
        if role == Role.SERVICE:
            user.set_unusable_password()
        else:
            password = password or secrets.token_urlsafe(12)
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
        self.stdout.write(f"Created {role.label.lower()} {username}")
        if role != Role.SERVICE and not options["password"]:
            self.stdout.write(f"Password (shown once): {password}")
