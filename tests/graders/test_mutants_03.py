"""Mutation tests of lesson 03's grader: known-wrong implementations must lose points.

Each mutant is the solution notebook's exercise cell with one plausible mistake written in
(derived from the cell's own source by a textual replacement, so the mutant stays in step with
the solution) or, where a mistake changes the whole approach, a complete wrong definition. It is
appended as a last cell (the last definition wins) and graded through the real grader
(:func:`nnlite.grading.testing.grade_with`, the same path as ``python -m nnlite grade``).

For every mutant: its exercise loses points, the other exercises keep full marks, and a failing
test of that exercise carries the hint that names the misconception. Equivalent rewrites (an
ablation that zeroes the outgoing weights of a *copy* of the model) keep full marks. Trivial
answers (zeros, doing nothing, random values of the right shape) earn at most 20 % of an
exercise's points, and the generated lesson scores 0 with status "missing" everywhere.

The grading cases are marked slow. The visible checks of ``nnlite.checks.l03_connection_strength``
are tested here too (fast): the solution passes them, the common mutants fail them, and
``check.use`` falls back to nnlite while an exercise is a stub.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from nnlite.grading import testing

LESSON = "03_connection_strength"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = [
    "unit_sensitivity",
    "ablate",
    "ablation_effect",
    "spearman",
    "connection_weight_importance",
]
TRIVIAL_MAX_FRACTION = 0.2


exercise_source = functools.partial(testing.exercise_source, LESSON)
mutate = functools.partial(testing.mutate, LESSON)
grade = functools.partial(testing.grade_cells, LESSON)


WRONG_SOURCES = {
    "sensitivity_wrt_input": """
def unit_sensitivity(model, x, layer, i_in, j_out):
    xt = Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    model[: 2 * layer + 1](xt)[j_out].backward()
    return float(xt.grad[i_in])
""",
    "sensitivity_reads_the_weight": """
def unit_sensitivity(model, x, layer, i_in, j_out):
    return float(model[2 * layer].weight.data[j_out, i_in])
""",
    "sensitivity_grad_of_the_weight": """
def unit_sensitivity(model, x, layer, i_in, j_out):
    out = model[: 2 * layer + 1](Tensor(np.asarray(x, dtype=np.float64)))
    out[j_out].backward()
    return float(model[2 * layer].weight.grad[j_out, i_in])
""",
    "ablate_zeroes_incoming_weights": """
def ablate(model, layer, units):
    import copy

    silenced = list(units)

    def forward(X):
        clone = copy.deepcopy(model)
        clone[2 * layer - 2].weight.data[silenced, :] = 0.0
        return clone(X if isinstance(X, Tensor) else Tensor(X))

    return forward
""",
    "ablate_mutates_the_model": """
def ablate(model, layer, units):
    n_linear = (len(model) + 1) // 2
    if not 1 <= layer < n_linear:
        raise ValueError("ablate: not a hidden layer")
    model[2 * layer].weight.data[:, list(units)] = 0.0
    return lambda X: model(X if isinstance(X, Tensor) else Tensor(X))
