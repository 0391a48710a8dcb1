"""The node's data dictionary as protocol catalog entries (enrollment and the API)."""

from __future__ import annotations

from agency_node.config import NodeConfig
from protocol.wire import CatalogVariable


def catalog(config: NodeConfig) -> list[CatalogVariable]:
    return [
        CatalogVariable(
            name=name, description=var.description[:2000], type=var.type,
            years=tuple(var.years), classification=var.classification,
            quasi_identifier=var.quasi_identifier,
        )
        for name, var in config.variables.items()
    ]
