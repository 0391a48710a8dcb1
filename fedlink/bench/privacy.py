"""The benchmark's privacy part: the attack suite on the legacy and the current encoding.

One step per project size runs :func:`fedlink.attack.run_privacy` (a synthetic project,
random project keys, every attack of :mod:`fedlink.attack` against what the nodes send)
for both schemes, so every figure of the current encoding stands beside what the same
attacks do to the encoding they are known to break. :func:`privacy_tables` turns the
results into the report's tables.
"""

from __future__ import annotations

from typing import Any

from fedlink.bench.worker import stage

#: Project sizes attacked (people in the synthetic state), as the issue asks: small and large.
SIZES: tuple[int, ...] = (2_000, 20_000)
#: The ceiling every attack on the current encoding must stay under (share of records).
CEILING = 0.005
SCHEMES = ("legacy", "current")
#: Rows shown: per field, the attack that does best on it (columns of one field combined).
FIELDS = ("first_name", "last_name", "middle_name", "address", "full_name")


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """One project size, both schemes (the benchmark worker's ``fedlink.privacy`` step)."""
    from fedlink.attack import run_privacy

    stage(f"attack a {spec['people']:,}-person project, legacy and current encodings")
    return run_privacy(int(spec["people"]), int(spec.get("seed", 0)), SCHEMES)


def best_rows(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (attack, target): the row of that scheme's result."""
    return {(r["attack"], r["target"]): r for r in result.get("rows", [])}


def worst_current(privacy: dict[str, Any]) -> tuple[float, str] | None:
    """The highest recall any attack (not the prior-only floor) reaches on the current
    encoding, over every size, column and field, with where."""
    worst: tuple[float, str] | None = None
    for size, step in privacy.items():
        result = (step.get("result") or {}).get("schemes", {}).get("current")
        if not result:
            continue
        for row in result["rows"]:
            if row["attack"] == "prior":
                continue
            if worst is None or row["recall"] > worst[0]:
                worst = (row["recall"], f"{row['attack']} on {row['target']}, {int(size):,} people")
    return worst
