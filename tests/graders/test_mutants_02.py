"""Mutation tests of lesson 02's grader: known-wrong implementations must lose points.

Each mutant is the solution notebook's exercise cell with one plausible mistake written in
(derived from the cell's own source by a textual replacement, so the mutant stays in step with
the solution), appended as a last cell; the last definition wins, so it replaces the solution's
definition, and the notebook is graded through the real grader
(:func:`nnlite.grading.testing.grade_with`, the same path as ``python -m nnlite grade``).

For every mutant: its exercise loses points, the other exercises keep full marks, and a failing
test of that exercise carries the hint that names the misconception. Equivalent rewrites (the
textbook momentum form ``v = mu v - lr g; p += v``, a zero-initialised buffer) keep full marks.
Trivial answers (constants, the input returned, doing nothing, random arrays of the right
shape) earn at most 20 % of an exercise's points, and the generated lesson scores 0 with status
"missing" everywhere.

Each grading case grades a whole notebook (about 1-3 s) and is marked slow. The visible checks
of ``nnlite.checks.l02_mlp`` are tested here too (fast): the solution passes them, the common
mutants fail them, and ``check.use`` falls back to nnlite while an exercise is a stub.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from nnlite.grading import testing

LESSON = "02_mlp"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = ["linear", "cross_entropy", "sgd", "mlp", "count_parameters", "training_loop"]
TRIVIAL_MAX_FRACTION = 0.2


exercise_source = functools.partial(testing.exercise_source, LESSON)
mutate = functools.partial(testing.mutate, LESSON)
grade = functools.partial(testing.grade_cells, LESSON)


# ----------------------------------------------------------------------------------- mutants
# (id, exercise, edits, a word of the hint that must accompany a failing test)

MUTANTS = [
    # --- Linear
    (
        "linear_x_at_W_in_out",
        "linear",
        [
            ("size=(out_features, in_features)", "size=(in_features, out_features)"),
            ("out = x @ self.weight.T", "out = x @ self.weight"),
        ],
        "(out_features, in_features)",
    ),
    (
        "linear_bound_fan_out",
        "linear",
        [("np.sqrt(in_features)", "np.sqrt(out_features)")],
        "fan-in",
    ),
    (
        "linear_normal_init",
        "linear",
        [
            (
                "gen.uniform(-bound, bound, size=(out_features, in_features))",
                "gen.normal(0.0, bound, size=(out_features, in_features))",
            )
        ],
        "uniformly",
    ),
    ("linear_forgets_bias", "linear", [("out = out + self.bias", "pass")], "x @ W.T + b"),
    (
        "linear_zero_bias_init",
        "linear",
        [
            (
                "Parameter(gen.uniform(-bound, bound, size=(out_features,)))",
                "Parameter(np.zeros(out_features))",
            )
        ],
        "bias",
    ),
    (
        "linear_forward_on_data",
        "linear",
        [
            ("out = x @ self.weight.T", "out = Tensor(x.data @ self.weight.data.T)"),
            ("out = out + self.bias", "out = Tensor(out.data + self.bias.data)"),
        ],
        "backward()",
    ),
    (
        "linear_ignores_rng",
        "linear",
        [("np.random.default_rng(rng)", "np.random.default_rng()")],
        "default_rng(rng)",
    ),
    # --- log_softmax / cross_entropy
    (
        "ce_no_max_subtraction",
        "cross_entropy",
        [("shift = logits.data.max(axis=axis, keepdims=True)", "shift = 0.0")],
        "maximum",
    ),
    (
        "ce_softmax_over_axis_0",
        "cross_entropy",
        [
            ("logits.data.max(axis=axis, keepdims=True)", "logits.data.max(axis=0, keepdims=True)"),
            (
                "shifted.exp().sum(axis=axis, keepdims=True)",
                "shifted.exp().sum(axis=0, keepdims=True)",
            ),
        ],
        "given axis",
    ),
    (
        "ce_global_max",
        "cross_entropy",
        [("shift = logits.data.max(axis=axis, keepdims=True)", "shift = logits.data.max()")],
        "own maximum",
    ),
    (
        "ce_mean_is_sum",
        "cross_entropy",
        [("return losses.mean()", "return losses.sum()")],
        "'mean'",
    ),
    (
        "ce_none_is_mean",
        "cross_entropy",
        [
            (
                "return losses.sum()\n    return losses",
                "return losses.sum()\n    return losses.mean()",
            )
        ],
        "'none'",
    ),
    ("ce_no_range_check", "cross_entropy", [("if outside.any():", "if False:")], "-1"),
    (
        "ce_ignores_axis",
        "cross_entropy",
        [
            ("sum(axis=axis, keepdims=True)", "sum(axis=-1, keepdims=True)"),
            ("max(axis=axis, keepdims=True)", "max(axis=-1, keepdims=True)"),
        ],
        "axis",
    ),
    (
        "ce_loss_off_the_graph",
        "cross_entropy",
        [("    losses = -picked\n", "    losses = Tensor(-picked.data)\n")],
        "backward()",
    ),
    # --- SGD
    (
        "sgd_lr_applied_twice",
        "sgd",
        [
            ("self.buffers[i] = g.copy()", "self.buffers[i] = self.lr * g"),
            (
                "self.momentum * self.buffers[i] + g",
                "self.momentum * self.buffers[i] + self.lr * g",
            ),
        ],
        "multiplies the buffer once",
    ),
    (
        "sgd_one_shared_buffer",
        "sgd",
        [("self.buffers[i]", "self.buffers[0]")],
        "its own buffer",
    ),
    (
        "sgd_decoupled_weight_decay",
        "sgd",
        [
            ("g = p.grad + self.weight_decay * p.data", "g = p.grad"),
            (
                "p.data -= self.lr * g",
                "p.data -= self.lr * g\n            p.data -= self.lr * self.weight_decay * p.data",
            ),
        ],
        "AdamW",
    ),
    ("sgd_zero_grad_zeros", "sgd", [("p.grad = None", "p.grad = np.zeros_like(p.data)")], "None"),
    (
        "sgd_keeps_the_generator",
        "sgd",
        [
            ("self.params = list(params)", "self.params = params"),
            ("self.buffers = [None] * len(self.params)", "self.buffers = {}"),
            ("if self.buffers[i] is None:", "if self.buffers.get(i) is None:"),
        ],
        "generator",
    ),
    (
        "sgd_dampened_momentum",
        "sgd",
        [
            (
                "self.momentum * self.buffers[i] + g",
                "self.momentum * self.buffers[i] + (1 - self.momentum) * g",
            )
        ],
        "momentum * buf + g",
    ),
    (
        "sgd_steps_without_gradient",
        "sgd",
        [("            if p.grad is None:\n                continue\n", "")],
        "None",
    ),
    # --- MLP
    ("mlp_relu_after_last_layer", "mlp", [("if i < len(sizes) - 2:", "if True:")], "last layer"),
    (
        "mlp_no_activation",
        "mlp",
        [
            (
                '                layers.append(ReLU() if activation == "relu" else Tanh())\n',
                "                pass\n",
            )
        ],
        "between the Linear layers",
    ),
    (
        "mlp_plain_list",
        "mlp",
        [
            ("self.layers = Sequential(*layers)", "self.layers = layers"),
            (
                "return self.layers(x)",
                "for layer in self.layers:\n            x = layer(x)\n        return x",
            ),
        ],
        "plain list",
    ),
    (
        "mlp_relu_on_the_logits",
        "mlp",
        [("return self.layers(x)", "return self.layers(x).relu()")],
        "last layer",
    ),
    (
        "mlp_generator_per_layer",
        "mlp",
        [("rng=gen)", "rng=np.random.default_rng(rng))")],
        "ONE generator",
    ),
    ("mlp_always_relu", "mlp", [('ReLU() if activation == "relu" else Tanh()', "ReLU()")], "tanh"),
    # --- count_parameters
    (
        "count_weights_only",
        "count_parameters",
        [("for p in model.parameters()", "for p in model.parameters() if p.data.ndim > 1")],
        "biases",
    ),
    (
        "count_tensors",
        "count_parameters",
        [("int(sum(p.data.size for p in model.parameters()))", "len(list(model.parameters()))")],
        "p.size",
    ),
    (
        "count_rows_times_columns",
        "count_parameters",
        [("p.data.size", "p.shape[0] * p.shape[1]")],
        "p.size",
    ),
    ("count_as_float", "count_parameters", [("int(sum(", "float(sum(")], "int"),
    # --- train_epoch / evaluate
    (
        "train_unweighted_batch_mean",
        "training_loop",
        [
            ("total += loss.item() * len(idx)", "total += loss.item()"),
            ("return total / n", "return total / -(-n // batch_size)"),
        ],
        "weight each batch",
    ),
    (
        "train_last_batch_loss",
        "training_loop",
        [("return total / n", "return loss.item()")],
        "mean over all examples",
    ),
    (
        "train_forgets_zero_grad",
        "training_loop",
        [("        opt.zero_grad()\n", "")],
        "zero the gradients",
    ),
    (
        "train_no_shuffle",
        "training_loop",
        [("order = rng.permutation(n)", "order = np.arange(n)")],
        "rng.permutation",
    ),
    (
        "evaluate_percentage",
        "training_loop",
        [("correct / n", "100.0 * correct / n")],
        "percentage",
    ),
    ("evaluate_builds_graph", "training_loop", [("with nnlite.no_grad():", "if True:")], "no_grad"),
    (
        "evaluate_summed_loss",
        "training_loop",
        [("return total_loss / n,", "return total_loss,")],
        "mean loss",
    ),
    (
        "evaluate_without_argmax",
        "training_loop",
        [
            (
                "correct += int(np.sum(logits.data.argmax(axis=1) == labels))",
                "correct += float(np.exp(log_softmax(logits).data)"
                "[np.arange(len(labels)), labels].sum())",
            )
        ],
        "argmax",
    ),
]

EQUIVALENT = [
    (
        "sgd_textbook_momentum",
        "sgd",
        [
            ("self.buffers[i] = g.copy()", "self.buffers[i] = -self.lr * g"),
            (
                "self.buffers[i] = self.momentum * self.buffers[i] + g",
                "self.buffers[i] = self.momentum * self.buffers[i] - self.lr * g",
            ),
            (
                "                g = self.buffers[i]\n            p.data -= self.lr * g",
                "                p.data += self.buffers[i]\n            else:\n"
                "                p.data -= self.lr * g",
            ),
        ],
    ),
    (
        "sgd_zero_initialised_buffer",
        "sgd",
        [("self.buffers[i] = g.copy()", "self.buffers[i] = self.momentum * np.zeros_like(g) + g")],
    ),
    (
        "linear_random_then_scale",
        "linear",
        [
            (
                "gen.uniform(-bound, bound, size=(out_features, in_features))",
                "(2 * gen.random(size=(out_features, in_features)) - 1) * bound",
            ),
            (
                "gen.uniform(-bound, bound, size=(out_features,))",
                "(2 * gen.random(size=(out_features,)) - 1) * bound",
            ),
        ],
    ),
    (
        "evaluate_without_batches",
        "training_loop",
        [
            (
                "for start in range(0, n, batch_size):\n            logits",
                "for start in range(0, n, n):\n            logits",
            ),
            ("X[start : start + batch_size]", "X[start : start + n]"),
            ("y[start : start + batch_size]", "y[start : start + n]"),
        ],
    ),
]

TRIVIAL = {
    "linear": """
