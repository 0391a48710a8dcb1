"""The privacy tables of the benchmark report (results of :mod:`fedlink.bench.privacy`).

Per field and attack, the share of the records carrying the field whose value the attack
recovered (recall) and the share of its guesses that were right (precision), legacy and
current encoding side by side at each project size; then what the table's *shape* gives
away; and the target row: every attack on the current encoding under 0.5 %.
"""

from __future__ import annotations

from typing import Any

from fedlink.attack.leaks import strongest_count_leaks
from fedlink.attack.run import truth_column
from fedlink.bench.privacy import CEILING, FIELDS, SCHEMES, worst_current
from fedlink.bench.report import Table

ATTACK_LABELS = {
    "prior": "prior only (no encoding: the commonest public value for everyone)",
    "frequency": "whole-encoding frequency alignment",
    "graph+patterns": "graph-matching seeds + q-gram pattern mining",
}
COUNT_LEAKS = {
    "day_le_12": "token counts → birth day ≤ 12",
    "nickname": "token counts → first name is a nickname",
    "middle_name": "token counts → has a full middle name",
}


def _field(target: str) -> str:
    return truth_column(target) or target if target.startswith(("bf_", "mh_")) else target


def _best(result: dict[str, Any], attack: str, field: str) -> dict[str, Any] | None:
    rows = [r for r in result["rows"] if r["attack"] == attack and _field(r["target"]) == field]
    return max(rows, key=lambda r: r["recall"]) if rows else None


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return "–"
    if not row["guesses"]:
        return "0 % (no guess)"
    return f"{row['recall']:.1%} ({row['precision']:.1%})"


def _results(privacy: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for size, step in sorted(privacy.items(), key=lambda kv: int(kv[0])):
        schemes = (step.get("result") or {}).get("schemes")
        if step.get("status") == "ok" and schemes:
            out.append((int(size), schemes))
    return out


def recovery_table(results: dict[str, Any]) -> Table | None:
    measured = _results(results.get("privacy") or {})
    if not measured:
        return None
    headers = ["attack", "field"]
    headers += [f"{scheme} · {size:,} people" for size, _ in measured for scheme in SCHEMES]
    t = Table("Privacy: what a curious hub recovers, recall (precision)", headers)
    for attack, label in ATTACK_LABELS.items():
        for field in FIELDS:
            cells = [_cell(_best(schemes[s], attack, field)) for _, schemes in measured
                     for s in SCHEMES]
            if any(c != "–" for c in cells):
                t.rows.append([label, field.replace("_", " "), *cells])
    t.notes = [
        "Recall: records whose value the attack recovered ÷ records carrying the field; "
        "precision: right guesses ÷ guesses. Per field, the best column or combination "
        "(the first name is also attacked through `bf_first_name_as_last` and the salted "
        "`__house`/`__street` columns). The hub's knowledge: one project's token tables as "
        "nodes send them (synthetic state, random project keys), the open construction run "
        "under keys of its own, and the synthetic generator's own name and place lists "
        "with their weights (its best case). The prior-only row uses no encoding at all: "
        "it is the floor any guess reaches. `fedlink attack` runs the same suite; "
        "docs/privacy-attacks.md describes each attack.",
    ]
    return t


def shape_table(results: dict[str, Any]) -> Table | None:
    measured = _results(results.get("privacy") or {})
    if not measured:
        return None
    headers = ["leak", *(f"{scheme} · {size:,} people" for size, _ in measured
                         for scheme in SCHEMES)]
    t = Table("Privacy: what the shape of a token table gives away", headers)
    row = ["filter weight vs value length (largest |r| over columns)"]
    for _, schemes in measured:
        for s in SCHEMES:
            rs = [abs(r) for r in schemes[s]["leaks"]["bit_count_vs_length_r"].values()
                  if r is not None]
            row.append(f"r = {max(rs):.3f}" if rs else "–")
    t.rows.append(row)
    for key, label in COUNT_LEAKS.items():
        row = [label + " (accuracy; majority guess)"]
        for _, schemes in measured:
            for s in SCHEMES:
                best = strongest_count_leaks(schemes[s]["leaks"]["token_counts"]).get(key)
                row.append("–" if best is None else
                           f"{best['accuracy']:.3f} ({best['baseline']:.3f})")
        t.rows.append(row)
    return t


def target_rows(results: dict[str, Any]) -> list[list[str]]:
    worst = worst_current(results.get("privacy") or {})
    if worst is None:
        return []
    return [[f"every attack on the current encoding < {CEILING:.1%} of records, every field",
             f"highest {worst[0]:.2%} ({worst[1]})",
             "yes" if worst[0] < CEILING else "**no**"]]


def privacy_tables(results: dict[str, Any]) -> list[Table]:
    return [t for t in (recovery_table(results), shape_table(results)) if t is not None]
