"""Term-frequency adjustment of exact name agreements.

The Fellegi–Sunter model gives one weight to "first names agree", whatever the name: its
``u`` is the share of non-matching pairs that agree, on average over all names. But two
records agreeing on a rare name are far likelier to be one person than two agreeing on the
commonest one (Winkler 1989, frequency-based matching; Splink's term-frequency
adjustments). When two records' Bloom filters of a name are *identical* — the same
normalised name — and the field sits at its top level, the weight of that agreement uses
the name's own frequency ``f`` instead of the average ``u``:

    adjustment = log2(u_top / f)      (bits, added to the pair's match weight)

``f`` is the share of all records (every agency pooled) holding that exact filter. A name
commoner than average lowers the weight, a rarer one raises it. The hub learns nothing
new: it already holds every filter and can count equal ones (docs/tokens-and-bloom-filters.md,
residual risk); the counts never leave the run and the report shows none of them.
"""

from __future__ import annotations

import numpy as np

from hub.linkage.candidates import Candidates, sorted_unique
from hub.linkage.compare import FeatureSpec
from hub.linkage.em import FSModel
from hub.linkage.tokens import AgencyTokens, mix64

#: Feature name → the Bloom column whose exact value is counted.
TF_COLUMNS = {
    "first_name": "bf_first_name",
    "last_name": "bf_last_name",
    "bf_middle_name": "bf_middle_name",
}


def _fingerprints(bits: np.ndarray) -> np.ndarray:
    """A 64-bit fingerprint of each filter row (equal filters, equal fingerprints; two
    different names collide with probability ~2⁻⁶⁴ per pair)."""
    rows = np.ascontiguousarray(bits)
    pad = (-rows.shape[1]) % 8
    words = np.pad(rows, ((0, 0), (0, pad))).view(np.uint64)
    out = np.zeros(len(rows), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for w in range(words.shape[1]):
            out = mix64(out ^ words[:, w] ^ np.uint64(w + 1))
    return out


def _value_ids(agencies: list[AgencyTokens], column: str) -> tuple[list[np.ndarray], np.ndarray]:
    """Per agency, an id per record for its exact filter value (-1 if missing), and the
    pooled frequency (share of records holding it) of each id."""
    valid = [np.flatnonzero(a.blooms[column].valid) for a in agencies]
    prints = [_fingerprints(a.blooms[column].bits[v]) for a, v in zip(agencies, valid, strict=True)]
    stacked = np.concatenate(prints) if prints else np.zeros(0, np.uint64)
    if len(stacked) == 0:
        return [np.full(a.size, -1, np.int64) for a in agencies], np.zeros(0)
    _, inverse = sorted_unique(stacked, return_inverse=True)
    counts = np.bincount(inverse)
    ids, offset = [], 0
    for rows, agency in zip(valid, agencies, strict=True):
        out = np.full(agency.size, -1, np.int64)
        out[rows] = inverse[offset : offset + len(rows)]
        offset += len(rows)
        ids.append(out)
    return ids, counts / len(stacked)


def tf_adjustments(
    agencies: list[AgencyTokens],
    pairs: list[tuple[int, int]],
    found: list[Candidates],
    levels: np.ndarray,
    model: FSModel,
) -> np.ndarray:
    """Weight adjustment (bits) of every candidate pair, in the order of ``found``;
    ``levels`` holds each candidate's feature levels ``(n, len(model.specs))``."""
    adjustment = np.zeros(len(levels))
    specs: tuple[FeatureSpec, ...] = model.specs
    for k, spec in enumerate(specs):
        column = TF_COLUMNS.get(spec.name)
        if column is None or any(column not in a.blooms for a in agencies):
            continue
        top = spec.n_levels - 1
        u_top = float(model.u[k][top])
        if not np.isfinite(u_top) or u_top <= 0:
            continue
        ids, freq = _value_ids(agencies, column)
        offset = 0
        for (a, b), cand in zip(pairs, found, strict=True):
            n = cand.count
            left, right = ids[a][cand.left_rows], ids[b][cand.right_rows]
            same = (left >= 0) & (left == right) & (levels[offset : offset + n, k] == top)
            idx = np.flatnonzero(same)
            adjustment[offset + idx] += np.log2(u_top / freq[left[idx]])
            offset += n
    return adjustment
