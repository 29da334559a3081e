"""Claim check of lesson 01: gradients you can trust agree with finite differences in float64.

Re-runs the solution notebook's claim functions (its definitions only, as the grader loads them)
on the exact configuration the notebook uses, seeds 0-4, and asserts the notebook's thresholds:

* every backward rule, and dLoss/dW1 of a 10-8-3 tanh and ReLU network on MNIST digits 0-2,
  agree with central differences to a max relative error <= FLOAT64_MAX_REL_ERR in float64;
* the control (tanh with its local derivative dropped) is off by >= CONTROL_MIN_REL_ERR;
* float32 misses the float64 threshold at every step tried (the "use double precision" point).
"""

from __future__ import annotations

import numpy as np
import pytest
from claimkit import solution_definitions

NAMES = [
    "Tensor",
    "numerical_grad",
    "digit_features",
    "rule_errors",
    "mlp_gradient_errors",
    "FLOAT64_MAX_REL_ERR",
    "CONTROL_MIN_REL_ERR",
    "SEEDS",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ns():
    return solution_definitions("01_autograd.ipynb", NAMES)


@pytest.fixture(scope="module")
def digits(ns):
    return ns["digit_features"]()


def test_thresholds_and_seeds(ns):
    assert ns["FLOAT64_MAX_REL_ERR"] == 1e-5
    assert ns["CONTROL_MIN_REL_ERR"] > 100 * ns["FLOAT64_MAX_REL_ERR"]
    assert tuple(ns["SEEDS"]) == (0, 1, 2, 3, 4)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_every_rule_matches_central_differences(ns, seed):
    errors = ns["rule_errors"](ns["Tensor"], ns["numerical_grad"], seed=seed)
    assert len(errors) >= 20
    worst = max(errors, key=errors.get)
    assert errors[worst] <= ns["FLOAT64_MAX_REL_ERR"], (worst, errors[worst])


def _mlp(ns, digits, seed, **kwargs):
    X, y = digits
    return ns["mlp_gradient_errors"](ns["Tensor"], ns["numerical_grad"], X, y, seed=seed, **kwargs)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_mlp_float64_agrees(ns, digits, activation):
    worst = max(_mlp(ns, digits, s, activation=activation)["max"] for s in ns["SEEDS"])
    assert worst <= ns["FLOAT64_MAX_REL_ERR"], worst


def test_control_is_caught(ns, digits):
    mildest = min(_mlp(ns, digits, s, forget_tanh_grad=True)["max"] for s in ns["SEEDS"])
    assert mildest >= ns["CONTROL_MIN_REL_ERR"], mildest


@pytest.mark.parametrize("h", [1e-2, 1e-3, 1e-6])
def test_float32_misses_the_threshold(ns, digits, h):
    best = min(_mlp(ns, digits, s, dtype=np.float32, h=h)["max"] for s in ns["SEEDS"])
    assert best > ns["FLOAT64_MAX_REL_ERR"], best


def test_claim_is_deterministic(ns, digits):
    assert _mlp(ns, digits, 3) == _mlp(ns, digits, 3)
