"""What a column's *values* say it is: names, birth dates, SSNs, phones, e-mail, addresses,
ZIP codes, sex codes, identifier-like codes.

``fedlink node init`` streams the source once and keeps a bounded sample of each column
(:class:`ColumnProfile`); :func:`detect` turns a sample into a :class:`ContentFinding`. A
header can lie or say nothing (``COL7``), so the mapping (:mod:`agency_node.ingest.plan`)
combines this with the header: a column whose values look identifying is never offered as
a variable, whatever its name. Thresholds are shares of the non-empty sampled values and
are deliberately generous towards "identifying": a wrong *ignore* costs a steward one
override, a wrong *variable* can put a person's name in a researcher's extract.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources

from agency_node.ingest.columns import is_missing
from protocol.identity import MissingReason
from protocol.normalize import NormalizationOptions
from protocol.normalize.dates import normalize_dob
from protocol.normalize.ssn import ssn_value
from protocol.normalize.text import fold

#: Non-empty values kept per column: enough for stable shares, bounded memory on any file.
SAMPLE_SIZE = 2000
#: Longest value kept in a sample.
MAX_SAMPLED_CHARS = 200
#: Values treated as missing when profiling (not evidence either way).
MISSING = frozenset({"", "N/A", "NA", "NULL", "NONE", "-", "--", "?", "UNKNOWN", "UNK"})

_SSN_DASHED = re.compile(r"\d{3}-\d{2}-\d{4}")
_NINE_DIGITS = re.compile(r"\d{9}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:(?:\+?1|001)[\s.-]?)?\(?[2-9]\d{2}\)?[\s.-]?[2-9]\d{2}[\s.-]?\d{4}"
                    r"(?:\s*(?:x|ext\.?)\s*\d{1,6})?", re.IGNORECASE)
_PHONE_FORMATTED = re.compile(r".*[\s().-].*")
_ZIP = re.compile(r"\d{5}(?:-\d{4})?")
_ZIP4 = re.compile(r"\d{5}-\d{4}")
_STREET = re.compile(
    r"(?:\d+[A-Z]?(?:-\d+)?\s+(?:[A-Z0-9.'-]+\s+){0,5}"
    r"(?:ST|STREET|AVE|AVENUE|RD|ROAD|DR|DRIVE|LN|LANE|CT|COURT|WAY|PL|PLACE|CIR|CIRCLE|BLVD"
    r"|BOULEVARD|TER|TERRACE|TRL|TRAIL|PKWY|PARKWAY|HWY|HIGHWAY|SQ|RUN|RDG|XING|LNDG|HL|LOOP"
    r"|PIKE|ROW|ALY|PATH)\b.*|P\.?\s*O\.?\s*BOX\s+\d+.*)"
)
#: A house number then two or more words: addresses with suffixes the list above lacks
#: (``8411 JOSHUA CREST APT. 261``); counted only when most values have this shape.
_HOUSE_NUMBER = re.compile(r"\d{1,6}[A-Z]?\s+[A-Z][A-Z.'-]*(?:\s+[A-Z0-9.'#,-]+){1,6}")
_NUMERIC_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})(?:\s.*)?")
_ISO_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[T\s].*)?")
_SEX_CODES = frozenset({"M", "F", "X", "U", "MALE", "FEMALE", "UNKNOWN", "OTHER", "NONBINARY"})
_DECIMAL = re.compile(r"[+-]?\$?[\d,]*\.\d+")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./#-]*")


#: Faker's en_US and es_MX given names and surnames, folded, shipped as package data so a
#: node needs no Faker (tests/agency_node/ingest/test_name_lists.py keeps them equal).
_NAME_LISTS = "name_lists.txt"


@functools.cache
def _shipped_names() -> dict[str, frozenset[str]]:
    sections: dict[str, set[str]] = {}
    current: set[str] | None = None
    text = resources.files(__package__).joinpath(_NAME_LISTS).read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], set())
        elif current is not None:
            current.add(line)
    return {name: frozenset(values) for name, values in sections.items()}


@functools.cache
def given_names() -> frozenset[str]:
    """Given names the project ships: SSA-ranked names, Faker's en_US and es_MX lists."""
    from protocol.normalize._name_ranks import POPULAR_GIVEN_NAMES

    ssa = frozenset(_letters(n) for n in POPULAR_GIVEN_NAMES) - {""}
    return ssa | _shipped_names()["given"]


