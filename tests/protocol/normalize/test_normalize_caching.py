"""The normalisers' caches and fast paths change speed, never a result.

Each row is normalised once with every cache emptied first (so nothing is served from a
cache filled by another row) and compared, field by field and reason by reason, with the
same row normalised with warm caches in a different order, and with the public per-field
functions (which ``normalize_identity`` inlines).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Mapping
from decimal import Decimal

import pytest

from protocol.identity import IDENTITY_FIELDS, MissingReason, NormalizedIdentity
from protocol.normalize import (
    NormalizationOptions,
    Normalized,
    address,
    canonical_first_names,
    dates,
    normalize_city,
    normalize_dob,
    normalize_given_name,
    normalize_identity,
    normalize_postal_code,
    normalize_sex,
    normalize_ssn,
    normalize_street_address,
    normalize_suffix,
    normalize_surname,
    record,
)
from protocol.normalize.result import DateOrder

pd = pytest.importorskip("pandas")

Row = Mapping[str, object]

OPTIONS = (
    NormalizationOptions(),  # today: the clock
    NormalizationOptions(date_order="DMY", today=dt.date(2025, 6, 1)),
    NormalizationOptions(postal_code_format="any", today=dt.date(2031, 1, 1)),
)

# Values that exercise every branch of the fast paths and of the slow paths behind them.
EDGE_VALUES: tuple[object, ...] = (
    "", " ", "\u3000", "  José  ", "O'Brien", "Mary-Ann", "N.F.N.", "XXX", "Baby Boy",
    "20040307", "03072004", "00000000", "2004-03-07", "2004-3-7", "2004-02-30", "0000-00-00",
    "03/07/2004", "00/00/0000", "13/13/2004", "07/03/04", "2004/03/07", "2004-03-07T00:00:00Z",
    "７/３/２００４", "２００４-０３-０７", "20040307 ", " 2004-03-07", "7 March 2004",
    "March 7, 2004", "07-MAR-04", "1900-01-01", "9999-12-31", "2030-01-01", "19000101",
    "38053", "12/31/1999 00:00:00", "1999.12.31", "31.12.1999", "1-1-2000", "2004-03-07 ",
    "123-45-6789", "123456789", "1234567", "078-05-1120", "666-12-3456", "900-12-3456",
    "123-00-4567", "123-45-0000", "12345678.0", "１２３-４５-６７８９", "123 45 6789",
    "23220-1234", "232201234", "2134", "601", "00000", "K1A 0B1", "sw1a 1aa", "23220.0",
    "#4", "Apt #4", "12 Main St. # 5", "P O Box 12", "Post Office Box 9", "N/A", "homeless",
    "123", "12 Main St.", "12 north main street", "4 Rue de l’Église", "...", "X X",
    "M", "f", "1", "2", "9", "U", "non-binary", "Jr.", "III", "MD", "2nd",
    "Smith Jr", "de la Cruz", "García y López", "van der Berg-Smith", "Le", "V", "D E",
    "x" * 300, "  " + "a" * 255, "a" * 256, "\x00", "ü", "Ø",
    None, float("nan"), Decimal("NaN"), 23220, 23220.0, 2134, 223456789, 20040307,
    b"Jos\xe9", bytearray(b"Smith"), True, 1.5, float("inf"), object(),
    dt.date(2004, 3, 7), dt.datetime(2004, 3, 7, 12), dt.date(2999, 1, 1),
)  # fmt: skip


def _synthetic_rows() -> list[Row]:
    from fedlink.bench.datasets import as_strings, raw_rows, throughput_records
    from fedlink.synth import generate

    rows: list[Row] = list(raw_rows(throughput_records(4000, 11)))
    for frame in generate(600, 5).values():
        rows += raw_rows(frame)  # typed cells as the generator makes them
        rows += raw_rows(as_strings(frame))
    rng = random.Random(20261123)
    rows += [
        {f: rng.choice(EDGE_VALUES) for f in IDENTITY_FIELDS if rng.random() < 0.9}
        for _ in range(1500)
    ]
    rows += [dict.fromkeys(IDENTITY_FIELDS, value) for value in EDGE_VALUES]
    rows += [{f: pd.NA for f in IDENTITY_FIELDS}, {f: pd.NaT for f in IDENTITY_FIELDS}, {}]
    return rows


@pytest.fixture(scope="module")
def rows() -> list[Row]:
    return _synthetic_rows()


def _snapshot(identity: NormalizedIdentity) -> tuple[object, ...]:
    """Every field with its exact type, and the problems in their (serialised) order."""
    values = tuple(
        (name, getattr(identity, name), type(getattr(identity, name)))
        for name in (*IDENTITY_FIELDS, "first_name_canonical", "last_name_parts")
    )
    problems = tuple((k, v, type(v)) for k, v in identity.problems.items())
    return values, problems


def test_enough_rows(rows: list[Row]) -> None:
    assert len(rows) >= 5000


@pytest.mark.parametrize("options", OPTIONS, ids=["mdy-clock", "dmy", "postal-any"])
def test_cached_results_equal_uncached_results(
    rows: list[Row], options: NormalizationOptions
) -> None:
    uncached = []
    for row in rows:
        record.clear_caches()
        uncached.append(_snapshot(normalize_identity(row, options)))
    record.clear_caches()
    # Warm caches, rows in another order and each row twice: hits, misses and evictions.
    order = list(range(len(rows))) * 2
    random.Random(7).shuffle(order)
    for i in order:
        assert _snapshot(normalize_identity(rows[i], options)) == uncached[i], rows[i]


def _reference_identity(raw: Row, options: NormalizationOptions) -> NormalizedIdentity:
    """normalize_identity as plainly written: the public field functions, the constructor."""
    get = raw.get
    results: dict[str, Normalized[object]] = {
        "first_name": normalize_given_name(get("first_name")),
        "middle_name": normalize_given_name(get("middle_name")),
        "last_name": normalize_surname(get("last_name")),
        "name_suffix": normalize_suffix(get("name_suffix")),
        "dob": normalize_dob(get("dob"), options),
        "sex": normalize_sex(get("sex")),
        "ssn": normalize_ssn(get("ssn")),
        "postal_code": normalize_postal_code(get("postal_code"), options),
        "street_address": normalize_street_address(get("street_address")),
        "city": normalize_city(get("city")),
    }
    surname = normalize_surname(get("last_name")).value
    last_name, parts, embedded = surname or (None, (), None)
    values = {name: result.value for name, result in results.items()}
    values["last_name"] = last_name
    values["name_suffix"] = values["name_suffix"] or embedded
    problems = {
        name: result.reason
        for name, result in results.items()
        if result.reason is not None and values[name] is None
    }
    first = values["first_name"]
    return NormalizedIdentity(
        **values,  # type: ignore[arg-type]
        first_name_canonical=canonical_first_names(first) if isinstance(first, str) else (),
        last_name_parts=parts,
        problems=problems,
    )


@pytest.mark.parametrize("options", OPTIONS, ids=["mdy-clock", "dmy", "postal-any"])
def test_identity_equals_the_public_field_functions_assembled(
    rows: list[Row], options: NormalizationOptions
) -> None:
    # normalize_identity inlines the fast paths of these functions and fills the slots
    # of the result directly.
    for row in rows:
        expected = _snapshot(_reference_identity(row, options))
        assert _snapshot(normalize_identity(row, options)) == expected, row


def test_fast_construction_builds_what_the_constructor_builds() -> None:
    # If NormalizedIdentity changes, normalize_identity falls back to its constructor;
    # this fails so that record._BUILT_FIELDS is brought up to date (speed, not results).
    assert record._FAST_BUILD, "update protocol/normalize/record.py:_BUILT_FIELDS"
    identity = normalize_identity({"first_name": "Bill", "dob": "2004-03-07", "ssn": "1"})
    rebuilt = NormalizedIdentity(
        **{f.name: getattr(identity, f.name) for f in dataclasses.fields(identity)}
    )
    assert identity == rebuilt
    assert repr(identity) == repr(rebuilt)
    assert hash(tuple(identity.problems.items())) == hash(tuple(rebuilt.problems.items()))
    with pytest.raises(dataclasses.FrozenInstanceError):
        identity.first_name = "X"  # type: ignore[misc]


def test_cached_results_are_immutable_and_shared() -> None:
    first = normalize_given_name("Jose")
    assert normalize_given_name("Jose") is first  # one cached instance for every record
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.value = "X"  # type: ignore[misc]
    surname = normalize_surname("Garcia-Lopez Jr").value
    assert surname == ("GARCIALOPEZ", ("GARCIA", "LOPEZ"), "JR")
    assert isinstance(surname[1], tuple)  # parts are a tuple: no caller can append to it
    # Each record gets its own problems dict (it is mutable), never a shared one.
    one = normalize_identity({"first_name": "Jose"})
    two = normalize_identity({"first_name": "Jose"})
    assert one.problems == two.problems and one.problems is not two.problems


def test_date_results_follow_the_reference_date_not_the_cache() -> None:
    record.clear_caches()
    before = NormalizationOptions(today=dt.date(2025, 12, 31))
    after = NormalizationOptions(today=dt.date(2026, 1, 1))
    for text in ("2026-01-01", "20260101", "01/01/2026"):
        assert normalize_dob(text, before).reason is MissingReason.OUT_OF_RANGE
        assert normalize_dob(text, after).value == dt.date(2026, 1, 1)
        assert normalize_identity({"dob": text}, before).problems["dob"] is (
            MissingReason.OUT_OF_RANGE
        )
        assert normalize_identity({"dob": text}, after).dob == dt.date(2026, 1, 1)
    # Two-digit years pivot on the reference year.
    assert normalize_dob("01/01/26", before).value == dt.date(1926, 1, 1)
    assert normalize_dob("01/01/26", after).value == dt.date(2026, 1, 1)


def test_clock_date_is_read_not_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    from protocol.normalize import result

    record.clear_caches()
    monkeypatch.setattr(result, "_CLOCK", [(float("inf"), dt.date(2025, 12, 31))])
    assert normalize_identity({"dob": "2026-01-01"}).problems["dob"] is (MissingReason.OUT_OF_RANGE)
    monkeypatch.setattr(result, "_CLOCK", [(float("inf"), dt.date(2026, 1, 1))])
    assert normalize_identity({"dob": "2026-01-01"}).dob == dt.date(2026, 1, 1)


def _date_spellings(rng: random.Random) -> list[str]:
    texts = []
    for _ in range(3000):
        y, m, d = rng.randrange(0, 10000), rng.randrange(0, 100), rng.randrange(0, 100)
        if rng.random() < 0.8:  # mostly real-looking dates, around every boundary
            y, m, d = rng.randrange(1795, 2035), rng.randrange(0, 14), rng.randrange(0, 33)
        texts += [f"{y:04d}{m:02d}{d:02d}", f"{y:04d}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y:04d}"]
    texts += ["00000000", "0000-00-00", "00/00/0000", "01234567", "9999-12-31", "12/31/9999"]
    texts += ["2004-03-0x", "2004/03-07", "03/07-2004", "2004_03_07", "03.07.2004", "0304 2004"]
    return texts


@pytest.mark.parametrize("order", ["MDY", "DMY"])
@pytest.mark.parametrize("today", [dt.date(2025, 6, 1), dt.date(2000, 2, 29)])
def test_date_fast_paths_read_as_the_patterns_do(order: DateOrder, today: dt.date) -> None:
    for text in _date_spellings(random.Random(3)):
        fast = dates._dob_from_text.__wrapped__(text, order, today)
        assert fast == dates._parse(text, order, today), text


def test_address_fast_path_tokenises_as_the_table_does(rows: list[Row]) -> None:
    texts = [row.get("street_address") for row in rows]
    texts += ["12 main st", "12  Main\tSt", "APT 4 ", " 4", "ab12 cd", "12 Main St."]
    checked = 0
    for text in texts:
        if isinstance(text, str) and text.isascii() and text.replace(" ", "").isalnum():
            assert text.upper().split() == text.translate(address._ADDRESS_CHARS).split()
            checked += 1
    assert checked > 1000
