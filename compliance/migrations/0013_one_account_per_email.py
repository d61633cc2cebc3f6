"""One person, one account: a unique index on ``lower(email)`` of users with an address
(``compliance.accounts``). ``auth.User`` is Django's, so the index is plain SQL, which SQLite
and PostgreSQL both read. Existing duplicates stop the migration, named, rather than being
merged or changed here."""

from django.conf import settings
from django.db import migrations

INDEX = "auth_user_email_unique_ci"


def no_shared_addresses(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    seen: dict[str, str] = {}
    shared = []
    for username, email in User.objects.exclude(email="").values_list("username", "email"):
        key = email.lower()
        if key in seen:
            shared.append(f"{seen[key]} and {username} ({email})")
        seen.setdefault(key, username)
    if shared:
        raise RuntimeError(
            "Accounts share an e-mail address (compared without case): " + "; ".join(shared)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0012_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(no_shared_addresses, migrations.RunPython.noop),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (lower(email)) WHERE email <> ''",
            f"DROP INDEX {INDEX}",
        ),
    ]
