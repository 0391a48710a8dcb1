"""The Arrow token batch a node streams to the hub."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pyarrow as pa
import pytest

from protocol import PROTOCOL_VERSION
from protocol.bloom import BLOOM_FIELDS
from protocol.columns import IdentityColumns
from protocol.encoding import (
    ENCODING,
    encode_batch,
    encode_batches,
    encode_columns,
    token_batch_schema,
)
from protocol.encoding_legacy import legacy_batch_schema
from protocol.errors import EncodingError
from protocol.identity import NormalizedIdentity, Sex
from protocol.keys import ProjectKeys, derive_project_keys, pseudonymous_id
from protocol.salted_bloom import SALTED_BLOOM_BYTES, salted_field_filters
from protocol.salts import dob_salt_ids, household_salts
from protocol.token_padding import TOKENS_PER_RULE
from protocol.token_parts import house_number_part, street_prefix_part
from protocol.tokens import BLOCKING_KEY_RULES, MATCH_KEY_RULES, blocking_keys, match_keys

NODE_KEY = b"\x33" * 32


@pytest.fixture(scope="module")
def keys() -> ProjectKeys:
    return derive_project_keys(b"\x44" * 32, b"encoding-test-salt-0123456789abc",
        project_id="P-test", project_digest="ab" * 32)


def records() -> list[tuple[str, NormalizedIdentity]]:
    people = [
        NormalizedIdentity(
            first_name="MARGUERITE",
            middle_name="ODALYS",
            last_name="QUINTANILLA",
            dob=dt.date(2003, 9, 4),
            sex=Sex.FEMALE,
            ssn="457551234",
            postal_code="22901",
            street_address="4417 WOODLARK CRESCENT",
            city="CHARLOTTESVILLE",
        ),
        NormalizedIdentity(
            first_name="BARTHOLOMEW",
            last_name="FITZWILLIAMS",
            last_name_parts=("FITZ", "WILLIAMS"),
            dob=dt.date(1999, 12, 25),
            sex=Sex.MALE,
            ssn="212670987",
        ),
        NormalizedIdentity(),  # nothing usable: a row of empty lists and nulls
        NormalizedIdentity(postal_code="23220", city="RICHMOND", sex=Sex.OTHER),
    ]
    return [(pseudonymous_id(NODE_KEY, "P-7", f"LOCAL-{i:04d}"), p) for i, p in enumerate(people)]


def test_schema_columns_types_and_version() -> None:
    schema = token_batch_schema()
    expected = ["pid"]
    expected += [f"mk_{r}" for r in MATCH_KEY_RULES]
    expected += [f"bk_{r}" for r in BLOCKING_KEY_RULES]
    filters = [f"bf_{f}" for f in BLOOM_FIELDS]
    names = ("first_name", "last_name", "middle_name", "first_name_as_last")
    filters += [f"bf_{f}__house" for f in (*names, "address")]
    filters += [f"bf_{f}__street" for f in (*names, "address")]
    filters += [f"bf_{f}__place" for f in ("first_name", "last_name", "address")]
    assert schema.names == expected + filters
    assert schema.field("pid").type == pa.string() and not schema.field("pid").nullable
    token_list = pa.list_(pa.field("item", pa.binary(16), nullable=False))
    for name in expected[1:]:
        assert schema.field(name).type == token_list
    for name in filters:
        assert schema.field(name).type == pa.binary(SALTED_BLOOM_BYTES)
        assert schema.field(name).nullable
    assert schema.metadata[b"fedlink.protocol_version"] == PROTOCOL_VERSION.encode()
    # The token PRF and the encoding are named, so a hub refuses a node still on another
    # construction (the field-level filters of fedlink/1 among them).
    assert schema.metadata[b"fedlink.token_prf"] == b"blake2b-128"
    assert schema.metadata[b"fedlink.encoding"] == ENCODING.encode()
    assert legacy_batch_schema() != schema


def _salted(field: str, value: str | None, salt, keys: ProjectKeys) -> bytes | None:
    """``salt``: a date (the birth-date salt) or a household salt's (ids, present)."""
    ids = dob_salt_ids([salt]) if salt is None or isinstance(salt, dt.date) else salt
    filters, present = salted_field_filters(field, [value], ids, keys)
    return filters[0].tobytes() if present[0] else None


def test_batch_has_one_row_per_record_with_its_tokens_and_filters(keys: ProjectKeys) -> None:
    recs = records()
    batch = encode_batch(recs, keys)
    assert batch.schema == token_batch_schema()
    assert batch.num_rows == len(recs)
    rows = batch.to_pylist()
    for row, (pid, identity) in zip(rows, recs, strict=True):
        assert row["pid"] == pid
        rules = [("mk", r, t) for r, t in match_keys(identity, keys).items()]
        rules += [("bk", r, t) for r, t in blocking_keys(identity, keys).items()]
        for kind, rule, tokens in rules:
            sent = row[f"{kind}_{rule}"]
            if not tokens:
                assert sent == []  # a rule that does not emit still sends nothing
                continue
            # Exactly the rule's fixed length, sorted, holding its real tokens (primary
            # first, cut at the length); the rest are dummies no other record shares.
            assert len(sent) == TOKENS_PER_RULE[rule]
            assert sent == sorted(sent)
            assert set(tokens[: TOKENS_PER_RULE[rule]]) <= set(sent)
        salt = identity.dob
        assert row["bf_first_name"] == _salted("first_name", identity.first_name, salt, keys)
        assert row["bf_last_name"] == _salted("last_name", identity.last_name, salt, keys)
        assert row["bf_first_name_as_last"] == _salted(
            "first_name_as_last", identity.first_name, salt, keys
        )
    assert rows[0]["bf_middle_name"] == _salted(
        "middle_name", "ODALYS", recs[0][1].dob, keys
    )
    assert rows[1]["bf_middle_name"] is None
    assert rows[0]["bf_address"] == _salted(
        "address", "4417 WOODLARK CRESCENT 22901", recs[0][1].dob, keys
    )
    street = "4417 WOODLARK CRESCENT"
    house = household_salts(["22901"], ["CHARLOTTESVILLE"], [house_number_part(street)],
                            [street_prefix_part(street)])["__house"]
    assert rows[0]["bf_first_name__house"] == _salted(
        "first_name", recs[0][1].first_name, house, keys
    )
    # No street: no address filter, even with city and ZIP; no household salt either.
    assert rows[1]["bf_address"] is None and rows[3]["bf_address"] is None
    assert rows[3]["bf_first_name__house"] is None
    assert all(row[c] in ([], None) for row in rows[2:] for c in batch.schema.names[1:])


