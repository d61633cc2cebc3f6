"""The API reads JSON only (any other body is a 415), and strict JSON at that.

Strict means: UTF-8, no NaN or Infinity, nesting at most ``MAX_DEPTH`` levels, and no value
that the ledger or the database cannot keep faithfully (integers beyond ±2**53, lone
surrogates, NUL characters; :func:`audit.canonical.refusals`). Each is refused with a 400 that
names where, before any view sees the body: one place for every endpoint, instead of a
``RecursionError``, a canonicalisation error or PostgreSQL's ``DataError`` wherever the value
happened to land. A list body is a batch, so its refusal names each bad item by index, as
ingest's own refusals do (the Python client isolates refused items by that index).
"""

from __future__ import annotations

import json
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from audit.canonical import path_text, refusals

# Deep enough for any schema or configuration; far below where Python's recursion ends.
MAX_DEPTH = 64

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_INNERMOST = re.compile(rb"\[\]|\{\}")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
# What may hold a refused value: in a string, a NUL or surrogate escape; outside strings, an
# integer of 16 digits or more (2**53 has 16) or a three-digit exponent (beyond the doubles).
# Bodies with neither (nearly all) are not walked at all.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_NUMBER_SHAPES = bytes.maketrans(b"123456789E", b"000000000e")
_SUSPECT_NUMBERS = (b"0" * 16, b"e000", b"e+000")


class UnstorableBody(ParseError):
    """A body refused for what it holds; ``body`` is the answer (kept as built: DRF would
    turn a batch's item indexes into strings)."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["detail"])
        self.body = body


class StrictJSONParser(BaseParser):
    """JSON the ledger and both databases can keep as it was sent; anything else is a 400."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        def refuse(constant: str):
            raise ParseError(f"{constant} is not a JSON number.")

        body = stream.read()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not UTF-8 text: {exc}") from exc
        outside = _outside_strings(body)
        _check_depth(outside, text)
        try:
            data = json.loads(text, parse_constant=refuse)
        except (ValueError, RecursionError) as exc:  # nested, if not too deep, but not JSON
            raise ParseError(f"The body is not JSON: {exc}") from exc
        shapes = outside.translate(_NUMBER_SHAPES)
        if _SUSPECT_ESCAPE.search(body) or any(shape in shapes for shape in _SUSPECT_NUMBERS):
            _check_values(data)
        return data


def _outside_strings(body: bytes) -> bytes:
    """``body`` without its strings: split at quotes, unless a quote is escaped somewhere
    (then a regular expression cuts the strings out)."""
    if b'\\"' in body:
        return _STRING.sub(b"", body)
    return b"".join(body.split(b'"')[::2])


def _check_depth(outside: bytes, text: str) -> None:
    """Refuse nesting deeper than ``MAX_DEPTH`` before the parser recurses into it.

    The brackets outside strings are emptied one level per pass, all in C: a few
    milliseconds for a batch of 1,000 predictions. Only a body still nested after
    ``MAX_DEPTH`` passes is read token by token, to name where.
    """
    brackets = outside.translate(None, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        if not brackets:
            return
        emptied = _INNERMOST.sub(b"", brackets)
        if emptied == brackets:
            return  # not JSON: json.loads says why
        brackets = emptied
    if not _INNERMOST.search(brackets):
        return
    too_deep: dict[tuple, tuple] = {}  # item (index, or () for an object body) -> path
    stack: list[list] = []  # per open container: [kind, key or index]
    for token in _TOKEN.finditer(text):
        mark = token.group()
        if mark in "[{":
            stack.append([mark, 0 if mark == "[" else None])
            if len(stack) > MAX_DEPTH:
                path = tuple(part for _, part in stack[:-1] if part is not None)
                item, field = _item_and_field(path, stack[0][0] == "[")
                too_deep.setdefault(item, field)
        elif mark in "]}":
            if stack:
                stack.pop()
        elif mark == ",":
            if stack and stack[-1][0] == "[":
                stack[-1][1] += 1
            elif stack:
                stack[-1][1] = None
        elif stack and stack[-1][0] == "{" and stack[-1][1] is None:
            try:
                stack[-1][1] = json.loads(mark)  # the key of what follows
            except ValueError:
                stack[-1][1] = "?"
    if too_deep:
        raise _refusal(
            {item: {_shown(field): f"Nested deeper than {MAX_DEPTH} levels."}}
            for item, field in too_deep.items()
        )


def _check_values(data: Any) -> None:
    """Refuse what the ledger or the database cannot keep, naming every place (per item)."""
    batch = isinstance(data, list)
    found: dict[tuple, dict[str, str]] = {}
    for path, reason in refusals(data, nul=True):
        item, field = _item_and_field(path, batch)
        found.setdefault(item, {}).setdefault(_shown(field), f"Refused: {reason}.")
    if found:
        raise _refusal({item: fields} for item, fields in found.items())


def _item_and_field(path: tuple, batch: bool) -> tuple[tuple, tuple]:
    """A path in the body as (the item: its index in a batch, else nothing; the path in it)."""
    if batch and path:
        return path[:1], path[1:]
    return (), path


def _shown(field: tuple) -> str:
    """A field's path as text, at most four steps deep (a deep one ends in "…")."""
    return path_text(field[:4]) + ("…" if len(field) > 4 else "") if field else "(item)"


def _refusal(entries) -> UnstorableBody:
    """The 400: for an object body ``detail`` and each field's messages, as the serializers'
    refusals have; for a batch ``detail`` and ``errors``, a list of ``{"index", "errors"}`` as
    ingest's refusals have."""
    merged: dict[tuple, dict[str, str]] = {}
    for entry in entries:
        for item, fields in entry.items():
            merged.setdefault(item, {}).update(fields)
    if list(merged) == [()]:
        fields = merged[()]
        return UnstorableBody(
            {
                "detail": f"The body holds what cannot be stored faithfully: {', '.join(fields)}.",
                **{name: [message] for name, message in fields.items()},
            }
        )
    items = sorted(merged)
    return UnstorableBody(
        {
            "detail": f"{len(items)} items hold what cannot be stored faithfully.",
            "errors": [{"index": item[0], "errors": merged[item]} for item in items],
        }
    )
