"""A generated class for the class-insights tests: submissions built from the solution
notebooks with known mistakes injected, and the counts each mistake must produce.

:func:`make_class` writes ``ROOT/STUDENT/01_autograd.ipynb`` for each student of
:data:`CLASS_01` and returns the injected count of every mistake. A mistake is the solution's
own function with one edit (as in tests/graders/test_mutants_01.py), appended as a last cell;
"unsolved" students hand in the generated lesson, "broken" students a file that is not JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from nnlite.grading.testing import notebook_with

REPO = Path(__file__).resolve().parents[2]
LESSON = "01_autograd"

#: mistake -> (function, [(old, new)...], the exercise it breaks, a phrase of its hint)
MISTAKES = {
    # Perturbs the caller's x in place, evaluates f twice and never puts the original value
    # back: x is left changed, and every later entry is computed at a shifted point.
    "no_restore": (
        "numerical_grad",
        [("xw = np.array(x, dtype=dtype)", "xw = x"), ("        xw[i] = original\n", "")],
        "numerical_grad",
        "finally",
    ),
    # The ReLU derivative taken as 1 at exactly 0.
    "relu_at_zero": (
        "relu_backward",
        [("(x > 0)", "(x >= 0)")],
        "rules_elementwise",
        "x > 0, not x >= 0",
    ),
}

#: The class: (student prefix, what they hand in, how many).
CLASS_01 = [
    ("good", "solution", 10),
    ("norestore", "no_restore", 10),
    ("relu", "relu_at_zero", 5),
    ("empty", "unsolved", 3),
    ("broken", "broken", 2),
]


def solution_function(name: str, lesson: str = LESSON) -> str:
    """The source of the solution notebook's top-level ``def name``."""
    import ast

    nb = json.loads((REPO / "solutions" / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] != "code" or f"def {name}(" not in src:
            continue
        for node in ast.parse(src).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(src, node)
    raise LookupError(name)


def mutant_source(mistake: str) -> str:
    function, edits, _, _ = MISTAKES[mistake]
    src = solution_function(function)
    for old, new in edits:
        assert old in src, (mistake, old)
        src = src.replace(old, new)
    return src


def make_class(root: Path, spec: list[tuple[str, str, int]] = CLASS_01) -> dict[str, int]:
    """Write the submissions of ``spec`` under ``root``; returns {what: how many}."""
    solution = REPO / "solutions" / f"{LESSON}.ipynb"
    counts: dict[str, int] = {}
    for prefix, what, n in spec:
        for k in range(n):
            path = root / f"{prefix}{k:02d}" / f"{LESSON}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            if what == "solution":
                path.write_bytes(solution.read_bytes())
            elif what == "unsolved":
                path.write_bytes((REPO / "lessons" / f"{LESSON}.ipynb").read_bytes())
            elif what == "broken":
                path.write_text('{"cells": [ this is not JSON', encoding="utf-8")
            else:
                nb = notebook_with(solution, [mutant_source(what)])
                path.write_text(json.dumps(nb), encoding="utf-8")
        counts[what] = counts.get(what, 0) + n
    return counts
