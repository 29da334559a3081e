"""``course release``: what a class receives, and proof that no solution travels with it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from course_helpers import demo_solution, make_course, write_notebook

from nnlite.course.build import build_course
from nnlite.course.check import occurs, significant
from nnlite.course.markers import find_regions
from nnlite.course.release import release_course

REPO = Path(__file__).resolve().parents[2]


def release(root: Path, out: Path, force: bool = False) -> tuple[int, list[str]]:
    lines: list[str] = []
    return release_course(root, out, force=force, echo=lines.append), lines


def ready(root: Path) -> Path:
    assert build_course(root, echo=lambda _: None) == 0
    return root


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def secret_lines(root: Path) -> set[str]:
    """Every significant line of every solution / hidden-tests region in solutions/."""
    found: set[str] = set()
    for path in (root / "solutions").glob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = cell["source"]
            source = "".join(source) if isinstance(source, list) else source
            for region in find_regions(source):
                found.update(line.strip() for line in region.lines if significant(line))
    return found


def haystack_lines(path: Path) -> list[str]:
    """A file's lines; for notebooks also the decoded JSON strings (sources, outputs)."""
    text = path.read_bytes().decode("utf-8", errors="ignore")
    lines = text.split("\n")
    if path.suffix == ".ipynb":

        def strings(value):
            if isinstance(value, str):
                yield value
            elif isinstance(value, list):
                if all(isinstance(v, str) for v in value):
                    yield "".join(value)
                for v in value:
                    yield from strings(v)
            elif isinstance(value, dict):
                for v in value.values():
                    yield from strings(v)

        for s in strings(json.loads(text)):
            lines.extend(s.split("\n"))
    return lines


def assert_nothing_secret(root: Path, out: Path) -> None:
    """No file of solutions/ or tests/ and no solution-region line anywhere under ``out``.

    The one exception is the library: files under nnlite/ must be verbatim copies of the
    course's own nnlite/ (which implements the exercises by design, see DESIGN.md), so the
    release adds nothing there.
    """
    secret_files = {
        hashlib.sha256(p.read_bytes()).hexdigest(): p
        for folder in ("solutions", "tests")
        for p in (root / folder).rglob("*")
        if p.is_file() and p.read_bytes().strip()
    }
    secrets = secret_lines(root)
    assert secrets, "the course has no solution lines to look for"
    top = {p.name for p in out.iterdir()}
    assert not top & {"solutions", "tests"}
    for path in out.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(out)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest not in secret_files, f"{path} is a copy of {secret_files[digest]}"
        if rel.parts[0] == "nnlite":
            assert path.read_bytes() == (root / rel).read_bytes(), f"{rel} differs from the course"
            continue
        for line in haystack_lines(path):
            for secret in secrets:
                assert not occurs(secret, line), f"{path} contains {secret!r}"


def test_release_contents(course, tmp_path):
    out = tmp_path / "class"
    status, lines = release(ready(course), out)
    assert status == 0, lines
    assert lines == [f"release: wrote {out} (1 lessons, 8 files)"]
    assert files(out) == [
        ".github/workflows/nnlite-checks.yml",
        ".original_lessons/01_demo.ipynb",
        "README.md",
        "lessons/01_demo.ipynb",
        "nnlite/__init__.py",
        "nnlite/datafiles/DATA.md",
        "pyproject.toml",
        "requirements.txt",
    ]
    assert (out / "lessons" / "01_demo.ipynb").read_bytes() == (
        course / "lessons" / "01_demo.ipynb"
    ).read_bytes()
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "| 01 | [01_demo.ipynb](lessons/01_demo.ipynb) | Demo: gradients you can trust |" in (
        readme
    )
    for needed in ("pip install -r requirements.txt", "jupyter lab lessons/", "check(",
                   "python -m nnlite check", "nnlite/datafiles/DATA.md"):  # fmt: skip
        assert needed in readme
    assert "solution" not in readme.lower()
    assert not list(tmp_path.glob(".class.release-*")), "staging folder left behind"
    assert_nothing_secret(course, out)


def test_non_empty_out_needs_force(course, tmp_path):
    ready(course)
    out = tmp_path / "class"
    out.mkdir()
    (out / "old.txt").write_text("from last year", encoding="utf-8")
    status, lines = release(course, out)
    assert (status, lines) == (
        1,
        [f"release: refused: {out} is not empty (pass --force to replace its contents)"],
    )
    assert (out / "old.txt").exists()
    status, _ = release(course, out, force=True)
    assert status == 0
    assert not (out / "old.txt").exists()
    assert (out / "lessons" / "01_demo.ipynb").exists()


