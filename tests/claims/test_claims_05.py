"""Claim check of lesson 05: each class's weight image is most similar to its own class mean.

The solution notebook's claim cells train, print and assert the claim themselves (softmax
regression from zero on the 8,000 training images of lesson 02's split, learning rate and L2
chosen on the validation split, 10 epochs, batch 100), for the calibration seeds 0-4 and the
held-out seeds 5-9. A seed fixes the batch order and the control's label permutation. These
tests read that one shared execution of the notebook (``executed_notebook``, shared with
tests/test_notebooks.py; nothing is trained twice) and assert on its printed numbers:

* held-out seeds: the weights, and their Haufe patterns Cov(X) W^T, peak on their own centred
  class mean for >= OWN_CLASS_MIN (9) of 10 classes; the shuffled-label classifier and random
  weights (both as weights and as patterns) for <= CONTROL_MAX (3); mean own-class cosine of the
  weights >= OWN_COS_MEAN_MIN (0.7) and of the patterns >= HAUFE_MEAN_MIN (0.8) and >= that of
  the weights (the inequality alone would not do: the controls' patterns often beat their weights
  too, both near 0);
* calibration seeds: each threshold leaves the margin the notebook states;
* the chosen classifier, on the test set once: 10/10 own-class peaks with the test-set class means.

Measured when the thresholds were set: calibration own 10/10 (weights and patterns), own cosine
mean 0.798-0.800, pattern mean 0.929-0.931, controls at most 2/10; held-out the same ranges.
"""

from __future__ import annotations

import re

import pytest
from claimkit import solution_definitions

NOTEBOOK = "solutions/05_linear_templates.ipynb"
NAMES = [
    "CALIBRATION_SEEDS",
    "HELD_OUT_SEEDS",
    "OWN_CLASS_MIN",
    "CONTROL_MAX",
    "OWN_COS_MEAN_MIN",
    "HAUFE_MEAN_MIN",
]
# seed, val acc | own, cos mean, cos min | Haufe own, Haufe mean | shuffled own, Haufe | random ...
ROW = re.compile(
    r"^\s*(\d+)\s+([\d.]+)%\s+\|\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+\|\s+(\d+)\s+([\d.]+)\s+\|"
    r"\s+(\d+)\s+(\d+)\s+\|\s+(\d+)\s+(\d+)\s*$",
    re.M,
)


@pytest.fixture(scope="module")
def ns():
    return solution_definitions("05_linear_templates.ipynb", NAMES)


def _cell_text(run, starts: str) -> str:
    cells = [i for i, c in enumerate(run.nb.cells) if c.source.startswith(starts)]
    assert len(cells) == 1, f"no single cell of {NOTEBOOK} starts with {starts!r}"
    return run.text(cells[0])


def _table(text: str) -> dict[int, dict[str, float]]:
    rows = {}
    for m in ROW.findall(text):
        v = [float(x) for x in m]
        rows[int(v[0])] = {
            "own": v[2], "cos_mean": v[3], "cos_min": v[4], "haufe_own": v[5],
            "haufe_mean": v[6], "shuffled": v[7], "shuffled_haufe": v[8], "random": v[9],
            "random_haufe": v[10],
        }  # fmt: skip
    return rows


def test_thresholds_and_disjoint_seeds(ns):
    assert tuple(ns["CALIBRATION_SEEDS"]) == (0, 1, 2, 3, 4)
    assert tuple(ns["HELD_OUT_SEEDS"]) == (5, 6, 7, 8, 9)
    assert (ns["OWN_CLASS_MIN"], ns["CONTROL_MAX"]) == (9, 3)
    assert (ns["OWN_COS_MEAN_MIN"], ns["HAUFE_MEAN_MIN"]) == (0.7, 0.8)


@pytest.mark.slow
def test_claim_holds_on_the_held_out_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "held_out = [claim_templates(s)")
    table = _table(text)
    assert sorted(table) == list(ns["HELD_OUT_SEEDS"]), text
    for seed, r in table.items():
        assert min(r["own"], r["haufe_own"]) >= ns["OWN_CLASS_MIN"], (seed, r)
        controls = (r["shuffled"], r["shuffled_haufe"], r["random"], r["random_haufe"])
        assert max(controls) <= ns["CONTROL_MAX"], (seed, r)
        assert r["cos_mean"] >= ns["OWN_COS_MEAN_MIN"], (seed, r)
        assert r["haufe_mean"] >= max(ns["HAUFE_MEAN_MIN"], r["cos_mean"]), (seed, r)
    assert "claim holds on every held-out seed" in text


@pytest.mark.slow
def test_thresholds_leave_their_margin_on_the_calibration_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    table = _table(_cell_text(run, "calibration = [claim_templates(s)"))
    assert sorted(table) == list(ns["CALIBRATION_SEEDS"])
    rows = list(table.values())
    # The margins the notebook states: one class may fail; the controls one above their worst;
    # the mean cosines about 0.1 above the thresholds.
    assert min(min(r["own"], r["haufe_own"]) for r in rows) >= ns["OWN_CLASS_MIN"] + 1
    controls = [
        r[k] for r in rows for k in ("shuffled", "shuffled_haufe", "random", "random_haufe")
    ]
    assert max(controls) <= ns["CONTROL_MAX"] - 1
    assert min(r["cos_mean"] for r in rows) - ns["OWN_COS_MEAN_MIN"] >= 0.05
    assert min(r["haufe_mean"] for r in rows) - ns["HAUFE_MEAN_MIN"] >= 0.05


@pytest.mark.slow
def test_weights_match_the_test_set_class_means(executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "X_test, y_test = zoo.mnist_test()")
    m = re.search(r"own class largest (\d+)/10, own cos mean ([\d.]+)", text)
    assert m, text
    assert int(m.group(1)) >= 9 and float(m.group(2)) >= 0.6, text
