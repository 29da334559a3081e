"""Every notebook of the course executes for real, in a fresh Jupyter kernel.

* ``solutions/*.ipynb`` run top to bottom without error within the budget (90 s each, 10 min for
  the whole course, 2 cores), and reproduce their stored outputs: the solution's saved ``stdout``
  and ``text/plain`` outputs must equal a fresh execution's, ignoring timing and progress lines
  (the rule is :func:`nnlite.course.execute.comparable_text`). One execution serves both checks.
* ``lessons/*.ipynb`` run with errors allowed, and the only errors are the exercise stubs'
  ``NotImplementedError`` s; any other error fails the test naming its cell.
* Solutions keep their outputs, and each stays under 1.5 MB so it renders on GitHub.

Kernels get one BLAS thread, ``MPLBACKEND=Agg``, ``PYTHONHASHSEED=0`` and this checkout on
``PYTHONPATH`` (:func:`nnlite.course.execute.kernel_env`); their working directory is the
notebook's folder. The lesson list is whatever exists; ``tests/test_repo.py`` makes sure the
lessons the README lists do exist, so these tests cannot pass vacuously.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from nnlite.course.execute import (  # noqa: E402
    execute_notebook,
    output_differences,
    unexpected_errors,
)

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
LESSONS = sorted((REPO / "lessons").glob("[0-9][0-9]_*.ipynb"))
NOTEBOOK_BUDGET_S = 90.0
COURSE_BUDGET_S = 600.0
MAX_BYTES = 1_500_000
TIMINGS: dict[str, float] = {}


def _rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def _run(nb, path: Path, allow_errors: bool) -> float:
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    try:
        return execute_notebook(
            nb, path.parent, allow_errors=allow_errors, timeout=NOTEBOOK_BUDGET_S
        )
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        pytest.fail(f"{_rel(path)} failed to execute:\n{exc}", pytrace=False)


@pytest.mark.parametrize("path", SOLUTIONS, ids=_rel)
def test_solution_is_small_enough_to_render(path: Path):
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{_rel(path)} is {size / 1e6:.2f} MB; keep it under 1.5 MB"


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=_rel)
def test_solution_executes_within_budget_and_reproduces_its_outputs(path: Path, record_property):
    stored = nbformat.read(path, as_version=4)
    fresh = copy.deepcopy(stored)
    elapsed = _run(fresh, path, allow_errors=False)
    TIMINGS[path.name] = elapsed
    record_property("elapsed_s", round(elapsed, 1))
    print(f"{_rel(path)}: executed in {elapsed:.1f} s")
    assert elapsed <= NOTEBOOK_BUDGET_S, (
        f"{_rel(path)} took {elapsed:.1f} s; the budget is {NOTEBOOK_BUDGET_S:.0f} s on 2 cores"
    )
    differences = output_differences(stored, fresh)
    assert not differences, (
        f"{_rel(path)} does not reproduce its stored outputs (seed everything; re-save it with "
        f"python -m nnlite course execute {_rel(path)}):\n  " + "\n  ".join(differences)
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS, ids=_rel)
def test_lesson_fails_only_in_exercise_stubs(path: Path):
    nb = nbformat.read(path, as_version=4)
    elapsed = _run(nb, path, allow_errors=True)
    stopped = sum(
        any(o.get("output_type") == "error" for o in c.get("outputs", []))
        for c in nb.cells
        if c.cell_type == "code"
    )
    print(f"{_rel(path)}: executed in {elapsed:.1f} s; {stopped} cell(s) stop at a stub")
    assert elapsed <= NOTEBOOK_BUDGET_S, f"{_rel(path)} took {elapsed:.1f} s"
    errors = unexpected_errors(nb)
    assert not errors, (
        f"{_rel(path)}: cells fail for a student who has not solved the exercises yet with "
        "something other than the stub's NotImplementedError:\n  " + "\n  ".join(errors)
    )


@pytest.mark.slow
def test_whole_course_within_budget():
    """Runs after the per-notebook tests (file order) and sums their execution times."""
    if not SOLUTIONS or any(p.name not in TIMINGS for p in SOLUTIONS):
        pytest.skip("needs every solution notebook executed in this session")
    total = sum(TIMINGS.values())
    print("execution times: " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(TIMINGS.items())))
    assert total <= COURSE_BUDGET_S, f"the course took {total:.0f} s; the budget is 10 min"
