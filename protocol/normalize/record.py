"""One raw row → one :class:`~protocol.identity.NormalizedIdentity`."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Callable, Mapping
from typing import Final

from protocol.identity import IDENTITY_FIELDS, MissingReason, NormalizedIdentity
from protocol.normalize.address import _city_from_text, normalize_city, street_address_value
from protocol.normalize.dates import _build as _build_date
from protocol.normalize.dates import _dob_from_text, normalize_dob
from protocol.normalize.formal_names import _canonical_table
from protocol.normalize.names import (
    _given_from_text,
    _suffix_from_text,
    _surname_from_text,
    normalize_given_name,
    normalize_suffix,
    normalize_surname,
)
from protocol.normalize.postal import _PLUS4, _postal_from_text, normalize_postal_code
from protocol.normalize.result import DEFAULT_OPTIONS, NormalizationOptions
from protocol.normalize.sex import _sex_from_text, normalize_sex
from protocol.normalize.ssn import ssn_value
from protocol.normalize.text import MAX_RAW_CHARS, _fold_char

_ABSENT = MissingReason.ABSENT


def normalize_identity(
    raw: Mapping[str, object], options: NormalizationOptions = DEFAULT_OPTIONS
) -> NormalizedIdentity:
    """Normalise one row keyed by the canonical identity field names.

    A key that is not there is an absent field; keys that are not identity fields are
    ignored. Every identity field that ends up ``None`` has its reason in ``problems``
    (``ABSENT`` included, so data-quality profiles can count completeness from
    ``problems`` alone). ``name_suffix`` comes from the ``name_suffix`` field when that
    holds a valid suffix, else from a suffix written inside the surname (``SMITH JR``).
    Never raises for any field value.
    """
    # Written out rather than looped, and each field normaliser's fast path inlined: this
    # runs once per record of a million-row load. A plain string of at most MAX_RAW_CHARS
    # goes straight to the field's cache (keyed by the raw text, exactly as the public
    # ``normalize_*`` function does); anything else takes the public function. ``problems``
    # is filled in field order (it is serialised in that order).
    get = raw.get
    problems: dict[str, MissingReason] = {}

    value = get("first_name")
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        first = _given_from_text(value)
    else:
        first = normalize_given_name(value)
    first_name = first.value
    if first.reason is not None:
        problems["first_name"] = first.reason

    value = get("middle_name")
    if value is None:
        middle_name = None
        problems["middle_name"] = _ABSENT
    else:
        if type(value) is str and len(value) <= MAX_RAW_CHARS:
            middle = _given_from_text(value)
        else:
            middle = normalize_given_name(value)
        middle_name = middle.value
        if middle.reason is not None:
            problems["middle_name"] = middle.reason

    value = get("last_name")
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        surname = _surname_from_text(value)
    else:
        surname = normalize_surname(value)
    if surname.value is not None:
        last_name, last_name_parts, embedded_suffix = surname.value
    else:
        last_name, last_name_parts, embedded_suffix = None, (), None
        problems["last_name"] = surname.reason or _ABSENT

    value = get("name_suffix")
    if value is None:
        suffix_value = embedded_suffix
        if suffix_value is None:
            problems["name_suffix"] = _ABSENT
    else:
        if type(value) is str and len(value) <= MAX_RAW_CHARS:
            suffix = _suffix_from_text(value)
        else:
            suffix = normalize_suffix(value)
        suffix_value = suffix.value or embedded_suffix
        if suffix_value is None and suffix.reason is not None:
            problems["name_suffix"] = suffix.reason

    value = get("dob")
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        dob = _dob_from_text(value, options.date_order, options.reference_date())
    else:
        dob = normalize_dob(value, options)
    if dob.reason is not None:
        problems["dob"] = dob.reason

    value = get("sex")
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        sex = _sex_from_text(value)
    else:
        sex = normalize_sex(value)
    if sex.reason is not None:
        problems["sex"] = sex.reason

    # Not cached (unique per person): the bare value or the reason, no result object.
    ssn_result = ssn_value(get("ssn"))
    ssn: str | None = ssn_result
    if type(ssn_result) is MissingReason:
        problems["ssn"] = ssn_result
        ssn = None

    value = get("postal_code")
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        fmt = options.postal_code_format
        if fmt == "us" and len(value) > 5:
            # ZIP+4 values are nearly unique; key the cache on the ZIP they reduce to.
            plus4 = _PLUS4.fullmatch(value)
            if plus4:
                value = plus4[1]
        postal_code = _postal_from_text(value, fmt)
    else:
        postal_code = normalize_postal_code(value, options)
    if postal_code.reason is not None:
        problems["postal_code"] = postal_code.reason

    address_result = street_address_value(get("street_address"))
    street_address: str | None = address_result
    if type(address_result) is MissingReason:
        problems["street_address"] = address_result
        street_address = None

    value = get("city")
    if type(value) is str and len(value) <= MAX_RAW_CHARS:
        city = _city_from_text(value)
    else:
        city = normalize_city(value)
    if city.reason is not None:
        problems["city"] = city.reason

    # canonicals_of_normalized, inlined: a dict lookup in the nickname table.
    first_name_canonical = _canonical_table().get(first_name, ()) if first_name else ()
    dob_value = dob.value
    sex_value = sex.value
    postal_code_value = postal_code.value
    city_value = city.value
    if _FAST_BUILD:
        # The dataclass __init__ with thirteen keyword arguments costs several times
        # more than filling the slots directly (see _fast_build_ok for the guard).
        identity = _new(NormalizedIdentity)
        _set_first_name(identity, first_name)
        _set_middle_name(identity, middle_name)
        _set_last_name(identity, last_name)
        _set_name_suffix(identity, suffix_value)
        _set_dob(identity, dob_value)
        _set_sex(identity, sex_value)
        _set_ssn(identity, ssn)
        _set_postal_code(identity, postal_code_value)
        _set_street_address(identity, street_address)
        _set_city(identity, city_value)
        _set_first_name_canonical(identity, first_name_canonical)
        _set_last_name_parts(identity, last_name_parts)
        _set_problems(identity, problems)
        return identity
    return NormalizedIdentity(
        first_name=first_name,
        middle_name=middle_name,
        last_name=last_name,
        name_suffix=suffix_value,
        dob=dob_value,
        sex=sex_value,
        ssn=ssn,
        postal_code=postal_code_value,
        street_address=street_address,
        city=city_value,
        first_name_canonical=first_name_canonical,
        last_name_parts=last_name_parts,
        problems=problems,
    )


# Every field of NormalizedIdentity, in declaration order: normalize_identity sets each.
_BUILT_FIELDS: Final = (*IDENTITY_FIELDS, "first_name_canonical", "last_name_parts", "problems")


def _fast_build_ok() -> bool:
    """Whether filling the slots of a bare ``NormalizedIdentity`` is exactly what its
    ``__init__`` does: a frozen slots dataclass whose fields are exactly
    :data:`_BUILT_FIELDS`, with no ``__post_init__`` and no ``__init__`` of its own.
    Otherwise (the class changed) the ordinary constructor is used."""
    cls = NormalizedIdentity
    params = getattr(cls, "__dataclass_params__", None)
    return (
        dataclasses.is_dataclass(cls)
        and params is not None
        and params.frozen
        and params.init
        and not hasattr(cls, "__post_init__")
        and tuple(f.name for f in dataclasses.fields(cls)) == _BUILT_FIELDS
        and all(f.init for f in dataclasses.fields(cls))
        and tuple(getattr(cls, "__slots__", ())) == _BUILT_FIELDS
        and all(isinstance(vars(cls)[name], types.MemberDescriptorType) for name in _BUILT_FIELDS)
    )


_FAST_BUILD: Final = _fast_build_ok()
_new = object.__new__


def _not_used(identity: NormalizedIdentity, value: object) -> None:
    raise AssertionError("only called when _FAST_BUILD")


_SETTERS: Final[dict[str, Callable[[NormalizedIdentity, object], None]]] = {
    name: vars(NormalizedIdentity)[name].__set__ if _FAST_BUILD else _not_used
    for name in _BUILT_FIELDS
}
_set_first_name = _SETTERS["first_name"]
_set_middle_name = _SETTERS["middle_name"]
_set_last_name = _SETTERS["last_name"]
_set_name_suffix = _SETTERS["name_suffix"]
_set_dob = _SETTERS["dob"]
_set_sex = _SETTERS["sex"]
_set_ssn = _SETTERS["ssn"]
_set_postal_code = _SETTERS["postal_code"]
_set_street_address = _SETTERS["street_address"]
_set_city = _SETTERS["city"]
_set_first_name_canonical = _SETTERS["first_name_canonical"]
_set_last_name_parts = _SETTERS["last_name_parts"]
_set_problems = _SETTERS["problems"]


def clear_caches() -> None:
    """Empty every cache of the field normalisers (tests and cold-cache benchmarks).

    The caches only ever hold what their functions compute, so clearing them changes
    speed, never results. The nickname table is data, not a cache, and stays.
    """
    for cached in (
        _given_from_text,
        _surname_from_text,
        _suffix_from_text,
        _dob_from_text,
        _build_date,
        _sex_from_text,
        _postal_from_text,
        _city_from_text,
        _fold_char,
    ):
        cached.cache_clear()
