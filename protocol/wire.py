"""The messages the hub and the agency nodes exchange (pydantic v2 models).

Every model forbids unknown fields and is frozen; identifiers are constrained strings,
lists are bounded, dates are ISO ``YYYY-MM-DD`` strings that must be real dates. Top-level
messages carry ``protocol_version``; those that travel signed name their envelope ``typ``
in ``TYP`` and are read back with :func:`body_as`. The contract between services (which
endpoint carries which message, which refusal codes) is ``docs/protocol.md``.

Trust-model guard: no variable name in a scope, cohort, extract or catalog may be an
identity field (:data:`protocol.identity.DIRECT_IDENTIFIERS`, case-insensitively), so a
compromised or buggy hub cannot even *ask* a node for names, birth dates or SSNs, nor
filter a cohort on them to test whether a given person is in an agency's data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Final, Literal, TypeVar

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from protocol import PROTOCOL_VERSION
from protocol.canonical import canonical_json
from protocol.errors import (
    MalformedMessageError,
    UnsupportedVersionError,
    WrongMessageTypeError,
)
from protocol.keyfiles import (
    ED25519_KID_PATTERN,
    X25519_KID_PATTERN,
    ed25519_public_from_b64,
    key_id,
    x25519_public_from_b64,
)
from protocol.payload import SealedPayload
from protocol.project import ProjectTerms
from protocol.signing import SignedEnvelope, describe_validation_error
from protocol.wire_types import (
    AgencyCode,
    Ed25519Key,
    EnvelopeNonce,
    HexDigest,
    Identifier,
    Message,
    PseudoId,
    Salt,
    Text,
    Timestamp,
    Token,
    VariableName,
    WireDate,
    WireModel,
    X25519Key,
    Year,
    check_years,
    unique_values,
)

MAX_VARIABLES: Final = 500
MAX_COHORT_CONDITIONS: Final = 20
MAX_IN_VALUES: Final = 100
#: Pairs per extract request. A larger run is sent as several requests; if runs outgrow
#: this, assignments move to an Arrow IPC body like the match batches.
MAX_ASSIGNMENTS: Final = 250_000
MAX_CATALOG_VARIABLES: Final = 1000
#: A coded variable publishes at most this many distinct codes, each this short.
MAX_CODES: Final = 50
MAX_CODE_CHARS: Final = 64
#: Signed governance decisions a match request may carry (one per roster member at most).
MAX_GOVERNANCE: Final = 64
#: Highest ``resume_from_batch`` a match request may carry: one-unit batches of ten million
#: units (a node's batches hold up to ten thousand units, so real values are far lower).
MAX_RESUME_BATCHES: Final = 10_000_000
#: How far an agency trusts its own person ids (:data:`PersonIds`).
PERSON_IDS: Final = ("unique", "may_duplicate")
#: An agency's declaration about its person ids: ``"unique"`` — one person holds at most
#: one of its person ids, so the hub links it one-to-one; ``"may_duplicate"`` — one person
#: may hold several (a student who moved districts with two state ids), so the hub also
#: deduplicates its records in every run (docs/linkage-runs.md).
PersonIds = Literal["unique", "may_duplicate"]

EXTRACT_PURPOSE: Final = "extract"


# --- cohort ----------------------------------------------------------------------------


class EqualsCondition(WireModel):
    """``variable == value``."""

    kind: Literal["equals"] = Field(description="Always `equals`", examples=["equals"])
    variable: VariableName = Field(description="A variable of the agency's catalog (need not "
                                   "be released)", examples=["grade"])
    value: StrictStr | StrictInt | StrictBool = Field(
        description="The value a covered record holds (a code, number or true/false; never "
                    "an identifier)", examples=[3])


class InCondition(WireModel):
    """``variable`` is one of ``values``."""

    kind: Literal["in"] = Field(description="Always `in`", examples=["in"])
    variable: VariableName = Field(description="A variable of the agency's catalog",
                                   examples=["district"])
    values: tuple[StrictStr | StrictInt, ...] = Field(
        min_length=1, max_length=MAX_IN_VALUES, description="The allowed values, each once "
        "(a covered record holds one of them)", examples=[["D01", "D07"]])

    @field_validator("values")
    @classmethod
    def _distinct(cls, values: tuple[str | int, ...]) -> tuple[str | int, ...]:
        return unique_values(values, "value")


class RangeCondition(WireModel):
    """``minimum <= variable <= maximum`` on an integer variable; either bound may be open."""

    kind: Literal["range"] = Field(description="Always `range`", examples=["range"])
    variable: VariableName = Field(description="An integer variable of the agency's catalog",
                                   examples=["age"])
    minimum: StrictInt | None = Field(default=None, description="Lowest value covered "
                                      "(inclusive; null: no lower bound)", examples=[8])
    maximum: StrictInt | None = Field(default=None, description="Highest value covered "
                                      "(inclusive; null: no upper bound)", examples=[10])

    @model_validator(mode="after")
    def _bounded(self) -> RangeCondition:
        if self.minimum is None and self.maximum is None:
            raise ValueError("a range needs a minimum, a maximum or both")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError("range minimum is above its maximum")
        return self


CohortCondition = Annotated[
    EqualsCondition | InCondition | RangeCondition, Field(discriminator="kind")
]


class Cohort(WireModel):
    """Which of an agency's records a project covers: those meeting **every** condition.

    No conditions means every record inside the scope's years. Conditions name attribute
    variables of that agency (they need not be released variables, but the steward sees
    them in the terms) and never identity fields. The node evaluates them locally; the
    hub only ever sees the conditions, not the values of any record.
    """

    conditions: tuple[CohortCondition, ...] = Field(
        default=(), max_length=MAX_COHORT_CONDITIONS, description="Conditions a covered "
        "record meets, all of them (none: every record in the years)",
        examples=[[{"kind": "equals", "variable": "grade", "value": 3}]])


# --- project scope and hub → node requests -----------------------------------------------


class ProjectScope(WireModel):
    """What one agency's steward approves for one project (inclusive years and term)."""

    agency: AgencyCode
    variables: tuple[VariableName, ...] = Field(min_length=1, max_length=MAX_VARIABLES)
    first_year: Year
    last_year: Year
    cohort: Cohort = Field(default_factory=Cohort)
    term_start: WireDate
    term_end: WireDate
    matching_authorised: StrictBool

    @field_validator("variables")
    @classmethod
    def _distinct(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return unique_values(values, "variable")

    @model_validator(mode="after")
    def _ordered(self) -> ProjectScope:
        check_years(self.first_year, self.last_year)
        if self.term_start > self.term_end:
            raise ValueError("term_start is after term_end")
        return self


class MatchRequest(Message):
    """Hub → node: send this project's tokens and Bloom filters for the approved scope.

    ``project_salt`` (canonical base64url; the node refuses anything but exactly 32 bytes
    with ``bad_salt``) is not secret — the federation secret, which only nodes hold, is; the
    node pins the first salt it sees for a project. ``project_terms`` lists every agency's
    terms digest: the node checks its own entry against what its steward approved and binds
    the keys to :func:`protocol.project.project_digest` of it.

    ``resume_from_batch`` (default 0: the whole stream) asks the node to leave out the first
    that many token batches of the stream, which the hub already holds from an interrupted
    attempt: batches and their order are deterministic for a project, scope and store, so
    the rest continues exactly where the broken stream stopped. A node refuses a value past
    the end of its stream (``bad_resume``). A hub leaves the field out when it is 0, so an
    ordinary request is the same bytes as before the field existed.
    """

    TYP: ClassVar[str] = "match_request"
    project_id: Identifier
    agency: AgencyCode
    project_salt: Salt
    project_terms: ProjectTerms
    scope: ProjectScope
    run_id: Identifier
    batch_format: Literal["arrow-ipc-stream"] = "arrow-ipc-stream"
    #: The governance members' signed decisions over ``project_terms``
    #: (:mod:`protocol.governance`); a node with a pinned roster needs a quorum of them.
    governance: tuple[SignedEnvelope, ...] = Field(default=(), max_length=MAX_GOVERNANCE)
    #: Token batches the hub already holds from an interrupted attempt: the node sends the
    #: stream from the batch after them (docs/protocol.md, "Resuming a match stream").
    resume_from_batch: StrictInt = Field(
        default=0, ge=0, le=MAX_RESUME_BATCHES,
        description="Leave out the stream's first this many token batches (held by the hub "
        "from an interrupted attempt); 0 sends the whole stream")

    @model_validator(mode="after")
    def _same_agency(self) -> MatchRequest:
        if self.scope.agency != self.agency:
            raise ValueError("scope.agency differs from agency")
        if self.project_terms.project_id != self.project_id:
            raise ValueError("project_terms.project_id differs from project_id")
        if self.project_terms.digest_for(self.agency) is None:
            raise ValueError("project_terms does not list this agency")
        return self


class ExtractTermsOptions(WireModel):
    """How the extract is prepared, as the terms the steward signed state it (the
    ``extract`` entry of the terms): the node refuses an extract request that declares
    other options (``out_of_scope``). ``k_anonymity`` is ``None`` only in terms from before
    the options were signed."""

    include_unmatched: StrictBool
    k_anonymity: Annotated[StrictInt, Field(ge=2, le=100)] | None
    quasi_identifier_policy: Literal["generalise", "suppress", "block"]


class ExtractRequest(Message):
    """Hub → node: the approved variables for these linked records.

    ``assignments`` pairs each pseudonymous record id the node issued for this project
    with the fresh project person id the extract will carry. ``extract`` declares the
    options the extract is built with; they must equal the approved terms' ``extract``.
    """

    TYP: ClassVar[str] = "extract_request"
    project_id: Identifier
    agency: AgencyCode
    run_id: Identifier
    variables: tuple[VariableName, ...] = Field(min_length=1, max_length=MAX_VARIABLES)
    first_year: Year
    last_year: Year
    assignments: tuple[tuple[PseudoId, PseudoId], ...] = Field(
        min_length=1, max_length=MAX_ASSIGNMENTS
    )
    recipient_kid: Annotated[StrictStr, Field(pattern=X25519_KID_PATTERN)]
    extract: ExtractTermsOptions | None = None

    @field_validator("variables")
    @classmethod
    def _distinct(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return unique_values(values, "variable")

    @field_validator("assignments")
    @classmethod
    def _one_person_per_pid(cls, pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        if len({pid for pid, _ in pairs}) != len(pairs):
            raise ValueError("a pseudonymous id is assigned more than once")
        return pairs

    @model_validator(mode="after")
    def _ordered(self) -> ExtractRequest:
        check_years(self.first_year, self.last_year)
        return self


# --- node → hub responses ---------------------------------------------------------------


def extract_payload_context(project_id: str, agency: str, run_id: str) -> dict[str, str]:
    """The HPKE context of an extract payload, for :func:`protocol.payload.seal_payload`
    and :func:`protocol.payload.open_payload` with purpose :data:`EXTRACT_PURPOSE`."""
    return {"project": project_id, "agency": agency, "run": run_id}


class ExtractPayloadHeader(WireModel):
    """What an extract payload holds, readable without decrypting it."""

    project_id: Identifier
    agency: AgencyCode
    run_id: Identifier
    rows: Annotated[StrictInt, Field(ge=0, le=2**53 - 1)]
    variables: tuple[VariableName, ...] = Field(min_length=1, max_length=MAX_VARIABLES)
    sha256: HexDigest

    @field_validator("variables")
    @classmethod
    def _distinct(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return unique_values(values, "variable")


class ExtractResponse(Message):
    """Node → hub, signed by the node key: the header and the sealed Arrow IPC stream it
    describes.

    HPKE hides the payload from everyone but the hub, but anyone can seal to the hub's
    public key; the node's signature is what proves which agency sent the data, and
    ``request_nonce`` (the nonce of the hub's signed :class:`ExtractRequest`) binds the
    answer to exactly one request, so a recorded answer cannot be replayed onto another.
    """

    TYP: ClassVar[str] = "extract_response"
    request_nonce: EnvelopeNonce
    header: ExtractPayloadHeader
    payload: SealedPayload

    @model_validator(mode="after")
    def _consistent(self) -> ExtractResponse:
        header = self.header
        expected = {
            "purpose": EXTRACT_PURPOSE,
            **extract_payload_context(header.project_id, header.agency, header.run_id),
        }
        if self.payload.info != expected:
            raise ValueError("payload info does not match the header")
        if self.payload.sha256 != header.sha256:
            raise ValueError("payload sha256 does not match the header")
        return self


class StewardDecision(Message):
    """Node → hub, signed by the node key: the agency steward's approve/deny.

    ``terms_digest`` is :func:`terms_digest` of the terms the steward was shown, so the
    decision cannot be replayed onto changed terms. A denial must give its reason.
    """

    TYP: ClassVar[str] = "steward_decision"
    project_id: Identifier
    agency: AgencyCode
    decision: Literal["approve", "deny"]
    reason: Text = ""
    terms_digest: HexDigest
    decided_at: Timestamp

    @model_validator(mode="after")
    def _deny_says_why(self) -> StewardDecision:
        if self.decision == "deny" and not self.reason.strip():
            raise ValueError("a denial needs a reason")
        return self


# --- enrollment -------------------------------------------------------------------------


class YearCompleteness(WireModel):
    """Share of one year's records that have a value for a variable (whole percent, rounded
    down so that "100" always means every record)."""

    year: Year = Field(description="The year", examples=[2018])
    percent: Annotated[StrictInt, Field(ge=0, le=100)] = Field(
        description="Whole percent of that year's records with a value (rounded down)",
        examples=[97])


class CodeEntry(WireModel):
    """One value of a coded variable with its steward-written label and how many records
    hold it; ``count`` is ``None`` when below the node's disclosure threshold (small cells
    are never published)."""

    code: Annotated[StrictStr, Field(min_length=1, max_length=MAX_CODE_CHARS)] = Field(
        description="The value as stored", examples=["FRL"])
    label: Annotated[StrictStr, Field(max_length=200)] = Field(
        default="", description="What it means, as the steward wrote it (may be empty)",
        examples=["Free or reduced-price lunch"])
    count: Annotated[StrictInt, Field(ge=0, le=2**53 - 1)] | None = Field(
        default=None, description="Records holding it; null below the disclosure threshold",
        examples=[412])


class CatalogVariable(WireModel):
    """One attribute variable a node offers in the catalog: its name and nature, no record
    values. The living-dictionary fields (``completeness``, ``codes``,
    ``description_placeholder``) are computed from the node store (docs/agency-node.md)."""

    name: VariableName = Field(description="The variable's name, as agreements name it",
                               examples=["test_score"])
    description: Text = Field(default="", description="What it holds, as the steward wrote it",
                              examples=["Third-grade reading scale score"])
    type: Literal["string", "integer", "number", "boolean", "date"] = Field(
        default="string", description="Its value type", examples=["integer"])
    years: tuple[Year, ...] = Field(default=(), max_length=201, description="Years the "
                                    "agency holds it for", examples=[[2018, 2019, 2020]])
    classification: Literal["public", "internal", "confidential", "restricted"] = Field(
        default="confidential", description="Its sensitivity (restricted needs a larger "
        "quorum)", examples=["confidential"])
    quasi_identifier: StrictBool = Field(default=False, description="Declared a quasi-"
                                         "identifier: extracts check k-anonymity on it")
    completeness: tuple[YearCompleteness, ...] = Field(
        default=(), max_length=201, description="Share of records with a value, by year")
    codes: tuple[CodeEntry, ...] = Field(default=(), max_length=MAX_CODES,
                                         description="Code list of a coded variable")
    description_placeholder: StrictBool = Field(
        default=False, description="The description is still empty or the one `node init` "
        "generated: the steward has not written it yet (shown as such to researchers)")

    @field_validator("codes")
    @classmethod
    def _distinct_codes(cls, values: tuple[CodeEntry, ...]) -> tuple[CodeEntry, ...]:
        unique_values(tuple(v.code for v in values), "code")
        return values


class DictionaryUpdate(Message):
    """Node → hub, signed by the node key: the agency's whole current data dictionary,
    which replaces its catalog. ``published_at`` must be later than the last accepted
    update, so an older (still unexpired) update cannot be replayed over a newer one."""

    TYP: ClassVar[str] = "dictionary_update"
    agency: AgencyCode
    published_at: Timestamp
    dictionary: tuple[CatalogVariable, ...] = Field(default=(), max_length=MAX_CATALOG_VARIABLES)
    #: The agency's declaration about its person ids; every accepted update replaces it.
    #: Absent (an older node) = ``"unique"``.
    person_ids: PersonIds = "unique"

    @field_validator("dictionary")
    @classmethod
    def _distinct(cls, values: tuple[CatalogVariable, ...]) -> tuple[CatalogVariable, ...]:
        unique_values(tuple(v.name for v in values), "variable")
        return values


class EnrollmentRequest(Message):
    """Node → hub, once: the agency's signing key, its one-time token, its dictionary and
    its declaration about its person ids."""

    TYP: ClassVar[str] = "enrollment_request"
    agency: AgencyCode = Field(description="The enrolling agency's code", examples=["K12"])
    signing_public_key: Ed25519Key = Field(description="The node's Ed25519 public key (raw, "
                                           "base64url): it signs all the node's messages")
    enrollment_token: Token = Field(description="The one-time token the hub admin issued "
                                    "with the agency (`fedlink node enroll`)")
    dictionary: tuple[CatalogVariable, ...] = Field(
        default=(), max_length=MAX_CATALOG_VARIABLES, description="The agency's data "
        "dictionary: its catalog once enrolled")
    person_ids: PersonIds = Field(default="unique", description="`unique`: one person holds "
                                  "at most one of its ids; `may_duplicate`: runs deduplicate "
                                  "its records (absent, an older node: `unique`)",
                                  examples=["unique"])

    @field_validator("dictionary")
    @classmethod
    def _distinct(cls, values: tuple[CatalogVariable, ...]) -> tuple[CatalogVariable, ...]:
        unique_values(tuple(v.name for v in values), "variable")
        return values

    @property
    def signing_kid(self) -> str:
        """The kid the node's signatures will carry."""
        return key_id(ed25519_public_from_b64(self.signing_public_key))


class EnrollmentResponse(Message):
    """Hub → node: the hub's public keys with their kids, and the node's API token."""

    TYP: ClassVar[str] = "enrollment_response"
    agency: AgencyCode = Field(description="The enrolled agency's code", examples=["K12"])
    hub_signing_public_key: Ed25519Key = Field(description="The hub's Ed25519 key (raw, "
                                               "base64url), which the node pins")
    hub_signing_kid: Annotated[StrictStr, Field(pattern=ED25519_KID_PATTERN)] = Field(
        description="Its key id", examples=["ed25519:4f1c2a9e0b7d3c5a8e6f1029384756ab"])
    hub_hpke_public_key: X25519Key = Field(description="The hub's X25519 HPKE key (raw, "
                                           "base64url), which the node pins")
    hub_hpke_kid: Annotated[StrictStr, Field(pattern=X25519_KID_PATTERN)] = Field(
        description="Its key id", examples=["x25519:9a8b7c6d5e4f30211203f4e5d6c7b8a9"])
    node_token: Token = Field(description="The node's API token for the hub: shown once")
    assembly_hpke_public_key: X25519Key | None = Field(
        default=None, description="The assembly role's HPKE key: the only key a node seals "
        "extract payloads to (the linkage role never holds it); pinned at enrollment")
    assembly_hpke_kid: Annotated[StrictStr, Field(pattern=X25519_KID_PATTERN)] | None = Field(
        default=None, description="Its key id (with the key, or both null)",
        examples=["x25519:0f1e2d3c4b5a69788796a5b4c3d2e1f0"])
    assembly_signing_public_key: Ed25519Key | None = Field(
        default=None, description="The assembly role's Ed25519 key: the only key a node "
        "accepts on extract requests (never on match requests); pinned at enrollment")
    assembly_signing_kid: Annotated[StrictStr, Field(pattern=ED25519_KID_PATTERN)] | None = \
        Field(default=None, description="Its key id (with the key, or both null)",
              examples=["ed25519:0f1e2d3c4b5a69788796a5b4c3d2e1f0"])

    @model_validator(mode="after")
    def _kids_match(self) -> EnrollmentResponse:
        # A kid that is not the hash of its key would make the node trust one key under
        # another's name; check here so no caller has to remember to.
        if key_id(ed25519_public_from_b64(self.hub_signing_public_key)) != self.hub_signing_kid:
            raise ValueError("hub_signing_kid is not the id of hub_signing_public_key")
        if key_id(x25519_public_from_b64(self.hub_hpke_public_key)) != self.hub_hpke_kid:
            raise ValueError("hub_hpke_kid is not the id of hub_hpke_public_key")
        if (self.assembly_hpke_public_key is None) != (self.assembly_hpke_kid is None):
            raise ValueError("assembly_hpke_public_key and assembly_hpke_kid go together")
        if self.assembly_hpke_public_key is not None and key_id(
                x25519_public_from_b64(self.assembly_hpke_public_key)) != self.assembly_hpke_kid:
            raise ValueError("assembly_hpke_kid is not the id of assembly_hpke_public_key")
        if (self.assembly_signing_public_key is None) != (self.assembly_signing_kid is None):
            raise ValueError("assembly_signing_public_key and assembly_signing_kid go together")
        if self.assembly_signing_public_key is not None and key_id(
                ed25519_public_from_b64(self.assembly_signing_public_key)
        ) != self.assembly_signing_kid:
            raise ValueError("assembly_signing_kid is not the id of assembly_signing_public_key")
        if self.assembly_signing_kid == self.hub_signing_kid:
            # One key for both would let one process sign match and extract requests.
            raise ValueError("the assembly signing key must not be the hub signing key")
        return self


class ErrorBody(WireModel):
    """Every 4xx body: ``{"error": "<stable_code>", "detail": "<sentence>"}``."""

    error: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    detail: Text


# --- helpers ----------------------------------------------------------------------------

MESSAGE_TYPES: Final[Mapping[str, type[Message]]] = {
    model.TYP: model
    for model in (
        MatchRequest,
        ExtractRequest,
        ExtractResponse,
        StewardDecision,
        EnrollmentRequest,
        EnrollmentResponse,
        DictionaryUpdate,
    )
}

M = TypeVar("M", bound=Message)


def terms_digest(terms: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the canonical JSON of ``terms`` (JSON values only)."""
    return hashlib.sha256(canonical_json(dict(terms))).hexdigest()


def body_as(envelope: SignedEnvelope, model: type[M]) -> M:
    """Validate a verified envelope's body as ``model``.

    Raises :class:`WrongMessageTypeError` if the envelope's ``typ`` is not ``model.TYP``,
    :class:`UnsupportedVersionError` for another ``protocol_version``, and
    :class:`MalformedMessageError` (naming the field, never its value) otherwise.
    """
    if envelope.typ != model.TYP:
        raise WrongMessageTypeError(f"expected a {model.TYP!r} message, got {envelope.typ!r}")
    version = envelope.body.get("protocol_version", PROTOCOL_VERSION)
    if version != PROTOCOL_VERSION:
        raise UnsupportedVersionError(f"body protocol version {version!r} is not supported")
    try:
        return model.model_validate(envelope.body)
    except ValidationError as exc:
        raise MalformedMessageError(describe_validation_error(exc)) from None
