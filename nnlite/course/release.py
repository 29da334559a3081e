"""``python -m nnlite course release OUT/``: the folder a class receives.

OUT gets exactly:

* ``lessons/`` (freshly built from ``solutions/``; the release refuses unless ``course check``
  passes, so they equal the committed ones) and the same files in ``.original_lessons/``, from
  which ``course reset`` restores a lesson;
* ``nnlite/``, the package without caches (its data notice ``nnlite/datafiles/DATA.md`` travels
  with the data and must exist);
* ``requirements.txt``, ``pyproject.toml`` (so ``pip install -e .`` works in OUT), a ``LICENSE``
  file if the course has one, and a student ``README.md`` (:data:`STUDENT_README`).

Never ``solutions/`` nor ``tests/`` (so no hidden graders). The bundle is assembled in a staging
folder next to OUT and scanned before it is moved into place; a failed scan leaves OUT untouched:

* no file may be byte-identical to a file under ``solutions/`` or ``tests/``;
* no significant line of any solution or hidden-tests region (the leak rule of
  :mod:`nnlite.course.check`) may appear in any file outside ``nnlite/``: the lessons (across
  lessons, too), the README, the requirements, pyproject.toml, the licence;
* inside ``nnlite/`` such lines are counted and reported as a note, not refused: the library
  implements the exercises itself (lessons fall back to it, see DESIGN.md), so its modules share
  lines with the reference solutions by design. ``nnlite/`` is copied verbatim from the course.

OUT must be empty or absent unless ``--force`` is given, in which case its contents are replaced.
OUT may not be the course root, one of its ancestors, or inside ``solutions/``, ``lessons/``,
``nnlite/``, ``tests/`` or ``.git/``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from nnlite.course.build import LESSONS, SOLUTIONS, LessonBuild, build_all
from nnlite.course.check import check_course, occurs, secret_lines
from nnlite.course.problems import Problem
from nnlite.course.work import ORIGINALS

PACKAGE = "nnlite"
DATA_NOTICE = "nnlite/datafiles/DATA.md"
TOP_LEVEL_FILES = ("requirements.txt", "pyproject.toml")
OPTIONAL_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md")
FORBIDDEN_DIRS = ("solutions", "tests")
_IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.pyo", ".ipynb_checkpoints", "*.egg-info", ".pytest_cache", ".*"
)

STUDENT_README = """\
# Neural networks from scratch, and what their weights mean

Welcome! This folder is your copy of the course. Each lesson is a Jupyter notebook in `lessons/`
that builds a piece of a small neural-network library (`nnlite`, plain numpy) and then uses it to
look inside trained networks: what a single weight means, what a unit "looks for", why two trained
networks can have very different weights and still compute the same thing.

## Lessons

| # | Notebook | Title |
|---|---|---|
{lesson_rows}

## Set up (once)

You need Python 3.11 or newer. In a terminal, inside this folder:

```bash
python3 -m venv .venv
.venv/bin/pip install -r requirements.txt -e .
```

On Windows, use `py -3.11 -m venv .venv` and `.venv\\Scripts\\pip` instead.

## Open the lessons

```bash
.venv/bin/jupyter lab lessons/
```

Work through the notebooks in order. Run every cell from the top (in JupyterLab: *Run > Run All
Cells*); each lesson needs only what came before it in the same notebook.

## Doing an exercise

Every exercise is a code cell containing

```python
# YOUR CODE HERE
raise NotImplementedError("...")
```

Replace those two lines with your code; keep the function name and signature the cell gives you,
because that is what is checked. Until you have solved an exercise, later cells that need it print
a notice and fall back to `nnlite`'s own version where they can, so one stuck exercise does not
block the rest of the lesson.

Right below each exercise there is a `check(...)` cell. Run it after every change: it tests your
function on small cases and says what is wrong, without giving the answer away.

## Checking your work

The `check(...)` cells work in JupyterLab. From a terminal, the same checks run on your saved
notebook (all of them, or one exercise):

```bash
.venv/bin/python -m nnlite check lessons/01_autograd.ipynb
.venv/bin/python -m nnlite check lessons/01_autograd.ipynb --exercise rel_error
```

