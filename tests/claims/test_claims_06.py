"""Claim checks of lesson 06: what the labels add to the first-layer weights, and how the hidden
layer separates the classes.

The solution notebook's claim cells measure, print and assert both claims themselves (Lesson 02's
784-128-10 network from ``nnlite.zoo``: 8,000 training images, lr 0.2, 10 epochs), for the
calibration seeds 0-2 on the validation split and the held-out seeds 3-5 on the test set. These
tests read that one shared execution (``executed_notebook``; no network is trained twice) and
assert on its printed numbers:

* claim 1, held-out seeds: the median over hidden units of cos(ΔW_j, v_j), with
  v_j = Σ_k W2[k, j] (m_k − m̄) the class-mean image unit j votes for, is >= ALIGN_MIN for the
  network trained on real labels, and <= CONTROL_MAX for each control (the shuffled-label
  network, the untrained network, random combinations of training images, another unit's votes);
* claim 2, held-out seeds: the trained hidden layer beats the best of the pixels, an untrained
  layer and the shuffled-label layer by NCM_GAIN (nearest class mean) and PROBE_GAIN (linear
  probe), and its scatter ratio is SCATTER_FACTOR times the best control's;
* calibration seeds: each threshold leaves the margin the notebook states;
* the roughness non-result the lesson teaches: the shuffled-label ΔW and random image
  combinations are at least as smooth as the real ΔW (so roughness cannot be the claim).
"""

from __future__ import annotations

import re

import pytest
from claimkit import solution_definitions

NOTEBOOK = "solutions/06_hidden_units.ipynb"
NAMES = [
    "CALIBRATION_SEEDS",
    "HELD_OUT_SEEDS",
    "ALIGN_MIN",
    "CONTROL_MAX",
    "NCM_GAIN",
    "PROBE_GAIN",
    "SCATTER_FACTOR",
]
ALIGN_ROW = re.compile(r"^\s*(\d+)((?:\s+[+-][\d.]+){5})\s*$", re.M)
SEPARATION_ROW = re.compile(r"^\s*(\d+)\s+(ncm|scatter|probe)((?:\s+[\d.]+){5})\s*$", re.M)


@pytest.fixture(scope="module")
def ns():
    return solution_definitions("06_hidden_units.ipynb", NAMES)


def _cell_text(run, starts: str) -> str:
    cells = [i for i, c in enumerate(run.nb.cells) if c.source.startswith(starts)]
    assert len(cells) == 1, f"no single cell of {NOTEBOOK} starts with {starts!r}"
    return run.text(cells[0])


def _tables(text: str):
    """({seed: (real, *controls)}, {(seed, measure): (trained, pixels, untrained, shuffled,
    gain)}) from a printed claim table."""
    align = {int(m[0]): tuple(float(v) for v in m[1].split()) for m in ALIGN_ROW.findall(text)}
    separation = {
        (int(m[0]), m[1]): tuple(float(v) for v in m[2].split())
        for m in SEPARATION_ROW.findall(text)
    }
    return align, separation


def test_thresholds_and_disjoint_seeds(ns):
    assert tuple(ns["CALIBRATION_SEEDS"]) == (0, 1, 2)
    assert tuple(ns["HELD_OUT_SEEDS"]) == (3, 4, 5)
    assert (ns["ALIGN_MIN"], ns["CONTROL_MAX"]) == (0.20, 0.10)
    assert (ns["NCM_GAIN"], ns["PROBE_GAIN"], ns["SCATTER_FACTOR"]) == (0.04, 0.02, 2.0)


def _check_separation(separation, seeds, ns, margin=0.0):
    for seed in seeds:
        for measure, threshold in (("ncm", "NCM_GAIN"), ("probe", "PROBE_GAIN")):
            trained, *controls, _gain = separation[(seed, measure)]
            assert trained - max(controls) >= ns[threshold] + margin, (seed, measure)
        trained, *controls, _factor = separation[(seed, "scatter")]
        assert trained / max(controls) >= ns["SCATTER_FACTOR"] + 10 * margin, (seed, "scatter")


@pytest.mark.slow
def test_claims_hold_on_the_held_out_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "X_test, y_test = zoo.mnist_test()")
    align, separation = _tables(text)
    seeds = list(ns["HELD_OUT_SEEDS"])
    assert sorted(align) == seeds, text
    assert sorted({s for s, _ in separation}) == seeds, text
    for seed, (real, *controls) in align.items():
        assert real >= ns["ALIGN_MIN"], (seed, real)
        assert len(controls) == 4 and max(controls) <= ns["CONTROL_MAX"], (seed, controls)
        assert real - max(controls) >= 0.2, (seed, real, controls)
    _check_separation(separation, seeds, ns)
    assert "both claims hold on every held-out seed" in text


@pytest.mark.slow
def test_thresholds_leave_their_margin_on_the_calibration_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "pixels_val = separation(")
    align, separation = _tables(text)
    seeds = list(ns["CALIBRATION_SEEDS"])
    assert sorted(align) == seeds, text
    # The margins the notebook states: threshold = worst calibration seed minus at least this.
    assert min(a[0] for a in align.values()) - ns["ALIGN_MIN"] >= 0.1
    assert ns["CONTROL_MAX"] - max(max(a[1:]) for a in align.values()) >= 0.05
    _check_separation(separation, seeds, ns, margin=0.025)


@pytest.mark.slow
def test_roughness_is_the_non_result_the_lesson_says(executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, 'shuffled = zoo.mnist_mlp(seed=0, labels="shuffled")')
    median = {
        m[0].strip(): float(m[1])
        for m in re.findall(r"^(.+?)\s+roughness: median ([\d.]+)", text, re.M)
    }
    real = median["ΔW, real labels"]
    assert median["W_init"] > 3.5 > median["W (trained)"] > real
    assert median["ΔW, shuffled labels (control)"] <= real
    assert median["random combinations of training images (control)"] <= real
