"""Notebook intake (R5) and the definition rule (R6): parsing only, nothing executed."""

from __future__ import annotations

import json

import nbfactory as f
import pytest

from nnlite.grading.notebook import (
    Cell,
    Program,
    lesson_from_filename,
    neutralise_magics,
    read_notebook,
)
from nnlite.grading.runner import student_id


def program(*sources: str) -> Program:
    return Program([Cell(i + 1, s) for i, s in enumerate(sources)])


def selected(prog: Program, *names: str) -> list[str]:
    return [u.source for u in prog.select(list(names)).units]


def test_magics_are_neutralised():
    src = "%matplotlib inline\n!rm -rf ~\nfiles = !ls\nx = 1\n  %time f()"
    assert neutralise_magics(src) == "pass\npass\npass\nx = 1\n  pass"
    assert neutralise_magics("%%bash\nrm -rf ~") is None
    assert neutralise_magics("  %%time\nx = 1") is None


def test_definition_rule_keeps_only_definitions():
    prog = program(
        "import numpy as np\nfrom math import pi as PI",
        "N = 10\nSCALE: float = 2.0\nrelu = lambda x: np.maximum(x, 0)\nrng = np.random.default_rng(0)",  # noqa: E501
        "def f(x):\n    return relu(x) * N + g(x)\n\ndef g(x):\n    return PI",
        "model = f(3)\nfor i in range(10):\n    print(i)\nif True:\n    def h(): pass\ntry:\n    import torch\nexcept ImportError:\n    torch = None",  # noqa: E501
    )
    kept = [u.defines for u in prog.units]
    assert kept == [("np",), ("PI",), ("N",), ("SCALE",), ("relu",), ("f",), ("g",)]
    assert {"rng", "model", "torch", "i"} <= prog.skipped_names
    assert "h" not in prog.skipped_names  # a def inside `if` is simply not a top-level name
    assert selected(prog, "f") == [
        "import numpy as np",
        "from math import pi as PI",
        "N = 10",
        "relu = lambda x: np.maximum(x, 0)",
        "def f(x):\n    return relu(x) * N + g(x)",
        "def g(x):\n    return PI",
    ]


def test_last_definition_wins_and_only_needed_names_load():
    prog = program(
        "import numpy as np",
        "def f(x):\n    return helper_old(x)",
        "def helper_old(x):\n    return x",
        "def f(x):\n    return np.sum(x)",
        "import torch",
    )
    assert selected(prog, "f") == ["import numpy as np", "def f(x):\n    return np.sum(x)"]


def test_attribute_assignments_augment_their_class():
    prog = program(
        "class Tensor:\n    pass",
        "def tensor_add(self, other):\n    return _impl(self, other)",
        "def _impl(a, b):\n    return a",
        "Tensor.__add__ = tensor_add\nREGISTRY = {}\nREGISTRY['add'] = tensor_add",
        "class Unrelated:\n    pass\nUnrelated.x = 1",
    )
    src = selected(prog, "Tensor")
    assert src == [
        "class Tensor:\n    pass",
        "def tensor_add(self, other):\n    return _impl(self, other)",
        "def _impl(a, b):\n    return a",
        "Tensor.__add__ = tensor_add",
    ]


def test_augmentation_before_a_redefinition_is_dropped():
    prog = program("class A:\n    pass", "A.x = 1", "class A:\n    y = 2")
    assert selected(prog, "A") == ["class A:\n    y = 2"]


def test_dotted_imports_accumulate_and_star_imports_are_kept():
    prog = program(
        "import os.path",
        "import os.sep_mod",
        "from math import *",
        "def f():\n    return os.path.join(sqrt(2))",
    )
    assert selected(prog, "f") == [
        "import os.path",
        "import os.sep_mod",
        "from math import *",
        "def f():\n    return os.path.join(sqrt(2))",
    ]


def test_decorators_and_semicolons():
    prog = program(
        "import functools",
        "@functools.lru_cache\ndef f(x):\n    return x",
        "a = 1; b = f(2); c = 3",
    )
    assert selected(prog, "f") == [
        "import functools",
        "@functools.lru_cache\ndef f(x):\n    return x",
    ]
    assert selected(prog, "a", "c") == ["a = 1", "c = 3"]