To start a lesson over, `.venv/bin/python -m nnlite course reset 01` restores the original
notebook and keeps yours next to it as `lessons/01_autograd.ipynb.bak`.

## How your notebook is graded

Your instructor grades your notebook with hidden tests, which are stricter than the checks.
Only its *definitions* run: top-level `import` lines, `def` and `class` blocks, and simple
assignments such as `N_CLASSES = 10`. Training loops, plots and other calls are not run by the
grader. So put each exercise in its top-level function or class, keep the names and signatures
the lesson gives, and make sure the notebook still runs from top to bottom. You get back a
feedback page with the points of each exercise, what was wrong and a hint.

If this folder is a GitHub Classroom repository, every push runs the checks of every lesson
(`.github/workflows/nnlite-checks.yml`); the result is on the repository's *Actions* tab.

## Data

The lessons use a 10,000-image subset of MNIST and a photograph that ships with matplotlib.
Nothing is downloaded. Licences and provenance: `nnlite/datafiles/DATA.md` (the MNIST files are
CC BY-SA 3.0, not covered by the code's licence).
"""


def _unsafe_out(root: Path, out: Path) -> str | None:
    if out == root or out in root.parents:
        return "is the course root or contains it"
    for name in (SOLUTIONS, LESSONS, PACKAGE, "tests", ".git"):
        inside = root / name
        if out == inside or inside in out.parents:
            return f"is inside the course's {name}/ folder"
    return None


def _title(build: LessonBuild) -> str:
    if build.lesson is None or not build.lesson.cells:
        return build.name
    for line in build.lesson.cells[0].source.split("\n"):
        if line.startswith("# "):
            return line[2:].strip().replace("|", "\\|")
    return build.name


def student_readme(builds: Iterable[LessonBuild]) -> str:
    """The student README, with one table row per lesson."""
    rows = [
        f"| {b.name[:2]} | [{b.name}](lessons/{b.name}) | {_title(b)} |"
        for b in sorted(builds, key=lambda b: b.name)
    ]
    return STUDENT_README.format(lesson_rows="\n".join(rows))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _text_lines(path: Path) -> list[str] | None:
    """The lines to search in a bundle file; None for binary files."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix == ".ipynb":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return text.split("\n")
        lines: list[str] = []
        for cell in data.get("cells", []) if isinstance(data, dict) else []:
            source = cell.get("source", "")
            lines.extend(("".join(source) if isinstance(source, list) else source).split("\n"))
            for output in cell.get("outputs", []) or []:
                for value in [output.get("text", "")] + list(output.get("data", {}).values()):
                    if isinstance(value, list):
                        value = "".join(value)
                    if isinstance(value, str):
                        lines.extend(value.split("\n"))
        return lines
    return text.split("\n")


def scan_bundle(
    bundle: Path, root: Path, builds: list[LessonBuild]
) -> tuple[list[Problem], list[Problem]]:
    """Scan a release bundle: ``(problems, library notes)`` (module doc)."""
    problems: list[Problem] = []
    notes: list[Problem] = []
    for name in FORBIDDEN_DIRS:
        if (bundle / name).exists():
            problems.append(Problem(f"{name}/", "must not be part of a release"))
    forbidden: dict[str, str] = {}
    for folder in FORBIDDEN_DIRS:
        for path in _files(root / folder):
            data = path.read_bytes()
            if data.strip():
                forbidden.setdefault(hashlib.sha256(data).hexdigest(), path.relative_to(root))
    secrets = secret_lines(r for b in builds for r in b.regions)
    for path in _files(bundle):
        rel = path.relative_to(bundle).as_posix()
        copy_of = forbidden.get(hashlib.sha256(path.read_bytes()).hexdigest())
        if copy_of is not None:
            problems.append(Problem(rel, f"is a copy of {Path(copy_of).as_posix()}"))
        lines = _text_lines(path)
        if lines is None:
            continue
        found = notes if rel.startswith(PACKAGE + "/") else problems
        for number, line in enumerate(lines, start=1):
            for text, origin, _ in secrets:
                if occurs(text, line):
                    gid = f" (grade_id {origin.grade_id!r})" if origin.grade_id else ""
                    found.append(
                        Problem(
                            rel,
                            f"line {number} contains {text!r} from a {origin.region.kind} region "
                            f"of {origin.notebook} cell {origin.cell}{gid}",
                        )
                    )
    return problems, notes


#: GitHub Classroom: the checks run on every push of a student's repository. They are the
#: visible checks only: whatever a workflow runs in a student's repository, the student can read,
#: so hidden graders (and the solutions they need) never go there; instructors grade the
#: collected repositories with `python -m nnlite grade`.
WORKFLOW = ".github/workflows/nnlite-checks.yml"
CLASSROOM_WORKFLOW = """\
name: nnlite checks
on: [push, workflow_dispatch]
jobs:
  checks:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
          cache: pip
      - name: Install the course
        run: pip install -r requirements.txt -e .
      - name: Run the checks of every lesson
        run: |
          for nb in lessons/[0-9][0-9]_*.ipynb; do
            { echo "## $nb"; echo '```'; python -m nnlite check "$nb"; echo '```'; } |
              tee -a "${GITHUB_STEP_SUMMARY:-/dev/null}"
          done
"""


def _clear(folder: Path) -> None:
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def release_course(
    root: Path, out: Path, force: bool = False, echo: Callable[[str], object] = print
) -> int:
    """Write the student bundle of the course under ``root`` into ``out``; an exit status."""
    root, out = Path(root).resolve(), Path(out).resolve()
    unsafe = _unsafe_out(root, out)
    if unsafe:
        echo(f"release: refused: {out} {unsafe}")
        return 2
    if out.exists() and not out.is_dir():
        echo(f"release: refused: {out} exists and is not a folder")
        return 2
    if out.is_dir() and any(out.iterdir()) and not force:
        echo(f"release: refused: {out} is not empty (pass --force to replace its contents)")
        return 1
    report = check_course(root)
    if not report.ok:
        for problem in report.problems:
            echo(str(problem))
        echo("release: refused: fix the problems above first (python -m nnlite course check)")
        return 1
    if not (root / DATA_NOTICE).is_file():
        echo(f"release: refused: {DATA_NOTICE} is missing; the data notice ships with the data")
        return 1
    builds, _ = build_all(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.release-", dir=out.parent))
    try:
        for b in builds:
            assert b.text is not None
            (stage / LESSONS).mkdir(exist_ok=True)
            (stage / LESSONS / b.name).write_bytes(b.text.encode("utf-8"))
            (stage / ORIGINALS).mkdir(exist_ok=True)  # for `course reset`
            (stage / ORIGINALS / b.name).write_bytes(b.text.encode("utf-8"))
        shutil.copytree(root / PACKAGE, stage / PACKAGE, ignore=_IGNORE)
        for name in TOP_LEVEL_FILES:
            shutil.copyfile(root / name, stage / name)
        for name in OPTIONAL_FILES:
            if (root / name).is_file():
                shutil.copyfile(root / name, stage / name)
        (stage / "README.md").write_bytes(student_readme(builds).encode("utf-8"))
        workflow = stage / WORKFLOW
        workflow.parent.mkdir(parents=True)
        workflow.write_text(CLASSROOM_WORKFLOW, encoding="utf-8")
        problems, notes = scan_bundle(stage, root, builds)
        if problems:
            for problem in problems:
                echo(str(problem))
            echo(f"release: refused: the bundle would leak ({len(problems)} problem(s)); "
                 f"{out} left unchanged")  # fmt: skip
            return 1
        if out.is_dir():
            _clear(out)
        else:
            out.mkdir()
        for child in sorted(stage.iterdir()):
            child.rename(out / child.name)
        count = len(_files(out))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    if notes:
        files = len({n.path for n in notes})
        echo(
            f"note: {len(notes)} line(s) of the reference solutions also occur in {files} "
            f"module(s) of {PACKAGE}/, which implements the exercises itself (lessons fall back "
            "to it); students can read them there"
        )
    echo(f"release: wrote {out} ({len(builds)} lessons, {count} files)")
    return 0
