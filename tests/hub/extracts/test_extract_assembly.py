"""Assembling a linked extract from real nodes: de-identified, minimum necessary, checked."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import zipfile
from typing import Any

import httpx
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hub.errors import ExtractBuildError
from hub.persistence import audit as audit_store
from hub.persistence import extracts as extract_store
from protocol.payload import open_payload, seal_payload
from protocol.wire import EXTRACT_PURPOSE, extract_payload_context

Federation = Any  # tests/hub/extracts/conftest.py


def _caller(fed: Federation) -> Any:
    from hub.domain.roles import Caller, Principal

    user_id, _ = fed.researcher
    return Caller(Principal(kind="user", id=user_id, role="researcher",
                            email="ada@uni.example"), source="test")


def _build(fed: Federation, project: str, rewrite: Any = None, *, signer: Any = "node",
           **kwargs: Any) -> Any:
    with fed.client(rewrite, signer=signer) as client:
        return fed.hub.build_extract(_caller(fed), project_id=project, client=client,
                                     **kwargs)


def _download(fed: Federation, extract_id: str) -> bytes:
    response = fed.hub.client.get(f"/v1/extracts/{extract_id}/download",
                                  headers=fed.hub.auth(fed.researcher[1]))
    assert response.status_code == 200, response.text
    assert hashlib.sha256(response.content).hexdigest() == response.headers["X-Fedlink-SHA256"]
    return response.content


def _members(bundle: bytes) -> dict[str, bytes]:
    """Every member's bytes, Parquet tables rendered as CSV text (their pages are
    compressed, so raw bytes would hide values from a scan)."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if name.endswith(".parquet"):
                data = pq.read_table(io.BytesIO(data)).to_pandas().to_csv().encode()
            out[name] = data
    return out


def _table(members: dict[str, bytes], name: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(members[f"tables/{name}.csv"]), dtype=str)


def test_extract_has_no_identity_field_no_agency_id_and_no_pid(federation: Federation) -> None:
    project, _, pids = federation.ready_project(extract={"formats": ["parquet", "csv"]})
    extract = _build(federation, project)
    assert extract.status == "available"
    assert extract.tables == {"persons": 10, "links": 10, "agency_COL": 10, "agency_SCH": 10}
    bundle = _download(federation, extract.id)
    members = _members(bundle)
    everything = b"\n".join([bundle, *(m.encode() for m in members), *members.values()])
    needles = [*federation.source_values, *(p.encode() for m in pids.values() for p in m)]
    sources = b"".join((n.dir.parent / f"{n.agency.lower()}.csv").read_bytes()
                       for n in federation.nodes.values())
    assert all(n in sources for n in federation.source_values)  # the scan looks for real values
    leaked = [n for n in needles if n in everything]
    assert leaked == []
    for name in ("first_name", "last_name", "dob", "ssn", "record_id", "pid"):
        assert f"{name}".encode() not in members["tables/agency_SCH.csv"].split(b"\n")[0]
    assert _table(members, "agency_SCH").columns.tolist() == [
        "person_id", "grade_level", "gpa", "school", "ell"]
    assert _table(members, "agency_COL").columns.tolist() == [
        "person_id", "enrolled", "credits", "county"]
    people = set(_table(members, "persons")["person_id"])
    assert set(_table(members, "agency_SCH")["person_id"]) == people
    assert set(_table(members, "links")["person_id"]) == people
    assert all(len(p) == 26 for p in people)


