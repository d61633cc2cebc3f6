"""Seed the demo: one user per role, the credit-scoring model and two versions.

Version 1.0.0 has been through the whole workflow: submitted, reviewed and approved by both
validators (the model is tier 1 and EU high-risk), deployed to production. Version 1.1.0, a
retrain, is in validation with an open high-severity finding, waiting in the validators' queue.
Both carry their skops artifact, so the explainer can compute SHAP explanations of their
predictions, and a daily monitoring schedule is due at once. Every step is skipped when already
done, so the command can run again.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from compliance import demo, workflow
from compliance.choices import (
    AnnexIIIArea,
    EUAIActCategory,
    KeyAction,
    LifecycleStatus,
    RiskTier,
    Role,
    Severity,
    VersionState,
)
from compliance.keys import issue_key, revoke_key
from compliance.models import AIModel, ModelVersion, ReportSchedule, UserAPIKey
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
        model = self.seed_model(users)
        version = self.seed_version(model, users, "1.0.0", options["rows"], seed=7)
        demo.approve_and_deploy(
            version,
            developer=users["devon"],
            validators=[users["victor"], users["valerie"]],
            officer=users["rita"],
            # the same seed and rows as the bundle: the validators benchmark on its hold-out
            reviews=demo.reviews(version, demo.train(options["rows"], seed=7)),
        )
        retrain = self.seed_version(model, users, "1.1.0", options["rows"], seed=11)
        self.in_validation_with_a_finding(retrain, users)
        for label in ("1.0.0", "1.1.0"):  # their skops files, so SHAP explains their decisions
            call_command("upload_artifact", model.slug, label, stdout=self.stdout)
        self.seed_schedule(model)
        key = self.service_key(users["scoring-service"], model)
        self.stdout.write(self.style.SUCCESS(f"Demo model {version} ({version.manifest_sha256})"))
        self.stdout.write(f"  {version}: approved by victor and valerie, champion in production")
        self.stdout.write(f"  {retrain}: in validation, an open finding, in the validators' queue")
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
    def seed_model(self, users: dict) -> AIModel:
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
                "monthly_cost": Decimal("1850.00"),  # compute, monitoring and a half analyst
                "retention_months": 84,  # seven years of credit records
            },
        )
        if created:
            model.developing_team.add(users["devon"])
        return model

    @transaction.atomic
    def seed_version(self, model: AIModel, users: dict, label: str, rows: int, seed: int):
        existing = model.versions.filter(label=label).first()
        if existing:
            return existing
        trained = demo.train(rows, seed=seed)
        bundle = demo.save_artifacts(trained, settings.DATA_DIR / "artifacts", label)
        return ModelVersion.objects.create(
            model=model,
            label=label,
            feature_pipeline_version="features-2025.12",
            input_schema=demo.input_schema(),
            code_commit="demo",
            configuration=trained.pipeline.named_steps["classify"].get_params(),
            evaluation_metrics=trained.metrics,
            baselines=demo.baselines(trained),
            created_by=users["devon"],
            **bundle,
        )

    def seed_schedule(self, model: AIModel) -> None:
        """A daily report over the last 30 days, due now, so the demo runs it at once."""
        ReportSchedule.objects.get_or_create(
            model=model,
            name="Daily monitoring",
            defaults={"window_days": 30, "cadence_hours": 24, "min_group_size": 50},
        )
        ReportSchedule.objects.filter(model=model).update(next_run_at=timezone.now())

    def in_validation_with_a_finding(self, version: ModelVersion, users: dict) -> None:
        """1.1.0 submitted, taken into validation by victor, with an open finding."""
        if version.state == VersionState.DRAFT:
            version = workflow.submit_version(version, users["devon"], "Quarterly retrain.")
        if version.state == VersionState.SUBMITTED:
            version = workflow.start_validation(version, users["victor"])
        if version.state == VersionState.IN_VALIDATION and not version.findings.exists():
            workflow.record_finding(
                version,
                users["victor"],
                title="Selection rates by age band not compared with 1.0.0",
                description=(
                    "The retrain's approval rates by age band have not been compared with those "
                    "of 1.0.0; 18-24, the smallest band, is most at risk. Compare them against "
                    "the four-fifths rule before approval."
                ),
                severity=Severity.HIGH,
                owner=users["devon"],
                due_date=timezone.localdate() + dt.timedelta(days=30),
            )

    def service_key(self, user, model: AIModel) -> str:
        # The key is shown only once, so every run issues a fresh one and revokes the old.
        reason = "The demo issues a fresh key on every run."
        for old in UserAPIKey.objects.filter(user=user, name=DEMO_KEY_NAME, revoked=False):
            revoke_key(old, reason=reason)
        _, key = issue_key(
            user=user,
            models=[model],
            actions=[KeyAction.LOG_PREDICTIONS, KeyAction.LOG_OUTCOMES, KeyAction.READ_LEDGER],
            name=DEMO_KEY_NAME,
            reason=reason,
        )
        # demo_traffic logs through the client with it; the file is the demo's only copy.
        path = settings.DATA_DIR / "demo-api-key"
        path.touch(mode=0o600)
        path.write_text(key + "\n")
        return key
