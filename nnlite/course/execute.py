"""Executing notebooks in a fresh Jupyter kernel, the same way for authors and for CI.

:func:`execute_notebook` runs a notebook top to bottom with nbclient in a new ``python3``
(ipykernel) kernel whose working directory is the notebook's folder and whose environment is
:func:`kernel_env`: the repository on ``PYTHONPATH`` (so the kernel imports this checkout's
``nnlite``), one BLAS/OpenMP thread, matplotlib's inline backend and ``PYTHONHASHSEED=0``, so
that numbers do not depend on the machine's core count or on hash randomisation.

``python -m nnlite course execute solutions/NN_topic.ipynb`` executes a solution this way and
saves its outputs in the stable format, which is what the determinism test compares against.

Determinism rule (:func:`comparable_text`): the outputs compared between two executions are, per
code cell, the ``stdout`` stream text and the ``text/plain`` of results and displays, joined in
order (streams arrive in arbitrary chunks) and compared line by line, where

* ``stderr`` is ignored (warnings, progress bars), and so are blank lines and trailing spaces;
* a line is dropped if it contains a carriage return (a redrawn progress bar) or looks like a
  timing or progress report: a number followed by a time unit (``3.2 s``, ``15ms``, ``2 min``),
  ``it/s``, ``s/it``, a tqdm bar (``42%|``), or the words elapsed/took/wall time/CPU times/
  runtime/duration;
* memory addresses (``0x7f3a...``) are masked.

Images and HTML are not compared.

Lesson-error rule (:func:`unexpected_errors`): an executed lesson may only contain error outputs
of type ``NotImplementedError`` whose message is a stub's (``<grade_id>: replace this line with
your code``, for a grade_id that has a stub in the lesson); any other error names its cell.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from nbformat import NotebookNode

from nnlite.course.markers import STUB_MESSAGE
from nnlite.course.notebooks import (
    VOLATILE_CELL_METADATA,
    grade_id,
    read_notebook,
    write_text_atomic,
    writes_notebook,
)
from nnlite.course.problems import CourseError

KERNEL_NAME = "python3"
_VOLATILE_LINE = re.compile(
    r"(?i)(\b(elapsed|took|wall time|cpu times?|runtime|duration)\b"
    r"|\d(\.\d+)?\s*(ms|µs|us|ns|s|sec|secs|seconds|min|mins|minutes)\b"
    r"|it/s|s/it|\d%\|)"
)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_STUB_CALL = re.compile(
    r'raise NotImplementedError\("([A-Za-z0-9_\-]*): replace this line with your code"\)'
)


def repo_root() -> Path:
    """The folder that holds the ``nnlite`` package being run."""
    return Path(__file__).resolve().parents[2]


def kernel_env(root: Path | None = None) -> dict[str, str]:
    """The environment of an executing kernel (module doc)."""
    env = dict(os.environ)
    root = Path(root) if root is not None else repo_root()
    paths = [str(root)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    # The inline backend stores figures as PNG outputs, as in Jupyter; Agg (which the test
    # suite sets for itself) would drop every figure from the executed notebook.
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env["PYTHONHASHSEED"] = "0"
    return env


def execute_notebook(
    nb: NotebookNode,
    cwd: Path,
    *,
    allow_errors: bool = False,
    timeout: float = 600,
    root: Path | None = None,
) -> float:
    """Execute ``nb`` in place in a fresh kernel; returns the elapsed wall time in seconds.

    ``timeout`` bounds each cell. Without ``allow_errors`` the first failing cell raises
    ``nbclient.exceptions.CellExecutionError`` (its message holds the traceback).
    """
    from nbclient import NotebookClient

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        allow_errors=allow_errors,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    start = time.perf_counter()
    client.execute(env=kernel_env(root))
    return time.perf_counter() - start


def comparable_text(nb: NotebookNode) -> list[tuple[int, list[str]]]:
    """Per code cell, the output lines the determinism rule compares (module doc)."""
    result: list[tuple[int, list[str]]] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        parts: list[str] = []
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                text = output.get("text", "")
            elif kind in ("execute_result", "display_data"):
                text = output.get("data", {}).get("text/plain", "")
                text = ("".join(text) if isinstance(text, list) else str(text)) + "\n"
            else:
                continue
            parts.append("".join(text) if isinstance(text, list) else str(text))
        # Streams may arrive in arbitrary chunks: join them before splitting into lines.
        lines = [
            _ADDRESS.sub("0x…", line.rstrip())
            for line in "".join(parts).split("\n")
            if "\r" not in line and not _VOLATILE_LINE.search(line)
        ]
        lines = [line for line in lines if line]
        result.append((index, lines))
    return result


def execute_command(
    paths: list[Path], timeout: float = 600, echo: Callable[[str], object] = print
) -> int:
    """Execute solution notebooks and save their outputs (``course execute``)."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    status = 0
    for path in paths:
        display = str(path)
        try:
            nb = read_notebook(path, display)
        except CourseError as exc:
            for p in exc.problems:
                echo(str(p))
            status = 1
            continue
        try:
            elapsed = execute_notebook(nb, path.resolve().parent, timeout=timeout)
        except (CellExecutionError, CellTimeoutError) as exc:
            echo(f"{display}: execution failed, nothing saved:\n{exc}")
            status = 1
            continue
        for cell in nb.cells:
            for key in VOLATILE_CELL_METADATA:
                cell.metadata.pop(key, None)
        write_text_atomic(path, writes_notebook(nb))
        echo(f"{display}: executed in {elapsed:.1f} s and saved")
    if status == 0 and paths:
        echo("now run: python -m nnlite course build && python -m nnlite course check")
    return status


def output_differences(stored: NotebookNode, fresh: NotebookNode) -> list[str]:
    """Cells whose comparable text differs between two executions (first differing line each)."""
    differences: list[str] = []
    before, after = dict(comparable_text(stored)), dict(comparable_text(fresh))
    for index in sorted(set(before) | set(after)):
        a, b = before.get(index, []), after.get(index, [])
        if a == b:
            continue
        at = next(
            (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
        )
        old = a[at] if at < len(a) else "<no line>"
        new = b[at] if at < len(b) else "<no line>"
        gid = grade_id(fresh.cells[index]) if index < len(fresh.cells) else None
        label = f"cell {index}" + (f" (grade_id {gid!r})" if gid else "")
        differences.append(f"{label}, output line {at + 1}: stored {old!r}, now {new!r}")
    return differences


def stub_grade_ids(nb: NotebookNode) -> set[str]:
    """The grade_ids named by the stubs in a lesson's sources."""
    found: set[str] = set()
    for cell in nb.cells:
        for match in _STUB_CALL.finditer(cell.source):
            found.add(match.group(1))
    return found


def unexpected_errors(nb: NotebookNode) -> list[str]:
    """Error outputs of an executed lesson other than its stubs' ``NotImplementedError`` s."""
    stubs = stub_grade_ids(nb)
    found: list[str] = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") != "error":
                continue
            ename, evalue = output.get("ename", ""), output.get("evalue", "")
            match = STUB_MESSAGE.match(evalue)
            if ename == "NotImplementedError" and match and match.group("grade_id") in stubs:
                continue
            gid = grade_id(cell)
            label = f"cell {index}" + (f" (grade_id {gid!r})" if gid else "")
            found.append(f"{label}: {ename}: {evalue}")
    return found
