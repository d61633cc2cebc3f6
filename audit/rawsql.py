"""Hand-written SQL for the ledger's hot paths (ingest and the sequencer), without the ORM.

Building a query costs the ORM more than running it: about a millisecond of CPU for a
select_related lookup, and for ``bulk_create`` of 1,000 predictions more than all the rest of
ingest together (it prepares every field of every row in Python and sends an INSERT of 12,000
parameters that psycopg has to split).

``insert``: rows are tuples in column order holding the values a model instance would hold.
On PostgreSQL they go through ``COPY ... FROM STDIN`` (psycopg adapts the Python values in C),
ids drawn beforehand from the table's sequence, or for a few rows through one
``INSERT ... RETURNING``; on SQLite, the embedded default, through ``executemany`` with
Django's own field preparation, ids read back after the insert (SQLite has one writer, so one
statement's AUTOINCREMENT ids are consecutive). Only INSERT: the append-only triggers and the
application role's privileges apply as to any other insert. Ledger entries must be written
inside a transaction holding the ledger write lock (``audit.models.hold_ledger_write_lock``),
before their ids are drawn.

``instance``: a model instance from some of its columns as a hand-written SELECT returned
them, converted as the ORM converts them; the other fields are deferred (read on first use).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def insert(
    model: type[models.Model], columns: Sequence[str], rows: Sequence[tuple], *, ids: bool = False
) -> list[int]:
    """Insert ``rows`` (values for the fields named ``columns``, by attname) into ``model``'s
    table; with ``ids=True`` return the new rows' auto primary keys, in row order."""
    if not rows:
        return []
    fields = [model._meta.get_field(name) for name in columns]
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        return _copy(table, fields, rows, ids)
    return _executemany(table, fields, rows, ids)


def _copy(table: str, fields: list, rows: Sequence[tuple], ids: bool) -> list[int]:
    json_columns = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    if json_columns:
        rows = [_json_dumped(row, json_columns, fields) for row in rows]
    names = [f.column for f in fields]
    if len(rows) <= FEW:
        return _insert_returning(table, names, rows, ids)
    with connection.cursor() as cursor:
        new_ids: list[int] = []
        if ids:
            cursor.execute(
                "SELECT nextval(%s) FROM generate_series(1, %s)", [_sequence(table), len(rows)]
            )
            new_ids = [pk for (pk,) in cursor.fetchall()]
            names = ["id", *names]
            rows = [(pk, *row) for pk, row in zip(new_ids, rows, strict=True)]
        statement = "COPY {} ({}) FROM STDIN".format(
            connection.ops.quote_name(table), ", ".join(map(connection.ops.quote_name, names))
        )
        # psycopg's own cursor: its errors become Django's (IntegrityError …) as for execute().
        with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    return new_ids


# Up to this many rows one INSERT ... RETURNING (one round trip) beats nextval and COPY (three).
FEW = 10


def _insert_returning(table: str, names: list[str], rows: Sequence[tuple], ids: bool) -> list[int]:
    quote = connection.ops.quote_name
    values = "({})".format(", ".join(["%s"] * len(names)))
    statement = "INSERT INTO {} ({}) VALUES {}{}".format(
        quote(table),
        ", ".join(map(quote, names)),
        ", ".join([values] * len(rows)),
        " RETURNING id" if ids else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [value for row in rows for value in row])
        return [pk for (pk,) in cursor.fetchall()] if ids else []


def _json_dumped(row: tuple, positions: list[int], fields: list) -> tuple:
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = json.dumps(values[i], cls=fields[i].encoder)
    return tuple(values)


@functools.cache
def _sequence(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        return cursor.fetchone()[0]


def _executemany(table: str, fields: list, rows: Sequence[tuple], ids: bool) -> list[int]:
    quote = connection.ops.quote_name
    statement = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    prepared: list[list[Any]] = [
        [f.get_db_prep_save(value, connection) for f, value in zip(fields, row, strict=True)]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, prepared)
        if not ids:
            return []
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
    return list(range(last - len(rows) + 1, last + 1))


def instance(model: type[models.Model], names: Sequence[str], values: Sequence[Any]):
    """``model`` from the database values of the fields named (by attname) in ``names``."""
    table = model._meta.db_table
    row = {}
    for name, value in zip(names, values, strict=True):
        field = model._meta.get_field(name)
        column = field.get_col(table)
        for convert in connection.ops.get_db_converters(column) + field.get_db_converters(
            connection
        ):
            value = convert(value, column, connection)
        row[field.attname] = value
    loaded = [f.attname for f in model._meta.concrete_fields if f.attname in row]
    return model.from_db(connection.alias, loaded, [row[name] for name in loaded])
