"""Street addresses and city names."""

from __future__ import annotations

import pytest

from protocol.identity import MissingReason
from protocol.normalize import normalize_city, normalize_street_address
from protocol.normalize.address import DIRECTIONALS, STREET_SUFFIXES, UNIT_DESIGNATORS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123 North Main Street, Apt. #4", "123 N MAIN ST APT 4"),
        ("123 N. Main St. Apt 4", "123 N MAIN ST APT 4"),
        ("123 n main st #4", "123 N MAIN ST APT 4"),
        ("123 Main St Apartment 4", "123 MAIN ST APT 4"),
        ("123 Main St Suite #200", "123 MAIN ST STE 200"),
        ("45 Southwest Oak Avenue", "45 SW OAK AVE"),
        ("9 Elm Boulevard, Floor 3", "9 ELM BLVD FL 3"),
        ("77 Sunset Road Unit B", "77 SUNSET RD UNIT B"),
        ("P.O. Box 12", "PO BOX 12"),
        ("PO Box 12", "PO BOX 12"),
        ("POBox 12", "PO BOX 12"),
        ("Post Office Box 12", "PO BOX 12"),
        ("  12   Rue   de l'Église  ", "12 RUE DE LEGLISE"),
        ("1600 Pennsylvania Ave NW", "1600 PENNSYLVANIA AVE NW"),
    ],
)
def test_street_address_standard_form(raw: str, expected: str) -> None:
    assert normalize_street_address(raw).value == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", MissingReason.ABSENT),
        (None, MissingReason.ABSENT),
        ("12345", MissingReason.NO_LETTERS),
        ("unknown", MissingReason.PLACEHOLDER),
        ("N/A", MissingReason.PLACEHOLDER),
        ("Homeless", MissingReason.PLACEHOLDER),
        ("XXXX", MissingReason.PLACEHOLDER),
        ("1 " + "Long " * 30, MissingReason.TOO_LONG),
        (12, MissingReason.NO_LETTERS),
    ],
)
def test_street_address_missing_reasons(raw: object, reason: MissingReason) -> None:
    assert normalize_street_address(raw).reason is reason


def test_abbreviation_tables_map_abbreviations_to_themselves() -> None:
    # Idempotence depends on it: no abbreviation may itself be rewritten.
    for table in (STREET_SUFFIXES, DIRECTIONALS, UNIT_DESIGNATORS):
        merged = {**STREET_SUFFIXES, **DIRECTIONALS, **UNIT_DESIGNATORS}
        for abbreviation in table.values():
            assert merged.get(abbreviation, abbreviation) == abbreviation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Richmond", "RICHMOND"),
        ("  richmond ", "RICHMOND"),
        ("St. Louis", "ST LOUIS"),
        ("St.Louis", "ST LOUIS"),
        ("Saint Louis", "ST LOUIS"),
        ("Sainte Genevieve", "STE GENEVIEVE"),
        ("Fort Worth", "FT WORTH"),
        ("Ft. Worth", "FT WORTH"),
        ("Mount Vernon", "MT VERNON"),
        ("Winston-Salem", "WINSTON SALEM"),
        ("Coeur d'Alene", "COEUR DALENE"),
        ("Cañon City", "CANON CITY"),
        ("Zürich 8001", "ZURICH"),
    ],
)
def test_city_standard_form(raw: str, expected: str) -> None:
    assert normalize_city(raw).value == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", MissingReason.ABSENT),
        ("23220", MissingReason.NO_LETTERS),
        ("Unknown", MissingReason.PLACEHOLDER),
        ("X", MissingReason.PLACEHOLDER),
        ("Llan" * 16, MissingReason.TOO_LONG),
    ],
)
def test_city_missing_reasons(raw: object, reason: MissingReason) -> None:
    assert normalize_city(raw).reason is reason
