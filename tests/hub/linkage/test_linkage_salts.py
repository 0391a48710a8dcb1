"""The salted features' fit: ``u`` of the Dice bands given a shared salt, and how pairs not
known to share one are fitted and scored (hub.linkage.salts)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from fedlink.synth import generate
from hub.linkage.compare import FeatureSpec
from hub.linkage.features import DOB_LEVELS
from hub.linkage.salts import (
    SHARED_DATE_DAYS,
    SHARED_SALT_U,
    UNSALTED_LEVEL,
    fixed_u,
    merge_unsalted,
    tied_levels,
    unsalted_as_missing,
)
from protocol.encoding import address_value
from protocol.keys import derive_project_keys
from protocol.normalize import normalize_identity
from protocol.salted_bloom import dice, salted_field_filters
from protocol.salts import dob_salt_ids

BANDS = (0.5, 0.7, 0.85, 0.95)


@pytest.fixture(scope="module")
def values() -> dict[str, list[str]]:
    frames = generate(people=6000, seed=11)
    identities = [normalize_identity(row) for frame in frames.values()
                  for row in frame.drop(columns=["truth_id"], errors="ignore")
                  .astype(object).where(frame.notna(), None).to_dict("records")]
    return {
        "first_name": [i.first_name for i in identities if i.first_name],
        "last_name": [i.last_name for i in identities if i.last_name],
        "address": [v for i in identities
                    if (v := address_value(i.street_address, i.postal_code, i.city))],
    }


@pytest.mark.parametrize("field", ["first_name", "last_name", "address"])
def test_shared_salt_u_is_what_random_pairs_of_people_give(values, field):
    """Re-measure the constant: random pairs of the generator's values (census/SSA
    weights) under one salt, banded by the default Dice levels."""
    rng = np.random.default_rng(5)
    keys = derive_project_keys(b"\x71" * 32, b"shared-salt-u-test-salt-01234567",
        project_id="P-test", project_digest="ab" * 32)
    pool = values[field]
    n = 6000
    left = [pool[i] for i in rng.integers(0, len(pool), n)]
    right = [pool[i] for i in rng.integers(0, len(pool), n)]
    salts = dob_salt_ids([dt.date(2000, 1, 1)] * n)
    a, _ = salted_field_filters(field, left, salts, keys)
    b, _ = salted_field_filters(field, right, salts, keys)
    scores = np.array([dice(x.tobytes(), y.tobytes()) for x, y in zip(a, b, strict=True)])
    shares = np.bincount(np.searchsorted(BANDS, scores, side="right"), minlength=5) / n
    expected = np.asarray(SHARED_SALT_U[field])
    tolerance = 0.012 if field == "address" else 0.006  # addresses cluster by place
    assert np.all(np.abs(shares - expected) < tolerance), (shares.round(4), expected)


def _spec(name: str) -> FeatureSpec:
    return FeatureSpec(name, "field", ("missing", UNSALTED_LEVEL, "dice<0.5", "dice≥0.5",
                                       "dice≥0.7", "dice≥0.85", "dice≥0.95"))


def test_unsalted_level_is_merged_to_fit_and_unknown_to_score():
    specs = [_spec("first_name"), FeatureSpec("dob", "field", ("unknown", "differs", "same"))]
    patterns = np.array([[1, 1], [2, 2], [6, 1]], dtype=np.int8)
    assert merge_unsalted(patterns, specs).tolist() == [[2, 1], [2, 2], [6, 1]]
    assert unsalted_as_missing(patterns, specs).tolist() == [[0, 1], [2, 2], [6, 1]]


def test_fixed_u_covers_the_salted_features_and_the_birth_date():
    specs = [_spec("first_name"), _spec("address"),
             FeatureSpec("dob", "field", ("unknown", "differs", "same")),
             FeatureSpec("sex", "field", ("unknown", "differs", "same"))]
    fixed = fixed_u(specs)
    assert set(fixed) == {0, 1, 2}
    assert fixed[0][0] < 1e-6 and fixed[0][1:].tolist() == list(SHARED_SALT_U["first_name"])
    # Two different people share a birth date at least once in a century of days.
    assert fixed[2].tolist() == pytest.approx([1 - 1 / SHARED_DATE_DAYS, 1 / SHARED_DATE_DAYS])


def test_birth_date_same_levels_are_tied_and_share_the_floor():
    dob = FeatureSpec("dob", "field", DOB_LEVELS)
    specs = [_spec("first_name"), dob, FeatureSpec("sex", "field", ("unknown", "differs", "same"))]
    tied = tied_levels(specs)
    assert set(tied) == {1}
    # Over the non-missing levels: "differs" stands alone, every "same" level is tied.
    assert tied[1].tolist() == [label != "differs" for label in DOB_LEVELS[1:]]
    # However the hub saw the date, two people share it with probability 1/SHARED_DATE_DAYS.
    u = fixed_u(specs)[1]
    assert u[tied[1]].sum() == pytest.approx(1 / SHARED_DATE_DAYS)
    assert u.sum() == pytest.approx(1.0)
    # A date with one "same" level has nothing to tie.
    assert tied_levels([FeatureSpec("dob", "field", ("unknown", "differs", "same"))]) == {}
