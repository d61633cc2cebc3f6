"""Authentication backend: Django's ModelBackend, with a user's permissions read in one query.

Every API request checks its role's permissions; ModelBackend reads them with two ORM queries
(the user's own, then their groups'), whose building costs more than running them. This reads
both at once with one hand-written statement, which API-key authentication also folds into its
own query (``compliance.api.authentication``). Superusers, inactive users and the rest of
ModelBackend's behaviour are unchanged.
"""

from __future__ import annotations

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection


class RoleBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cursor:
                cursor.execute(permissions_sql("%s"), [user_obj.pk, user_obj.pk])
                user_obj._perm_cache = {name for (name,) in cursor}
        return user_obj._perm_cache


def permissions_sql(user: str) -> str:
    """SELECT the names ("app_label.codename") of the permissions of the user whose id is the
    SQL expression ``user`` (which appears twice), their own and their groups'."""
    return _permissions_sql(connection.vendor).replace("{user}", user)


def json_array_sql(expression: str) -> str:
    """The SQL aggregate of ``expression`` as JSON array text (any characters survive)."""
    if connection.vendor == "postgresql":
        return f"json_agg({expression})::text"
    return f"json_group_array({expression})"


@functools.cache
def _permissions_sql(vendor: str) -> str:
    user_model = get_user_model()
    own = user_model.user_permissions.through._meta
    member = user_model.groups.through._meta
    granted = Group.permissions.through._meta
    q = connection.ops.quote_name

    def column(meta, name: str) -> str:
        return q(meta.get_field(name).column)

    return (
        f"SELECT ct.{q('app_label')} || '.' || p.{q('codename')} AS name "
        f"FROM {q(Permission._meta.db_table)} p "
        f"JOIN {q(ContentType._meta.db_table)} ct ON ct.{q('id')} = p.{q('content_type_id')} "
        f"WHERE p.{q('id')} IN ("
        f"SELECT {column(own, 'permission')} FROM {q(own.db_table)} "
        f"WHERE {column(own, 'user')} = {{user}} "
        f"UNION SELECT g.{column(granted, 'permission')} FROM {q(granted.db_table)} g "
        f"JOIN {q(member.db_table)} m "
        f"ON m.{column(member, 'group')} = g.{column(granted, 'group')} "
        f"WHERE m.{column(member, 'user')} = {{user}})"
    )
