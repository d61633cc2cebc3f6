"""The five roles and the permissions each holds.

Each role is a Django group of the same name, created by a data migration. The admin and the
API both check these permissions, so what a role may do is decided in one place.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q

from .choices import Role

GROUP_NAMES = {role: role.label for role in Role}

# Roles that work in the Django admin (a service account is API only).
STAFF_ROLES = {Role.RISK_OFFICER, Role.VALIDATOR, Role.AUDITOR, Role.DEVELOPER}

# Roles that read every model's predictions, outcomes, explanations and trails.
READ_EVERY_MODEL = {Role.RISK_OFFICER, Role.VALIDATOR, Role.AUDITOR}


def role_of(user: AbstractBaseUser | AnonymousUser) -> set[Role]:
    if not user.is_authenticated:
        return set()
    names = {name for name in user.groups.values_list("name", flat=True)}
    return {role for role, label in GROUP_NAMES.items() if label in names}


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: Role) -> bool:
    return bool(role_of(user) & set(roles))


def outside_team(user, model) -> bool:
    """A developer who is not on ``model``'s developing team: they may not register or edit its
    versions, upload their artifacts or write its narrative (other roles are held to their
    permissions). The API and the admin both ask this, so the rule is written once."""
    return has_role(user, Role.DEVELOPER) and not model.is_on_team(user)


def scope_reads(queryset, user, key=None, path: str = "version__model"):
    """The rows of ``queryset`` that ``user`` may read, ``path`` leading from a row to its model.

    Risk officers, validators, auditors and superusers read every model's; anyone else
    (developers, service accounts) only those of the models whose team they are on, and a
    service account also those its API key (``key``) covers. The API and the admin both scope
    predictions, outcomes, explanations and trails with this, so a row outside it does not exist
    for the reader (404).
    """
    from .models import AIModel

    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser or has_role(user, *READ_EVERY_MODEL):
        return queryset
    mine = Q(developing_team=user)
    if key is not None and has_role(user, Role.SERVICE):
        if key.all_models:
            return queryset
        mine |= Q(pk__in=key.ai_models.values("pk"))
    return queryset.filter(**{f"{path}__in": AIModel.objects.filter(mine).values("pk")})


def grant_permissions(apps, role_permissions: dict[str, list[str]]) -> None:
    """Give each group (created if missing) its ``app_label.codename`` permissions.

    For data migrations: permissions are normally created after all migrations have run, so
    they are created here first, on the historical models of ``apps``.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in role_permissions.items():
        group, _ = Group.objects.get_or_create(name=name)
        for perm in perms:
            app_label, codename = perm.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
