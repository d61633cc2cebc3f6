"""History is evidence, never an editing tool: every admin with a history uses ``HistoryAdmin``.

django-simple-history's per-record history page (``<pk>/history/<history_id>/``) is a form
that saves on POST for anyone who may *view* the record, and its ``SIMPLE_HISTORY_REVERT_DISABLED``
setting only hides the button (3.x). So here the history list and each past state stay
readable, shown read-only, and every write to a history page is refused (403), superusers
included. Changes go through the record's own change page or workflow steps, held to their rules.
"""

from __future__ import annotations

from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

READING = ("GET", "HEAD", "OPTIONS")


class HistoryAdmin(SimpleHistoryAdmin):
    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in READING:
            raise PermissionDenied("History is evidence: a history page changes nothing.")
        return super().history_form_view(request, object_id, version_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        """A past state is shown as text, every field read-only, never as inputs."""
        admin_form = context.get("adminform")
        if admin_form is not None:
            fieldsets = list(admin_form.fieldsets)
            context["adminform"] = helpers.AdminForm(
                admin_form.form,
                fieldsets,
                {},
                readonly_fields=flatten_fieldsets(fieldsets),
                model_admin=self,
            )
        return super().render_history_view(request, template, context, **kwargs)
