"""Bundles for instructors: a folder that grades, and a Gradescope autograder zip.

``python -m nnlite course graders OUT/`` writes everything grading needs and nothing a student
needs to see: the ``nnlite`` package, the hidden graders ``tests/graders/`` and the solution
notebooks they compare against (``solutions/``; graders find them beside themselves). With it,
``python -m nnlite grade NB`` works from inside OUT (or with ``PYTHONPATH=OUT``) on any machine
with the course's requirements. Keep OUT away from students: it holds the solutions.

``python -m nnlite course gradescope NN OUT.zip`` writes an autograder for one lesson in
Gradescope's documented layout: ``setup.sh`` and ``run_autograder`` at the root of the zip, the
grading tree under ``course/``, and ``config.json`` (the lesson and the visibility of hidden
tests). ``setup.sh`` makes a virtual environment with the requirements (from ``wheels/`` in the
zip when built with ``--wheels``, so the image build needs no network; otherwise from PyPI) and
runs the course straight from the zip: nothing is cloned or downloaded from the course's
repository. ``run_autograder`` grades the notebook in ``/autograder/submission`` and always
writes ``/autograder/results/results.json`` (:mod:`nnlite.grading.gradescope`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from nnlite.course.build import SOLUTIONS, notebook_files

GRADERS = Path("tests") / "graders"
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".*", "*.egg-info")
#: What grading imports: the course's runtime requirements without the notebook front end (a
#: student notebook's top-level imports run during grading, and the lessons import matplotlib).
GRADING_REQUIREMENTS = "requirements-grading.txt"
NOT_FOR_GRADING = ("jupyterlab", "notebook", "nbclient", "ipykernel")

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PY=""
for candidate in python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null; then PY="$candidate"; break; fi
done
if [ -z "$PY" ]; then  # Ubuntu 22.04 images have 3.10: the course needs 3.11 or newer
    apt-get install -y -q python3.11 python3.11-venv
    PY=python3.11
fi
"$PY" -m venv "$ROOT/venv"
if [ -d "$SOURCE/wheels" ]; then
    "$ROOT/venv/bin/pip" install -q --no-index --find-links "$SOURCE/wheels" \\
        -r "$SOURCE/course/requirements-grading.txt"
else
    "$ROOT/venv/bin/pip" install -q -r "$SOURCE/course/requirements-grading.txt"
fi
"$ROOT/venv/bin/python" -c "import sys; sys.path.insert(0, '$SOURCE/course'); import nnlite"
echo "nnlite autograder ready: $("$ROOT/venv/bin/python" --version)"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. It always writes results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PY="${NNLITE_PYTHON:-$ROOT/venv/bin/python}"
cd "$SOURCE/course" || exit 1
PYTHONPATH="$SOURCE/course" NNLITE_GRADERS="$SOURCE/course/tests/graders" \\
    exec "$PY" -m nnlite.grading.gradescope --root "$ROOT" --config "$SOURCE/config.json"
"""


def _grader_files(root: Path, lessons: list[str]) -> list[Path]:
    folder = root / GRADERS
    files = [folder / "conftest.py"]
    files += [folder / f"test_{lesson}.py" for lesson in lessons]
    return files


def course_lessons(root: Path) -> list[str]:
    """The lessons of the course under ``root`` (``NN_topic``), from ``solutions/``."""
    return [p.stem for p in notebook_files(root / SOLUTIONS)]


def resolve_lesson(root: Path, given: str) -> str:
    """``03``, ``03_connection_strength`` or a path to it, as the lesson's name; ValueError if
    it names no lesson or several."""
    stem = Path(given).name.removesuffix(".ipynb")
    known = course_lessons(root)
    matches = [n for n in known if n == stem or n.startswith(stem + "_")]
    if len(matches) != 1:
        raise ValueError(f"{given!r} names no single lesson; lessons: {', '.join(known)}")
    return matches[0]