""",
}

# (id, exercise, edits or a WRONG_SOURCES key, a word of the hint that must accompany a failure)
MUTANTS = [
    # --- unit_sensitivity
    (
        "sensitivity_after_the_activation",
        "unit_sensitivity",
        [("model[2 * layer](a)[j_out]", "model[2 * layer : 2 * layer + 2](a)[j_out]")],
        "PRE-activation",
    ),
    (
        "sensitivity_swapped_indices",
        "unit_sensitivity",
        [("(a)[j_out].backward()", "(a)[i_in].backward()"), ("a.grad[i_in]", "a.grad[j_out]")],
        "i_in indexes",
    ),
    ("sensitivity_wrt_input", "unit_sensitivity", "sensitivity_wrt_input", "PRE-activation"),
    ("sensitivity_reads_the_weight", "unit_sensitivity", "sensitivity_reads_the_weight", "read"),
    (
        "sensitivity_grad_of_the_weight",
        "unit_sensitivity",
        "sensitivity_grad_of_the_weight",
        "not the weight",
    ),
    # --- ablate
    ("ablate_zeroes_incoming_weights", "ablate", "ablate_zeroes_incoming_weights", "ACTIVATION"),
    ("ablate_mutates_the_model", "ablate", "ablate_mutates_the_model", "Never change"),
    (
        "ablate_the_pre_activation",
        "ablate",
        [
            ("a = model[: 2 * layer](", "a = model[: 2 * layer - 1]("),
            ("return model[2 * layer :](a", "return model[2 * layer - 1 :](a"),
        ],
        "AFTER the nonlinearity",
    ),
    (
        "ablate_the_layer_below",
        "ablate",
        [
            ("a = model[: 2 * layer](", "a = model[: 2 * layer - 2]("),
            ("return model[2 * layer :](a", "return model[2 * layer - 2 :](a"),
        ],
        "activations are model[:2 * l](X)",
    ),
    (
        "ablate_to_the_mean",
        "ablate",
        [
            (
                "return model[2 * layer :](a * Tensor(mask))",
                "return model[2 * layer :](a * Tensor(mask) + Tensor((1 - mask) * a.data.mean(0)))",
            )
        ],
        "ACTIVATION",
    ),
    # --- ablation_effect
    (
        "effect_sign_flipped",
        "ablation_effect",
        [('damage[j] = worse if metric == "loss" else -worse', "damage[j] = -worse")],
        "minus the intact loss",
    ),
    (
        "effect_cumulative",
        "ablation_effect",
        [("        A[:, j] = kept\n", "")],
        "restoring it",
    ),
    (
        "effect_summed_loss",
        "ablation_effect",
        [
            (
                "F.cross_entropy(logits, y).item()",
                'F.cross_entropy(logits, y, reduction="sum").item()',
            )
        ],
        "mean cross-entropy",
    ),
    (
        "effect_accuracy_in_percent",
        "ablation_effect",
        [
            (
                "return np.mean(logits.argmax(axis=1) == y)",
                "return 100.0 * np.mean(logits.argmax(axis=1) == y)",
            )
        ],
        "not a percentage",
    ),
    # --- spearman
    (
        "spearman_ordinal_ranks_for_ties",
        "spearman",
        [("= (start + end) / 2 + 1", "= np.arange(start, end + 1) + 1")],
        "average of the ranks",
    ),
    (
        "spearman_lowest_rank_for_ties",
        "spearman",
        [("= (start + end) / 2 + 1", "= start + 1")],
        "average of the ranks",
    ),
    (
        "spearman_shortcut_formula",
        "spearman",
        [
            (
                "return float(np.clip(np.sum(ra * rb) / spread, -1.0, 1.0))",
                "return float(1 - 6 * np.sum((ra - rb) ** 2) / (len(a) * (len(a) ** 2 - 1)))",
            )
        ],
        "exact only without ties",
    ),
    (
        "spearman_pearson_of_values",
        "spearman",
        [("ra, rb = average_ranks(a), average_ranks(b)", "ra, rb = a.copy(), b.copy()")],
        "RANKS",
    ),
    (
        "spearman_constant_gives_zero",
        "spearman",
        [
            (
                '    if spread == 0:\n        return float("nan")',
                "    if spread == 0:\n        return 0.0",
            )
        ],
        "float('nan')",
    ),
    # --- connection_weight_importance
    (
        "olden_absolute_values",
        "connection_weight_importance",
        [
            (
                "mats = [np.asarray(w) for w in weights]",
                "mats = [np.abs(np.asarray(w)) for w in weights]",
            )
        ],
        "SIGNED",
    ),
    (
        "olden_transposed",
        "connection_weight_importance",
        [("    return product", "    return product.T")],
        "(n_out, n_in)",
    ),
    (
        "olden_first_two_matrices_only",
        "connection_weight_importance",
        [("zip(mats, mats[1:])", "zip(mats, mats[1:2])")],
        "every matrix",
    ),
    (
        "olden_normalised_like_garson",
        "connection_weight_importance",
        [
            (
                "    return product",
                "    return np.abs(product) / np.abs(product).sum(axis=1, keepdims=True)",
            )
        ],
        "SIGNED",
    ),
]

EQUIVALENT = {
    "ablate": """
