"""API-key authentication: ``Authorization: Api-Key <prefix>.<secret>``."""

from __future__ import annotations

import functools
import json

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from audit import rawsql
from compliance.backends import json_array_sql, permissions_sql
from compliance.models import AIModel, UserAPIKey

KEYWORD = "Api-Key"
# What a caller without (valid) credentials is told to send (every 401, and the schema).
HOW_TO_AUTHENTICATE = f'Send "Authorization: {KEYWORD} <key>".'


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates a request as the user who owns the API key.

    Keys are stored only as hashes; a revoked or expired key, or one whose user is inactive,
    is refused with 401 and a message that says which.
    """

    def authenticate(self, request: Request):
        header = get_authorization_header(request).decode("latin-1")
        keyword, _, key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        key = key.strip()
        prefix = key.partition(".")[0]
        api_key = key_with_user(prefix)
        if api_key is None or not api_key.is_valid(key):
            raise AuthenticationFailed("Invalid API key.")
        if api_key.revoked:
            raise AuthenticationFailed("This API key has been revoked.")
        if api_key.expiry_date is not None and api_key.expiry_date <= timezone.now():
            raise AuthenticationFailed("This API key has expired.")
        if not api_key.user.is_active:
            raise AuthenticationFailed("The user of this API key is inactive.")
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


def key_with_user(prefix: str) -> UserAPIKey | None:
    """The key with this prefix, its user and the slugs of the models in its scope, in one
    hand-written query: every API request asks, and the ORM spends more building these
    queries than the database spends answering them."""
    with connection.cursor() as cursor:
        cursor.execute(_key_sql(connection.vendor), [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    key_fields, user_fields = _fields(UserAPIKey), _fields(get_user_model())
    api_key = rawsql.instance(UserAPIKey, key_fields, row[: len(key_fields)])
    user = rawsql.instance(get_user_model(), user_fields, row[len(key_fields) : -2])
    slugs, permissions = (json.loads(names or "[]") for names in row[-2:])
    api_key.__dict__["model_slugs"] = frozenset(filter(None, slugs))
    if not user.is_superuser:  # what RoleBackend would read (superusers have every permission)
        user._perm_cache = set(filter(None, permissions))
    api_key.user = user
    return api_key


def _fields(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@functools.cache
def _key_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    user_model = get_user_model()
    scope = UserAPIKey.ai_models.through._meta
    slugs = json_array_sql(f"m.{q('slug')}")
    permissions = permissions_sql(f"k.{q('user_id')}")
    return (
        "SELECT "
        + ", ".join(f"k.{q(f.column)}" for f in UserAPIKey._meta.concrete_fields)
        + ", "
        + ", ".join(f"u.{q(f.column)}" for f in user_model._meta.concrete_fields)
        + f", (SELECT {slugs} FROM {q(scope.db_table)} s "
        f"JOIN {q(AIModel._meta.db_table)} m "
        f"ON m.{q('id')} = s.{q(scope.get_field('aimodel').column)} "
        f"WHERE s.{q(scope.get_field('userapikey').column)} = k.{q('id')}), "
        f"(SELECT {json_array_sql('name')} FROM ({permissions}) AS permissions) "
        f"FROM {q(UserAPIKey._meta.db_table)} k "
        f"JOIN {q(user_model._meta.db_table)} u ON u.{q('id')} = k.{q('user_id')} "
        f"WHERE k.{q('prefix')} = %s"
    )


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents the API-key header in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"{HOW_TO_AUTHENTICATE} Keys come from manage.py create_api_key.",
        }
