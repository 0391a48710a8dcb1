"""Offline linkage of local CSV files: the work behind ``fedlink link``.

Each file is one agency (its name is the file stem); a single file, or a file named by
``--dedup``, is a source that may hold duplicates (``LinkageConfig.dedup``): its records
are also linked with each other. Its rows go through exactly the code
a node runs — :func:`protocol.normalize.normalize_identity`, then the token encoder, both
in worker processes for large files
(:func:`agency_node.services.parallel_encoding.normalize_and_encode_parallel`) — with a
throwaway federation secret and project salt, pids from
:func:`protocol.keys.pseudonymous_ids` with a throwaway node key — and the
token tables go to the hub's engine, :func:`hub.linkage.link`. A local pid → record_id map
turns the clusters back into ``source,record_id,cluster_id`` rows: every input record
exactly once, singletons included. The keys live only in memory for the run.

Bad input (empty file, no record_id, duplicate record ids, no identity column, no usable
identity value) is refused with a :class:`~fedlink.errors.CommandError` naming the file; a
huge block is skipped and reported, never expanded.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from agency_node.services.parallel_encoding import normalize_and_encode_parallel
from fedlink.errors import CommandError
from fedlink.maps import RECORD_ID, parse_maps
from hub.linkage import LinkageConfig, LinkageError, link, render_html
from hub.linkage.evaluate import format_scores, pairwise_scores
from protocol.identity import IDENTITY_FIELDS
from protocol.keys import (
    derive_project_keys,
    generate_federation_secret,
    generate_project_salt,
    pseudonymous_ids,
)
from protocol.normalize import NormalizationOptions

OFFLINE_PROJECT = "offline-link"


def read_source(path: Path, renames: dict[str, str]) -> pd.DataFrame:
    """One agency's CSV as strings, columns renamed, checked for what linkage needs."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: not a readable CSV file ({type(exc).__name__})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.rename(columns={k: v for k, v in renames.items() if k in frame.columns})
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise CommandError(f"{path}: two columns are called {dup!r} (check --map)")
    if RECORD_ID not in frame.columns:
        raise CommandError(f"{path}: no {RECORD_ID} column (use --map yourcolumn={RECORD_ID})")
    if len(frame) == 0:
        raise CommandError(f"{path}: the file has a header but no records")
    ids = frame[RECORD_ID].str.strip()
    if (ids == "").any():
        raise CommandError(f"{path}: {int((ids == '').sum())} row(s) have an empty {RECORD_ID}")
    dup_rows = ids.duplicated()
    if dup_rows.any():
        first = int(dup_rows.to_numpy().argmax()) + 2  # 1-based, after the header line
        raise CommandError(
            f"{path}: {int(dup_rows.sum())} duplicate {RECORD_ID} value(s) (first on line {first})"
        )
    frame[RECORD_ID] = ids
    fields = [f for f in IDENTITY_FIELDS if f in frame.columns]
    if not fields:
        raise CommandError(
            f"{path}: no identity column; expected some of {', '.join(IDENTITY_FIELDS)} "
            "(use --map yourcolumn=canonical)"
        )
    return frame[[RECORD_ID, *fields]]