def ablate(model, layer, units):
    import copy

    n_linear = (len(model) + 1) // 2
    if not 1 <= layer < n_linear:
        raise ValueError("ablate: not a hidden layer")
    clone = copy.deepcopy(model)
    clone[2 * layer].weight.data[:, list(units)] = 0.0
    return lambda X: clone(X if isinstance(X, Tensor) else Tensor(X))
""",
    "connection_weight_importance": """
def connection_weight_importance(weights):
    import functools

    if len(weights) == 0:
        raise ValueError("connection_weight_importance: no weights given")
    mats = [np.asarray(w) for w in weights]
    dtype = np.result_type(*mats, np.float32)
    for first, second in zip(mats, mats[1:]):
        if second.shape[1] != first.shape[0]:
            raise ValueError(f"{second.shape} cannot follow {first.shape}")
    return functools.reduce(lambda acc, w: w.astype(dtype) @ acc, mats[1:], mats[0].astype(dtype))
""",
}

TRIVIAL = {
    "unit_sensitivity": """
def unit_sensitivity(model, x, layer, i_in, j_out):
    return 0.0
""",
    "ablate": """
def ablate(model, layer, units):
    return lambda X: model(X if isinstance(X, Tensor) else Tensor(X))
""",
    "ablation_effect": """
def ablation_effect(model, X, y, layer, metric="loss"):
    return np.zeros(model[2 * layer - 2].out_features)
""",
    "spearman": """
def spearman(a, b):
    return 0.0
""",
    "connection_weight_importance": """
def connection_weight_importance(weights):
    return np.zeros((np.shape(weights[-1])[0], np.shape(weights[0])[1]))
""",
}

RANDOM_ANSWERS = {
    "unit_sensitivity": """
def unit_sensitivity(model, x, layer, i_in, j_out):
    return float(np.random.default_rng(0).normal())
""",
    "ablation_effect": """
def ablation_effect(model, X, y, layer, metric="loss"):
    return np.random.default_rng(0).normal(size=model[2 * layer - 2].out_features)
""",
    "spearman": """
def spearman(a, b):
    return float(np.random.default_rng(0).uniform(-1, 1))
""",
    "connection_weight_importance": """
def connection_weight_importance(weights):
    shape = (np.shape(weights[-1])[0], np.shape(weights[0])[1])
    return np.random.default_rng(0).normal(size=shape)
""",
}


def mutant_source(grade_id: str, edits) -> str:
    return WRONG_SOURCES[edits] if isinstance(edits, str) else mutate(grade_id, *edits)


# ------------------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_solution_scores_full_marks():
    rep = grade({})
    for ex in rep["exercises"]:
        assert ex["status"] == "passed" and ex["score"] == ex["max_score"], ex["name"]
    assert rep["max_score"] == 18
    assert [ex["name"] for ex in rep["exercises"]] == EXERCISES


@pytest.mark.slow
def test_generated_lesson_scores_zero_with_every_exercise_missing():
    from nnlite.grading import grade_notebook

    if not LESSON_NB.is_file():
        pytest.skip(
            f"lessons/{LESSON}.ipynb has not been generated (python -m nnlite course build)"
        )
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
    rep = grade({grade_id: mutant_source(grade_id, edits)}, only=None if first else [grade_id])
    ex = rep.exercise(grade_id)
    assert ex["score"] < ex["max_score"], f"{name} kept full marks"
    assert [e["name"] for e in rep["exercises"]] == (EXERCISES if first else [grade_id])
    for other in rep["exercises"]:
        if other["name"] != grade_id:
            assert other["score"] == other["max_score"], f"{name} cost points in {other['name']}"
    hints = [t.get("hint") or "" for t in ex["tests"] if t["status"] != "passed"]
    assert any(hint_word in h for h in hints), f"{name}: no failing test hints at {hint_word!r}"


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(EQUIVALENT))
def test_equivalent_rewrite_keeps_full_marks(grade_id):
    rep = grade({grade_id: EQUIVALENT[grade_id]}, only=[grade_id])
    ex = rep.exercise(grade_id)
    failing = [t["name"] for t in ex["tests"] if t["status"] != "passed"]
    assert ex["score"] == ex["max_score"], f"{grade_id} lost points in {failing}"


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(TRIVIAL))
def test_trivial_answer_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: TRIVIAL[grade_id]}, only=[grade_id])
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


@pytest.mark.slow
@pytest.mark.parametrize("grade_id", list(RANDOM_ANSWERS))
def test_random_answer_of_the_right_shape_earns_at_most_a_small_fraction(grade_id):
    rep = grade({grade_id: RANDOM_ANSWERS[grade_id]}, only=[grade_id])
    ex = rep.exercise(grade_id)
    assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (grade_id, ex["score"])


@pytest.mark.slow
def test_wrapping_nnlite_earns_nothing():
    """R13: an answer that calls nnlite.connection's own version scores 0."""
    wrapped = {
        "spearman": "def spearman(a, b):\n    return connection.spearman(a, b)\n",
        "connection_weight_importance": (
            "def connection_weight_importance(weights):\n"
            "    return connection.connection_weight_importance(weights)\n"
        ),
    }
    rep = grade(wrapped, only=list(wrapped))
    for grade_id in wrapped:
        assert rep.exercise(grade_id)["score"] == 0, grade_id


