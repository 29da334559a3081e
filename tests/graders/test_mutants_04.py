"""Mutation tests of lesson 04's grader (tests/graders/test_04_dot_and_cosine.py).

Each mutant is a plausible wrong implementation of one exercise: the solution's own function
with one mistake written in by a textual edit (so it stays in step with the solution). It is
swapped into a copy of the solution notebook (a last cell redefines the function; the last
definition wins) and graded through the real grader
(:func:`nnlite.grading.testing.grade_with`). The mutated exercise must lose points with a hint
that names the mistake. The first mutant of each exercise is graded in full and every other
exercise must keep full marks (the exercises are graded independently); the others are graded
in their own exercise only, which keeps the suite lean.

Also here: the solution scores full marks, the generated lesson scores 0 with status
``missing`` everywhere, trivial answers (zeros, the input returned, random arrays of the right
shape) earn at most a small fraction of any exercise, and answers that import nnlite's own
versions earn nothing. The visible checks are tested too (fast): the solution passes them, the
first mutant of each exercise fails them.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from nnlite.grading.runner import grade_notebook
from nnlite.grading.testing import grade_with

LESSON = "04_dot_and_cosine"
REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "solutions" / f"{LESSON}.ipynb"
LESSON_NB = REPO / "lessons" / f"{LESSON}.ipynb"
EXERCISES = ("cosine_similarity", "normalize", "angle", "pairwise_cosine", "top_k")
TOTAL_POINTS = 18
#: Largest share of an exercise's points a trivial answer may earn.
TRIVIAL_MAX_FRACTION = 0.2


def solution_function(name: str) -> str:
    """The source of the solution notebook's top-level ``def name``, without solution markers."""
    nb = json.loads(SOLUTION.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if f"def {name}(" not in src:
            continue
        for node in ast.parse(src).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                segment = ast.get_source_segment(src, node)
                return "\n".join(
                    line
                    for line in segment.splitlines()
                    if "### " not in line or "SOLUTION" not in line
                )
    raise LookupError(f"the solution notebook defines no function {name!r}")


# (id, exercise, function, [(old, new), ...], a phrase the failing tests' hints must contain)
MUTANTS = [
    # -- 1. cosine_similarity -------------------------------------------------------------------
    ("eps_on_product_of_norms", "cosine_similarity", "cosine_similarity",
     [("factors.append(s / np.maximum(norm, eps))", "factors.append((s, norm))"),
      ("scale = np.squeeze(factors[0] * factors[1], axis=axis)",
       "scale = np.squeeze(factors[0][0] * factors[1][0]"
       " / (factors[0][1] * factors[1][1] + eps), axis=axis)")],
     "each norm on its own"),
    ("no_clip", "cosine_similarity", "cosine_similarity",
     [("cos = np.clip(np.sum(units[0] * units[1], axis=axis) * scale, -1.0, 1.0)",
       "cos = np.sum(units[0] * units[1], axis=axis) * scale")],
     "Clip the cosine"),
    ("norm_without_axis", "cosine_similarity", "cosine_similarity",
     [("s = np.max(np.abs(v), axis=axis, keepdims=True, initial=0.0)",
       "s = np.max(np.abs(v), initial=0.0)"),
      ("norm = s * np.sqrt(np.sum(unit * unit, axis=axis, keepdims=True))",
       "norm = s * np.sqrt(np.sum(unit * unit))"),
      ("scale = np.squeeze(factors[0] * factors[1], axis=axis)",
       "scale = factors[0] * factors[1]")],
     "reduce along `axis` only"),
    ("overflows_at_1e200", "cosine_similarity", "cosine_similarity",
     [("unit = v / np.where(s > 0, s, 1.0)", "unit = v"),
      ("norm = s * np.sqrt(", "norm = np.sqrt("),
      ("factors.append(s / np.maximum(norm, eps))", "factors.append(1.0 / np.maximum(norm, eps))")],
     "Squares of 1e200 overflow"),
    ("wrong_axis", "cosine_similarity", "cosine_similarity",
     [("axis=axis", "axis=0")],
     "reduce along `axis` only"),
    ("always_float64", "cosine_similarity", "cosine_similarity",
     [("return cos.astype(np.float32 if both_float32 else np.float64)", "return cos")],
     "float32 in, float32 out"),
    # -- 2. normalize ---------------------------------------------------------------------------
    ("divides_by_norm_plus_eps", "normalize", "normalize",
     [("(x64 / np.maximum(norm, eps))", "(x64 / (norm + eps))")],
     "not by ‖x‖ + eps"),
    ("norm_of_the_whole_array", "normalize", "normalize",
     [("s = np.max(np.abs(x64), axis=axis, keepdims=True, initial=0.0)",
       "s = np.max(np.abs(x64), initial=0.0)"),
      ("np.linalg.norm(x64 / np.where(s > 0, s, 1.0), axis=axis, keepdims=True)",
       "np.linalg.norm(x64 / np.where(s > 0, s, 1.0))")],
     "along `axis`"),
    ("overflows_at_1e200", "normalize", "normalize",
     [("norm = s * np.linalg.norm(x64 / np.where(s > 0, s, 1.0), axis=axis, keepdims=True)",
       "norm = np.linalg.norm(x64, axis=axis, keepdims=True)")],
     "Squares of 1e200 overflow"),
    ("always_float64", "normalize", "normalize",
     [(".astype(out_dtype)", "")],
     "float32 in, float32 out"),
    # -- 3. angle and cosine_distance -----------------------------------------------------------
    ("degrees_ignored", "angle", "angle",
     [("return np.degrees(theta) if degrees else theta", "return theta")],
     "np.degrees"),
    ("own_unclipped_cosine", "angle", "angle",
     [("theta = np.arccos(cosine_similarity(a, b, axis=axis))",
       "theta = np.arccos(np.sum(a * b, axis=axis)"
       " / (np.linalg.norm(a, axis=axis) * np.linalg.norm(b, axis=axis)))")],
     "arccos of a cosine slightly above 1"),
    ("degrees_times_180", "angle", "angle",
     [("np.degrees(theta)", "theta * 180")],
     "np.degrees"),
    ("distance_ignores_axis", "angle", "cosine_distance",
     [("cosine_similarity(a, b, axis=axis)", "cosine_similarity(a, b)")],
     "axis=axis"),
    # -- 4. pairwise_cosine ---------------------------------------------------------------------
    ("B_not_normalised", "pairwise_cosine", "pairwise_cosine",
     [("B_unit = normalize(B.astype(np.float64), eps=1e-8)", "B_unit = B.astype(np.float64)")],
     "Normalise the rows of A and of B"),
    ("normalises_columns", "pairwise_cosine", "pairwise_cosine",
     [("eps=1e-8)", "axis=0, eps=1e-8)")],
     "Normalise the rows"),
    ("B_times_A", "pairwise_cosine", "pairwise_cosine",
     [("A_unit @ B_unit.T", "B_unit @ A_unit.T")],
     "(n, m)"),
    ("no_clip", "pairwise_cosine", "pairwise_cosine",
     [("np.clip(A_unit @ B_unit.T, -1.0, 1.0)", "(A_unit @ B_unit.T)")],
     "Clip the cosine"),
    # -- 5. top_k -------------------------------------------------------------------------------
    ("reversed_ascending_sort", "top_k", "top_k",
     [('order = np.argsort(-scores, axis=axis, kind="stable")',
       'order = np.flip(np.argsort(scores, axis=axis, kind="stable"), axis=axis)')],
     "index order"),
    ("smallest_first", "top_k", "top_k",
     [("np.argsort(-scores,", "np.argsort(scores,")],
     "largest first"),
    ("always_axis_0", "top_k", "top_k",
     [("axis=axis", "axis=0")],
     "Rank along `axis`"),
    ("no_checks", "top_k", "top_k",
     [("if np.isnan(scores).any():", "if False:"), ("if not 0 <= k <= n:", "if False:")],
     "Raise ValueError yourself"),
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


@pytest.mark.slow
@pytest.mark.parametrize("mutant", MUTANTS, ids=[f"{m[1]}-{m[0]}" for m in MUTANTS])
def test_mutant_loses_points(mutant):
    name, exercise, function, edits, hint = mutant
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


@pytest.mark.slow
def test_solution_scores_full_marks():
    rep = grade_notebook(SOLUTION, lesson=LESSON)
    assert not rep["grader_faults"], rep["grader_faults"]
    assert [e["name"] for e in rep["exercises"]] == list(EXERCISES)
    assert rep["score"] == rep["max_score"] == TOTAL_POINTS, (rep["score"], rep["max_score"])


@pytest.mark.slow
def test_lesson_scores_zero_all_missing():
    assert LESSON_NB.exists(), "run python -m nnlite course build"
    rep = grade_notebook(LESSON_NB, lesson=LESSON)
    assert not rep["grader_faults"], rep["grader_faults"]
    assert rep["score"] == 0
    assert {e["name"]: e["status"] for e in rep["exercises"]} == dict.fromkeys(EXERCISES, "missing")


# Trivial answers, every exercise at once (they are graded independently).
_TRIVIAL = {
    "zeros": {
        "cosine_similarity": "np.sum(np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b))), "
        "axis=axis)",
        "normalize": "np.zeros(np.shape(x))",
        "angle": "np.sum(np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b))), axis=axis)",
        "cosine_distance": "np.sum(np.zeros(np.broadcast_shapes(np.shape(a), np.shape(b))), "
        "axis=axis)",
        "pairwise_cosine": "np.zeros((len(A), len(B)))",
        "top_k": "np.zeros(k, dtype=int)",
    },
    "unchanged": {
        "cosine_similarity": "np.asarray(a)",
        "normalize": "np.asarray(x)",
        "angle": "np.asarray(a)",
        "cosine_distance": "np.asarray(a)",
        "pairwise_cosine": "np.asarray(A)",
        "top_k": "np.arange(k)",
    },
    "random": {
        "cosine_similarity": "np.random.default_rng(0).uniform(-1, 1, "
        "np.broadcast_shapes(np.shape(a), np.shape(b))[:-1])",
        "normalize": "np.random.default_rng(0).normal(size=np.shape(x))",
        "angle": "np.random.default_rng(0).uniform(0, 3, "
        "np.broadcast_shapes(np.shape(a), np.shape(b))[:-1])",
        "cosine_distance": "np.random.default_rng(0).uniform(0, 2, "
        "np.broadcast_shapes(np.shape(a), np.shape(b))[:-1])",
        "pairwise_cosine": "np.random.default_rng(0).uniform(-1, 1, (len(A), len(B)))",
        "top_k": "np.random.default_rng(0).permutation(np.shape(scores)[axis])[:k]",
    },
}
_SIGNATURES = {
    "cosine_similarity": "a, b, axis=-1, eps=1e-8",
    "normalize": "x, axis=-1, eps=1e-12",
    "angle": "a, b, axis=-1, degrees=False",
    "cosine_distance": "a, b, axis=-1",
    "pairwise_cosine": "A, B",
    "top_k": "scores, k, axis=0",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(_TRIVIAL))
def test_trivial_answers_earn_little(kind):
    cells = [
        f"def {name}({_SIGNATURES[name]}):\n    return {body}"
        for name, body in _TRIVIAL[kind].items()
    ]
    rep = grade_with(LESSON, cells)
    assert not rep["grader_faults"], rep["grader_faults"]
    shares = {e["name"]: e["score"] / e["max_score"] for e in rep["exercises"]}
    assert all(v <= TRIVIAL_MAX_FRACTION for v in shares.values()), shares


# Own work (R13): an answer that only imports or wraps nnlite's version earns nothing.
_WRAPPERS = [
    "from nnlite.similarity import cosine_similarity",
    "import nnlite.similarity\n\n\ndef normalize(x, axis=-1, eps=1e-12):\n"
    "    return nnlite.similarity.normalize(x, axis=axis, eps=eps)",
    "from nnlite.similarity import angle, cosine_distance",
    "from nnlite.similarity import pairwise_cosine",
    "from nnlite import similarity\n\n\ndef top_k(scores, k, axis=0):\n"
    "    return similarity.top_k(scores, k, axis=axis)",
]


@pytest.mark.slow
def test_wrapping_nnlite_earns_nothing():
    rep = grade_with(LESSON, _WRAPPERS)
    assert not rep["grader_faults"], rep["grader_faults"]
    scores = {e["name"]: e["score"] for e in rep["exercises"]}
    assert all(v == 0 for v in scores.values()), scores


# ----------------------------------------------------------------------------- visible checks


def _checker():
    from nnlite.checks import lesson

    return lesson(LESSON)


def _solution_namespace() -> dict:
    ns: dict = {"np": np}
    for name in ("cosine_similarity", "normalize", "angle", "cosine_distance",
                 "pairwise_cosine", "top_k"):  # fmt: skip
        exec(solution_function(name), ns)  # noqa: S102 - the course's own solution source
    return ns


def _objects(ns: dict, exercise: str) -> tuple:
    names = {"angle": ("angle", "cosine_distance")}.get(exercise, (exercise,))
    return tuple(ns[n] for n in names)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_visible_checks_pass_on_the_solution(exercise, capsys):
    ns = _solution_namespace()
    assert _checker()(exercise, *_objects(ns, exercise)) is True, capsys.readouterr().out


@pytest.mark.parametrize("exercise", EXERCISES)
def test_visible_checks_catch_the_first_mutant(exercise, capsys):
    name, _, function, edits, _ = next(m for m in MUTANTS if m[1] == exercise)
    ns = _solution_namespace()
    exec(mutant_source(function, edits), ns)  # noqa: S102 - a known-wrong variant of the solution
    with np.errstate(all="ignore"):
        passed = _checker()(exercise, *_objects(ns, exercise))
    assert passed is False, f"the visible checks accept the mutant {name!r}"