def write_grading_tree(root: Path, dest: Path, lessons: list[str] | None = None) -> list[str]:
    """Copy what grading ``lessons`` (default: all) needs from the course ``root`` into ``dest``;
    returns the lessons. Raises FileNotFoundError naming a missing grader or solution."""
    root = Path(root)
    lessons = course_lessons(root) if lessons is None else lessons
    needed = _grader_files(root, lessons) + [root / SOLUTIONS / f"{n}.ipynb" for n in lessons]
    needed += [root / "requirements.txt", root / "pyproject.toml"]
    missing = [str(p.relative_to(root)) for p in needed if not p.is_file()]
    if missing or not (root / "nnlite").is_dir():
        raise FileNotFoundError(
            "cannot bundle the graders: missing " + ", ".join(missing or ["nnlite/"])
        )
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(root / "nnlite", dest / "nnlite", ignore=_IGNORE, dirs_exist_ok=True)
    for path in needed:
        target = dest / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (dest / "tests" / "__init__.py").unlink(missing_ok=True)
    lines = (root / "requirements.txt").read_text(encoding="utf-8").splitlines()
    keep = [ln for ln in lines if re.split(r"[<>=!~ ;\[]", ln.strip(), maxsplit=1)[0].lower()
            not in NOT_FOR_GRADING]  # fmt: skip
    (dest / GRADING_REQUIREMENTS).write_text("\n".join(keep) + "\n", encoding="utf-8")
    return lessons


def graders_command(root: Path, out: Path, echo: Callable[[str], object] = print) -> int:
    """``course graders OUT``: the instructor's grading folder."""
    root, out = Path(root), Path(out)
    if out.exists() and any(out.iterdir()):
        echo(f"graders: refused: {out} is not empty")
        return 1
    try:
        lessons = write_grading_tree(root, out)
    except FileNotFoundError as exc:
        echo(f"graders: {exc} (run it from the course repository, not from a handout)")
        return 2
    (out / "README.md").write_text(
        "# Graders (instructors only: this folder holds the solutions)\n\n"
        "Grade a notebook, or a folder of notebooks, from inside this folder:\n\n"
        "```bash\npython -m nnlite grade path/to/01_autograd.ipynb\n"
        "python -m nnlite grade submissions/ -j 2 --csv grades.csv --out reports/\n```\n\n"
        "It needs the course's requirements (`pip install -r requirements.txt`).\n",
        encoding="utf-8",
    )
    echo(f"graders: wrote {out} ({len(lessons)} lessons: graders, solutions and nnlite)")
    return 0


def _download_wheels(requirements: Path, dest: Path, echo: Callable[[str], object]) -> None:
    # Wheels for Gradescope's image (Linux x86_64, CPython 3.11 installed by setup.sh).
    cmd = [sys.executable, "-m", "pip", "download", "-q", "-r", str(requirements), "-d",
           str(dest), "--only-binary=:all:", "--platform", "manylinux2014_x86_64",
           "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11"]  # fmt: skip
    echo("gradescope: downloading wheels for Linux x86_64, Python 3.11 ...")
    subprocess.run(cmd, check=True)


def gradescope_command(
    root: Path,
    lesson: str,
    out_zip: Path,
    hidden_visibility: str = "after_published",
    wheels: bool = False,
    echo: Callable[[str], object] = print,
) -> int:
    """``course gradescope NN OUT.zip``: a Gradescope autograder zip for one lesson."""
    root, out_zip = Path(root), Path(out_zip)
    if hidden_visibility not in VISIBILITIES:
        echo(f"gradescope: visibility must be one of {', '.join(VISIBILITIES)}")
        return 2
    try:
        name = resolve_lesson(root, lesson)
    except ValueError as exc:
        echo(f"gradescope: {exc}")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        try:
            write_grading_tree(root, stage / "course", [name])
        except FileNotFoundError as exc:
            echo(f"gradescope: {exc}")
            return 2
        config = {"lesson": name, "hidden_visibility": hidden_visibility}
        (stage / "config.json").write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
        (stage / "setup.sh").write_text(SETUP_SH, encoding="utf-8")
        (stage / "run_autograder").write_text(RUN_AUTOGRADER, encoding="utf-8")
        if wheels:
            _download_wheels(stage / "course" / GRADING_REQUIREMENTS, stage / "wheels", echo)
        out_zip.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED) as z:
            for path in sorted(p for p in stage.rglob("*") if p.is_file()):
                arc = path.relative_to(stage).as_posix()
                info = zipfile.ZipInfo(arc, date_time=(2026, 1, 1, 0, 0, 0))
                executable = arc in ("setup.sh", "run_autograder")
                info.external_attr = (0o755 if executable else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, path.read_bytes())
    echo(f"gradescope: wrote {out_zip} (lesson {name}; hidden tests {hidden_visibility})")
    return 0
