"""``fedlink bench``: the harness runs each system in its own process, scores every agency
pair, reports a missing peer as "not installed", and refuses bad options in one line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fedlink.bench.datasets import agency_persons
from fedlink.bench.metrics import link_scores, true_pair_count, within_link_scores
from fedlink.bench.readme import END, START, replace_section
from fedlink.bench.steps import MISSING, TIMEOUT, run_step
from fedlink.cli import main


def _run(capsys, *args: str) -> tuple[int, str, str]:
    try:
        main(["bench", *args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """One tiny accuracy run: Fedlink and recordlinkage on 300 synthetic people, anonlink
    pointed at an interpreter that does not exist."""
    tmp = tmp_path_factory.mktemp("bench")
    out, raw = tmp / "bench.md", tmp / "bench.json"
    readme = tmp / "README.md"
    readme.write_text(f"# Title\n\nBefore.\n\n{START}\nold figures\n{END}\n\nAfter.\n")
    try:
        main([
            "bench", "--people", "300", "--skip-scale", "--only", "accuracy",
            "--datasets", "synth", "--systems", "fedlink,recordlinkage,anonlink",
            "--peers-python", str(tmp / "missing" / "python"), "--cache-dir", str(tmp / "cache"),
            "--out", str(out), "--json", str(raw), "--readme", str(readme),
        ])
    except SystemExit as exit_:
        assert not exit_.code
    return out.read_text(), json.loads(raw.read_text()), readme.read_text()


@pytest.mark.slow
def test_bench_scores_every_agency_pair_for_fedlink(smoke):
    _, results, _ = smoke
    runs = results["accuracy"]["synth"]["runs"]
    assert runs["fedlink"]["status"] == "ok", runs["fedlink"]["detail"]
    pairs = runs["fedlink"]["result"]["pairs"]
    assert {(p["left"], p["right"]) for p in pairs} == {
        ("highered", "k12"), ("highered", "workforce"), ("k12", "workforce")
    }
    for p in pairs:
        for key in ("precision", "recall", "f1"):
            assert 0.0 <= p[key] <= 1.0
        assert p["true_pairs"] > 0
    assert runs["fedlink"]["result"]["peak_rss_bytes"] > 10_000_000


@pytest.mark.slow
def test_bench_reports_a_missing_peer_as_not_installed_and_still_runs_the_others(smoke):
    markdown, results, _ = smoke
    runs = results["accuracy"]["synth"]["runs"]
    assert runs["anonlink"]["status"] == MISSING
    assert results["meta"]["versions"]["anonlink"] is None
    assert runs["recordlinkage"]["status"] == "ok"
    assert "not installed" in markdown
    fedlink_rows = [line for line in markdown.splitlines() if line.startswith("| synthetic")]
    assert len(fedlink_rows) >= 3
    assert "## Targets" in markdown and "Fedlink F1 ≥ 0.99 on every pair" in markdown
    assert f"{os.cpu_count()} cores" in markdown


@pytest.mark.slow
def test_bench_deduplicates_febrl3_and_febrl2_beside_linkage(smoke):
    markdown, results, readme = smoke
    for name, true_pairs in (("febrl3", 6538), ("febrl2", 1934)):
        runs = results["dedup"][name]["runs"]
        assert runs["fedlink"]["status"] == "ok", runs["fedlink"]["detail"]
        score = runs["fedlink"]["result"]["clusters"]
        assert score["true_pairs"] == true_pairs and score["f1"] > 0.99
        assert runs["splink"]["status"] == MISSING  # not among --systems
    for name in ("synth-k12", "synth-highered", "synth-workforce"):
        data = results["dedup"][name]
        assert data["runs"]["fedlink"]["status"] == "ok", data["runs"]["fedlink"]["detail"]
        score = data["runs"]["fedlink"]["result"]["clusters"]
        assert 0 <= score["f1"] <= 1 and data["runs"]["fedlink"]["result"]["records"] > 0
    assert "| synthetic k12 persons" in markdown
    assert "## Deduplication: F1 (precision / recall) over all true pairs" in markdown
    assert "#### Deduplication" in readme
    assert "| FEBRL3 (one file" in markdown and "| FEBRL2 (one file" in markdown


def test_agency_persons_one_record_per_person_id_with_the_identity_most_rows_hold():
    rows = pd.DataFrame({
        "sid": ["1", "1", "1", "2", "3"],
        "first_name": ["ANA", "ANA", "ANNA", "BO", "BO"],
        "last_name": ["LEE", "LEE", "LEE", "KIM", "KIM"],
        "truth_id": ["p1", "p1", "p1", "p2", "p2"],  # 2 and 3: one person, two ids
    })
    persons = agency_persons(rows, "sid").set_index("record_id")
    assert list(persons.index) == ["1", "2", "3"]
    assert persons.loc["1", "first_name"] == "ANA"  # two rows against the latest one's typo
    assert persons["truth_id"].tolist() == ["p1", "p2", "p2"]


def test_within_link_scores_count_unordered_pairs_once():
    truth = pd.Series(["a", "a", "a", "b", "", "b"])
    score = within_link_scores("s", truth, np.array([0, 1, 2, 3, 4, 0]),
                               np.array([1, 0, 2, 5, 5, 3]))
    # 0-1 twice (once each way), 2-2 a self pair, 3-5 true, 4-5 no truth, 0-3 false.
    assert (score.true_pairs, score.predicted_pairs, score.true_positives) == (4, 4, 2)


def test_link_scores_count_each_link_once_and_ignore_missing_truth():
    left = pd.Series(["1", "2", "3", None])
    right = pd.Series(["1", "2", "9", "3", "3"])
    # links: (0,0) right, (0,0) again, (1,2) wrong, (3,1) unknown truth on the left
    score = link_scores(("a", "b"), left, right, np.array([0, 0, 1, 3]), np.array([0, 0, 2, 1]))
    assert true_pair_count(left, right) == 4  # 1–1, 2–2, 3–3 twice
    assert (score.true_pairs, score.predicted_pairs, score.true_positives) == (4, 3, 1)
    assert score.precision == pytest.approx(1 / 3)
    assert score.recall == pytest.approx(1 / 4)


def test_run_step_stops_a_step_past_its_timeout(tmp_path):
    command = [sys.executable, "-c", "import time; time.sleep(30)"]
    outcome = run_step("slow/step", command, {}, tmp_path, timeout=0.5)
    assert outcome["status"] == TIMEOUT


def test_run_step_reports_a_missing_interpreter_as_not_installed(tmp_path):
    outcome = run_step("peer/step", [str(tmp_path / "nope")], {}, tmp_path, timeout=5)
    assert outcome["status"] == MISSING


def test_run_step_failure_keeps_the_tail_of_the_log(tmp_path):
    command = [sys.executable, "-c", "import sys; sys.exit('worker blew up')"]
    outcome = run_step("bad/step", command, {}, tmp_path, timeout=30)
    assert outcome["status"] == "failed"
    assert "worker blew up" in outcome["detail"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "everything"], "--only takes accuracy, speed, privacy or load"),
        (["--load-clients", "0,50"], "--load-clients takes whole numbers ≥ 1"),
        (["--load-seconds", "0"], "--load-seconds a positive number"),
        (["--systems", "splink"], "--systems must include fedlink"),
        (["--systems", "fedlink,magic"], "--systems takes a comma-separated subset"),
        (["--people", "0"], "--people must be at least 1"),
        (["--dedup-datasets", "febrl9"], "--dedup-datasets takes a comma-separated subset"),
        (["--readme", "pyproject.toml"], "no file with a benchmark section"),
        (["--ladder", "0"], "--ladder takes whole numbers ≥ 1"),
        (["--ladder-workers", "two"], "--ladder-workers takes whole numbers ≥ 1"),
        (["--workers-size", "0"], "--workers-size must be at least 1"),
        (["--readme", "no-such-README.md"], "no file with a benchmark section"),
    ],
)
def test_bench_refuses_bad_options_in_one_line(capsys, args, message):
    code, _, err = _run(capsys, *args)
    assert code == 2
    assert err.startswith("fedlink: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_bench_rewrites_only_the_readme_section_with_the_date_and_figures(smoke):
    _, results, readme = smoke
    assert readme.startswith("# Title\n\nBefore.\n\n" + START)
    assert readme.endswith(END + "\n\nAfter.\n")
    assert "old figures" not in readme
    assert f"Measured {results['meta']['date']}" in readme
    fedlink = results["accuracy"]["synth"]["runs"]["fedlink"]["result"]["pairs"][0]
    assert f"{fedlink['f1']:.4f}" in readme
    assert "[bench.md](bench.md)" in readme


def test_readme_section_replacement_needs_both_markers_in_order():
    assert replace_section(f"a {START} x {END} b", "NEW") == "a NEW b"
    assert replace_section(f"a {END} x {START} b", "NEW") is None
    assert replace_section("no markers", "NEW") is None


@pytest.mark.slow
def test_bench_speed_measures_clear_text_and_node_paths(tmp_path):
    """The throughput step encodes the same records both ways and the report's target row
    reads the clear-text path (normalisation included)."""
    out, raw = tmp_path / "bench.md", tmp_path / "bench.json"
    try:
        main([
            "bench", "--only", "speed", "--skip-scale", "--throughput-records", "3000",
            "--systems", "fedlink,anonlink", "--peers-python", str(tmp_path / "no" / "python"),
            "--cache-dir", str(tmp_path / "cache"), "--out", str(out), "--json", str(raw),
        ])
    except SystemExit as exit_:
        assert not exit_.code
    step = json.loads(raw.read_text())["throughput"]["fedlink"]
    assert step["status"] == "ok", step["detail"]
    result = step["result"]
    assert result["records"] == 3000
    assert set(result["seconds"]) == {"clear_text", "normalize", "encode"}
    assert all(s > 0 for s in result["seconds"].values())
    markdown = out.read_text()
    rate = 3000 / result["seconds"]["clear_text"]
    assert "Fedlink, clear text → tokens (`fedlink link`)" in markdown
    assert f"clear text → tokens, normalisation included) | {rate:,.0f} records/s" in markdown


def test_bench_privacy_prints_both_encodings_and_the_target(tmp_path, capsys):
    out, raw = tmp_path / "bench.md", tmp_path / "bench.json"
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{START}\nold\n{END}\n")
    main(["bench", "--only", "privacy", "--privacy-sizes", "300", "--out", str(out),
          "--json", str(raw), "--readme", str(readme)])
    results = json.loads(raw.read_text())
    step = results["privacy"]["300"]
    assert step["status"] == "ok", step["detail"]
    assert set(step["result"]["schemes"]) == {"legacy", "current"}
    text = out.read_text()
    assert "Privacy: what a curious hub recovers" in text
    assert "legacy · 300 people" in text and "current · 300 people" in text
    assert "every attack on the current encoding < 0.5%" in text
    assert "Privacy: what a curious hub recovers" in readme.read_text()


@pytest.mark.parametrize("sizes", ["two", "10", ""])
def test_bench_refuses_bad_privacy_sizes(capsys, sizes):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--only", "privacy", "--privacy-sizes", sizes])
    assert exit_.value.code != 0
    assert "--privacy-sizes" in capsys.readouterr().err


def test_speed_step_peer_inputs_make_their_own_folder_in_an_empty_work_dir(tmp_path):
    """`make bench BENCH_ARGS="--only speed"` on a fresh clone: the scale step wrote
    WORKDIR/anonlink/scale-left.json into a folder only the accuracy step made."""
    from fedlink.bench import anonlink_runner

    frame = pd.DataFrame({"first_name": ["ANA", "BO"], "last_name": ["DIAZ", "LI"],
                          "dob": ["2001-02-03", None], "ssn": [None, None],
                          "postal_code": ["23220", "23221"], "street_address": ["1 MAIN ST", ""],
                          "city": ["RICHMOND", "RICHMOND"]})
    workdir = tmp_path / "work"  # empty: nothing has run before this step
    spec = anonlink_runner.scale_spec(frame, frame, workdir / "anonlink")
    assert json.loads(Path(spec["left"]).read_text())[0][:3] == ["ANA", "DIAZ", "20010203"]
    assert os.path.dirname(spec["right"]) == str(workdir / "anonlink")
    assert "ssn" not in spec["fields"]
    clk = anonlink_runner.throughput_spec(frame, tmp_path / "other" / "throughput")
    assert len(json.loads(Path(clk["records"]).read_text())) == 2
