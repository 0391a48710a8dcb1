"""RFC 8785 canonical JSON, the strict JSON reader and unpadded base64url."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.canonical import (
    b64url_decode,
    b64url_encode,
    canonical_json,
    json_depth,
    parse_json,
)
from protocol.errors import CanonicalJSONError, EncodingError

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(max_size=8)
)
_json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


def _shuffled(value: object, rng: random.Random) -> object:
    """The same JSON value with every object's keys inserted in a random order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: _shuffled(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_shuffled(item, rng) for item in value]
    return value


def test_canonical_json_key_order_independent() -> None:
    a = {"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": None}}
    b = {"a": {"x": None, "y": [1, {"c": 3, "d": 2}]}, "b": 1}
    assert (
        canonical_json(a) == canonical_json(b) == (b'{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}')
    )


@settings(max_examples=60, deadline=None)
@given(_json_values, st.integers(min_value=0, max_value=2**32))
def test_canonical_json_any_key_order_gives_same_bytes(value: object, seed: int) -> None:
    assert canonical_json(_shuffled(value, random.Random(seed))) == canonical_json(value)


@settings(max_examples=60, deadline=None)
@given(_json_values)
def test_canonical_json_parses_back_to_the_same_value(value: object) -> None:
    assert parse_json(canonical_json(value)) == value


def test_canonical_json_rfc8785_number_vector() -> None:
    # RFC 8785 §3.2.2's example numbers, serialised the ECMAScript way.
    value = {"numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001]}
    assert canonical_json(value) == b'{"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'


def test_canonical_json_float_with_integral_value_is_an_integer() -> None:
    assert canonical_json({"n": 1.0}) == canonical_json({"n": 1}) == b'{"n":1}'


def test_canonical_json_writes_utf8_not_escapes() -> None:
    assert canonical_json({"name": "Zoë"}) == '{"name":"Zoë"}'.encode()


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        2**53,
        -(2**53),
        b"bytes",
        {1: "non-string key"},
        {"k": object()},
        {"k": "\ud800"},
        {"\ud800": 1},
    ],
    ids=[
        "nan",
        "infinity",
        "int-too-big",
        "int-too-small",
        "bytes",
        "int-key",
        "object",
        "lone-surrogate",
        "lone-surrogate-key",
    ],
)
def test_canonical_json_refuses_values_without_canonical_form(value: object) -> None:
    with pytest.raises(CanonicalJSONError) as info:
        canonical_json(value)
    assert isinstance(info.value, EncodingError)
    assert info.value.reason == "not_canonical_json"


def test_parse_json_accepts_plain_object() -> None:
    assert parse_json(b'{"a": [1, "x", null, true]}') == {"a": [1, "x", None, True]}


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'{"a": 1, "a": 2}', "duplicate"),
        (b'{"a": NaN}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b'{"a": -Infinity}', "Infinity"),
        (b'{"a": "\xff"}', "UTF-8"),
        ('{"a": 1}'.encode("utf-16"), "UTF-8"),
        (b'\xef\xbb\xbf{"a": 1}', "JSON"),
        (b'{"a": 1', "JSON"),
        (b"", "JSON"),
    ],
)
def test_parse_json_refuses(data: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_json(data)


def test_parse_json_refuses_nesting_past_the_limit() -> None:
    assert parse_json("[" * 3 + "]" * 3, max_depth=3) == [[[]]]
    with pytest.raises(ValueError, match="deeper"):
        parse_json("[" * 4 + "]" * 4, max_depth=3)


def test_parse_json_hostile_nesting_is_a_value_error_not_a_crash() -> None:
    with pytest.raises(ValueError, match="deep"):
        parse_json("[" * 200_000 + "]" * 200_000)


def test_json_depth() -> None:
    assert json_depth(1) == 0
    assert json_depth({}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff\xfe", bytes(range(256))])
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert b64url_decode(text) == data


@pytest.mark.parametrize(
    "text",
    ["AA==", "A+8", "A/8", "AA AA", "A", "AB", "AAAAA", "ÅA", "AA\n"],
    ids=[
        "padding",
        "plus",
        "slash",
        "space",
        "one-char",
        "non-canonical-bits",
        "len-mod-4-is-1",
        "non-ascii",
        "newline",
    ],
)
def test_b64url_decode_refuses_non_canonical_text(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_parse_json_matches_stdlib_on_ordinary_input() -> None:
    text = '{"x": [1, 2.5, "s", {"y": false}]}'
    assert parse_json(text) == json.loads(text)
