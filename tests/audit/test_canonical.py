"""The fast canonical JSON writer gives exactly the bytes of the RFC 8785 reference."""

from __future__ import annotations

import math
import random

import pytest
import rfc8785

from audit.canonical import NotCanonicalisable, canonical_json

EDGE_FLOATS = [0.0, -0.0, 1.0, -1.0, 0.1, 1e-4, 9.99e-5, 1e-7, 1e15, 9.999999999999998e15,
               1e16, 1e21, 1e22, 2.0**53, 2.0**53 + 2, -(2.0**60), 5e-324, 1.7976931348623157e308,
               123456.789, 0.30000000000000004, 1 / 3]  # fmt: skip
EDGE_STRINGS = ["", "plain", "é ü ß", "\u2028\u2029", "tab\there", "\x00\x01\x1f\x7f", '"\\/',
                "\U0001f600 emoji", "\ue000 private", "\ufeff bom", "line\nbreak"]  # fmt: skip


def random_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return rng.choice([
            rng.choice(EDGE_FLOATS),
            rng.uniform(-1e6, 1e6),
            rng.random() * 10 ** rng.randint(-12, 25),
            rng.randint(-(2**53 - 1), 2**53 - 1),
            rng.choice(EDGE_STRINGS),
            "".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(0, 6))),
            True, False, None,
        ])  # fmt: skip
    if roll < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = EDGE_STRINGS + ["\U0001f600", "\uffff", "a", "B", "\u00e9"]
    return {rng.choice(keys) + str(rng.randint(0, 9)): random_value(rng, depth + 1)
            for _ in range(rng.randint(0, 5))}  # fmt: skip


def test_random_values_are_written_exactly_as_the_reference_writes_them():
    rng = random.Random(8785)
    for _ in range(20_000):
        value = random_value(rng)
        assert canonical_json(value) == rfc8785.dumps(value), value


@pytest.mark.parametrize("value", EDGE_FLOATS + EDGE_STRINGS)
def test_edge_cases_match_the_reference(value):
    assert canonical_json({"v": value, "w": [value]}) == rfc8785.dumps({"v": value, "w": [value]})


def test_keys_sort_by_utf16_code_units_as_rfc_8785_requires():
    value = {"\U0001f600": 1, "\uffff": 2, "a": 3}
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\uffff".encode()) > canonical_json(value).index(
        "\U0001f600".encode()
    )


@pytest.mark.parametrize("value", [math.nan, math.inf, {"x": -math.inf}, 2**60, {1: "a"}])
def test_what_json_cannot_say_is_refused(value):
    with pytest.raises(NotCanonicalisable):
        canonical_json(value)


def test_choices_are_written_as_their_strings_on_the_fast_path():
    """Entry kinds and states are TextChoices members (str subclasses): the reference writes
    their characters, and so does the fast path, rather than falling back for every entry."""
    import enum

    from audit.canonical import _prepared
    from audit.models import EntryKind

    Plain = enum.Enum("Plain", {"A": "a-value"}, type=str)
    value = {"kind": EntryKind.EVENT, "states": [Plain.A, "x"]}
    expected = b'{"kind":"event","states":["a-value","x"]}'
    assert canonical_json(value) == rfc8785.dumps(value) == expected
    assert type(_prepared(value)["kind"]) is str


def test_a_payload_built_from_prepared_parts_is_written_as_the_reference_writes_it():
    """Ingest prepares each request once and builds the entry's payload from its parts: the
    parts are not walked again, and the bytes are the reference's for the original values."""
    from audit.canonical import prepare

    rng = random.Random(6962)
    for _ in range(5_000):
        value = {"a": random_value(rng), "b": [random_value(rng)], "c": {"d": random_value(rng)}}
        ready = prepare(value)
        expected = rfc8785.dumps({"kind": "x", "parts": value, "c": value["c"]})
        if ready is None:  # off the fast path: the reference writes it (or refuses it)
            continue
        assert canonical_json(ready) == rfc8785.dumps(value)
        assert canonical_json({"kind": "x", "parts": ready, "c": ready["c"]}) == expected
