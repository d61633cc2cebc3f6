"""The five roles and the permissions each holds.

Each role is a Django group of the same name, created by a data migration. The admin and the
API both check these permissions, so what a role may do is decided in one place.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .choices import Role

GROUP_NAMES = {role: role.label for role in Role}

# Roles that work in the Django admin (a service account is API only).
STAFF_ROLES = {Role.RISK_OFFICER, Role.VALIDATOR, Role.AUDITOR, Role.DEVELOPER}


def role_of(user: AbstractBaseUser | AnonymousUser) -> set[Role]:
    if not user.is_authenticated:
        return set()
    names = {name for name in user.groups.values_list("name", flat=True)}
    return {role for role, label in GROUP_NAMES.items() if label in names}


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: Role) -> bool:
    return bool(role_of(user) & set(roles))
