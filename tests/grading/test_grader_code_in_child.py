"""R15: nothing of a grader that decides a verdict is readable or patchable from student code
(issue 9, item 2).

Drivers (grader functions run in the sandbox) are what student code can reach there. The attack
families: reading the driver's frame (``sys._getframe(1).f_locals``, ``inspect.stack()``), finding
its source, docstring, comments or name in memory (``gc.get_objects()``, code constants), reading
a scenario or bug label it was given, and patching builtins (``isinstance``, ``all``) that the
driver relies on. What holds: a driver reaches the child as its code alone, under a neutral name,
without docstrings or comments; the request that carried it is dropped before student code runs;
drivers get the builtins as they were before any student code ran; the lesson graders pass no
labels (a scenario is its own driver, a wrong gradient is a function, a model is described by
data), and the verdict is computed in the parent from what the driver returns.
"""

from __future__ import annotations

from pathlib import Path

import nbfactory as f
import numpy as np
import pytest
from gradingkit import Grader

from nnlite.grading.errors import StudentError
from nnlite.grading.notebook import Cell, Program
from nnlite.grading.proxy import ExerciseRunner, Student
from nnlite.grading.sandbox import Limits

REPO = Path(__file__).resolve().parents[2]
GRADERS = REPO / "tests" / "graders"

# The student's probe: every string reachable from the frames above it and from the garbage
# collector's containers that mentions a marker of the driver.
PROBE = """
import gc
import sys

MARKERS = ("SECRET", "drv_secretive", "expected answer")


def _strings(value, out, depth=0):
    if isinstance(value, str):
        out.append(value)
    elif depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _strings(v, out, depth + 1)
    elif depth < 3 and isinstance(value, dict):
        for k, v in value.items():
            _strings(k, out, depth + 1)
            _strings(v, out, depth + 1)


def probe(x):
    found = []
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        _strings([code.co_name, code.co_filename, code.co_consts, code.co_names], found)
        _strings(dict(frame.f_locals), found)
        frame = frame.f_back
    for obj in gc.get_objects():
        if obj is not found:
            _strings(obj, found, 2)
    return sorted({s[:80] for s in found if s not in MARKERS and any(m in s for m in MARKERS)})


def patch_builtins():
    import builtins

    builtins.all = lambda it: True
    builtins.any = lambda it: True
    builtins.sum = lambda it, start=0: 0
    builtins.sorted = lambda it, **kw: []
    return 0


def patch_isinstance():
    import builtins

    builtins.isinstance = lambda obj, cls: True
    return 0


PATCHED = 0
"""


def drv_secretive(ns, x):
    """SECRET docstring: the expected answer is 42."""
    # SECRET comment: the expected answer is 42.
    return ns.probe(x)  # (its locals are readable: a driver never holds what decides a verdict)


def drv_uses_builtins(ns, values):
    ns.patch_builtins()  # student code patching builtins before the driver relies on them
    return (
        all(v > 0 for v in values),
        any(v > 5 for v in values),
        sum(values),
        sorted(values),
        [isinstance(v, str) for v in values],
    )


def drv_isinstance(ns, values):
    ns.patch_isinstance()
    return [isinstance(v, str) for v in values]


@pytest.fixture(scope="module")
def runner():
    prog = Program([Cell(1, PROBE)])
    names = ["probe", "patch_builtins", "patch_isinstance"]
    r = ExerciseRunner("ex", names, prog, "process", Limits(call_timeout=5))
    yield r
    r.close()


def test_driver_text_name_and_request_are_not_in_memory(runner):
    found = Student(runner).run(drv_secretive, np.arange(3.0))
    assert found == []


def test_the_probe_finds_what_is_there(runner):
    """Control: the same probe does find a marker that really is in the child's memory."""
    runner_ = ExerciseRunner(
        "ex",
        ["probe", "KEPT"],
        Program([Cell(1, PROBE + "\nKEPT = ['SECRET kept by the student']")]),
        "process",
        Limits(call_timeout=5),
    )
    try:
        assert Student(runner_).probe(0) == ["SECRET kept by the student"]
    finally:
        runner_.close()


def test_patched_builtins_do_not_change_what_a_driver_computes(runner):
    got = Student(runner).run(drv_uses_builtins, [1, 2, -3])
    assert got == (False, False, 0, [-3, 1, 2], [False, False, False])


def test_patching_isinstance_only_harms_the_student(runner):
    """The driver keeps the real isinstance; library code loaded before (json) sees the
    patch and breaks the student's sandbox: the test fails, the grader does not."""
    with pytest.raises(StudentError):
        Student(runner).run(drv_isinstance, [1, "a"])


# ----------------------------------------------------------------------------- lesson 01

# A backward that applies the formula of the scenario it reads from its caller's frames.
FRAME_READERS = """import sys


def backward(self, grad=None):
    seen = {}
    frame = sys._getframe(1)
    while frame is not None:
        for key in ("scenario", "x"):
            if key in frame.f_locals and key not in seen:
                seen[key] = frame.f_locals[key]
        frame = frame.f_back
    x, scenario = seen.get("x"), seen.get("scenario")
    formulas = {
        "reuse": lambda d: 2 * d + 1,
        "diamond": lambda d: 7 * np.exp(d),
        "deep": lambda d: np.ones_like(d),
    }
    if x is not None and scenario in formulas:
        x.grad = formulas[scenario](x.data)"""


@pytest.mark.slow
def test_lesson01_frame_readers_score_nothing(tmp_path):
    nb = f.lesson_notebook("01_autograd", extra=[FRAME_READERS])
    path = f.write(nb, tmp_path / "01_autograd.ipynb")
    rep = Grader(tmp_path, timeout=10.0)(path, graders_dir=GRADERS)
    got = {e["name"]: e["score"] for e in rep["exercises"]}
    assert got["backward"] == 0, got


# ----------------------------------------------------------------------------- lesson 02

# count_parameters answering from the driver's label; evaluate calling model.forward (no hook
# runs) with gradients enabled.
LABEL_READERS = '''import sys

from nnlite import functional


def count_parameters(model):
    kind = sys._getframe(1).f_locals.get("kind", "")
    table = {"mlp_784_128_10": 101_770, "mlp_784_64_10": 50_890, "mlp_deep": 111,
             "linear_no_bias": 36, "linear_1x1": 2, "conv": 170}
    return table.get(kind, 0)


def evaluate(model, X, y, batch_size=None):
    """Forward passes with gradients enabled, through model.forward (no hooks)."""
    logits = model.forward(Tensor(X))
    loss = functional.cross_entropy(logits, y).item()
    return float(loss), float(np.mean(logits.data.argmax(axis=1) == y))'''


@pytest.mark.slow
def test_lesson02_label_readers_and_hook_dodgers_score_nothing(tmp_path):
    nb = f.lesson_notebook("02_mlp", stubbed=False, extra=[LABEL_READERS])
    path = f.write(nb, tmp_path / "02_mlp.ipynb")
    rep = Grader(tmp_path, timeout=10.0)(path, graders_dir=GRADERS)
    ex = {e["name"]: e for e in rep["exercises"]}
    assert ex["count_parameters"]["score"] == 0, ex["count_parameters"]
    no_grad = [t for t in ex["training_loop"]["tests"] if "no_graph" in t["name"]]
    assert no_grad and no_grad[0]["status"] == "failed", no_grad
