"""Shared pytest configuration for the whole suite, and the shared notebook executions.

The suite runs in parallel (pytest-xdist, ``-n auto --dist loadgroup`` in pyproject.toml), so
every test must be order-independent and write only below its own ``tmp_path``.

Notebooks are executed **once per run**, whichever tests need them: the session fixture
``executed_notebook`` returns the result of executing a course notebook in a fresh kernel
(:func:`nnlite.course.execute.execute_notebook`), from a file cache shared by the xdist workers
of this run (keyed by the notebook's path, its content hash and the mode; a lock per entry, so
two workers never execute the same notebook: the second waits for the first)::

    def test_something(executed_notebook):
        run = executed_notebook("solutions/02_mlp.ipynb")   # path relative to the repository
        run.nb        # the executed notebook (a fresh copy per call: modify it freely)
        run.elapsed   # wall time of the execution, seconds
        run.error     # None, or the failing cell's error (stop-on-error mode)
        run.text(i)   # the stdout + text/plain outputs of code cell i, as one string

``executed_notebook(path, allow_errors=True)`` runs every cell even after an error (the lesson
tests use it). Which tests share a worker is decided by :func:`work_unit`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

# BLAS threads: keep numbers reproducible, and one thread per xdist worker (two cores, two
# workers; notebook kernels get one thread too).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
CELL_TIMEOUT_S = 600.0


@dataclasses.dataclass(frozen=True)
class ExecutedNotebook:
    """One execution of a course notebook (see the module doc)."""

    path: Path
    file: Path  # the cached executed notebook
    elapsed: float
    error: str | None

    @property
    def nb(self):
        """The executed notebook, read afresh."""
        import nbformat

        return nbformat.read(self.file, as_version=4)

    @functools.cached_property
    def _cells(self) -> list:
        return self.nb.cells

    def text(self, index: int) -> str:
        """The stdout stream and text/plain results of cell ``index``, concatenated."""
        parts = []
        for out in self._cells[index].get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                parts.append(out.get("text", ""))
            elif out.get("output_type") in ("execute_result", "display_data"):
                parts.append(str(out.get("data", {}).get("text/plain", "")) + "\n")
        return "".join(parts)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Slow tests first (stable order otherwise), so the long ones do not end the run alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


_NOTEBOOK_PARAM = re.compile(r"\[((?:solutions|lessons)/[0-9][0-9]_[^\]]*\.ipynb)\]$")


def work_unit(nodeid: str) -> str:
    """The xdist work unit of a test: tests of one unit run on one worker, one after another.

    * a claim module (``tests/claims/test_*.py``): its experiment is a module-scoped fixture,
      computed once per worker that runs any of its tests;
    * the tests of ``tests/test_notebooks.py`` on one notebook (``[lessons/02_mlp.ipynb]``);
    * every other test on its own.

    (xdist's own ``xdist_group`` mark does not work with pytest 9: xdist 3.8 renames the test by
    an attribute that pytest 9 no longer reads. These rules replace it.)
    """
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/claims/"):
        return path
    m = _NOTEBOOK_PARAM.search(nodeid)
    if path == "tests/test_notebooks.py" and m:
        return f"notebook {m.group(1)}"
    return nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadgroup`` (pyproject.toml) schedules by :func:`work_unit`."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return WorkUnitScheduling(config, log)


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has basetemp <run>/popen-gwN: the run's folder is its parent.
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = root / "executed-notebooks"
    folder.mkdir(exist_ok=True)
    return folder


def _execute(path: Path, allow_errors: bool) -> tuple[object, float, str | None]:
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from nnlite.course.execute import execute_notebook

    nb = nbformat.read(path, as_version=4)
    try:
        elapsed = execute_notebook(
            nb, path.parent, allow_errors=allow_errors, timeout=CELL_TIMEOUT_S
        )
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        return nb, float("nan"), f"{type(exc).__name__}: {exc}"
    return nb, elapsed, None


@pytest.fixture(scope="session")
def executed_notebook(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., ExecutedNotebook]:
    """``executed_notebook(path, allow_errors=False)``: one shared execution per run."""
    pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    from filelock import FileLock

    folder = _shared_dir(tmp_path_factory)

    def get(path: str | Path, allow_errors: bool = False) -> ExecutedNotebook:
        path = (REPO / path).resolve()
        rel = path.relative_to(REPO).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        key = f"{rel.replace('/', '-')}-{digest}-{'all' if allow_errors else 'stop'}"
        done, executed = folder / f"{key}.json", folder / f"{key}.ipynb"
        with FileLock(str(folder / f"{key}.lock")):
            if not done.exists():
                import nbformat

                nb, elapsed, error = _execute(path, allow_errors)
                nbformat.write(nb, executed)
                done.write_text(json.dumps({"elapsed": elapsed, "error": error}))
        info = json.loads(done.read_text())
        return ExecutedNotebook(path, executed, info["elapsed"], info["error"])

    return get
