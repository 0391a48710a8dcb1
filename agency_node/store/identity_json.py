"""NormalizedIdentity ⇄ JSON for the ``records.identity`` column."""

from __future__ import annotations

import datetime as dt
from typing import Any

from protocol.identity import IDENTITY_FIELDS, MissingReason, NormalizedIdentity, Sex


def identity_to_json(identity: NormalizedIdentity) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in IDENTITY_FIELDS:
        value = getattr(identity, field)
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, Sex):
            value = value.value
        out[field] = value
    out["first_name_canonical"] = list(identity.first_name_canonical)
    out["last_name_parts"] = list(identity.last_name_parts)
    out["problems"] = {k: str(v) for k, v in identity.problems.items()}
    return out


def identity_from_json(data: dict[str, Any]) -> NormalizedIdentity:
    values: dict[str, Any] = {field: data.get(field) for field in IDENTITY_FIELDS}
    if values["dob"] is not None:
        values["dob"] = dt.date.fromisoformat(values["dob"])
    if values["sex"] is not None:
        values["sex"] = Sex(values["sex"])
    return NormalizedIdentity(
        **values,
        first_name_canonical=tuple(data.get("first_name_canonical", ())),
        last_name_parts=tuple(data.get("last_name_parts", ())),
        problems={k: MissingReason(v) for k, v in data.get("problems", {}).items()},
    )