def test_dummy_tokens_differ_per_record_and_match_nothing(keys: ProjectKeys) -> None:
    _, identity = records()[0]
    pids = [pseudonymous_id(NODE_KEY, "P-7", f"TWIN-{i}") for i in range(2)]
    rows = encode_batch([(p, identity) for p in pids], keys).to_pylist()
    real = set(match_keys(identity, keys)["name_dob_sex"])
    one, two = (set(r["mk_name_dob_sex"]) for r in rows)
    # The same identity under two pseudonyms: the real tokens agree, the dummies never do.
    assert one & two == real
    assert len(one) == TOKENS_PER_RULE["name_dob_sex"] > len(real)


def test_middle_initial_is_not_bloom_encoded(keys: ProjectKeys) -> None:
    pid, identity = records()[0]
    initial = dataclasses.replace(identity, middle_name="O")
    assert encode_batch([(pid, initial)], keys).to_pylist()[0]["bf_middle_name"] is None


def test_encoding_columns_equals_encoding_records(keys: ProjectKeys) -> None:
    # What a node's worker process receives: pids and identity columns, not dataclasses.
    recs = records()
    pids = [pid for pid, _ in recs]
    batch = encode_columns(pids, IdentityColumns.of([x for _, x in recs]), keys)
    assert batch.equals(encode_batch(recs, keys))
    with pytest.raises(EncodingError, match="same length"):
        encode_columns(pids[:1], IdentityColumns.of([x for _, x in recs]), keys)


def ipc_bytes(batches: list[pa.RecordBatch]) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, token_batch_schema()) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def test_serialised_batch_holds_no_identity_value_in_clear(keys: ProjectKeys) -> None:
    recs = records()
    payload = ipc_bytes([encode_batch(recs, keys)])
    forbidden: list[str] = []
    for i, (_, p) in enumerate(recs):
        forbidden.append(f"LOCAL-{i:04d}")
        for value in (p.first_name, p.middle_name, p.last_name, p.ssn, p.street_address, p.city):
            if value:
                forbidden.append(value)
        forbidden += list(p.last_name_parts)
        if p.dob:
            forbidden += [
                p.dob.isoformat(),
                p.dob.strftime("%Y%m%d"),
                p.dob.strftime("%m/%d/%Y"),
                p.dob.strftime("%m%d%Y"),
            ]
        if p.ssn:
            forbidden.append(f"{p.ssn[:3]}-{p.ssn[3:5]}-{p.ssn[5:]}")
        if p.postal_code:
            forbidden.append(p.postal_code)
    assert forbidden
    for value in forbidden:
        for encoded in (value.encode("utf-8"), value.encode("utf-16-le")):
            assert encoded not in payload, value


def test_local_record_id_as_pid_is_refused(keys: ProjectKeys) -> None:
    _, identity = records()[0]
    with pytest.raises(EncodingError, match="pseudonym"):
        encode_batch([("LOCAL-0001", identity)], keys)
    with pytest.raises(EncodingError):
        encode_batch([("A" * 32, identity)], keys)  # right length, not lower-case hex
    with pytest.raises(EncodingError):
        encode_batch([(12345, identity)], keys)  # type: ignore[list-item]


def test_streamed_batches_equal_one_batch(keys: ProjectKeys) -> None:
    recs = records() * 3
    whole = encode_batch(recs, keys)
    parts = list(encode_batches(iter(recs), keys, batch_size=5))
    assert [b.num_rows for b in parts] == [5, 5, 2]
    assert pa.Table.from_batches(parts).equals(pa.Table.from_batches([whole]))


def test_empty_input(keys: ProjectKeys) -> None:
    assert list(encode_batches([], keys)) == []
    empty = encode_batch([], keys)
    assert empty.num_rows == 0 and empty.schema == token_batch_schema()


def test_batch_size_must_be_positive(keys: ProjectKeys) -> None:
    with pytest.raises(EncodingError):
        list(encode_batches(records(), keys, batch_size=0))


def test_ipc_stream_round_trips_with_schema_metadata(keys: ProjectKeys) -> None:
    payload = ipc_bytes(list(encode_batches(records(), keys, batch_size=2)))
    table = pa.ipc.open_stream(payload).read_all()
    assert table.schema == token_batch_schema()
    assert table.schema.metadata[b"fedlink.protocol_version"] == PROTOCOL_VERSION.encode()
    assert table.num_rows == len(records())
