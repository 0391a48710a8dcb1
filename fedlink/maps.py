"""``--map LOCAL=CANONICAL`` options, shared by ``fedlink link`` and ``fedlink node init``.

A module of its own, free of pandas and the hub's linkage engine: ``fedlink node init`` runs
on a production node, which installs neither (pyproject.toml's ``node`` extra).
"""

from __future__ import annotations

from fedlink.errors import CommandError
from protocol.identity import IDENTITY_FIELDS

RECORD_ID = "record_id"


def parse_maps(maps: list[str]) -> dict[str, str]:
    """``local=canonical`` options → rename mapping, refusing unknown canonical names."""
    out: dict[str, str] = {}
    allowed = (*IDENTITY_FIELDS, RECORD_ID)
    for item in maps:
        local, sep, canonical = item.partition("=")
        local, canonical = local.strip(), canonical.strip()
        if not sep or not local or not canonical:
            raise CommandError(f"--map takes local=canonical, got {item!r}")
        if canonical not in allowed:
            raise CommandError(f"--map {item}: {canonical!r} is not one of {', '.join(allowed)}")
        out[local] = canonical
    return out
