"""``python -m nnlite check``: the lesson's visible checks on a saved notebook, from a terminal."""

from __future__ import annotations

from pathlib import Path

import nbformat

from nnlite.checks.cli import check_calls, run_checks

REPO = Path(__file__).resolve().parents[1]
SOLUTION = REPO / "solutions" / "01_autograd.ipynb"


def lines_of(path, **kw):
    out: list[str] = []
    return run_checks(path, echo=out.append, **kw), out


def test_check_calls_are_read_from_the_cells():
    assert check_calls('check("a", f, g);\nx = 1') == [("a", ["f", "g"])]
    assert check_calls('check("rules", globals())  # by name') == [("rules", ["globals()"])]
    assert check_calls("check(name, f)\ncheck.use('a', f, fallback=g)") == []
    assert check_calls("def broken(:") == []


def test_the_solution_passes_every_check():
    status, out = lines_of(SOLUTION)
    assert status == 0 and out[-1] == "6 of 6 exercise(s) pass their checks in 01_autograd.ipynb"
    assert "All 3 checks passed for 'rules_shape'." in out  # rules found through globals()


def test_one_exercise_and_a_wrong_one(tmp_path):
    nb = nbformat.read(SOLUTION, as_version=4)
    cell = next(c for c in nb.cells if "def rel_error" in c.source)
    cell.source = "def rel_error(a, b, eps=1e-12):\n    return 0.0\n"
    path = tmp_path / "01_autograd-alice.ipynb"
    nbformat.write(nb, path)
    status, out = lines_of(path, exercise="rel_error")
    assert status == 1 and out[0] == "── rel_error" and any(line.startswith("✗") for line in out)
    status, out = lines_of(path, exercise="nope")
    assert status == 2 and "no check cell for exercise 'nope'" in out[0]


def test_a_definition_that_raises_is_named_and_the_rest_still_runs(tmp_path):
    nb = nbformat.read(SOLUTION, as_version=4)
    nb.cells.insert(2, nbformat.v4.new_code_cell("import no_such_module_xyz"))
    path = tmp_path / "01_autograd.ipynb"
    nbformat.write(nb, path)
    status, out = lines_of(path)
    assert out[0].startswith("note: a definition raised") and "no_such_module_xyz" in out[0]
    assert status == 0


def test_a_notebook_of_no_known_lesson(tmp_path):
    nb = nbformat.read(SOLUTION, as_version=4)
    nb.metadata.pop("nnlite", None)
    path = tmp_path / "homework.ipynb"
    nbformat.write(nb, path)
    status, out = lines_of(path)
    assert status == 2 and "cannot tell which lesson homework.ipynb is" in out[0]
