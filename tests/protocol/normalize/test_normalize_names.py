"""Given names, surnames, suffixes and nickname canonicalisation."""

from __future__ import annotations

import pytest

from protocol.identity import MissingReason
from protocol.normalize import (
    canonical_first_names,
    normalize_given_name,
    normalize_suffix,
    normalize_surname,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("José", "JOSE"),
        ("Zoë", "ZOE"),
        ("  maria  ", "MARIA"),
        ("O'Brien", "OBRIEN"),
        ("O’Brien", "OBRIEN"),
        ("Mary Ann", "MARYANN"),
        ("Mary-Ann", "MARYANN"),
        ("J.", "J"),
        ("Strauß", "STRAUSS"),
        ("Øyvind", "OYVIND"),
        ("Æsa", "AESA"),
        ("Łukasz", "LUKASZ"),
        ("Ｊｏｈｎ", "JOHN"),  # full-width letters
        ("Renée2", "RENEE"),
        (b"Jos\xc3\xa9", "JOSE"),  # UTF-8 bytes
        (b"Jos\xe9", "JOSE"),  # Latin-1 bytes from a legacy driver
    ],
)
def test_given_name_folds_case_accents_and_punctuation(raw: object, expected: str) -> None:
    assert normalize_given_name(raw).value == expected


@pytest.mark.parametrize(
    "raw",
    ["UNKNOWN", "unk", "None", "NULL", "NFN", "n.f.n.", "FNU", "LNU", "Test", "Baby Boy",
     "BABY GIRL", "baby-girl", "X", "xxx", "No Name"],
)  # fmt: skip
def test_placeholder_names_are_placeholder(raw: str) -> None:
    assert normalize_given_name(raw).reason is MissingReason.PLACEHOLDER
    assert normalize_surname(raw).reason is MissingReason.PLACEHOLDER


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, MissingReason.ABSENT),
        ("", MissingReason.ABSENT),
        ("   \t", MissingReason.ABSENT),
        (float("nan"), MissingReason.ABSENT),
        ("1234", MissingReason.NO_LETTERS),
        ("--", MissingReason.NO_LETTERS),
        ("Иван", MissingReason.NO_LETTERS),  # other scripts are dropped, not transliterated
        ("A" * 61, MissingReason.TOO_LONG),
        (True, MissingReason.UNPARSEABLE),
        (["Ann"], MissingReason.UNPARSEABLE),
    ],
)
def test_given_name_missing_reasons(raw: object, reason: MissingReason) -> None:
    assert normalize_given_name(raw).reason is reason


def test_given_name_of_exactly_sixty_letters_is_kept() -> None:
    assert normalize_given_name("A" * 60).value == "A" * 60


def test_na_is_a_name_not_a_placeholder() -> None:
    # Na is a Korean surname; "N/A" in a name field cannot be told apart from it.
    assert normalize_surname("Na").value == ("NA", (), None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Smith", ("SMITH", (), None)),
        ("García-López", ("GARCIALOPEZ", ("GARCIA", "LOPEZ"), None)),
        ("GARCÍA–LÓPEZ", ("GARCIALOPEZ", ("GARCIA", "LOPEZ"), None)),  # en dash
        ("Garcia Lopez", ("GARCIALOPEZ", ("GARCIA", "LOPEZ"), None)),
        ("García y López", ("GARCIALOPEZ", ("GARCIA", "LOPEZ"), None)),
        ("de la Cruz", ("DELACRUZ", (), None)),
        ("Garcia de la Cruz", ("GARCIADELACRUZ", ("GARCIA", "DELACRUZ"), None)),
        ("van der Berg-Smith", ("VANDERBERGSMITH", ("VANDERBERG", "SMITH"), None)),
        ("O'Brien", ("OBRIEN", (), None)),
        ("Mc Donald", ("MCDONALD", (), None)),
        ("St. John", ("STJOHN", (), None)),
        ("Nguyen Le", ("NGUYENLE", ("NGUYEN", "LE"), None)),
        ("Le", ("LE", (), None)),
        ("Smith Jr.", ("SMITH", (), "JR")),
        ("SMITH, JR", ("SMITH", (), "JR")),
        ("Smith Junior", ("SMITH", (), "JR")),
        ("Smith Sr", ("SMITH", (), "SR")),
        ("Smith III", ("SMITH", (), "III")),
        ("Smith 3rd", ("SMITH", (), "III")),
        ("Smith 2nd", ("SMITH", (), "II")),
        ("Smith IV", ("SMITH", (), "IV")),
        ("Smith V", ("SMITH", (), "V")),
        ("García-López Jr.", ("GARCIALOPEZ", ("GARCIA", "LOPEZ"), "JR")),
        ("V", ("V", (), None)),  # a suffix needs a name before it
        ("Junior", ("JUNIOR", (), None)),
    ],
)
def test_surname_compact_parts_and_suffix(
    raw: str, expected: tuple[str, tuple[str, ...], str | None]
) -> None:
    assert normalize_surname(raw).value == expected