class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, rng=None):
        super().__init__()
        self.weight = Parameter(np.zeros((out_features, in_features)))
        self.bias = Parameter(np.zeros(out_features)) if bias else None

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        return Tensor(np.zeros(x.shape[:-1] + (self.weight.shape[0],)))
""",
    "cross_entropy": """
def log_softmax(logits, axis=-1):
    return logits


def cross_entropy(logits, target, reduction="mean"):
    return Tensor(0.0)
""",
    "sgd": """
class SGD:
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.params = list(params)

    def zero_grad(self):
        pass

    def step(self):
        pass
""",
    "mlp": """
class MLP(Module):
    def __init__(self, sizes, activation="relu", rng=None):
        super().__init__()
        self.sizes = list(sizes)

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        return Tensor(np.zeros((x.shape[0], self.sizes[-1])))
""",
    "count_parameters": """
def count_parameters(model):
    return 101770
""",
    "training_loop": """
def train_epoch(model, X, y, opt, batch_size, rng):
    return 0.0


def evaluate(model, X, y, batch_size=2000):
    return 0.0, 0.0
""",
}

RANDOM_ANSWERS = {
    "linear": """
class Linear(Module):
    def __init__(self, in_features, out_features, bias=True, rng=None):
        super().__init__()
        gen = np.random.default_rng(rng)
        self.weight = Parameter(gen.normal(size=(out_features, in_features)))
        self.bias = Parameter(gen.normal(size=out_features)) if bias else None

    def forward(self, x):
        x = x if isinstance(x, Tensor) else Tensor(x)
        return Tensor(np.random.default_rng(0).normal(size=x.shape[:-1] + (self.weight.shape[0],)))
