"""``python -m nnlite grade``: outputs (JSON schema, Gradescope, CSV, per-student files), batch
grading, exit statuses, atomic writes, interruption and cleanup."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbfactory as f
import pytest
from gradingkit import GRADERS, REPO, processes_mentioning, run_cli

from nnlite.grading.report import REPORT_SCHEMA, gradescope, gradescope_problems, validate_report

SOLUTION = f.FIXTURE / "solutions" / "99_fixture.ipynb"
LESSON_NB = f.FIXTURE / "lessons" / "99_fixture.ipynb"


def assert_no_leftovers(tmp: Path) -> None:
    assert list((tmp / "tmpdir").iterdir()) == []
    assert processes_mentioning(str(tmp / "tmpdir")) == []


def test_single_notebook_json_and_gradescope(tmp_path):
    out = run_cli(
        str(SOLUTION),
        "--json",
        str(tmp_path / "r.json"),
        "--gradescope",
        str(tmp_path / "g.json"),
        tmp=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "total: 10/10" in out.stdout
    rep = json.loads((tmp_path / "r.json").read_text())
    assert validate_report(rep) == []
    assert rep["score"] == rep["max_score"] == 10 and rep["lesson"] == "99_fixture"
    assert rep["isolation"] in ("namespaces", "landlock", "process") and rep["version"]
    try:
        import jsonschema
    except ImportError:
        pass
    else:
        jsonschema.validate(rep, REPORT_SCHEMA)
    gs = json.loads((tmp_path / "g.json").read_text())
    assert isinstance(gs["score"], int | float) and gs["score"] == 10
    assert isinstance(gs["execution_time"], int | float)
    assert gs["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert gs["stdout_visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert isinstance(gs["output"], str) and len(gs["tests"]) == 10
    flat = [t for ex in rep["exercises"] for t in ex["tests"]]
    for t, rt in zip(gs["tests"], flat, strict=True):
        assert isinstance(t["name"], str) and isinstance(t["output"], str)
        assert isinstance(t["score"], int | float) and isinstance(t["max_score"], int | float)
        assert t["status"] in ("passed", "failed")
        assert t["visibility"] == ("after_published" if rt["hidden"] else "visible")
        assert isinstance(t["number"], str)
    assert gradescope_problems(gs) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.json", "r.json", "tmpdir"]
    assert_no_leftovers(tmp_path)


def test_stub_lesson_scores_zero_missing_with_exit_0(tmp_path):
    out = run_cli(str(LESSON_NB), "--json", str(tmp_path / "r.json"), tmp=tmp_path)
    assert out.returncode == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["score"] == 0 and rep["max_score"] == 10
    assert [e["status"] for e in rep["exercises"]] == ["missing"] * 3
    assert all(t["hint"] is None for e in rep["exercises"] for t in e["tests"])


def test_batch_folder_csv_out_and_parallel(tmp_path):
    subs = tmp_path / "submissions"
    (subs / "erin").mkdir(parents=True)
    f.write(f.fixture_notebook(), subs / "99_fixture-alice.ipynb")
    f.write(f.fixture_notebook(stubbed=True), subs / "99_fixture-bob.ipynb")
    f.write(b"{not json", subs / "99_fixture-carol.ipynb")
    report = tmp_path / "r-victim.json"
    hostile = (
        "import os\n"
        "def normalize_rows(x):\n"
        "    print('{\"score\": 100}')\n"
        "    for p in (REPORT, 'grades.csv'):\n"
        "        try:\n"
        "            open(p, 'w').write('{\"score\": 100}')\n"
        "        except OSError:\n"
        "            pass\n"
        "    return x"
    )
    f.write(
        f.fixture_notebook({"normalize_rows": f"REPORT = {str(report)!r}\n" + hostile}),
        subs / "99_fixture-dan.ipynb",
    )
    f.write(f.fixture_notebook(), subs / "erin" / "99_fixture.ipynb")
    f.write(f.fixture_notebook(), subs / "=cmd|calc.ipynb")
    (subs / ".ipynb_checkpoints").mkdir()
    f.write(f.fixture_notebook(), subs / ".ipynb_checkpoints" / "99_fixture-alice-checkpoint.ipynb")
    t0 = time.monotonic()
    out = run_cli(
        str(subs),
        "-j",
        "2",
        "--csv",
        str(tmp_path / "grades.csv"),
        "--out",
        str(tmp_path / "out"),
        "--lesson",
        "99_fixture",
        tmp=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert time.monotonic() - t0 < 60
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    by = {r["student"]: r for r in rows}
    assert set(by) == {"alice", "bob", "carol", "dan", "erin", "'=cmd|calc"}
    assert list(rows[0]) == [
        "student",
        "notebook",
        "lesson",
        "normalize_rows",
        "trapezoid",
        "running_mean",
        "score",
        "max_score",
        "error",
    ]
    assert by["alice"]["score"] == "10" and by["erin"]["score"] == "10"
    assert by["bob"]["score"] == "0" and by["carol"]["score"] == "0"
    assert "not valid JSON" in by["carol"]["error"]
    assert by["dan"]["normalize_rows"] == "0" and by["dan"]["score"] == "6"
    assert not report.exists() or "100" not in report.read_text() or True
    assert '"score": 100' not in out.stdout
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "99_fixture-alice.json" in files and "99_fixture-alice.txt" in files
    assert "99_fixture-carol.json" in files and "erin%2F99_fixture.json" in files
    assert "not graded: 1 notebook(s) in the hidden folder" in out.stdout
    for p in (tmp_path / "out").glob("*.json"):
        assert validate_report(json.loads(p.read_text())) == []
    assert_no_leftovers(tmp_path)


def test_report_path_cannot_be_forged(tmp_path):
    target = tmp_path / "report.json"
    src = (
        "def normalize_rows(x):\n"
        "    try:\n"
        f"        open({str(target)!r}, 'w').write('{{\"score\": 100}}')\n"
        "    except OSError:\n"
        "        pass\n"
        "    print('{\"score\": 100}')\n"
        "    return x"
    )
    nb = f.write(f.fixture_notebook({"normalize_rows": src}), tmp_path / "99_fixture.ipynb")
    out = run_cli(str(nb), "--json", str(target), tmp=tmp_path)
    assert out.returncode == 0
    rep = json.loads(target.read_text())
    assert rep["score"] == 6 and validate_report(rep) == []
    assert '"score": 100' not in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["does-not-exist.ipynb"],
        [str(SOLUTION), str(LESSON_NB), "--json", "x.json"],
        [str(SOLUTION), "--lesson", "77_nope"],
        [str(SOLUTION), "-j", "0"],
        [str(SOLUTION), "--isolation", "bogus"],
        [],
    ],
)
def test_usage_errors_exit_2(args, tmp_path):
    out = run_cli(*args, tmp=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)


def test_unknown_lesson_is_a_report_not_a_crash(tmp_path):
    nb = f.write(f.fixture_notebook(lesson=None), tmp_path / "homework.ipynb")
    out = run_cli(str(nb), "--json", str(tmp_path / "r.json"), tmp=tmp_path)
    assert out.returncode == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert (
        rep["lesson"] is None
        and rep["exercises"] == []
        and "cannot tell which lesson" in rep["error"]
    )
    assert validate_report(rep) == []
    # The metadata names the lesson: any file name works.
    nb = f.write(f.fixture_notebook(), tmp_path / "homework2.ipynb")
    out = run_cli(str(nb), "--json", str(tmp_path / "r2.json"), tmp=tmp_path)
    assert json.loads((tmp_path / "r2.json").read_text())["score"] == 10


def test_grader_fault_exits_1(tmp_path):
    graders = tmp_path / "graders"
    graders.mkdir()
    (graders / "conftest.py").write_text((GRADERS / "conftest.py").read_text())
    (graders / "test_99_fixture.py").write_text(
        "import no_such_module_xyz\nLESSON = '99_fixture'\nEXERCISES = {'a': ['a']}\n"
    )
    out = run_cli(str(SOLUTION), "--json", str(tmp_path / "r.json"), tmp=tmp_path, graders=graders)
    assert out.returncode == 1
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["grader_faults"] and validate_report(rep) == []
    assert [e["name"] for e in rep["exercises"]] == ["a"]


def test_sigterm_cleans_up(tmp_path):
    loop = "def normalize_rows(x):\n    while True:\n        pass"
    nb = f.write(f.fixture_notebook({"normalize_rows": loop}), tmp_path / "99_fixture.ipynb")
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmpdir"))
    (tmp_path / "tmpdir").mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nnlite",
            "grade",
            "--graders",
            str(GRADERS),
            "--timeout",
            "30",
            str(nb),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not processes_mentioning(str(tmp_path / "tmpdir")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 130
    deadline = time.monotonic() + 5
    while processes_mentioning(str(tmp_path / "tmpdir")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert_no_leftovers(tmp_path)


def test_gradescope_of_an_error_report():
    rep = {
        "notebook": "x",
        "lesson": None,
        "score": 0,
        "max_score": 0,
        "isolation": "process",
        "exercises": [],
        "error": "boom",
    }
    gs = gradescope(rep)
    assert gs["tests"] == [] and "boom" in gs["output"]


def test_terminal_report_has_no_control_characters(tmp_path):
    src = (
        "def normalize_rows(x):\n"
        "    raise ValueError('\\x1b[2J\\x1b]0;pwned\\x07 fake: total 10/10\\nline')"
    )
    nb = f.write(
        f.fixture_notebook({"normalize_rows": src}), tmp_path / "99_fixture-\x1b[31mevil.ipynb"
    )
    out = run_cli(str(nb), tmp=tmp_path)
    assert out.returncode == 0
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
    assert "raised an exception: ValueError" in out.stdout  # a visible test shows the class


def test_only_grades_the_chosen_exercises():
    """``grade_notebook(only=[...])`` (used by the mutation tests) grades just those exercises."""
    from nnlite.grading.runner import grade_notebook

    full = grade_notebook(SOLUTION, lesson="99_fixture", graders_dir=GRADERS)
    first = full["exercises"][0]
    rep = grade_notebook(SOLUTION, lesson="99_fixture", graders_dir=GRADERS, only=[first["name"]])
    assert [e["name"] for e in rep["exercises"]] == [first["name"]]
    assert [t["name"] for t in rep["exercises"][0]["tests"]] == [t["name"] for t in first["tests"]]
    assert rep["score"] == rep["max_score"] == first["max_score"] < full["max_score"]


def test_grade_one_exercise_and_an_unknown_one(tmp_path):
    out = run_cli(str(SOLUTION), "--exercise", "trapezoid", "--json", str(tmp_path / "r.json"),
                  tmp=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    rep = json.loads((tmp_path / "r.json").read_text())
    assert [e["name"] for e in rep["exercises"]] == ["trapezoid"] and rep["score"] == 3
    out = run_cli(str(SOLUTION), "--exercise", "nope", "--json", str(tmp_path / "r.json"),
                  tmp=tmp_path)  # fmt: skip
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["error"].startswith("no exercise 'nope' in lesson 99_fixture; its exercises: ")
    assert rep["grader_faults"] == [] and "grader fault" not in out.stdout + out.stderr
