"""Canonical JSON (RFC 8785, JCS), strict JSON parsing and unpadded base64url.

Everything Fedlink signs or hashes — envelope fields, approved terms — goes through
:func:`canonical_json`, so the bytes depend only on the *value*, never on key order,
whitespace or how a library formats numbers. Two parties that hold equal values therefore
compute equal signatures and digests.

Numbers. JCS serialises every number the way ECMAScript does, so:

* integers must lie inside ±(2**53 - 1) (I-JSON); anything larger has no canonical form;
* floats are allowed only as JCS defines them: finite IEEE-754 doubles, written in their
  shortest round-trip form (``1.0`` becomes ``1``, ``1e21`` stays ``1e+21``); NaN and the
  infinities are refused.

Signed bodies should therefore prefer strings and integers: a float that is computed
differently on two machines would sign differently, and ``1.0``/``1`` are indistinguishable.

:func:`parse_json` is the matching strict reader for bytes received from the network: UTF-8
only, no duplicate object keys, no NaN/Infinity, bounded nesting. Anything else is a
:class:`ValueError`, which the callers turn into their own typed error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any, Final, cast

import rfc8785

from protocol.errors import CanonicalJSONError

#: Deepest nesting (objects and arrays) :func:`parse_json` accepts by default. Fedlink's
#: messages are at most five levels deep; the bound stops hostile input from exhausting the
#: stack or the CPU before a signature is even checked.
DEFAULT_MAX_DEPTH: Final = 32

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def canonical_json(obj: object) -> bytes:
    """The RFC 8785 canonical UTF-8 encoding of a JSON value.

    ``obj`` is built from ``dict`` (string keys), ``list``/``tuple``, ``str``, ``int``,
    finite ``float``, ``bool`` and ``None``. Raises :class:`CanonicalJSONError` for anything
    else: NaN or infinities, integers beyond ±(2**53 - 1), non-string keys, bytes, lone
    surrogates, or other Python objects (convert pydantic models with
    ``model_dump(mode="json")`` first).
    """
    try:
        # rfc8785 checks every value's type itself; the cast only widens what callers pass.
        return rfc8785.dumps(cast(Any, obj))
    except (ValueError, TypeError, RecursionError) as exc:
        # rfc8785 signals its domain errors as ValueError subclasses; a lone surrogate in a
        # key escapes as UnicodeEncodeError (also a ValueError).
        raise CanonicalJSONError(f"value has no canonical JSON form: {exc}") from None


def json_depth(value: object) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0, ``{}`` and ``[]`` are 1).

    Iterative, so a hostile value cannot exhaust the interpreter's stack here.
    """
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # With duplicate keys, two JSON parsers can disagree on which value counts (first or
    # last wins); refusing them closes that parser-differential door entirely.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate object key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(data: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse untrusted JSON strictly; raises :class:`ValueError` with a short reason.

    Refuses: bytes that are not UTF-8 (``json.loads`` would also guess UTF-16/32), a byte
    order mark, duplicate object keys, ``NaN``/``Infinity``, and nesting deeper than
    ``max_depth``.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("not UTF-8") from None
    else:
        text = data
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc.msg} at offset {exc.pos}") from None
    if json_depth(value) > max_depth:
        raise ValueError(f"nested deeper than {max_depth} levels")
    return value


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), the only base64 Fedlink puts on the wire."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url strictly; raises :class:`ValueError`.

    Padding, whitespace, the standard alphabet's ``+``/``/`` and non-canonical encodings
    (non-zero trailing bits) are refused, so every byte string has exactly one accepted
    spelling.
    """
    if not isinstance(text, str) or _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except binascii.Error:
        raise ValueError("not unpadded base64url") from None
    if b64url_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data
