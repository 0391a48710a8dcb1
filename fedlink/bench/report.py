"""The benchmark's results as tables: rich on the terminal, Markdown for ``docs/``.

Everything shown is read from the results dict of :func:`fedlink.bench.harness.run_bench`;
a step that did not run shows its status ("not installed", "failed", "timed out")
instead of a figure. Memory is peak resident set size in GB (10⁹ bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

NAMES = {
    "fedlink": "Fedlink",
    "splink": "Splink 5 (clear text, DuckDB)",
    "recordlinkage": "recordlinkage ECM (clear text)",
    "anonlink": "anonlink + clkhash (PPRL)",
}
F1_TARGET, ENCODE_TARGET, LINK_SECONDS_TARGET, RSS_TARGET = 0.99, 50_000, 60.0, 4e9

#: How each system is configured (the reasons are in the runners' docstrings).
SYSTEM_NOTES = [
    "Every system links the same records. Fedlink reads the raw agency values through its "
    "node path (normalisation, keyed tokens, Bloom filters) and links them in one "
    "multi-agency run of `hub.linkage.link` with its default configuration. The peers read "
    "the node normaliser's output in clear text (upper-case ASCII names, ISO dates, ZIP5, "
    "USPS street abbreviations), so only the linkage methods differ; each uses the fields "
    "both sources of a pair hold.",
    "- **Splink 5** (`fedlink/bench/splink_runner.py`), as Splink's FEBRL4 example: blocking "
    "on first + last name, date of birth, postcode (and SSN); `NameComparison` (Jaro-Winkler "
    "levels) on both names with term frequencies, `DateOfBirthComparison`, Jaro-Winkler on "
    "the street, exact city, Damerau-Levenshtein on postcode and SSN, exact sex; λ from "
    "deterministic rules at recall 0.8, u from 10⁷ random pairs, m from EM blocked on date "
    "of birth and on names; links at match probability ≥ 0.5.",
    "- **recordlinkage ECM** (`fedlink/bench/recordlinkage_runner.py`), as its docs' ECM "
    "example: `Block` indexing on the same keys; binary comparisons (Jaro-Winkler ≥ 0.85 "
    "on names and street, exact on the rest); `ECMClassifier()` defaults, links at p ≥ 0.5.",
    "- **anonlink + clkhash** (`fedlink/bench/anonlink_worker.py`, its own virtual "
    "environment `.venv-bench-peers`: clkhash pins `cryptography<41`): clkhash's FEBRL "
    "schema mapped onto names, date of birth, address (street, city, postcode) and SSN "
    "where present; 1024-bit CLKs; anonlink's accelerated Dice and greedy one-to-one "
    "solver at a Dice threshold tuned once on FEBRL4 (`anonlink_runner.THRESHOLD`, see "
    "its docstring and the sweep above, which every run repeats).",
]


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _gb(n: float | None) -> str:
    return "–" if not n else f"{n / 1e9:.2f} GB"


def _s(x: float | None) -> str:
    return "–" if x is None else (f"{x:.1f} s" if x >= 1 else f"{x:.2f} s")


def _ok(step: dict[str, Any] | None) -> bool:
    return bool(step) and step["status"] == "ok"


def _status(step: dict[str, Any] | None) -> str:
    if not step:
        return "not run"
    return step["status"] + (f" ({step['detail']})" if step["detail"] and
                             step["status"] != "not installed" else "")


def _pair(step: dict[str, Any], left: str, right: str) -> dict[str, Any] | None:
    for p in step["result"].get("pairs", []):
        if {p["left"], p["right"]} == {left, right}:
            return p
    return None


def _prf(p: dict[str, Any] | None, best: float | None = None) -> str:
    """``F1 (P / R)``; bold when it is the row's best F1."""
    if p is None:
        return "–"
    f1 = f"{p['f1']:.4f}"
    if best is not None and f1 == f"{best:.4f}":
        f1 = f"**{f1}**"
    return f"{f1} ({p['precision']:.4f} / {p['recall']:.4f})"


