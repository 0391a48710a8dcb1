"""The data every system of the benchmark links, written once per run as Parquet.

An *accuracy data set* is a directory holding, per source (agency):

- ``raw/<source>.parquet``: ``record_id``, the identity fields as the agency holds them
  (strings, missing = null) and ``truth_id`` — what Fedlink's node path reads;
- ``clean/<source>.parquet``: the same records after the node's normaliser
  (:func:`protocol.normalize.normalize_identity`) as clear text — what the clear-text and
  CLK peers read, so every system sees identically cleaned values and the comparison is
  one of linkage methods, not of data cleaning;
- ``meta.json``: label, sources, normalisation options.

Two are built: the synthetic state (:func:`fedlink.synth.generate`, three agencies) and
FEBRL4 (:func:`fedlink.datasets.load_febrl4`: names, date of birth, address; no SSN).
Deduplication data sets (:func:`dedup_accuracy`) hold one source: FEBRL3 or FEBRL2
(:func:`fedlink.datasets.load_febrl3`, ``load_febrl2``), also without SSN, or one
agency's persons of the longitudinal synthetic state (:data:`SYNTH_DEDUP`,
:func:`agency_persons`), where 1–2 % of persons carry a second agency person id.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path

import pandas as pd

from protocol.identity import IDENTITY_FIELDS
from protocol.normalize import NormalizationOptions, normalize_identity

#: Clear-text columns the peers may use (present ones only), in this order.
CLEAN_FIELDS: tuple[str, ...] = (
    "first_name",
    "middle_name",
    "last_name",
    "dob",
    "sex",
    "ssn",
    "postal_code",
    "street_address",
    "city",
)

#: Share of a synthetic population that has a K-12 record (docs/synthetic-data.md: 328,448
#: of 1,000,000), rounded down so a population of ``size / K12_SHARE`` has ``size`` of them.
K12_SHARE = 0.32


@dataclass(frozen=True)
class AccuracyData:
    """Where one accuracy data set was written and how its raw values are read."""

    name: str
    label: str
    root: Path
    sources: tuple[str, ...]
    date_order: str = "MDY"
    postal_code_format: str = "us"
    records: dict[str, int] = field(default_factory=dict)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Source pairs in the order :func:`hub.linkage.evaluate.pairwise_scores` uses."""
        return list(combinations(sorted(self.sources), 2))

    def options(self) -> NormalizationOptions:
        return NormalizationOptions(
            date_order=self.date_order,  # type: ignore[arg-type]
            postal_code_format=self.postal_code_format,  # type: ignore[arg-type]
        )

    def raw(self, source: str) -> pd.DataFrame:
        return pd.read_parquet(self.root / "raw" / f"{source}.parquet")

    def clean(self, source: str) -> pd.DataFrame:
        return pd.read_parquet(self.root / "clean" / f"{source}.parquet")

    def save_meta(self) -> None:
        meta = asdict(self) | {"root": str(self.root), "sources": list(self.sources)}
        (self.root / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")

    @classmethod
    def load(cls, root: Path | str) -> AccuracyData:
        meta = json.loads((Path(root) / "meta.json").read_text())
        meta.update(root=Path(meta["root"]), sources=tuple(meta["sources"]))
        return cls(**meta)


def as_strings(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``columns`` (default: record_id, the identity fields present, truth_id) as strings,
    missing = None, on a fresh index."""
    if columns is None:
        columns = [c for c in ("record_id", *IDENTITY_FIELDS, "truth_id") if c in frame.columns]
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        values = frame[column].astype("object")
        out[column] = values.where(values.notna(), None).map(
            lambda v: None if v is None else str(v)
        )
    return out.reset_index(drop=True)


def raw_rows(frame: pd.DataFrame) -> Iterator[dict[str, object]]:
    """The identity fields of each row as the dict :func:`normalize_identity` reads."""
    fields = [f for f in IDENTITY_FIELDS if f in frame.columns]
    for values in frame[fields].itertuples(index=False, name=None):
        yield dict(zip(fields, values, strict=True))


def clean_frame(frame: pd.DataFrame, options: NormalizationOptions) -> pd.DataFrame:
    """Normalised clear text of ``frame`` (raw canonical columns): :data:`CLEAN_FIELDS` as
    strings (ISO dates, ``M``/``F``/``X``), null when the normaliser found no usable value."""
    rows = []
    for raw in raw_rows(frame):
        i = normalize_identity(raw, options)
        rows.append(
            (
                i.first_name,
                i.middle_name,
                i.last_name,
                i.dob.isoformat() if i.dob else None,
                i.sex.value if i.sex else None,
                i.ssn,
                i.postal_code,
                i.street_address,
                i.city,
            )
        )
    clean = pd.DataFrame(rows, columns=list(CLEAN_FIELDS), dtype="object")
    clean.insert(0, "record_id", frame["record_id"].astype(str).to_numpy())
    clean["truth_id"] = frame["truth_id"].astype(str).to_numpy()
    return clean


def write_accuracy_data(
    name: str,
    label: str,
    frames: dict[str, pd.DataFrame],
    root: Path,
    options: NormalizationOptions,
) -> AccuracyData:
    """Write ``frames`` (source → raw canonical frame with ``truth_id``) under ``root``."""
    for sub in ("raw", "clean"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    records = {}
    for source, frame in frames.items():
        raw = as_strings(frame)
        raw.to_parquet(root / "raw" / f"{source}.parquet", index=False)
        clean_frame(raw, options).to_parquet(root / "clean" / f"{source}.parquet", index=False)
        records[source] = len(raw)
    data = AccuracyData(
        name=name,
        label=label,
        root=root,
        sources=tuple(frames),
        date_order=options.date_order,
        postal_code_format=options.postal_code_format,
        records=records,
    )
    data.save_meta()
    return data


def synth_accuracy(people: int, seed: int, root: Path) -> AccuracyData:
    """The three-agency synthetic state of ``people`` (``fedlink synth --people N``)."""
    from fedlink.synth import generate

    frames = generate(people, seed)
    label = f"synthetic, {people:,} people (seed {seed})"
    return write_accuracy_data("synth", label, frames, root, NormalizationOptions())


def febrl4_accuracy(root: Path) -> AccuracyData:
    """FEBRL4 A and B on the canonical columns, without ``soc_sec_id``."""
    from fedlink.datasets import load_febrl4

    a, b = load_febrl4()
    options = NormalizationOptions(postal_code_format="any")
    label = "FEBRL4 (names, date of birth, address; no SSN)"
    return write_accuracy_data("febrl4", label, {"febrl4a": a, "febrl4b": b}, root, options)


#: Synthetic deduplication data sets: an agency's persons of ``fedlink synth
#: --longitudinal`` (data set name → the frame's key).
SYNTH_DEDUP: dict[str, str] = {"synth-k12": "k12", "synth-highered": "highered",
                               "synth-workforce": "workforce"}


@functools.lru_cache(maxsize=1)
def _longitudinal(people: int, seed: int) -> dict[str, pd.DataFrame]:
    from fedlink.synth import generate

    return generate(people, seed, longitudinal=True)


def agency_persons(frame: pd.DataFrame, person_column: str) -> pd.DataFrame:
    """One record per agency person id of a longitudinal frame: the identity most of its
    rows hold (ties: the one in the latest row), as the node ranks a person's versions
    (``agency_node/services/match_units.py``), with the person id as the record id.

    Both systems get this one record per person: Splink deduplicates records, and giving
    Fedlink every version (what a node sends) would compare two different inputs."""
    fields = [f for f in IDENTITY_FIELDS if f in frame.columns]
    rows = frame.reset_index(drop=True).fillna({f: "" for f in fields})
    rows["_order"] = range(len(rows))
    counted = (rows.groupby([person_column, *fields], dropna=False, sort=False)
               .agg(_rows=("_order", "size"), _latest=("_order", "max")).reset_index())
    best = (counted.sort_values([person_column, "_rows", "_latest"],
                                ascending=[True, False, False])
            .drop_duplicates(person_column))
    truth = rows.drop_duplicates(person_column).set_index(person_column)["truth_id"]
    out = best[[person_column, *fields]].rename(columns={person_column: "record_id"})
    out["truth_id"] = out["record_id"].map(truth)
    return out.reset_index(drop=True)


def synth_dedup_accuracy(name: str, root: Path, *, people: int, seed: int) -> AccuracyData:
    """``synth-k12``, ``synth-highered`` or ``synth-workforce``: the agency's persons of the
    longitudinal synthetic state, 1–2 % of them under a second person id (one record per
    person id, :func:`agency_persons`); true pairs are two ids of one person."""
    from fedlink.synth.longitudinal import PERSON_ID
    from fedlink.synth.profiles import HIGHER_ED, K12, WORKFORCE

    key = SYNTH_DEDUP[name]
    code = {"k12": K12.code, "highered": HIGHER_ED.code, "workforce": WORKFORCE.code}[key]
    frame = agency_persons(_longitudinal(people, seed)[key], PERSON_ID[code])
    label = (f"synthetic {key} persons ({people:,} people, seed {seed}; one record per "
             "agency person id, with SSN where the agency holds it)")
    return write_accuracy_data(name, label, {name: frame}, root, NormalizationOptions())


def dedup_accuracy(name: str, root: Path, *, people: int = 20_000,
                   seed: int = 0) -> AccuracyData:
    """FEBRL3 or FEBRL2 (``name``) as one source to deduplicate, without ``soc_sec_id``;
    or a synthetic agency's persons (:data:`SYNTH_DEDUP`, of ``people`` and ``seed``)."""
    from fedlink.datasets import load_febrl2, load_febrl3

    if name in SYNTH_DEDUP:
        return synth_dedup_accuracy(name, root, people=people, seed=seed)
    loaders = {"febrl3": load_febrl3, "febrl2": load_febrl2}
    if name not in loaders:
        raise ValueError(f"no deduplication data set {name!r}")
    frame = loaders[name]()
    options = NormalizationOptions(postal_code_format="any")
    label = f"{name.upper()} (one file, names, date of birth, address; no SSN)"
    return write_accuracy_data(name, label, {name: frame}, root, options)


def synth_sides(size: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two synthetic agencies of exactly ``size`` records each, as raw canonical strings:
    K-12 and workforce records of one population of ``size / K12_SHARE`` people (the
    workforce file is larger; its first ``size`` rows are a uniform sample, since rows are
    in random order)."""
    from fedlink.synth import generate

    people = int(size / K12_SHARE) + 1000
    while True:
        frames = generate(people, seed)
        k12, workforce = frames["k12"], frames["workforce"]
        if len(k12) >= size and len(workforce) >= size:
            break
        people = int(people * 1.1)  # small populations vary around the shares
    return as_strings(k12.iloc[:size]), as_strings(workforce.iloc[:size])


def throughput_records(count: int, seed: int) -> pd.DataFrame:
    """``count`` synthetic records from all three agencies (their formats mixed, as a state
    node sees them), as raw canonical strings with ``truth_id``."""
    from fedlink.synth import generate

    people = int(count / 1.1) + 1000  # about 1.12 records per person over the three files
    while True:
        frames = generate(people, seed)
        joined = pd.concat(list(frames.values()), ignore_index=True)
        if len(joined) >= count:
            break
        people = int(people * 1.2)
    return as_strings(joined.iloc[:count])


def pair_fields(left: pd.DataFrame, right: pd.DataFrame, wanted: Sequence[str]) -> list[str]:
    """The ``wanted`` clear-text fields that hold values on both sides of a source pair
    (K-12 has no SSN, FEBRL4 no sex): a peer is configured only with usable fields."""
    return [f for f in wanted if left[f].notna().any() and right[f].notna().any()]
