"""The mutable governance tables the ledger vouches for: a registry the application fills in.

The ledger app names no table of the application's: ``compliance`` registers its tables in its
``AppConfig.ready`` (``register_history`` for a table whose changes django-simple-history turns
into ledger events, ``register`` for one whose workflow writes its own events), and the
exporter writes each registered table with its rule, which both verifiers replay
(``audit.projections.StateRule``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from .projections import StateRule


@dataclass(frozen=True)
class Registered:
    model: type[models.Model]
    rule: StateRule
    row: Callable[[models.Model], dict[str, Any]]  # the audited fields, as events write them


_registered: dict[str, Registered] = {}


def jsonable(value: Any) -> Any:
    """A field's value as a governance event holds it (datetimes to the millisecond)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def register(model: type[models.Model], rule: StateRule, row) -> None:
    _registered[rule.table] = Registered(model, rule, row)


def registered() -> list[Registered]:
    return list(_registered.values())


def history_fields(model: type[models.Model]) -> tuple[list[models.Field], list[str]]:
    """The fields whose changes ``audit.signals.record_history`` records for ``model``: every
    field the history tracks but the save time (``auto_now``), and its many-to-many fields."""
    tracked = {f.name for f in model.history.model._meta.fields}
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.name in tracked and not getattr(f, "auto_now", False)
    ]
    m2m = [f.name for f in getattr(model.history.model, "_history_m2m_fields", [])]
    return fields, m2m


def register_history(model: type[models.Model]) -> None:
    """Register a table whose every change is an ``<model name>.created|changed|deleted``
    event (django-simple-history and ``audit.signals``)."""
    fields, m2m = history_fields(model)
    name = model._meta.model_name

    def row(obj: models.Model) -> dict[str, Any]:
        values = {f.name: jsonable(getattr(obj, f.attname)) for f in fields}
        for relation in m2m:
            values[relation] = jsonable(_m2m_rows(obj, relation))
        return values

    rule = StateRule(
        table=model._meta.db_table,
        object_type=model._meta.label,
        fields=(*(f.name for f in fields), *m2m),
        events={
            f"{name}.created": "after",
            f"{name}.changed": "after",
            f"{name}.deleted": "deleted",
        },
        defaults={relation: [] for relation in m2m},
        aliases={f.attname: f.name for f in fields if f.attname != f.name},
    )
    register(model, rule, row)


def _m2m_rows(obj: models.Model, relation: str) -> list[dict[str, Any]]:
    """The rows of a many-to-many relation as django-simple-history's diffs list them."""
    through = getattr(obj, relation).through
    own = next(f for f in through._meta.fields if f.related_model is type(obj))
    other = next(
        f for f in through._meta.fields if f.is_relation and f is not own and f.name != "id"
    )
    rows = through.objects.filter(**{own.name: obj}).values_list(other.attname, flat=True)
    return [{own.name: obj.pk, other.name: pk} for pk in sorted(rows)]
