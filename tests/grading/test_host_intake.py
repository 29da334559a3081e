"""Grader availability at intake (issue 9, item 6): the work a notebook causes in the trusted
grader is linear in its size and bounded by size limits, with a message saying which."""

from __future__ import annotations

import ast

import nbfactory as f
import nbformat
import pytest

from nnlite.grading import notebook as nbmod
from nnlite.grading.notebook import Cell, Program, _segment, read_notebook


def _segments(source: str) -> list[str | None]:
    lines = source.split("\n")
    cache: dict[int, bytes] = {}
    return [_segment(lines, cache, stmt) for stmt in ast.parse(source).body]


@pytest.mark.parametrize(
    "source",
    [
        "a = 1; b = 2",
        "x = 'é€😀'; y = x  # unicode before and after",
        "p = (1,\n     2); q = {'k':\n 'é'}",
        "z = 3;  w = [z,\n z]   ;v=1",
        "def f(): return 1; g = f",
    ],
)
def test_segment_matches_ast_get_source_segment(source):
    # The linear replacement gives exactly what ast.get_source_segment gives.
    expected = [ast.get_source_segment(source, s) for s in ast.parse(source).body]
    assert _segments(source) == expected


@pytest.mark.parametrize(
    "source, stmts",
    [
        ("a=1;" * 3000, 3000),  # one line, many statements (quadratic before)
        ("x = 1\n" * 3000, 3000),
        ("a = 'é'; " * 1500, 1500),
    ],
)
def test_many_statements_keep_exact_sources(source, stmts):
    prog = Program([Cell(1, source)])
    assert len(prog.units) == stmts
    assert all(u.source.strip().startswith(("a", "x")) for u in prog.units)
    assert prog.units[-1].source.rstrip("; \n") in ("a=1", "x = 1", "a = 'é'")


def test_statement_cap_stops_analysis_with_a_warning(monkeypatch):
    monkeypatch.setattr(nbmod, "MAX_STATEMENTS", 100)
    prog = Program([Cell(1, "def early():\n    return 1"), Cell(2, "a=1;" * 150), Cell(5, "b=2")])
    assert len(prog.units) == 100
    assert prog.defined("early") and not prog.defined("b")
    assert len(prog.warnings) == 1 and "more than 100 top-level statements" in prog.warnings[0]
    assert "cell 2" in prog.warnings[0]


def test_huge_cell_is_skipped_with_a_reason(tmp_path):
    big = "a=1;" * 40_000  # 160 KB: hung the grader (quadratic segment extraction)
    nb = read_notebook(f.write(f.fixture_notebook(extra=[big]), tmp_path / "99_fixture.ipynb"))
    assert nb.error is None
    assert any("too large to grade (156 KiB" in w and "64 KiB per cell" in w for w in nb.warnings)
    assert [c.index for c in nb.cells if c.too_large] == [len(nb.cells) + 1]
    prog = Program(nb.cells)
    assert prog.defined("normalize_rows") and not prog.defined("a")
    assert prog.latest_broken("a").message().startswith(f"cell {len(nb.cells) + 1} is too large")


def test_a_definition_in_a_huge_cell_scores_zero_with_the_reason(grader, tmp_path):
    src = f.NORMALIZE_ROWS + "\nDATA = [" + "1, " * 30_000 + "]"
    nb = f.write(f.fixture_notebook({"normalize_rows": src}), tmp_path / "99_fixture.ipynb")
    rep = grader(nb)
    ex = next(e for e in rep["exercises"] if e["name"] == "normalize_rows")
    assert ex["score"] == 0 and ex["status"] == "error"
    assert "is too large to grade" in ex["tests"][0]["message"]
    assert rep["score"] == 6  # the other exercises are graded


def test_too_much_code_in_total_is_a_clear_error(tmp_path):
    chunk = "x = [" + "1, " * 20_000 + "]"  # 60 KB: under the per-cell limit
    nb_path = f.write(f.fixture_notebook(extra=[chunk] * 5), tmp_path / "99_fixture.ipynb")
    nb = read_notebook(nb_path)
    assert nb.cells == []
    assert "too much code to grade" in nb.error and "256 KiB" in nb.error


def test_large_outputs_do_not_count_as_code(tmp_path):
    nb = f.fixture_notebook()
    out = nbformat.v4.new_output("stream", name="stdout", text="y" * 2_000_000)
    nb.cells[-1]["outputs"] = [out]
    r = read_notebook(f.write(nb, tmp_path / "99_fixture.ipynb"))
    assert r.error is None and r.warnings == []


def test_graded_report_carries_the_cap_warning(grader, tmp_path, monkeypatch):
    monkeypatch.setattr(nbmod, "MAX_STATEMENTS", 40)
    extra = ["q=1;" * 60]
    rep = grader(f.write(f.fixture_notebook(extra=extra), tmp_path / "99_fixture.ipynb"))
    assert rep["score"] == rep["max_score"]  # the exercises come before the cap
    assert any("more than 40 top-level statements" in w for w in rep["warnings"])