def test_disclosure_control_leaves_no_small_class_on_declared_quasi_identifiers(
        federation: Federation) -> None:
    project, _, _ = federation.ready_project(extract={"formats": ["csv"]})
    extract = _build(federation, project)
    members = _members(_download(federation, extract.id))
    report = json.loads(members["disclosure_report.json"])
    assert report["quasi_identifiers"] == ["COL.county", "SCH.ell", "SCH.school"]
    assert report["result"]["rows_below_k_before"] > 0
    assert report["result"]["rows_below_k_after"] == 0
    joined = _table(members, "agency_SCH")[["person_id", "school", "ell"]].merge(
        _table(members, "agency_COL")[["person_id", "county"]], on="person_id", how="outer")
    keys = joined[["school", "ell", "county"]].fillna("<missing>")
    informative = ~(keys == "<missing>").all(axis=1)
    sizes = keys[informative].value_counts()
    assert (sizes >= 5).all()
    dictionary = json.loads(members["data_dictionary.json"])
    school = next(e for e in dictionary if e["table"] == "agency_SCH"
                  and e["variable"] == "school")
    assert school["quasi_identifier"] is True
    assert school["transformation"] == report["result"]["variables"]["SCH.school"]["rule"]
    assert {"variable", "source_agency", "description", "classification", "years",
            "transformation"} <= set(school)


def test_person_ids_differ_between_two_projects_for_the_same_people(
        federation: Federation) -> None:
    first, _, _ = federation.ready_project()
    second, _, _ = federation.ready_project()
    ids = []
    for project in (first, second):
        members = _members(_download(federation, _build(federation, project).id))
        # (_members renders the Parquet table as CSV text)
        ids.append(set(pd.read_csv(io.BytesIO(members["tables/persons.parquet"]))["person_id"]))
    assert len(ids[0]) == len(ids[1]) == 10
    assert ids[0].isdisjoint(ids[1])


def test_unmatched_records_only_when_the_agreement_says_so(federation: Federation) -> None:
    project, _, _ = federation.ready_project(extract={"include_unmatched": True})
    extract = _build(federation, project)
    assert extract.persons == 13
    assert extract.tables["agency_SCH"] == 12 and extract.tables["agency_COL"] == 11


def _tamper(change: Any, hub: Any) -> Any:
    """A rewrite that opens a node's payload (a node misbehaving: it holds the plaintext),
    applies ``change`` to its table, reseals it to the assembly key."""

    def rewrite(agency: str, body: dict[str, Any]) -> dict[str, Any]:
        if agency != "SCH":
            return body
        header = body["header"]
        context = extract_payload_context(header["project_id"], agency, header["run_id"])
        from protocol.payload import SealedPayload

        plain = open_payload(SealedPayload.model_validate(body["payload"]), hub.assembly_key,
                             purpose=EXTRACT_PURPOSE, **context)
        table = change(pa.ipc.open_stream(io.BytesIO(plain)).read_all())
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        sealed = seal_payload(sink.getvalue(), hub.assembly_key.public_key(),
                              purpose=EXTRACT_PURPOSE, **context)
        return {**body, "header": {**header, "rows": table.num_rows, "sha256": sealed.sha256},
                "payload": sealed.model_dump(mode="json")}

    return rewrite


def _extra_person(table: pa.Table) -> pa.Table:
    row = {name: [table.column(name)[0].as_py()] for name in table.column_names}
    row["person_id"] = ["x" * 26]
    return pa.concat_tables([table, pa.table(row, schema=table.schema)])


@pytest.mark.parametrize(("change", "code"), [
    (_extra_person, "unexpected_person_ids"),
    (lambda t: t.append_column("ssn", pa.array(["223-45-6780"] * t.num_rows)),
     "unexpected_variables"),
    (lambda t: t.drop_columns(["gpa"]), "unexpected_variables"),
])
def test_node_payload_beyond_the_request_fails_the_extract(
        federation: Federation, change: Any, code: str) -> None:
    project, _, _ = federation.ready_project()
    with pytest.raises(ExtractBuildError) as raised:
        _build(federation, project, rewrite=_tamper(change, federation.hub))
    assert raised.value.code == code and raised.value.agency == "SCH"
    with federation.hub.ctx.session_factory() as session:
        [extract] = extract_store.list_extracts(session, project_ids=[project])
        assert (extract.status, extract.failure_code) == ("failed", code)
        events, _ = audit_store.search_events(session, project=project,
                                              action="extract.failed")
        assert events[0].outcome == f"refused:{code}" and events[0].agency == "SCH"
    assert not list((federation.hub.ctx.settings.dir / "extracts").glob(f"{extract.id}*"))


