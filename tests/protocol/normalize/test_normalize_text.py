"""The shared pieces: Normalized, NormalizationOptions, text coercion and folding."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from protocol.identity import MissingReason
from protocol.normalize import DEFAULT_OPTIONS, NormalizationOptions, Normalized
from protocol.normalize.text import MAX_RAW_CHARS, coerce_text, fold


def test_normalized_holds_exactly_one_of_value_and_reason() -> None:
    ok: Normalized[str] = Normalized.ok("JOSE")
    missing: Normalized[str] = Normalized.missing(MissingReason.ABSENT)
    assert (ok.value, ok.reason, ok.is_ok) == ("JOSE", None, True)
    assert (missing.value, missing.reason, missing.is_ok) == (None, MissingReason.ABSENT, False)
    with pytest.raises(ValueError, match="exactly one"):
        Normalized("JOSE", MissingReason.ABSENT)
    with pytest.raises(ValueError, match="exactly one"):
        Normalized(None, None)


def test_normalized_is_frozen() -> None:
    result: Normalized[str] = Normalized.ok("JOSE")
    with pytest.raises(AttributeError):
        result.value = "JOHN"  # type: ignore[misc]


def test_options_defaults_and_validation() -> None:
    assert NormalizationOptions("MDY", None, "us") == DEFAULT_OPTIONS
    assert DEFAULT_OPTIONS.reference_date() == dt.date.today()
    pinned = NormalizationOptions(today=dt.datetime(2025, 6, 1, 23, 0))
    assert pinned.reference_date() == dt.date(2025, 6, 1)
    with pytest.raises(ValueError, match="date_order"):
        NormalizationOptions(date_order="YMD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="postal_code_format"):
        NormalizationOptions(postal_code_format="uk")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="today"):
        NormalizationOptions(today="2025-06-01")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  x ", "x"),
        (2134, "2134"),
        (2134.0, "2134"),
        (2134.5, "2134.5"),
        (Decimal("2134.00"), "2134"),
        (b"caf\xc3\xa9", "café"),
        (bytearray(b"abc"), "abc"),
        (memoryview(b"abc"), "abc"),
        (b"caf\xe9", "café"),
        (None, MissingReason.ABSENT),
        ("", MissingReason.ABSENT),
        (float("nan"), MissingReason.ABSENT),
        (Decimal("NaN"), MissingReason.ABSENT),
        (float("-inf"), MissingReason.UNPARSEABLE),
        (True, MissingReason.UNPARSEABLE),
        (object(), MissingReason.UNPARSEABLE),
        (dt.date(2004, 3, 7), MissingReason.UNPARSEABLE),
        ("x" * (MAX_RAW_CHARS + 1), MissingReason.TOO_LONG),
    ],
)
def test_coerce_text(raw: object, expected: str | MissingReason) -> None:
    assert coerce_text(raw) == expected


def test_coerce_text_recognises_numpy_and_pandas_values() -> None:
    numpy = pytest.importorskip("numpy")
    pandas = pytest.importorskip("pandas")
    assert coerce_text(numpy.int64(2134)) == "2134"
    assert coerce_text(numpy.float32(2134.0)) == "2134"
    assert coerce_text(numpy.float64("nan")) is MissingReason.ABSENT
    assert coerce_text(numpy.str_(" ab ")) == "ab"
    assert coerce_text(pandas.NA) is MissingReason.ABSENT
    assert coerce_text(pandas.NaT) is MissingReason.ABSENT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José", "JOSE"),
        ("Zoë", "ZOE"),
        ("Straße", "STRASSE"),
        ("Øre", "ORE"),
        ("Œuvre", "OEUVRE"),
        ("Þór", "THOR"),
        ("ﬁne", "FINE"),
        ("O’Brien", "O'BRIEN"),
        ("a\u00a0b", "A B"),  # no-break space
        ("a–b", "A B"),  # en dash separates, it does not vanish
        ("a\u200bb", "AB"),  # zero-width space is invisible
        ("Иван Ivan", " IVAN"),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected
