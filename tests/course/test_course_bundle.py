"""Instructor bundles: a grading folder that grades on its own, and a Gradescope autograder zip
run in a tree laid out like Gradescope's (source/, submission/, results/)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from nnlite.course.bundle import graders_command, gradescope_command
from nnlite.grading.report import gradescope_problems

REPO = Path(__file__).resolve().parents[2]
LESSON = "01_autograd"
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
UNSOLVED = REPO / "lessons" / f"{LESSON}.ipynb"


def quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    assert gradescope_command(REPO, "01", out, echo=quiet) == 0
    return out


def run_autograder(zip_path: Path, tmp: Path, submission: dict[str, bytes]) -> dict:
    root = tmp / "autograder"
    for sub in ("source", "submission", "results"):
        (root / sub).mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(root / "source")
    for info in zipfile.ZipFile(zip_path).infolist():  # extractall drops the mode bits
        mode = info.external_attr >> 16
        if mode:
            os.chmod(root / "source" / info.filename, mode)
    for name, data in submission.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_bytes(data)
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), NNLITE_PYTHON=sys.executable)
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert gradescope_problems(results) == []
    return results


def test_zip_layout_follows_gradescopes_specification(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as z:
        names = z.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in z.infolist()}
        config = json.loads(z.read("config.json"))
    assert "setup.sh" in names and "run_autograder" in names  # at the root of the archive
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert config == {"lesson": LESSON, "hidden_visibility": "after_published"}
    assert f"course/tests/graders/test_{LESSON}.py" in names
    assert f"course/solutions/{LESSON}.ipynb" in names and "course/nnlite/__init__.py" in names
    assert not [n for n in names if "test_mutants" in n or "__pycache__" in n]
    grading = zipfile.ZipFile(autograder_zip).read("course/requirements-grading.txt").decode()
    assert "numpy>=" in grading and "pytest>=" in grading and "jupyterlab" not in grading
    assert not [n for n in names if n.startswith("course/solutions/") and LESSON not in n]


def test_setup_script_is_valid_bash(autograder_zip, tmp_path):
    script = tmp_path / "setup.sh"
    script.write_bytes(zipfile.ZipFile(autograder_zip).read("setup.sh"))
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def test_the_solution_gets_full_marks(autograder_zip, tmp_path):
    results = run_autograder(autograder_zip, tmp_path, {f"{LESSON}.ipynb": SOLUTION.read_bytes()})
    assert results["score"] == 22
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(22)
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}
    assert "max_score" not in results


def test_the_unsolved_lesson_gets_nothing(autograder_zip, tmp_path):
    results = run_autograder(autograder_zip, tmp_path, {"mine/x.ipynb": UNSOLVED.read_bytes()})
    assert results["score"] == 0 and results["tests"]
    assert all(t["status"] == "failed" for t in results["tests"])


def test_a_hostile_notebook_cannot_write_its_own_results(autograder_zip, tmp_path):
    nb = nbformat.read(UNSOLVED, as_version=4)
    target = tmp_path / "autograder" / "results" / "results.json"
    attack = (
        "def numerical_grad(f, x, h=1e-6):\n"
        f"    open({str(target)!r}, 'w').write('{{\"score\": 1000}}')\n"
        "    print('{\"score\": 1000}')\n"
        "    return x\n"
    )
    cell = next(c for c in nb.cells if "def numerical_grad" in c.source)
    cell.source = attack
    results = run_autograder(
        autograder_zip, tmp_path, {f"{LESSON}.ipynb": nbformat.writes(nb).encode()}
    )
    assert results["score"] <= 1, results["score"]


def test_no_notebook_and_too_many_notebooks_get_a_clear_message(autograder_zip, tmp_path):
    results = run_autograder(autograder_zip, tmp_path / "a", {"notes.txt": b"hello"})
    assert results["score"] == 0 and f"upload {LESSON}.ipynb" in results["output"]
    two = {"a.ipynb": UNSOLVED.read_bytes(), "b.ipynb": UNSOLVED.read_bytes()}
    results = run_autograder(autograder_zip, tmp_path / "b", two)
    assert "submit only" in results["output"]
    named = {"scratch.ipynb": UNSOLVED.read_bytes(), f"{LESSON}.ipynb": SOLUTION.read_bytes()}
    assert run_autograder(autograder_zip, tmp_path / "c", named)["score"] == 22


def test_results_validator_rejects_a_top_level_max_score():
    assert gradescope_problems({"score": 1, "max_score": 2, "tests": []}) == [
        "unknown top-level key 'max_score'"
    ]
    assert gradescope_problems({"tests": [{"max_score": 1}]}) == [
        "a score is needed at the top level or on every test"
    ]


def test_unknown_lesson_and_visibility_are_refused(tmp_path):
    lines: list[str] = []
    assert gradescope_command(REPO, "77", tmp_path / "z.zip", echo=lines.append) == 2
    assert "names no single lesson" in lines[0]
    assert gradescope_command(REPO, "01", tmp_path / "z.zip", "soon", echo=lines.append) == 2


def test_grading_folder_grades_on_its_own(tmp_path):
    out = tmp_path / "graders"
    assert graders_command(REPO, out, echo=quiet) == 0
    assert (out / "tests" / "graders" / f"test_{LESSON}.py").is_file()
    assert (out / "solutions" / f"{LESSON}.ipynb").is_file()
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("NNLITE_GRADERS", None)
    done = subprocess.run(
        [sys.executable, "-m", "nnlite", "grade", str(SOLUTION), "--json", str(tmp_path / "r")],
        cwd=out, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "r").read_text())
    assert report["score"] == report["max_score"] == 22 and not report["grader_faults"]
    assert graders_command(REPO, out, echo=quiet) == 1  # never into a non-empty folder
