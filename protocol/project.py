"""The project-wide terms and their digest: the one value a whole project is bound to.

Each agency's steward approves *its* terms (:func:`protocol.wire.terms_digest`). A project
is the set of those per-agency digests under one project id and one term, and its
:func:`project_digest` is what

* every node feeds into the key derivation (:func:`protocol.keys.derive_project_keys`),
  so tokens of two projects — or of two different sets of terms under one project id — are
  never under the same key, whatever salt the hub sends; and
* governance members sign (:mod:`protocol.governance`), so a node can check that the
  quorum approved exactly the terms its own steward approved.

Every node of a project can recompute the digest from :class:`ProjectTerms` (which the
hub sends in each match request) and checks that its own agency's entry is the digest its
steward approved. The digest is SHA-256 over a domain tag and the RFC 8785 canonical JSON
of the model, so it has one value whatever the order the hub lists agencies in: the model
refuses unsorted or duplicate agencies rather than sorting them silently.
"""

from __future__ import annotations

import hashlib
from typing import Final

from pydantic import Field, field_validator, model_validator

from protocol.canonical import canonical_json
from protocol.wire_types import AgencyCode, HexDigest, Identifier, WireDate, WireModel

MAX_PROJECT_AGENCIES: Final = 64
_DOMAIN: Final = b"fedlink/2 project-digest\n"


class AgencyTermsDigest(WireModel):
    """One agency of a project and the digest of the terms its steward is asked to approve."""

    agency: AgencyCode
    terms_digest: HexDigest


class ProjectTerms(WireModel):
    """The project id, its term, and every agency's terms digest (sorted by agency)."""

    project_id: Identifier
    term_start: WireDate
    term_end: WireDate
    agencies: tuple[AgencyTermsDigest, ...] = Field(min_length=1, max_length=MAX_PROJECT_AGENCIES)

    @field_validator("agencies")
    @classmethod
    def _sorted_unique(
        cls, values: tuple[AgencyTermsDigest, ...]
    ) -> tuple[AgencyTermsDigest, ...]:
        codes = [v.agency for v in values]
        if codes != sorted(set(codes)):
            raise ValueError("agencies must be sorted by code, each listed once")
        return values

    @model_validator(mode="after")
    def _ordered(self) -> ProjectTerms:
        if self.term_start > self.term_end:
            raise ValueError("term_start is after term_end")
        return self

    def digest_for(self, agency: str) -> str | None:
        """The terms digest listed for ``agency``, or None when it is not in the project."""
        for entry in self.agencies:
            if entry.agency == agency:
                return entry.terms_digest
        return None


def project_terms(
    project_id: str, term_start: object, term_end: object, digests: dict[str, str]
) -> ProjectTerms:
    """A :class:`ProjectTerms` from a ``{agency: terms digest}`` mapping (sorted here)."""
    return ProjectTerms.model_validate({
        "project_id": project_id, "term_start": term_start, "term_end": term_end,
        "agencies": [{"agency": a, "terms_digest": digests[a]} for a in sorted(digests)],
    })


def project_digest(terms: ProjectTerms) -> str:
    """Lowercase hex SHA-256 of a domain tag and the canonical JSON of ``terms``."""
    return hashlib.sha256(_DOMAIN + canonical_json(terms.model_dump(mode="json"))).hexdigest()
