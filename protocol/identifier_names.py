"""Which variable *names* (and text values) look like a person's identifiers (pure; no I/O).

The ten canonical identity fields (:data:`protocol.identity.DIRECT_IDENTIFIERS`) are refused
everywhere by exact name. Agency exports spell the same fields in many ways —
``FIRST_NM``, ``BIRTH_DT``, ``ADDR_LINE_1``, ``student_email``, ``guardian_name``,
``alt_ssn``, ``CLIENT_ID``, ``ZIP_CD`` — so :func:`identifier_reason` tokenises a name
(``_``, ``-``, ``.``, spaces, camelCase and letter/digit boundaries) and recognises the
common abbreviations. It is a *second line*: the node's content checks (at ``node init``)
and its egress guard look at values; this only looks at names, so the hub can refuse a
request or a catalog before any value moves.

Rules, chosen to refuse what names a person and let through what names an entity:

- always identifying: SSN, date of birth, e-mail, phone, street address, ZIP / postal code,
  sex / gender, and the one-word name forms (``fname``, ``surname``, ``firstname``…);
- ``name`` / ``nm`` and ``id`` are identifying unless *every* other word of the variable
  names an entity that is not a person (``school_id``, ``program_name``, ``county_nm``):
  ``guardian_name``, ``CLIENT_ID`` and a bare ``id`` are refused;
- ``number`` / ``num`` / ``no`` are identifying beside a word for a person or a person's
  document (``student_number``, ``case_no``, ``medicaid_num``), not in ``num_courses``;
- ``city`` and ``street`` (address parts) are refused like the canonical ``city``.

:data:`VALUE_PATTERNS` (SSN, e-mail, phone, ZIP+4 shapes) are shared by the node's egress
guard and the hub's check of cohort-condition values.
"""

from __future__ import annotations

import itertools
import re
from typing import Final

from protocol.identity import DIRECT_IDENTIFIERS

#: Words that alone make a variable name identifying, with the kind reported.
_ALWAYS: Final[dict[str, str]] = {
    **dict.fromkeys(("ssn", "ssno", "ssnum", "socsec", "socialsecurity", "ssan"), "ssn"),
    **dict.fromkeys(("dob", "birthdate", "birthdt", "bdate", "bdt", "birthday", "bday",
                     "dateofbirth"), "date of birth"),
    **dict.fromkeys(("email", "emailaddr", "emailaddress"), "e-mail"),
    **dict.fromkeys(("phone", "phn", "telephone", "tel", "telno", "mobile", "cellphone",
                     "fax", "phoneno", "phonenum"), "phone"),
    **dict.fromkeys(("addr", "address", "street", "streetaddress", "apt", "apartment"),
                    "street address"),
    **dict.fromkeys(("zip", "zipcode", "zip5", "zip4", "postal", "postcode", "postalcode"),
                    "postal code"),
    **dict.fromkeys(("sex", "gender", "gndr"), "sex"),
    **dict.fromkeys(("city",), "city"),
    **dict.fromkeys(("fname", "lname", "mname", "firstname", "lastname", "middlename",
                     "surname", "givenname", "familyname", "fullname", "maidenname",
                     "nickname", "forename", "suffix", "namesuffix"), "name"),
    **dict.fromkeys(("mrn", "passport"), "identifier"),
}

#: Words that make a variable a name or an identifier unless qualified by an entity word.
_QUALIFIED: Final[dict[str, str]] = {
    **dict.fromkeys(("name", "nm", "nme", "names"), "name"),
    **dict.fromkeys(("id", "ids", "identifier"), "identifier"),
}

#: "number" words are identifying only beside a word for a person or a person's document
#: (``case_no``, ``medicaid_num``); ``num_courses`` is a count.
_NUMBER_WORDS: Final[frozenset[str]] = frozenset(("num", "nbr", "no", "number", "nr"))
_PERSON_WORDS: Final[frozenset[str]] = frozenset((
    "client", "person", "student", "stu", "patient", "pt", "member", "mbr", "case",
    "record", "rec", "customer", "cust", "participant", "applicant", "recipient",
    "beneficiary", "claimant", "individual", "indiv", "medicaid", "medicare", "license",
    "licence", "account", "acct", "policy", "household", "hh", "family", "guardian",
    "parent", "mother", "father", "spouse", "child", "tax", "taxpayer", "driver", "drivers",
    "dl", "employee", "emp", "worker", "inmate", "offender", "victim", "contact", "local",
    "master", "unique", "uid", "pid", "sid", "ui",
))

