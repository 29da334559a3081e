"""The handout as a student gets it: the commands its README gives work, author tools say they
are for authors, and the GitHub Classroom workflow's script runs the checks of every lesson."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnlite.course.release import WORKFLOW, release_course

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def handout(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("handout") / "course"
    assert release_course(REPO, out, echo=lambda _: None) == 0
    return out


def run(handout: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # the handout's own nnlite, as after `pip install -e .` there
    return subprocess.run([sys.executable, "-m", "nnlite", *args], cwd=handout, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def test_readme_commands_work_in_the_handout(handout):
    readme = (handout / "README.md").read_text(encoding="utf-8")
    assert "python -m nnlite check lessons/01_autograd.ipynb" in readme
    assert "--graders" not in readme and "solution" not in readme.lower()
    done = run(handout, "check", "lessons/01_autograd.ipynb")
    assert done.returncode == 1 and "0 of 6 exercise(s) pass their checks" in done.stdout
    assert "'numerical_grad' is not implemented yet." in done.stdout
    done = run(handout, "check", "lessons/01_autograd.ipynb", "--exercise", "rel_error")
    assert "0 of 1 exercise(s)" in done.stdout, done.stdout + done.stderr
    assert run(handout, "course", "reset", "01").returncode == 0


@pytest.mark.parametrize("command", ["check", "build", "graders"])
def test_author_tools_say_they_are_for_authors(handout, command):
    args = ["course", command] + (["out"] if command == "graders" else [])
    done = run(handout, *args)
    assert done.returncode == 2
    assert "this is an author's tool" in done.stdout and "nnlite check" in done.stdout


def test_classroom_workflow_runs_the_checks_of_every_lesson(handout, tmp_path):
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((handout / WORKFLOW).read_text(encoding="utf-8"))
    steps = workflow["jobs"]["checks"]["steps"]
    script = next(s["run"] for s in steps if s.get("name") == "Run the checks of every lesson")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(sys.executable)  # the runner's `python`
    summary = tmp_path / "summary.md"
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}",
               GITHUB_STEP_SUMMARY=str(summary))  # fmt: skip
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", "-e", "-c", script], cwd=handout, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lessons = sorted(p.name for p in (handout / "lessons").glob("[0-9][0-9]_*.ipynb"))
    text = summary.read_text(encoding="utf-8")
    for name in lessons:
        assert f"## lessons/{name}" in text and f"pass their checks in {name}" in text
