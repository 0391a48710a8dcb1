"""Frequency alignment ranks only the encodings whose frequency says something."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from fedlink.attack.features import EncodedColumn
from fedlink.attack.frequency import frequency_alignment
from fedlink.attack.public import PublicTable


def _column(record_encoding: list[int], distinct: int) -> EncodedColumn:
    enc = np.array(record_encoding, dtype=np.int64)
    counts = np.bincount(enc[enc >= 0], minlength=distinct).astype(np.int64)
    features = sp.csr_matrix(np.eye(distinct, dtype=np.float32))
    return EncodedColumn(name="bf_first_name", kind="name", record_encoding=enc,
                         counts=counts, features=features)


TABLE = PublicTable(kind="name", values=("MARY", "JOHN", "ANNA", "ZOE"),
                    weights=np.array([0.4, 0.3, 0.2, 0.1]))


def test_frequency_alignment_names_repeated_encodings_by_rank():
    # encoding 0 three times, encoding 1 twice: ranked MARY, JOHN.
    guesses = frequency_alignment(_column([0, 0, 0, 1, 1, -1], 2), TABLE)
    assert guesses == {0: "MARY", 1: "MARY", 2: "MARY", 3: "JOHN", 4: "JOHN"}


def test_frequency_alignment_does_not_guess_encodings_seen_once():
    # Singletons all tie at one record: their order is arbitrary, so no guess is made.
    guesses = frequency_alignment(_column([0, 0, 1, 2, 3], 4), TABLE)
    assert guesses == {0: "MARY", 1: "MARY"}


def test_frequency_alignment_ignores_copies_one_person_per_agency_explains():
    # Three agencies: an encoding seen three times may be one person at each of them.
    column = _column([0, 0, 0, 0, 1, 1, 1, 2, 2], 3)
    assert frequency_alignment(column, TABLE, agencies=3) == {0: "MARY", 1: "MARY",
                                                               2: "MARY", 3: "MARY"}
