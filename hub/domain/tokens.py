"""API and enrollment tokens: random, shown once, stored as SHA-256.

Tokens are 256 bits from :func:`secrets.token_urlsafe`. A slow password hash (bcrypt,
scrypt, Argon2) exists to make guessing a *low-entropy* secret expensive; against a
uniformly random 256-bit value there is nothing to guess, so SHA-256 gives the same
protection to a stolen table while letting the hub find a token by an indexed lookup of
its hash on every request (a salted slow hash would need a scan or a separate id, and
cost tens of milliseconds per API call).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

TOKEN_BYTES: Final = 32


def new_token(prefix: str = "") -> str:
    """A fresh random token; ``prefix`` (e.g. ``"flu_"``) only helps people tell kinds apart."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
