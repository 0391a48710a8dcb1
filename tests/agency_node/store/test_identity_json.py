"""Identities in the store's JSON: a round trip, and the columns a match stream reads."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from agency_node.store.identity_json import (
    identity_columns_from_json,
    identity_from_json,
    identity_to_json,
)
from protocol.columns import IdentityColumns
from protocol.identity import MissingReason, NormalizedIdentity, Sex
from protocol.normalize import normalize_identity

IDENTITIES = [
    NormalizedIdentity(first_name="BILL", last_name="GARCIALOPEZ", dob=dt.date(2004, 3, 7),
                       sex=Sex.MALE, ssn="219099999", postal_code="23220",
                       street_address="12 MAIN ST", city="RICHMOND",
                       first_name_canonical=("WILLIAM",), last_name_parts=("GARCIA", "LOPEZ")),
    NormalizedIdentity(problems={"first_name": MissingReason.ABSENT}),
    normalize_identity({"first_name": "María", "last_name": "O'Brien Jr", "dob": "13/13/2001",
                        "sex": "x", "middle_name": "Ann"}),
]


def stored(identity: NormalizedIdentity) -> dict:
    """As the store gives it back: through JSON text."""
    return json.loads(json.dumps(identity_to_json(identity)))


def test_identity_round_trips_through_the_store_json() -> None:
    for identity in IDENTITIES:
        assert identity_from_json(stored(identity)) == identity


def test_identity_columns_from_json_equal_the_columns_of_the_identities() -> None:
    data = [stored(x) for x in IDENTITIES]
    assert identity_columns_from_json(data) == IdentityColumns.of(IDENTITIES)
    assert identity_columns_from_json([]) == IdentityColumns.of([])


def test_identity_columns_from_json_refuses_an_unknown_sex_code() -> None:
    data = stored(IDENTITIES[0]) | {"sex": "Q"}
    with pytest.raises(ValueError, match="Sex"):
        identity_from_json(data)
    with pytest.raises(ValueError, match="Sex"):
        identity_columns_from_json([data])
