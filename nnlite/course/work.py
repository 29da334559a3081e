"""A student's work in a lesson notebook: recognise it, never overwrite it, reset on request.

``course build`` writes ``lessons/`` from ``solutions/``. In a student's clone the lessons hold
the student's answers, so build must not replace a lesson someone has edited. Every built lesson
carries a fingerprint of each cell's source in its notebook metadata
(``metadata.nnlite.built``: cell id -> short sha256). A lesson is *edited* when a cell's source
no longer matches its fingerprint, or cells were added or deleted. Lessons built before
fingerprints existed count as edited when an exercise cell no longer holds its stub.

``course reset LESSON`` is the deliberate way back: the lesson is rebuilt from ``solutions/`` (in
the repository) or copied from the pristine copy a handout keeps in ``.original_lessons/``; the
student's version is kept beside it as ``NN_topic.ipynb.bak`` (numbered if that exists).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from nnlite.course import markers
from nnlite.course.notebooks import grade_id, is_solution

#: Where ``course release`` keeps an untouched copy of every lesson, for ``course reset``.
ORIGINALS = ".original_lessons"


def _fingerprint(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def _key(cell: NotebookNode, index: int) -> str:
    return str(cell.get("id") or f"#{index}")


def stamp(lesson: NotebookNode) -> None:
    """Record the fingerprint of every cell's source in ``lesson.metadata.nnlite.built``."""
    built = {_key(c, i): _fingerprint(c.source) for i, c in enumerate(lesson.cells)}
    lesson.metadata.setdefault("nnlite", {})["built"] = built


def _describe(cell: NotebookNode, index: int) -> str:
    gid = grade_id(cell)
    return f"cell {index}" + (f" (exercise {gid!r})" if gid else "")


def edited_cells(lesson: NotebookNode) -> list[str]:
    """What was changed in ``lesson`` since it was built, one phrase per cell; [] if nothing."""
    built = lesson.metadata.get("nnlite", {}).get("built")
    if not isinstance(built, dict):
        return [
            _describe(c, i)
            for i, c in enumerate(lesson.cells)
            if is_solution(c) and not _holds_stub(c)
        ]
    found: list[str] = []
    seen = set()
    for i, cell in enumerate(lesson.cells):
        key = _key(cell, i)
        seen.add(key)
        if key not in built:
            found.append(f"cell {i} (added)")
        elif built[key] != _fingerprint(cell.source):
            found.append(_describe(cell, i))
    missing = len(set(built) - seen)
    if missing:
        found.append(f"{missing} deleted cell(s)")
    return found


def _holds_stub(cell: NotebookNode) -> bool:
    if cell.cell_type == "markdown":
        return markers.TEXT_STUB in cell.source
    stub = markers.CODE_STUB[1].format(grade_id=grade_id(cell) or "")
    return stub in cell.source


def read_lesson(path: Path) -> NotebookNode | None:
    """The notebook at ``path``, or None when it cannot be read as a notebook."""
    try:
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    except Exception:  # an unreadable file is somebody's file too: the caller protects it
        return None


def student_work(path: Path) -> list[str]:
    """Why ``path`` holds someone's work ([] when it is an untouched built lesson or absent)."""
    if not path.is_file():
        return []
    nb = read_lesson(path)
    if nb is None:
        return ["the file is not a readable notebook"]
    return edited_cells(nb)


def backup_path(path: Path) -> Path:
    """``NN_topic.ipynb.bak``, or ``.bak2``, ``.bak3``... when that exists."""
    candidate = path.with_name(path.name + ".bak")
    n = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.bak{n}")
        n += 1
    return candidate


def _lesson_name(root: Path, given: str, folders: tuple[str, ...]) -> str:
    """``given`` as a lesson file name: "03", "03_topic" and "03_topic.ipynb" all name it."""
    stem = given.removesuffix(".ipynb")
    known = {p.name for folder in folders for p in (root / folder).glob("*.ipynb")}
    matches = sorted(n for n in known if n == stem + ".ipynb" or n.startswith(stem + "_"))
    return matches[0] if len(matches) == 1 else stem + ".ipynb"


def reset_lesson(root: Path, lesson: str, echo: Callable[[str], object] = print) -> int:
    """Restore one lesson to its original; the student's version is kept as a ``.bak`` file."""
    from nnlite.course.build import LESSONS, SOLUTIONS, build_lesson
    from nnlite.course.notebooks import write_text_atomic

    root = Path(root)
    name = _lesson_name(root, Path(lesson).name, (LESSONS, SOLUTIONS, ORIGINALS))
    target = root / LESSONS / name
    source = root / SOLUTIONS / name
    original = root / ORIGINALS / name
    if source.is_file():
        build = build_lesson(source, f"{SOLUTIONS}/{name}")
        if build.text is None:
            for p in build.problems:
                echo(str(p))
            echo(f"reset: {SOLUTIONS}/{name} has problems; nothing changed")
            return 1
        text = build.text
    elif original.is_file():
        text = original.read_text(encoding="utf-8")
    else:
        known = sorted(p.name for p in (root / LESSONS).glob("*.ipynb"))
        echo(
            f"reset: no original of {name!r} here (looked for {SOLUTIONS}/{name} and "
            f"{ORIGINALS}/{name}); lessons: {', '.join(known) or 'none'}"
        )
        return 2
    if target.is_file():
        if target.read_text(encoding="utf-8") == text:
            echo(f"reset: {LESSONS}/{name} is already the original; nothing changed")
            return 0
        kept = backup_path(target)
        shutil.copy2(target, kept)
        echo(f"kept your version as {LESSONS}/{kept.name}")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(target, text)
    echo(f"reset: {LESSONS}/{name} is the original lesson again")
    return 0
