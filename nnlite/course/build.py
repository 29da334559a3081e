"""``python -m nnlite course build``: write ``lessons/`` from ``solutions/``.

Each ``solutions/NN_topic.ipynb`` becomes ``lessons/NN_topic.ipynb``:

* solution regions are replaced by the stub and hidden-test regions removed
  (:mod:`nnlite.course.markers`); markdown answer cells become ``YOUR ANSWER HERE``;
* outputs, execution counts and run-time cell metadata (``execution``, ``ExecuteTime``,
  ``collapsed``, ``scrolled``) are cleared;
* everything else is kept as is: cell ids, nbgrader metadata (so the lessons drop into nbgrader
  unchanged), tags, attachments, notebook metadata;
* the file is written in the stable format of :func:`~nnlite.course.notebooks.writes_notebook`,
  and only when its bytes change, so building twice changes nothing.

Lessons whose solution no longer exists are removed. Nothing is written while any source has a
problem (broken markers, invalid nbgrader metadata, a bad file name, unreadable JSON).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from nnlite.course import markers, work
from nnlite.course.metadata import notebook_problems as metadata_problems
from nnlite.course.notebooks import (
    clear_outputs,
    grade_id,
    is_grade,
    is_solution,
    read_notebook,
    write_text_atomic,
    writes_notebook,
)
from nnlite.course.problems import CourseError, Problem, sort_problems

SOLUTIONS = "solutions"
LESSONS = "lessons"
#: ``NN_snake_case.ipynb``: two digits, an underscore, lowercase words joined by underscores.
NAME_PATTERN = re.compile(r"^(?P<number>\d{2})_(?P<topic>[a-z0-9]+(?:_[a-z0-9]+)*)\.ipynb$")


@dataclass
class ExerciseRegion:
    """A solution or hidden-tests region of a solution notebook, with where it sits."""

    notebook: str
    cell: int
    grade_id: str | None
    region: markers.Region


@dataclass
class LessonBuild:
    """What building one solution notebook produced (``text`` is None when it failed)."""

    name: str
    display: str
    solution: NotebookNode | None = None
    lesson: NotebookNode | None = None
    text: str | None = None
    regions: list[ExerciseRegion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def notebook_files(folder: Path) -> list[Path]:
    """The ``*.ipynb`` files directly in ``folder`` (hidden files skipped), sorted by name."""
    if not folder.is_dir():
        return []
    return sorted(
        (p for p in folder.iterdir() if p.suffix == ".ipynb" and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def naming_problems(names: list[str], folder: str = SOLUTIONS) -> list[Problem]:
    """File names must be ``NN_snake_case.ipynb``, numbered 01, 02, ... without gaps or repeats."""
    problems: list[Problem] = []
    numbers: dict[int, list[str]] = {}
    for name in names:
        match = NAME_PATTERN.match(name)
        if match is None:
            problems.append(
                Problem(
                    f"{folder}/{name}",
                    "file name must be NN_snake_case.ipynb: two digits, '_', then lowercase "
                    "words joined by '_' (for example 01_autograd.ipynb)",
                )
            )
            continue
        numbers.setdefault(int(match.group("number")), []).append(name)
    for number, same in sorted(numbers.items()):
        if len(same) > 1:
            listed = " and ".join(f"{folder}/{n}" for n in same)
            problems.append(Problem(folder, f"lesson number {number:02d} is used twice: {listed}"))
    if numbers:
        expected = set(range(1, max(numbers) + 1))
        missing = sorted(expected - set(numbers))
        if 0 in numbers:
            problems.append(Problem(folder, "lesson numbers start at 01, not 00"))
        if missing:
            gaps = ", ".join(f"{n:02d}" for n in missing)
            problems.append(
                Problem(folder, f"lesson numbers must run 01, 02, ... without gaps: {gaps} missing")
            )
    return problems


def make_lesson(
    nb: NotebookNode, display: str
) -> tuple[NotebookNode, list[ExerciseRegion], list[Problem]]:
    """The lesson generated from solution notebook ``nb``, its marked regions, and problems."""
    lesson = copy.deepcopy(nb)
    clear_outputs(lesson)
    regions: list[ExerciseRegion] = []
    problems: list[Problem] = []
    for index, cell in enumerate(lesson.cells):
        gid = grade_id(cell)

        def problem(message: str, index: int = index, gid: str | None = gid) -> None:
            problems.append(Problem(display, message, cell=index, grade_id=gid))

        for number, line in markers.untidy_marker_lines(cell.source):
            problem(
                f"line {number}: a marker line must hold only the marker, not {line.strip()!r} "
                "(the whole line is dropped from the lesson)"
            )
        try:
            stripped = markers.strip_source(cell.source, cell.cell_type, gid)
        except markers.MarkerError as exc:
            problem(exc.message)
            continue
        regions.extend(ExerciseRegion(display, index, gid, r) for r in stripped.regions)
        if stripped.solution_regions and not is_solution(cell):
            problem(
                "has a ### BEGIN SOLUTION region but is not an nbgrader solution cell; "
                "give it metadata nbgrader {solution: true, grade_id: ...}"
            )
        if stripped.hidden_regions and not is_grade(cell):
            problem(
                "has a ### BEGIN HIDDEN TESTS region but is not an nbgrader grade cell; "
                "give it metadata nbgrader {grade: true, points: ..., grade_id: ...}"
            )
        if is_solution(cell) and not stripped.solution_regions:
            if cell.cell_type == "code":
                problem(
                    "is a solution cell without a ### BEGIN SOLUTION / ### END SOLUTION region; "
                    "mark the code students must write"
                )
            else:
                # nbgrader replaces a whole answer cell; its text is the reference answer.
                lines = cell.source.split("\n")
                whole = markers.Region("solution", 0, len(lines) + 1, lines)
                regions.append(ExerciseRegion(display, index, gid, whole))
                cell.source = markers.TEXT_STUB
                continue
        cell.source = stripped.source
    return lesson, regions, problems


def build_lesson(path: Path, display: str) -> LessonBuild:
    """Read, validate and convert one solution notebook (problems are collected, not raised)."""
    result = LessonBuild(name=path.name, display=display)
    try:
        result.solution = read_notebook(path, display)
    except CourseError as exc:
        result.problems.extend(exc.problems)
        return result
    result.problems.extend(metadata_problems(result.solution, display))
    lesson, regions, problems = make_lesson(result.solution, display)
    work.stamp(lesson)
    result.regions = regions
    result.problems.extend(problems)
    if not result.problems:
        result.lesson = lesson
        result.text = writes_notebook(lesson)
    return result


def build_all(root: Path) -> tuple[list[LessonBuild], list[Problem]]:
    """Build every solution notebook in memory; returns the builds and the naming problems."""
    files = notebook_files(root / SOLUTIONS)
    builds = [build_lesson(p, f"{SOLUTIONS}/{p.name}") for p in files]
    return builds, naming_problems([p.name for p in files])


def _kept(path: Path, force: bool, echo: Callable[[str], object]) -> bool:
    """True when ``path`` holds someone's work and ``force`` is off (then it is left alone)."""
    edited = work.student_work(path)
    if not edited or force:
        return False
    shown = ", ".join(edited[:4]) + (f" and {len(edited) - 4} more" if len(edited) > 4 else "")
    echo(
        f"kept {LESSONS}/{path.name}: it was edited since it was built ({shown}); "
        f"'python -m nnlite course reset {path.stem}' restores the original and keeps your "
        "version as a .bak file, or pass --force to overwrite"
    )
    return True


