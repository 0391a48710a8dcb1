"""The partitioned engine's files and sizes: columns written in row ranges by separate
tasks and read back in slices, arrays saved together, and the sizes chosen for a run."""

from __future__ import annotations

import numpy as np
import pytest

from hub.linkage.partitioned.layout import (
    load_arrays,
    new_column,
    read_rows,
    release_cache,
    save_arrays,
    write_rows,
)
from hub.linkage.partitioned.options import ScaleOptions, plan_sizes


def test_column_written_in_disjoint_ranges_reads_back_whole_and_in_slices(tmp_path):
    path = tmp_path / "bits.npy"
    new_column(path, (10, 3), np.uint8)
    values = np.arange(30, dtype=np.uint8).reshape(10, 3)
    write_rows(path, 6, values[6:])  # tasks finish in any order
    write_rows(path, 0, values[:6])
    assert np.array_equal(np.load(path), values)  # a valid .npy file
    assert np.array_equal(read_rows(path), values)
    assert np.array_equal(read_rows(path, 4, 7), values[4:7])
    assert read_rows(path, 9, 20).shape == (1, 3)  # clipped at the end
    release_cache(path)  # a hint: the file is unchanged
    assert np.array_equal(read_rows(path), values)


def test_arrays_saved_together_load_by_name_without_pickle(tmp_path):
    path = tmp_path / "part.arrays"
    save_arrays(path, hi=np.array([3, -1], np.int64), rows=np.array([0, 7], np.int32))
    loaded = load_arrays(path)
    assert list(loaded) == ["hi", "rows"]
    assert loaded["hi"].tolist() == [3, -1] and loaded["rows"].dtype == np.int32


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ValueError):
        save_arrays(tmp_path / "x.arrays", bad=np.array([object()], dtype=object))


@pytest.mark.parametrize("workers", [1, 2, 4, 32])
def test_plan_sizes_fit_the_worker_memory_and_give_every_worker_buckets(workers):
    options = ScaleOptions(workers=workers, worker_memory_gb=6.0)
    sizes = plan_sizes(options, [10_000_000, 10_000_000], tokens_per_record=6.0)
    slices = -(-10_000_000 // sizes.slice_rows)
    assert slices * slices >= 2 * workers or sizes.slice_rows == 50_000
    assert 2 * sizes.slice_rows * 1_000 <= 6.0 * 1024**3  # two slices a task
    assert sizes.partitions >= workers
    assert 10_000_000 % sizes.slice_rows < sizes.slice_rows  # even slices
    assert sizes.slice_rows * slices - 10_000_000 < slices


def test_plan_sizes_take_explicit_values():
    sizes = plan_sizes(ScaleOptions(partitions=7, slice_rows=123), [1_000], 2.0)
    assert (sizes.partitions, sizes.slice_rows) == (7, 123)
