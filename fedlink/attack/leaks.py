"""What the shape of a token table gives away, without breaking any encoding.

- **Filter bit counts.** A Bloom filter's bit count grows with the number of distinct
  bigrams of the value, i.e. with its length: the Pearson correlation of the two (a
  MinHash signature, with a constant count, gives none).
- **Token-list lengths.** A rule emits extra tokens for variants (a day/month swap when
  the birth day is ≤ 12 and differs from the month, nickname canonical forms, the middle
  name, compound-surname parts), so a list's length reveals them. The attacker learns the
  count → attribute rule from an encoding of identities of its *own*, under keys of its
  own (the construction is public), then applies it to the project; reported as the
  accuracy of that inference against the accuracy of always guessing the commoner answer.
- **Missingness.** A null filter says the field is missing (no full middle name, no
  street address): the share of records whose column is null.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fedlink.attack.features import EncodedColumn

#: Binary facts about a record the token-list lengths may reveal.
ATTRIBUTES: dict[str, str] = {
    "day_le_12": "birth day ≤ 12 and ≠ month",
    "nickname": "first name is a nickname",
    "middle_name": "has a full middle name",
    "compound_surname": "compound surname",
}


def attributes(truth: pd.DataFrame) -> pd.DataFrame:
    """The :data:`ATTRIBUTES` of each record (bool; the day one False without a date)."""
    day = [d is not None and d.day <= 12 and d.day != d.month for d in truth["dob"]]
    return pd.DataFrame(
        {
            "day_le_12": day,
            "nickname": truth["nickname"].astype(bool).to_numpy(),
            "middle_name": truth["middle_name"].notna().to_numpy(),
            "compound_surname": truth["compound_surname"].astype(bool).to_numpy(),
        }
    )


def list_lengths(table: pa.Table) -> dict[str, np.ndarray]:
    """Per token-list column (``mk_*``, ``bk_*``): each record's number of tokens."""
    return {
        name: np.asarray(pc.list_value_length(table.column(name)).to_numpy(zero_copy_only=False))
        for name in table.column_names
        if name.startswith(("mk_", "bk_")) and pa.types.is_list(table.schema.field(name).type)
    }


def _rule(counts: np.ndarray, labels: np.ndarray) -> dict[int, bool]:
    """count → the commoner label among records with that count (learnt on own data)."""
    rule = {}
    for c in np.unique(counts).tolist():
        rule[int(c)] = bool(labels[counts == c].mean() > 0.5)
    return rule


def token_count_leaks(
    table: pa.Table, truth: pd.DataFrame, reference: pa.Table, reference_truth: pd.DataFrame
) -> list[dict[str, object]]:
    """Per (token column, attribute): how well the count → attribute rule learnt on the
    attacker's ``reference`` encoding infers the attribute on the project's records that
    carry tokens of that rule; every pair, so a scheme that gives nothing away shows
    accuracy equal to the majority guess (``gain`` 0) rather than no row."""
    own = list_lengths(reference)
    own_attr = attributes(reference_truth)
    attr = attributes(truth)
    out: list[dict[str, object]] = []
    for name, counts in list_lengths(table).items():
        if name not in own:
            continue
        used = counts > 0
        own_used = own[name] > 0
        if not used.any() or not own_used.any():
            continue
        for key, label in ATTRIBUTES.items():
            rule = _rule(own[name][own_used], own_attr[key].to_numpy()[own_used])
            y = attr[key].to_numpy()[used]
            commoner = bool(y.mean() > 0.5)
            guess = np.array([rule.get(int(c), commoner) for c in counts[used]])
            accuracy = float((guess == y).mean())
            baseline = float((y == commoner).mean())
            out.append(
                {
                    "column": name,
                    "attribute": key,
                    "label": label,
                    "records": int(used.sum()),
                    "accuracy": accuracy,
                    "baseline": baseline,
                    "gain": accuracy - baseline,
                }
            )
    return out


def strongest_count_leaks(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Per attribute, the token column whose count tells it best (largest ``gain``)."""
    best: dict[str, dict[str, object]] = {}
    for row in rows:
        key = str(row["attribute"])
        if key not in best or float(row["gain"]) > float(best[key]["gain"]):  # type: ignore[arg-type]
            best[key] = row
    return best


def size_correlation(
    column: EncodedColumn, values: list[str | None]
) -> tuple[float | None, int]:
    """Pearson r of a record's feature count and the length of its true value, and the
    number of records it is measured over (those carrying both); r is None when either is
    constant. The count matters: with no relation at all, r still scatters about 0 with a
    standard deviation of about 1/sqrt(n)."""
    enc = column.record_encoding
    sizes = column.sizes
    pairs = [(sizes[e], len(v)) for e, v in zip(enc.tolist(), values, strict=True)
             if e >= 0 and v is not None]  # fmt: skip
    if len(pairs) < 3:
        return None, len(pairs)
    a = np.array(pairs, dtype=np.float64)
    if a[:, 0].std() == 0 or a[:, 1].std() == 0:
        return None, len(pairs)
    return float(np.corrcoef(a[:, 0], a[:, 1])[0, 1]), len(pairs)


def missingness(table: pa.Table) -> dict[str, float]:
    """Share of records whose ``bf_*``/``mh_*`` column is null."""
    n = max(table.num_rows, 1)
    return {
        name: table.column(name).null_count / n
        for name in table.column_names
        if name.startswith(("bf_", "mh_"))
    }
