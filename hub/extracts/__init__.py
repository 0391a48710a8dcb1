"""Linked extracts (docs/extracts.md): pure assembly of the de-identified tables
(:mod:`~hub.extracts.assembly`; person × period tables: :mod:`~hub.extracts.periods`),
checking of node payloads (:mod:`~hub.extracts.payloads`),
the bundle layout (:mod:`~hub.extracts.bundle`) and its encryption at rest
(:mod:`~hub.extracts.crypto`). The use cases — build, access, destruction, airlock — are in
``hub/services/extract_*.py``.
"""