@functools.cache
def surnames() -> frozenset[str]:
    """Surnames the project ships: Faker's frequency-ranked en_US and es_MX lists."""
    return _shipped_names()["surname"]


def _letters(text: str) -> str:
    return re.sub(r"[^A-Z]", "", fold(text).upper())


class RepeatCounter:
    """How often a column's values repeat over the *whole* column, in bounded memory: every
    value while there are few, then only the values in a fixed 1/32 slice of value hashes
    (exact counts for that slice, whatever the row order). The sample of
    :class:`ColumnProfile` cannot say it: a file sorted by period shows each person once in
    its first 2,000 rows."""

    CAP = 5000
    SLICE = 32

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.sliced = False

    @classmethod
    def _in_slice(cls, value: str) -> bool:
        return zlib.crc32(value.encode("utf-8", "replace")) % cls.SLICE == 0

    def add(self, value: str) -> None:
        if self.sliced and not self._in_slice(value):
            return
        self.counts[value] = self.counts.get(value, 0) + 1
        if not self.sliced and len(self.counts) > self.CAP:
            self.sliced = True
            self.counts = {v: n for v, n in self.counts.items() if self._in_slice(v)}

    @property
    def counted(self) -> int:
        """Rows behind :attr:`rows_per_value` (all rows, or those of the slice)."""
        return sum(self.counts.values())

    @property
    def rows_per_value(self) -> float:
        """Rows per distinct value (1.0: every value once)."""
        return self.counted / len(self.counts) if self.counts else 0.0


@dataclass
class ColumnProfile:
    """A bounded sample of one column's non-missing values, filled while streaming; with
    ``repeats``, also how often values repeat over the whole column (id-named columns)."""

    values: list[str] = field(default_factory=list)
    non_empty: int = 0
    rows: int = 0
    repeats: RepeatCounter | None = None

    def add(self, text: str) -> None:
        self.rows += 1
        value = text.strip()
        if value.upper() in MISSING or is_missing(value):
            return
        self.non_empty += 1
        if self.repeats is not None:
            self.repeats.add(value)
        if len(self.values) < SAMPLE_SIZE:
            # No identifier is this long; the cut keeps every pattern check cheap.
            self.values.append(value[:MAX_SAMPLED_CHARS])


@dataclass(frozen=True)
class ContentFinding:
    """What the values look like. ``kind`` is an identity field name, or one of ``email``,
    ``phone``, ``full_name``, ``ssn_like``, ``identifier``; ``share`` of the sample."""

    kind: str
    share: float
    reason: str


def _share(values: list[str], predicate: Callable[[str], object]) -> float:
    """The share of ``values`` the predicate holds for."""
    if not values:
        return 0.0
    return sum(1 for v in values if predicate(v)) / len(values)


def name_tokens(value: str) -> list[str]:
    return [t for t in (_letters(w) for w in re.split(r"[\s,]+", value)) if t]


def _is_name(value: str, names: frozenset[str]) -> bool:
    if re.search(r"\d", value):
        return False
    tokens = name_tokens(value)
    return 1 <= len(tokens) <= 2 and all(t in names for t in tokens)


def date_order_of(values: Iterable[str]) -> str:
    """``MDY``/``DMY``: the order most dates that prove one (a first or second part over
    12) need, so one mistyped date does not flip a file; '' when no date proves either."""
    votes = {"MDY": 0, "DMY": 0}
    for value in values:
        match = _NUMERIC_DATE.fullmatch(value)
        if match:
            first, second = int(match.group(1)), int(match.group(2))
            if first > 12 >= second:
                votes["DMY"] += 1
            elif second > 12 >= first:
                votes["MDY"] += 1
    if votes["MDY"] == votes["DMY"]:
        return ""
    return "MDY" if votes["MDY"] > votes["DMY"] else "DMY"


def _date_share(values: list[str], order: str) -> tuple[float, set[int]]:
    options = NormalizationOptions(date_order=order)  # type: ignore[arg-type]
    parsed, years = 0, set()
    for value in values:
        if not (_NUMERIC_DATE.fullmatch(value) or _ISO_DATE.fullmatch(value)
                or re.fullmatch(r"\d{8}", value) or re.search(r"[A-Za-z]{3}", value)):
            continue
        result = normalize_dob(value, options)
        if result.value is not None:
            parsed += 1
            years.add(result.value.year)
    return (parsed / len(values) if values else 0.0), years


