"""``fedlink demo`` end to end: one hub and three agency nodes as real processes on loopback.

The main test runs the whole demo once (300 people, longitudinal files: rows per school
year, term and wage quarter under agency person ids) and checks what the issue asks: it
finishes, prints P/R/F1, leaves the hub's and nodes' databases where the docs say, verifies
every audit chain, stops every process — and the hub's directory and log hold no identity
value from any agency's source (docs/trust-model.md, rule 1). The scanner itself is
checked against planted values, so the trust-model test can fail. The researcher's
downloaded extract holds a person × period table for each agency.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import httpx
import pandas as pd
import pytest

FEDLINK = Path(sys.executable).with_name("fedlink")
AGENCY_DIRS = {"K12": ("k12", "k12.csv"), "HE": ("he", "highered.csv"),
               "WF": ("wf", "workforce.csv")}
#: The agency person id column of each longitudinal file (an identity value too).
PERSON_IDS = ("state_student_id", "student_id", "ui_claimant_id")
#: How each agency's normalised period reads in the extract's ``period`` column.
PERIODS = {"K12": (r"\d{4}-\d{2}", "school years"), "HE": (r"\d{4}(?:FA|SP)", "terms"),
           "WF": (r"\d{4}Q[1-4]", "quarters")}
NAME_FIELDS = ("first_name", "middle_name", "last_name", "name_suffix")
# A word is a whole run of letters with no letter or digit either side: a name spelled by
# the hex digits of a hash ("…3becca9f…") is not a name the hub holds.
_WORD = re.compile(r"(?<![^\W_])[^\W\d_]+(?![^\W_])")
_DIGITS = re.compile(r"(?<!\d)\d{8,9}(?!\d)")
_FORMATTED = re.compile(r"(?<!\d)(?:\d{3}-\d{2}-\d{4}|\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4})(?!\d)")
_RECORD_ID = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_")}
    env["COLUMNS"] = "160"
    return env


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


# --- the identity scanner ---------------------------------------------------------------


@dataclass
class Identities:
    """Every identity value of the agencies' sources, in the forms a leak could take."""

    names: set[str] = field(default_factory=set)  # words of ≥ 4 letters, folded, lower case
    numbers: set[str] = field(default_factory=set)  # SSNs and dates, formatted and bare
    record_ids: set[str] = field(default_factory=set)  # and agency person ids
    addresses: set[str] = field(default_factory=set)  # whole street addresses, upper case

    @classmethod
    def from_sources(cls, paths: list[Path]) -> Identities:
        found = cls()
        for path in paths:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            for column in NAME_FIELDS:
                for value in frame[column]:
                    found.names.update(_fold(w) for w in _WORD.findall(value) if len(w) >= 4)
            for ssn in frame["ssn"]:
                if ssn:
                    found.numbers.update({ssn, ssn.replace("-", "")})
            for dob in frame["dob"]:
                if dob:
                    found.numbers.update({dob, *_iso_forms(dob)})
            found.record_ids.update(frame["record_id"])
            for column in PERSON_IDS:
                if column in frame.columns:
                    found.record_ids.update(v for v in frame[column] if v)
            found.addresses.update(a.upper() for a in frame["street_address"] if len(a) >= 8)
        return found

    def in_text(self, text: str) -> set[str]:
        """Identity values in text that a person or a program would read."""
        hits = {w for w in map(_fold, _WORD.findall(text)) if w in self.names}
        return hits | self.in_bytes(text.encode("utf-8", "replace"))

    def in_bytes(self, data: bytes) -> set[str]:
        """The long, distinctive values (SSNs, dates, record ids, addresses) in any bytes."""
        text = data.decode("latin-1")
        hits = {m.group() for m in _DIGITS.finditer(text) if m.group() in self.numbers}
        hits |= {m.group() for m in _FORMATTED.finditer(text) if m.group() in self.numbers}
        hits |= {m.group() for m in _RECORD_ID.finditer(text) if m.group() in self.record_ids}
        upper = text.upper()
        hits |= {a for a in self.addresses if a in upper}
        return hits


