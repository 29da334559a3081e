"""Claim check of lesson 09: the loss over weight space is non-convex, and how you slice it matters.

The solution notebook measures, prints and asserts the claim itself (lesson 02's network from
``nnlite.zoo``, the training loss on the first 1,000 of the 8,000 training images, lines of 11
points, 11 x 11 filter-normalised planes over [-1, 1]^2, rescaling by 4), for the calibration
seeds 0, 1, 2 (whose numbers set the thresholds) and the held-out seeds 5, 6, 7. These tests read
that one shared execution of the notebook (``executed_notebook``; nothing is trained twice) and
assert on its printed numbers:

* held-out seeds: every pair's barrier >= BARRIER_MIN (0.10) while every init -> trained line has
  barrier 0; every pair's midpoint loss >= MIDPOINT_RATIO_MIN (10) times the mean of its ends;
  every init -> trained line decreasing at all 11 points (a finding about this setting); the
  trained point is the lowest of its plane (rank 1 of 121) and the initial point's plane (the
  control) is not; the filter-normalised curves of the network and its rescaled twin differ by
  at most FN_GAP_MAX (1e-9), the raw ones by at least RAW_GAP_MIN (0.03);
* calibration seeds: the same statements, with the margins the notebook's thresholds leave.
"""

from __future__ import annotations

import re

import pytest
from claimkit import solution_definitions

NOTEBOOK = "solutions/09_weight_space_landscape.ipynb"
NAMES = [
    "CALIBRATION_SEEDS",
    "HELD_OUT_SEEDS",
    "BARRIER_MIN",
    "MIDPOINT_RATIO_MIN",
    "FN_GAP_MAX",
    "RAW_GAP_MIN",
]
PAIR = re.compile(
    r"^\s*(\d+),(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$", re.M
)
INIT = re.compile(
    r"init → trained, seed (\d+): barrier ([\d.]+), largest step ([+-][\d.]+), "
    r"decreasing: (True|False)"
)
PLANE = re.compile(
    r"plane through the (trained|initial) point of seed \d+: rank of the centre (\d+)"
)
GAPS = re.compile(r"filter-normalised gap ([\d.e+-]+), raw gap ([\d.]+)")


@pytest.fixture(scope="module")
def ns():
    return solution_definitions("09_weight_space_landscape.ipynb", NAMES)


def _cell_text(run, starts: str) -> str:
    cells = [i for i, c in enumerate(run.nb.cells) if c.source.startswith(starts)]
    assert len(cells) == 1, f"no single cell of {NOTEBOOK} starts with {starts!r}"
    return run.text(cells[0])


def _measurements(text: str) -> dict:
    pairs = {(int(m[0]), int(m[1])): tuple(float(v) for v in m[2:]) for m in PAIR.findall(text)}
    inits = {int(m[0]): (float(m[1]), float(m[2]), m[3] == "True") for m in INIT.findall(text)}
    planes = dict((name, int(rank)) for name, rank in PLANE.findall(text))
    gaps = GAPS.search(text)
    assert gaps, text
    return {
        "pairs": pairs,
        "inits": inits,
        "planes": planes,
        "fn_gap": float(gaps[1]),
        "raw_gap": float(gaps[2]),
    }


def _assert_claim(m: dict, seeds, ns, margin: float = 1.0) -> None:
    n = len(seeds)
    assert sorted(m["pairs"]) == [(a, b) for i, a in enumerate(seeds) for b in seeds[i + 1 :]]
    assert sorted(m["inits"]) == list(seeds)
    for (a, b), (l0, mid, l1, ratio, barrier) in m["pairs"].items():
        assert barrier >= margin * ns["BARRIER_MIN"], (a, b, barrier)
        assert ratio >= margin * ns["MIDPOINT_RATIO_MIN"], (a, b, ratio)
        assert mid / ((l0 + l1) / 2) == pytest.approx(ratio, rel=0.05, abs=0.1)
    for seed, (barrier, step, decreasing) in m["inits"].items():
        assert barrier == 0.0 and step < 0 and decreasing, seed
    assert len(m["pairs"]) == n * (n - 1) // 2
    assert m["planes"] == {"trained": 1, "initial": m["planes"]["initial"]}
    assert m["planes"]["initial"] > 1, "the control plane's centre should not be its minimum"
    assert m["fn_gap"] <= ns["FN_GAP_MAX"]
    assert m["raw_gap"] >= margin * ns["RAW_GAP_MIN"]


def test_thresholds_and_disjoint_seeds(ns):
    assert tuple(ns["CALIBRATION_SEEDS"]) == (0, 1, 2)
    assert tuple(ns["HELD_OUT_SEEDS"]) == (5, 6, 7)
    assert not set(ns["CALIBRATION_SEEDS"]) & set(ns["HELD_OUT_SEEDS"])
    assert (ns["BARRIER_MIN"], ns["MIDPOINT_RATIO_MIN"]) == (0.10, 10.0)
    assert (ns["FN_GAP_MAX"], ns["RAW_GAP_MIN"]) == (1e-9, 0.03)


@pytest.mark.slow
def test_claim_holds_on_the_held_out_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "held_out_runs = ")
    _assert_claim(_measurements(text), ns["HELD_OUT_SEEDS"], ns)
    assert "claim holds on the held-out seeds" in text


@pytest.mark.slow
def test_thresholds_leave_their_margin_on_the_calibration_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "# The calibration seeds' measurements")
    # The margins the notebook states: each threshold at most half the worst calibration value.
    _assert_claim(_measurements(text), ns["CALIBRATION_SEEDS"], ns, margin=2.0)