def test_surname_missing_reasons() -> None:
    assert normalize_surname(None).reason is MissingReason.ABSENT
    assert normalize_surname("12 34").reason is MissingReason.NO_LETTERS
    assert normalize_surname("Jr.").value == ("JR", (), None)
    assert normalize_surname("B" * 61).reason is MissingReason.TOO_LONG
    assert normalize_surname("LNU").reason is MissingReason.PLACEHOLDER


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Jr.", "JR"), ("jr", "JR"), ("J.R.", "JR"), ("Junior", "JR"), ("Sr.", "SR"),
     ("Senior", "SR"), ("II", "II"), ("2nd", "II"), ("III", "III"), ("3rd", "III"),
     ("IV", "IV"), ("4th", "IV"), ("V", "V"), ("5th", "V")],
)  # fmt: skip
def test_suffix_spellings(raw: str, expected: str) -> None:
    assert normalize_suffix(raw).value == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", MissingReason.ABSENT),
        ("N/A", MissingReason.PLACEHOLDER),
        ("none", MissingReason.PLACEHOLDER),
        ("MD", MissingReason.UNKNOWN_CODE),
        ("PhD", MissingReason.UNKNOWN_CODE),
        ("Esq.", MissingReason.UNKNOWN_CODE),
        (".", MissingReason.NO_LETTERS),
    ],
)
def test_suffix_missing_reasons(raw: str, reason: MissingReason) -> None:
    assert normalize_suffix(raw).reason is reason


@pytest.mark.parametrize(
    ("nickname", "formal"),
    [("BILL", "WILLIAM"), ("Bob", "ROBERT"), ("jim", "JAMES"), ("Peggy", "MARGARET"),
     ("Liz", "ELIZABETH"), ("Tony", "ANTHONY"), ("Becky", "REBECCA"), ("Tommy", "THOMAS"),
     ("Jon", "JONATHAN"), ("Alex", "ALEXANDER"), ("Dick", "RICHARD"), ("Mike", "MICHAEL")],
)  # fmt: skip
def test_nickname_maps_to_its_formal_name(nickname: str, formal: str) -> None:
    assert formal in canonical_first_names(nickname)


def test_nickname_canonicals_are_sorted_at_most_three_and_deterministic() -> None:
    assert canonical_first_names("BILL") == ("ROBERT", "WILLIAM", "WILLIS")
    assert canonical_first_names("Tommy") == ("THOMAS",)
    # Nicknames of nicknames are not returned when a formal candidate exists.
    assert "BILL" not in canonical_first_names("BILLY")
    assert "BOBBY" not in canonical_first_names("BOB")


@pytest.mark.parametrize("name", ["WILLIAM", "John", "ROBERT", "Elizabeth", "Nancy"])
def test_formal_name_has_no_canonicals(name: str) -> None:
    assert canonical_first_names(name) == ()


@pytest.mark.parametrize("name", ["Xylophonia", "", "UNKNOWN", "1234"])
def test_unknown_or_unusable_name_has_no_canonicals(name: str) -> None:
    assert canonical_first_names(name) == ()
