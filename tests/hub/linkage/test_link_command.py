"""``fedlink link``: files in, every record out exactly once; bad input refused cleanly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from agency_node.services import parallel_encoding
from fedlink import linkfiles
from fedlink.cli import main
from protocol.keys import derive_project_keys
from protocol.normalize import NormalizationOptions

FIELDS = ["record_id", "first_name", "last_name", "dob", "sex", "ssn", "street_address",
          "city", "postal_code", "truth_id"]


def write_csv(path: Path, rows: list[dict], fields: list[str] | None = None) -> Path:
    fields = fields or list(rows[0]) if rows else (fields or FIELDS)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def two_files(tmp_path, linkage_population):
    a, b = linkage_population(n_people=150)
    for i, row in enumerate(a):
        row["gpa"] = f"{2 + (i % 20) / 10:.1f}"  # an attribute: ignored
    return (write_csv(tmp_path / "k12.csv", a, [*FIELDS, "gpa"]),
            write_csv(tmp_path / "workforce.csv", b, FIELDS), a, b)


def fail(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("fedlink: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_link_writes_every_record_once_with_report(two_files, tmp_path, capsys):
    file_a, file_b, a, b = two_files
    out, report = tmp_path / "out" / "clusters.csv", tmp_path / "report"
    main(["link", str(file_a), str(file_b), "--out", str(out), "--report", str(report),
          "--truth", "truth_id"])
    clusters = pd.read_csv(out, dtype=str)
    assert list(clusters.columns) == ["source", "record_id", "cluster_id"]
    assert len(clusters) == len(a) + len(b)
    assert not clusters.duplicated(["source", "record_id"]).any()
    assert set(clusters["record_id"]) == {r["record_id"] for r in a + b}
    assert clusters["source"].tolist()[: len(a)] == ["k12"] * len(a)  # file order kept
    assert not clusters.duplicated(["source", "cluster_id"]).any()
    data = json.loads((report / "report.json").read_text())
    assert data["summary"]["records"] == len(a) + len(b)
    assert (report / "report.html").read_text().startswith("<!DOCTYPE html>")
    evaluation = json.loads((report / "evaluation.json").read_text())
    assert evaluation[-1]["f1"] > 0.97
    captured = capsys.readouterr()
    assert "estimated precision" in captured.err
    assert "k12–workforce" in captured.out


@pytest.mark.slow
def test_link_in_worker_processes_encodes_the_same_bytes(two_files, tmp_path, monkeypatch,
                                                         worker_pool):
    """Large files are normalised and encoded in worker processes: the same token table
    and pid map as in this process under the same keys, and the command still writes
    every record once. (Two whole runs cannot be compared cluster for cluster: each draws
    its own throwaway keys, and a borderline pair may fall either side.)"""
    file_a, file_b, a, b = two_files
    frame = linkfiles.read_source(file_a, {})
    keys = derive_project_keys(b"\x07" * 32, b"link-command-test-salt-012345678",
        project_id="P-test", project_digest="ab" * 32)
    options = NormalizationOptions()
    serial = linkfiles.encode_source("k12", frame, options, keys, b"\x08" * 32)
    monkeypatch.setattr(parallel_encoding, "DEFAULT_CHUNK_SIZE", 40)
    fanned_out = worker_pool()
    parallel = linkfiles.encode_source("k12", frame, options, keys, b"\x08" * 32)
    assert fanned_out == [2]  # the worker pool really ran
    assert parallel[0].num_rows == len(a)
    assert parallel[0].combine_chunks().equals(serial[0].combine_chunks())
    assert parallel[1] == serial[1]
    main(["link", str(file_a), str(file_b), "--out", str(tmp_path / "workers.csv")])
    assert fanned_out == [2, 2, 2]
    clusters = pd.read_csv(tmp_path / "workers.csv", dtype=str)
    assert len(clusters) == len(a) + len(b)
    assert not clusters.duplicated(["source", "record_id"]).any()


def test_map_renames_local_columns(tmp_path, linkage_population, capsys):
    a, b = linkage_population(n_people=60)
    renamed = [{"student_id": r["record_id"], "fname": r["first_name"], **r} for r in a]
    file_a = write_csv(tmp_path / "k12.csv", renamed,
                       ["student_id", "fname", "last_name", "dob", "sex"])
    file_b = write_csv(tmp_path / "wf.csv", b, FIELDS)
    out = tmp_path / "c.csv"
    main(["link", str(file_a), str(file_b), "--out", str(out),
          "--map", "student_id=record_id", "--map", "fname=first_name"])
    clusters = pd.read_csv(out, dtype=str)
    assert len(clusters) == len(a) + len(b)
    assert clusters["cluster_id"].nunique() < len(clusters)  # some links were found


def test_a_file_of_one_record_completes(tmp_path, linkage_population):
    a, b = linkage_population(n_people=60)
    one = write_csv(tmp_path / "one.csv", [a[0]], FIELDS)
    out = tmp_path / "c.csv"
    main(["link", str(one), str(write_csv(tmp_path / "b.csv", b, FIELDS)), "--out", str(out)])
    assert len(pd.read_csv(out)) == 1 + len(b)


def test_one_huge_block_completes_with_a_warning(tmp_path, capsys):
    crowd = {"first_name": "ALEX", "last_name": "DOE", "dob": "1900-01-02", "sex": "M"}
    a = [dict(crowd, record_id=f"a{i}") for i in range(60)]
    b = [dict(crowd, record_id=f"b{i}") for i in range(60)]
    out = tmp_path / "c.csv"
    main(["link", str(write_csv(tmp_path / "a.csv", a)), str(write_csv(tmp_path / "b.csv", b)),
          "--out", str(out), "--max-block", "50"])
    assert len(pd.read_csv(out)) == 120
    assert "block(s) larger than 50" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("record_id,first_name\n", "header but no records"),
        ("id,first_name\n1,ANN\n", "no record_id column"),
        ("record_id,first_name\n1,ANN\n1,BOB\n", "1 duplicate record_id value(s) (first on line 3"),
        ("record_id,first_name\n1,ANN\n,BOB\n", "1 row(s) have an empty record_id"),
        ("record_id,gpa\n1,3.1\n", "no identity column"),
        ("record_id,first_name,last_name\n1,,\n2, ,\n", "no record has a usable identity value"),
    ],
)
def test_bad_file_refused_with_one_line(tmp_path, two_files, capsys, content, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    err = fail(["link", str(bad), str(two_files[1]), "--out", str(tmp_path / "o.csv")], capsys)
    assert message in err
    assert "bad" in err  # names the file
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--map", "nonsense"], "--map takes local=canonical"),
        (["--map", "x=favourite_colour"], "is not one of"),
        (["--date-order", "YMD"], "--date-order must be MDY or DMY"),
        (["--postal-format", "uk"], "--postal-format must be us or any"),
        (["--threshold", "1.5"], "threshold must be a probability"),
    ],
)
def test_bad_options_refused_with_one_line(tmp_path, two_files, capsys, extra, message):
    argv = ["link", str(two_files[0]), str(two_files[1]), "--out", str(tmp_path / "o.csv")]
    assert message in fail(argv + extra, capsys)


def test_two_files_with_one_name_refused(tmp_path, two_files, capsys):
    # One file alone is deduplicated now (test_link_dedup_command.py).
    file_a = two_files[0]
    other = tmp_path / "again"
    other.mkdir()
    copy = other / file_a.name
    copy.write_text(file_a.read_text())
    err = fail(["link", str(file_a), str(copy), "--out", str(tmp_path / "o.csv")], capsys)
    assert "same name" in err


def test_missing_file_refused_with_one_line(tmp_path, two_files, capsys):
    err = fail(["link", str(tmp_path / "nope.csv"), str(two_files[1]), "--out", "o.csv"], capsys)
    assert "nope.csv" in err
