"""What the egress guard looks for in an outgoing extract (pure; no I/O, no values out).

:func:`scan` compares every outgoing attribute value with **the same record's own identity
values** (the ``identity`` and ``raw_identity`` the node's store holds for it) and with
identifier patterns, and returns :class:`Finding` s — a variable, a kind and a row count,
never a value. docs/agency-node.md ("Egress guard") states the rules; in short:

- *strong* kinds refuse on a single row: the record's SSN (9 digits, any separators), its
  birth date written in any common order (ISO, MDY, DMY, YMD; ``/ - .`` or none; 2- or
  4-digit years; month names) in a ``string`` variable, its first and last
  name together, its street address, its ZIP+4; and the patterns SSN ``123-45-6789``,
  e-mail, phone ``(540) 555-0100`` and ZIP+4 ``22030-1234`` in a ``string`` variable, and a
  date-shaped string in a ``string`` variable (dates must be declared ``date``);
- *weak* kinds can happen by chance (a surname that is also a category such as ``WHITE``,
  a score equal to the record's ZIP, the last four SSN digits, a service date on a
  newborn's birthday, a number that reads as the birth date), so a weak kind refuses
  only when, after dropping hits whose value also appears in the same variable for a
  record it does *not* match (a category, not a person's own value), the hits reach
  :data:`WEAK_SHARE` of the rows where both the value and that identity field are present.
  Values of one character never count as a name.

Agency identifiers (:func:`scan_agency_ids`): a value equal to the row's own local record
id or agency person id refuses (``agency_id``); in ``string`` variables and in the hub's
``person_id`` column, so does the id of any row of the payload (a sibling's student id, a
hub person id that is an agency id). Ids shorter than :data:`MIN_AGENCY_ID_CHARS` are not
compared. A row of an agency person is compared with the identities of all the person's
rows in the payload (:func:`person_identities`): a maiden name in a later row is still
the person's own name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from protocol.identifier_names import DATE_PATTERN, VALUE_PATTERNS
from protocol.normalize.address import street_address_value

#: Share of comparable rows a *weak* kind must reach to refuse (see the module docstring).
WEAK_SHARE = 0.2
#: Agency ids (record, person) shorter than this are not compared: a row number ``7`` is
#: a grade level as often as it is an id.
MIN_AGENCY_ID_CHARS = 5

#: Identifier patterns refused in ``string`` variables, by kind (RE2 syntax for Arrow).
PATTERNS: dict[str, str] = {**VALUE_PATTERNS, "date_pattern": DATE_PATTERN}

_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_SEPARATED_DIGITS = re.compile(r"^[0-9\s./()-]+$")
_DATE_PARTS = re.compile(r"[0-9]+|[A-Za-z]+")


@dataclass(frozen=True, slots=True)
class Finding:
    """``rows`` rows of ``variable`` matched ``kind``; never the value."""

    variable: str
    kind: str
    rows: int


@dataclass(frozen=True, slots=True)
class RecordIdentity:
    """One record's identity values in the forms an attribute value is compared with,
    built once per record per extract."""

    names: frozenset[str] = frozenset()
    first: str | None = None
    last: str | None = None
    dob: frozenset[tuple[int, int, int]] = frozenset()
    ssn: str | None = None
    zip5: str | None = None
    addresses: frozenset[str] = frozenset()


def _letters(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalpha()).upper()


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in (_letters(p) for p in re.split(r"[\s,;/]+", text)) if w)


def _address_forms(text: str) -> set[str]:
    forms = {" ".join(re.sub(r"[^A-Z0-9 ]", " ", text.upper()).split())}
    normalised = street_address_value(text)
    if isinstance(normalised, str):
        forms.add(normalised)
    # An address without a letter and a digit (``1``, ``MAIN``) identifies nobody.
    return {f for f in forms if len(f) >= 5 and re.search(r"[0-9]", f) and re.search(
        r"[A-Z]", f)}


def dob_forms(date: dt.date) -> frozenset[tuple[int, int, int]]:
    """The (a, b, c) number triples a written date of birth can read as: YMD, MDY and DMY,
    with 4- and 2-digit years."""
    y, m, d = date.year, date.month, date.day
    out = set()
    for year in (y, y % 100):
        out |= {(year, m, d), (m, d, year), (d, m, year)}
    return frozenset(out)


def date_triples(text: str) -> frozenset[tuple[int, int, int]]:
    """The number triples a date-shaped value reads as (``11/24/1973``, ``24-Nov-73``,
    ``19731124``, ``112473``); empty for anything else."""
    parts = _DATE_PARTS.findall(text)
    if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) in (6, 8):
        s = parts[0]
        if len(s) == 8:
            return frozenset({(int(s[:4]), int(s[4:6]), int(s[6:])),
                              (int(s[:2]), int(s[2:4]), int(s[4:]))})
        return frozenset({(int(s[:2]), int(s[2:4]), int(s[4:]))})
    if len(parts) != 3 or len(re.sub(r"[0-9A-Za-z\s,./-]", "", text)) > 0:
        return frozenset()
    numbers = []
    for part in parts:
        if part.isdigit():
            numbers.append(int(part))
        elif part[:3].upper() in _MONTHS:
            numbers.append(_MONTHS[part[:3].upper()])
        else:
            return frozenset()
    return frozenset({(numbers[0], numbers[1], numbers[2])})


def record_identity(identity: Mapping[str, Any], raw: Mapping[str, Any]) -> RecordIdentity:
    """:class:`RecordIdentity` from a record's stored normalised and raw identity."""
    names: set[str] = set()
    for fld in ("first_name", "middle_name", "last_name"):
        for value in (identity.get(fld), raw.get(fld)):
            if isinstance(value, str) and len(_letters(value)) >= 2:
                names.add(_letters(value))
    names |= {p for p in identity.get("last_name_parts") or () if len(p) >= 2}
    dob: set[tuple[int, int, int]] = set()
    if identity.get("dob"):
        dob |= dob_forms(dt.date.fromisoformat(identity["dob"]))
    ssn = identity.get("ssn") or None
    zip5 = (identity.get("postal_code") or "")[:5] or None
    addresses: set[str] = set()
    for value in (identity.get("street_address"), raw.get("street_address")):
        if isinstance(value, str) and value.strip():
            addresses |= _address_forms(value)
    first, last = identity.get("first_name"), identity.get("last_name")
    return RecordIdentity(names=frozenset(names), first=first, last=last,
                          dob=frozenset(dob), ssn=ssn, zip5=zip5,
                          addresses=frozenset(addresses))


