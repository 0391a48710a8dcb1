"""The extract and the end of the term.

* The researcher asks the hub to build the linked extract: fresh project person ids, the
  approved variables from each node (sealed to the hub), disclosure control on the
  declared quasi-identifiers, an encrypted bundle at rest (hub client).
* The researcher downloads it into ``DIR/researcher/`` with ``fedlink extract download``,
  which checks its SHA-256 and unpacks it; the demo then reads the unpacked tables as the
  researcher would and prints each agency table's grain (persons × periods, rows).
* The term ends: the hub operator's sweep expires the project and destroys the extract
  (its key crypto-shredded, its file overwritten and deleted). The demo's term is one day,
  so this one call runs **as of the day after the term ends** — the only place the demo
  moves a clock, inside the demo process, never a setting of the hub. Afterwards the hub
  refuses to hand the extract out again.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fedlink.demo.state import Demo
from fedlink.demo.ui import StepFailed, StepHandle


def _disclosure_line(disclosure: dict[str, Any] | None) -> str:
    if not disclosure:
        return "no disclosure report"
    qis = disclosure.get("quasi_identifiers") or []
    result = disclosure.get("result") or {}
    if not qis or not result:
        return f"k={disclosure.get('k')}: no quasi-identifier released, nothing to generalise"
    rules = {n: v for n, v in (result.get("variables") or {}).items() if v.get("rule") != "none"}
    done = ", ".join(f"{n}: {v['rule']}" + (f" (level {v['level']})" if v.get("level") else "")
                     + (f", {v['cells_suppressed']} cells suppressed"
                        if v.get("cells_suppressed") else "") for n, v in rules.items())
    return (f"k={result.get('k')} on {', '.join(qis)}: classes below k "
            f"{result.get('classes_below_k_before')} → {result.get('classes_below_k_after')}"
            + (f"; {done}" if done else ""))


def assemble_and_download(demo: Demo) -> None:
    title = "Disclosure checks and the linked extract"
    with demo.steps.step(title, "researcher: hub client; the hub asks the nodes") as step:
        with demo.hub_client("researcher") as hub:
            extract = hub.build_extract(demo.request_id, run_id=demo.run_id)
        if extract["status"] != "available":
            why = extract.get("failure") or {}
            raise StepFailed(f"extract {extract['id']} is {extract['status']}"
                             + (f": {why.get('code')}: {why.get('reason')}" if why else
                                " (held by disclosure control for the stewards)"))
        demo.facts["extract_id"] = extract["id"]
        tables = extract.get("tables") or {}
        demo.facts["extract"] = {
            "extract persons": f"{extract['persons']:,}",
            "extract tables": ", ".join(f"{n} {c:,} rows" for n, c in sorted(tables.items())),
        }
        step.note(_disclosure_line(extract.get("disclosure")))
        step.done(f"extract {extract['id']}: {extract['persons']:,} people, "
                  f"{extract.get('size_bytes', 0):,} bytes encrypted at rest, expires "
                  f"{str(extract['expires_at'])[:10]}")

    title = "The researcher downloads the extract"
    with demo.steps.step(title, "researcher: fedlink extract download") as step:
        out = demo.fedlink("extract", "download", extract["id"], "--out",
                           str(demo.layout.researcher), who="researcher",
                           env=demo.api_env("researcher"))
        _describe_tables(demo, step, demo.layout.researcher / extract["id"])
        step.done(out.strip().splitlines()[-1])


def _describe_tables(demo: Demo, step: StepHandle, unpacked: Path) -> None:
    """One line per agency table the researcher received, read from the unpacked files:
    persons × periods (rows), or persons (rows) for a one-row-per-person table."""
    from fedlink.demo.federation import AGENCIES
    from fedlink.demo.tables import agency_tables

    if not (unpacked / "data_dictionary.json").is_file():
        step.note(f"no unpacked extract in {unpacked}")
        return
    shapes = agency_tables(unpacked, [a.code for a in AGENCIES])
    for code, shape in shapes.items():
        step.note(f"{code}: {shape.preview()}" + ("" if shape.longitudinal else
                                                   f", {shape.grain}"))
        demo.facts["extract"][shape.name] = f"{shape.preview()}; {shape.grain}"
    if demo.longitudinal and not all(s.longitudinal for s in shapes.values()):
        flat = ", ".join(c for c, s in shapes.items() if not s.longitudinal)
        raise StepFailed(f"the extract's {flat} table(s) have no period column: the nodes "
                         "answered one row per person")


def _sweep_as_of(demo: Demo, when: dt.datetime) -> dict[str, list[str]]:
    """The operator's sweep on the hub's directory, with the clock at ``when``."""
    from hub.domain.roles import OPERATOR
    from hub.services.extract_destruction import sweep
    from hub.services.setup import open_hub

    offset = when - dt.datetime.now(dt.UTC)
    with open_hub(demo.layout.hub) as ctx:
        ctx.clock = lambda: dt.datetime.now(dt.UTC) + offset
        return sweep(ctx, OPERATOR)


def expire_and_destroy(demo: Demo) -> None:
    title = "The term ends: expiry and destruction"
    with demo.steps.step(title, "hub operator: the extract sweep") as step:
        from hub.errors import HubClientError

        with demo.hub_client("researcher") as hub:
            approved = hub.get_request(demo.request_id).get("approved_term") or {}
        if not approved.get("end"):
            raise StepFailed(f"project {demo.request_id} has no approved term")
        term_end = dt.date.fromisoformat(str(approved["end"])[:10])
        as_of = dt.datetime.combine(term_end + dt.timedelta(days=1), dt.time(12), dt.UTC)
        step.note(f"the sweep runs as of {as_of:%Y-%m-%d %H:%M} UTC, the day after the term "
                  f"ending {term_end} (demo only)")
        done = _sweep_as_of(demo, as_of)
        if demo.request_id not in done["projects_expired"]:
            raise StepFailed(f"the sweep did not expire project {demo.request_id}")
        if not done.get("runs_purged"):
            raise StepFailed(f"the sweep did not purge the links of project {demo.request_id}")
        step.note(f"the hub purged the pid-level links and clusters of "
                  f"{len(done['runs_purged'])} run(s); each node deletes its issued pids when "
                  "the term ends by its own clock")
        extract_id = demo.facts.get("extract_id")
        if extract_id:
            if extract_id not in done["extracts_destroyed"]:
                raise StepFailed(f"the sweep did not destroy extract {extract_id}")
            with demo.hub_client("researcher") as hub:
                after = hub.get_extract(extract_id)
                try:
                    with hub.download_extract(extract_id):
                        raise StepFailed(f"the hub still hands out extract {extract_id}")
                except HubClientError as exc:
                    step.note(f"a new download is refused: {exc.code}")
            what = after.get("destruction") or {}
            step.done(f"project {demo.request_id} expired; extract {extract_id} destroyed "
                      f"(key destroyed: {what.get('key_destroyed')}, file of "
                      f"{what.get('file_bytes', 0):,} bytes shredded)")
        else:
            step.done(f"project {demo.request_id} expired")
