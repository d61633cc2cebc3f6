"""``manage.py check --deploy``: the ledger's secrets and database are those of production."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import signing


@checks.register(checks.Tags.security, deploy=True)
def ledger_deployment(app_configs, **kwargs) -> list[checks.CheckMessage]:
    problems: list[checks.CheckMessage] = []
    try:
        signing.signing_key()
    except ImproperlyConfigured as exc:
        problems.append(checks.Error(str(exc), id="attest.E001"))
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        problems.append(
            checks.Warning(
                "DATABASE_URL is unset: the ledger is in SQLite, the embedded default for trying "
                "Attest out. Production keeps it in PostgreSQL (DATABASE_URL or DATABASE_URL_FILE)",
                id="attest.W001",
            )
        )
    return problems