def _iso_forms(dob: str) -> set[str]:
    if re.fullmatch(r"\d{2}/\d{2}/\d{4}", dob):
        month, day, year = dob.split("/")
        return {f"{year}-{month}-{day}"}
    if re.fullmatch(r"\d{8}", dob):
        return {f"{dob[:4]}-{dob[4:6]}-{dob[6:]}"}
    return set()


def _sqlite_text(path: Path) -> Iterator[tuple[str, str]]:
    """(table.column, text) of every text value (and mostly-text blob) in a database."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes) and _mostly_text(value):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str):
                        yield f"{table}.{column}", value
    conn.close()


def _mostly_text(data: bytes) -> bool:
    if not data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return sum(c.isprintable() or c.isspace() for c in text) >= 0.95 * len(text)


def scan(paths: list[Path], identities: Identities) -> dict[str, set[str]]:
    """Where identity values occur: ``{"file[: table.column]": {values}}``."""
    leaks: dict[str, set[str]] = {}
    for path in paths:
        data = path.read_bytes()
        hits = identities.in_bytes(data)
        if data.startswith(b"SQLite format 3\0"):
            for where, text in _sqlite_text(path):
                found = identities.in_text(text)
                if found:
                    leaks.setdefault(f"{path}: {where}", set()).update(found)
        elif _mostly_text(data):
            hits |= identities.in_text(data.decode("utf-8"))
        if hits:
            leaks.setdefault(str(path), set()).update(hits)
    return leaks


def test_identity_scanner_finds_planted_values(tmp_path: Path) -> None:
    source = tmp_path / "k12.csv"
    source.write_text(
        "record_id,state_student_id,first_name,middle_name,last_name,name_suffix,dob,sex,ssn,"
        "street_address\n"
        "K12-0000001,1000001234,Zoë,,García-López,,03/07/2004,F,123-45-6789,12 Elm Street\n")
    identities = Identities.from_sources([source])
    database = tmp_path / "leaky.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE t (id INTEGER, note TEXT, blob BLOB)")
        conn.execute("INSERT INTO t VALUES (7, 'GARCIA', ?)", (os.urandom(4096),))
        conn.execute("INSERT INTO t VALUES (8, 'clean', ?)", (b"2004-03-07",))
    conn.close()
    log = tmp_path / "hub.log"
    log.write_text('{"msg": "asked about 123456789 and K12-0000001 at 12 ELM STREET", '
                   '"student": "1000001234"}\n')
    clean = tmp_path / "clean.log"
    clean.write_text("garcias 1234567890 K12-00000012 2004-03-077 9f3garcia0e1 10000012345\n")
    leaks = scan([database, log, clean], identities)
    assert leaks[f"{database}: t.note"] == {"garcia"}
    assert "2004-03-07" in leaks[str(database)]
    assert leaks[str(log)] == {"123456789", "K12-0000001", "12 ELM STREET", "1000001234"}
    assert str(clean) not in leaks


def test_demo_steps_of_missing_features_say_so_and_do_nothing(monkeypatch) -> None:
    from rich.console import Console

    from fedlink.demo import later
    from fedlink.demo.features import Features
    from fedlink.demo.ui import StepList

    monkeypatch.setattr(Features, "detect",
                        classmethod(lambda cls: cls(runs=False, extracts=False)))
    out = io.StringIO()
    steps = StepList(Console(file=out, width=200))
    demo = SimpleNamespace(steps=steps)  # any real work would fail on this stand-in
    for step in (later.linkage_run, later.extract, later.expiry):
        step(demo)
    assert [r.status for r in steps.records] == ["unavailable"] * 3
    text = out.getvalue()
    assert "not available in this build: linkage runs" in text
    assert "not available in this build: extracts" in text
    assert "not available in this build: extract destruction" in text


# --- the demo ---------------------------------------------------------------------------


@dataclass
class DemoRun:
    workdir: Path
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def demos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DemoRun]:
    """Both demos of this module — the whole flow (300 people) and a node killed during the
    run (100 people) — started at once, so the machine's cores are used by both."""
    root = tmp_path_factory.mktemp("demo")
    plans = {"ok": ["--people", "300"], "fault": ["--people", "100", "--fail-node", "WF"]}
    started = {}
    for name, args in plans.items():
        workdir = root / name
        out, err = (root / f"{name}.out").open("w+"), (root / f"{name}.err").open("w+")
        process = subprocess.Popen([str(FEDLINK), "demo", *args, "--workdir", str(workdir)],
                                   stdout=out, stderr=err, env=_env(),
                                   stdin=subprocess.DEVNULL, text=True)
        started[name] = (workdir, process, out, err)
    runs = {}
    for name, (workdir, process, out, err) in started.items():
        try:
            code = process.wait(timeout=800)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        with out, err:
            out.seek(0)
            err.seek(0)
            runs[name] = DemoRun(workdir, code, out.read(), err.read())
    return runs


