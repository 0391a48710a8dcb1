"""The nameless birth-date-and-ZIP5 blocking key (``bk_dob_zip5``) in the hub: candidates
for records whose both names were replaced, read as birth-date evidence."""

from __future__ import annotations

import numpy as np

from hub.linkage.candidates import candidate_pairs
from hub.linkage.compare import compare_pairs, feature_specs
from hub.linkage.config import LinkageConfig
from hub.linkage.engine import add_bloom_keys
from hub.linkage.features import DOB_LEVELS, field_features
from hub.linkage.tokens import prepare

LEFT = {"first_name": "Robert", "last_name": "Fitzgerald", "dob": "2001-04-09", "sex": "M",
        "street_address": "18 LAUREL ST", "postal_code": "23220"}
#: Both names replaced, another street; the birth date and the ZIP5 kept.
RIGHT = dict(LEFT, first_name="Ignatius", last_name="Oyelaran", street_address="7 BIRCH CT")


def _pairs(token_table, right: dict, keys_filter=lambda k: True) -> set[tuple[int, int]]:
    config = LinkageConfig()
    agencies, keys, blooms = prepare(
        {"a": token_table([LEFT], "A"), "b": token_table([right], "B")}
    )
    block_keys = [k for k in keys if keys_filter(k)] + add_bloom_keys(agencies, blooms, config)
    found = candidate_pairs(agencies[0], agencies[1], block_keys, max_block=config.max_block,
                            max_candidates=config.max_candidates)
    return set(zip(found.left_rows.tolist(), found.right_rows.tolist(), strict=True))


def test_both_names_replaced_are_candidates_through_dob_zip5_only(token_table):
    assert _pairs(token_table, RIGHT) == {(0, 0)}
    assert _pairs(token_table, RIGHT, lambda k: k != "bk_dob_zip5") == set()
    assert _pairs(token_table, dict(RIGHT, postal_code="24401")) == set()


def test_the_candidate_reads_the_birth_date_as_same(token_table):
    config = LinkageConfig()
    agencies, keys, blooms = prepare(
        {"a": token_table([LEFT], "A"), "b": token_table([RIGHT], "B")}
    )
    assert "bk_dob_zip5" in keys
    raw = feature_specs(keys, blooms, config)
    key = [s.name for s in raw].index("bk_dob_zip5")
    levels = compare_pairs(agencies[0], agencies[1], np.array([0]), np.array([0]), raw, config)
    assert raw[key].levels[levels[0, key]] == "agree"
    plan = field_features(raw)
    fields = dict(zip([s.name for s in plan.specs], plan.derive(levels)[0].tolist(), strict=True))
    assert DOB_LEVELS[fields["dob"]] == "same with the ZIP"
