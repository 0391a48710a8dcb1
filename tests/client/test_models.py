"""fedlink_client.models: permissive on what a newer hub adds, strict on what it needs."""

from __future__ import annotations

import pydantic
import pytest
from fedlink_client.models import CatalogVariable, Extract, Request, User


def test_unknown_fields_from_a_newer_hub_are_ignored() -> None:
    user = User.model_validate({"id": 1, "name": "Ada", "role": "researcher",
                                "created_at": "2026-01-02T03:04:05+00:00",
                                "a_field_from_2030": {"x": 1}})
    assert user.name == "Ada" and user.created_at is not None
    assert not hasattr(user, "a_field_from_2030")


def test_fields_the_client_needs_are_required() -> None:
    with pytest.raises(pydantic.ValidationError):
        Request.model_validate({"title": "no id, no status"})
    with pytest.raises(pydantic.ValidationError):
        CatalogVariable.model_validate({"agency": "K12"})


def test_a_sealed_extract_reads_its_key_and_says_it_is_sealed() -> None:
    extract = Extract.model_validate({
        "id": "ext-1", "project_id": "P-1", "status": "available", "encryption": "researcher",
        "recipient_key": {"suite": "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM",
                          "kid": "x25519:" + "0" * 32, "ciphertext": "AAAA",
                          "info": {"purpose": "extract_key", "extract": "ext-1",
                                   "project": "P-1"}},
        "tables": {"agency_SCH": 12}, "persons": 12})
    assert extract.sealed and extract.recipient_key is not None
    assert extract.recipient_key.info["project"] == "P-1"
    assert not Extract.model_validate({"id": "e", "project_id": "p", "status": "building"}).sealed
