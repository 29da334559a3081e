"""Each exercise is graded on its own definitions (issue 9, item 13).

A statement ``X.attr = ...`` comes along with X into every sandbox that loads X. For a name the
notebook *imported* (a module such as ``np``, or an object of one), a patch in another exercise's
cell, or in a cell of no exercise, must not follow: ``np.sqrt = np.abs`` written next to one
exercise must not cost another exercise its points. A patch in the exercise's own cell still
counts (the exercise is graded on what it defines), and so do patches of the notebook's own
classes (``Tensor.backward = backward`` is how lesson 01 builds its class).
"""

from __future__ import annotations

from pathlib import Path

import nbfactory as f
import pytest
from gradingkit import FULL, Grader

from nnlite.grading.notebook import Cell, Program

REPO = Path(__file__).resolve().parents[2]
GRADERS = REPO / "tests" / "graders"
PATCH = "np.sqrt = np.abs"  # normalize_rows divides by sqrt(sum of squares)


def program(*sources: str) -> Program:
    return Program([Cell(i, src) for i, src in enumerate(sources, start=1)])


def selected(prog: Program, *names: str) -> list[str]:
    return [u.source for u in prog.select(list(names)).units]


# ----------------------------------------------------------------------------- selection


def test_module_patch_in_another_cell_does_not_follow():
    prog = program(
        "import numpy as np\nimport nnlite\nF = nnlite.functional",
        "def f(x):\n    return np.sqrt(x)",
        "def g(x):\n    return F.relu(x) + nnlite.tanh(x)\nnp.sqrt = np.abs\nF.relu = g\n"
        "nnlite.functional.tanh = g\nnp.__dict__['exp'] = np.log",
        PATCH,
    )
    assert selected(prog, "f") == ["import numpy as np", "def f(x):\n    return np.sqrt(x)"]
    # In g's own cell the patches count, through an alias (F) too.
    assert selected(prog, "g") == [
        "import nnlite",
        "F = nnlite.functional",
        "def g(x):\n    return F.relu(x) + nnlite.tanh(x)",
        "F.relu = g",
        "nnlite.functional.tanh = g",
    ]


def test_class_attributes_still_follow_the_class():
    prog = program(
        "import numpy as np",
        "class T:\n    pass",
        "def backward(self):\n    return 1\nT.backward = backward",
        "T.extra = np.pi",
    )
    assert selected(prog, "T") == [
        "import numpy as np",
        "class T:\n    pass",
        "def backward(self):\n    return 1",
        "T.backward = backward",
        "T.extra = np.pi",
    ]


# ----------------------------------------------------------------------------- grading


@pytest.mark.parametrize(
    "where",
    [
        "own_cell_of_no_exercise",
        "another_exercise_cell",
        "alias_in_another_exercise_cell",
        "item_of_module_dict",
    ],
)
def test_patch_elsewhere_costs_nothing(grader, tmp_path, where):
    if where == "own_cell_of_no_exercise":
        nb = f.fixture_notebook(extra=[PATCH])
    elif where == "another_exercise_cell":
        nb = f.fixture_notebook({"trapezoid": f.TRAPEZOID + "\n\n" + PATCH})
    elif where == "alias_in_another_exercise_cell":
        nb = f.fixture_notebook(
            {"trapezoid": f.TRAPEZOID + "\n\nnumpy_ = np\nnumpy_.sqrt = np.abs"}
        )
    else:
        nb = f.fixture_notebook({"trapezoid": f.TRAPEZOID + "\n\nnp.__dict__['sqrt'] = np.abs"})
    rep = grader(f.write(nb, tmp_path / "99_fixture.ipynb"))
    assert {e["name"]: e["score"] for e in rep["exercises"]} == FULL


def test_patch_in_the_exercise_own_cell_counts(grader, tmp_path):
    nb = f.fixture_notebook({"normalize_rows": f.NORMALIZE_ROWS + "\n\n" + PATCH})
    rep = grader(f.write(nb, tmp_path / "99_fixture.ipynb"))
    got = {e["name"]: e["score"] for e in rep["exercises"]}
    assert got["normalize_rows"] < FULL["normalize_rows"]
    assert got["trapezoid"] == FULL["trapezoid"] and got["running_mean"] == FULL["running_mean"]


@pytest.mark.slow
def test_lesson02_patching_nnlite_in_one_exercise_costs_only_that_one(tmp_path):
    """A wrong cross_entropy that also replaces nnlite's costs the training loop nothing."""
    wrong = (
        "import nnlite\nimport nnlite.functional as F\n\n\n"
        "def log_softmax(logits, axis=-1):\n    return logits * 1.0\n\n\n"
        "def cross_entropy(logits, target, reduction='mean'):\n    return logits.sum() * 0.0\n\n\n"
        "nnlite.functional.cross_entropy = cross_entropy\nF.log_softmax = log_softmax\n"
        "np.exp = np.log"
    )
    nb = f.lesson_notebook("02_mlp", stubbed=False, overrides={"cross_entropy": wrong})
    path = f.write(nb, tmp_path / "02_mlp.ipynb")
    rep = Grader(tmp_path, timeout=10.0)(path, graders_dir=GRADERS)
    got = {e["name"]: (e["score"], e["max_score"]) for e in rep["exercises"]}
    assert got["cross_entropy"][0] < got["cross_entropy"][1]
    assert all(s == m for name, (s, m) in got.items() if name != "cross_entropy"), got


def test_a_parameter_is_not_a_global_dependency():
    # `run` is a call (never run by the grader), so `model = run.model` would raise NameError:
    # it must not come along with a function whose parameter happens to be called `model`.
    prog = program(
        "import numpy as np\nrun = make_network()\nmodel = run.model",
        "def saliency(model, x):\n    scale = 2\n    return model(x) * scale + np.pi",
        "def uses_global():\n    return model",
        "class Probe:\n    size = 3\n    def f(self, model):\n        return model + self.size",
    )
    assert selected(prog, "saliency") == [
        "import numpy as np",
        "def saliency(model, x):\n    scale = 2\n    return model(x) * scale + np.pi",
    ]
    assert "model = run.model" in selected(prog, "uses_global")  # a real global use still counts
    assert selected(prog, "Probe") == [
        "class Probe:\n    size = 3\n    def f(self, model):\n        return model + self.size"
    ]
