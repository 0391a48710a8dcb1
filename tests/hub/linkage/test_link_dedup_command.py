"""``fedlink link`` deduplicating: one file alone, or ``--dedup SOURCE`` among several."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from fedlink.cli import main

from .test_link_command import FIELDS, fail, write_csv


@pytest.fixture
def one_file(tmp_path, linkage_population):
    """Both agencies' records of one population in one file: about half the people hold
    two records (ids A… and B…)."""
    a, b = linkage_population(n_people=150)
    return write_csv(tmp_path / "students.csv", a + b, FIELDS), a + b


def test_single_file_deduplicated_end_to_end(one_file, tmp_path, capsys):
    path, rows = one_file
    out, report = tmp_path / "clusters.csv", tmp_path / "report"
    main(["link", str(path), "--out", str(out), "--report", str(report), "--truth", "truth_id"])
    clusters = pd.read_csv(out, dtype=str)
    assert list(clusters.columns) == ["source", "record_id", "cluster_id"]
    assert len(clusters) == len(rows) and set(clusters["source"]) == {"students"}
    assert set(clusters["record_id"]) == {r["record_id"] for r in rows}
    sizes = clusters.groupby("cluster_id").size()
    assert (sizes > 1).sum() > 30  # duplicates found inside the one source
    data = json.loads((report / "report.json").read_text())
    dedup = data["deduplication"]["sources"][0]
    assert dedup["name"] == "students" and dedup["within_clusters"] == int((sizes > 1).sum())
    assert "Duplicates within agencies" in (report / "report.html").read_text()
    evaluation = json.loads((report / "evaluation.json").read_text())
    assert evaluation[0]["left"] == evaluation[0]["right"] == "students"
    assert evaluation[-1]["f1"] > 0.97
    captured = capsys.readouterr()
    assert "within students:" in captured.err
    assert "within students" in captured.out and "all pairs" in captured.out


def test_dedup_option_lets_one_of_two_sources_hold_duplicates(tmp_path, linkage_population):
    a, b = linkage_population(n_people=150)
    again = [dict(r, record_id=r["record_id"] + "-2") for r in b[:30]]
    file_a = write_csv(tmp_path / "k12.csv", a, FIELDS)
    file_b = write_csv(tmp_path / "workforce.csv", b + again, FIELDS)
    out = tmp_path / "c.csv"
    main(["link", str(file_a), str(file_b), "--out", str(out), "--dedup", "workforce"])
    clusters = pd.read_csv(out, dtype=str)
    assert len(clusters) == len(a) + len(b) + len(again)
    k12 = clusters[clusters["source"] == "k12"]
    assert not k12.duplicated("cluster_id").any()
    cluster = dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True))
    assert sum(cluster[r["record_id"]] == cluster[r["record_id"] + "-2"] for r in b[:30]) >= 29
    # Without --dedup the copies stay apart: one record per source and person.
    main(["link", str(file_a), str(file_b), "--out", str(out)])
    plain = pd.read_csv(out, dtype=str)
    assert not plain.duplicated(["source", "cluster_id"]).any()


def test_dedup_all_and_a_file_of_one_record(tmp_path, linkage_population):
    a, _ = linkage_population(n_people=40)
    one = write_csv(tmp_path / "one.csv", [a[0]], FIELDS)
    out = tmp_path / "c.csv"
    main(["link", str(one), "--out", str(out)])
    assert len(pd.read_csv(out)) == 1
    main(["link", str(one), str(write_csv(tmp_path / "b.csv", a, FIELDS)), "--out", str(out),
          "--dedup", "all"])
    clusters = pd.read_csv(out, dtype=str)
    assert len(clusters) == 1 + len(a)
    assert clusters["cluster_id"].nunique() == len(a)  # one.csv's record joins its copy


def test_dedup_of_an_unknown_source_refused_with_one_line(one_file, tmp_path, capsys):
    path, rows = one_file
    other = write_csv(tmp_path / "other.csv", rows, FIELDS)
    err = fail(["link", str(path), str(other), "--out", str(tmp_path / "o.csv"),
                "--dedup", "nosuch"], capsys)
    assert "--dedup nosuch: no such source" in err and "students" in err
    assert not (tmp_path / "o.csv").exists()
    err = fail(["link", str(path), "--out", str(tmp_path / "o.csv"), "--dedup", "other"], capsys)
    assert "--dedup other: no such source" in err


def test_single_file_with_repeated_record_ids_refused(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id,first_name\n1,ANN\n1,ANN\n")
    err = fail(["link", str(bad), "--out", str(tmp_path / "o.csv")], capsys)
    assert "duplicate record_id" in err and "bad" in err
