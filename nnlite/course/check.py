"""``python -m nnlite course check``: everything that must hold before lessons are committed.

It reports, each with the notebook path, the cell index (counted from 0) and its grade_id:

1. **Readable notebooks**: UTF-8 without BOM, JSON, nbformat 4, valid against nbformat's schema,
   unique cell ids.
2. **nbgrader metadata** (schema version 3) as :mod:`nnlite.course.metadata` describes, and
   **markers** as :mod:`nnlite.course.markers` describes (nested, unclosed or unmatched markers;
   regions outside solution/grade cells; code solution cells without a region; marker lines
   holding other text).
3. **Names**: ``solutions/NN_snake_case.ipynb``, numbered from 01 without gaps or repeats; every
   lesson has its solution and vice versa.
4. **Structure** of each solution notebook:

   * *title*: the first cell is markdown and its first non-blank line is a level-1 heading
     (``# Title``);
   * *learning goals*: some markdown cell before the first exercise cell (nbgrader ``solution``
     or ``grade`` cell) has a heading line (``#`` to ``######``) containing "Learning goals"
     (any case) followed, in the same cell, by at least one list item (``-``, ``*``, ``+`` or
     ``1.``).

5. **Outputs**: a solution notebook was executed and saved: some code cell has outputs, every
   non-empty code cell has an execution count, and no stored output is an error. A lesson has no
   outputs and no execution counts.
6. **Sync**: ``lessons/NN.ipynb`` is byte-identical to what ``build`` writes.
7. **Leaks**: no significant line of a solution region, a hidden-tests region or a whole
   markdown answer cell, of any lesson, appears in a lesson actually on disk (see
   :func:`significant` and :func:`occurs`).

Leak rule. A region line is *significant* when it holds at least 3 distinct tokens, where a
token is a name or a number (words inside strings and comments count as names) other than a
Python keyword (``if``, ``for``, ``in``, ``return``, ``None``, ``True``, ...). So ``return out``,
``x = 0``, ``self.lr = lr``, ``raise ValueError(``, ``loss.backward()``, ``if grad is None:``
and lone brackets are not leak candidates, while ``out = x @ W.T + b``,
``grad = g * (x > 0)``, ``n = len(x)`` and ``# divide by both norms`` are.

A significant line *leaks* when it occurs in any line of any cell of the lesson (code, markdown or
raw, and any stored output text) as a substring that is not glued to further identifier
characters (so ``total = x.sum()`` does not match ``subtotal = x.sum()``). If a flagged line is
genuinely not part of the answer, reword one of the two occurrences.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nbformat import NotebookNode

from nnlite.course.build import (
    LESSONS,
    SOLUTIONS,
    ExerciseRegion,
    LessonBuild,
    build_all,
    notebook_files,
)
from nnlite.course.metadata import notebook_problems as metadata_problems
from nnlite.course.notebooks import grade_id, is_grade, is_solution, output_text, read_notebook
from nnlite.course.problems import CourseError, Problem, sort_problems

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?")
_KEYWORDS = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<text>.*)$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
#: A line needs this many distinct non-keyword tokens to count as a leak candidate.
MIN_TOKENS = 3


def tokens(line: str) -> set[str]:
    """The distinct names and numbers of a line, Python keywords excluded."""
    return {t for t in _TOKEN.findall(line) if t not in _KEYWORDS}


def significant(line: str) -> bool:
    """True when a solution-region line is specific enough to count as a leak (module doc)."""
    return len(tokens(line)) >= MIN_TOKENS


def _ident(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def occurs(needle: str, haystack: str) -> bool:
    """True when ``needle`` occurs in ``haystack`` not glued to more identifier characters."""
    start = 0
    while (at := haystack.find(needle, start)) != -1:
        end = at + len(needle)
        glued_before = at > 0 and _ident(needle[0]) and _ident(haystack[at - 1])
        glued_after = end < len(haystack) and _ident(needle[-1]) and _ident(haystack[end])
        if not glued_before and not glued_after:
            return True
        start = at + 1
    return False


def secret_lines(regions: Iterable[ExerciseRegion]) -> list[tuple[str, ExerciseRegion, int]]:
    """``(stripped line, region, 1-based line in its cell)`` for each significant region line.

    A line repeated in several regions is listed once (its first occurrence).
    """
    seen: set[str] = set()
    found: list[tuple[str, ExerciseRegion, int]] = []
    for region in regions:
        for offset, line in enumerate(region.region.lines, start=1):
            text = line.strip()
            if significant(text) and text not in seen:
                seen.add(text)
                found.append((text, region, region.region.begin + offset))
    return found


def notebook_lines(nb: NotebookNode) -> Iterable[tuple[int, str]]:
    """``(cell index, line)`` for every source line and stored output line of a notebook."""
    for index, cell in enumerate(nb.cells):
        for line in cell.get("source", "").split("\n"):
            yield index, line
        for output in cell.get("outputs", []) or []:
            for line in output_text(output).split("\n"):
                yield index, line


def leak_problems(
    regions: Iterable[ExerciseRegion], lesson: NotebookNode, display: str
) -> list[Problem]:
    """Significant lines of the given regions (of any lesson) that appear in ``lesson``."""
    secrets = secret_lines(regions)
    if not secrets:
        return []
    problems: list[Problem] = []
    reported: set[tuple[int, str]] = set()
    for index, line in notebook_lines(lesson):
        for text, origin, number in secrets:
            if (index, text) in reported or not occurs(text, line):
                continue
            reported.add((index, text))
            kind = "solution" if origin.region.kind == "solution" else "hidden-tests"
            source = f"{origin.notebook} cell {origin.cell}"
            if origin.grade_id:
                source += f" (grade_id {origin.grade_id!r})"
            problems.append(
                Problem(
                    display,
                    f"leaks line {text!r} of a {kind} region ({source}, line {number})",
                    cell=index,
                    grade_id=grade_id(lesson.cells[index]),
                )
            )
    return problems


def structure_problems(nb: NotebookNode, display: str) -> list[Problem]:
    """Title and learning-goals rules (module doc)."""
    problems: list[Problem] = []
    cells = nb.cells
    first = cells[0] if cells else None
    title_ok = False
    if first is not None and first.cell_type == "markdown":
        lines = [ln for ln in first.source.split("\n") if ln.strip()]
        title_ok = bool(lines) and re.match(r"^# \S", lines[0]) is not None
    if not title_ok:
        problems.append(
            Problem(
                display,
                "has no title: the first cell must be markdown starting with '# Title'",
                cell=0 if cells else None,
            )
        )
    limit = next((i for i, c in enumerate(cells) if is_solution(c) or is_grade(c)), len(cells))
    if not any(_has_goals(c) for c in cells[:limit]):
        where = "before the first exercise cell" if limit < len(cells) else "in the notebook"
        problems.append(
            Problem(
                display,
                "has no learning-goals cell: add a markdown cell with a heading containing "
                f"'Learning goals' followed by a list, {where}",
            )
        )
    return problems


def _has_goals(cell: NotebookNode) -> bool:
    if cell.cell_type != "markdown":
        return False
    lines = cell.source.split("\n")
    for i, line in enumerate(lines):
        heading = _HEADING.match(line)
        if heading and "learning goals" in heading.group("text").lower():
            return any(_LIST_ITEM.match(rest) for rest in lines[i + 1 :])
    return False


def solution_output_problems(nb: NotebookNode, display: str) -> list[Problem]:
    """A solution must have been executed and saved, without stored errors."""
    problems: list[Problem] = []
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    if code and not any(c.get("outputs") for _, c in code):
        problems.append(
            Problem(
                display,
                "has no outputs: execute it top to bottom and save it "
                f"(python -m nnlite course execute {display})",
            )
        )
        return problems
    for i, cell in code:
        if cell.source.strip() and cell.get("execution_count") is None:
            problems.append(
                Problem(display, "was not executed (no execution count)", i, grade_id(cell))
            )
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(
                    Problem(
                        display,
                        f"has a stored error output ({output_text(output)[:120]})",
                        i,
                        grade_id(cell),
                    )
                )
    return problems


def lesson_output_problems(nb: NotebookNode, display: str) -> list[Problem]:
    """A lesson carries no outputs and no execution counts."""
    problems: list[Problem] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            what = "has outputs"
        elif cell.get("execution_count") is not None:
            what = "has an execution count"
        else:
            continue
        problems.append(
            Problem(
                display,
                f"{what}; lessons are generated without outputs (python -m nnlite course build)",
                i,
                grade_id(cell),
            )
        )
    return problems


def first_difference(expected: NotebookNode, actual: NotebookNode) -> str:
    """A short description of where two notebooks first differ."""
    if len(expected.cells) != len(actual.cells):
        return f"it has {len(actual.cells)} cells, the build has {len(expected.cells)}"
    for i, (a, b) in enumerate(zip(expected.cells, actual.cells, strict=True)):
        if a != b:
            gid = grade_id(a)
            label = f"cell {i}" + (f" (grade_id {gid!r})" if gid else "")
            for key in ("cell_type", "source", "metadata", "outputs", "execution_count", "id"):
                if a.get(key) != b.get(key):
                    return f"first difference: {label}, its {key}"
            return f"first difference: {label}"
    if expected.metadata != actual.metadata:
        return "first difference: the notebook metadata"
    if (expected.nbformat, expected.nbformat_minor) != (actual.nbformat, actual.nbformat_minor):
        return "first difference: the nbformat version"
    return "same content, different JSON formatting"


@dataclass
class CheckReport:
    """The outcome of a check: the problems found and the number of lessons."""

    problems: list[Problem] = field(default_factory=list)
    lessons: int = 0

    @property
    def ok(self) -> bool:
        """True when there is no problem."""
        return not self.problems


def check_lesson_file(
    build: LessonBuild, path: Path, display: str, regions: Iterable[ExerciseRegion] = ()
) -> list[Problem]:
    """Problems of the lesson file on disk for one (possibly failed) build.

    ``regions`` are the marked regions of every solution of the course (leaks across lessons
    count too); by default only this lesson's own.
    """
    regions = list(regions) or build.regions
    if not path.is_file():
        return (
            [Problem(display, "is missing: run python -m nnlite course build")]
            if build.text is not None
            else []
        )
    try:
        lesson = read_notebook(path, display)
    except CourseError as exc:
        return exc.problems
    problems = lesson_output_problems(lesson, display)
    problems += metadata_problems(lesson, display)
    problems += leak_problems(regions, lesson, display)
    if build.text is not None and path.read_bytes() != build.text.encode("utf-8"):
        assert build.lesson is not None
        problems.append(
            Problem(
                display,
                f"is out of date with {build.display} ({first_difference(build.lesson, lesson)}); "
                "run python -m nnlite course build (never edit lessons/ by hand)",
            )
        )
    return problems


def check_course(root: Path) -> CheckReport:
    """Run every check on the course under ``root``."""
    root = Path(root)
    report = CheckReport()
    if not (root / SOLUTIONS).is_dir():
        report.problems.append(Problem(SOLUTIONS, f"no {SOLUTIONS}/ folder in {root}"))
        return report
    builds, naming = build_all(root)
    report.problems.extend(naming)
    if not builds:
        report.problems.append(
            Problem(SOLUTIONS, "has no lesson notebooks (expected solutions/01_topic.ipynb, ...)")
        )
    names = {b.name for b in builds}
    regions = [r for b in builds for r in b.regions]
    for b in builds:
        report.problems.extend(b.problems)
        if b.solution is not None:
            report.problems.extend(structure_problems(b.solution, b.display))
            report.problems.extend(solution_output_problems(b.solution, b.display))
        display = f"{LESSONS}/{b.name}"
        report.problems.extend(check_lesson_file(b, root / LESSONS / b.name, display, regions))
    for extra in notebook_files(root / LESSONS):
        if extra.name not in names:
            report.problems.append(
                Problem(
                    f"{LESSONS}/{extra.name}",
                    f"has no source {SOLUTIONS}/{extra.name}; run python -m nnlite course build "
                    "to remove it (or restore the solution)",
                )
            )
    report.problems = sort_problems(report.problems)
    report.lessons = len(builds)
    return report


def check_command(root: Path, echo: Callable[[str], object] = print) -> int:
    """Print the check's findings; 0 when everything holds, 1 otherwise."""
    report = check_course(root)
    for problem in report.problems:
        echo(str(problem))
    if report.ok:
        echo(f"OK: {report.lessons} lessons")
        return 0
    files = len({p.path for p in report.problems})
    echo(f"FAILED: {len(report.problems)} problem(s) in {files} file(s)")
    return 1
