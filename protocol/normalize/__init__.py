"""Field normalisation: raw agency values → clean identity values, on the node, in clear.

Every ``normalize_*`` function accepts any object (``str``, ``None``, numbers, NaN,
``bytes``…) and never raises: it returns :class:`Normalized` holding either the clean value
or a :class:`~protocol.identity.MissingReason`. :func:`normalize_identity` applies them all
to one row. Pure code: no I/O (the nickname table is read from the ``nicknames`` package's
data once, lazily). Decisions and their reasons: ``docs/normalisation.md``.
"""

from __future__ import annotations

from typing import Final

from protocol.normalize.address import normalize_city, normalize_street_address
from protocol.normalize.dates import normalize_dob
from protocol.normalize.formal_names import canonical_first_names
from protocol.normalize.names import normalize_given_name, normalize_suffix, normalize_surname
from protocol.normalize.postal import normalize_postal_code
from protocol.normalize.record import normalize_identity
from protocol.normalize.result import DEFAULT_OPTIONS, NormalizationOptions, Normalized
from protocol.normalize.sex import normalize_sex
from protocol.normalize.ssn import normalize_ssn

#: Identifies the normalisation rules (and the nickname and name-rank data) in force.
#: Normalised values feed keyed tokens, so two nodes whose rules differ produce tokens that
#: silently fail to match: bump this whenever any output can change (a rule, a table, the
#: ``nicknames`` data), so nodes can declare it and the hub can refuse to link a mix.
NORMALIZATION_VERSION: Final = "fedlink-normalize/1"

__all__ = [
    "DEFAULT_OPTIONS",
    "NORMALIZATION_VERSION",
    "NormalizationOptions",
    "Normalized",
    "canonical_first_names",
    "normalize_city",
    "normalize_dob",
    "normalize_given_name",
    "normalize_identity",
    "normalize_postal_code",
    "normalize_sex",
    "normalize_ssn",
    "normalize_street_address",
    "normalize_suffix",
    "normalize_surname",
]
