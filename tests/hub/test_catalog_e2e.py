"""The living data dictionary end to end: a real ``fedlink hub serve`` process, a node set
up and driven with the real CLI over real HTTP. A new year after re-ingest reaches the
researcher's ``GET /v1/catalog`` once the steward publishes; the public summary shows no
counts; re-enrolment rotates the node key, audited, and the old key signs nothing more."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from hub.settings import DATABASE_FILE
from tests.agency_node.conftest import PEOPLE, write_csv
from tests.hub.test_hub_runs_e2e import FEDLINK, _env, fedlink, token_in, wait_healthy
from tests.served import free_port


def _rows(year: int, count: int) -> list[dict[str, str]]:
    return [{**PEOPLE[i % len(PEOPLE)], "record_id": f"K12-{year}-{i:04d}",
             "school_year": str(year), "grade_level": "9" if i % 3 else "10",
             "ell": "no", "ssn": ""} for i in range(count)]


def _grade(url: str, token: str) -> dict[str, object]:
    response = httpx.get(f"{url}/v1/catalog?agency=K12",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return next(v for v in response.json() if v["variable"] == "grade_level")


@pytest.mark.e2e
def test_dictionary_change_reaches_researcher_catalog(tmp_path: Path) -> None:
    hub_dir, node = tmp_path / "hub", str(tmp_path / "node")
    admin = token_in(fedlink("hub", "init", "--dir", str(hub_dir)))
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    source = write_csv(tmp_path / "k12.csv", _rows(2019, 30))
    fedlink("node", "init", "--agency", "K12", "--name", "K12 agency", "--dir", node,
            "--source", str(source))
    fedlink("node", "ingest", "--dir", node)
    enrolment = token_in(fedlink("hub", "agency", "add", "K12", "--dir", str(hub_dir),
                                 "--name", "K12 agency", "--url", "http://127.0.0.1:9"))
    log = tmp_path / "hub.log"
    with log.open("w") as out:
        server = subprocess.Popen([str(FEDLINK), "hub", "serve", "--dir", str(hub_dir),
                                   "--port", str(port)], env=_env(), stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        wait_healthy(hub_url, server, log)
        as_admin = {"Authorization": f"Bearer {admin}"}
        invitation = httpx.post(f"{hub_url}/v1/invitations", headers=as_admin, timeout=10,
                                json={"name": "Ada", "role": "researcher"}).json()["code"]
        researcher = httpx.post(f"{hub_url}/v1/invitations/redeem", json={"code": invitation},
                                timeout=10).json()["token"]
        fedlink("node", "enroll", "--dir", node, "--hub", hub_url,
                FEDLINK_ENROLLMENT_TOKEN=enrolment)
        assert _grade(hub_url, researcher)["years"] == [2019]

        # A new year arrives: re-ingest, the node says the dictionary is stale, publish.
        write_csv(source, _rows(2019, 30) + _rows(2020, 30))
        ingested = fedlink("node", "ingest", "--dir", node)
        assert "change(s) since it was last published" in ingested
        assert "placeholder descriptions" in ingested
        assert _grade(hub_url, researcher)["years"] == [2019]  # not before publication
        published = fedlink("node", "dictionary", "publish", "--dir", node)
        assert "dictionary of K12 published" in published
        grade = _grade(hub_url, researcher)
        assert grade["years"] == [2019, 2020]
        assert grade["description_placeholder"] is True
        assert {c["code"]: c["count"] for c in grade["codes"]} == {"9": 40, "10": 20}
        assert "the hub has this dictionary" in fedlink("node", "dictionary", "show",
                                                        "--dir", node)

        # Anyone: variables, descriptions, years, classification — no counts.
        public = httpx.get(f"{hub_url}/v1/public/catalog", timeout=10)
        (agency,) = public.json()["agencies"]
        grade_public = next(v for v in agency["variables"] if v["variable"] == "grade_level")
        assert grade_public == {"variable": "grade_level", "description": "",
                                "years": [2019, 2020], "classification": "confidential"}
        assert set(agency) == {"agency", "name", "updated_at", "variables"}
        assert all(set(v) == {"variable", "description", "years", "classification"}
                   for v in agency["variables"])
        assert "count" not in public.text and "percent" not in public.text
        page = httpx.get(f"{hub_url}/public/catalog", timeout=10)
        assert page.status_code == 200 and "grade_level" in page.text

        # Re-enrolment with key rotation: operator token, node enrolls a new key.
        reenrol = token_in(fedlink("hub", "agency", "update", "K12", "--dir", str(hub_dir),
                                   "--reenrol"))
        before = httpx.get(f"{hub_url}/v1/agencies", headers=as_admin,
                           timeout=10).json()[0]["signing_kid"]
        fedlink("node", "enroll", "--dir", node, "--hub", hub_url, "--rotate-key",
                FEDLINK_ENROLLMENT_TOKEN=reenrol)
        after = httpx.get(f"{hub_url}/v1/agencies", headers=as_admin,
                          timeout=10).json()[0]["signing_kid"]
        assert after != before
        with sqlite3.connect(hub_dir / DATABASE_FILE) as db:
            rotations = [json.loads(detail) for (detail,) in db.execute(
                "SELECT detail FROM audit_events WHERE action = 'agency.key_rotated'")]
        assert rotations == [{"old_signing_kid": before, "signing_kid": after}]
        assert "dictionary of K12 published" in fedlink("node", "dictionary", "publish",
                                                        "--dir", node)
    finally:
        server.terminate()
        server.wait(timeout=10)
