"""Issuing and revoking API keys, each recorded as a ledger governance event.

The command (``manage.py create_api_key``), the admin and the demo all come here, so no key
exists without its ``api_key.issued`` event and none is revoked without ``api_key.revoked``.
The events name the actor (as text and reference), the key's prefix, its scopes and the
reason; never the secret.

>>> key, secret = issue_key(
...     user=service, models=[credit_scoring], actions=[KeyAction.LOG_PREDICTIONS],
...     actor=rita, reason="scoring service in production",
... )
>>> revoke_key(key, actor=rita, reason="rotated")
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.ledger import iso, record_event

from .choices import KeyAction
from .models import AIModel, UserAPIKey


def _scope(key: UserAPIKey) -> dict:
    return {
        "prefix": key.prefix,
        "name": key.name,
        "user": key.user.get_username(),
        "models": "all" if key.all_models else sorted(key.model_slugs),
        "actions": list(key.actions),
        "expiry_date": iso(key.expiry_date) if key.expiry_date else None,
        "revoked": key.revoked,
    }


def check_scope(actions: list[str], models: list[AIModel], all_models: bool) -> None:
    """Refuse a scope that is empty, or both some models and all of them."""
    if not actions:
        raise ValidationError("A key needs at least one action.")
    if all_models and models:
        raise ValidationError("Choose either some models or all models, not both.")
    if not all_models and not models:
        raise ValidationError("A key needs a model (or all models, chosen deliberately).")


def issue_key(
    *,
    user,
    actions: Iterable[str],
    models: Iterable[AIModel] = (),
    all_models: bool = False,
    expiry_date: dt.datetime | None = None,
    name: str = "",
    actor=None,
    reason: str = "",
) -> tuple[UserAPIKey, str]:
    """Create a key of ``user`` for ``actions`` on ``models`` (or ``all_models``); return it
    with its secret, which is shown once and stored only as a hash."""
    actions = sorted({KeyAction(action).value for action in actions})
    models = list(models)
    check_scope(actions, models, all_models)
    with transaction.atomic():
        key, secret = UserAPIKey.objects.create_key(
            user=user,
            name=name or f"{user.get_username()} key",
            actions=actions,
            all_models=all_models,
            expiry_date=expiry_date,
        )
        key.ai_models.set(models)
        record_event(
            "api_key.issued",
            actor=actor,
            obj=key,
            object_id=key.prefix,
            after=_scope(key),
            reason=reason,
        )
    return key, secret


def revoke_key(key: UserAPIKey, *, actor=None, reason: str = "") -> UserAPIKey:
    """Revoke ``key`` for good (a revoked key cannot be restored)."""
    with transaction.atomic():
        key = UserAPIKey.objects.select_for_update().select_related("user").get(pk=key.pk)
        if key.revoked:
            return key
        before = _scope(key)
        key.revoked = True
        key._recorded = True
        key.save(update_fields=["revoked"])
        record_event(
            "api_key.revoked",
            actor=actor,
            obj=key,
            object_id=key.prefix,
            before=before,
            after=_scope(key),
            reason=reason,
        )
    return key
