"""Every change to the governance records becomes a ledger event, whoever made it and how.

django-simple-history already records each change to the inventory (admin, API, workflow or
shell) with its user; this turns each historical record into a governance event with the
fields that changed, before and after: every field the history tracks, the ones only the
workflow sets (a version's state, its approval's expiry) included, but the save time. These
events are what the verifiers replay to check the tables' current rows (``audit.state``).
"""

from __future__ import annotations

from django.db import models

from .ledger import record_event
from .state import history_fields
from .state import jsonable as _jsonable

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def record_history(sender, history_instance, **kwargs) -> None:
    instance = history_instance.instance
    action = ACTIONS.get(history_instance.history_type, "changed")
    previous = history_instance.prev_record
    before, after = {}, {}
    if previous is None:
        after = {
            f.attname: getattr(history_instance, f.attname)
            for f in instance._meta.concrete_fields
            if hasattr(history_instance, f.attname)
        }
    else:
        fields, m2m = history_fields(type(instance))
        for f in fields:  # diff_against() would skip the fields only the workflow sets
            old, new = getattr(previous, f.attname), getattr(history_instance, f.attname)
            if old != new:
                before[f.name], after[f.name] = old, new
        if m2m:
            for change in history_instance.diff_against(previous, included_fields=m2m).changes:
                before[change.field], after[change.field] = change.old, change.new
        if not before and action == "changed":
            return  # saved without a change
    model = (
        instance
        if instance._meta.label == "compliance.AIModel"
        else getattr(instance, "model", None)
    )
    record_event(
        f"{instance._meta.model_name}.{action}",
        actor=history_instance.history_user,
        obj=instance,
        model=model if isinstance(model, models.Model) else None,
        before=_jsonable(before) or None,
        after=_jsonable(after) or None,
        reason=history_instance.history_change_reason or "",
    )
