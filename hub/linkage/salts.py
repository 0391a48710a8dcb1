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




#: ``u`` of a salted feature's bands given a shared salt: the share of pairs of two
#: *different* people whose values, compared under one salt, fall below 0.5, at ≥ 0.5,
#: ≥ 0.7, ≥ 0.85 and ≥ 0.95 Dice (the default ``dice_levels``). Measured by encoding
#: 20,000 random pairs of the synthetic generator's US name and address lists under one
#: salt (their weights are census/SSA frequencies: public knowledge, no project's data);
#: ``tests/hub/linkage/test_linkage_salts.py`` measures them again and checks these.
#: Random record pairs cannot teach these: they almost never share a salt.
SHARED_SALT_U: dict[str, tuple[float, ...]] = {
    "first_name": (0.988, 0.007, 0.0015, 0.0001, 0.0035),
    "last_name": (0.991, 0.005, 0.0005, 0.0001, 0.0035),
    "bf_middle_name": (0.9885, 0.007, 0.0006, 0.0001, 0.0038),
    "address": (0.972, 0.0275, 0.0001, 0.0002, 0.0002),
}


#: Days a population's birth dates spread over, at most (a century): ``1/this`` is the
#: least chance that two different people share a birth date.
SHARED_DATE_DAYS = 36_525


def fixed_u(specs: list[FeatureSpec]) -> dict[int, np.ndarray]:
    """Feature index → the ``u`` the EM keeps for its non-missing levels: for each salted
    feature, a vanishing ``u`` for :data:`UNSALTED_LEVEL` (merged away in the fit,
    :func:`merge_unsalted`) and :data:`SHARED_SALT_U` for the Dice bands.

    Fitted from random pairs instead, the bands' ``u`` would be near 0 — two random
    records almost never share a salt — and a name agreeing under a shared street would
    weigh 30 bits, not 8: at 100,000 × 100,000 records precision fell to 0.93 that way
    (docs/privacy.md)."""
    out = {}
    for k, spec in enumerate(specs):
        table = SHARED_SALT_U.get(spec.name)
        if is_salted(spec) and table is not None and spec.n_levels == 2 + len(table):
            out[k] = np.concatenate([[1e-9], np.asarray(table)])
        elif spec.name == "dob" and spec.kind == "field":
            # Each level but "differs" says the dates are equal. Random pairs show it only
            # when a compound date rule agrees (a name too), which two different people's
            # records almost never do; left to them, "same" weighed 40 bits at a million
            # records. Two people share a birth date with probability at least
            # 1/SHARED_DATE_DAYS (births spread over at most a century), however the
            # hub saw it: the floor is the levels' total (they are tied, tied_levels).
            same = np.full(spec.n_levels - 2, 1.0 / SHARED_DATE_DAYS / (spec.n_levels - 2))
            out[k] = np.concatenate([[1.0 - same.sum()], same])
    return out


def tied_levels(specs: list[FeatureSpec]) -> dict[int, np.ndarray]:
    """Feature index → mask over its non-missing levels that weigh as one (``fit_em``'s
    ``tied``): the birth date's "same" levels.

    They all say the dates are equal; which one a pair gets (through both names, through
    one name, through a similar name, through the ZIP) is decided by the name features.
    Weighed apart, a level reached only when the names fail has a small ``m`` *because*
    the names fail, and the pair pays for its names twice: a match with both names
    replaced, the date and address kept, weighed the date at 7.7 bits instead of 15 and
    stayed unlinked (docs/linkage.md)."""
    out = {}
    for k, spec in enumerate(specs):
        if spec.name == "dob" and spec.kind == "field" and spec.n_levels > 3:
            out[k] = np.arange(1, spec.n_levels) >= 2
    return out
