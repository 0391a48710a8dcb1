"""How each agency formats identity fields and how often it gets them wrong.

One :class:`AgencyProfile` per agency. Rates are per record; a rate that applies only
where it can (a nickname where the name has one, a day/month swap where the day is 12 or
less and differs from the month) is conditional on that. The table in
``docs/synthetic-data.md`` lists the same numbers with the reasons behind them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AgencyProfile:
    """Formats and error rates of one agency's identity fields."""

    code: str
    file_name: str
    # formats
    name_case: dict[str, float]  # case style → share of records
    strip_accents: float  # share of records whose names lose their accents
    hyphen_to_space: float  # compound surnames written with a space
    suffix_spelling: dict[str, str]
    suffix_in_surname: float  # suffix appended to the surname field instead
    dob_format: str  # "iso", "mdy" or "compact"
    sex_codes: tuple[str, str]  # (male, female)
    sex_unknown_code: str | None  # written for an unknown sex; None = blank
    ssn_format: str | None  # "dashed", "digits" or None (no SSNs held)
    street_abbreviated: float  # USPS suffix abbreviation (ST) instead of Street
    unit_formats: tuple[str, ...]
    city_abbreviated: float  # Mount → Mt., Fort → Ft., Saint → St.
    zip4: float  # ZIP+4 written
    zip4_without_dash: float  # of those, written as 9 bare digits
    address_slot: tuple[float, float, float]  # childhood, 2nd, 3rd address
    # errors
    nickname: float
    given_typo: float
    surname_typo: float
    middle_typo: float
    given_middle_swap: float
    middle_missing: float
    middle_initial_only: float
    suffix_missing: float
    dob_day_month_swap: float
    dob_day_off_by_one: float
    dob_year_typo: float
    dob_missing: float
    sex_unknown: float
    sex_wrong: float
    ssn_present: float
    ssn_transposed: float
    ssn_digit_typo: float
    street_typo: float
    city_typo: float


K12 = AgencyProfile(
    code="K12", file_name="k12.csv",
    name_case={"upper": 1.0}, strip_accents=1.0, hyphen_to_space=0.0,
    suffix_spelling={"Jr": "JR", "II": "II", "III": "III", "IV": "IV"}, suffix_in_surname=0.0,
    dob_format="iso", sex_codes=("M", "F"), sex_unknown_code=None, ssn_format=None,
    street_abbreviated=1.0, unit_formats=("APT {}",), city_abbreviated=0.0,
    zip4=0.0, zip4_without_dash=0.0, address_slot=(1.0, 0.0, 0.0),
    nickname=0.01, given_typo=0.01, surname_typo=0.01, middle_typo=0.005,
    given_middle_swap=0.003, middle_missing=0.05, middle_initial_only=0.0,
    suffix_missing=0.10, dob_day_month_swap=0.005, dob_day_off_by_one=0.002,
    dob_year_typo=0.001, dob_missing=0.0, sex_unknown=0.002, sex_wrong=0.001,
    ssn_present=0.0, ssn_transposed=0.0, ssn_digit_typo=0.0,
    street_typo=0.005, city_typo=0.003,
)  # fmt: skip

HIGHER_ED = AgencyProfile(
    code="HE", file_name="highered.csv",
    name_case={"title": 1.0}, strip_accents=0.0, hyphen_to_space=0.05,
    suffix_spelling={"Jr": "Jr.", "II": "II", "III": "III", "IV": "IV"}, suffix_in_surname=0.0,
    dob_format="mdy", sex_codes=("Male", "Female"), sex_unknown_code=None, ssn_format="dashed",
    street_abbreviated=0.0, unit_formats=("Apt. {}",), city_abbreviated=0.0,
    zip4=0.20, zip4_without_dash=0.0, address_slot=(0.6, 0.4, 0.0),
    nickname=0.05, given_typo=0.02, surname_typo=0.015, middle_typo=0.01,
    given_middle_swap=0.01, middle_missing=0.25, middle_initial_only=0.10,
    suffix_missing=0.30, dob_day_month_swap=0.015, dob_day_off_by_one=0.003,
    dob_year_typo=0.002, dob_missing=0.002, sex_unknown=0.01, sex_wrong=0.002,
    ssn_present=0.85, ssn_transposed=0.005, ssn_digit_typo=0.005,
    street_typo=0.01, city_typo=0.005,
)  # fmt: skip

WORKFORCE = AgencyProfile(
    code="WF", file_name="workforce.csv",
    name_case={"upper": 0.5, "keep": 0.4, "lower": 0.1}, strip_accents=0.5, hyphen_to_space=0.4,
    suffix_spelling={"Jr": "Jr", "II": "2nd", "III": "3rd", "IV": "IV"}, suffix_in_surname=0.3,
    dob_format="compact", sex_codes=("1", "2"), sex_unknown_code="0", ssn_format="digits",
    street_abbreviated=0.5, unit_formats=("#{}", "Apt {}", "Unit {}"), city_abbreviated=0.5,
    zip4=0.35, zip4_without_dash=0.3, address_slot=(0.35, 0.30, 0.35),
    nickname=0.12, given_typo=0.03, surname_typo=0.025, middle_typo=0.01,
    given_middle_swap=0.015, middle_missing=0.35, middle_initial_only=0.30,
    suffix_missing=0.40, dob_day_month_swap=0.02, dob_day_off_by_one=0.005,
    dob_year_typo=0.003, dob_missing=0.005, sex_unknown=0.01, sex_wrong=0.003,
    ssn_present=0.98, ssn_transposed=0.015, ssn_digit_typo=0.005,
    street_typo=0.02, city_typo=0.01,
)  # fmt: skip

PROFILES: tuple[AgencyProfile, ...] = (K12, HIGHER_ED, WORKFORCE)
