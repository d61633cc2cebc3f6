"""Seed the demo: one user per role, the credit-scoring model and its first version."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from compliance import demo
from compliance.choices import AnnexIIIArea, EUAIActCategory, LifecycleStatus, RiskTier, Role
from compliance.models import AIModel, ModelVersion, UserAPIKey
from compliance.roles import GROUP_NAMES, STAFF_ROLES

DEMO_PASSWORD = "attest-demo"  # a local demo only: seed_demo refuses to run with DEBUG off
DEMO_KEY_NAME = "demo scoring service"
DEMO_USERS = [
    ("rita", "Rita", "Okafor", Role.RISK_OFFICER),
    ("victor", "Victor", "Lindqvist", Role.VALIDATOR),
    ("valerie", "Valerie", "Moreau", Role.VALIDATOR),
    ("audrey", "Audrey", "Chen", Role.AUDITOR),
    ("devon", "Devon", "Patel", Role.DEVELOPER),
    ("scoring-service", "", "", Role.SERVICE),
]


class Command(BaseCommand):
    help = "Seed a demo inventory: users for every role and a trained credit-scoring model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rows", type=int, default=20_000, help="synthetic training rows")

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo uses well-known demo passwords: run it with DEBUG on.")
        users = self.seed_users()
        version = self.seed_model(users, options["rows"])
        key = self.service_key(users["scoring-service"])
        self.stdout.write(self.style.SUCCESS(f"Demo model {version} ({version.manifest_sha256})"))
        self.stdout.write(f"Logins (password for every person: {DEMO_PASSWORD}):")
        for username, _, _, role in DEMO_USERS:
            self.stdout.write(f"  {role.label:<20} {username}")
        self.stdout.write(f"API key of scoring-service: {key}")

    @transaction.atomic
    def seed_users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, first, last, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.org",
                    "is_staff": role in STAFF_ROLES,
                },
            )
            if created:
                if role == Role.SERVICE:
                    user.set_unusable_password()
                else:
                    user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=GROUP_NAMES[role]))
            users[username] = user
        return users

    @transaction.atomic
    def seed_model(self, users: dict, rows: int) -> ModelVersion:
        model, created = AIModel.objects.get_or_create(
            slug="credit-scoring",
            defaults={
                "name": "Retail credit scoring",
                "description": "Scores applications for unsecured personal loans.",
                "intended_purpose": (
                    "Estimate the probability that an applicant repays an unsecured personal "
                    "loan, to approve or refer the application to an underwriter."
                ),
                "intended_users": "Retail credit underwriters; the online loan application.",
                "domain": "Retail credit",
                "business_owner": users["rita"],
                "risk_tier": RiskTier.HIGH,
                "eu_ai_act_category": EUAIActCategory.HIGH_RISK,
                "annex_iii_area": AnnexIIIArea.ESSENTIAL_SERVICES,
                "lifecycle_status": LifecycleStatus.IN_USE,
                "sensitive_attributes": list(demo.SENSITIVE),
                "favourable_label": "approved",
                "favourable_value": 1,
            },
        )
        if created:
            model.developing_team.add(users["devon"])
        existing = model.versions.filter(label="1.0.0").first()
        if existing:
            return existing
        trained = demo.train(rows)
        bundle = demo.save_artifacts(trained, settings.DATA_DIR / "artifacts", "1.0.0")
        return ModelVersion.objects.create(
            model=model,
            label="1.0.0",
            feature_pipeline_version="features-2025.12",
            input_schema=demo.input_schema(),
            code_commit="demo",
            configuration=trained.pipeline.named_steps["classify"].get_params(),
            evaluation_metrics=trained.metrics,
            baselines=demo.baselines(trained),
            created_by=users["devon"],
            **bundle,
        )

    def service_key(self, user) -> str:
        # The key is shown only once, so every run issues a fresh one and revokes the old.
        UserAPIKey.objects.filter(user=user, name=DEMO_KEY_NAME).update(revoked=True)
        _, key = UserAPIKey.objects.create_key(name=DEMO_KEY_NAME, user=user)
        # demo_traffic logs through the client with it; the file is the demo's only copy.
        path = settings.DATA_DIR / "demo-api-key"
        path.touch(mode=0o600)
        path.write_text(key + "\n")
        return key
