"""Role permissions for the API: the same Django permissions the admin checks."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission, DjangoModelPermissions

from compliance.models import UserAPIKey
from compliance.roles import scope_reads


class RolePermissions(DjangoModelPermissions):
    """Model permissions, with reading guarded too (``view_*``): a service account that may
    only log predictions cannot list the inventory.

    A view without a queryset names its permissions in ``required_permissions``, and may give
    the refusal's message in ``permission_denied_message``.
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view) -> bool:
        required = getattr(view, "required_permissions", None)
        if required is None:
            return super().has_permission(request, view)
        user = request.user
        if not (user and user.is_authenticated):
            return False
        perms = required.get(request.method, []) if isinstance(required, dict) else required
        if user.has_perms(perms):
            return True
        # A view may say who may do what it does (e.g. "Only validators may approve a version").
        message = getattr(view, "permission_denied_message", None)
        if message:
            self.message = message
        return False


class KeyScope(BasePermission):
    """What a request made with an API key may do: on top of the owner's role, the endpoint's
    action must be one of the key's, and the model its URL names one of the key's models.

    Each view says which action each method is (``key_actions``); a view that does not is
    closed to keys. A view whose URL names its object by id says how to find the object's
    model (``key_model_lookup``: the model class, the URL keyword and the path to the slug);
    ``slug`` and ``model_slug`` in the URL name the model themselves. Where the models are
    in the body (ingest, oversight) or the list (inventory, reports), the view checks or
    filters with :func:`check_key_covers` and :func:`scoped_to_key`.
    """

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, UserAPIKey) or request.method == "OPTIONS":
            return True
        method = "GET" if request.method == "HEAD" else request.method
        action = getattr(view, "key_actions", {}).get(method)
        if action is None:
            self.message = "This endpoint cannot be used with an API key."
            return False
        if not key.allows(action):
            self.message = f"This API key may not {action} (its scope: {key.scope_text()})."
            return False
        slug = _addressed_model(view)
        if slug is not None and not key.covers(slug):
            self.message = f"This API key's scope ({key.scope_text()}) does not cover model {slug}."
            return False
        return True


def _addressed_model(view) -> str | None:
    kwargs = view.kwargs
    lookup = getattr(view, "key_model_lookup", None)
    if lookup is None:
        return kwargs.get("model_slug") or kwargs.get("slug")
    model_class, keyword, path = lookup
    try:
        return (
            model_class.objects.filter(**{keyword: kwargs[keyword]})
            .values_list(path, flat=True)
            .first()
        )  # None when there is no such object: the view answers 404
    except (ValueError, ValidationError):
        return None


def check_key_covers(request, slugs: Sequence[str | None], what: str | None = None) -> None:
    """Refuse (403, storing nothing) if the request's key does not cover the model of every
    item; the message names the key's scope and ``what`` was refused (by default each
    offending item by its position)."""
    key = request.auth
    if not isinstance(key, UserAPIKey) or key.all_models:
        return
    outside = [
        {"index": index, "errors": {"model": f"Model {slug} is outside this key's scope."}}
        for index, slug in enumerate(slugs)
        if slug is not None and not key.covers(slug)
    ]
    if outside:
        what = what or "the model of item " + ", ".join(str(o["index"]) for o in outside)
        raise KeyScopeRefused(
            {
                "detail": f"This API key's scope ({key.scope_text()}) does not cover {what}; "
                "nothing was stored.",
                "errors": outside,
            }
        )


def scoped_to_key(queryset: QuerySet, request, path: str = "slug") -> QuerySet:
    """Only the rows of the models in the request's key's scope (all of them without a key)."""
    key = request.auth
    if not isinstance(key, UserAPIKey) or key.all_models:
        return queryset
    return queryset.filter(**{f"{path}__in": key.model_slugs})


def readable(queryset: QuerySet, request, path: str = "version__model") -> QuerySet:
    """The rows the request's user may read (:func:`compliance.roles.scope_reads`), with the
    request's API key if it came with one."""
    return scope_reads(queryset, request.user, api_key(request), path)


def api_key(request) -> UserAPIKey | None:
    """The API key the request came with (None for a session)."""
    return request.auth if isinstance(request.auth, UserAPIKey) else None


class KeyScopeRefused(PermissionDenied):
    """403 with a body that names each item outside the key's scope by its index."""

    def __init__(self, body: dict):
        super().__init__(body["detail"])
        self.body = body
