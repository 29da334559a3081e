"""Claim check of lesson 02: training moves one point in weight space to where the network works.

The solution notebook's claim cells train, print and assert the claim themselves (784-128-10 MLP,
8,000 of the shipped training images, 10 epochs, SGD lr 0.2 chosen on the validation split,
momentum 0.9, batch 128; test accuracy on the shipped 10k test set), for the calibration seeds
0-4 and the held-out seeds 5-9. These tests read that one shared execution of the notebook
(``executed_notebook``, shared with tests/test_notebooks.py; no network is trained twice) and
assert on its printed numbers:

* held-out seeds: every MLP >= ACCURACY_THRESHOLD (0.94), every shuffled-label control
  <= CONTROL_MAX (0.20), MLP - linear softmax model >= LINEAR_GAIN_MIN (3 points) per seed, MLP
  above nearest class mean and the untrained net; for every pair of seeds, agreement of the test
  predictions >= acc_a * acc_b (what independent errors give) + AGREEMENT_GAIN_MIN (4 points)
  (the old "agreement > 0.93" was nearly implied by accuracy >= 0.93 alone) and |cos| of the
  trained parameter vectors <= COSINE_MAX (0.10), yet larger than for random vectors;
* calibration seeds: each threshold leaves the margin the notebook states (so the thresholds
  cannot drift away from the seeds they were set on).
"""

from __future__ import annotations

import re

import pytest
from claimkit import solution_definitions

NOTEBOOK = "solutions/02_mlp.ipynb"
NAMES = [
    "CALIBRATION_SEEDS",
    "HELD_OUT_SEEDS",
    "ACCURACY_THRESHOLD",
    "CONTROL_MAX",
    "LINEAR_GAIN_MIN",
    "AGREEMENT_GAIN_MIN",
    "COSINE_MAX",
]
ROW = re.compile(r"^\s*(\d+)\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%\s+([\d.]+)%\s*$", re.M)
PAIR = re.compile(r"^\s*(\d+), (\d+)\s+([+-][\d.]+)\s+([\d.]+)%\s+([\d.]+)%\s*$", re.M)


@pytest.fixture(scope="module")
def ns():
    return solution_definitions("02_mlp.ipynb", NAMES)


def _cell_text(run, starts: str) -> str:
    cells = [i for i, c in enumerate(run.nb.cells) if c.source.startswith(starts)]
    assert len(cells) == 1, f"no single cell of {NOTEBOOK} starts with {starts!r}"
    return run.text(cells[0])


def _table(text: str) -> dict[int, tuple[float, ...]]:
    """{seed: (MLP, control, linear, untrained)} test accuracies, as fractions."""
    return {int(m[0]): tuple(float(v) / 100 for v in m[1:]) for m in ROW.findall(text)}


def _number(text: str, pattern: str) -> float:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not found in the notebook's output"
    return float(m.group(1))


def test_thresholds_and_disjoint_seeds(ns):
    assert tuple(ns["CALIBRATION_SEEDS"]) == (0, 1, 2, 3, 4)
    assert tuple(ns["HELD_OUT_SEEDS"]) == (5, 6, 7, 8, 9)
    assert (ns["ACCURACY_THRESHOLD"], ns["CONTROL_MAX"]) == (0.94, 0.20)
    assert (ns["LINEAR_GAIN_MIN"], ns["AGREEMENT_GAIN_MIN"], ns["COSINE_MAX"]) == (0.03, 0.04, 0.1)


@pytest.mark.slow
def test_claim_holds_on_the_held_out_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "claim = claim_mlp_mnist(seeds_bar(HELD_OUT_SEEDS")
    table = _table(text)
    assert sorted(table) == list(ns["HELD_OUT_SEEDS"]), text
    mlp, control, linear, untrained = zip(*table.values(), strict=True)
    ncm = _number(text, r"nearest class mean \(no seed\): ([\d.]+)%") / 100
    assert min(mlp) >= ns["ACCURACY_THRESHOLD"], mlp
    assert max(control) <= ns["CONTROL_MAX"], control
    assert min(mlp) - max(control) >= 0.7
    assert min(m - lin for m, lin in zip(mlp, linear, strict=True)) >= ns["LINEAR_GAIN_MIN"]
    assert min(mlp) > ncm + 0.1
    assert min(mlp) > max(untrained) + 0.7
    assert "claim holds on every held-out seed" in text

    pairs_text = _cell_text(run, "pairs = seed_pairs(claim)")
    pairs = PAIR.findall(pairs_text)
    assert len(pairs) == 10, pairs_text
    for a, b, cos, agree, _both in pairs:
        both = table[int(a)][0] * table[int(b)][0]  # from the accuracies, not the printed column
        assert float(agree) / 100 - both >= ns["AGREEMENT_GAIN_MIN"], (a, b, agree, both)
        assert abs(float(cos)) <= ns["COSINE_MAX"], (a, b, cos)
    largest = max(abs(float(p[2])) for p in pairs)
    random_pairs = _number(pairs_text, r"10 pairs of random vectors ([\d.]+)")
    assert largest >= 2 * random_pairs, (largest, random_pairs)  # "several times more aligned"


@pytest.mark.slow
def test_thresholds_leave_their_margin_on_the_calibration_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "import sys")
    table = _table(text)
    assert sorted(table) == list(ns["CALIBRATION_SEEDS"]), text
    mlp, control, linear, _untrained = zip(*table.values(), strict=True)
    gain = min(m - lin for m, lin in zip(mlp, linear, strict=True))
    agreement_gain = _number(text, r"smallest agreement - acc_a·acc_b ([\d.]+)%") / 100
    cos = _number(text, r"largest \|cos\| ([\d.]+)")
    # The margins the notebook states: threshold = worst calibration seed minus at least this.
    assert min(mlp) - ns["ACCURACY_THRESHOLD"] >= 0.01
    assert ns["CONTROL_MAX"] - max(control) >= 0.05
    assert gain - ns["LINEAR_GAIN_MIN"] >= 0.01
    assert agreement_gain - ns["AGREEMENT_GAIN_MIN"] >= 0.01
    assert ns["COSINE_MAX"] - cos >= 0.03
