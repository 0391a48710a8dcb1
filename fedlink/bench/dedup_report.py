"""The benchmark's deduplication table: Fedlink and Splink 5 on FEBRL3, FEBRL2 and the
synthetic agencies' persons (``fedlink.bench.datasets.SYNTH_DEDUP``).

Read from ``results["dedup"]`` (:meth:`fedlink.bench.harness.Bench.dedup`). Every figure
is pairwise over *all* true pairs of the one file: two records sharing the original's id.
Fedlink is scored on its clusters; Splink twice — its pairwise links at probability 0.5 and
the clusters its ``cluster_pairwise_predictions_at_threshold`` makes of them.
"""

from __future__ import annotations

from typing import Any

from fedlink.bench.report import Table, _gb, _ok, _prf, _s, _status

_ROWS = (
    ("fedlink", "clusters", "Fedlink (clusters)"),
    ("splink", "clusters", "Splink 5 (clusters: connected components at 0.5)"),
    ("splink", "links", "Splink 5 (pairwise links at 0.5)"),
)


def _score(step: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    return step["result"].get(kind) if _ok(step) else None


def dedup_table(results: dict[str, Any]) -> Table | None:
    """F1 (precision / recall) of each system on each deduplication data set."""
    dedup = results.get("dedup")
    if not dedup:
        return None
    t = Table("Deduplication: F1 (precision / recall) over all true pairs",
              ["data set", "true pairs", "system", "F1 (P / R)", "step time", "peak RSS"])
    for data in dedup.values():
        runs = data["runs"]
        scores = [_score(runs.get(system), kind) for system, kind, _ in _ROWS]
        best = max((s["f1"] for s in scores if s), default=None)
        true = next((f"{s['true_pairs']:,}" for s in scores if s), "–")
        for (system, _, name), score in zip(_ROWS, scores, strict=True):
            step = runs.get(system)
            if not _ok(step):
                t.rows.append([data["label"], true, name, _status(step), "–", "–"])
                continue
            t.rows.append([data["label"], true, name, _prf(score, best),
                           _s(step["wall_seconds"]), _gb(step["result"].get("peak_rss_bytes"))])
    t.notes.append(
        "One file per data set (FEBRL3: 2,000 originals and 3,000 duplicates, up to five of "
        "one original; FEBRL2: 4,000 and 1,000), without SSN. True pairs: two records with "
        "the same original id, within the file. Fedlink: `fedlink link FILE` "
        "(`LinkageConfig(dedup=…)`, docs/linkage.md), pairs inside its clusters. Splink: "
        "the linkage configuration above with `link_type=\"dedupe_only\"`. Bold: the best F1 "
        "of the data set."
    )
    return t


def target_rows(results: dict[str, Any]) -> list[list[str]]:
    """The targets table's row: Fedlink's deduplication F1 ≥ Splink's (its clusters and its
    links) on every data set."""
    dedup = results.get("dedup") or {}
    below, measured = [], False
    for data in dedup.values():
        fed = _score(data["runs"].get("fedlink"), "clusters")
        spl = data["runs"].get("splink")
        splink = [s for s in (_score(spl, "clusters"), _score(spl, "links")) if s]
        if fed is None or not splink:
            continue
        measured = True
        top = max(s["f1"] for s in splink)
        if fed["f1"] < top:
            below.append(f"{data['label']} ({fed['f1']:.4f} < {top:.4f})")
    if not measured:
        return []
    return [["Fedlink deduplication F1 ≥ Splink's on every data set",
             "; ".join(below) or "every data set", "**no**" if below else "yes"]]
