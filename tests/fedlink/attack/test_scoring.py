"""Scoring of guesses: recall over records carrying the field, precision over guesses."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from fedlink.attack.features import BigramIndex, EncodedColumn, bigrams
from fedlink.attack.public import column_field
from fedlink.attack.scoring import combine, score, score_full_name


def test_score_counts_recall_over_carriers_and_precision_over_guesses():
    truth = ["ANNA", None, "JOHN", "MARY"]
    result = score({0: "ANNA", 1: "ANNA", 2: "JON"}, truth)
    assert (result.carrying, result.guesses, result.right) == (3, 3, 1)
    assert result.recall == pytest.approx(1 / 3)
    assert result.precision == pytest.approx(1 / 3)


def test_score_without_guesses_or_carriers_is_zero():
    assert score({}, ["A"]).precision == 0.0
    assert score({}, [None]).recall == 0.0


def test_score_refuses_a_guess_outside_the_records():
    with pytest.raises(IndexError):
        score({5: "A"}, ["A"])


def test_full_name_needs_both_names_right_on_one_record():
    first_truth = ["ANNA", "JOHN", "MARY", None]
    last_truth = ["SMITH", "DOE", "JONES", "BROWN"]
    first = {0: "ANNA", 1: "JOHN", 2: "MARY", 3: "X"}
    last = {0: "SMITH", 1: "ROE", 3: "BROWN"}
    result = score_full_name(first, last, first_truth, last_truth)
    assert (result.carrying, result.guesses, result.right) == (3, 3, 1)


def test_combine_takes_the_majority_then_the_first_column():
    assert combine([{0: "A", 1: "B"}, {0: "C", 1: "B"}, {0: "C"}]) == {0: "C", 1: "B"}
    assert combine([{0: "A"}, {0: "C"}]) == {0: "A"}


def test_bloom_columns_become_bit_sets_and_merge_identical_rows():
    rows = [b"\x01" + bytes(63), None, b"\x01" + bytes(63), b"\x03" + bytes(63)]
    column = EncodedColumn.of("bf_first_name", pa.array(rows, type=pa.binary(64)))
    assert column.record_encoding.tolist()[1] == -1
    assert column.record_encoding[0] == column.record_encoding[2]
    assert column.distinct == 2 and column.present == 3
    assert sorted(column.sizes.tolist()) == [1.0, 2.0]


def test_minhash_columns_become_slot_byte_features():
    rows = [bytes(range(64)), bytes(range(64))]
    column = EncodedColumn.of("mh_last_name__yob", pa.array(rows, type=pa.binary(64)))
    assert column.distinct == 1
    features = np.flatnonzero(column.features.toarray()[0])
    assert features.tolist() == [slot * 256 + slot for slot in range(64)]


def test_bigrams_are_padded_byte_bigrams():
    assert bigrams("ANN") == {b"\x00A", b"AN", b"NN", b"N\x00"}
    index = BigramIndex.of(["ANN", "NAN"])
    assert index.incidence.shape == (2, len(set(index.grams)))
    assert column_field("mh_first_name__yob") == "first_name"
    assert column_field("pid") is None
