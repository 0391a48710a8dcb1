"""One benchmark step in a process of its own, so its time and peak memory are its own.

``python -m fedlink.bench.worker STEP SPEC.json OUT.json`` runs the step function named in
:data:`STEPS` on the spec and writes its result, with the process's peak resident set
size (``getrusage(RUSAGE_SELF).ru_maxrss``) unless the step measured its own, to
``OUT.json``. While it runs it prints one JSON line per stage on stdout
(``{"stage": "…"}``), which the harness shows as progress. The anonlink + clkhash peer has
its own script (:mod:`fedlink.bench.anonlink_worker`) speaking the same protocol from
another virtual environment.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
from pathlib import Path

#: step name → ``module:function``; each function takes the spec dict, returns a dict.
STEPS: dict[str, str] = {
    "fedlink.accuracy": "fedlink.bench.fedlink_runner:accuracy",
    "fedlink.throughput": "fedlink.bench.fedlink_runner:throughput",
    "fedlink.scale_prepare": "fedlink.bench.scale:prepare",
    "fedlink.scale_link": "fedlink.bench.scale:link_tables",
    "fedlink.ladder_prepare": "fedlink.bench.scale_ladder:prepare_ladder",
    "fedlink.ladder_link": "fedlink.bench.scale_ladder:link_partitioned",
    "splink.accuracy": "fedlink.bench.splink_runner:accuracy",
    "fedlink.dedup": "fedlink.bench.fedlink_runner:dedup",
    "splink.dedup": "fedlink.bench.splink_runner:dedup",
    "recordlinkage.accuracy": "fedlink.bench.recordlinkage_runner:accuracy",
    "fedlink.privacy": "fedlink.bench.privacy:run",
    "fedlink.load": "fedlink.bench.load:run",
    "fedlink.node_stream": "fedlink.bench.node_stream:run",
}


def stage(message: str) -> None:
    """Tell the harness what the step is doing now."""
    print(json.dumps({"stage": message}), flush=True)


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in STEPS:
        print(f"usage: worker {{{','.join(STEPS)}}} SPEC.json OUT.json", file=sys.stderr)
        return 2
    name, spec_path, out_path = argv
    module_name, function_name = STEPS[name].split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(json.loads(Path(spec_path).read_text()))
    result.setdefault("peak_rss_bytes", peak_rss_bytes())
    Path(out_path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