@pytest.fixture
def demo(demos: dict[str, DemoRun]) -> DemoRun:
    return demos["ok"]


@pytest.mark.e2e
@pytest.mark.timeout(900)  # the fixture runs the demos; slow on a busy machine
def test_demo_runs_the_whole_flow_and_stops_every_service(demo) -> None:
    workdir, done = demo.workdir, demo
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    out = done.stdout
    assert "Linkage quality against the synthetic truth" in out
    overall = re.search(r"all pairs\s*│[^\n]*?(\d\.\d{4})\s*│\s*(\d\.\d{4})\s*│\s*(\d\.\d{4})",
                        out)
    assert overall is not None, out
    precision, recall, f1 = map(float, overall.groups())
    assert precision > 0.9 and recall > 0.8 and f1 > 0.85
    assert (workdir / "hub" / "hub.db").is_file()
    for code, (slug, source) in AGENCY_DIRS.items():
        assert (workdir / "nodes" / slug / "node.sqlite3").is_file(), code
        assert (workdir / "nodes" / slug / source).is_file(), code
    assert "hub audit chain intact" in out
    for code in AGENCY_DIRS:
        assert f"node {code}: audit chain intact" in out
    assert (workdir / "federation.secret").stat().st_mode & 0o077 == 0
    assert not (workdir / "demo.json").exists()
    urls = set(re.findall(r"http://127\.0\.0\.1:\d+", out))
    assert len(urls) == 4
    for url in urls:
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/health", timeout=2)


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_hub_holds_no_identity_value_of_any_agency(demo) -> None:
    workdir, done = demo.workdir, demo
    assert done.returncode == 0, done.stderr[-2000:]
    sources = [workdir / "nodes" / slug / name for slug, name in AGENCY_DIRS.values()]
    identities = Identities.from_sources(sources)
    assert len(identities.names) > 100 and identities.record_ids
    hub_files = [p for p in (workdir / "hub").rglob("*") if p.is_file()]
    assert any(p.name == "hub.db" for p in hub_files)
    leaks = scan([*hub_files, workdir / "logs" / "hub.log"], identities)
    assert leaks == {}


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_commands_log_holds_no_token_and_is_private(demo) -> None:
    """Issue 13 (6): the log of every command the demo ran named the admin's, each user's
    and each node's enrollment token, readable by everyone (0644)."""
    workdir = demo.workdir  # whatever step the demo ended at, its log must be safe
    log = workdir / "logs" / "commands.log"
    assert log.stat().st_mode & 0o777 == 0o600
    text = log.read_text(encoding="utf-8")
    assert "fedlink user redeem" in text and "fedlink user approve" in text
    assert "…redacted" in text  # init, agency add, user add and redeem printed secrets
    assert re.findall(r"fl[unei]_[A-Za-z0-9_-]{20,}", text) == []
    hub_db = (workdir / "hub" / "hub.db").read_bytes().decode("latin-1")
    assert re.findall(r"fl[unei]_[A-Za-z0-9_-]{20,}", hub_db) == []


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_researcher_extract_is_de_identified(demo) -> None:
    workdir, done = demo.workdir, demo
    assert done.returncode == 0, done.stderr[-2000:]
    sources = [workdir / "nodes" / slug / name for slug, name in AGENCY_DIRS.values()]
    identities = Identities.from_sources(sources)
    tables = list((workdir / "researcher").glob("ext-*/tables/*.parquet"))
    assert {t.stem for t in tables} >= {"persons", "links", *(f"agency_{a}" for a in AGENCY_DIRS)}
    forbidden = {*NAME_FIELDS, "dob", "ssn", "sex", "postal_code", "street_address", "city",
                 "record_id", "truth_id", "pid"}
    for table in tables:
        frame = pd.read_parquet(table)
        assert "person_id" in frame.columns, table
        assert not forbidden & set(frame.columns), table
        cells = {str(v) for column in frame.columns for v in frame[column].dropna()}
        assert not cells & (identities.numbers | identities.record_ids | identities.addresses)


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_researcher_extract_is_person_by_period_for_every_agency(demo) -> None:
    """The issue: a demo researcher receives a person × year extract spanning the three
    agencies — read from the files `fedlink extract download` unpacked."""
    workdir, done = demo.workdir, demo
    assert done.returncode == 0, done.stderr[-2000:]
    (extract,) = [d for d in (workdir / "researcher").glob("ext-*") if d.is_dir()]
    persons = pd.read_parquet(extract / "tables" / "persons.parquet")
    assert persons["person_id"].is_unique
    grains = {row["table"]: row["grain"] for row in
              json.loads((extract / "data_dictionary.json").read_text(encoding="utf-8"))}
    shapes = {}
    for code, (pattern, word) in PERIODS.items():
        frame = pd.read_parquet(extract / "tables" / f"agency_{code}.parquet")
        assert list(frame.columns[:2]) == ["person_id", "period"], (code, list(frame.columns))
        assert frame["period"].str.fullmatch(pattern).all(), (code, frame["period"].head())
        assert not frame.duplicated(["person_id", "period"]).any(), code
        assert set(frame["person_id"]) <= set(persons["person_id"]), code
        assert frame["period"].nunique() > 1, code  # the request's years span many periods
        assert grains[f"agency_{code}"].startswith("one row per person and period"), code
        shapes[code] = (frame["person_id"].nunique(), frame["period"].nunique(), len(frame))
        # The summary's preview line says what the file holds.
        people, periods, rows = shapes[code]
        assert f"{code}: {people:,} persons × {periods:,} {word} ({rows:,} rows)" in done.stdout
    for code in ("K12", "WF"):  # several school years and wage quarters per person
        people, _periods, rows = shapes[code]
        assert rows > people, code


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_scores_linkage_per_agency_person(demo) -> None:
    """A unit the nodes sent is an agency person: the score counts each person id once."""
    workdir, done = demo.workdir, demo
    assert done.returncode == 0, done.stderr[-2000:]
    sent = re.search(r"sent for the project\s*│\s*((?:[A-Z0-9]+ [\d,]+(?:, )?)+) agency\b",
                     done.stdout)
    assert sent is not None, done.stdout[-3000:]
    counts = dict(part.split(" ") for part in sent.group(1).split(", "))
    assert set(counts) == set(AGENCY_DIRS)
    for code, count in counts.items():
        slug, source = AGENCY_DIRS[code]
        frame = pd.read_csv(workdir / "nodes" / slug / source, dtype=str,
                            keep_default_na=False)
        person_id = next(c for c in PERSON_IDS if c in frame.columns)
        assert 0 < int(count.replace(",", "")) <= frame[person_id].nunique() < len(frame), code


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_says_which_node_failed_the_run_and_stops_everything(demos) -> None:
    done = demos["fault"]
    workdir = done.workdir
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    assert "the WF node (pid" in done.stdout
    error = done.stderr.strip().splitlines()
    assert len(error) == 1, error
    assert error[0].startswith("fedlink: error: the demo stopped at “Linkage run at the hub”: "
                               "linkage run run-")
    assert "failed because of the WF node" in error[0]
    with sqlite3.connect(workdir / "hub" / "hub.db") as conn:
        runs = conn.execute("SELECT status, failure_agency FROM linkage_runs").fetchall()
    conn.close()
    assert runs == [("failed", "WF")]
    assert not (workdir / "demo.json").exists()
    for url in set(re.findall(r"http://127\.0\.0\.1:\d+", done.stdout)):
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{url}/health", timeout=2)


