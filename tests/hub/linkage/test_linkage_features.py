"""Field features derived from rule agreements, on the protocol's real tokens."""

from __future__ import annotations

import numpy as np
import pytest

from hub.linkage.compare import compare_pairs, feature_specs
from hub.linkage.config import LinkageConfig
from hub.linkage.features import field_features
from hub.linkage.tokens import prepare

BASE = {"first_name": "Robert", "last_name": "Fitzgerald", "dob": "2001-04-09", "sex": "M",
        "ssn": "219-45-7781", "street_address": "18 LAUREL ST", "postal_code": "23220"}


@pytest.fixture
def fields(token_table):
    """Field levels of the pair (BASE, other) by feature name."""

    def compare(other: dict, left: dict = BASE) -> dict[str, str]:
        config = LinkageConfig()
        agencies, keys, blooms = prepare(
            {"a": token_table([left], "A"), "b": token_table([other], "B")}
        )
        raw = feature_specs(keys, blooms, config)
        plan = field_features(raw)
        levels = plan.derive(
            compare_pairs(agencies[0], agencies[1], np.array([0]), np.array([0]), raw, config)
        )[0]
        return {s.name: s.levels[v] for s, v in zip(plan.specs, levels, strict=True)}

    return compare


def test_identical_records_agree_on_every_field(fields):
    got = fields(dict(BASE))
    assert got == {"first_name": "dice≥0.95", "last_name": "dice≥0.95",
                   "address": "dice≥0.95", "dob": "same", "ssn": "same", "sex": "same",
                   # partial dates only when dates differ; the address already holds the ZIP
                   "birth_month": "unknown", "postal_code": "unknown",
                   "bf_middle_name": "missing"}


def test_nickname_raises_first_name_to_the_top_level(fields):
    assert fields(dict(BASE, first_name="Bob"))["first_name"] == "dice≥0.95"


def test_day_month_swap_counts_as_the_same_birth_date(fields):
    assert fields(dict(BASE, dob="2001-09-04"))["dob"] == "same"


def test_birth_date_typo_is_inferred_from_disagreeing_rules(fields):
    got = fields(dict(BASE, dob="2001-04-19"))
    assert (got["dob"], got["birth_month"]) == ("differs", "same")
    got = fields(dict(BASE, dob="1999-08-23"))
    assert (got["dob"], got["birth_month"]) == ("differs", "differs")


def test_birth_month_is_unknown_without_independent_name_evidence(fields):
    # Names close but not equal: the prefix rule could only ever be seen agreeing.
    got = fields(dict(BASE, first_name="Robret", last_name="Fitzgerlad", dob="2001-04-19"))
    assert got["birth_month"] == "unknown"


def test_ssn_typo_differs_and_missing_ssn_is_unknown(fields):
    assert fields(dict(BASE, ssn="219-45-7718"))["ssn"] == "differs"
    assert fields(dict(BASE, ssn=""))["ssn"] == "unknown"


def test_without_a_shared_name_the_birth_date_is_unknown_not_different(fields):
    got = fields(dict(BASE, first_name="Ignatius", last_name="Oyelaran", dob="1987-12-30",
                      ssn=""))
    assert got["dob"] == "unknown"
    # Another birth date and no shared household: the salted name filters were never
    # comparable, so a low score is "dissimilar or other salt", not "dissimilar".
    assert got["first_name"] == "dissimilar or other salt"


def test_names_known_to_share_a_salt_read_as_dissimilar(fields):
    # Same birth date (a date rule agreed): the filters share their salt, so a low score
    # is a real difference.
    got = fields(dict(BASE, first_name="Ignatius", ssn=""))
    assert got["dob"] == "same"
    assert got["first_name"] == "dice<0.5"


def test_zip_is_compared_only_where_the_address_filter_is_not(fields):
    # Without a street the ZIP is read from the birth-date-and-ZIP5 rule, the birth date
    # being known from the name rules; with both address filters present it stays
    # unknown (the address string already holds the ZIP).
    got = fields(dict(BASE, street_address="", postal_code="24401"))
    assert got["address"] == "missing"
    assert got["postal_code"] == "differs"
    assert fields(dict(BASE, street_address=""))["postal_code"] == "same"
    assert fields(dict(BASE, postal_code="24401"))["postal_code"] == "unknown"
    # No independent evidence of the birth date (other names): the ZIP is not seen.
    got = fields(dict(BASE, first_name="Ignatius", last_name="Oyelaran", ssn="",
                      street_address="", postal_code="24401"))
    assert got["postal_code"] == "unknown"