@pytest.mark.parametrize(
    ("where", "why"),
    [
        (".", "is the course root or contains it"),
        ("..", "is the course root or contains it"),
        ("solutions/out", "is inside the course's solutions/ folder"),
        ("lessons", "is inside the course's lessons/ folder"),
        ("nnlite/x", "is inside the course's nnlite/ folder"),
    ],
)
def test_unsafe_out_is_refused(course, where, why):
    out = (course / where).resolve()
    status, lines = release(ready(course), out, force=True)
    assert (status, lines) == (2, [f"release: refused: {out} {why}"])
    assert (course / "solutions" / "01_demo.ipynb").exists()


def test_out_inside_the_repo_is_fine(course):
    status, lines = release(ready(course), course / "out")
    assert status == 0, lines


def test_refused_when_check_fails(course, tmp_path):
    status, lines = release(course, tmp_path / "class")  # lessons/ was never built
    assert status == 1
    assert lines == [
        "lessons/01_demo.ipynb: is missing: run python -m nnlite course build",
        "release: refused: fix the problems above first (python -m nnlite course check)",
    ]
    assert not (tmp_path / "class").exists()


def test_refused_without_data_notice(course, tmp_path):
    (course / "nnlite" / "datafiles" / "DATA.md").unlink()
    status, lines = release(ready(course), tmp_path / "class")
    assert (status, lines[-1]) == (
        1,
        "release: refused: nnlite/datafiles/DATA.md is missing; the data notice ships with "
        "the data",
    )


def test_a_solution_line_outside_the_library_is_refused(course, tmp_path):
    (course / "LICENSE").write_text("MIT\ngrad.flat[i] = (up - down) / (2 * h)\n", "utf-8")
    out = tmp_path / "class"
    status, lines = release(ready(course), out)
    assert status == 1
    assert lines == [
        "LICENSE: line 2 contains 'grad.flat[i] = (up - down) / (2 * h)' from a solution region "
        "of solutions/01_demo.ipynb cell 3 (grade_id 'numerical_grad')",
        f"release: refused: the bundle would leak (1 problem(s)); {out} left unchanged",
    ]
    assert not out.exists()
    assert not list(tmp_path.glob(".class.release-*"))


def test_a_solution_line_in_the_library_is_noted(course, tmp_path):
    (course / "nnlite" / "gradcheck.py").write_text(
        "def numerical_grad(f, x, h=1e-6):\n    ...\n    grad.flat[i] = (up - down) / (2 * h)\n",
        encoding="utf-8",
    )
    out = tmp_path / "class"
    status, lines = release(ready(course), out)
    assert status == 0
    assert lines == [
        "note: 1 line(s) of the reference solutions also occur in 1 module(s) of nnlite/, which "
        "implements the exercises itself (lessons fall back to it); students can read them there",
        f"release: wrote {out} (1 lessons, 9 files)",
    ]
    assert_nothing_secret(course, out)


def test_a_copied_grader_is_caught(course, tmp_path):
    grader = (course / "tests" / "graders" / "test_01_demo.py").read_bytes()
    (course / "nnlite" / "graders_copy.py").write_bytes(grader)
    status, lines = release(ready(course), tmp_path / "class")
    assert status == 1
    assert lines[0] == "nnlite/graders_copy.py: is a copy of tests/graders/test_01_demo.py"


def test_hidden_tests_and_markdown_answers_do_not_travel(tmp_path):
    nb = demo_solution()
    root = ready(make_course(tmp_path / "c", {"01_demo.ipynb": nb}))
    out = tmp_path / "class"
    assert release(root, out)[0] == 0
    text = (out / "lessons" / "01_demo.ipynb").read_text(encoding="utf-8")
    assert "(v**3)" not in text and "h squared" not in text
    assert "numerical_grad: replace this line with your code" in text


def test_two_lessons(tmp_path):
    second = demo_solution()
    second.cells[0].source = "# Second | lesson"
    root = make_course(tmp_path / "c", {"01_demo.ipynb": demo_solution(),
                                        "02_more.ipynb": second})  # fmt: skip
    write_notebook(root / "solutions" / "02_more.ipynb", second)
    out = tmp_path / "class"
    status, lines = release(ready(root), out)
    assert status == 0, lines
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "| 02 | [02_more.ipynb](lessons/02_more.ipynb) | Second \\| lesson |" in readme
    assert_nothing_secret(root, out)


def test_release_of_this_repository(tmp_path):
    """The real course: the bundle holds no solution file, no grader and no solution line."""
    if not list((REPO / "solutions").glob("*.ipynb")):
        pytest.fail("solutions/ has no lessons yet: nothing to release")
    out = tmp_path / "class"
    status, lines = release(REPO, out)
    assert status == 0, "\n".join(lines)
    assert not (out / "solutions").exists() and not (out / "tests").exists()
    assert {p.name for p in (out / "lessons").iterdir()} == {
        p.name for p in (REPO / "solutions").glob("*.ipynb")
    }
    assert not list(out.rglob("__pycache__"))
    assert (out / "nnlite" / "datafiles" / "DATA.md").is_file()
    assert_nothing_secret(REPO, out)
