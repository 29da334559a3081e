"""Repository-level promises: the README's commands, the lesson table, requirements, imports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from nnlite.course.check import check_course
from nnlite.course.cli import main as course_main

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
#: A lesson row of the README's table links its notebook: | 01 | [Title](lessons/01_x.ipynb) |
LESSON_ROW = re.compile(
    r"^\|\s*(?P<number>\d{2})\s*\|[^|\n]*\]\(lessons/(?P<name>\d{2}_[a-z0-9_]+\.ipynb)\)", re.M
)


def readme() -> str:
    if not README.is_file():
        pytest.fail("README.md is missing")
    return README.read_text(encoding="utf-8")


def block_after(heading: str) -> str:
    """The first fenced code block after the first heading line that contains ``heading``."""
    text = readme()
    match = re.search(rf"^#+ [^\n]*{re.escape(heading)}[^\n]*\n(.*?)^```[^\n]*\n(.*?)^```", text,
                      re.M | re.S)  # fmt: skip
    if match is None:
        pytest.fail(f"README.md has no fenced code block after a heading containing {heading!r}")
    return match.group(2)


def venv_command(heading: str) -> str:
    lines = [ln.strip() for ln in block_after(heading).splitlines()]
    commands = [ln for ln in lines if "python3 -m venv" in ln]
    assert len(commands) == 1, f"the {heading!r} block must hold one `python3 -m venv` command"
    return commands[0]


def test_ci_runs_the_readme_test_command_verbatim():
    command = venv_command("Run the tests")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert command in [ln.strip() for ln in ci.splitlines()], (
        f".ci/run must contain the README's test command verbatim:\n{command}"
    )
    assert "requirements-test.txt" in command and "pytest" in command


def test_readme_open_command_installs_and_opens_the_lessons():
    command = venv_command("Open the course")
    assert "-r requirements.txt" in command
    assert re.search(r"jupyter[ -](lab|notebook)\b.*\blessons/?", command), command


def _run_open_command(tmp_path: Path, installed: bool) -> subprocess.CompletedProcess:
    """The README's open command in an empty folder, with stand-ins for python3 and jupyter."""
    fake = tmp_path / "bin"
    fake.mkdir(parents=True)
    (fake / "python3").write_text("#!/bin/sh\necho NETWORK-INSTALL; exit 99\n")
    (fake / "python3").chmod(0o755)
    if installed:
        (tmp_path / ".venv" / "bin").mkdir(parents=True)
        (tmp_path / ".venv" / "bin" / "jupyter").write_text('#!/bin/sh\necho "jupyter $*"\n')
        (tmp_path / ".venv" / "bin" / "jupyter").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin"}
    return subprocess.run(["bash", "-c", venv_command("Open the course")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_readme_open_command_installs_only_the_first_time(tmp_path):
    first = _run_open_command(tmp_path / "a", installed=False)
    assert first.returncode == 99 and "NETWORK-INSTALL" in first.stdout  # installs first
    again = _run_open_command(tmp_path / "b", installed=True)
    assert again.returncode == 0 and again.stdout == "jupyter lab lessons/\n"  # no install


def test_readme_lesson_table_matches_solutions_and_lessons():
    rows = [(m["number"], m["name"]) for m in LESSON_ROW.finditer(readme())]
    assert rows, "README.md's lesson table links no lesson (rows like | 01 | [..](lessons/..) |)"
    for number, name in rows:
        assert name.startswith(number + "_"), f"README row {number} links {name}"
        assert (REPO / "solutions" / name).is_file(), f"README lists {name}: solutions/{name}"
        assert (REPO / "lessons" / name).is_file(), f"README lists {name}: lessons/{name}"
    listed = {name for _, name in rows}
    unlisted = sorted(p.name for p in (REPO / "solutions").glob("*.ipynb") if p.name not in listed)
    assert not unlisted, f"lessons missing from README.md's table: {unlisted}"


def test_course_check_passes():
    report = check_course(REPO)
    assert report.ok, "python -m nnlite course check fails:\n" + "\n".join(
        str(p) for p in report.problems
    )


@pytest.mark.parametrize(
    "package", ["numpy", "matplotlib", "nbformat", "pytest", "nbclient", "ipykernel", "tqdm"]
)
def test_requirements_pin_lower_bounds(package):
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    pattern = re.compile(rf"^{re.escape(package)}\s*>=\s*\d+(\.\d+)*\s*(#.*)?$", re.I)
    assert any(pattern.match(ln.strip()) for ln in lines), f"requirements.txt: {package}>=X.Y"


def test_requirements_can_open_notebooks():
    text = (REPO / "requirements.txt").read_text(encoding="utf-8").lower()
    assert re.search(r"^(jupyterlab|notebook)\s*>=", text, re.M)


def test_import_nnlite_needs_only_numpy():
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import nnlite\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(' '.join(sorted(new - set(sys.stdlib_module_names))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    third_party = set(result.stdout.split()) - {"nnlite", "numpy"}
    assert not third_party, f"`import nnlite` imports {sorted(third_party)}; only numpy allowed"


def test_course_cli_prints_usage_without_arguments(capsys):
    assert course_main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m nnlite course COMMAND")
    for command in ("build", "check", "release OUT", "execute NOTEBOOK", "--root", "--force"):
        assert command in out
    assert course_main(["--help"]) == 0


def test_module_entry_point_reaches_the_course_cli():
    result = subprocess.run(
        [sys.executable, "-m", "nnlite", "course"], cwd=REPO, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout.startswith("usage: python -m nnlite course COMMAND")


def test_unknown_course_command_is_a_usage_error(capsys):
    assert course_main(["publish"]) == 2
    assert "invalid choice: 'publish'" in capsys.readouterr().err