def accuracy_tables(results: dict[str, Any]) -> list[Table]:
    acc = results.get("accuracy") or {}
    systems = [s for s in NAMES if any(s in d["runs"] for d in acc.values())]
    f1 = Table("Accuracy: F1 (precision / recall) per agency pair",
               ["data set", "pair", *(NAMES[s] for s in systems)])
    runs = Table("Accuracy runs: time and peak memory",
                 ["data set", "system", "records", "step time", "work", "peak RSS"])
    for data in acc.values():
        for left, right in data["pairs"]:
            scores = {s: _pair(data["runs"][s], left, right) if _ok(data["runs"][s]) else None
                      for s in systems}
            best = max((p["f1"] for p in scores.values() if p), default=None)
            cells = [_prf(scores[s], best) if _ok(data["runs"][s])
                     else _status(data["runs"][s]) for s in systems]
            f1.rows.append([data["label"], f"{left}–{right}", *cells])
        total = f"{sum(data['records'].values()):,}"
        for s in systems:
            step = data["runs"][s]
            if not _ok(step):
                runs.rows.append([data["label"], NAMES[s], total, "–", _status(step), "–"])
                continue
            work = ", ".join(f"{k} {_s(v)}" for k, v in step["result"]["seconds"].items())
            runs.rows.append([data["label"], NAMES[s], total, _s(step["wall_seconds"]), work,
                              _gb(step["result"].get("peak_rss_bytes"))])
    f1.notes.append(
        "Bold: the best F1 of the row. Pairs: the records of two agencies put in one person "
        "(Fedlink: one multi-agency run, pairs inside its clusters; the peers: one run per "
        "agency pair, the record pairs they declare links). Truth: `truth_id`."
    )
    runs.notes.append("Step time: the child process from start to exit (imports, reading "
                      "the data); work: the timed phases inside it.")
    tables = [f1, runs]
    sweep = acc.get("febrl4", {}).get("runs", {}).get("anonlink", {}).get("result", {})
    if sweep.get("sweep"):
        t = Table("anonlink + clkhash: Dice threshold sweep on FEBRL4 (how the threshold was "
                  "chosen)", ["threshold", "precision", "recall", "F1"])
        for threshold, scores in sorted(sweep["sweep"].items(), key=lambda kv: float(kv[0])):
            p = scores[0]
            used = " (used)" if float(threshold) == sweep.get("threshold") else ""
            t.rows.append([threshold + used, f"{p['precision']:.4f}", f"{p['recall']:.4f}",
                           f"{p['f1']:.4f}"])
        tables.append(t)
    return tables


def _rate(records: int, seconds: float) -> str:
    return f"{records / seconds:,.0f}" if seconds else "–"


def _clear_text_seconds(result: dict[str, Any]) -> float:
    """Clear text → tokens: the ``fedlink link`` path when measured (results of earlier
    versions have only the node path's two steps)."""
    sec = result["seconds"]
    return float(sec.get("clear_text", sec["normalize"] + sec["encode"]))


def throughput_table(results: dict[str, Any]) -> Table | None:
    tp = results.get("throughput")
    if not tp:
        return None
    n = tp["records"]
    t = Table(f"Node encoding throughput ({n:,} synthetic records of the three agencies)",
              ["encoder", "processes", "time", "records/s"])
    fed = tp["fedlink"]
    if _ok(fed):
        sec = fed["result"]["seconds"]
        both = sec["normalize"] + sec["encode"]
        procs = fed["result"].get("processes", 1)
        if not isinstance(procs, dict):
            procs = {"normalize": procs, "encode": procs}
        if "clear_text" in sec:
            t.rows.append(["Fedlink, clear text → tokens (`fedlink link`): normalise + pseudonym "
                           "+ tokens + Bloom + Arrow", str(procs["clear_text"]),
                           _s(sec["clear_text"]), _rate(n, sec["clear_text"])])
        path = (str(procs["encode"]) if procs["normalize"] == procs["encode"]
                else f"{procs['normalize']} + {procs['encode']}")
        t.rows.append(["Fedlink node path: normalise (as at ingest), then encode (as for a "
                       "match request)", path, _s(both), _rate(n, both)])
        t.rows.append(["Fedlink, encoding only (identities already normalised: pseudonym + "
                       "tokens + Bloom + Arrow)", str(procs["encode"]), _s(sec["encode"]),
                       _rate(n, sec["encode"])])
    else:
        t.rows.append(["Fedlink encoder", "–", "–", _status(fed)])
    clk = tp.get("clkhash")
    if _ok(clk):
        for workers, sec in clk["result"]["seconds"].items():
            t.rows.append([f"clkhash CLK ({workers} process{'es' if workers != '1' else ''})",
                           workers, _s(sec), _rate(n, sec)])
    else:
        t.rows.append(["clkhash CLK", "–", "–", _status(clk)])
    t.notes.append("Clear text → tokens is `fedlink link`'s path "
                   "(agency_node.services.parallel_encoding.normalize_and_encode_parallel): "
                   "each worker process (one per CPU) normalises and encodes its chunk. A "
                   "node normalises once, at ingest (one process, row by row), and encodes "
                   "per match request in worker processes, so its path's processes read "
                   "'normalise + encode'; a real match stream also reads the node's store, which "
                   "is not timed here (docs/tokens-and-bloom-filters.md). Worker pools "
                   "already started. clkhash encodes values already normalised, so it is "
                   "strictly comparable with Fedlink's encoding-only row; the clear-text row "
                   "does more work than it.")
    return t