# ------------------------------------------------------------------------- visible checks (fast)

NOTEBOOK_IMPORTS = """
import numpy as np
from nnlite import Tensor, connection, nn, no_grad
from nnlite import functional as F
from nnlite.connection import activations
"""
# Mutants that the visible checks must already catch (the subtler ones are left to the grader).
CAUGHT_BY_VISIBLE_CHECKS = [
    "sensitivity_after_the_activation",
    "sensitivity_swapped_indices",
    "sensitivity_wrt_input",
    "sensitivity_grad_of_the_weight",
    "ablate_zeroes_incoming_weights",
    "ablate_mutates_the_model",
    "ablate_the_layer_below",
    "ablate_to_the_mean",
    "effect_sign_flipped",
    "effect_cumulative",
    "effect_summed_loss",
    "effect_accuracy_in_percent",
    "spearman_ordinal_ranks_for_ties",
    "spearman_lowest_rank_for_ties",
    "spearman_shortcut_formula",
    "spearman_pearson_of_values",
    "spearman_constant_gives_zero",
    "olden_absolute_values",
    "olden_transposed",
    "olden_first_two_matrices_only",
    "olden_normalised_like_garson",
]


def objects_of(grade_id: str, source: str) -> tuple:
    """The exercise's object, defined by ``source`` on top of the notebook's imports."""
    ns: dict = {}
    exec(NOTEBOOK_IMPORTS, ns)  # noqa: S102 - the solution notebook's own code, trusted
    exec(source, ns)  # noqa: S102
    return (ns[grade_id],)


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
    objs = objects_of(grade_id, mutant_source(grade_id, edits))
    assert visible_failures(grade_id, objs) == 1, f"the visible checks let {name} pass"


def _fallback(grade_id: str):
    from nnlite import connection

    return getattr(connection, grade_id)


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallbacks_pass_their_own_visible_checks(grade_id):
    assert visible_failures(grade_id, (_fallback(grade_id),)) == 0


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallback_keeps_a_passing_solution_and_replaces_a_stub(grade_id, capsys):
    from nnlite.checks import lesson

    check = lesson(LESSON)
    (obj,) = objects_of(grade_id, exercise_source(grade_id))
    assert check.use(grade_id, obj, fallback=_fallback(grade_id)) is obj
    assert "Using nnlite" not in capsys.readouterr().out

    def stub(*args, **kwargs):
        raise NotImplementedError(f"{grade_id}: replace this line with your code")

    assert check.use(grade_id, stub, fallback=_fallback(grade_id)) is _fallback(grade_id)
    assert f'missing (exercise "{grade_id}")' in capsys.readouterr().out
