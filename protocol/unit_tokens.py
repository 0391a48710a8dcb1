"""Tokens of a *unit* that has several identity versions: one agency person, many rows.

An agency holding one row per person per school year, term or quarter knows a person
under several identities over time: a maiden then a married name, two addresses. A node
sends one token-batch row per person (``protocol.encoding.encode_unit_columns``), so the
hub neither sees how many rows the agency holds for the person nor links a person's rows
to each other as if they were several people. The person's row is built from its
*versions* (its distinct normalised identities, primary first — the node ranks them,
``agency_node/services/match_units.py`` — at most :data:`MAX_VERSIONS_PER_UNIT`):

- per rule, the real tokens are the union of the versions' real tokens, taken round-robin
  (the primary version's first, the second version's first, …, then the primary's
  second, …), each token once; ``protocol.token_padding.fixed_length`` then cuts or pads
  them to the rule's fixed length under the *unit's* pid, exactly as for a record. So the
  list lengths say nothing about the number of versions, and when the union is longer
  than the list, every version keeps its primary token before any version's variants;
- a rule emits for the unit when any version emits;
- the Bloom filters are the primary version's (a filter is one value under one salt).

A unit with one version gets exactly its record's tokens: nothing is merged or dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from protocol.errors import EncodingError
from protocol.tokens import TOKEN_BYTES, RuleTokens

#: Identity versions a unit may carry (the node's first ones): enough for a maiden and a
#: married name at two addresses; more would mostly add clerical variants that crowd the
#: fixed-length lists.
MAX_VERSIONS_PER_UNIT: Final = 4

IndexArray = npt.NDArray[np.int64]


def unit_owners(owners: Sequence[int], *, rows: int, units: int) -> IndexArray:
    """``owners`` (the unit index of each version row) checked and as an array.

    Refuses (:class:`~protocol.errors.EncodingError`) owners that are not one per row,
    not contiguous and increasing from 0 (a unit's versions are adjacent, units in pid
    order, none without a version), or that give a unit more than
    :data:`MAX_VERSIONS_PER_UNIT` versions.
    """
    try:
        array = np.asarray(owners, dtype=np.int64)
    except (TypeError, ValueError, OverflowError) as error:
        raise EncodingError("owners must be integers") from error
    if array.shape != (rows,):
        raise EncodingError("owners must hold one unit index per identity row")
    if rows == 0:
        if units:
            raise EncodingError("every unit needs at least one identity version")
        return array
    steps = np.diff(array)
    if array[0] != 0 or bool(np.any((steps != 0) & (steps != 1))) or array[-1] != units - 1:
        raise EncodingError(
            "owners must number the units 0, 1, … in order, each unit's versions adjacent "
            "and every unit with at least one version"
        )
    if int(np.bincount(array).max()) > MAX_VERSIONS_PER_UNIT:
        raise EncodingError(f"a unit may carry at most {MAX_VERSIONS_PER_UNIT} identity versions")
    return array


def primary_rows(owners: IndexArray, units: int) -> IndexArray:
    """The row of each unit's primary version (its first row)."""
    return np.searchsorted(owners, np.arange(units, dtype=np.int64)).astype(np.int64)


def merge_versions(tokens: RuleTokens, owners: IndexArray, units: int) -> RuleTokens:
    """One rule's tokens per version row → per unit: round-robin over the versions, each
    token once within a unit (a unit with one version keeps its row's tokens as they are).

    ``owners`` comes from :func:`unit_owners`.
    """
    if units == len(owners):  # every unit has one version: nothing to merge
        return tokens
    counts = tokens.counts.astype(np.int64)
    total = int(counts.sum())
    real = np.frombuffer(tokens.tokens, dtype=np.uint8).reshape(-1, TOKEN_BYTES)
    row = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    rank = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    unit = owners[row]
    version = row - primary_rows(owners, units)[unit]
    # Round-robin: by unit, then the token's rank in its version, then the version.
    order = np.lexsort((version, rank, unit))
    merged = np.ascontiguousarray(real[order])
    unit = unit[order]
    # A token several versions share is kept once, at its first place in that order.
    words = merged.view(np.uint64).reshape(-1, 2)
    by_value = np.lexsort((np.arange(total), words[:, 1], words[:, 0], unit))
    w, u = words[by_value], unit[by_value]
    repeated = np.zeros(total, dtype=bool)
    repeated[1:] = (u[1:] == u[:-1]) & (w[1:, 0] == w[:-1, 0]) & (w[1:, 1] == w[:-1, 1])
    duplicate = np.zeros(total, dtype=bool)
    duplicate[by_value] = repeated
    several = (np.bincount(owners, minlength=units) > 1)[unit]
    keep = ~(duplicate & several)
    new_counts = np.bincount(unit[keep], minlength=units).astype(np.int32)
    return RuleTokens(merged[keep].tobytes(), new_counts)
