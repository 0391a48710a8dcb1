"""hub.disclosure.safe_tables: reading tables of counts and protecting them with
hub.disclosure.cells — what the airlock then accepts."""

from __future__ import annotations

import pytest

from hub.disclosure.outputs import check_output
from hub.disclosure.safe_tables import TableError, _round, parse_counts, protect


def test_margins_are_checked_and_dropped() -> None:
    table = parse_counts("g,a,b,Total\nx,12,30,42\ny,20,25,45\nAll,32,55,87\n",
                         max_cells=100)
    assert table.had_margins and table.counts.tolist() == [[12, 30], [20, 25]]
    with pytest.raises(TableError) as wrong:
        parse_counts("g,a,b,Total\nx,12,30,41\n", max_cells=100)
    assert wrong.value.code == "margins_mismatch"


def test_one_row_of_counts_is_a_one_way_table() -> None:
    table = parse_counts("g,a,b,c\nn,4,30,40\n", max_cells=100)
    assert table.one_way and table.row_labels == ["a", "b", "c"]
    protected = protect(table, min_cell=10, rounding_base=1, suppress_zeros=False)
    assert protected.csv() == "g,n\na,*\nb,*\nc,40\nTotal,74\n"
    assert check_output(protected.csv(), kind="frequency").passed


def test_small_total_of_a_one_way_table_is_suppressed() -> None:
    table = parse_counts("g,n\na,3\nb,0\nc,4\n", max_cells=100)
    protected = protect(table, min_cell=10, rounding_base=1, suppress_zeros=False)
    assert [row[0].status for row in protected.cells] == [
        "primary", "published", "primary", "primary"]
    assert protected.cells[1][0].value == 0  # zeros published unless the policy says


@pytest.mark.parametrize("value, base, min_cell, rounded", [
    (47, 5, 10, 45), (48, 5, 10, 50), (45, 10, 10, 50), (12, 5, 12, 15), (11, 10, 10, 10),
    (0, 5, 10, 0), (30, 1, 10, 30),
])
def test_rounding_to_nearest_never_below_the_threshold(value: int, base: int, min_cell: int,
                                                       rounded: int) -> None:
    assert _round(value, base, min_cell) == rounded


def test_two_way_protection_is_accepted_by_the_airlock_at_scale() -> None:
    rows = "\n".join(f"r{i}," + ",".join(str((i * 7 + j * 3) % 25) for j in range(6))
                     for i in range(8))
    table = parse_counts("g," + ",".join(f"c{j}" for j in range(6)) + "\n" + rows + "\n",
                         max_cells=1000)
    protected = protect(table, min_cell=10, rounding_base=5, suppress_zeros=True)
    assert protected.count("primary") > 0 and protected.count("complementary") > 0
    result = check_output(protected.csv(), kind="frequency")
    assert result.passed, result.findings


def test_a_single_small_category_cannot_be_made_safe_and_the_airlock_says_so() -> None:
    """The airlock assumes the total known: hiding the only cell and its total protects
    nothing, and the airlock's check on the answer reports it (the API's
    ``airlock_passed: false``) rather than the table passing as safe."""
    protected = protect(parse_counts("g,n\nx,3\n", max_cells=10), min_cell=10,
                        rounding_base=1, suppress_zeros=False)
    assert protected.csv() == "g,n\nx,*\nTotal,*\n"
    result = check_output(protected.csv(), kind="frequency")
    assert [f["check"] for f in result.findings] == ["recoverable_cell"]