@dataclass(frozen=True, slots=True)
class _Value:
    """One distinct outgoing value in the forms it is compared in (computed once)."""

    letters: str = ""
    words: frozenset[str] = frozenset()
    digits: tuple[str, ...] = ()
    dates: frozenset[tuple[int, int, int]] = frozenset()
    addresses: frozenset[str] = frozenset()


def _value(value: Any) -> _Value | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return None
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        # A number drops leading zeros: 2134 may be ZIP 02134, 12345678 SSN 012345678.
        digits = {text, text.zfill(5), text.zfill(9)} if value >= 0 else set()
        return _Value(digits=tuple(digits), dates=date_triples(text))
    text = str(value)
    digits_only = ("".join(c for c in text if c.isdigit()),) if _SEPARATED_DIGITS.match(
        text) else ()
    has_letters = any(c.isalpha() for c in text)
    return _Value(
        letters=_letters(text), words=_words(text) if has_letters else frozenset(),
        digits=digits_only, dates=date_triples(text),
        addresses=frozenset(_address_forms(text)) if has_letters and any(
            c.isdigit() for c in text) else frozenset(),
    )


@dataclass
class _Tally:
    """Per variable and weak kind: rows hit (by value), values seen not matching."""

    comparable: int = 0
    hits: dict[Any, int] = field(default_factory=dict)
    misses: set[Any] = field(default_factory=set)

    def see(self, key: Any, hit: bool) -> None:
        self.comparable += 1
        if hit:
            self.hits[key] = self.hits.get(key, 0) + 1
        else:
            self.misses.add(key)

    def refused_rows(self) -> int:
        counted = sum(n for key, n in self.hits.items() if key not in self.misses)
        return counted if counted and counted >= WEAK_SHARE * self.comparable else 0


def _check_cell(v: _Value, who: RecordIdentity, *, dob_is_weak: bool, key: Any,
                strong: dict[str, int], weak: dict[str, _Tally]) -> None:
    def hit(kind: str) -> None:
        strong[kind] = strong.get(kind, 0) + 1

    if who.first and who.last and who.first != who.last and {who.first, who.last} <= v.words:
        hit("full_name")
    if who.names and len(v.letters) >= 2:
        weak.setdefault("name", _Tally()).see(key, v.letters in who.names)
    if who.addresses and v.addresses and any(
            f" {mine} " in f" {form} " for mine in who.addresses for form in v.addresses):
        hit("street_address")  # the address itself, or inside a longer text
    if who.ssn and v.digits:
        if who.ssn in v.digits:
            hit("ssn")
        elif any(len(d) == 4 for d in v.digits):
            weak.setdefault("ssn_last4", _Tally()).see(key, who.ssn[-4:] in v.digits)
    if who.zip5 and v.digits:
        if any(len(d) == 9 and d[:5] == who.zip5 for d in v.digits):
            hit("postal_code")
        elif any(len(d) == 5 for d in v.digits):
            weak.setdefault("postal_code", _Tally()).see(key, who.zip5 in v.digits)
    if who.dob and v.dates:
        matched = bool(v.dates & who.dob)
        # A declared date on a birthday, or a 6- or 8-digit number that reads as one, is a
        # chance until most rows do it.
        if dob_is_weak:
            weak.setdefault("dob", _Tally()).see(key, matched)
        elif matched:
            hit("dob")