def scale_table(results: dict[str, Any]) -> Table | None:
    sc = results.get("scale")
    if not sc:
        return None
    t = Table("Hub linkage at scale (synthetic K-12 × workforce records)",
              ["system", "records", "link time", "peak RSS", "candidates", "F1 (P / R)",
               "notes"])
    rows = (("fedlink", "Fedlink hub (`hub.linkage.link`)", sc["size"]),
            ("fedlink_small", "Fedlink hub (`hub.linkage.link`)", sc["anonlink_size"]),
            ("anonlink", "anonlink (Dice + greedy solver)", sc["anonlink_size"]))
    for key, name, size in rows:
        step = sc.get(key)
        label = f"{size:,} × {size:,}"
        if not _ok(step):
            t.rows.append([name, label, "–", "–", "–", "–", _status(step)])
            continue
        r = step["result"]
        notes = ""
        if key == "anonlink":
            notes = f"clkhash encoding of both sides {_s(r['seconds']['encode'])} not included"
        elif r.get("engine_timings"):
            notes = ", ".join(f"{k} {v:.1f}" for k, v in r["engine_timings"].items()
                              if k != "total") + " (s)"
        cand = f"{r['candidates']:,}" if r.get("candidates") is not None else "–"
        t.rows.append([name, label, _s(r["seconds"]["link"]), _gb(r.get("peak_rss_bytes")),
                       cand, _prf(r["pairs"][0] if r.get("pairs") else None), notes])
    t.notes.append("Link time: the engine call alone, in a fresh process that first reads "
                   "the two token tables (Arrow IPC) into memory; peak RSS is that "
                   "process's, tables included.")
    return t


def target_table(results: dict[str, Any]) -> Table:
    t = Table("Targets", ["target", "measured", "met"])
    acc = results.get("accuracy") or {}
    worst, below_splink, measured = None, [], False
    for data in acc.values():
        fed, spl = data["runs"].get("fedlink"), data["runs"].get("splink")
        for left, right in data["pairs"]:
            p = _pair(fed, left, right) if _ok(fed) else None
            if p is None:
                continue
            measured = True
            if worst is None or p["f1"] < worst[0]:
                worst = (p["f1"], f"{data['label']}, {left}–{right}")
            s = _pair(spl, left, right) if _ok(spl) else None
            if s is not None and p["f1"] < s["f1"]:
                below_splink.append(f"{left}–{right} ({p['f1']:.4f} < {s['f1']:.4f})")
    if measured and worst:
        t.rows.append([f"Fedlink F1 ≥ {F1_TARGET} on every pair",
                       f"lowest {worst[0]:.4f} ({worst[1]})",
                       "yes" if worst[0] >= F1_TARGET else "**no**"])
        t.rows.append(["Fedlink F1 ≥ Splink's on every pair",
                       "; ".join(below_splink) or "every pair", "**no**" if below_splink
                       else "yes"])
    tp = results.get("throughput") or {}
    if _ok(tp.get("fedlink")):
        rate = tp["records"] / _clear_text_seconds(tp["fedlink"]["result"])
        t.rows.append([f"encoding ≥ {ENCODE_TARGET:,} records/s (clear text → tokens, "
                       "normalisation included)",
                       f"{rate:,.0f} records/s", "yes" if rate >= ENCODE_TARGET else "**no**"])
    sc = (results.get("scale") or {}).get("fedlink")
    if _ok(sc):
        r = sc["result"]
        size = results["scale"]["size"]
        t.rows.append([f"hub linkage {size:,} × {size:,} ≤ {LINK_SECONDS_TARGET:.0f} s",
                       _s(r["seconds"]["link"]),
                       "yes" if r["seconds"]["link"] <= LINK_SECONDS_TARGET else "**no**"])
        t.rows.append([f"peak RSS ≤ {RSS_TARGET / 1e9:.0f} GB (4·10⁹ bytes)",
                       _gb(r["peak_rss_bytes"]),
                       "yes" if r["peak_rss_bytes"] <= RSS_TARGET else "**no**"])
    from fedlink.bench.privacy_report import target_rows

    t.rows += target_rows(results)
    from fedlink.bench.dedup_report import target_rows as dedup_target_rows

    t.rows += dedup_target_rows(results)
    from fedlink.bench.load import target_rows as load_target_rows

    t.rows += load_target_rows(results)
    from fedlink.bench.ladder_report import target_rows as ladder_target_rows

    t.rows += ladder_target_rows(results)
    return t


