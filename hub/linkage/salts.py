"""The salted Bloom features' extra level, and how the model fits and scores it.

Filters are salted per record (``protocol.salted_bloom``): two records' filters compare
only when they share a salt, and the hub cannot see whether they do. A low Dice score is
therefore "dissimilar" only where the pair is *known* to share a salt (a rule holding the
salt's parts agreed, :func:`hub.linkage.features.derive_levels`), and
:data:`UNSALTED_LEVEL` elsewhere. The model is fitted with the two merged
(:func:`merge_unsalted`) and pairs are scored with :data:`UNSALTED_LEVEL` as unknown
(:func:`unsalted_as_missing`); docs/privacy.md gives the measurements behind both.
"""

from __future__ import annotations

import numpy as np

from hub.linkage.compare import FeatureSpec

#: The level of a salted filter scoring low for a pair not known to share its salt.
UNSALTED_LEVEL = "dissimilar or other salt"


def salt_levels(level: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """A salted filter's Dice level split by what the hub knows of the salt: "dissimilar"
    where the two records are known to share a salt, "dissimilar or not comparable"
    (:data:`UNSALTED_LEVEL`) where they are not — filters under different salts score
    like unrelated values, so a low score there is much weaker evidence. Levels above
    the lowest band can only come from a shared salt (or, rarely, chance): shifted up."""
    out = np.where(level >= 1, level + 1, 0).astype(np.int8)
    out[(level == 1) & ~shared] = 1
    return out


def is_salted(spec: FeatureSpec) -> bool:
    """A feature read from salted filters (it carries :data:`UNSALTED_LEVEL`)."""
    return UNSALTED_LEVEL in spec.levels


def merge_unsalted(patterns: np.ndarray, specs: list[FeatureSpec]) -> np.ndarray:
    """Patterns as the model is *fitted*: :data:`UNSALTED_LEVEL` counted as "dissimilar".

    Random pairs almost never share a salt; fitted on their own, the two levels would tell
    the model that "dissimilar under a shared salt" never happens to a non-match, and a
    shared salt (a shared birth date) would be counted as evidence a second time.
    """
    return _recode_unsalted(patterns, specs, 2)


def unsalted_as_missing(patterns: np.ndarray, specs: list[FeatureSpec]) -> np.ndarray:
    """Patterns as pairs are *scored*: :data:`UNSALTED_LEVEL` is no evidence (missing),
    since the two filters may not be comparable at all."""
    return _recode_unsalted(patterns, specs, 0)


def _recode_unsalted(patterns: np.ndarray, specs: list[FeatureSpec], level: int) -> np.ndarray:
    out = patterns.copy()
    for k, spec in enumerate(specs):
        if is_salted(spec):
            column = out[:, k]
            column[column == 1] = level
    return out


def with_salt_level(levels: tuple[str, ...]) -> tuple[str, ...]:
    """A Bloom feature's level labels with :data:`UNSALTED_LEVEL` after "missing"."""
    return (levels[0], UNSALTED_LEVEL, *levels[1:])