def scan_identity(
    columns: Mapping[str, Sequence[Any]], identities: Sequence[RecordIdentity],
    types: Mapping[str, str],
) -> list[Finding]:
    """Findings of outgoing ``columns`` (name → values, aligned with ``identities``)
    against each row's own identity."""
    findings = []
    for name, values in columns.items():
        dob_is_weak = types.get(name) in ("date", "integer", "number")
        cache: dict[Any, _Value | None] = {}
        strong: dict[str, int] = {}
        weak: dict[str, _Tally] = {}
        for value, who in zip(values, identities, strict=True):
            key = value
            if key not in cache:
                cache[key] = _value(value)
            parsed = cache[key]
            if parsed is not None:
                _check_cell(parsed, who, dob_is_weak=dob_is_weak, key=key, strong=strong,
                            weak=weak)
        findings += [Finding(name, kind, rows) for kind, rows in sorted(strong.items())]
        for kind, tally in sorted(weak.items()):
            if rows := tally.refused_rows():
                findings.append(Finding(name, kind, rows))
    return findings


def scan_patterns(table: pa.Table, types: Mapping[str, str]) -> list[Finding]:
    """Findings of identifier patterns in the ``string`` variables of ``table``
    (vectorised: one Arrow regex pass per pattern and column)."""
    findings = []
    for name in table.column_names:
        if types.get(name) != "string":
            continue
        column = table.column(name)
        for kind, pattern in PATTERNS.items():
            rows = pc.sum(pc.match_substring_regex(column, pattern)).as_py() or 0
            if rows:
                findings.append(Finding(name, kind, int(rows)))
    return findings


def scan(table: pa.Table, identities: Sequence[RecordIdentity],
         types: Mapping[str, str], variables: Iterable[str]) -> list[Finding]:
    """Every finding in the outgoing ``table`` (one row per entry of ``identities``) for
    the requested ``variables``; empty means the payload may be sealed."""
    names = list(variables)
    columns = {name: table.column(name).to_pylist() for name in names}
    # Compare dates as the ISO text the store holds, not as date objects.
    for name in names:
        if types.get(name) == "date":
            columns[name] = [None if v is None else v.isoformat() for v in columns[name]]
    return scan_patterns(table.select(names), types) + scan_identity(columns, identities,
                                                                      types)


def person_identities(identities: Sequence[RecordIdentity],
                      persons: Sequence[str | None]) -> list[RecordIdentity]:
    """Each row's identity widened with the names, birth dates and addresses of the other
    rows of the same agency person (``persons``: the row's person id, None for none)."""
    merged: dict[str, RecordIdentity] = {}
    for who, person in zip(identities, persons, strict=True):
        if person is None:
            continue
        seen = merged.get(person)
        merged[person] = who if seen is None else dataclasses.replace(
            seen, names=seen.names | who.names, dob=seen.dob | who.dob,
            addresses=seen.addresses | who.addresses)
    return [who if person is None else dataclasses.replace(
        who, names=merged[person].names, dob=merged[person].dob,
        addresses=merged[person].addresses)
        for who, person in zip(identities, persons, strict=True)]


def agency_id_forms(value: Any) -> frozenset[str]:
    """The texts an id (or an outgoing value) is compared as: upper-cased, trimmed, and
    for digits also without leading zeros (an integer column drops them); none shorter
    than :data:`MIN_AGENCY_ID_CHARS`."""
    if value is None or isinstance(value, bool):
        return frozenset()
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            return frozenset()
        value = int(value)
    text = str(value).strip().upper()
    forms = {text, text.lstrip("0")} if text.isdigit() else {text}
    return frozenset(f for f in forms if len(f) >= MIN_AGENCY_ID_CHARS)


def scan_agency_ids(
    columns: Mapping[str, Sequence[Any]], own: Sequence[frozenset[str]],
    *, anywhere: Collection[str],
) -> list[Finding]:
    """Findings ``agency_id`` in outgoing ``columns`` (aligned with ``own``: each row's
    :func:`agency_id_forms` of its record id and person id). A value refuses when it is
    its own row's id, or — in the columns named in ``anywhere`` — any row's."""
    everyone = frozenset().union(*own) if own else frozenset()
    findings = []
    for name, values in columns.items():
        rows = 0
        cache: dict[Any, frozenset[str]] = {}
        for value, mine in zip(values, own, strict=True):
            if value not in cache:
                cache[value] = agency_id_forms(value)
            forms = cache[value]
            if forms and not forms.isdisjoint(everyone if name in anywhere else mine):
                rows += 1
        if rows:
            findings.append(Finding(name, "agency_id", rows))
    return findings