def test_node_payload_carrying_a_pid_fails_the_extract(federation: Federation) -> None:
    project, _, pids = federation.ready_project()
    pid = next(iter(pids["SCH"]))

    def smuggle(table: pa.Table) -> pa.Table:
        school = pa.array([pid, *table.column("school").to_pylist()[1:]])
        return table.set_column(table.column_names.index("school"), "school", school)

    with pytest.raises(ExtractBuildError) as raised:
        _build(federation, project, rewrite=_tamper(smuggle, federation.hub))
    assert raised.value.code == "pid_in_payload"


def test_payload_for_another_project_is_refused(federation: Federation) -> None:
    project, _, _ = federation.ready_project()

    def other(agency: str, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "header": {**body["header"], "project_id": f"prj-{secrets.token_hex(6)}"}}

    with pytest.raises(ExtractBuildError) as raised:
        _build(federation, project, rewrite=other)
    assert raised.value.code == "bad_extract_payload"  # header and sealed info disagree


def _only_sch(change: Any) -> Any:
    return lambda agency, body: change(body) if agency == "SCH" else None


def test_node_answer_changed_in_transit_is_refused(federation: Federation) -> None:
    project, _, _ = federation.ready_project()
    fewer = _only_sch(lambda body: {**body, "header": {**body["header"], "rows": 1}})
    with pytest.raises(ExtractBuildError) as raised:
        _build(federation, project, rewrite=fewer, signer=None)
    assert (raised.value.code, raised.value.agency) == ("bad_node_signature", "SCH")


def test_node_answer_signed_by_another_agency_is_refused(federation: Federation) -> None:
    project, _, _ = federation.ready_project()
    with pytest.raises(ExtractBuildError) as raised:
        _build(federation, project, rewrite=_only_sch(dict), signer=federation.nodes["COL"])
    assert (raised.value.code, raised.value.agency) == ("bad_node_signature", "SCH")


def test_node_answer_quoting_another_request_is_refused(federation: Federation) -> None:
    project, _, _ = federation.ready_project()
    replayed = _only_sch(lambda body: {**body, "request_nonce": "A" * 22})
    with pytest.raises(ExtractBuildError) as raised:
        _build(federation, project, rewrite=replayed)
    assert (raised.value.code, raised.value.agency) == ("wrong_request_nonce", "SCH")


def test_unsigned_node_answer_is_refused(federation: Federation) -> None:
    project, _, _ = federation.ready_project()
    with pytest.raises(ExtractBuildError) as raised:
        _build(federation, project, rewrite=_only_sch(dict), signer="bare")
    assert (raised.value.code, raised.value.agency) == ("unsigned_response", "SCH")


def test_node_refusal_with_a_long_code_fails_the_extract_cleanly(federation: Federation) -> None:
    """A node's error code is its own (up to 64 characters): it must not break the audit
    record on any database (PostgreSQL enforces the outcome column's length)."""
    project, _, _ = federation.ready_project()
    routed = federation.transport()
    code = "refusal_" + "x" * 56

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/extracts":
            return httpx.Response(403, json={"error": code, "detail": "no"})
        return routed.handle_request(request)

    with httpx.Client(transport=httpx.MockTransport(handle)) as client, \
            pytest.raises(ExtractBuildError) as raised:
        federation.hub.build_extract(_caller(federation), project_id=project, client=client)
    assert raised.value.code == code
    with federation.hub.ctx.session_factory() as session:
        [extract] = extract_store.list_extracts(session, project_ids=[project])
        assert (extract.status, extract.failure_code) == ("failed", code)
        events, _ = audit_store.search_events(session, project=project,
                                              action="extract.failed")
        assert events[0].outcome == f"refused:{code}"[:32]
        assert events[0].detail["code"] == code
