"""What hub and nodes share: identity schema, normalisation, key derivation, tokens,
Bloom filters, signed messages, HPKE payloads and wire models.

Pure code: no I/O, and no fastapi, sqlalchemy, httpx or uvicorn (a test enforces it).
"""

PROTOCOL_VERSION = "fedlink/1"
