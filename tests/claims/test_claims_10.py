"""Claim check of lesson 10: different weights, the same function, up to a relabelling.

The solution notebook's claim cells measure, print and assert the claim themselves (lesson 02's
784-128-10 MLP from ``nnlite.zoo``; every pair of the calibration seeds 0-2 and of the held-out
seeds 5-7). These tests read that one shared execution of the notebook (``executed_notebook``,
shared with tests/test_notebooks.py; nothing is trained twice) and assert on its printed table:

* held-out pairs: test agreement - chance agreement >= AGREEMENT_GAIN_MIN; |mean cos of unit j
  with unit j| <= IDENTITY_COS_MAX; matched ΔW cosine - the largest control >= UPDATE_GAIN_MIN;
  matched activation correlation - the largest control >= ACTIVATION_GAIN_MIN; barrier after
  weight matching / barrier without <= BARRIER_RATIO_MAX; barrier after a random permutation /
  barrier without >= RANDOM_RATIO_MIN; and activation matching separates better than ΔW does;
* calibration pairs: each threshold leaves the margin the notebook states (so the thresholds
  cannot drift away from the seeds they were set on).
"""

from __future__ import annotations

import re

import pytest
from claimkit import solution_definitions

NOTEBOOK = "solutions/10_weight_space_symmetry.ipynb"
NAMES = [
    "CALIBRATION_SEEDS",
    "HELD_OUT_SEEDS",
    "AGREEMENT_GAIN_MIN",
    "IDENTITY_COS_MAX",
    "UPDATE_GAIN_MIN",
    "ACTIVATION_GAIN_MIN",
    "BARRIER_RATIO_MAX",
    "RANDOM_RATIO_MIN",
]
NUM = r"\s+([+-]?[\d.]+)%?"
ROW = re.compile(r"^\s*(\d+),(\d+)" + NUM * 12 + r"\s*$", re.M)


@pytest.fixture(scope="module")
def ns():
    return solution_definitions("10_weight_space_symmetry.ipynb", NAMES)


def _cell_text(run, starts: str) -> str:
    cells = [i for i, c in enumerate(run.nb.cells) if c.source.startswith(starts)]
    assert len(cells) == 1, f"no single cell of {NOTEBOOK} starts with {starts!r}"
    return run.text(cells[0])


def _pairs(text: str) -> list[dict]:
    keys = ["acc_a", "acc_b", "agree", "chance", "id_cos", "dw", "dw_ctrl", "act", "act_ctrl",
            "barrier", "matched", "random"]  # fmt: skip
    out = []
    for m in ROW.findall(text):
        row = dict(zip(keys, (float(v) for v in m[2:]), strict=True))
        for k in ("acc_a", "acc_b", "agree", "chance"):
            row[k] /= 100
        row["pair"] = (int(m[0]), int(m[1]))
        out.append(row)
    return out


def _margins(rows: list[dict]) -> dict[str, float]:
    return {
        "agreement": min(r["agree"] - r["chance"] for r in rows),
        "identity": max(abs(r["id_cos"]) for r in rows),
        "update": min(r["dw"] - r["dw_ctrl"] for r in rows),
        "activation": min(r["act"] - r["act_ctrl"] for r in rows),
        "barrier": max(r["matched"] / r["barrier"] for r in rows),
        "random": min(r["random"] / r["barrier"] for r in rows),
    }


def test_thresholds_and_disjoint_seeds(ns):
    assert tuple(ns["CALIBRATION_SEEDS"]) == (0, 1, 2)
    assert tuple(ns["HELD_OUT_SEEDS"]) == (5, 6, 7)
    assert not set(ns["CALIBRATION_SEEDS"]) & set(ns["HELD_OUT_SEEDS"])
    assert (ns["AGREEMENT_GAIN_MIN"], ns["IDENTITY_COS_MAX"]) == (0.05, 0.05)
    assert (ns["UPDATE_GAIN_MIN"], ns["ACTIVATION_GAIN_MIN"]) == (0.02, 0.05)
    assert (ns["BARRIER_RATIO_MAX"], ns["RANDOM_RATIO_MIN"]) == (0.15, 0.5)


@pytest.mark.slow
def test_claim_holds_on_the_held_out_pairs(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "claim = claim_symmetry(HELD_OUT_SEEDS")
    rows = _pairs(text)
    assert [r["pair"] for r in rows] == [(5, 6), (5, 7), (6, 7)], text
    m = _margins(rows)
    assert m["agreement"] >= ns["AGREEMENT_GAIN_MIN"], m
    assert m["identity"] <= ns["IDENTITY_COS_MAX"], m
    assert m["update"] >= ns["UPDATE_GAIN_MIN"], m
    assert m["activation"] >= ns["ACTIVATION_GAIN_MIN"], m
    assert m["barrier"] <= ns["BARRIER_RATIO_MAX"], m
    assert m["random"] >= ns["RANDOM_RATIO_MIN"], m
    assert m["activation"] > m["update"], "activation matching should separate best"
    for r in rows:  # the agreement is more than both being right: chance counts that already
        assert r["chance"] >= r["acc_a"] * r["acc_b"] - 0.005, r
    assert "claim holds on every held-out pair" in text


@pytest.mark.slow
def test_thresholds_leave_their_margin_on_the_calibration_pairs(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    rows = _pairs(_cell_text(run, "calibration = claim_symmetry(CALIBRATION_SEEDS"))
    assert [r["pair"] for r in rows] == [(0, 1), (0, 2), (1, 2)]
    m = _margins(rows)
    # The margins the notebook states: threshold = worst calibration pair minus at least this.
    assert m["agreement"] - ns["AGREEMENT_GAIN_MIN"] >= 0.01, m
    assert ns["IDENTITY_COS_MAX"] - m["identity"] >= 0.02, m
    assert m["update"] - ns["UPDATE_GAIN_MIN"] >= 0.02, m
    assert m["activation"] - ns["ACTIVATION_GAIN_MIN"] >= 0.05, m
    assert ns["BARRIER_RATIO_MAX"] - m["barrier"] >= 0.05, m
    assert m["random"] - ns["RANDOM_RATIO_MIN"] >= 0.1, m
