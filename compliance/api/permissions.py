"""Role permissions for the API: the same Django permissions the admin checks."""

from __future__ import annotations

from rest_framework.permissions import DjangoModelPermissions


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
