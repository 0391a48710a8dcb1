"""The benchmark's scale-ladder tables: the partitioned engine at 1M, 3M (and, on request,
10M) records a side, and one size with 1, 2 and 4 local workers.

Read from ``results["ladder"]`` (:meth:`fedlink.bench.harness.Bench.ladder`); the 1M
in-memory row it is compared with is the scale table's (``results["scale"]``).
"""

from __future__ import annotations

from typing import Any

from fedlink.bench.report import Table, _gb, _ok, _prf, _s, _status

#: Issue 18's targets on a 2-core, 24 GB machine.
TEN_MILLION = 10_000_000
TEN_MILLION_SECONDS = 600.0
PROCESS_BYTES = 8 * 10**9
STAGES = ("partition", "block", "index", "compare", "score")


def _stages(r: dict[str, Any]) -> str:
    timings = r.get("engine_timings", {})
    return ", ".join(f"{k} {v:.0f}" for k, v in timings.items() if k != "total") + " (s)"


def ladder_tables(results: dict[str, Any]) -> list[Table]:
    ladder = results.get("ladder")
    if not ladder:
        return []
    sizes = Table("Hub linkage scale ladder: the partitioned engine (synthetic K-12 × "
                  "workforce records)",
                  ["records", "workers", "link time", "peak RSS (largest process)",
                   "driver / largest worker", "candidates", "F1 (P / R)", "stages"])
    memory = (results.get("scale") or {}).get("fedlink")
    if _ok(memory):
        r = memory["result"]
        size = results["scale"]["size"]
        sizes.rows.append([f"{size:,} × {size:,} (in memory, `engine=auto` below 3M "
                           "records)", "1 process", _s(r["seconds"]["link"]),
                           _gb(r["peak_rss_bytes"]), "–", f"{r['candidates']:,}",
                           _prf(r["pairs"][0] if r.get("pairs") else None), "–"])
    for size, step in sorted(ladder["sizes"].items(), key=lambda kv: int(kv[0])):
        label = f"{int(size):,} × {int(size):,}"
        if not _ok(step):
            sizes.rows.append([label, "–", "–", "–", "–", "–", "–", _status(step)])
            continue
        r = step["result"]
        sizes.rows.append([
            label, str(r["workers"]), _s(r["seconds"]["link"]), _gb(r["peak_rss_bytes"]),
            f"{_gb(r['driver_peak_rss_bytes'])} / {_gb(max(r['worker_peak_rss_bytes']))}",
            f"{r['candidates']:,}", _prf(r["pairs"][0] if r.get("pairs") else None),
            _stages(r)])
    sizes.notes.append(
        "Link time: `hub.linkage.partitioned.link_files` alone, from the landed token files "
        "to clusters, links and report, on a local Dask cluster started for the run. Peak "
        "RSS: the largest of every process's — the driver, each worker (measured in the "
        "worker after each task, mapped file pages included) and all descendants once the "
        "cluster closed.")
    workers = Table(f"Hub linkage by worker count ({int(ladder['workers_size']):,} × "
                    f"{int(ladder['workers_size']):,}, {ladder['cpus']} CPUs)",
                    ["workers", "link time", "speed-up", "largest process",
                     *(f"{s} (Σ / max task, s)" for s in STAGES)])
    base = None
    for count, step in sorted(ladder["workers"].items(), key=lambda kv: int(kv[0])):
        if not _ok(step):
            workers.rows.append([count, "–", "–", "–", *("–" for _ in STAGES)])
            continue
        r = step["result"]
        base = base or r["seconds"]["link"]
        cells = []
        for name in STAGES:
            t = r["task_seconds"].get(name)
            cells.append(f"{t['sum']:.0f} / {t['max']:.1f}" if t else "–")
        workers.rows.append([count, _s(r["seconds"]["link"]),
                             f"{base / r['seconds']['link']:.2f}×", _gb(r["peak_rss_bytes"]),
                             *cells])
    workers.notes.append("More workers than CPUs only share them; the per-task sums are the "
                         "work a cluster divides (docs/scaling.md projects 16 machines).")
    return [t for t in (sizes, workers, _node_table(ladder.get("node"))) if t.rows]


def _node_table(step: dict[str, Any] | None) -> Table:
    """One agency node answering one match request: its memory should not grow with the
    agency (issue 18, "node side at that size")."""
    node = Table("Agency node streaming one match request (synthetic K-12 records)",
                 ["records", "units streamed", "batches", "stream time", "units/s",
                  "node peak RSS", "before the stream", "largest encoding worker"])
    if step is None:
        return node
    if not _ok(step):
        node.rows.append(["–", "–", "–", "–", "–", "–", "–", _status(step)])
        return node
    r = step["result"]
    node.rows.append([f"{r['records']:,}", f"{r['rows']:,}", f"{r['batches']:,}",
                      _s(r["seconds"]["stream"]), f"{r['rows_per_second']:,.0f}",
                      _gb(r["node_peak_rss_bytes"]), _gb(r["node_rss_before_stream_bytes"]),
                      _gb(r["worker_peak_rss_bytes"])])
    node.notes.append(
        "`fedlink.bench.node_stream`: the node is set up (synthetic records, real ingest, an "
        "approved project) in one process and answers the signed request in another, "
        "reading its store page by page; the figure is that second process and its "
        "encoding workers. docs/scaling.md, \"The node side\", has the sizes compared.")
    return node


#: Linkage quality must hold at scale: the 10M run's F1 within this of the 1M in-memory run's.
F1_DROP = 0.05


def target_rows(results: dict[str, Any]) -> list[list[str]]:
    """Issue 18's targets: the 10M × 10M run in time and memory, and still linking as well
    as the 1M in-memory run (a run that links nothing fast is no result)."""
    ladder = results.get("ladder") or {}
    rows = []
    step = (ladder.get("sizes") or {}).get(str(TEN_MILLION))
    if _ok(step):
        r = step["result"]
        fits = r["seconds"]["link"] <= TEN_MILLION_SECONDS and \
            r["peak_rss_bytes"] <= PROCESS_BYTES
        rows.append(["hub linkage 10,000,000 × 10,000,000 ≤ 10 min, no process above 8 GB",
                     f"{_s(r['seconds']['link'])}, largest process {_gb(r['peak_rss_bytes'])}",
                     "yes" if fits else "**no**"])
        f1 = r["pairs"][0]["f1"] if r.get("pairs") else None
        memory = (results.get("scale") or {}).get("fedlink")
        base = memory["result"]["pairs"][0]["f1"] if _ok(memory) and \
            memory["result"].get("pairs") else None
        if f1 is not None and base is not None:
            rows.append([f"hub linkage F1 at 10,000,000 a side within {F1_DROP} of 1,000,000 "
                         "a side (in memory)", f"{f1:.4f} (1M: {base:.4f})",
                         "yes" if f1 >= base - F1_DROP else "**no**"])
    return rows
