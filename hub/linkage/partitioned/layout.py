"""The run's work directory: one plan (``plan.json``) and the files each stage writes.

Every task gets the directory and its own coordinates, reads the plan, and reads and writes
only files here — so a task runs the same in this process, on a local worker process or on
a worker on another machine that mounts the directory at the same path. Numeric arrays are
``.npy`` files (memory-mapped when read); nothing here holds a pid, only row numbers, keyed
tokens and Bloom filters, which the hub holds anyway.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class AgencyPlan:
    name: str
    path: str  # the landed Arrow IPC file
    size: int
    #: First row of each record batch of the file, and the total (len = batches + 1).
    batch_rows: list[int]
    dedup: bool


@dataclass(frozen=True, slots=True)
class RunPlan:
    """What every task needs to know about the run (written once, read by each task)."""

    workdir: str
    agencies: list[AgencyPlan]
    keys: list[str]
    blooms: list[str]
    #: Bloom column → byte width (the widest any agency sends; absent = all missing).
    bloom_widths: dict[str, int]
    partitions: int
    slice_rows: int
    #: Agency pairs linked, as indexes into ``agencies`` (``(i, i)``: within one agency).
    pairs: list[tuple[int, int]]
    block_caps: dict[str, int]
    config: dict[str, Any] = field(default_factory=dict)

    def slices(self, agency: int) -> int:
        """Row slices of one agency."""
        return max(1, -(-self.agencies[agency].size // self.slice_rows))

    def buckets(self, pair: int) -> list[tuple[int, int]]:
        """The (left slice, right slice) buckets of one agency pair (within one agency,
        pairs are ``left < right`` so only ``i <= j``)."""
        a, b = self.pairs[pair]
        return [(i, j) for i in range(self.slices(a)) for j in range(self.slices(b))
                if a != b or i <= j]

    def save(self) -> None:
        Path(self.workdir, "plan.json").write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, workdir: str) -> RunPlan:
        raw = json.loads(Path(workdir, "plan.json").read_text())
        raw["agencies"] = [AgencyPlan(**a) for a in raw["agencies"]]
        raw["pairs"] = [tuple(p) for p in raw["pairs"]]
        return cls(**raw)

    def drop(self, stage_dir: str) -> None:
        """Remove a stage's files once every task that reads them has run."""
        shutil.rmtree(Path(self.workdir, stage_dir), ignore_errors=True)

    # -- paths ---------------------------------------------------------------------------

    def _dir(self, *parts: object) -> Path:
        path = Path(self.workdir, *map(str, parts))
        path.mkdir(parents=True, exist_ok=True)
        return path

    def token_part(self, agency: int, key: int, partition: int, chunk: int) -> Path:
        """Stage *partition*: one chunk's tokens of one key column in one partition."""
        return self._dir("tokens", agency, key, partition) / f"{chunk:06d}.arrays"

    def token_parts(self, agency: int, key: int, partition: int) -> list[Path]:
        return sorted(Path(self.workdir, "tokens", str(agency), str(key),
                           str(partition)).glob("*.arrays"))

    def kept(self, agency: int, key: int, partition: int) -> Path:
        """Stage *block*: the tokens of a partition some other agency holds too."""
        return self._dir("kept", agency, key) / f"{partition:04d}.arrays"

    def column(self, agency: int, name: str) -> Path:
        """A comparison column of one agency (``.npy``, all rows)."""
        return self._dir("columns", agency) / f"{name}.npy"

    def pair_part(self, pair: int, bucket: tuple[int, int], key: int, partition: int) -> Path:
        """Stage *block*: candidate pairs of one key and partition in one bucket."""
        return self._dir("pairs", pair, f"{bucket[0]}-{bucket[1]}") / f"{key}-{partition}.arrays"

    def pair_parts(self, pair: int, bucket: tuple[int, int]) -> list[Path]:
        return sorted(Path(self.workdir, "pairs", str(pair),
                           f"{bucket[0]}-{bucket[1]}").glob("*.arrays"))

    def scored(self, pair: int, bucket: tuple[int, int], what: str = "patterns") -> Path:
        """Stage *compare* (``patterns``: a bucket's candidate pairs and their comparison
        patterns) and *score* (``accepted``, ``expected``)."""
        return self._dir("candidates", pair) / f"{bucket[0]}-{bucket[1]}.{what}.arrays"


def release_cache(path: Path) -> None:
    """Tell the kernel a file's cached pages will not be read again (``posix_fadvise``
    DONTNEED) where the platform has it; a hint, so any failure is ignored."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        advise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


def new_column(path: Path, shape: tuple[int, ...], dtype: Any) -> None:
    """Create a zero-filled ``.npy`` that tasks then fill in disjoint row ranges
    (:func:`write_rows`); sparse on disk until written."""
    np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape).flush()


def _header(path: Path) -> tuple[int, np.dtype[Any], tuple[int, ...]]:
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(f)
        if fortran:
            raise ValueError(f"{path.name} is not in C order")
        return f.tell(), dtype, shape


def write_rows(path: Path, row0: int, values: np.ndarray) -> None:
    """Write ``values`` as rows ``row0…`` of a column made by :func:`new_column`: a plain
    positioned write (no memory map, no ``msync``), which other processes — and, after
    close, other machines on a shared file system — read like any written file."""
    offset, dtype, shape = _header(path)
    row_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))
    data = np.ascontiguousarray(values, dtype=dtype)
    with open(path, "r+b") as f:
        f.seek(offset + row0 * row_bytes)
        f.write(memoryview(data).cast("B"))


def read_rows(path: Path, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Rows ``lo…hi-1`` of a column, read into memory (one sequential read)."""
    offset, dtype, shape = _header(path)
    hi = shape[0] if hi is None else min(hi, shape[0])
    inner = shape[1:]
    row_items = int(np.prod(inner, dtype=np.int64))
    count = max(hi - lo, 0) * row_items
    with open(path, "rb") as f:
        f.seek(offset + lo * row_items * dtype.itemsize)
        data = np.fromfile(f, dtype=dtype, count=count)
    return data.reshape((max(hi - lo, 0), *inner))


def save_arrays(path: Path, **arrays: np.ndarray) -> None:
    """Several arrays in one file: their names, then each as ``.npy`` data in turn (no zip
    archive: nothing to checksum or inflate on the way back)."""
    with open(path, "wb") as f:
        np.lib.format.write_array(f, np.array(list(arrays)), allow_pickle=False)
        for value in arrays.values():
            np.lib.format.write_array(f, np.ascontiguousarray(value), allow_pickle=False)


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays :func:`save_arrays` wrote, by name."""
    with open(path, "rb") as f:
        names = np.lib.format.read_array(f, allow_pickle=False)
        return {str(n): np.lib.format.read_array(f, allow_pickle=False) for n in names}
