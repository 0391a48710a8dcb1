"""The extract's data dictionary: every released column, where it comes from, what it is,
what disclosure control did to it, and the *grain* of its table — what one row is: "one
row per person", or "one row per person and period (<kind>)" for a longitudinal agency
table, whose ``period`` column is then listed too (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.disclosure.kanon import KAnonymityResult
from hub.extracts.periods import GRAIN_PERIOD, GRAIN_PERSON

#: What one row of each hub table is.
HUB_GRAINS: dict[str, str] = {"persons": GRAIN_PERSON,
                              "links": "one row per link between two agencies' records of a "
                                       "person"}

_HUB_COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "persons": [
        ("person_id", "string", "Random project person id, unique to this extract; never "
         "derived from any agency identifier"),
        ("agencies", "string", "Agencies in which this person was found, ';'-joined"),
        ("n_agencies", "integer", "Number of agencies in which this person was found"),
    ],
    "links": [
        ("person_id", "string", "Project person id the link belongs to"),
        ("agency_a", "string", "First agency of the linked pair"),
        ("agency_b", "string", "Second agency of the linked pair"),
        ("match_band", "string", "Coarse band of the link's posterior match probability: "
         "very_high (>= 0.99), high (>= 0.95), medium (>= 0.80) or low; the exact weight "
         "is not released"),
    ],
}


def _hub_entry(table: str, variable: str, type_: str, description: str, *,
               grain: str | None = None) -> dict[str, Any]:
    return {"table": table, "variable": variable, "source_agency": "hub",
            "description": description, "classification": "internal", "type": type_,
            "years": [], "quasi_identifier": False, "transformation": "none",
            "cells_suppressed": 0, "grain": grain or HUB_GRAINS[table]}


def build_dictionary(*, agencies: list[str], released: Mapping[str, list[str]],
                     catalog: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     years: Mapping[str, tuple[int, int]],
                     disclosure: KAnonymityResult | None,
                     grains: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Entries for ``persons``, ``links`` and each ``agency_<CODE>`` table.

    ``catalog[agency][variable]`` holds the catalog's ``description``, ``classification``,
    ``type`` and ``quasi_identifier``; ``years[agency]`` the released year range;
    ``grains[agency]`` the grain of its table (:func:`hub.extracts.periods.grain`; one row
    per person when not given)."""
    entries = [_hub_entry(t, *column) for t, columns in _HUB_COLUMNS.items()
               for column in columns]
    entries += [_hub_entry("persons", f"in_{code}", "boolean",
                           f"Whether this person was found in agency {code}")
                for code in sorted(agencies)]
    for agency in sorted(released):
        table = f"agency_{agency}"
        grain = (grains or {}).get(agency, GRAIN_PERSON)
        entries.append(_hub_entry(table, "person_id", "string", "Project person id",
                                  grain=grain))
        if grain.startswith(GRAIN_PERIOD):
            entries.append({**_hub_entry(
                table, "period", "string", "Period of the row, normalised by the agency's "
                "node: 2021 (year), 2021-22 (school year), 2021FA/2022SP/2021T1 (term), "
                "2021Q3 (quarter) or an ISO date", grain=grain), "source_agency": agency,
                "years": list(years[agency])})
        for name in released[agency]:
            meta = catalog[agency][name]
            outcome = disclosure.variables.get(f"{agency}.{name}") if disclosure else None
            generalised = bool(outcome and outcome.level)
            entries.append({
                "table": table, "variable": name, "source_agency": agency,
                "description": meta.get("description", ""),
                "classification": meta.get("classification", ""),
                "type": "string" if generalised else meta.get("type", "string"),
                "years": list(years[agency]),
                "quasi_identifier": bool(meta.get("quasi_identifier")),
                "transformation": outcome.rule if outcome else "none",
                "cells_suppressed": outcome.cells_suppressed if outcome else 0,
                "grain": grain,
            })
    return entries