@pytest.mark.e2e
def test_demo_supervisor_says_when_a_service_cannot_take_its_port(tmp_path: Path) -> None:
    from fedlink.demo.processes import Supervisor
    from fedlink.errors import CommandError

    hub_dir = tmp_path / "hub"
    init = subprocess.run([str(FEDLINK), "hub", "init", "--dir", str(hub_dir)], env=_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert init.returncode == 0, init.stderr
    supervisor = Supervisor(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        supervisor.start("hub", ["hub", "serve", "--dir", str(hub_dir), "--port", str(port)],
                         f"http://127.0.0.1:{port}")
        try:
            with pytest.raises(CommandError) as refused:
                supervisor.wait_ready(["hub"], timeout=120)
        finally:
            supervisor.stop_all()
    message = str(refused.value)
    assert message.startswith(f"hub stopped while starting: port {port} on 127.0.0.1 is "
                              "already in use")
    assert "Traceback" not in (tmp_path / "hub.log").read_text()


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_weight_join_on_the_extract_finds_nothing_to_join(demo) -> None:
    """Issue 13, attack 5, on the demo's real processes: the researcher's links carry no
    weight to join on, the hub purged the run's links and clusters at the end of the term,
    and each node deletes its pid → record map when its own clock passes the term."""
    import datetime as dt

    from agency_node.runtime import NodeRuntime
    from agency_node.services.purge import sweep

    workdir, done = demo.workdir, demo
    assert done.returncode == 0, done.stderr[-2000:]
    links = pd.read_parquet(next((workdir / "researcher").glob("ext-*/tables/links.parquet")))
    assert list(links.columns) == ["person_id", "agency_a", "agency_b", "match_band"]
    assert len(links) > 0 and set(links["match_band"]) <= {"very_high", "high", "medium", "low"}
    with sqlite3.connect(workdir / "hub" / "hub.db") as hub_db:
        assert hub_db.execute("SELECT count(*) FROM linkage_links").fetchone()[0] == 0
        assert hub_db.execute("SELECT count(*) FROM linkage_clusters").fetchone()[0] == 0
        purged = hub_db.execute("SELECT project_id, reason, links FROM linkage_purges").fetchall()
        (project, term_end), = hub_db.execute(
            "SELECT id, approved_term_end FROM requests WHERE status = 'expired'").fetchall()
    assert [(p, r) for p, r, _ in purged] == [(project, "expired")] and purged[0][2] > 0
    assert "purged the pid-level links" in done.stdout
    after = dt.datetime.combine(dt.date.fromisoformat(str(term_end)[:10]) + dt.timedelta(days=1),
                                dt.time(12), dt.UTC)
    for slug, _ in AGENCY_DIRS.values():
        with NodeRuntime.open(workdir / "nodes" / slug) as runtime:
            assert sweep(runtime, now=after)[project] > 0
            assert sweep(runtime, now=after) == {}
            runtime.audit.verify()
        with sqlite3.connect(workdir / "nodes" / slug / "node.sqlite3") as node_db:
            assert node_db.execute("SELECT count(*) FROM issued_pids WHERE project_id = ?",
                                   (project,)).fetchone()[0] == 0


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_demo_stewards_decide_with_their_own_keys(demo) -> None:
    """Issue 13 (6): a node's "steward" was whoever ran the command (the OS user). Each
    node now records the registered steward key that signed the approval, and keeps the
    steward's signature over the decision it sent the hub."""
    assert demo.returncode == 0, demo.stderr[-2000:]
    for code, (slug, _source) in AGENCY_DIRS.items():
        store = sqlite3.connect(demo.workdir / "nodes" / slug / "node.sqlite3")
        try:
            stewards = {kid for (kid,) in store.execute("SELECT kid FROM steward_keys")}
            decided = [by for (by,) in store.execute(
                "SELECT decided_by FROM approvals WHERE decision = 'approved'")]
            signed = store.execute("SELECT count(*) FROM steward_signatures").fetchone()[0]
        finally:
            store.close()
        assert len(stewards) == 1, code
        assert decided and set(decided) <= stewards, (code, decided)
        assert signed >= 1, code
