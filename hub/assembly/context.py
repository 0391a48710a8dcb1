"""What the assembler works with: the hub's context (database, settings, signing key for
extract requests and audit checkpoints) plus the assembly key, which nothing else loads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from hub.assembly.keys import check_separate, load_assembly_key
from hub.assembly.settings import AssemblySettings
from hub.errors import ConfigError
from hub.keys import load_assembly_public
from hub.services.context import HubContext
from hub.services.setup import open_hub
from protocol.keyfiles import key_id


@dataclass
class AssemblyContext:
    hub: HubContext
    settings: AssemblySettings
    key: X25519PrivateKey = field(repr=False)

    @property
    def kid(self) -> str:
        return key_id(self.key.public_key())


@contextmanager
def open_assembler(settings: AssemblySettings) -> Iterator[AssemblyContext]:
    """The assembler's context; refuses an unsafe key or a hub publishing another key."""
    check_separate(settings.dir, settings.hub_dir)
    key = load_assembly_key(settings.dir)
    with open_hub(settings.hub_dir) as hub:
        yield assembly_context(hub, settings, key)


def assembly_context(hub: HubContext, settings: AssemblySettings,
                     key: X25519PrivateKey) -> AssemblyContext:
    published = load_assembly_public(hub.settings.dir)
    if published is None or key_id(published) != key_id(key.public_key()):
        raise ConfigError(
            f"the hub directory {hub.settings.dir} does not publish this assembly key "
            f"({key_id(key.public_key())}) in assembly.pub; nodes enrolled with it would "
            "seal to another key — run `fedlink hub assembler init` again or restore it")
    return AssemblyContext(hub=hub, settings=settings, key=key)