def test_syntax_error_costs_only_its_cell():
    prog = program(
        "def good():\n    return 1",
        "def bad(:\n    return 2\nclass Also:\n    pass\nK = 3",
        "x = (",
    )
    assert prog.defined("good") and not prog.defined("bad")
    b = prog.latest_broken("bad")
    assert b is not None and (b.cell, b.line) == (2, 1)
    assert prog.latest_broken("Also") is b and prog.latest_broken("K") is b
    assert b.message() == "cell 2 has a syntax error (line 1): fix it so the cell runs"
    assert prog.latest_broken("good") is None
    sel = prog.select(["bad"])
    assert sel.units == [] and "bad" in sel.broken


def test_broken_cell_before_a_good_definition_does_not_count():
    prog = program("def f(:\n    pass", "def f():\n    return 1")
    assert prog.latest_broken("f") is None
    prog = program("def f():\n    return 1", "def f(:\n    pass")
    assert prog.latest_broken("f") is not None


def test_pathological_sources_do_not_crash_the_parser():
    prog = program(
        "x = " + "-" * 200000 + "1", "y = " + "(" * 1000 + ")" * 1000, "\x00bad", "z = 1"
    )
    assert prog.defined("z")
    assert len(prog.broken) == 3


def test_read_notebook_variants(tmp_path):
    nb = f.fixture_notebook()
    p = f.write(nb, tmp_path / "a.ipynb")
    r = read_notebook(p)
    assert r.error is None and r.lesson == "99_fixture" and len(r.cells) == 9
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert read_notebook(p).error is None
    v3 = {"nbformat": 3, "worksheets": [{"cells": [{"cell_type": "code", "input": ["x = ", "1"]}]}]}
    r = read_notebook(f.write(v3, tmp_path / "v3.ipynb"))
    assert r.error is None and [c.source for c in r.cells] == ["x = 1"]
    assert "not valid JSON" in read_notebook(f.write("{", tmp_path / "b.ipynb")).error
    assert "not a Jupyter notebook" in read_notebook(f.write({"a": 1}, tmp_path / "c.ipynb")).error
    assert "too large" in read_notebook(p, max_bytes=100).error
    assert "cannot read" in read_notebook(tmp_path / "missing.ipynb").error
    odd = {
        "cells": [
            {"cell_type": "code", "source": 5},
            "junk",
            {"cell_type": "code", "source": ["y=2"]},
        ]
    }
    r = read_notebook(f.write(odd, tmp_path / "odd.ipynb"))
    assert r.error is None and [c.source for c in r.cells] == ["", "y=2"]
    bad_meta = {"cells": [], "metadata": {"nnlite": {"lesson": "../../etc"}}}
    assert read_notebook(f.write(bad_meta, tmp_path / "m.ipynb")).lesson is None
    cell_ids = json.loads(p.read_bytes()[3:])["cells"]
    assert len(cell_ids) == 10


@pytest.mark.parametrize(
    ("name", "lesson"),
    [
        ("01_autograd.ipynb", "01_autograd"),
        ("01_autograd-alice.ipynb", "01_autograd"),
        ("01_autograd (1).ipynb", "01_autograd"),
        ("01_autograd_bob.ipynb", "01_autograd"),
        ("01_anything.ipynb", "01_autograd"),
        ("01.ipynb", "01_autograd"),
        ("02_mlp.ipynb", "02_mlp"),
        ("03_other.ipynb", None),
        ("011_x.ipynb", None),
        ("alice.ipynb", None),
    ],
)
def test_lesson_from_filename(name, lesson):
    assert lesson_from_filename(name, ["01_autograd", "02_mlp"]) == lesson


def test_student_ids(tmp_path):
    assert student_id("sub/01_autograd-alice.ipynb", "01_autograd") == "alice"
    assert student_id("01_autograd_bob (2).ipynb", "01_autograd") == "bob"
    (tmp_path / "carol").mkdir()
    assert student_id(tmp_path / "carol" / "01_autograd.ipynb", "01_autograd", tmp_path) == "carol"
    assert (
        student_id(tmp_path / "01_autograd (1).ipynb", "01_autograd", tmp_path) == "01_autograd (1)"
    )
    assert student_id("dave.ipynb", None) == "dave"
