"""``fedlink output protect --table``: the group-by runs on the researcher's machine over the
decrypted extract's tables (joined on person_id) and yields only a table of counts."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fedlink.commands.output_protect import group_counts
from fedlink.errors import CommandError


def test_tables_joined_on_person_id_count_people_by_two_variables(tmp_path: Path) -> None:
    pq.write_table(pa.table({"person_id": ["a", "b", "c", "d", "e"],
                             "school": ["Oak", "Oak", "Elm", "Elm", None]}),
                   tmp_path / "agency_K12.parquet")
    # d is not in HE (an inner join drops it); b appears twice (counted once per cell).
    pq.write_table(pa.table({"person_id": ["a", "b", "b", "c", "e", "z"],
                             "enrolled": [True, False, False, True, True, True]}),
                   tmp_path / "agency_HE.parquet")
    csv = group_counts([tmp_path / "agency_K12.parquet", tmp_path / "agency_HE.parquet"],
                       "school", "enrolled")
    assert csv == "school,false,true\n(missing),0,1\nElm,0,1\nOak,1,1\n"


def test_csv_table_without_person_id_counts_rows_one_way(tmp_path: Path) -> None:
    table = tmp_path / "rows.csv"
    table.write_text("grade,score\n3,10\n3,12\n10,9\n4,11\n", encoding="utf-8")
    assert group_counts([table], "grade", None) == "grade,n\n3,2\n4,1\n10,1\n"


def test_unknown_variable_and_unreadable_table_are_command_errors(tmp_path: Path) -> None:
    table = tmp_path / "rows.csv"
    table.write_text("grade\n3\n", encoding="utf-8")
    with pytest.raises(CommandError, match="no --table has a column 'school'"):
        group_counts([table], "school", None)
    (tmp_path / "rows.txt").write_text("grade\n3\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"takes the extract's \.parquet or \.csv"):
        group_counts([tmp_path / "rows.txt"], "grade", None)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(CommandError, match="is not a readable table"):
        group_counts([tmp_path / "broken.parquet"], "grade", None)
    with pytest.raises(CommandError, match="does not exist"):
        group_counts([tmp_path / "gone.parquet"], "grade", None)