#: Words naming entities that are not persons: ``school_id``, ``program_name`` are fine.
_ENTITY_WORDS: Final[frozenset[str]] = frozenset((
    "school", "district", "division", "county", "state", "region", "program", "prog",
    "provider", "facility", "site", "office", "agency", "employer", "industry", "naics",
    "occupation", "soc", "course", "class", "section", "plan", "service", "svc", "product",
    "org", "organization", "organisation", "institution", "inst", "college", "campus",
    "degree", "major", "cip", "grade", "test", "exam", "category", "cat", "type", "code",
    "cd", "level", "unit", "department", "dept", "fund", "grant", "award", "benefit",
    "claim", "diagnosis", "dx", "procedure", "drug", "payer", "vendor", "business",
    "establishment", "location", "area", "zone", "tract", "block", "file", "batch", "run",
    "version", "form", "question", "item", "variable", "event", "episode", "term",
    "semester", "quarter", "qtr", "year", "yr", "month", "week", "day", "period", "count",
    "cnt", "total", "sequence", "seq", "line", "row", "step", "stage", "phase", "project",
))

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")

#: Compound spellings written without separators (``studentemail``, ``homephone``).
_EMBEDDED: Final[tuple[tuple[str, str], ...]] = (
    ("email", "e-mail"), ("phone", "phone"), ("birthdate", "date of birth"),
    ("dateofbirth", "date of birth"), ("firstname", "name"), ("lastname", "name"),
    ("middlename", "name"), ("surname", "name"), ("address", "street address"),
    ("zipcode", "postal code"), ("postalcode", "postal code"),
)


def name_words(name: str) -> tuple[str, ...]:
    """``"ADDR_LINE_1"`` → ``("addr", "line", "1")``; ``"studentEmail"`` → ``("student",
    "email")``. Lower case; digits are words of their own."""
    spaced = _CAMEL.sub(" ", name)
    return tuple(w for w in _SPLIT.split(spaced.lower()) if w)


def identifier_reason(name: str) -> str | None:
    """The kind of personal identifier ``name`` looks like (``"ssn"``, ``"name"``,
    ``"date of birth"``…), or ``None`` when it looks like an ordinary variable."""
    if name.lower() in DIRECT_IDENTIFIERS:
        return "canonical identity field"
    words = name_words(name)
    for word in words:
        if word in _ALWAYS:
            return _ALWAYS[word]
    # Two-word spellings: ``e_mail``, ``birth_dt``, ``date_of_birth``, ``first_name``.
    joined = "".join(words)
    if "birth" in words and ({"date", "dt", "dte", "day", "of"} & set(words)):
        return "date of birth"
    if "social" in words and "security" in words:
        return "ssn"
    if ("e", "mail") in itertools.pairwise(words):
        return "e-mail"
    for fragment, kind in _EMBEDDED:
        if fragment in joined:
            return kind
    if _NUMBER_WORDS & set(words) and _PERSON_WORDS & set(words):
        return "identifier"
    for index, word in enumerate(words):
        if word not in _QUALIFIED:
            continue
        others = [w for i, w in enumerate(words) if i != index and not w.isdigit()]
        if not others or not all(w in _ENTITY_WORDS for w in others):
            return _QUALIFIED[word]
    return None


#: Identifier *value* patterns, by kind (RE2-compatible, so Arrow can run them too): the
#: node's egress guard refuses them in ``string`` variables; the hub refuses them in the
#: values of a request's cohort conditions.
VALUE_PATTERNS: Final[dict[str, str]] = {
    "ssn_pattern": r"(^|[^0-9])[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}([^0-9]|$)",
    "email_pattern": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone_pattern": (r"(^|[^0-9])(\+?1[-. ]?)?(\([0-9]{3}\) ?|[0-9]{3}[-. ])[0-9]{3}[-. ]"
                      r"[0-9]{4}([^0-9]|$)"),
    "zip4_pattern": r"(^|[^0-9])[0-9]{5}-[0-9]{4}([^0-9]|$)",
}

#: A whole value shaped like a calendar date (``11/24/1973``, ``1973-11-24``).
DATE_PATTERN: Final = (r"^\s*([0-9]{1,2}[/.-][0-9]{1,2}[/.-]([0-9]{2}|[0-9]{4})"
                       r"|[0-9]{4}[/.-][0-9]{1,2}[/.-][0-9]{1,2})\s*$")

_COMPILED: Final = {kind: re.compile(p) for kind, p in VALUE_PATTERNS.items()}


def identifier_value_reason(value: object) -> str | None:
    """The identifier pattern a *text* value matches (``"email_pattern"``…), or ``None``."""
    if not isinstance(value, str):
        return None
    for kind, pattern in _COMPILED.items():
        if pattern.search(value):
            return kind
    return None


def identifier_like(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """The names among ``names`` that look like identifiers, with the kind of each."""
    found = {}
    for name in names:
        reason = identifier_reason(name)
        if reason is not None:
            found[name] = reason
    return found
