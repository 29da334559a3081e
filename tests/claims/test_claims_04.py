"""Claim checks of lesson 04: the dot product rewards big vectors; the cosine measures direction.

The solution notebook's claim cells measure, print and assert the claims themselves. These tests
read that one shared execution of the notebook (``executed_notebook``, shared with
tests/test_notebooks.py; no network is trained twice) and assert on its printed numbers:

* (a) nearest class mean on the 10,000 test images, class means from the 8,000 training images:
  cosine - dot product >= NCM_GAP_MIN (0.10; about 0.18 measured, 0.1785 on the validation
  images where the threshold was set); the control (dot product with unit-length templates)
  predicts exactly what the cosine predicts; Euclidean distance lands within 2 points of cosine;
* (b) held-out seeds 2-4: the share of a trained network's 128 hidden units whose 100 top test
  images by w·x have a larger mean length than their 100 top by cos(w, x) is >= TRAINED_MIN
  (0.80); untrained units and random directions reach >= CONTROL_MIN (0.95), at least the trained
  share, with median ratios at least the trained median (the effect is the dot product's, not
  learned); with unit-length inputs the two top sets are identical for every unit;
* calibration seeds 0-1: the thresholds leave the margins the notebook states;
* the visible PyTorch comparison: PyTorch returns 0.0 for the 1e200 example (ours 0.7071) and its
  float32 self-similarities exceed 1 (ours do not); skipped without torch, as the cell is;
* (c) the picture's rows: top-by-dot images are longer than top-by-cosine ones, for the trained
  unit and for the random direction;
* the ReLU angle test agrees with w·x + b > 0 on every (image, unit) pair.
"""

from __future__ import annotations

import re

import pytest
from claimkit import solution_definitions

NOTEBOOK = "solutions/04_dot_and_cosine.ipynb"
NAMES = ["NCM_GAP_MIN", "TOP", "CALIBRATION_SEEDS", "HELD_OUT_SEEDS", "TRAINED_MIN", "CONTROL_MIN"]
ROW = re.compile(
    r"^\s*(\d+)\s+([\d.]+)% \(([\d.]+)\)\s+([\d.]+)% \(([\d.]+)\)\s+([\d.]+)% \(([\d.]+)\)"
    r"\s+(\d+)%\s*$",
    re.M,
)
ACC = re.compile(r"^(dot product|cosine|Euclidean|dot, unit-length templates)\s+test accuracy "
                 r"([\d.]+)%$", re.M)  # fmt: skip


@pytest.fixture(scope="module")
def ns():
    return solution_definitions("04_dot_and_cosine.ipynb", NAMES)


def _cell_text(run, starts: str) -> str:
    cells = [i for i, c in enumerate(run.nb.cells) if c.source.startswith(starts)]
    assert len(cells) == 1, f"no single cell of {NOTEBOOK} starts with {starts!r}"
    return run.text(cells[0])


def _table(text: str) -> dict[int, dict[str, tuple[float, float]]]:
    """{seed: {kind: (share with ratio > 1, median ratio)}, 'same': share of identical sets}."""
    out = {}
    for m in ROW.findall(text):
        out[int(m[0])] = {
            "trained": (float(m[1]) / 100, float(m[2])),
            "untrained": (float(m[3]) / 100, float(m[4])),
            "random": (float(m[5]) / 100, float(m[6])),
            "same": (float(m[7]) / 100, 0.0),
        }
    return out


def test_thresholds_and_disjoint_seeds(ns):
    assert ns["NCM_GAP_MIN"] == 0.10 and ns["TOP"] == 100
    assert tuple(ns["CALIBRATION_SEEDS"]) == (0, 1)
    assert tuple(ns["HELD_OUT_SEEDS"]) == (2, 3, 4)
    assert (ns["TRAINED_MIN"], ns["CONTROL_MIN"]) == (0.80, 0.95)


@pytest.mark.slow
def test_claim_a_cosine_beats_dot_product(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "NCM_GAP_MIN = ")
    acc = {name: float(v) / 100 for name, v in ACC.findall(text)}
    assert len(acc) == 4, text
    assert acc["cosine"] - acc["dot product"] >= ns["NCM_GAP_MIN"], acc
    assert acc["dot, unit-length templates"] == acc["cosine"], acc  # the control: no gap at all
    assert abs(acc["Euclidean"] - acc["cosine"]) <= 0.02, acc
    val_gap = float(re.search(r"validation gap ([\d.]+)%", text).group(1)) / 100
    assert val_gap - ns["NCM_GAP_MIN"] >= 0.05, val_gap  # the margin it was set with
    assert "claim (a) holds on the test set" in text


@pytest.mark.slow
def test_claim_b_holds_on_the_held_out_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "claim = claim_length_bias(")
    table = _table(text)
    assert sorted(table) == list(ns["HELD_OUT_SEEDS"]), text
    for seed, row in table.items():
        trained, untrained, random = row["trained"], row["untrained"], row["random"]
        assert trained[0] >= ns["TRAINED_MIN"], (seed, row)
        assert min(untrained[0], random[0]) >= ns["CONTROL_MIN"], (seed, row)
        # The effect is the dot product's: the controls show it at least as often and as much.
        assert min(untrained[0], random[0]) >= trained[0], (seed, row)
        assert min(untrained[1], random[1]) >= trained[1] > 1.0, (seed, row)
        assert row["same"][0] == 1.0, (seed, row)  # unit-length inputs remove it
    assert "largest |ratio - 1| with unit-length inputs < 1e-12: True" in text
    assert "claim (b) holds on every held-out seed" in text


@pytest.mark.slow
def test_thresholds_leave_their_margin_on_the_calibration_seeds(ns, executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "import sys")
    table = _table(text)
    assert sorted(table) == list(ns["CALIBRATION_SEEDS"]), text
    trained = min(row["trained"][0] for row in table.values())
    control = min(min(row["untrained"][0], row["random"][0]) for row in table.values())
    assert trained - ns["TRAINED_MIN"] >= 0.10, trained
    assert control - ns["CONTROL_MIN"] >= 0.03, control


@pytest.mark.slow
@pytest.mark.torch
def test_visible_pytorch_comparison(executed_notebook):
    pytest.importorskip("torch")
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "try:\n    import torch")
    m = re.search(r"= (\S+); ours ([\d.]+); true value ([\d.]+)", text)
    assert m, text
    assert float(m.group(1)) == 0.0 and m.group(2) == m.group(3) == "0.7071", m.groups()
    assert "PyTorch's exceed 1 somewhere: True; ours exceed 1 somewhere: False" in text


@pytest.mark.slow
def test_picture_rows_and_relu_angle_test(executed_notebook):
    run = executed_notebook(NOTEBOOK)
    assert run.error is None, run.error
    text = _cell_text(run, "run = zoo.mnist_mlp(seed=HELD_OUT_SEEDS[0])")
    lengths = [float(v) for v in re.findall(r"mean ‖x‖ ([\d.]+)", text)]
    assert len(lengths) == 4, text
    assert lengths[0] > lengths[1] and lengths[2] > lengths[3], lengths
    relu = _cell_text(run, "run = zoo.mnist_mlp(seed=0)")
    assert "agree on 100.0000% of the 256,000" in relu
