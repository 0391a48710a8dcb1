"""Enrollment (once per node, docs/protocol.md): send the agency's signing key, its
one-time token, its dictionary and its declaration about its person ids; keep the hub's
keys, the pinned assembly keys (HPKE and signing) and the node API token (0600).
``expected_assembly_kid`` and ``expected_assembly_signing_kid`` (given to the agency out of
band) make the node refuse a hub that hands out another assembly key."""

from __future__ import annotations

import datetime as dt
import os

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from agency_node import keys
from agency_node.config import update_hub_section
from agency_node.errors import ConfigError, HubClientError
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services.dictionary import compute, save_published
from protocol.keyfiles import (
    ed25519_public_from_b64,
    key_id,
    private_key_to_pem,
    public_key_to_b64,
    x25519_public_from_b64,
)
from protocol.signing import describe_validation_error
from protocol.wire import DictionaryUpdate, EnrollmentRequest, EnrollmentResponse


def enroll(
    runtime: NodeRuntime, client: HubClient, *, hub_url: str, token: str,
    expected_assembly_kid: str | None = None,
    expected_assembly_signing_kid: str | None = None,
    rotate_key: bool = False,
) -> EnrollmentResponse:
    """Enroll (or re-enroll with an operator-issued token). ``rotate_key``: enroll a fresh
    signing key, which replaces ``signing.key`` only once the hub has accepted it (it waits
    in ``signing.key.next``, 0600, meanwhile)."""
    settings = runtime.settings
    old_kid = key_id(keys.load_signing_key(settings.dir).public_key())
    pending = settings.dir / f"{keys.SIGNING_KEY}.next"
    if rotate_key:
        signing_key = Ed25519PrivateKey.generate()
        keys.write_private(pending, private_key_to_pem(signing_key), replace=True)
    else:
        signing_key = keys.load_signing_key(settings.dir)
    try:
        response = _enroll(runtime, client, hub_url=hub_url, token=token,
                           signing_key=signing_key,
                           expected_assembly_kid=expected_assembly_kid,
                           expected_assembly_signing_kid=expected_assembly_signing_kid)
    except BaseException:
        # The hub did not take the new key (or its answer was refused): keep the old one.
        pending.unlink(missing_ok=True)
        raise
    if rotate_key:
        os.replace(pending, settings.dir / keys.SIGNING_KEY)
        runtime.audit.append(actor="operator", typ="key_rotation", outcome="rotated",
                             details={"old_signing_kid": old_kid,
                                      "signing_kid": key_id(signing_key.public_key())})
    return response


def _enroll(
    runtime: NodeRuntime, client: HubClient, *, hub_url: str, token: str,
    signing_key: Ed25519PrivateKey, expected_assembly_kid: str | None,
    expected_assembly_signing_kid: str | None,
) -> EnrollmentResponse:
    settings = runtime.settings
    try:
        request = EnrollmentRequest(
            agency=settings.agency,
            signing_public_key=public_key_to_b64(signing_key.public_key()),
            enrollment_token=token.strip(),
            dictionary=compute(settings.node, runtime.sessions),
            person_ids=settings.node.mapping.person_ids,
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
    if expected_assembly_kid and response.assembly_hpke_kid != expected_assembly_kid:
        raise HubClientError(
            f"the hub's assembly key is {response.assembly_hpke_kid or 'missing'}, not the "
            f"{expected_assembly_kid} given out of band; nothing was stored",
            code="assembly_key_mismatch")
    if expected_assembly_signing_kid and \
            response.assembly_signing_kid != expected_assembly_signing_kid:
        raise HubClientError(
            f"the hub's assembly signing key is {response.assembly_signing_kid or 'missing'}, "
            f"not the {expected_assembly_signing_kid} given out of band; nothing was stored",
            code="assembly_key_mismatch")
    assembly = response.assembly_hpke_public_key
    assembly_signing = response.assembly_signing_public_key
    keys.store_hub_material(
        settings.dir,
        signing_public=ed25519_public_from_b64(response.hub_signing_public_key),
        hpke_public=x25519_public_from_b64(response.hub_hpke_public_key),
        token=response.node_token,
        assembly_public=x25519_public_from_b64(assembly) if assembly else None,
        assembly_signing_public=(ed25519_public_from_b64(assembly_signing)
                                 if assembly_signing else None),
    )
    update_hub_section(settings.dir, url=hub_url, signing_kid=response.hub_signing_kid,
                       hpke_kid=response.hub_hpke_kid,
                       assembly_kid=response.assembly_hpke_kid or "",
                       assembly_signing_kid=response.assembly_signing_kid or "")
    # The hub's catalog is now this dictionary: later changes are measured against it.
    save_published(settings.dir, DictionaryUpdate(
        agency=settings.agency, published_at=dt.datetime.now(dt.UTC),
        dictionary=request.dictionary, person_ids=request.person_ids))
    runtime.audit.append(
        actor="operator", typ="enrollment", outcome="enrolled",
        details={"hub": hub_url, "hub_signing_kid": response.hub_signing_kid,
                 "hub_hpke_kid": response.hub_hpke_kid,
                 "assembly_kid": response.assembly_hpke_kid or "",
                 "assembly_signing_kid": response.assembly_signing_kid or "",
                 "variables": len(request.dictionary), "person_ids": request.person_ids},
    )
    return response
