"""The VLDS flow after approval: the linkage run, the extract (disclosure checks, the
researcher's download), the audit verification, the project's expiry with the extract's
destruction, and the demo's own scoring against the synthetic truth.

Each feature is used only when this build has it (:mod:`fedlink.demo.features`);
otherwise its step is printed as "not available in this build" — never faked.
"""

from __future__ import annotations

from collections.abc import Callable

from fedlink.demo.audit import verify_audit_logs
from fedlink.demo.evaluation import Quality, offline_quality, run_quality, store_counts
from fedlink.demo.features import Features
from fedlink.demo.state import Demo


def linkage_run(demo: Demo) -> None:
    if not Features.detect().runs:
        demo.steps.unavailable("Linkage run at the hub", "researcher: fedlink run",
                               "linkage runs (`fedlink run`, POST /v1/requests/{id}/runs)")
        return
    from fedlink.demo.linkage import run_linkage

    run_linkage(demo)


def extract(demo: Demo) -> None:
    if not Features.detect().extracts:
        demo.steps.unavailable("Disclosure checks and the researcher's download",
                               "researcher: fedlink extract",
                               "extracts (`fedlink extract list|download`)")
        return
    from fedlink.demo.extracts import assemble_and_download

    assemble_and_download(demo)


def expiry(demo: Demo) -> None:
    if not Features.detect().extracts:
        demo.steps.unavailable("Expiry and destruction of the extract", "hub operator",
                               "extract destruction (`fedlink hub sweep`)")
        return
    from fedlink.demo.extracts import expire_and_destroy

    expire_and_destroy(demo)


LATER: tuple[Callable[[Demo], None], ...] = (linkage_run, extract, expiry, verify_audit_logs)


def evaluate(demo: Demo) -> Quality:
    """Counts from the nodes' stores and P/R/F1 against the synthetic truth."""
    with demo.steps.step("Score the linkage against the synthetic truth",
                         "demo (it plays every party)") as step:
        demo.facts["stores"] = store_counts(demo.layout)
        clusters = demo.facts.get("clusters")
        quality = run_quality(demo, clusters) if clusters is not None else offline_quality(demo)
        overall = quality.scores[-1]
        step.done(f"{quality.source}: precision {overall.precision:.4f}, recall "
                  f"{overall.recall:.4f}, F1 {overall.f1:.4f}")
    return quality
