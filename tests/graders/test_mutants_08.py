"""Mutation tests of lesson 08's grader: known-wrong implementations must lose points.

Each mutant is the solution notebook's exercise cell with one plausible mistake written in (a
textual replacement of the cell's own source, so mutants stay in step with the solution),
appended as a last cell and graded through the real grader (:func:`grade_with`, the same path
as ``python -m nnlite grade``). For every mutant its exercise loses points, the other exercises
keep full marks (shown for the first mutant of each exercise), and a failing test carries the
hint that names the misconception. Trivial answers (zeros, the input echoed, random arrays of
the right shape) earn at most 20 % of an exercise, wrapping nnlite's own version earns nothing,
and the generated lesson scores 0 with every exercise "missing".

Grading cases are marked slow (about 1-3 s each). The visible checks of
``nnlite.checks.l08_preferred_inputs`` are tested here too (fast): the solution and the
fallbacks pass them, the common mutants fail them, and ``check.use`` falls back to nnlite while
an exercise is a stub.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from nnlite.grading import testing
from nnlite.grading.testing import GradeResult, grade_with

LESSON = "08_preferred_inputs"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = [
    "top_k_activating",
    "occlusion_map",
    "saliency",
    "deletion_drop",
    "activation_maximization",
]
TRIVIAL_MAX_FRACTION = 0.2


exercise_source = functools.partial(testing.exercise_source, LESSON)
mutate = functools.partial(testing.mutate, LESSON)


def grade(cells: dict[str, str] | list[str], only: list[str] | None = None) -> GradeResult:
    rep = grade_with(LESSON, cells, only=only)
    assert not rep.get("grader_faults"), rep.get("grader_faults")
    return rep


# ----------------------------------------------------------------------------------- mutants
# (id, exercise, edits, a word of the hint that must accompany a failing test)

MUTANTS = [
    # --- top_k_activating
    (
        "topk_ascending",
        "top_k_activating",
        [("np.argsort(-acts, kind=", "np.argsort(acts, kind=")],
        "largest",
    ),
    (
        "topk_ties_higher_index_first",
        "top_k_activating",
        [('np.argsort(-acts, kind="stable")[:k]', "np.argsort(acts)[::-1][:k]")],
        "lower index",
    ),
    (
        "topk_negative_layer_unsupported",
        "top_k_activating",
        [("range(layer % len(model) + 1)", "range(layer + 1)")],
        "negative layer",
    ),
    (
        "topk_always_first_layer",
        "top_k_activating",
        [("range(layer % len(model) + 1)", "range(1)")],
        "model[layer]",
    ),
    # --- occlusion_map
    (
        "occlusion_reports_logit",
        "occlusion_map",
        [
            (
                "p = probabilities(model, np.vstack([x.reshape(1, -1)] + covered))[:, target]",
                "p = np.asarray(model(Tensor(np.vstack([x.reshape(1, -1)] + covered))).data)"
                "[:, target]",
            )
        ],
        "not logits",
    ),
    (
        "occlusion_one_position_short",
        "occlusion_map",
        [
            ("range(0, height - patch + 1, stride)", "range(0, height - patch, stride)"),
            ("range(0, width - patch + 1, stride)", "range(0, width - patch, stride)"),
        ],  # fmt: skip
        "positions",
    ),
    (
        "occlusion_covered_probability",
        "occlusion_map",
        [("return (p[0] - p[1:])", "return (p[1:])")],
        "covered probability alone",
    ),
    (
        "occlusion_rows_and_columns_swapped",
        "occlusion_map",
        [
            (
                "img[r : r + patch, c : c + patch] = fill",
                "img.T[r : r + patch, c : c + patch] = fill",
            )
        ],
        "rows",
    ),
    # --- saliency
    (
        "saliency_of_the_probability",
        "saliency",
        [
            (
                "logits = model(xt)",
                "logits = model(xt)\n    logits = logits.exp() / "
                "logits.exp().sum(axis=-1, keepdims=True)",
            )
        ],  # fmt: skip
        "softmax probability",
    ),
    (
        "saliency_forgets_times_input",
        "saliency",
        [("return grad * x", "return grad")],
        "multiplied by x",
    ),
    (
        "saliency_sum_of_all_logits",
        "saliency",
        [("chosen.backward()", "logits.sum().backward()")],
        "sum of all",
    ),
    (
        "saliency_absolute_value",
        "saliency",
        [
            (
                "grad = np.asarray(xt.grad, dtype=np.float64)",
                "grad = np.abs(np.asarray(xt.grad, dtype=np.float64))",
            )
        ],  # fmt: skip
        "logit",
    ),
    # --- deletion_drop
    (
        "deletion_over_all_pixels",
        "deletion_drop",
        [("stroke = np.flatnonzero(X[n] != 0)", "stroke = np.arange(X.shape[1])")],
        "never chosen",
    ),
    (
        "deletion_lowest_scores",
        "deletion_drop",
        [("order = np.argsort(-scores[n, stroke]", "order = np.argsort(scores[n, stroke]")],
        "highest",
    ),
    (
        "deletion_rounds_up",
        "deletion_drop",
        [("count = int(frac * len(stroke))", "count = int(np.ceil(frac * len(stroke)))")],
        "int(frac * m)",
    ),
    (
        "deletion_reports_after",
        "deletion_drop",
        [("return float(np.mean(before - after))", "return float(np.mean(after))")],
        "before minus after",
    ),
    # --- activation_maximization
    (
        "am_descends",
        "activation_maximization",
        [
            (
                "x = x + lr * (np.asarray(xt.grad) - l2 * x)",
                "x = x - lr * (np.asarray(xt.grad) - l2 * x)",
            )
        ],
        "ascent",
    ),
    (
        "am_penalty_sign",
        "activation_maximization",
        [
            (
                "x = x + lr * (np.asarray(xt.grad) - l2 * x)",
                "x = x + lr * (np.asarray(xt.grad) + l2 * x)",
            )
        ],
        "l2 * x",
    ),
    (
        "am_clips_only_at_the_end",
        "activation_maximization",
        [
            (
                "        if clip is not None:\n            x = np.clip(x, clip[0], clip[1])\n",
                "    if clip is not None:\n        x = np.clip(x, clip[0], clip[1])\n",
            )
        ],
        "every step",
    ),
    (
        "am_blurs_on_the_wrong_steps",
        "activation_maximization",
        [("t % blur_every == 0", "t % blur_every == 1")],
        "blur_every",
    ),
]

_X = "np.asarray(x, dtype=float)"
TRIVIAL = {
    "top_k_activating": "def top_k_activating(model, X, layer, unit, k):\n"
    "    return np.arange(k, dtype=np.int64)\n",
    "occlusion_map": "def occlusion_map(model, x, target, patch=7, stride=3, fill=0.0):\n"
    "    H, W = np.shape(x)\n"
    "    return np.zeros(((H - patch) // stride + 1, (W - patch) // stride + 1))\n",
    "saliency": f"def saliency(model, x, target, method='grad'):\n    return {_X}\n",
    "deletion_drop": "def deletion_drop(model, X, y, scores, frac):\n    return 0.0\n",
    "activation_maximization": "def activation_maximization(model, objective, x0, steps, lr, "
    "l2=0.0, blur_every=0, clip=(0.0, 1.0)):\n    return np.array(x0, dtype=float)\n",
}
RANDOM_ANSWERS = {
    "top_k_activating": "def top_k_activating(model, X, layer, unit, k):\n"
    "    return np.random.default_rng(0).permutation(len(X))[:k]\n",
    "occlusion_map": "def occlusion_map(model, x, target, patch=7, stride=3, fill=0.0):\n"
    "    H, W = np.shape(x)\n"
    "    return np.random.default_rng(0).random(((H - patch) // stride + 1, "
    "(W - patch) // stride + 1))\n",
    "saliency": "def saliency(model, x, target, method='grad'):\n"
    "    return np.random.default_rng(0).normal(size=np.shape(x))\n",
    "deletion_drop": "def deletion_drop(model, X, y, scores, frac):\n"
    "    return float(np.random.default_rng(0).random())\n",
    "activation_maximization": "def activation_maximization(model, objective, x0, steps, lr, "
    "l2=0.0, blur_every=0, clip=(0.0, 1.0)):\n"
    "    return np.random.default_rng(0).random(np.shape(x0))\n",
}
WRAPPERS = [f"from nnlite.attribution import {name}" for name in EXERCISES]


# ------------------------------------------------------------------------------------- tests


def test_every_exercise_has_at_least_three_mutants():
    for grade_id in EXERCISES:
        assert sum(m[1] == grade_id for m in MUTANTS) >= 3, grade_id


@pytest.mark.slow
def test_solution_scores_full_marks():
    rep = grade({})
    for ex in rep["exercises"]:
        assert ex["status"] == "passed" and ex["score"] == ex["max_score"], ex["name"]
    assert rep["max_score"] == 15
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
@pytest.mark.parametrize("answers", [TRIVIAL, RANDOM_ANSWERS], ids=["trivial", "random"])
def test_trivial_and_random_answers_earn_at_most_a_small_fraction(answers):
    rep = grade(list(answers.values()))
    for ex in rep["exercises"]:
        assert ex["score"] <= TRIVIAL_MAX_FRACTION * ex["max_score"], (ex["name"], ex["score"])


@pytest.mark.slow
def test_wrapping_nnlite_earns_nothing():
    pytest.importorskip("nnlite.grading.ownwork", reason="own-work redaction not available")
    rep = grade(WRAPPERS)
    scores = {e["name"]: e["score"] for e in rep["exercises"]}
    assert all(v == 0 for v in scores.values()), scores


# ------------------------------------------------------------------------- visible checks (fast)

NOTEBOOK_IMPORTS = """
import numpy as np
from nnlite import Tensor
from nnlite.attribution import blur, layer_output, probabilities
"""
# Mutants that the visible checks must already catch (the subtler ones are left to the grader).
CAUGHT_BY_VISIBLE_CHECKS = [
    "topk_ascending",
    "topk_ties_higher_index_first",
    "topk_negative_layer_unsupported",
    "occlusion_reports_logit",
    "occlusion_one_position_short",
    "occlusion_covered_probability",
    "saliency_of_the_probability",
    "saliency_forgets_times_input",
    "saliency_sum_of_all_logits",
    "deletion_over_all_pixels",
    "deletion_lowest_scores",
    "deletion_reports_after",
    "am_descends",
    "am_penalty_sign",
    "am_clips_only_at_the_end",
    "am_blurs_on_the_wrong_steps",
]


def objects_of(grade_id: str, source: str):
    ns: dict = {}
    exec(NOTEBOOK_IMPORTS, ns)  # noqa: S102 - the solution notebook's own code, trusted
    exec(source, ns)  # noqa: S102
    return ns[grade_id]


def visible_passes(grade_id: str, obj) -> bool:
    import io
    from contextlib import redirect_stdout

    from nnlite.checks import lesson

    with redirect_stdout(io.StringIO()):
        return lesson(LESSON)(grade_id, obj)


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_visible_checks_pass_on_the_solution_and_the_fallback(grade_id):
    from nnlite import attribution

    assert visible_passes(grade_id, objects_of(grade_id, exercise_source(grade_id)))
    assert visible_passes(grade_id, getattr(attribution, grade_id))


@pytest.mark.parametrize("name", CAUGHT_BY_VISIBLE_CHECKS)
def test_visible_checks_catch_common_mistakes(name):
    _name, grade_id, edits, _hint = next(m for m in MUTANTS if m[0] == name)
    assert not visible_passes(grade_id, objects_of(grade_id, mutate(grade_id, *edits))), name


@pytest.mark.parametrize("grade_id", EXERCISES)
def test_fallback_keeps_a_passing_solution_and_replaces_a_stub(grade_id, capsys):
    from nnlite import attribution
    from nnlite.checks import lesson

    check = lesson(LESSON)
    mine = objects_of(grade_id, exercise_source(grade_id))
    fallback = getattr(attribution, grade_id)
    assert check.use(grade_id, mine, fallback=fallback) is mine
    assert "Using nnlite" not in capsys.readouterr().out

    def stub(*args, **kwargs):
        raise NotImplementedError(f"{grade_id}: replace this line with your code")

    assert check.use(grade_id, stub, fallback=fallback) is fallback
    assert f'missing (exercise "{grade_id}")' in capsys.readouterr().out