""",
    "cross_entropy": """
def log_softmax(logits, axis=-1):
    return Tensor(np.random.default_rng(0).normal(size=logits.shape))


def cross_entropy(logits, target, reduction="mean"):
    return Tensor(np.random.default_rng(0).random())
""",
    "training_loop": """
def train_epoch(model, X, y, opt, batch_size, rng):
    return float(rng.random())


def evaluate(model, X, y, batch_size=2000):
    return float(np.random.default_rng(0).random()), float(np.random.default_rng(1).random())
""",
}


# ------------------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_solution_scores_full_marks():
    rep = grade({})
    for ex in rep["exercises"]:
        assert ex["status"] == "passed" and ex["score"] == ex["max_score"], ex["name"]
    assert rep["max_score"] == 25
    assert [ex["name"] for ex in rep["exercises"]] == EXERCISES


@pytest.mark.slow
def test_generated_lesson_scores_zero_with_every_exercise_missing():
    from nnlite.grading import grade_notebook

    if not LESSON_NB.is_file():
        pytest.skip("lessons/02_mlp.ipynb has not been generated (python -m nnlite course build)")
    rep = grade_notebook(LESSON_NB)
    assert rep["score"] == 0
    assert {ex["name"]: ex["status"] for ex in rep["exercises"]} == dict.fromkeys(
        EXERCISES, "missing"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name,grade_id,edits,hint_word", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutant_loses_points_in_its_exercise_only(name, grade_id, edits, hint_word):
    # The first mutant of each exercise is graded in full, to show the other exercises keep
    # their marks; the others only in their own exercise, which keeps the suite lean.
    first = next(m[0] for m in MUTANTS if m[1] == grade_id) == name
    rep = grade({grade_id: mutate(grade_id, *edits)}, only=None if first else [grade_id])
    ex = rep.exercise(grade_id)
    assert ex["score"] < ex["max_score"], f"{name} kept full marks"
    assert [e["name"] for e in rep["exercises"]] == (EXERCISES if first else [grade_id])
    for other in rep["exercises"]:
        if other["name"] != grade_id:
            assert other["score"] == other["max_score"], f"{name} cost points in {other['name']}"
    hints = [t.get("hint") or "" for t in ex["tests"] if t["status"] != "passed"]
    assert any(hint_word in h for h in hints), f"{name}: no failing test hints at {hint_word!r}"


@pytest.mark.slow
@pytest.mark.parametrize("name,grade_id,edits", EQUIVALENT, ids=[m[0] for m in EQUIVALENT])
def test_equivalent_rewrite_keeps_full_marks(name, grade_id, edits):
    rep = grade({grade_id: mutate(grade_id, *edits)})
    ex = rep.exercise(grade_id)
    failing = [t["name"] for t in ex["tests"] if t["status"] != "passed"]
    assert ex["score"] == ex["max_score"], f"{name} lost points in {failing}"


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(TRIVIAL))
def test_trivial_answer_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: TRIVIAL[grade_id]})
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(RANDOM_ANSWERS))
def test_random_answer_of_the_right_shape_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: RANDOM_ANSWERS[grade_id]})
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


# ------------------------------------------------------------------------- visible checks (fast)

NOTEBOOK_IMPORTS = """
import numpy as np
import nnlite
from nnlite import Tensor, no_grad
from nnlite.functional import cross_entropy, log_softmax
from nnlite.nn import Linear, Module, Parameter, ReLU, Sequential, Tanh
"""
NAMES = {
    "linear": ["Linear"],
    "cross_entropy": ["log_softmax", "cross_entropy"],
    "sgd": ["SGD"],
    "mlp": ["MLP"],
    "count_parameters": ["count_parameters"],
    "training_loop": ["train_epoch", "evaluate"],
}
# Mutants that the visible checks must already catch (the subtler ones are left to the grader).
CAUGHT_BY_VISIBLE_CHECKS = [
    "linear_x_at_W_in_out",
    "linear_bound_fan_out",
    "linear_normal_init",
    "linear_forgets_bias",
    "linear_forward_on_data",
    "ce_no_max_subtraction",
    "ce_softmax_over_axis_0",
    "ce_mean_is_sum",
    "ce_no_range_check",
    "ce_loss_off_the_graph",
    "sgd_lr_applied_twice",
    "sgd_one_shared_buffer",
    "sgd_decoupled_weight_decay",
    "sgd_zero_grad_zeros",
    "sgd_keeps_the_generator",
    "mlp_relu_after_last_layer",
    "mlp_relu_on_the_logits",
    "mlp_plain_list",
    "mlp_always_relu",
    "count_weights_only",
    "count_tensors",
    "count_as_float",
    "train_unweighted_batch_mean",
    "train_forgets_zero_grad",
    "train_no_shuffle",
    "evaluate_percentage",
    "evaluate_builds_graph",
]


def objects_of(grade_id: str, source: str) -> tuple:
    """The exercise's objects, defined by ``source`` on top of the notebook's imports."""
    ns: dict = {}
    exec(NOTEBOOK_IMPORTS, ns)  # noqa: S102 - the solution notebook's own code, trusted
    exec(source, ns)  # noqa: S102
    return tuple(ns[n] for n in NAMES[grade_id])


def visible_failures(grade_id: str, objs: tuple) -> int:
    import io
    from contextlib import redirect_stdout

    from nnlite.checks import lesson

    check = lesson(LESSON)
    with redirect_stdout(io.StringIO()):
        return 0 if check(grade_id, *objs) else 1


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_visible_checks_pass_on_the_solution(grade_id):
    objs = objects_of(grade_id, exercise_source(grade_id))
    assert visible_failures(grade_id, objs) == 0


@pytest.mark.parametrize("name", CAUGHT_BY_VISIBLE_CHECKS)
def test_visible_checks_catch_common_mistakes(name):
    _name, grade_id, edits, _hint = next(m for m in MUTANTS if m[0] == name)
    objs = objects_of(grade_id, mutate(grade_id, *edits))
    assert visible_failures(grade_id, objs) == 1, f"the visible checks let {name} pass"


FALLBACKS = {
    "linear": "nnlite.nn:Linear",
    "cross_entropy": "nnlite.functional:log_softmax nnlite.functional:cross_entropy",
    "sgd": "nnlite.optim:SGD",
    "mlp": "nnlite.nn:MLP",
    "count_parameters": "nnlite.checks.l02_mlp:fallback_count_parameters",
    "training_loop": "nnlite.checks.l02_mlp:fallback_train_epoch nnlite.train:evaluate",
}


def _fallback(grade_id: str) -> tuple:
    import importlib

    out = []
    for ref in FALLBACKS[grade_id].split():
        module, name = ref.split(":")
        out.append(getattr(importlib.import_module(module), name))
    return tuple(out)


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallbacks_pass_their_own_visible_checks(grade_id):
    assert visible_failures(grade_id, _fallback(grade_id)) == 0


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallback_keeps_a_passing_solution_and_replaces_a_stub(grade_id, capsys):
    from nnlite.checks import lesson

    check = lesson(LESSON)
    objs = objects_of(grade_id, exercise_source(grade_id))
    fallback = _fallback(grade_id)
    fb = fallback if len(fallback) > 1 else fallback[0]
    kept = check.use(grade_id, *objs, fallback=fb)
    assert (kept if isinstance(kept, tuple) else (kept,)) == objs
    assert "Using nnlite" not in capsys.readouterr().out

    def stub(*args, **kwargs):
        raise NotImplementedError(f"{grade_id}: replace this line with your code")

    replaced = check.use(grade_id, *([stub] * len(objs)), fallback=fb)
    assert (replaced if isinstance(replaced, tuple) else (replaced,)) == fallback
    assert f'missing (exercise "{grade_id}")' in capsys.readouterr().out
