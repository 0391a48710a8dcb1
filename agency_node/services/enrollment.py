"""Enrollment (once per node, docs/protocol.md): send the agency's signing key, its
one-time token and its dictionary; keep the hub's keys and the node API token (0600)."""

from __future__ import annotations

from pydantic import ValidationError

from agency_node import keys
from agency_node.config import update_hub_section
from agency_node.errors import ConfigError, HubClientError
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services.dictionary import catalog
from protocol.keyfiles import ed25519_public_from_b64, public_key_to_b64, x25519_public_from_b64
from protocol.signing import describe_validation_error
from protocol.wire import EnrollmentRequest, EnrollmentResponse


def enroll(
    runtime: NodeRuntime, client: HubClient, *, hub_url: str, token: str
) -> EnrollmentResponse:
    settings = runtime.settings
    signing_key = keys.load_signing_key(settings.dir)
    try:
        request = EnrollmentRequest(
            agency=settings.agency,
            signing_public_key=public_key_to_b64(signing_key.public_key()),
            enrollment_token=token.strip(),
            dictionary=tuple(catalog(settings.node)),
        )
    except ValidationError as exc:
        raise ConfigError(f"cannot build the enrollment request: "
                          f"{describe_validation_error(exc)}") from None
    answer = client.enroll(request.model_dump_json())
    try:
        response = EnrollmentResponse.model_validate(answer)
    except ValidationError as exc:
        raise HubClientError(
            f"the hub's enrollment answer is not valid: {describe_validation_error(exc)}"
        ) from None
    if response.agency != settings.agency:
        raise HubClientError(f"the hub enrolled agency {response.agency}, not {settings.agency}")
    keys.store_hub_material(
        settings.dir,
        signing_public=ed25519_public_from_b64(response.hub_signing_public_key),
        hpke_public=x25519_public_from_b64(response.hub_hpke_public_key),
        token=response.node_token,
    )
    update_hub_section(settings.dir, url=hub_url, signing_kid=response.hub_signing_kid,
                       hpke_kid=response.hub_hpke_kid)
    runtime.audit.append(
        actor="operator", typ="enrollment", outcome="enrolled",
        details={"hub": hub_url, "hub_signing_kid": response.hub_signing_kid,
                 "hub_hpke_kid": response.hub_hpke_kid, "variables": len(request.dictionary)},
    )
    return response
