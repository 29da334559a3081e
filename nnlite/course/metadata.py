"""nbgrader cell metadata (schema version 3), validated as nbgrader's own validator does.

A cell's ``metadata.nbgrader`` must satisfy nbgrader's v3 JSON schema:

* required keys ``schema_version`` (the integer 3), ``grade``, ``solution``, ``locked``
  (booleans); optional ``grade_id`` (string matching ``^[a-zA-Z0-9_\\-]*$``), ``points``
  (number >= 0, or null), ``task`` (boolean), ``cell_type`` (``code``/``markdown``/``raw``),
  ``checksum`` (string); no other keys.

and nbgrader's consistency rules (``nbgrader.nbgraderformat.v3``, ``utils.is_locked``):

* a cell with ``grade``, ``solution`` or ``locked`` true needs a non-empty ``grade_id``, unique
  among such cells of the notebook;
* a ``grade`` cell needs ``points`` (this course requires a number, not null);
* a markdown cell that is ``grade`` must also be ``solution`` and vice versa (a manually graded
  answer), unless it is a ``task`` cell; a task cell is markdown, locked, neither grade nor
  solution;
* ``cell_type``, when present (nbgrader records it), matches the cell's actual type;
* a ``solution`` cell is never ``locked`` (students must edit it; nbgrader ignores ``locked`` on
  solution cells, so the flag would only mislead).
"""

from __future__ import annotations

import re
from typing import Any

from nbformat import NotebookNode

from nnlite.course.notebooks import grade_id as cell_grade_id
from nnlite.course.problems import Problem

SCHEMA_VERSION = 3
GRADE_ID_PATTERN = re.compile(r"^[a-zA-Z0-9_\-]*$")
REQUIRED_KEYS = ("schema_version", "grade", "solution", "locked")
ALLOWED_KEYS = frozenset(REQUIRED_KEYS + ("grade_id", "points", "task", "cell_type", "checksum"))


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def cell_problems(cell: NotebookNode) -> list[str]:
    """The nbgrader-metadata problems of one cell, as messages (empty when valid or absent)."""
    if "nbgrader" not in cell.get("metadata", {}):
        return []
    meta = cell.metadata["nbgrader"]
    if not isinstance(meta, dict):
        return [f"metadata.nbgrader must be an object, not {type(meta).__name__}"]
    problems: list[str] = []
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        problems.append("nbgrader metadata lacks " + ", ".join(repr(k) for k in missing))
    for key in sorted(set(meta) - ALLOWED_KEYS):
        problems.append(f"unknown nbgrader metadata key {key!r} (schema version 3 has no such key)")
    version = meta.get("schema_version")
    if "schema_version" in meta and (version != SCHEMA_VERSION or isinstance(version, bool)):
        problems.append(f"nbgrader schema_version is {version!r}; it must be {SCHEMA_VERSION}")
    for key in ("grade", "solution", "locked", "task"):
        if key in meta and not _is_bool(meta[key]):
            problems.append(f"nbgrader {key!r} must be true or false, not {meta[key]!r}")
    gid = meta.get("grade_id")
    if "grade_id" in meta:
        if not isinstance(gid, str):
            problems.append(f"grade_id must be a string, not {gid!r}")
        elif not GRADE_ID_PATTERN.match(gid):
            problems.append(
                f"grade_id {gid!r} is invalid: use only letters, digits, '_' and '-' "
                "(nbgrader's pattern ^[a-zA-Z0-9_\\-]*$)"
            )
    points = meta.get("points")
    if "points" in meta and points is not None and not (_is_number(points) and points >= 0):
        problems.append(f"points must be a number >= 0, not {points!r}")
    if "checksum" in meta and not isinstance(meta["checksum"], str):
        problems.append("nbgrader 'checksum' must be a string")
    if "cell_type" in meta:
        if meta["cell_type"] not in ("code", "markdown", "raw"):
            problems.append(f"nbgrader cell_type {meta['cell_type']!r} is not code/markdown/raw")
        elif meta["cell_type"] != cell.cell_type:
            problems.append(
                f"nbgrader cell_type is {meta['cell_type']!r} but the cell is "
                f"{cell.cell_type!r} (the cell's type was changed)"
            )
    grade = meta.get("grade") is True
    solution = meta.get("solution") is True
    locked = meta.get("locked") is True
    task = meta.get("task") is True
    if (grade or solution or locked) and (not isinstance(gid, str) or not gid):
        problems.append("a grade, solution or locked cell needs a non-empty grade_id")
    if grade and (points is None or "points" not in meta):
        problems.append("a grade cell needs points (a number >= 0)")
    if task:
        if cell.cell_type != "markdown":
            problems.append("a task cell must be a markdown cell")
        if grade or solution:
            problems.append("a task cell cannot be a grade or solution cell")
        if not locked:
            problems.append("a task cell must be locked")
    elif cell.cell_type == "markdown":
        if grade and not solution:
            problems.append("a markdown grade cell must also be a solution cell")
        if solution and not grade:
            problems.append(
                "a markdown solution cell must also be a grade cell (with points): "
                "nbgrader grades written answers manually"
            )
    if solution and locked:
        problems.append(
            "a solution cell cannot be locked: students must edit it (set locked to false)"
        )
    return problems


def notebook_problems(nb: NotebookNode, display: str) -> list[Problem]:
    """Every nbgrader-metadata problem of a notebook, each naming the cell and its grade_id."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        gid = cell_grade_id(cell)
        shown = gid if gid and GRADE_ID_PATTERN.match(gid) else None
        for message in cell_problems(cell):
            problems.append(Problem(display, message, cell=index, grade_id=shown))
        meta = cell.get("metadata", {}).get("nbgrader")
        if not isinstance(meta, dict) or gid is None:
            continue
        if not any(meta.get(key) is True for key in ("grade", "solution", "locked")):
            continue
        if gid in seen:
            msg = f"duplicate grade_id {gid!r} (also cell {seen[gid]}); grade_ids must be unique"
            problems.append(Problem(display, msg, cell=index, grade_id=shown))
        else:
            seen[gid] = index
    return problems
