"""Small-cell and complementary suppression: hand-made tables with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from hub.disclosure.cells import (
    bridges,
    protect_counts,
    protect_means,
    protect_table,
    with_margins,
)
from hub.disclosure.outputs import OutputFormatError, check_output


def _cells(mask: np.ndarray) -> set[tuple[int, int]]:
    return {tuple(map(int, c)) for c in np.argwhere(mask)}


def test_margins_are_appended() -> None:
    assert with_margins(np.array([[1, 2], [3, 4]])).tolist() == [[1, 2, 3], [3, 4, 7],
                                                               [4, 6, 10]]


def test_two_small_cells_in_one_column_take_the_smallest_row_complements() -> None:
    table = np.array([[50, 3, 40], [60, 5, 45], [70, 80, 90]])
    result = protect_table(table)
    assert _cells(result.primary) == {(0, 1), (1, 1)}
    # Row 0: 40 < 50; row 1: 45 < 60. Then every line holds 0 or 2 and the four cells form
    # a cycle, so nothing else is needed.
    assert _cells(result.complementary) == {(0, 2), (1, 2)}
    assert result.published()[0] == [50, None, None, 93]
    assert bridges(result.suppressed) == []


def test_complements_cascade_until_every_line_is_safe() -> None:
    table = np.array([[20, 3, 15], [12, 30, 18], [25, 22, 40]])
    result = protect_table(table)
    assert _cells(result.primary) == {(0, 1)}
    # row 0 → 15 (both candidates open a column: the smaller); column 1 → 22 (both open a
    # row); column 2 → 40, not 18, because row 2 already holds 22: a 4-cycle.
    assert _cells(result.complementary) == {(0, 2), (2, 1), (2, 2)}
    for line in (*result.suppressed, *result.suppressed.T):
        assert line.sum() in (0, 2)


def test_zero_is_published_and_not_used_as_a_complement() -> None:
    table = np.array([[4, 0, 30], [25, 40, 50]])
    result = protect_table(table)
    assert _cells(result.primary) == {(0, 0)}
    # row 0 → 30 (the zero is skipped); column 0 → 25; row 1 then holds 25 alone and takes
    # 50, whose column already holds 30: a 4-cycle, the zero stays published.
    assert _cells(result.complementary) == {(0, 2), (1, 0), (1, 2)}
    assert result.published()[0] == [None, 0, None, 34]


def test_small_margin_is_itself_suppressed() -> None:
    result = protect_table(np.array([[2, 3], [40, 50]]))
    assert {(0, 0), (0, 1), (0, 2)} <= _cells(result.primary)
    assert bridges(result.suppressed) == []


def test_bridge_between_two_cycles_is_found() -> None:
    mask = np.zeros((5, 5), dtype=bool)
    for cell in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        mask[cell] = True
    # Every line holds 0, 2 or 3 suppressed cells, yet (1, 2) follows from the totals.
    assert bridges(mask) == [(1, 2)]


@pytest.mark.parametrize("seed", range(5))
def test_protected_tables_have_no_recoverable_cell(seed: int) -> None:
    rng = np.random.default_rng(seed)
    table = rng.integers(0, 40, size=(5, 4))
    result = protect_table(table)
    assert bridges(result.suppressed) == []
    assert (result.suppressed >= result.primary).all()
    for line in (*result.suppressed, *result.suppressed.T):
        assert line.sum() != 1


def test_one_dimensional_counts_get_one_complement() -> None:
    assert protect_counts(np.array([25, 4, 12, 30])).published() == [25, None, None, 30]
    assert protect_counts(np.array([25, 4, 0, 30])).published() == [None, None, 0, 30]
    assert protect_counts(np.array([25, 4, 3, 30])).published() == [25, None, None, 30]
    assert protect_counts(np.array([25, 14, 30])).published() == [25, 14, 30]


def test_means_suppressed_with_their_counts() -> None:
    protected, means = protect_means(np.array([40, 6, 25]), np.array([2.5, 3.1, 2.9]))
    assert protected.published() == [40, None, None]
    assert means == [2.5, None, None]


def test_output_check_flags_small_visible_cell_and_lone_suppression() -> None:
    csv = "school,Female,Male,Total\nOak,12,4,16\nElm,*,20,27\nTotal,19,24,43\n"
    result = check_output(csv, kind="frequency")
    assert not result.passed
    assert {(f["check"], f["where"]) for f in result.findings} == {
        ("small_cell", "(Oak, Male)"), ("recoverable_cell", "(Elm, Female)")}


def test_output_check_passes_a_safe_table() -> None:
    csv = "school,Female,Male,Total\nOak,*,*,16\nElm,*,*,27\nPine,30,40,70\nTotal,49,64,113\n"
    result = check_output(csv, kind="frequency")
    assert result.passed, result.findings
    assert result.summary["suppressed_cells"] == 4


def test_output_check_means_and_records() -> None:
    means = "group,n,mean_score\nA,40,250.1\nB,<10,*\nC,25,240.0\nTotal,72,246.0\n"
    assert [f["check"] for f in check_output(means, kind="means").findings] == [
        "recoverable_cell"]
    leaky = "group,n,mean_score\nA,40,250.1\nB,6,231.0\n"
    assert {f["check"] for f in check_output(leaky, kind="means").findings} == {
        "small_cell", "small_group_value"}
    records = "sex,grade,score\nF,3,1\nF,3,2\nM,4,3\n"
    result = check_output(records, kind="records", k=2, quasi_identifiers=["sex", "grade"])
    assert [f["check"] for f in result.findings] == ["k_anonymity"]
    assert "1 combination" in result.findings[0]["detail"]


def test_output_check_refuses_what_is_not_a_table() -> None:
    with pytest.raises(OutputFormatError, match="neither a count"):
        check_output("a,b\nx,seven\n", kind="frequency")
    with pytest.raises(OutputFormatError, match="count column"):
        check_output("a,b\nx,1\n", kind="means")
