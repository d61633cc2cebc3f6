"""schemathesis hooks: besides what the schema allows, send what hostile clients send.

The schema says "a string", "an object"; schemathesis then sends strings and objects that
PostgreSQL, the canonicaliser and Python's recursion all take. These hooks put into a quarter
of the generated bodies, query strings and path parameters the values that were 500s (issue
16, hole 10): a NUL character, a lone surrogate (in a value and in a key), integers beyond
±2**53 and nesting far deeper than the API's parser allows. Every answer must still be
documented and never a 500. Loaded by ``.ci/fuzz.py`` through ``SCHEMATHESIS_HOOKS``.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import strategies as st

NUL = "ò\x00…"
SURROGATE = "\ud800"
VALUES = [NUL, SURROGATE, 2**64, -(2**53) - 1, 2**53 + 1]
DEEP: Any = []
for _ in range(300):  # the parser refuses beyond 64; json.dumps itself recurses near 1,000
    DEEP = [DEEP]
HOSTILE_VALUE = st.sampled_from([*VALUES, DEEP])
HOSTILE_TEXT = st.sampled_from([NUL, SURROGATE, "a\x00b"])


def _places(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON value: the paths of its containers' members."""
    if isinstance(value, dict):
        members = value.items()
    elif isinstance(value, list):
        members = enumerate(value)
    else:
        return []
    places = []
    for key, item in members:
        places.append((*path, key))
        places.extend(_places(item, (*path, key)))
    return places


def _put(value: Any, path: tuple, hostile: Any) -> Any:
    if not path:
        return hostile
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _put(value[head], rest, hostile)}
    copy = list(value)
    copy[head] = _put(value[head], rest, hostile)
    return copy


@st.composite
def _hostile_body(draw, body: Any) -> Any:
    places = _places(body)
    kind = draw(st.sampled_from(["value", "key"] if isinstance(body, dict) else ["value"]))
    if kind == "key":
        return {**body, draw(HOSTILE_TEXT): 1}
    if not places:
        return draw(HOSTILE_VALUE)
    return _put(body, draw(st.sampled_from(places)), draw(HOSTILE_VALUE))


def _takes_json(operation) -> bool:
    """Whether the operation's body is JSON (a multipart upload cannot even carry a lone
    surrogate: the client fails to encode it before sending)."""
    if operation is None:
        return False
    return "application/json" in operation.schema.get_request_payload_content_types(operation)


@schemathesis.hook
def flatmap_body(context, body):
    if not isinstance(body, dict | list) or not _takes_json(context.operation):
        return st.just(body)
    return st.one_of(st.just(body), st.just(body), st.just(body), _hostile_body(body))


def _hostile_strings(values: dict[str, Any] | None):
    strings = [name for name, value in (values or {}).items() if isinstance(value, str)]
    if not strings:
        return st.just(values)
    hostile = st.builds(
        lambda name, text: {**values, name: text},
        st.sampled_from(strings),
        HOSTILE_TEXT.filter(lambda text: "\x00" in text),  # a URL carries no surrogate
    )
    return st.one_of(st.just(values), st.just(values), st.just(values), hostile)


@schemathesis.hook
def flatmap_query(context, query):
    return _hostile_strings(query)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    return _hostile_strings(path_parameters)
