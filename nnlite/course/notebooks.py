"""Reading notebooks with precise errors, and writing them in one stable format.

Reading never repairs anything silently: a byte-order mark, text that is not UTF-8 or not JSON,
an nbformat other than 4, a schema violation, a missing or duplicate cell id are all reported as
:class:`~nnlite.course.problems.Problem` s. (``nbformat.read`` would log some of these and
invent random cell ids for others, which makes generated files churn.)

Writing uses :func:`nbformat.writes` (one-space indent, sorted keys, sources split into lines)
plus a trailing newline, which is also what Jupyter writes; the same notebook therefore always
gives the same bytes.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.validator import iter_validate

from nnlite.course.problems import CourseError, Problem

BOM = "\ufeff"

#: Cell metadata that records how and when a cell last ran; meaningless in a generated notebook.
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")


def read_text(path: Path, display: str) -> str:
    """The file's text; rejects a UTF-8 byte-order mark and bytes that are not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CourseError([Problem(display, f"cannot be read: {exc.strerror}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = f"is not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8"
        raise CourseError([Problem(display, msg)]) from None
    if text.startswith(BOM):
        msg = "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without a BOM"
        raise CourseError([Problem(display, msg)])
    return text


def _cell_of(path: Iterator[Any] | Any) -> int | None:
    parts = list(path)
    if len(parts) >= 2 and parts[0] == "cells" and isinstance(parts[1], int):
        return parts[1]
    return None


def schema_problems(data: dict[str, Any], display: str) -> list[Problem]:
    """nbformat schema violations, missing and duplicate cell ids of a notebook's JSON data."""
    problems: list[Problem] = []
    cells = data.get("cells")
    minor = data.get("nbformat_minor")
    if isinstance(cells, list) and isinstance(minor, int) and minor >= 5:
        seen: dict[str, int] = {}
        for index, cell in enumerate(cells):
            if not isinstance(cell, dict):
                continue
            cell_id = cell.get("id")
            if not isinstance(cell_id, str):
                continue  # the schema check below reports it
            if cell_id in seen:
                msg = f"duplicate cell id {cell_id!r} (also cell {seen[cell_id]})"
                problems.append(Problem(display, msg, cell=index))
            else:
                seen[cell_id] = index
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            errors = list(iter_validate(copy.deepcopy(data)))
        except Exception as exc:
            errors = [exc]
    for error in errors:
        message = getattr(error, "message", None) or str(error).splitlines()[0]
        where = list(getattr(error, "absolute_path", []) or [])
        cell = _cell_of(where)
        inner = [str(p) for p in where[2:]] if cell is not None else [str(p) for p in where]
        at = f" (at {'/'.join(inner)})" if inner else ""
        problems.append(Problem(display, f"invalid notebook (nbformat): {message}{at}", cell))
    return problems


def parse_notebook(text: str, display: str) -> NotebookNode:
    """Parse and validate notebook JSON text; raises :class:`CourseError` with every problem."""
    if text.startswith(BOM):
        msg = "starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 without a BOM"
        raise CourseError([Problem(display, msg)])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise CourseError([Problem(display, msg)]) from None
    except RecursionError:
        raise CourseError([Problem(display, "is not valid JSON: nested too deeply")]) from None
    if not isinstance(data, dict):
        msg = f"is not a notebook: its JSON is {type(data).__name__}, not an object"
        raise CourseError([Problem(display, msg)])
    major = data.get("nbformat")
    if major != 4 or isinstance(major, bool):
        msg = f"has nbformat {major!r}; this course needs nbformat 4 (save it with Jupyter)"
        raise CourseError([Problem(display, msg)])
    problems = schema_problems(data, display)
    if problems:
        raise CourseError(problems)
    return nbformat.v4.to_notebook_json(data)


def read_notebook(path: Path, display: str) -> NotebookNode:
    """Read ``path`` (shown as ``display`` in messages) as a validated nbformat-4 notebook."""
    return parse_notebook(read_text(path, display), display)


def writes_notebook(nb: NotebookNode) -> str:
    """The stable text of a notebook: nbformat's JSON (indent 1, sorted keys) + a newline."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = nbformat.v4.writes_json(nb)
    return text if text.endswith("\n") else text + "\n"


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8 (no newline translation) via a temporary file and a rename.

    The file gets the usual permissions (0666 minus the umask), as ``open`` would give it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def clear_outputs(nb: NotebookNode) -> None:
    """Remove outputs, execution counts and run-time cell metadata, in place."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)


def nbgrader_metadata(cell: NotebookNode) -> dict[str, Any] | None:
    """The cell's ``metadata.nbgrader`` dict, or None when it has none (or it is not a dict)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else None


def grade_id(cell: NotebookNode) -> str | None:
    """The cell's nbgrader ``grade_id`` if it is a non-empty string, else None."""
    meta = nbgrader_metadata(cell)
    value = meta.get("grade_id") if meta else None
    return value if isinstance(value, str) and value else None


def is_solution(cell: NotebookNode) -> bool:
    """True for an nbgrader solution cell (``solution: true``)."""
    meta = nbgrader_metadata(cell)
    return bool(meta and meta.get("solution") is True)


def is_grade(cell: NotebookNode) -> bool:
    """True for an nbgrader grade cell (``grade: true``)."""
    meta = nbgrader_metadata(cell)
    return bool(meta and meta.get("grade") is True)


def output_text(output: NotebookNode) -> str:
    """The text an output shows: stream text, ``text/plain`` data, or an error's name: value."""
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        return "".join(text) if isinstance(text, list) else str(text)
    if kind in ("execute_result", "display_data"):
        text = output.get("data", {}).get("text/plain", "")
        return "".join(text) if isinstance(text, list) else str(text)
    if kind == "error":
        return f"{output.get('ename', '')}: {output.get('evalue', '')}"
    return ""