def build_course(root: Path, echo: Callable[[str], object] = print, force: bool = False) -> int:
    """Write ``lessons/`` from ``solutions/`` under ``root``; returns an exit status.

    A lesson somebody has edited (see :mod:`nnlite.course.work`) is never overwritten or removed
    unless ``force``; it is named, and the status is 1.
    """
    root = Path(root)
    if not (root / SOLUTIONS).is_dir():
        echo(f"build: no {SOLUTIONS}/ folder in {root}; run it from the course root or pass --root")
        return 2
    builds, problems = build_all(root)
    for b in builds:
        problems.extend(b.problems)
    if problems:
        for p in sort_problems(problems):
            echo(str(p))
        echo(f"build: nothing written; fix the {len(problems)} problem(s) above")
        return 1
    lessons = root / LESSONS
    lessons.mkdir(exist_ok=True)
    written = unchanged = removed = kept = 0
    for b in builds:
        assert b.text is not None
        target = lessons / b.name
        if target.is_file() and target.read_bytes() == b.text.encode("utf-8"):
            unchanged += 1
            continue
        if _kept(target, force, echo):
            kept += 1
            continue
        write_text_atomic(target, b.text)
        written += 1
        echo(f"wrote {LESSONS}/{b.name}")
    names = {b.name for b in builds}
    for stale in notebook_files(lessons):
        if stale.name not in names:
            if _kept(stale, force, echo):
                kept += 1
                continue
            stale.unlink()
            removed += 1
            echo(
                f"removed {LESSONS}/{stale.name} (its source {SOLUTIONS}/{stale.name} "
                "no longer exists)"
            )
    echo(
        f"build: {len(builds)} lessons ({written} written, {unchanged} unchanged, "
        f"{removed} removed" + (f", {kept} kept because they hold someone's work)" if kept else ")")
    )
    return 1 if kept else 0
