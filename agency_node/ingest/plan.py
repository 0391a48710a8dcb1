"""Deciding what every source column is, at ``fedlink node init``: the record id, an identity
field, the year, a column never loaded (``ignore``, with the reason), or an attribute
variable offered to researchers.

Evidence, strongest first: the steward's explicit choices (``--map``, ``--record-id``,
``--year-column``, the mapping file), the header (``FIRST_NM``, ``BIRTH_DT``, ``ZIP_CD``…)
and the values (:mod:`agency_node.ingest.detect`). A column whose header
(:func:`protocol.identifier_names.identifier_reason`) or values look identifying is never
an attribute: it is mapped to the identity field it is, or ignored with the reason.

Longitudinal sources have two more roles (both optional): the agency's **person id**
(``--map COL=person_id``, or a column named like an id whose values repeat over the whole
file — one person, many rows) and, where there is one, the **period** of each row
(``--map COL=period``, or a column named like a period or year whose values parse as
periods, :mod:`agency_node.ingest.periods`). The period is offered as a variable, like the
year column; the person id never is.
Offering it anyway takes a steward override with a reason (``--offer COL=REASON`` or the
mapping file's ``[override]`` table), which is kept in node.toml and audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agency_node.errors import ConfigError, SourceError
from agency_node.ingest.columns import RECORD_ID_NAMES, parse_year, squeeze
from agency_node.ingest.detect import (
    ColumnProfile,
    ContentFinding,
    date_order_of,
    detect,
    is_code_like,
    is_date_like,
)
from agency_node.ingest.periods import looks_like_period
from protocol.identifier_names import identifier_reason, name_words
from protocol.identity import IDENTITY_FIELDS

#: Header words (after :func:`protocol.identifier_names.name_words`, with the filler words
#: below dropped) that name each identity field. ``FIRST_NM`` → (first,) → first_name.
HEADER_WORDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "first_name": (("first",), ("fname",), ("firstname",), ("given",), ("givenname",),
                   ("forename",), ("frst",), ("fst",)),
    "middle_name": (("middle",), ("mname",), ("middlename",), ("mid",), ("mi",),
                    ("middle", "initial")),
    "last_name": (("last",), ("lname",), ("lastname",), ("surname",), ("family",),
                  ("familyname",), ("lst",)),
    "name_suffix": (("suffix",), ("sfx",), ("generation",), ("namesuffix",)),
    "dob": (("dob",), ("birth",), ("birthdate",), ("birthday",), ("bdate",), ("brth",),
            ("bdt",), ("birthdt",), ("dateofbirth",)),
    "sex": (("sex",), ("gender",), ("gndr",)),
    "ssn": (("ssn",), ("social", "security"), ("ssno",), ("socsec",), ("ss",)),
    "postal_code": (("zip",), ("zipcode",), ("zip5",), ("postal",), ("postcode",),
                    ("postalcode",)),
    "street_address": (("address",), ("addr",), ("street",), ("streetaddress",),
                       ("street", "address"), ("address1",), ("addr1",)),
    "city": (("city",), ("town",)),
}
#: Words that add nothing to what a column is (``_NM``, ``_CD``, ``_LINE_1``, ``of``) or
#: say whose it is when it is the record's own person (``CLIENT_FIRST_NM``).
_FILLER = frozenset({"nm", "name", "cd", "code", "txt", "text", "dt", "date", "dte", "val",
                     "value", "no", "num", "nbr", "number", "line", "of", "1", "01", "id"})
_SUBJECT = frozenset({"client", "student", "stu", "person", "participant", "member", "mbr",
                      "customer", "cust", "applicant", "recipient", "individual", "indiv",
                      "employee", "emp", "worker", "claimant", "pupil", "learner", "patient",
                      "beneficiary", "primary", "home", "current", "curr", "legal", "res",
                      "residence", "residential", "mailing", "mail"})
_YEAR_WORDS = frozenset({"year", "yr", "fy", "sy", "ay"})
_ID_WORDS = frozenset({"id", "key", "identifier", "no", "num", "nbr", "number"})
#: Whole names of agency person ids that carry no id word (state student ids).
_PERSON_ID_NAMES = frozenset({"ssid", "sasid", "stid", "pid", "upid"})
_PERIOD_WORDS = frozenset({"period", "term", "quarter", "qtr", "semester", "sem", "session",
                           "trimester"})
#: Rows per distinct value over the whole column above which an id names persons, not rows.
PERSON_ID_REPEATS = 1.2
#: Columns never loaded by default: synthetic ground truth from ``fedlink synth``.
IGNORED_BY_DEFAULT = ("truth_id",)
#: Identity fields linkage leans on: without them it matches on what remains alone.
LINKAGE_FIELDS = ("first_name", "last_name", "dob")


@dataclass
class Choices:
    """What the steward said: options and the mapping file, merged (options win)."""

    identity: dict[str, str] = field(default_factory=dict)  # canonical → column
    record_id: str = ""
    year_column: str | None = None  # None: detect; "": none
    person_id: str | None = None  # None: detect; "": none
    period_column: str | None = None  # None: detect (with a person id); "": none
    date_order: str = ""
    ignore: dict[str, str] = field(default_factory=dict)  # column → reason
    override: dict[str, str] = field(default_factory=dict)  # column → reason


@dataclass(frozen=True)
class Decision:
    column: str
    outcome: str  # record_id / identity / person_id / period / year / ignore / override /
    # variable
    target: str  # the identity field, or ''
    reason: str


@dataclass
class Plan:
    record_id: str
    identity: dict[str, str]
    year_column: str
    date_order: str
    date_order_reason: str
    ignore: dict[str, str]
    override: dict[str, str]
    attributes: list[str]
    decisions: list[Decision]
    warnings: list[str]
    #: Why each overridden column was flagged (kept with the override in the audit log).
    flagged: dict[str, str] = field(default_factory=dict)
    #: The agency person id column and the period column ('' = none).
    person_id: str = ""
    period_column: str = ""


def header_field(column: str) -> str | None:
    """The identity field a header names (``FIRST_NM`` → first_name), or None."""
    words = [w for w in name_words(column) if w not in _FILLER]
    core = tuple(w for w in words if w not in _SUBJECT)
    if not core:
        return None
    for fld, spellings in HEADER_WORDS.items():
        if core in spellings:
            return fld
    return None


def _is_record_id_header(column: str) -> bool:
    words = name_words(column)
    return bool(words) and (squeeze(column) in RECORD_ID_NAMES
                            or (words[-1] in _ID_WORDS and len(words) <= 3))


def is_id_header(column: str) -> bool:
    """Named like a record id or an agency person id (``CLIENT_ID``, ``student_no``,
    ``SSID``)."""
    return _is_record_id_header(column) or squeeze(column) in _PERSON_ID_NAMES


def _mostly_distinct(profile: ColumnProfile | None) -> bool:
    """Nearly every row has a value and nearly all differ: a local id (a few repeated
    ids are quarantined at ingest, they do not make the column something else)."""
    if profile is None:
        return True  # header-only planning (no values to judge)
    if not profile.values or profile.non_empty < 0.95 * profile.rows:
        return False
    if profile.repeats is not None and profile.repeats.rows_per_value >= PERSON_ID_REPEATS:
        return False  # repeats over the whole file: a person id, whatever the sample says
    return len(set(profile.values)) >= 0.95 * len(profile.values)


def _year_share(profile: ColumnProfile | None) -> float:
    if profile is None or not profile.values:
        return 1.0 if profile is None else 0.0
    return sum(1 for v in profile.values if parse_year(v) is not None) / len(profile.values)


def build_plan(header: list[str], profiles: dict[str, ColumnProfile] | None,
               choices: Choices) -> Plan:
    """Decide every column (see the module docstring); ConfigError on a contradiction."""
    profiles = profiles or {}
    known = set(header)
    named = [*choices.identity.values(), choices.record_id, choices.year_column or "",
             choices.person_id or "", choices.period_column or "", *choices.ignore,
             *choices.override]
    missing = sorted({c for c in named if c and c not in known})
    if missing:
        raise ConfigError(f"no column {', '.join(map(repr, missing))} in the source "
                          f"(columns: {', '.join(header)})")
    unknown = sorted(set(choices.identity) - set(IDENTITY_FIELDS))
    if unknown:
        raise ConfigError(f"not identity fields: {', '.join(unknown)}")
    decisions: dict[str, Decision] = {}
    identity = dict(choices.identity)
    for fld, col in identity.items():
        decisions[col] = Decision(col, "identity", fld, "mapped by the steward")
    for col, why in choices.ignore.items():
        decisions.setdefault(col, Decision(col, "ignore", "", why or "ignored by the steward"))
    findings = {col: detect(profiles[col]) if col in profiles else None for col in header}

    record_id = choices.record_id
    if record_id:
        decisions[record_id] = Decision(record_id, "record_id", "", "chosen by the steward")
    else:
        exact = [c for c in header if c not in decisions and squeeze(c) in RECORD_ID_NAMES]
        candidates = [c for c in header if c not in decisions and _is_record_id_header(c)
                      and _mostly_distinct(profiles.get(c))]
        record_id = (exact or candidates or [""])[0]
        if not record_id:
            raise SourceError(
                "no record id column (a unique column named like record_id, CLIENT_ID or "
                "student_no); name it with --record-id COLUMN")
        decisions[record_id] = Decision(record_id, "record_id", "",
                                        "named like an id; values (nearly) all distinct")
    person_id = _person_id(header, choices, decisions, profiles)

    # Headers first: FIRST_NM says more than values that happen to be names.
    for col in header:
        field_ = header_field(col)
        if col in decisions or field_ is None:
            continue
        finding = findings[col]
        if field_ in identity:
            decisions[col] = Decision(col, "ignore", "", f"named like {field_}, which is "
                                      f"already {identity[field_]!r}")
        elif field_ == "dob" and profiles.get(col) is not None and not is_date_like(profiles[col]) \
                and finding is None:
            continue  # BIRTH_YEAR, birth_order: not a birth date (and nothing identifying)
        else:
            identity[field_] = col
            decisions[col] = Decision(col, "identity", field_, f"header names {field_}"
                                      + (f"; {finding.reason}" if finding else ""))

    period_column = _period(header, choices, decisions, profiles, person_id)
    year_column = choices.year_column
    if year_column is None:
        year_column = _detect_year(header, decisions, profiles)
        if year_column:
            decisions[year_column] = Decision(year_column, "year", "",
                                              "named like a year; values hold years")
    elif year_column:
        decisions[year_column] = Decision(year_column, "year", "", "chosen by the steward")

    for col in header:
        if col in decisions:
            continue
        finding = findings[col]
        if col in IGNORED_BY_DEFAULT:
            decisions[col] = Decision(col, "ignore", "", "synthetic ground truth")
        elif finding is not None:
            decisions[col] = _content_decision(col, finding, identity)
        elif (kind := identifier_reason(col)) is not None:
            decisions[col] = Decision(col, "ignore", "", f"header names a {kind}")
        else:
            decisions[col] = Decision(col, "variable", "", "")

    flagged: dict[str, str] = {}
    for col, why in choices.override.items():
        current = decisions[col]
        if current.outcome != "ignore":
            raise ConfigError(f"override of {col!r}: it is not an ignored identifying column "
                              f"(it is {current.outcome})")
        if not why.strip():
            raise ConfigError(f"override of {col!r} needs a reason")
        flagged[col] = current.reason
        decisions[col] = Decision(col, "override", "", f"steward override: {why} "
                                  f"(flagged: {current.reason})")
    if not identity:
        raise SourceError("no column looks like an identity field (first_name, last_name, "
                          "dob…); map one with --map COLUMN=FIELD")
    date_order, order_reason = _date_order(choices, identity, profiles)
    ordered = [decisions[c] for c in header]
    return Plan(
        record_id=record_id, identity=identity, year_column=year_column, date_order=date_order,
        date_order_reason=order_reason,
        ignore={d.column: d.reason for d in ordered if d.outcome == "ignore"},
        override=dict(choices.override),
        attributes=[d.column for d in ordered
                    if d.outcome in ("variable", "override", "year", "period")],
        decisions=ordered, warnings=linkage_warnings(identity), flagged=flagged,
        person_id=person_id, period_column=period_column,
    )


def _person_id(header: list[str], choices: Choices, decisions: dict[str, Decision],
               profiles: dict[str, ColumnProfile]) -> str:
    """The agency person id column: the steward's, else the first column named like an id
    whose values are codes present in (nearly) every row and repeat over the whole file."""
    chosen = choices.person_id
    if chosen:
        if decisions.get(chosen, Decision(chosen, "", "", "")).outcome in ("record_id",
                                                                          "identity"):
            raise ConfigError(f"person id {chosen!r} is already the "
                              f"{decisions[chosen].outcome.replace('_', ' ')}")
        decisions[chosen] = Decision(chosen, "person_id", "", "chosen by the steward")
        return chosen
    if chosen == "":
        return ""
    for col in header:
        profile = profiles.get(col)
        if col in decisions or profile is None or profile.repeats is None \
                or not is_id_header(col) or not is_code_like(profile):
            continue
        repeats = profile.repeats
        if profile.non_empty >= 0.95 * profile.rows and repeats.counted >= 20 \
                and repeats.rows_per_value >= PERSON_ID_REPEATS:
            decisions[col] = Decision(col, "person_id", "", f"named like an id; values repeat "
                                      f"({repeats.rows_per_value:.1f} rows per value): one "
                                      "person, many rows")
            return col
    return ""


def _period(header: list[str], choices: Choices, decisions: dict[str, Decision],
            profiles: dict[str, ColumnProfile], person_id: str) -> str:
    """The period column: the steward's, else — in a source with a person id — the first
    column named like a period (then like a year) whose values (≥ 90 %) parse as periods."""
    chosen = choices.period_column
    if chosen:
        if chosen in decisions:
            raise ConfigError(f"period column {chosen!r} is already the "
                              f"{decisions[chosen].outcome.replace('_', ' ')}")
        decisions[chosen] = Decision(chosen, "period", "", "chosen by the steward")
        return chosen
    if chosen == "" or not person_id:
        return ""  # without a person id there is no longitudinal row to place in time
    named = [c for c in header if c not in decisions and c != choices.year_column
             and "birth" not in name_words(c)]
    for words in (_PERIOD_WORDS, _YEAR_WORDS):
        for col in named:
            profile = profiles.get(col)
            if not set(name_words(col)) & words or profile is None or not profile.values:
                continue
            share = sum(map(looks_like_period, profile.values)) / len(profile.values)
            if share >= 0.9:
                decisions[col] = Decision(col, "period", "", "named like a period; values "
                                          f"are periods ({share:.0%})")
                return col
    return ""


def _content_decision(col: str, finding: ContentFinding, identity: dict[str, str]) -> Decision:
    if finding.kind == "dob" and _names_other_date(col):
        return Decision(col, "variable", "", "")  # enrolment or exit dates are data
    if finding.kind in IDENTITY_FIELDS and finding.kind not in identity:
        identity[finding.kind] = col
        return Decision(col, "identity", finding.kind, finding.reason)
    if finding.kind in IDENTITY_FIELDS:
        return Decision(col, "ignore", "", f"{finding.reason}; {finding.kind} is already "
                        f"{identity[finding.kind]!r}")
    return Decision(col, "ignore", "", finding.reason)


def _names_other_date(col: str) -> bool:
    words = set(name_words(col))
    return bool(words & {"date", "dt", "dte"}) and not words & {"birth", "dob", "b"}


def _detect_year(header: list[str], decisions: dict[str, Decision],
                 profiles: dict[str, ColumnProfile]) -> str:
    for col in header:
        words = name_words(col)
        if col in decisions or not (set(words) & _YEAR_WORDS) or "birth" in words:
            continue
        if _year_share(profiles.get(col)) >= 0.9:
            return col
    return ""


def _date_order(choices: Choices, identity: dict[str, str],
                profiles: dict[str, ColumnProfile]) -> tuple[str, str]:
    if choices.date_order:
        return choices.date_order, "chosen by the steward"
    dob = identity.get("dob")
    columns = ([dob] if dob else []) + [c for c in profiles if c != dob]
    for col in columns:
        profile = profiles.get(col)
        order = date_order_of(profile.values) if profile else ""
        if order:
            return order, f"{col!r} has dates only {order} can read"
    return "MDY", "no date proves the order (default)"


def linkage_warnings(identity: dict[str, str]) -> list[str]:
    """What missing identity fields do to linkage (shown at init)."""
    missing = [f for f in LINKAGE_FIELDS if f not in identity]
    if not missing:
        return []
    left = [f for f in IDENTITY_FIELDS if f in identity]
    alone = " and ".join(left) if left else "nothing"
    return [f"no column is mapped to {', '.join(missing)}: linkage can only use "
            f"{alone}; records without {'it' if len(left) == 1 else 'them'} never link, and "
            "links cannot be checked against a name or birth date (a mistyped "
            f"{left[0] if left else 'value'} links the wrong person). "
            "Map them with --map COLUMN=FIELD if the source has them."]