def tables(results: dict[str, Any]) -> list[Table]:
    from fedlink.bench.dedup_report import dedup_table
    from fedlink.bench.ladder_report import ladder_tables
    from fedlink.bench.load import load_table
    from fedlink.bench.privacy_report import privacy_tables

    found = [target_table(results), *accuracy_tables(results), dedup_table(results),
             throughput_table(results), scale_table(results), *ladder_tables(results),
             *privacy_tables(results),
             load_table(results)]
    return [t for t in found if t is not None and t.rows]


def header(results: dict[str, Any]) -> list[str]:
    m = results["meta"]
    versions = m.get("versions", {})
    peers = "; ".join(f"{NAMES[k]}: {v or 'not installed'}" for k, v in versions.items())
    memory = f"{m['memory_bytes'] / 2**30:.0f} GiB RAM" if m.get("memory_bytes") else ""
    return [
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores, {memory}, {m['os']}, "
        f"Python {m['python']}; fedlink {m.get('fedlink')} ({m.get('revision') or 'no git'}).",
        f"Command: `{m['command']}`. Versions: {peers}.",
        f"Load average (1, 5, 15 min) before: {m.get('load_before')}, after: "
        f"{m.get('load_after')} — figures from a shared machine carry that noise.",
    ]


def table_markdown(t: Table, *, level: str) -> list[str]:
    """One table as Markdown lines: a heading of ``level``, the table, its notes."""
    lines = [f"{level} {t.title}", "", "| " + " | ".join(t.headers) + " |",
             "|" + "|".join("---" for _ in t.headers) + "|"]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in t.rows]
    return lines + (["", *t.notes, ""] if t.notes else [""])


def markdown(results: dict[str, Any], notes: list[str] | None = None) -> str:
    notes = SYSTEM_NOTES if notes is None else notes
    lines = ["# Benchmarks", "", *(f"{line}  " for line in header(results)), "",
             "Reproduce with `make bench`: it installs the `[bench]` extra (Splink) into `.venv` "
             "and anonlink + clkhash into `.venv-bench-peers` (their pins conflict with "
             "Fedlink's), then runs `fedlink bench` and rewrites this file. `fedlink bench "
             "--help` lists the options (`--skip-scale`, `--only accuracy|speed`, `--ladder "
             "1000000,3000000,10000000` for the 10M × 10M run, …); the "
             "scale test's token tables are cached under `~/.cache/fedlink/bench`.", ""]
    for t in tables(results):
        lines += table_markdown(t, level="##")
    if notes:
        lines += ["## How each system is run", ""]
        for note in notes:
            lines += [note, ""]
    return "\n".join(lines).rstrip() + "\n"


def print_tables(results: dict[str, Any], console: Console) -> None:
    for line in header(results):
        console.print(line, highlight=False, soft_wrap=True)
    for t in tables(results):
        table = RichTable(title=t.title, title_justify="left", show_lines=False)
        for h in t.headers:
            table.add_column(h, overflow="fold")
        for row in t.rows:
            table.add_row(*(c.replace("**", "") for c in row))
        console.print(table)
