"""Wire models: valid messages survive sign → verify → body_as; invalid ones are refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import BaseModel, ValidationError

from protocol import PROTOCOL_VERSION
from protocol.canonical import b64url_encode, canonical_json
from protocol.errors import MalformedMessageError, UnsupportedVersionError, WrongMessageTypeError
from protocol.keyfiles import key_id, public_key_to_b64
from protocol.payload import open_payload, seal_payload
from protocol.signing import MemoryReplayGuard, sign, verify
from protocol.wire import (
    EXTRACT_PURPOSE,
    MAX_ASSIGNMENTS,
    MESSAGE_TYPES,
    CatalogVariable,
    Cohort,
    DictionaryUpdate,
    EnrollmentRequest,
    EnrollmentResponse,
    ErrorBody,
    ExtractPayloadHeader,
    ExtractRequest,
    ExtractResponse,
    MatchRequest,
    ProjectScope,
    StewardDecision,
    body_as,
    extract_payload_context,
    terms_digest,
)

NOW = 1_767_225_600
HUB_SIGNING = Ed25519PrivateKey.generate()
HUB_HPKE = X25519PrivateKey.generate()
NODE_SIGNING = Ed25519PrivateKey.generate()
PAYLOAD = b"arrow ipc stream bytes"


def scope_fields(**changes: Any) -> dict[str, Any]:
    return {
        "agency": "K12",
        "variables": ["grade_level", "school_year", "ell_status"],
        "first_year": 2015,
        "last_year": 2020,
        "cohort": {
            "conditions": [
                {"kind": "range", "variable": "grade_level", "minimum": 9, "maximum": 12},
                {"kind": "in", "variable": "district", "values": ["001", "017"]},
                {"kind": "equals", "variable": "ell_status", "value": True},
            ]
        },
        "term_start": "2026-01-01",
        "term_end": "2027-12-31",
        "matching_authorised": True,
        **changes,
    }


def match_request_fields(**changes: Any) -> dict[str, Any]:
    return {
        "project_id": "P-2026-001",
        "agency": "K12",
        "project_salt": b64url_encode(bytes(range(32))),
        "project_terms": {
            "project_id": "P-2026-001", "term_start": "2026-01-01", "term_end": "2027-12-31",
            "agencies": [{"agency": "DSS", "terms_digest": "11" * 32},
                         {"agency": "K12", "terms_digest": "22" * 32}],
        },
        "scope": scope_fields(),
        "run_id": "run-1",
        "batch_format": "arrow-ipc-stream",
        **changes,
    }


def extract_request_fields(**changes: Any) -> dict[str, Any]:
    return {
        "project_id": "P-2026-001",
        "agency": "K12",
        "run_id": "run-1",
        "variables": ["grade_level", "school_year"],
        "first_year": 2015,
        "last_year": 2020,
        "assignments": [["pid_0000000001", "person-0001"], ["pid_0000000002", "person-0002"]],
        "recipient_kid": key_id(HUB_HPKE.public_key()),
        **changes,
    }


def header_fields(**changes: Any) -> dict[str, Any]:
    return {
        "project_id": "P-2026-001",
        "agency": "K12",
        "run_id": "run-1",
        "rows": 2,
        "variables": ["grade_level"],
        "sha256": hashlib.sha256(PAYLOAD).hexdigest(),
        **changes,
    }


def extract_response_fields(**changes: Any) -> dict[str, Any]:
    sealed = seal_payload(
        PAYLOAD,
        HUB_HPKE.public_key(),
        purpose=EXTRACT_PURPOSE,
        **extract_payload_context("P-2026-001", "K12", "run-1"),
    )
    return {"request_nonce": "n" * 22, "header": header_fields(), "payload": sealed.model_dump(),
            **changes}


def decision_fields(**changes: Any) -> dict[str, Any]:
    return {
        "project_id": "P-2026-001",
        "agency": "K12",
        "decision": "approve",
        "terms_digest": "ab" * 32,
        "decided_at": "2026-01-02T15:04:05Z",
        **changes,
    }


def enrollment_request_fields(**changes: Any) -> dict[str, Any]:
    return {
        "agency": "K12",
        "signing_public_key": public_key_to_b64(NODE_SIGNING.public_key()),
        "enrollment_token": "tok_" + "x" * 40,
        "dictionary": [
            {
                "name": "grade_level",
                "description": "Grade in the school year",
                "type": "integer",
                "years": [2019, 2020],
                "classification": "internal",
                "quasi_identifier": False,
            }
        ],
        **changes,
    }


def dictionary_update_fields(**changes: Any) -> dict[str, Any]:
    return {
        "agency": "K12",
        "published_at": "2026-01-02T15:04:05Z",
        "dictionary": [
            {
                "name": "grade_level", "description": "", "type": "integer",
                "years": [2019, 2020], "classification": "internal",
                "completeness": [{"year": 2019, "percent": 97}, {"year": 2020, "percent": 100}],
                "codes": [{"code": "09", "label": "Grade 9", "count": 120},
                          {"code": "13", "label": "", "count": None}],
                "description_placeholder": True,
            }
        ],
        **changes,
    }


def enrollment_response_fields(**changes: Any) -> dict[str, Any]:
    return {
        "agency": "K12",
        "hub_signing_public_key": public_key_to_b64(HUB_SIGNING.public_key()),
        "hub_signing_kid": key_id(HUB_SIGNING.public_key()),
        "hub_hpke_public_key": public_key_to_b64(HUB_HPKE.public_key()),
        "hub_hpke_kid": key_id(HUB_HPKE.public_key()),
        "node_token": "node_" + "y" * 40,
        **changes,
    }


CASES: dict[str, tuple[type[BaseModel], Callable[..., dict[str, Any]]]] = {
    "scope": (ProjectScope, scope_fields),
    "match_request": (MatchRequest, match_request_fields),
    "extract_request": (ExtractRequest, extract_request_fields),
    "payload_header": (ExtractPayloadHeader, header_fields),
    "extract_response": (ExtractResponse, extract_response_fields),
    "steward_decision": (StewardDecision, decision_fields),
    "enrollment_request": (EnrollmentRequest, enrollment_request_fields),
    "enrollment_response": (EnrollmentResponse, enrollment_response_fields),
    "dictionary_update": (DictionaryUpdate, dictionary_update_fields),
    "error_body": (ErrorBody, lambda **c: {"error": "not_approved", "detail": "No.", **c}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_valid_message_parses_and_round_trips_json(case: str) -> None:
    model, fields = CASES[case]
    parsed = model.model_validate(fields())
    assert model.model_validate_json(parsed.model_dump_json()) == parsed


@pytest.mark.parametrize("case", list(CASES))
def test_unknown_field_refused(case: str) -> None:
    model, fields = CASES[case]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate(fields(surprise="value"))


@pytest.mark.parametrize("case", list(CASES))
def test_models_are_frozen(case: str) -> None:
    model, fields = CASES[case]
    parsed = model.model_validate(fields())
    with pytest.raises(ValidationError):
        parsed.__setattr__(next(iter(model.model_fields)), "changed")


@pytest.mark.parametrize("typ", sorted(MESSAGE_TYPES))
def test_signed_message_round_trip(typ: str) -> None:
    model = MESSAGE_TYPES[typ]
    case = {v[0]: v[1] for v in CASES.values()}[model]
    message = model.model_validate(case())
    envelope = sign(message, typ=model.TYP, private_key=HUB_SIGNING, now=NOW)
    accepted = verify(
        envelope.to_json(),
        keyring={key_id(HUB_SIGNING.public_key()): HUB_SIGNING.public_key()},
        expected_typ=typ,
        replay_guard=MemoryReplayGuard(),
        now=NOW,
    )
    assert body_as(accepted, model) == message
    assert accepted.body["protocol_version"] == PROTOCOL_VERSION


def test_body_as_wrong_typ_refused() -> None:
    envelope = sign(match_request_fields(), typ="match_request", private_key=HUB_SIGNING)
    with pytest.raises(WrongMessageTypeError):
        body_as(envelope, ExtractRequest)


def test_body_as_other_protocol_version_refused() -> None:
    body = {**match_request_fields(), "protocol_version": "fedlink/2"}
    envelope = sign(body, typ="match_request", private_key=HUB_SIGNING)
    with pytest.raises(UnsupportedVersionError):
        body_as(envelope, MatchRequest)


def test_body_as_malformed_body_names_field_not_value() -> None:
    body = match_request_fields(run_id="Jane Doe 2004-03-07")
    envelope = sign(body, typ="match_request", private_key=HUB_SIGNING)
    with pytest.raises(MalformedMessageError, match="run_id") as info:
        body_as(envelope, MatchRequest)
    assert "Jane" not in str(info.value)


def test_dictionary_update_repeated_code_refused() -> None:
    variable = dictionary_update_fields()["dictionary"][0]
    variable["codes"] = [{"code": "09"}, {"code": "09"}]
    with pytest.raises(ValidationError, match="code"):
        DictionaryUpdate.model_validate(dictionary_update_fields(dictionary=[variable]))


def test_dictionary_update_identity_variable_refused() -> None:
    variable = {**dictionary_update_fields()["dictionary"][0], "name": "dob"}
    with pytest.raises(ValidationError):
        DictionaryUpdate.model_validate(dictionary_update_fields(dictionary=[variable]))


def test_dictionary_update_completeness_above_100_refused() -> None:
    variable = dictionary_update_fields()["dictionary"][0]
    variable["completeness"] = [{"year": 2019, "percent": 101}]
    with pytest.raises(ValidationError):
        DictionaryUpdate.model_validate(dictionary_update_fields(dictionary=[variable]))


# --- steward decisions ---------------------------------------------------------------


def test_deny_without_reason_refused() -> None:
    with pytest.raises(ValidationError, match="a denial needs a reason"):
        StewardDecision.model_validate(decision_fields(decision="deny"))


def test_deny_with_blank_reason_refused() -> None:
    with pytest.raises(ValidationError, match="a denial needs a reason"):
        StewardDecision.model_validate(decision_fields(decision="deny", reason="  \n"))


def test_deny_with_reason_accepted() -> None:
    decision = StewardDecision.model_validate(
        decision_fields(decision="deny", reason="Cohort too small to protect privacy.")
    )
    assert decision.decision == "deny"


@pytest.mark.parametrize(
    "changes",
    [
        {"decision": "maybe"},
        {"terms_digest": "AB" * 32},
        {"terms_digest": "ab" * 31},
        {"decided_at": "2026-01-02T15:04:05"},
        {"decided_at": NOW},
        {"reason": "x" * 2001},
    ],
    ids=["decision", "upper-digest", "short-digest", "naive-time", "unix-time", "long-reason"],
)
def test_bad_steward_decision_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        StewardDecision.model_validate(decision_fields(**changes))


# --- scope, cohort and requests ----------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"variables": ["grade_level", "grade_level"]},
        {"variables": []},
        {"variables": ["grade level"]},
        {"first_year": 2021},
        {"first_year": 1850},
        {"term_start": "2028-01-01"},
        {"term_start": "2026-02-30"},
        {"term_start": "01/03/2026"},
        {"term_start": 1767225600},
        {"term_start": "2026-01-01T00:00:00"},
        {"matching_authorised": "yes"},
        {"agency": "K 12"},
        {"agency": "K" * 33},
    ],
    ids=[
        "duplicate-variable",
        "no-variables",
        "variable-with-space",
        "years-reversed",
        "year-out-of-range",
        "term-reversed",
        "impossible-date",
        "us-date",
        "unix-date",
        "datetime-as-date",
        "bool-as-string",
        "agency-space",
        "agency-too-long",
    ],
)
def test_bad_scope_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ProjectScope.model_validate(scope_fields(**changes))


@pytest.mark.parametrize("name", ["ssn", "DOB", "first_name", "street_address", "record_id"])
def test_identity_fields_can_never_be_requested(name: str) -> None:
    with pytest.raises(ValidationError, match="identity field"):
        ProjectScope.model_validate(scope_fields(variables=["grade_level", name]))
    with pytest.raises(ValidationError, match="identity field"):
        ExtractRequest.model_validate(extract_request_fields(variables=[name]))
    with pytest.raises(ValidationError, match="identity field"):
        Cohort.model_validate(
            {"conditions": [{"kind": "equals", "variable": name, "value": "123456789"}]}
        )
    with pytest.raises(ValidationError, match="identity field"):
        CatalogVariable.model_validate({"name": name})


@pytest.mark.parametrize(
    "condition",
    [
        {"kind": "range", "variable": "grade_level"},
        {"kind": "range", "variable": "grade_level", "minimum": 12, "maximum": 9},
        {"kind": "range", "variable": "grade_level", "minimum": "9"},
        {"kind": "in", "variable": "district", "values": []},
        {"kind": "in", "variable": "district", "values": ["001", "001"]},
        {"kind": "in", "variable": "district", "values": ["x"] * 101},
        {"kind": "like", "variable": "district", "value": "0%"},
        {"kind": "equals", "variable": "district", "value": 1.5},
    ],
    ids=[
        "open-range",
        "inverted-range",
        "string-bound",
        "empty-in",
        "duplicate-in",
        "in-too-long",
        "unknown-kind",
        "float-value",
    ],
)
def test_bad_cohort_condition_refused(condition: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Cohort.model_validate({"conditions": [condition]})


def test_cohort_condition_count_is_bounded() -> None:
    condition = {"kind": "equals", "variable": "ell_status", "value": True}
    Cohort.model_validate({"conditions": [condition] * 20})
    with pytest.raises(ValidationError):
        Cohort.model_validate({"conditions": [condition] * 21})


def test_empty_cohort_means_everyone() -> None:
    scope = ProjectScope.model_validate({**scope_fields(), "cohort": {}})
    assert scope.cohort.conditions == ()


@pytest.mark.parametrize(
    "changes",
    [
        {"agency": "DSS"},
        {"project_salt": b64url_encode(bytes(15))},
        {"project_salt": "not base64!" * 3},
        {"project_terms": {"project_id": "P-2026-002", "term_start": "2026-01-01",
                           "term_end": "2027-12-31",
                           "agencies": [{"agency": "K12", "terms_digest": "22" * 32}]}},
        {"project_terms": {"project_id": "P-2026-001", "term_start": "2026-01-01",
                           "term_end": "2027-12-31",
                           "agencies": [{"agency": "DSS", "terms_digest": "22" * 32}]}},
        {"batch_format": "json"},
        {"project_id": "../etc/passwd"},
        {"run_id": ""},
        {"protocol_version": "fedlink/0"},
    ],
    ids=[
        "scope-agency-mismatch",
        "short-salt",
        "bad-salt",
        "project-terms-other-project",
        "project-terms-without-agency",
        "batch-format",
        "path-project-id",
        "empty-run",
        "version",
    ],
)
def test_bad_match_request_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        MatchRequest.model_validate(match_request_fields(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"assignments": []},
        {"assignments": [["pid_0000000001", "person-1"], ["pid_0000000001", "person-2"]]},
        {"assignments": [["pid_0000000001"]]},
        {"assignments": [["short", "person-0001"]]},
        {"recipient_kid": key_id(HUB_SIGNING.public_key())},
        {"first_year": 2021},
    ],
    ids=["none", "pid-twice", "not-a-pair", "short-pid", "signing-kid", "years-reversed"],
)
def test_bad_extract_request_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ExtractRequest.model_validate(extract_request_fields(**changes))


def test_extract_request_assignments_are_bounded() -> None:
    pairs = [[f"pid_{i:010d}", f"per_{i:010d}"] for i in range(MAX_ASSIGNMENTS + 1)]
    with pytest.raises(ValidationError, match="at most"):
        ExtractRequest.model_validate(extract_request_fields(assignments=pairs))


def test_two_pids_may_share_a_person_id() -> None:
    pairs = [["pid_0000000001", "person-1"], ["pid_0000000002", "person-1"]]
    assert (
        len(ExtractRequest.model_validate(extract_request_fields(assignments=pairs)).assignments)
        == 2
    )


# --- extract response and enrollment -----------------------------------------------------


def test_extract_response_opens_with_its_header_context() -> None:
    response = ExtractResponse.model_validate(extract_response_fields())
    header = response.header
    context = extract_payload_context(header.project_id, header.agency, header.run_id)
    assert open_payload(response.payload, HUB_HPKE, purpose=EXTRACT_PURPOSE, **context) == PAYLOAD


@pytest.mark.parametrize(
    "header_change",
    [{"run_id": "run-2"}, {"agency": "DSS"}, {"sha256": "00" * 32}],
    ids=["other-run", "other-agency", "other-digest"],
)
def test_extract_response_header_must_match_payload(header_change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="does not match"):
        ExtractResponse.model_validate(
            extract_response_fields(header=header_fields(**header_change))
        )


def test_extract_header_refuses_negative_rows() -> None:
    with pytest.raises(ValidationError):
        ExtractPayloadHeader.model_validate(header_fields(rows=-1))


def test_enrollment_request_kid_and_hidden_token() -> None:
    request = EnrollmentRequest.model_validate(enrollment_request_fields())
    assert request.signing_kid == key_id(NODE_SIGNING.public_key())
    assert "tok_" not in repr(request)


@pytest.mark.parametrize(
    "changes",
    [
        {"signing_public_key": public_key_to_b64(HUB_HPKE.public_key())[:-1]},
        {"enrollment_token": "short"},
        {"dictionary": [{"name": "grade_level"}, {"name": "grade_level"}]},
        {"dictionary": [{"name": "grade_level", "classification": "secret"}]},
    ],
    ids=["bad-key", "short-token", "duplicate-variable", "bad-classification"],
)
def test_bad_enrollment_request_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EnrollmentRequest.model_validate(enrollment_request_fields(**changes))


@pytest.mark.parametrize(
    "changes",
    [
        {"hub_signing_kid": key_id(NODE_SIGNING.public_key())},
        {"hub_hpke_kid": key_id(X25519PrivateKey.generate().public_key())},
        {"hub_hpke_public_key": b64url_encode(bytes(32))},
        {"hub_signing_public_key": public_key_to_b64(NODE_SIGNING.public_key())},
    ],
    ids=["signing-kid", "hpke-kid", "low-order-hpke-key", "key-swapped"],
)
def test_enrollment_response_kids_must_name_their_keys(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EnrollmentResponse.model_validate(enrollment_response_fields(**changes))


ASSEMBLY_SIGNING = Ed25519PrivateKey.generate()


def _assembly_signing(key: Ed25519PrivateKey = ASSEMBLY_SIGNING) -> dict[str, Any]:
    return {"assembly_signing_public_key": public_key_to_b64(key.public_key()),
            "assembly_signing_kid": key_id(key.public_key())}


def test_enrollment_response_carries_the_assembly_signing_key_optionally() -> None:
    old = EnrollmentResponse.model_validate(enrollment_response_fields())
    assert old.assembly_signing_public_key is None and old.assembly_signing_kid is None
    new = EnrollmentResponse.model_validate(enrollment_response_fields(**_assembly_signing()))
    assert new.assembly_signing_kid == key_id(ASSEMBLY_SIGNING.public_key())


@pytest.mark.parametrize(
    "changes",
    [
        {"assembly_signing_public_key": _assembly_signing()["assembly_signing_public_key"]},
        {"assembly_signing_kid": _assembly_signing()["assembly_signing_kid"]},
        {**_assembly_signing(), "assembly_signing_kid": key_id(NODE_SIGNING.public_key())},
        _assembly_signing(HUB_SIGNING),
    ],
    ids=["key-without-kid", "kid-without-key", "kid-of-another-key", "the-hub-key"],
)
def test_enrollment_response_assembly_signing_key_is_checked(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        EnrollmentResponse.model_validate(enrollment_response_fields(**changes))


@pytest.mark.parametrize("error", ["Not Approved", "", "bad-code"])
def test_error_body_code_is_a_stable_identifier(error: str) -> None:
    with pytest.raises(ValidationError):
        ErrorBody(error=error, detail="x")


# --- terms digest ------------------------------------------------------------------------


def test_terms_digest_is_key_order_independent() -> None:
    terms = {"project_id": "P-1", "variables": ["a", "b"], "years": {"first": 2015, "last": 2020}}
    reordered = {
        "years": {"last": 2020, "first": 2015},
        "variables": ["a", "b"],
        "project_id": "P-1",
    }
    assert terms_digest(terms) == terms_digest(reordered)
    assert terms_digest(terms) == hashlib.sha256(canonical_json(terms)).hexdigest()


def test_terms_digest_changes_with_terms() -> None:
    terms = {"project_id": "P-1", "variables": ["a", "b"]}
    assert terms_digest(terms) != terms_digest({**terms, "variables": ["b", "a"]})


# --- person ids: an agency's declaration (enrollment and dictionary updates) ------------

PERSON_ID_MESSAGES = {"enrollment_request": (EnrollmentRequest, enrollment_request_fields),
                      "dictionary_update": (DictionaryUpdate, dictionary_update_fields)}


@pytest.mark.parametrize("case", list(PERSON_ID_MESSAGES))
def test_person_ids_declaration_round_trips_signed(case: str) -> None:
    model, fields = PERSON_ID_MESSAGES[case]
    message = model.model_validate(fields(person_ids="may_duplicate"))
    envelope = sign(message, typ=model.TYP, private_key=NODE_SIGNING, now=NOW)
    accepted = verify(envelope.to_json(),
                      keyring={key_id(NODE_SIGNING.public_key()): NODE_SIGNING.public_key()},
                      expected_typ=model.TYP, replay_guard=MemoryReplayGuard(), now=NOW)
    assert accepted.body["person_ids"] == "may_duplicate"
    assert body_as(accepted, model).person_ids == "may_duplicate"  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", list(PERSON_ID_MESSAGES))
def test_message_without_person_ids_from_an_older_node_means_unique(case: str) -> None:
    model, fields = PERSON_ID_MESSAGES[case]
    older = fields()
    assert "person_ids" not in older
    assert model.model_validate(older).person_ids == "unique"  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", list(PERSON_ID_MESSAGES))
@pytest.mark.parametrize("value", ["sometimes", "UNIQUE", "", None, True, 1])
def test_unknown_person_ids_value_refused(case: str, value: object) -> None:
    model, fields = PERSON_ID_MESSAGES[case]
    with pytest.raises(ValidationError, match="person_ids"):
        model.model_validate(fields(person_ids=value))
