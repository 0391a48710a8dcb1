"""Household members are not one person: the twin profile's dependence
(``hub.linkage.household``) in deduplication, and one-to-one runs left as they were."""

from __future__ import annotations

import numpy as np
import pytest

from hub.linkage import LinkageConfig, link
from hub.linkage import engine as engine_module
from hub.linkage.compare import FeatureSpec
from hub.linkage.em import Conditional, FSModel
from hub.linkage.features import DOB_LEVELS
from hub.linkage.household import (
    SAME_DATE_AT_ONE_ADDRESS,
    SAME_SURNAME_AT_ONE_ADDRESS,
    coresident,
    twin_date_u,
)
from hub.linkage.salts import with_salt_level

HOME = {
    "last_name": "KOWALCZYK",
    "dob": "2003-09-17",
    "sex": "M",
    "street_address": "4411 JUNIPER HOLLOW CT",
    "city": "RICHMOND",
    "postal_code": "23220",
}
BANDS = with_salt_level(("missing", "dice<0.5", "dice≥0.5", "dice≥0.7", "dice≥0.85", "dice≥0.95"))


def _one_source(linkage_population, extra):
    """One agency's records of a background population of 2,000 people with a second
    record for one in twenty of them (an agency's duplicate rate is a few per cent; the
    model's prior is the duplicates' share of all pairs), plus ``extra``."""
    a, b = linkage_population(n_people=2000)
    return a + b[: len(a) // 20] + list(extra)


def _clusters(records, token_table):
    result = link({"src": token_table(records)}, LinkageConfig(dedup=("src",)))
    frame = result.clusters.to_pandas()
    return dict(zip(frame["pid"], frame["cluster_id"], strict=True)), result


def test_dedup_twins_at_one_address_with_different_first_names_stay_apart(
    linkage_population, token_table, pid_of
):
    twins = [dict(HOME, first_name="MICHAEL", record_id="T1"),
             dict(HOME, first_name="DANIEL", record_id="T2")]
    cluster, result = _clusters(_one_source(linkage_population, twins), token_table)
    assert cluster[pid_of("T1")] != cluster[pid_of("T2")]
    assert result.report["deduplication"]["within_clusters"] > 0  # duplicates still found


def test_dedup_twins_merge_when_the_household_dependence_is_ignored(
    linkage_population, token_table, pid_of, monkeypatch
):
    """The independent model is what joined them: without the conditional ``u`` the
    twins above are one person (p ≈ 1)."""
    monkeypatch.setattr(engine_module, "coresident", lambda specs, n_records: ())
    twins = [dict(HOME, first_name="MICHAEL", record_id="T1"),
             dict(HOME, first_name="DANIEL", record_id="T2")]
    cluster, _ = _clusters(_one_source(linkage_population, twins), token_table)
    assert cluster[pid_of("T1")] == cluster[pid_of("T2")]


def test_dedup_twins_at_two_addresses_stay_apart(linkage_population, token_table, pid_of):
    """One twin moved: same surname and date, other first name, other address."""
    twins = [dict(HOME, first_name="MICHAEL", record_id="T1"),
             dict(HOME, first_name="DANIEL", record_id="T2", street_address="19 ELM ST",
                  postal_code="23005", city="ASHLAND")]
    cluster, _ = _clusters(_one_source(linkage_population, twins), token_table)
    assert cluster[pid_of("T1")] != cluster[pid_of("T2")]


@pytest.mark.parametrize(("first_name", "sex"), [("JOANNA", "F"), ("ADRIAN", "M")])
def test_dedup_spouse_at_one_address_stays_apart(
    linkage_population, token_table, pid_of, first_name, sex
):
    husband = dict(HOME, first_name="MICHAEL", dob="1974-06-30", record_id="H")
    wife = dict(HOME, first_name=first_name, sex=sex, dob="1975-02-11", record_id="W")
    cluster, _ = _clusters(_one_source(linkage_population, [husband, wife]), token_table)
    assert cluster[pid_of("H")] != cluster[pid_of("W")]


def test_dedup_duplicate_with_a_first_name_typo_at_one_address_still_links(
    linkage_population, token_table, pid_of
):
    one = dict(HOME, first_name="BARTHOLOMEW", record_id="D1")
    two = dict(HOME, first_name="BARTHOLOMEU", record_id="D2")
    cluster, _ = _clusters(_one_source(linkage_population, [one, two]), token_table)
    assert cluster[pid_of("D1")] == cluster[pid_of("D2")]


def test_one_to_one_run_fits_and_scores_without_the_household_dependence(
    linkage_population, token_table
):
    """Between one-to-one agencies the model is the independent one, as before: the
    twin's own record competes through one-to-one instead."""
    twins = [dict(HOME, first_name="MICHAEL", record_id="T1"),
             dict(HOME, first_name="DANIEL", record_id="T2")]
    a, b = linkage_population(extra_a=[dict(twins[0], record_id="AT1")],
                              extra_b=[dict(twins[1], record_id="BT2")])
    result = link({"a": token_table(a), "b": token_table(b)}, LinkageConfig())
    assert result.model.conditional == ()
    # A lone twin on each side: the known limit of one-to-one runs (docs/linkage.md).
    links = result.links.to_pandas()
    assert len(links) and (links["weight"] > 0).all()


def _specs():
    return [FeatureSpec("first_name", "field", BANDS), FeatureSpec("last_name", "field", BANDS),
            FeatureSpec("address", "field", BANDS), FeatureSpec("dob", "field", DOB_LEVELS)]


def test_coresident_conditions_on_one_address_another_first_name_same_surname_and_date():
    (cond,) = coresident(_specs())
    assert cond.given == {0: (2, 3), 1: (6,), 2: (5, 6), 3: (2, 3, 4, 5)}
    assert cond.u[1][6] == SAME_SURNAME_AT_ONE_ADDRESS
    assert cond.u[3][2:].sum() == pytest.approx(SAME_DATE_AT_ONE_ADDRESS)
    assert coresident([s for s in _specs() if s.name != "address"]) == ()


def test_coresident_adds_twins_elsewhere_only_while_they_outnumber_the_date_floor():
    specs = _specs()
    home, elsewhere = coresident(specs, 20_000)
    assert home.given[2] == (5, 6)  # dice ≥ 0.85
    assert elsewhere.given[2] == (0, 1, 2, 3, 4)  # every other address level
    assert elsewhere.u[3][2:].sum() == pytest.approx(twin_date_u(20_000))
    assert 1 / 3000 < twin_date_u(20_000) < 1 / 2000
    assert len(coresident(specs, 1_000_000)) == 1  # below 1/36,525: nothing to correct
    assert twin_date_u(0) == 0.0


def test_conditional_bits_replace_u_only_where_every_condition_holds():
    specs = _specs()
    u = tuple(np.r_[np.nan, np.full(s.n_levels - 1, 1.0 / (s.n_levels - 1))] for s in specs)
    m = tuple(np.r_[np.nan, np.full(s.n_levels - 1, 1.0 / (s.n_levels - 1))] for s in specs)
    (cond,) = coresident(specs)
    model = FSModel(tuple(specs), m, u, 0.5, "em", 1, True, conditional=(cond,))
    twin = np.array([[2, 6, 6, 5]])  # another first name, same surname, address, date
    moved = np.array([[2, 6, 2, 5]])  # the same, addresses dissimilar
    expected = np.log2(u[1][6] / cond.u[1][6]) + np.log2(u[3][5] / cond.u[3][5])
    assert cond.bits(twin, u)[0] == pytest.approx(expected)
    assert cond.bits(moved, u)[0] == 0.0
    assert model.match_weight(twin)[0] == pytest.approx(
        model.match_weight(twin, conditional=False)[0] + expected)
    assert isinstance(cond, Conditional)