class _Bars:
    """Rich progress bars on stderr (only when stderr is a terminal)."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TextColumn("{task.completed:>12,.0f}/{task.total:<12,.0f}"),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self.tasks: dict[str, TaskID] = {}

    def update(self, name: str, completed: int, total: int) -> None:
        if name not in self.tasks:
            self.tasks[name] = self.progress.add_task(name, total=max(total, 1))
        self.progress.update(self.tasks[name], completed=completed, total=max(total, 1))

    @contextmanager
    def running(self):
        with self.progress:
            yield self


def encode_source(
    name: str, frame: pd.DataFrame, options: NormalizationOptions, keys: Any, node_key: bytes,
    bars: _Bars | None = None,
) -> tuple[pa.Table, dict[str, str]]:
    """Normalise and encode one agency's rows as its node would: the token table and the
    local pid → record_id map. Large files are normalised and encoded in worker processes
    (:func:`normalize_and_encode_parallel`), each chunk in one go."""
    record_ids = frame[RECORD_ID].tolist()
    pids = pseudonymous_ids(node_key, OFFLINE_PROJECT, record_ids)
    raw = {f: frame[f].tolist() for f in frame.columns if f != RECORD_ID}
    batches: list[pa.RecordBatch] = []
    usable = done = 0
    for chunk in normalize_and_encode_parallel(pids, raw, options, keys):
        batches.append(chunk.batch)
        usable += chunk.usable
        done += chunk.batch.num_rows
        if bars is not None:
            bars.update(f"encode {name}", done, len(record_ids))
    if usable == 0:
        raise CommandError(f"{name}: no record has a usable identity value")
    return pa.Table.from_batches(batches), dict(zip(pids, record_ids, strict=True))


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """Options of one offline run (the ``fedlink link`` flags)."""

    out: Path
    report: Path | None = None
    maps: Sequence[str] = ()
    date_order: str = "MDY"
    postal_format: str = "us"
    threshold: float = 0.5
    max_block: int = 500
    method: str = "em"
    truth: str | None = None
    #: Sources (file stems) that may hold duplicates, or ``("all",)``; a single file always.
    dedup: Sequence[str] = ()


def run(files: Sequence[Path], options: LinkOptions) -> dict[str, Any]:
    """Link ``files`` (one per agency) and write the outputs; returns the quality report."""
    files = list(files)
    out, report, truth = options.out, options.report, options.truth
    date_order, postal_format = options.date_order, options.postal_format
    console = Console(stderr=True)
    if not files:
        raise CommandError("give at least one file: one to deduplicate, or one per agency")
    names = [f.stem for f in files]
    if len(set(names)) != len(names):
        raise CommandError("two files have the same name; the file name is the agency name")
    dedup = dedup_sources(names, options.dedup)
    if date_order.upper() not in ("MDY", "DMY"):
        raise CommandError("--date-order must be MDY or DMY")
    if postal_format not in ("us", "any"):
        raise CommandError("--postal-format must be us or any")
    renames = parse_maps(list(options.maps))
    try:
        config = LinkageConfig(
            threshold=options.threshold,
            max_block=options.max_block,
            method=options.method,  # type: ignore[arg-type]
            dedup=dedup,
        )
    except LinkageError as exc:
        raise CommandError(str(exc)) from None
    normalization = NormalizationOptions(
        date_order=date_order.upper(),  # type: ignore[arg-type]
        postal_code_format=postal_format,  # type: ignore[arg-type]
    )

    frames = {name: read_source(path, renames) for name, path in zip(names, files, strict=True)}
    truths = _truths(files, names, truth, renames) if truth else None
    # A local run is its own one-off project: random salt and digest, keys thrown away.
    keys = derive_project_keys(generate_federation_secret(), generate_project_salt(),
                               project_id="fedlink-link",
                               project_digest=generate_project_salt().hex())
    node_key = generate_federation_secret()  # 32 random bytes, thrown away after the run
    bars = _Bars(console)
    with bars.running():
        encoded = {
            n: encode_source(n, f, normalization, keys, node_key, bars) for n, f in frames.items()
        }
        result = link({n: t for n, (t, _) in encoded.items()}, config, bars.update)

    clusters = result.clusters.to_pandas()
    clusters["record_id"] = [
        encoded[a][1][p] for a, p in zip(clusters["agency"], clusters["pid"], strict=True)
    ]
    order = {n: i for i, n in enumerate(names)}
    clusters["_order"] = clusters["agency"].map(order)
    output = clusters.sort_values(["_order"], kind="stable")[["agency", "record_id", "cluster_id"]]
    output = output.rename(columns={"agency": "source"})
    out.parent.mkdir(parents=True, exist_ok=True)
    output.to_csv(out, index=False)
    if report is not None:
        report.mkdir(parents=True, exist_ok=True)
        (report / "report.json").write_text(json.dumps(result.report, indent=2) + "\n")
        (report / "report.html").write_text(render_html(result.report), encoding="utf-8")
    _summarise(console, result.report, out)
    if truths is not None:
        scored = output.merge(truths, on=["source", "record_id"], how="left")
        scores = pairwise_scores(scored)
        print(format_scores(scores), file=sys.stdout)
        if report is not None:
            (report / "evaluation.json").write_text(
                json.dumps([s.as_dict() for s in scores], indent=2) + "\n"
            )
    return result.report


def dedup_sources(names: Sequence[str], chosen: Sequence[str]) -> tuple[str, ...]:
    """The sources that may hold duplicates: ``chosen`` (file stems, or ``all``), and the
    only source of a single-file run."""
    wanted = {c.strip() for c in chosen}
    unknown = sorted(wanted - set(names) - {"all"})
    if unknown:
        raise CommandError(
            f"--dedup {unknown[0]}: no such source; give a file stem ({', '.join(names)}) or all"
        )
    if "all" in wanted or len(names) == 1:
        return tuple(names)
    return tuple(n for n in names if n in wanted)


def _truths(files: list[Path], names: list[str], column: str, renames: dict[str, str]):
    parts = []
    for name, path in zip(names, files, strict=True):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
        frame = frame.rename(columns={k: v for k, v in renames.items() if k in frame.columns})
        if column not in frame.columns:
            raise CommandError(f"{path}: no {column} column for --truth")
        parts.append(
            pd.DataFrame(
                {
                    "source": name,
                    "record_id": frame[RECORD_ID].str.strip(),
                    "truth_id": frame[column],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _summarise(console: Console, report: dict[str, Any], out: Path) -> None:
    s = report["summary"]
    # With duplicates inside a source, a person of 2+ records may come from one source.
    where = "with 2+ records" if "deduplication" in report else "found in 2+ sources"
    console.print(
        f"linked {s['records']:,} records into {s['clusters']:,} people "
        f"({s['linked_clusters']:,} {where}, {s['links']:,} links from "
        f"{s['candidates']:,} candidate pairs); estimated precision "
        f"{_pct(s['estimated_precision'])}, recall {_pct(s['estimated_recall'])}; wrote {out}",
        highlight=False,
        soft_wrap=True,
    )
    for source in report.get("deduplication", {}).get("sources", []):
        console.print(
            f"within {source['name']}: {source['within_clusters']:,} cluster(s) hold 2+ of "
            f"its records ({source['duplicates']:,} duplicate record(s), largest "
            f"{source['largest']})",
            highlight=False,
            soft_wrap=True,
        )
    if s["capped_blocks"]:
        console.print(
            f"warning: {s['capped_blocks']:,} block(s) larger than "
            f"{report['config']['max_block']} records per side were skipped (see the report)",
            highlight=False,
            soft_wrap=True,
        )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f} %"
