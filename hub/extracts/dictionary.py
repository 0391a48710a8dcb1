"""The extract's data dictionary: every released column, where it comes from, what it is,
and what disclosure control did to it (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.disclosure.kanon import KAnonymityResult

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


def _hub_entry(table: str, variable: str, type_: str, description: str) -> dict[str, Any]:
    return {"table": table, "variable": variable, "source_agency": "hub",
            "description": description, "classification": "internal", "type": type_,
            "years": [], "quasi_identifier": False, "transformation": "none",
            "cells_suppressed": 0}


def build_dictionary(*, agencies: list[str], released: Mapping[str, list[str]],
                     catalog: Mapping[str, Mapping[str, Mapping[str, Any]]],
                     years: Mapping[str, tuple[int, int]],
                     disclosure: KAnonymityResult | None) -> list[dict[str, Any]]:
    """Entries for ``persons``, ``links`` and each ``agency_<CODE>`` table.

    ``catalog[agency][variable]`` holds the catalog's ``description``, ``classification``,
    ``type`` and ``quasi_identifier``; ``years[agency]`` the released year range."""
    entries = [_hub_entry(t, *column) for t, columns in _HUB_COLUMNS.items()
               for column in columns]
    entries += [_hub_entry("persons", f"in_{code}", "boolean",
                           f"Whether this person was found in agency {code}")
                for code in sorted(agencies)]
    for agency in sorted(released):
        table = f"agency_{agency}"
        entries.append(_hub_entry(table, "person_id", "string", "Project person id"))
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
            })
    return entries
