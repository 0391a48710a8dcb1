"""anonlink + clkhash, run by the peers' interpreter (``.venv-bench-peers``).

clkhash 0.18 pins ``cryptography<41`` and ``mypy_extensions<0.5``, which Fedlink's own
environment cannot hold (it needs ``cryptography>=48``; mypy needs ``mypy_extensions>=1``),
so this peer lives in a virtual environment of its own and this file imports nothing but
the standard library, clkhash and anonlink. Usage::

    python anonlink_worker.py {accuracy,encode,scale} SPEC.json OUT.json

Input records are JSON lists of clear-text values in the spec's field order (already
normalised by the harness; missing = ""). Progress goes to stdout as ``{"stage": …}``
lines; the result (links as row-position pairs, seconds, peak RSS) to ``OUT.json``.

The CLK schema is clkhash's own FEBRL example (``docs/_static/febrl_schema_v3_final.json``)
mapped onto the canonical fields: 1024-bit CLK, HKDF-SHA256 key derivation, double
hashing; names as bigrams with 200 bits per feature, street address and city as bigrams
with 100, postcode as positional unigrams with 100, birth date (``YYYYMMDD``) and SSN as
positional unigrams with 200. Links: :func:`anonlink.candidate_generation.find_candidate_pairs`
with the accelerated Dice coefficient at the threshold, then anonlink's greedy solver.
"""

from __future__ import annotations

import bisect
import json
import resource
import sys
import time
from pathlib import Path

SECRET = "fedlink bench clk secret"  # noqa: S105 - a benchmark key protecting nothing
_STRING = {"type": "string", "encoding": "utf-8"}
_BIGRAMS = {"type": "ngram", "n": 2}
_POSITIONAL = {"type": "ngram", "n": 1, "positional": True}
_FEATURES = {
    "first_name": (_BIGRAMS, 200),
    "last_name": (_BIGRAMS, 200),
    "street_address": (_BIGRAMS, 100),
    "city": (_BIGRAMS, 100),
    "postal_code": (_POSITIONAL, 100),
    "dob": (_POSITIONAL, 200),
    "ssn": (_POSITIONAL, 200),
}


def stage(message: str) -> None:
    print(json.dumps({"stage": message}), flush=True)


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def schema_dict(fields: list[str]) -> dict:
    features = []
    for name in fields:
        comparison, bits = _FEATURES[name]
        hashing = {
            "comparison": comparison,
            "strategy": {"bitsPerFeature": bits},
            "hash": {"type": "doubleHash"},
            "missingValue": {"sentinel": ""},
        }
        features.append({"identifier": name, "format": _STRING, "hashing": hashing})
    kdf = {
        "type": "HKDF",
        "hash": "SHA256",
        "info": "c2NoZW1hX2V4YW1wbGU=",
        "salt": (
            "SCbL2zHNnmsckfzchsNkZY9XoHk96P/G5nUBrM7ybymlEFsMV6PAeDZCNp3rfNUPCtLDMOGQHG4pCQpfhiHCyA=="
        ),
        "keySize": 64,
    }
    return {"version": 3, "clkConfig": {"l": 1024, "kdf": kdf}, "features": features}


def encode(rows: list[list[str]], fields: list[str], workers: int | None) -> list:
    from clkhash import clk
    from clkhash.schema import from_json_dict

    schema = from_json_dict(schema_dict(fields))
    return clk.generate_clks(rows, schema, SECRET, validate=False, max_workers=workers)


def candidates(left: list, right: list, threshold: float):
    from anonlink.candidate_generation import find_candidate_pairs
    from anonlink.similarities import dice_coefficient_accelerated

    return find_candidate_pairs([left, right], dice_coefficient_accelerated, threshold)


def solve(found) -> list[list[int]]:
    """One-to-one links (row in left, row in right) from anonlink's greedy solver."""
    from anonlink.solving import greedy_solve

    links = []
    for group in greedy_solve(found):
        if len(group) == 2:
            (da, ra), (_, rb) = sorted(group)
            links.append([ra, rb] if da == 0 else [rb, ra])
    return links


def _above(found, threshold: float):
    """The candidates with similarity ≥ ``threshold`` (they are sorted, descending)."""
    sims, datasets, records = found
    n = bisect.bisect_left(sims, -threshold, key=lambda s: -s)
    return sims[:n], tuple(d[:n] for d in datasets), tuple(r[:n] for r in records)


def _link(spec: dict, left_rows, right_rows, workers: int | None) -> dict:
    fields, threshold = spec["fields"], float(spec["threshold"])
    started = time.perf_counter()
    left = encode(left_rows, fields, workers)
    right = encode(right_rows, fields, workers)
    encoded = time.perf_counter()
    sweep = sorted(spec.get("sweep", []))
    # Candidates once, at the lowest threshold wanted; the timed link is the configured
    # threshold's (the sweep starts there, so it costs the timed run nothing).
    found = candidates(left, right, min([threshold, *sweep]))
    links = solve(_above(found, threshold))
    linked = time.perf_counter()
    swept = {str(t): solve(_above(found, t)) for t in sweep}
    return {
        "links": links,
        "sweep": swept,
        "seconds": {"encode": encoded - started, "link": linked - encoded},
    }


def accuracy(spec: dict) -> dict:
    out = []
    for pair in spec["pairs"]:
        stage(f"{pair['names'][0]}–{pair['names'][1]}")
        left = json.loads(Path(pair["left"]).read_text())
        right = json.loads(Path(pair["right"]).read_text())
        out.append(_link(spec | {"fields": pair["fields"]}, left, right, None))
    return {"pairs": out}


def throughput(spec: dict) -> dict:
    rows = json.loads(Path(spec["records"]).read_text())
    seconds = {}
    for workers in spec["workers"]:
        stage(f"clkhash {len(rows):,} records, {workers} process(es)")
        started = time.perf_counter()
        encode(rows, spec["fields"], workers)
        seconds[str(workers)] = time.perf_counter() - started
    return {"records": len(rows), "seconds": seconds}


def scale(spec: dict) -> dict:
    left = json.loads(Path(spec["left"]).read_text())
    right = json.loads(Path(spec["right"]).read_text())
    stage(f"clkhash + anonlink {len(left):,} × {len(right):,}")
    return _link(spec, left, right, None) | {"records": [len(left), len(right)]}


def versions() -> dict:
    from importlib.metadata import version

    return {name: version(name) for name in ("clkhash", "anonlink")}


MODES = {"accuracy": accuracy, "encode": throughput, "scale": scale}


def main(argv: list[str]) -> int:
    if len(argv) == 1 and argv[0] == "versions":
        print(json.dumps(versions()))
        return 0
    if len(argv) != 3 or argv[0] not in MODES:
        print("usage: anonlink_worker.py {accuracy,encode,scale} SPEC OUT | versions",
              file=sys.stderr)
        return 2
    mode, spec_path, out_path = argv
    result = MODES[mode](json.loads(Path(spec_path).read_text()))
    result.setdefault("peak_rss_bytes", peak_rss_bytes())
    result["versions"] = versions()
    Path(out_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