def detect(profile: ColumnProfile) -> ContentFinding | None:
    """The identifying kind the sampled values show, or None when they look like data."""
    values = profile.values
    if not values:
        return None
    checks: list[tuple[str, float, float, str]] = [
        ("email", _share(values, _EMAIL.fullmatch), 0.8, "e-mail addresses"),
        ("ssn", _share(values, _SSN_DASHED.fullmatch), 0.8, "SSNs (ddd-dd-dddd)"),
        ("ssn_like", _share(values, lambda v: bool(_NINE_DIGITS.fullmatch(v))
                            and not isinstance(ssn_value(v), MissingReason)), 0.8,
         "9-digit numbers that pass the SSN rules (SSNs without dashes?)"),
        ("phone", _share(values, lambda v: bool(_PHONE.fullmatch(v))
                         and bool(_PHONE_FORMATTED.fullmatch(v))), 0.8, "phone numbers"),
        ("street_address", _share(values, lambda v: bool(_STREET.fullmatch(v.upper()))), 0.6,
         "street addresses"),
        ("street_address", _share(values, lambda v: bool(_HOUSE_NUMBER.fullmatch(v.upper()))),
         0.8, "street addresses (house number and street)"),
    ]
    for kind, share, threshold, reason in checks:
        if share >= threshold:
            return ContentFinding(kind, share, f"values look like {reason} ({share:.0%})")
    zip_share = _share(values, _ZIP.fullmatch)
    if zip_share >= 0.9 and any(_ZIP4.fullmatch(v) for v in values):
        return ContentFinding("postal_code", zip_share,
                              f"values look like ZIP / ZIP+4 codes ({zip_share:.0%})")
    upper = {v.upper() for v in values}
    if upper <= _SEX_CODES and {"M", "F"} <= upper | {"M" if "MALE" in upper else "",
                                                      "F" if "FEMALE" in upper else ""}:
        return ContentFinding("sex", 1.0, f"values are sex codes ({', '.join(sorted(upper))})")
    found = _names(values) or _dates(values) or _identifier(profile)
    return found


def _names(values: list[str]) -> ContentFinding | None:
    given, family = given_names(), surnames()
    everyone = given | family
    share = _share(values, lambda v: _is_name(v, everyone))
    if share < 0.5:
        return None
    two_words = _share(values, lambda v: len(name_tokens(v)) == 2)
    if two_words >= 0.5:
        return ContentFinding("full_name", share, f"values look like full names ({share:.0%})")
    as_given = _share(values, lambda v: _is_name(v, given))
    as_family = _share(values, lambda v: _is_name(v, family))
    kind = "first_name" if as_given >= as_family else "last_name"
    what = "given names" if kind == "first_name" else "surnames"
    return ContentFinding(kind, share, f"values look like {what} ({share:.0%} on the name lists)")


def _dates(values: list[str]) -> ContentFinding | None:
    order = date_order_of(values) or "MDY"
    share, years = _date_share(values, order)
    if share < 0.8:
        return None
    # Birth dates span decades; enrolment or service dates span a few years.
    if len(years) >= 10 and max(years) <= dt.date.today().year:
        return ContentFinding("dob", share, f"dates spanning {min(years)}–{max(years)} "
                              f"({len(years)} distinct years: birth dates?)")
    return None


def _identifier(profile: ColumnProfile) -> ContentFinding | None:
    values = profile.values
    if len(values) < 20:
        return None
    distinct = len(set(values)) / len(values)
    coded = _share(values, lambda v: bool(_CODE.fullmatch(v)) and not _DECIMAL.fullmatch(v))
    mixed = _share(values, lambda v: bool(re.search(r"[A-Za-z]", v) and re.search(r"\d", v))
                   or bool(re.fullmatch(r"0\d{3,}", v)))
    if distinct >= 0.95 and coded >= 0.95 and mixed >= 0.8:
        return ContentFinding("identifier", distinct,
                              f"identifier-like codes ({distinct:.0%} distinct)")
    return None


def is_code_like(profile: ColumnProfile) -> bool:
    """Nearly all sampled values are codes (letters, digits, ``-_./#``; not decimals)."""
    return bool(profile.values) and _share(
        profile.values, lambda v: bool(_CODE.fullmatch(v)) and not _DECIMAL.fullmatch(v)) >= 0.95


def is_date_like(profile: ColumnProfile) -> bool:
    """Most values are dates (of any accepted order): the column holds dates."""
    return _date_share(profile.values, date_order_of(profile.values) or "MDY")[0] >= 0.8
