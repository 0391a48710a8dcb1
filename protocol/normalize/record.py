"""One raw row → one :class:`~protocol.identity.NormalizedIdentity`."""

from __future__ import annotations

from collections.abc import Mapping

from protocol.identity import MissingReason, NormalizedIdentity
from protocol.normalize.address import normalize_city, normalize_street_address
from protocol.normalize.dates import normalize_dob
from protocol.normalize.formal_names import canonicals_of_normalized
from protocol.normalize.names import normalize_given_name, normalize_suffix, normalize_surname
from protocol.normalize.postal import normalize_postal_code
from protocol.normalize.result import DEFAULT_OPTIONS, NormalizationOptions
from protocol.normalize.sex import normalize_sex
from protocol.normalize.ssn import normalize_ssn


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
    get = raw.get
    first = normalize_given_name(get("first_name"))
    middle = normalize_given_name(get("middle_name"))
    surname = normalize_surname(get("last_name"))
    suffix = normalize_suffix(get("name_suffix"))
    dob = normalize_dob(get("dob"), options)
    sex = normalize_sex(get("sex"))
    ssn = normalize_ssn(get("ssn"))
    postal_code = normalize_postal_code(get("postal_code"), options)
    street_address = normalize_street_address(get("street_address"))
    city = normalize_city(get("city"))

    last_name, last_name_parts, embedded_suffix = surname.value or (None, (), None)
    suffix_value = suffix.value or embedded_suffix
    # Written out rather than looped: this runs once per record of a million-row load.
    problems: dict[str, MissingReason] = {}
    if first.reason is not None:
        problems["first_name"] = first.reason
    if middle.reason is not None:
        problems["middle_name"] = middle.reason
    if surname.reason is not None:
        problems["last_name"] = surname.reason
    if suffix_value is None and suffix.reason is not None:
        problems["name_suffix"] = suffix.reason
    if dob.reason is not None:
        problems["dob"] = dob.reason
    if sex.reason is not None:
        problems["sex"] = sex.reason
    if ssn.reason is not None:
        problems["ssn"] = ssn.reason
    if postal_code.reason is not None:
        problems["postal_code"] = postal_code.reason
    if street_address.reason is not None:
        problems["street_address"] = street_address.reason
    if city.reason is not None:
        problems["city"] = city.reason
    first_name = first.value
    return NormalizedIdentity(
        first_name=first_name,
        middle_name=middle.value,
        last_name=last_name,
        name_suffix=suffix_value,
        dob=dob.value,
        sex=sex.value,
        ssn=ssn.value,
        postal_code=postal_code.value,
        street_address=street_address.value,
        city=city.value,
        first_name_canonical=canonicals_of_normalized(first_name) if first_name else (),
        last_name_parts=last_name_parts,
        problems=problems,
    )
