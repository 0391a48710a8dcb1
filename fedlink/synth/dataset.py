"""Generate the three agency extracts and write them as CSV."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from fedlink.synth.agencies import agency_frame
from fedlink.synth.coverage import assign_coverage
from fedlink.synth.longitudinal import longitudinal_frames
from fedlink.synth.population import make_population
from fedlink.synth.profiles import PROFILES
from fedlink.synth.vocab import vocabulary

#: Frame keys, in order; each is written as ``<key>.csv``.
AGENCY_FILES: tuple[str, ...] = tuple(p.file_name.removesuffix(".csv") for p in PROFILES)

#: The steps :func:`generate` reports through ``on_step``, in order.
STEPS: tuple[str, ...] = ("population", *AGENCY_FILES)


def generate(
    people: int,
    seed: int,
    *,
    on_step: Callable[[str], None] | None = None,
    longitudinal: bool = False,
) -> dict[str, pd.DataFrame]:
    """One synthetic population of ``people`` as seen by K-12, higher education and the
    workforce agency: ``{"k12": …, "highered": …, "workforce": …}``.

    Deterministic: the same ``people`` and ``seed`` give identical frames. ``on_step`` is
    called with each name in :data:`STEPS` as that step starts (for a progress display).
    ``longitudinal`` renders the same population as agencies hold it over time: one row
    per person per school year, term or quarter under the agency's own person id
    (:mod:`fedlink.synth.longitudinal`); off, the frames are exactly what they always were.
    Raises ``ValueError`` for ``people < 1`` or a negative ``seed``.
    """
    if people < 1:
        raise ValueError(f"people must be at least 1, got {people}")
    if seed < 0:
        raise ValueError(f"seed must be 0 or more, got {seed}")
    report = on_step or (lambda _step: None)
    # Independent streams per stage: changing one agency's rates leaves the others alone.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    vocab = vocabulary()
    report("population")
    pop = make_population(people, streams[0], vocab)
    coverage = assign_coverage(pop, streams[1])
    if longitudinal:
        # A sixth stream for the moves; the first five are the same as without it.
        moves = np.random.default_rng(np.random.SeedSequence(seed).spawn(6)[5])
        return longitudinal_frames(pop, coverage, vocab, moves, streams[2:], report)
    frames: dict[str, pd.DataFrame] = {}
    for key, profile, rng in zip(AGENCY_FILES, PROFILES, streams[2:], strict=True):
        report(key)
        frames[key] = agency_frame(profile, pop, coverage, vocab, rng)
    return frames


def output_paths(out_dir: Path, keys: tuple[str, ...] = AGENCY_FILES) -> list[Path]:
    """The files :func:`write` creates in ``out_dir``."""
    return [Path(out_dir) / f"{key}.csv" for key in keys]


def write(
    frames: Mapping[str, pd.DataFrame],
    out_dir: Path | str,
    *,
    overwrite: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write each frame to ``out_dir/<key>.csv`` (UTF-8, header, fields quoted only when
    needed, missing values empty) and return the paths.

    Creates ``out_dir`` if needed. Raises ``FileExistsError`` naming the first existing
    file unless ``overwrite``; other ``OSError``s when the directory is not writable. Each
    file is written to a temporary name and renamed, so a failure leaves no partial file.
    """
    out = Path(out_dir)
    paths = output_paths(out, tuple(frames))
    if not overwrite:
        for path in paths:
            if path.exists():
                raise FileExistsError(errno.EEXIST, "file exists (use --overwrite)", str(path))
    out.mkdir(parents=True, exist_ok=True)
    options = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    for frame, path in zip(frames.values(), paths, strict=True):
        if on_step is not None:
            on_step(f"write {path.name}")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            pacsv.write_csv(table, tmp, write_options=options)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return paths
