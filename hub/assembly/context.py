"""What the assembler works with: the hub's database, settings and extract store — but
**no private key of the hub** (``signing.key``, ``hpke.key`` are never loaded, so the
assembler can sign no match request) — plus the assembly keys, which nothing else loads:
the HPKE key that opens node extract payloads and the signing key of extract requests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.assembly.keys import AssemblyKeys, check_separate, load_assembly_keys
from hub.assembly.settings import AssemblySettings
from hub.errors import ConfigError
from hub.keys import load_assembly_public, load_assembly_signing_public
from hub.services.context import HubContext
from hub.services.setup import open_hub
from protocol.keyfiles import key_id


@dataclass
class AssemblyContext:
    #: The hub's context without the hub's keys (``hub.hub_keys is None``).
    hub: HubContext
    settings: AssemblySettings
    keys: AssemblyKeys = field(repr=False)

    @property
    def key(self) -> X25519PrivateKey:
        """The assembly HPKE key: opens node extract payloads."""
        return self.keys.hpke

    @property
    def kid(self) -> str:
        return self.keys.hpke_kid

    @property
    def signing(self) -> Ed25519PrivateKey:
        """The assembly signing key: signs extract requests (and nothing nodes accept
        otherwise)."""
        return self.keys.signing

    @property
    def signing_kid(self) -> str:
        return self.keys.signing_kid


@contextmanager
def open_assembler(settings: AssemblySettings) -> Iterator[AssemblyContext]:
    """The assembler's context; refuses unsafe or missing keys, or a hub publishing other
    keys. The hub directory is opened without loading the hub's private keys."""
    check_separate(settings.dir, settings.hub_dir)
    keys = load_assembly_keys(settings.dir)
    with open_hub(settings.hub_dir, with_keys=False) as hub:
        yield assembly_context(hub, settings, keys)


def assembly_context(hub: HubContext, settings: AssemblySettings,
                     keys: AssemblyKeys) -> AssemblyContext:
    """The assembler's context on ``hub``: refuses a hub directory that publishes other
    assembly keys; drops the hub's own keys from the context it keeps (a hub context shared
    with the API in tests keeps its keys; the assembler's copy has none)."""
    published = load_assembly_public(hub.settings.dir)
    if published is None or key_id(published) != keys.hpke_kid:
        raise ConfigError(
            f"the hub directory {hub.settings.dir} does not publish this assembly key "
            f"({keys.hpke_kid}) in assembly.pub; nodes enrolled with it would "
            "seal to another key — run `fedlink hub assembler init` again or restore it")
    signing = load_assembly_signing_public(hub.settings.dir)
    if signing is None or key_id(signing) != keys.signing_kid:
        raise ConfigError(
            f"the hub directory {hub.settings.dir} does not publish this assembly signing "
            f"key ({keys.signing_kid}) in assembly-signing.pub; nodes enrolled with it "
            "would refuse its extract requests — run `fedlink hub assembler init` again or "
            "restore it")
    return AssemblyContext(hub=dataclasses.replace(hub, hub_keys=None), settings=settings,
                           keys=keys)