def test_birth_date_seen_only_through_a_name_prefix_has_its_own_level(fields):
    # Other first name, other surname: no name is known to agree, but the first-name
    # prefix and the birth date are shared.
    got = fields(dict(BASE, first_name="Roland", last_name="Okafor", ssn=""))
    assert got["dob"] == "same through one name"
    assert fields(dict(BASE))["dob"] == "same"


def test_birth_date_through_a_prefix_of_a_similar_name_is_a_stronger_level(fields):
    # Other first name, misspelt surname: still no name is known to agree, but the
    # surname is similar, so the shared prefix and date are most likely this person's.
    got = fields(dict(BASE, first_name="Roland", last_name="Fitzgerlad", ssn=""))
    assert got["last_name"] not in ("dice<0.5", "dice≥0.95")
    assert got["dob"] == "same through a similar name"
    # A misspelt first name works the same way (KEELY ~ KELEY, another surname).
    got = fields(dict(BASE, first_name="Robret", last_name="Okafor", ssn=""))
    assert got["dob"] == "same through a similar name"


def test_first_last_swap_compares_names_across_fields(fields):
    got = fields(dict(BASE, first_name="Fitzgerald", last_name="Robert"))
    assert (got["first_name"], got["last_name"]) == ("dice≥0.95", "dice≥0.95")
    # ... and the swap-tolerant rules then show the birth date.
    assert got["dob"] == "same"


def test_swapped_names_with_a_typo_compare_at_their_cross_level(fields):
    # First name A against last name B, last name A against first name B.
    got = fields(dict(BASE, first_name="Fitzgerlad", last_name="Robert", ssn=""))
    assert (got["first_name"], got["last_name"]) == ("dice≥0.95", "dice≥0.7")


def test_either_name_rule_alone_does_not_make_a_name_the_same(fields):
    # Same first-name prefix and birth date, other first name and surname: the prefix rule
    # agrees, yet neither name is raised to the top level.
    got = fields(dict(BASE, first_name="Roberta", last_name="Okafor", ssn="",
                      street_address="3 ELM ST", postal_code="24401"))
    assert got["last_name"] == "dice<0.5"
    assert got["first_name"] != "dice≥0.95"


def test_middle_name_is_compared_when_both_have_one_in_full(fields):
    with_middle = dict(BASE, middle_name="Anselm")
    assert fields(with_middle, left=with_middle)["bf_middle_name"] == "dice≥0.95"
    assert fields(dict(BASE, middle_name="A"), left=with_middle)["bf_middle_name"] == "missing"
    assert fields(dict(BASE, middle_name="Bartholomew"), left=with_middle)[
        "bf_middle_name"] == "dice<0.5"


def test_both_names_replaced_same_birth_date_and_zip_reads_the_birth_date(fields):
    # FEBRL's hardest errors: both names replaced, another street; the birth date and the
    # ZIP5 are kept. Only the nameless dob_zip5 key holds the birth date, so it is "same"
    # at its own level, below the level the name rules give it.
    other = dict(BASE, first_name="Ignatius", last_name="Oyelaran", ssn="",
                 street_address="7 BIRCH CT")
    got = fields(other)
    assert (got["first_name"], got["last_name"]) == ("dice<0.5", "dice<0.5")
    assert got["dob"] == "same with the ZIP"
    # Another ZIP (or another birth date): the key does not agree, the date is unknown.
    assert fields(dict(other, postal_code="24401"))["dob"] == "unknown"
    assert fields(dict(other, dob="2001-04-10"))["dob"] == "unknown"


def test_dob_zip5_does_not_change_levels_the_name_rules_already_give(fields):
    # Same person, same ZIP: the name rules make the birth date "same"; through a name
    # prefix it stays at that level even though the dob_zip5 key agrees too.
    assert fields(dict(BASE))["dob"] == "same"
    got = fields(dict(BASE, first_name="Roland", last_name="Okafor", ssn=""))
    assert got["dob"] == "same through one name"
