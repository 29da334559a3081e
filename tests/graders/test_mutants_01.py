"""Mutation tests of lesson 01's grader (tests/graders/test_01_autograd.py).

Each mutant is a plausible wrong implementation of one exercise: the solution's own function
with one edit. It is swapped into a copy of the solution notebook (a last cell redefines the
function; the last definition wins) and graded through the real grader
(:func:`nnlite.grading.testing.grade_with`). The mutated exercise must lose points with a hint
that names the mistake. The first mutant of each exercise is graded in full and every other
exercise must keep full marks, which shows that the exercises are graded independently; the
other mutants are graded in their own exercise only (``only=``), which keeps the suite lean.

Also here: the solution scores full marks, the generated lesson scores 0 with status
``missing`` everywhere, and trivial answers (zeros, the input returned unchanged, a random
array of the right shape) earn at most a small fraction of any exercise.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from nnlite.grading.runner import grade_notebook
from nnlite.grading.testing import grade_with

LESSON = "01_autograd"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = (
    "numerical_grad",
    "rel_error",
    "unbroadcast",
    "rules_elementwise",
    "rules_shape",
    "backward",
)
#: Largest share of an exercise's points a trivial answer may earn.
TRIVIAL_MAX_FRACTION = 0.15

pytestmark = pytest.mark.slow


def solution_function(name: str) -> str:
    """The source of the solution notebook's top-level ``def name``."""
    nb = json.loads(SOLUTION.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if f"def {name}(" not in src:
            continue
        for node in ast.parse(src).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(src, node)
    raise LookupError(f"the solution notebook defines no function {name!r}")


# (id, exercise, function, [(old, new), ...], a phrase the failing tests' hints must contain)
MUTANTS = [
    # -- 1. numerical_grad ----------------------------------------------------------------------
    ("forward_difference", "numerical_grad", "numerical_grad",
     [("xw[i] = original - h", "xw[i] = original"), ("/ (2 * h)", "/ h")],
     "central difference"),
    ("divides_by_h", "numerical_grad", "numerical_grad", [("/ (2 * h)", "/ h")], "(2h)"),
    ("perturbs_caller_x_without_finally", "numerical_grad", "numerical_grad",
     [("xw = np.array(x, dtype=dtype)", "xw = x")], "finally"),
    ("always_float64", "numerical_grad", "numerical_grad",
     [("grad = np.zeros(xw.shape, dtype=dtype)", "grad = np.zeros(xw.shape)")], "float32 out"),
    # -- 2. rel_error ---------------------------------------------------------------------------
    ("divides_by_a_only", "rel_error", "rel_error",
     [("scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), eps)", "scale = np.abs(a)")],
     "max(|a|, |b|"),
    ("global_ratio", "rel_error", "rel_error",
     [("return float(np.max(np.abs(a - b) / scale))",
       "return float(np.max(np.abs(a - b)) / np.max(scale))")],
     "entry by entry"),
    ("nanmax_hides_nan", "rel_error", "rel_error", [("np.max(", "np.nanmax(")], "nanmax"),
    ("mean_not_max", "rel_error", "rel_error", [("np.max(", "np.mean(")], "max over entries"),
    # -- 3. unbroadcast -------------------------------------------------------------------------
    ("forgets_size1_axes", "unbroadcast", "unbroadcast",
     [("    if ones:\n        out = out.sum(axis=ones, keepdims=True)\n"
       "    return out.reshape(shape)",
       "    return out")],
     "size 1"),
    ("no_keepdims", "unbroadcast", "unbroadcast",
     [("out = out.sum(axis=ones, keepdims=True)\n    return out.reshape(shape)",
       "out = out.sum(axis=ones)\n    return out")],
     "keepdims"),
    ("aligns_from_the_left", "unbroadcast", "unbroadcast",
     [("out = grad.sum(axis=tuple(range(extra))) if extra else grad",
       "out = grad.sum(axis=tuple(range(len(shape), grad.ndim))) if extra else grad"),
      ("grad.shape[extra:]", "grad.shape[: len(shape)]")],
     "from the right"),
    ("all_ones_target_gives_a_scalar", "unbroadcast", "unbroadcast",
     [("    out = grad.sum(axis=tuple(range(extra))) if extra else grad\n",
       "    if all(s == 1 for s in shape):\n        return grad.sum()  # a scalar operand\n"
       "    out = grad.sum(axis=tuple(range(extra))) if extra else grad\n")],
     "keepdims=True"),
    ("never_raises", "unbroadcast", "unbroadcast",
     [("    if extra < 0 or any(", "    if False and any("),
      ("    return out.reshape(shape)", "    return out")],
     "Raise ValueError"),
    # -- 4a. elementwise rules ------------------------------------------------------------------
    ("relu_grad_at_zero_is_one", "rules_elementwise", "relu_backward",
     [("(x > 0)", "(x >= 0)")], "x > 0, not x >= 0"),
    ("mul_swapped", "rules_elementwise", "mul_backward",
     [("return grad_out * b, grad_out * a", "return grad_out * a, grad_out * b")],
     "Local derivative"),
    ("tanh_derivative_dropped", "rules_elementwise", "tanh_backward",
     [("return grad_out * (1 - t * t)", "return grad_out")], "Local derivative"),
    ("truediv_missing_square", "rules_elementwise", "truediv_backward",
     [("-grad_out * a / (b * b)", "-grad_out * a / b")], "Local derivative"),
    ("tanh_upcasts_float32", "rules_elementwise", "tanh_backward",
     [("(1 - t * t)", "(np.float64(1.0) - t * t)")], "Python numbers"),
    # -- 4b. shape rules ------------------------------------------------------------------------
    ("matmul_missing_transposes", "rules_shape", "matmul_backward",
     [("return grad_out @ b.T, a.T @ grad_out", "return grad_out @ b, a @ grad_out")],
     "Swapped transposes"),
    ("matmul_operands_swapped", "rules_shape", "matmul_backward",
     [("return grad_out @ b.T, a.T @ grad_out", "return (a.T @ grad_out).T, (grad_out @ b.T).T")],
     "Swapped transposes"),
    ("mean_without_1_over_n", "rules_shape", "mean_backward",
     [("/ max(n, 1)", "")], "divide the gradient by n"),
    ("getitem_assigns", "rules_shape", "getitem_backward",
     [("np.add.at(grad, index, grad_out)", "grad[index] = grad_out")], "np.add.at"),
    ("transpose_same_axes", "rules_shape", "transpose_backward",
     [("np.argsort(axes)", "axes")], "argsort"),
    ("sum_without_expand_dims", "rules_shape", "sum_backward",
     [("    if not keepdims:\n        g = np.expand_dims(g, axes)\n", "")], "expand_dims"),
    # -- 5. backward ----------------------------------------------------------------------------
    ("assigns_instead_of_adding", "backward", "backward",
     [("totals[key] = g_parent if key not in totals else totals[key] + g_parent",
       "totals[key] = g_parent")],
     "(+=)"),
    ("leaf_grad_overwritten", "backward", "backward",
     [("node.grad = g.copy() if node.grad is None else node.grad + g", "node.grad = g.copy()")],
     "accumulate across forward passes"),
    ("intermediate_nodes_keep_grad", "backward", "backward",
     [("        if not node._parents:\n", "        if node._parents:\n            node.grad = g\n"
       "        if not node._parents:\n")],
     "intermediate nodes keep .grad = None"),
    ("recursive_use_count", "backward", "backward",
     [("""    uses, seen, stack = {}, {id(self)}, [self]
    while stack:
        node = stack.pop()
        for parent in node._parents:
            uses[id(parent)] = uses.get(id(parent), 0) + 1
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
""", """    uses, seen = {}, {id(self)}

    def count(node):
        for parent in node._parents:
            uses[id(parent)] = uses.get(id(parent), 0) + 1
            if id(parent) not in seen:
                seen.add(id(parent))
                count(parent)

    count(self)
""")],
     "explicit stack"),
    ("ready_on_first_arrival", "backward", "backward",
     [("""            uses[key] -= 1
            if uses[key] == 0:
                ready.append(parent)""", """            if uses[key] > 0:  # at once
                uses[key] = 0
                ready.append(parent)""")],
     "topological order in reverse"),
    ("vector_seeded_with_ones", "backward", "backward",
     [('            raise RuntimeError("grad can be implicitly created only for scalar outputs")\n',
       "            pass\n")],
     "RuntimeError"),
]  # fmt: skip


def mutant_source(function: str, edits: list[tuple[str, str]]) -> str:
    src = solution_function(function)
    for old, new in edits:
        assert old in src, f"mutant edit no longer applies to `{function}`: {old!r}"
        src = src.replace(old, new)
    return src


def full_marks(ex: dict) -> bool:
    return abs(ex["score"] - ex["max_score"]) < 1e-9


def test_every_exercise_has_three_mutants():
    counts = {ex: sum(1 for m in MUTANTS if m[1] == ex) for ex in EXERCISES}
    assert all(n >= 3 for n in counts.values()), counts


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutant_loses_points(mutant):
    name, exercise, function, edits, hint = mutant
    # The first mutant of each exercise is graded in full, to show the other exercises keep
    # their marks; the others only in their own exercise, which keeps the suite lean.
    first = next(m[0] for m in MUTANTS if m[1] == exercise) == name
    only = None if first else [exercise]
    rep = grade_with(LESSON, {function: mutant_source(function, edits)}, only=only)
    assert not rep["grader_faults"], rep["grader_faults"]
    assert [e["name"] for e in rep["exercises"]] == (list(EXERCISES) if first else [exercise])
    ex = rep.exercise(exercise)
    assert ex["score"] < ex["max_score"], f"{name}: {exercise} kept {ex['score']}/{ex['max_score']}"
    hints = " ".join(t.get("hint") or "" for t in ex["tests"] if t["status"] != "passed")
    assert hint in hints, f"{name}: no failing test's hint mentions {hint!r}; hints: {hints}"
    others = {
        e["name"]: (e["score"], e["max_score"]) for e in rep["exercises"] if e["name"] != exercise
    }
    assert all(full_marks(e) for e in rep["exercises"] if e["name"] != exercise), others


def test_solution_scores_full_marks():
    rep = grade_notebook(SOLUTION, lesson=LESSON)
    assert not rep["grader_faults"], rep["grader_faults"]
    assert [e["name"] for e in rep["exercises"]] == list(EXERCISES)
    assert rep["score"] == rep["max_score"] == 22, (rep["score"], rep["max_score"])


def test_lesson_scores_zero_all_missing():
    assert LESSON_NB.exists(), "run python -m nnlite course build"
    rep = grade_notebook(LESSON_NB, lesson=LESSON)
    assert not rep["grader_faults"], rep["grader_faults"]
    assert rep["score"] == 0
    assert {e["name"]: e["status"] for e in rep["exercises"]} == dict.fromkeys(EXERCISES, "missing")


# Trivial answers: every exercise at once (they are graded independently).
_RULE_ARGS = {
    "add_backward": "a, b, grad_out",
    "sub_backward": "a, b, grad_out",
    "mul_backward": "a, b, grad_out",
    "truediv_backward": "a, b, grad_out",
    "matmul_backward": "a, b, grad_out",
    "neg_backward": "x, grad_out",
    "exp_backward": "x, grad_out",
    "log_backward": "x, grad_out",
    "tanh_backward": "x, grad_out",
    "relu_backward": "x, grad_out",
    "reshape_backward": "x, grad_out",
    "pow_backward": "x, grad_out, p",
    "sum_backward": "x, grad_out, axes, keepdims",
    "mean_backward": "x, grad_out, axes, keepdims",
    "transpose_backward": "x, grad_out, axes",
    "getitem_backward": "x, grad_out, index",
}
_TRIVIAL = {
    # answer(expr for an array shaped like `like`), with `like` and `arr` filled in per function
    "zeros": "np.zeros(np.shape({like}))",
    "unchanged": "np.asarray({arr})",
    "random": "np.random.default_rng(0).normal(size=np.shape({like}))",
}


def trivial_cells(kind: str) -> list[str]:
    answer = _TRIVIAL[kind]
    cells = [
        f"def numerical_grad(f, x, h=1e-6):\n    return {answer.format(like='x', arr='x')}",
        "def rel_error(a, b, eps=1e-12):\n    return "
        + {
            "zeros": "0.0",
            "unchanged": "float(np.max(np.abs(np.asarray(a, dtype=float)), initial=0.0))",
            "random": "float(np.random.default_rng(0).random())",
        }[kind],  # fmt: skip
        "def unbroadcast(grad, shape):\n    return "
        + answer.format(like="np.empty(shape)", arr="grad"),
    ]
    for name, args in _RULE_ARGS.items():
        if args.startswith("a, b"):
            body = (
                f"return {answer.format(like='a', arr='grad_out')}, "
                f"{answer.format(like='b', arr='grad_out')}"
            )
        else:
            body = f"return {answer.format(like='x', arr='grad_out')}"
        cells.append(f"def {name}({args}):\n    {body}")
    cells.append(
        "def backward(self, grad=None):\n    pass"
        if kind != "random"
        else "def backward(self, grad=None):\n"
        "    self.grad = np.random.default_rng(0).normal(size=self.data.shape)"
    )
    return cells


@pytest.mark.parametrize("kind", sorted(_TRIVIAL))
def test_trivial_answers_earn_little(kind):
    rep = grade_with(LESSON, trivial_cells(kind))
    assert not rep["grader_faults"], rep["grader_faults"]
    shares = {e["name"]: e["score"] / e["max_score"] for e in rep["exercises"]}
    assert all(v <= TRIVIAL_MAX_FRACTION for v in shares.values()), shares


# Own work (R13): an answer that only imports or wraps nnlite's version earns nothing.
_WRAPPERS = [
    "import nnlite\n\n\ndef numerical_grad(f, x, h=1e-6):\n"
    "    return nnlite.numerical_grad(f, np.array(x, dtype=float), h)",
    "from nnlite.gradcheck import rel_error",
    "from nnlite.backprop import unbroadcast",
    *(f"from nnlite.backprop import {name}" for name in _RULE_ARGS),
    "from nnlite.backprop import backward",
]


def test_wrapping_nnlite_earns_nothing():
    pytest.importorskip("nnlite.grading.ownwork", reason="own-work redaction not available")
    rep = grade_with(LESSON, _WRAPPERS)
    assert not rep["grader_faults"], rep["grader_faults"]
    scores = {e["name"]: e["score"] for e in rep["exercises"]}
    assert all(v == 0 for v in scores.values()), scores
