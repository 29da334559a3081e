"""Visible checks of lesson 05, "Linear-classifier weights are class templates".

In the lesson::

    from nnlite.checks import lesson
    check = lesson("05_linear_templates")
    ...
    check("class_means", class_means)                                  # feedback
    class_means = check.use("class_means", class_means, fallback=templates.class_means)

The checks are smoke tests of each exercise's contract (shapes, dtypes, an easy value, one edge
case) on tiny inputs, compared with nnlite's own implementation in :mod:`nnlite.templates`, which
is also every exercise's fallback. They never show the answer; the hidden graders in
``tests/graders/test_05_linear_templates.py`` do the real testing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nnlite import templates
from nnlite.checks import visible

LESSON = "05_linear_templates"

# ------------------------------------------------------------------------------------- helpers


def _close(got: Any, want: Any, what: str, rtol: float = 1e-7, atol: float = 1e-12) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what} has shape {got.shape}, expected {want.shape}"
    same_nan = np.isnan(got) == np.isnan(want)
    assert np.all(same_nan), f"{what} has NaN in the wrong places"
    ok = np.isnan(want) | (np.abs(got - want) <= atol + rtol * np.abs(want))
    assert np.all(ok), f"{what}: values differ from the expected result"


def _toy(n: int = 24, d: int = 6, c: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.arange(n) % c
    X = rng.normal(size=(n, d)) + 2.0 * np.eye(c, d)[y]
    X[:, -1] = 0.0  # an input that is 0 in every example
    return X, y


def _raises_value_error(fn: Any, *args: Any, what: str, mentions: tuple[str, ...] = ()) -> None:
    try:
        fn(*args)
    except NotImplementedError:
        raise
    except ValueError as exc:
        for text in mentions:
            assert text in str(exc), f"the error for {what} does not mention {text}"
        return
    except Exception as exc:  # noqa: BLE001 - report what was raised instead
        raise AssertionError(f"{what} raised {type(exc).__name__}, expected ValueError") from None
    raise AssertionError(f"{what} did not raise ValueError")


# ----------------------------------------------------------------------- train_softmax_regression


@visible(
    "train_softmax_regression",
    hint="Return (W.data.copy(), b.data.copy()): numpy float64 arrays of shapes (C, D) and (C,).",
)
def train_shapes(train_softmax_regression):
    """returns numpy float64 (W, b) of shapes (C, D) and (C,); 0 epochs gives zeros"""
    X, y = _toy()
    W, b = train_softmax_regression(X, y, 3, 0.1, 0, 4)
    for name, got, shape in (("W", W, (3, 6)), ("b", b, (3,))):
        assert isinstance(got, np.ndarray), f"{name} should be a numpy array, got {type(got)}"
        assert got.shape == shape, f"{name} has shape {got.shape}, expected {shape}"
        assert got.dtype == np.float64, f"{name} has dtype {got.dtype}, expected float64"
    assert not np.any(W) and not np.any(b), "with epochs=0 W and b should be all zeros"


@visible(
    "train_softmax_regression",
    hint="One generator rng = np.random.default_rng(seed) before the epochs; each epoch "
    "order = rng.permutation(N) sliced into batches; loss = mean cross-entropy + "
    "(l2 / 2) * sum(W ** 2); zero the gradients before backward.",
)
def train_matches(train_softmax_regression):
    """a few epochs give the same weights as nnlite's version (with and without L2)"""
    X, y = _toy()
    for l2 in (0.0, 0.1):
        got = train_softmax_regression(X, y, 3, 0.3, 3, 5, l2=l2, seed=3)
        want = templates.train_softmax_regression(X, y, 3, 0.3, 3, 5, l2=l2, seed=3)
        _close(got[0], want[0], f"W (l2={l2})", rtol=1e-8, atol=1e-10)
        _close(got[1], want[1], f"b (l2={l2})", rtol=1e-8, atol=1e-10)


@visible("train_softmax_regression", hint="Start W and b at exactly zero.")
def train_invariants(train_softmax_regression):
    """columns of W sum to 0 and an always-zero input keeps weight exactly 0"""
    X, y = _toy()
    W, _ = train_softmax_regression(X, y, 3, 0.5, 4, 7, l2=0.01, seed=1)
    W = np.asarray(W, dtype=np.float64)
    assert np.abs(W.sum(axis=0)).max() < 1e-12, "the columns of W do not sum to 0"
    assert np.all(W[:, -1] == 0), "the weights of an input that is always 0 moved"


@visible("train_softmax_regression", hint="Check that y.shape == (len(X),) and name both shapes.")
def train_bad_shapes(train_softmax_regression):
    """y of the wrong length raises ValueError naming both shapes"""
    X, y = _toy()
    _raises_value_error(
        train_softmax_regression, X, y[:-1], 3, 0.1, 1, 4,
        what="y of the wrong length", mentions=("(24, 6)", "(23,)"),
    )  # fmt: skip


# -------------------------------------------------------------------------- weights_to_image_grid


@visible(
    "weights_to_image_grid",
    hint="nrows = ceil(n / ncols); the grid is (nrows*h + nrows - 1, ncols*w + ncols - 1), "
    "filled with NaN before the tiles go in.",
)
def grid_shape(weights_to_image_grid):
    """grid shape, NaN separators and NaN for unused cells"""
    W = np.arange(1.0, 43.0).reshape(7, 6)
    G = np.asarray(weights_to_image_grid(W, (2, 3), 3, True), dtype=np.float64)
    assert G.shape == (8, 11), f"grid shape {G.shape}, expected (8, 11) for 7 tiles 2x3, ncols=3"
    assert np.isnan(G[2]).all() and np.isnan(G[:, 3]).all(), "separators should be NaN"
    assert np.isnan(G[6:, 4:]).all(), "the unused cells of the last grid row should be NaN"


@visible(
    "weights_to_image_grid",
    hint="symmetric=True: 0.5 + 0.5 * w / max|w| of the tile, so that 0 stays mid-grey.",
)
def grid_symmetric(weights_to_image_grid):
    """symmetric: weight 0 is 0.5 and each tile reaches 0 or 1"""
    W = np.array([[0.0, 1.0, -0.5, 0.25], [0.0, -4.0, 2.0, 1.0]])
    G = np.asarray(weights_to_image_grid(W, (2, 2), 2, True), dtype=np.float64)
    assert G.shape == (2, 5), f"grid shape {G.shape}, expected (2, 5)"
    assert G[0, 0] == 0.5 and G[0, 3] == 0.5, "a weight of 0 should become 0.5 (mid-grey)"
    _close(G, templates.weights_to_image_grid(W, (2, 2), 2, True), "grid")


@visible("weights_to_image_grid", hint="symmetric=False: (w - min) / (max - min) per tile.")
def grid_min_max(weights_to_image_grid):
    """min-max scaling and constant tiles"""
    W = np.array([[1.0, 2.0, 3.0, 5.0], [2.0, 2.0, 2.0, 2.0]])
    for sym in (False, True):
        G = weights_to_image_grid(W, (2, 2), 2, sym)
        want = templates.weights_to_image_grid(W, (2, 2), 2, sym)
        _close(G, want, f"grid with symmetric={sym}")


# ---------------------------------------------------------------------------------- class_means


@visible("class_means", hint="Row k is X[y == k].mean(axis=0): divide by the class's own count.")
def means_values(class_means):
    """class means of a small set, float64 and float32"""
    X, y = _toy(n=25)
    M = class_means(X, y, 3)
    _close(M, templates.class_means(X, y, 3), "class_means(X, y, 3)")
    M32 = class_means(X.astype(np.float32), y, 3)
    assert np.asarray(M32).dtype == np.float32, f"float32 X gave dtype {np.asarray(M32).dtype}"


@visible("class_means", hint="Raise ValueError(f'... class {k} has no examples') yourself.")
def means_empty_class(class_means):
    """a class without examples raises ValueError naming it"""
    X, y = _toy()
    _raises_value_error(class_means, X, y, 4, what="class 3 without examples", mentions=("3",))


# -------------------------------------------------------------------------- template_similarity


@visible(
    "template_similarity",
    hint="Centre both sides: W[k] - W.mean(axis=0) and M[j] - X_mean; then divide by both norms.",
)
def similarity_values(template_similarity):
    """(C, K) centred cosines, with and without X_mean"""
    rng = np.random.default_rng(0)
    W, M, mu = rng.normal(size=(3, 5)), rng.normal(size=(4, 5)), rng.normal(size=5)
    for args in ((W, M, mu), (W, M)):
        got = template_similarity(*args)
        _close(got, templates.template_similarity(*args), "template_similarity", rtol=1e-9)


@visible("template_similarity", hint="Divide by max(norm, 1e-8), never by a zero norm.")
def similarity_zero_row(template_similarity):
    """rows that are equal (zero after centring) give cosine 0, not NaN"""
    M = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    with np.errstate(all="ignore"):
        got = template_similarity(np.ones((2, 3)), M, np.zeros(3))
    _close(got, np.zeros((2, 2)), "template_similarity of equal weight rows")


# ------------------------------------------------------------------------------- haufe_patterns


@visible(
    "haufe_patterns",
    hint="Centre X by its column means, then (Xc @ W.T).T @ Xc / (N - 1): the covariance, "
    "not its inverse.",
)
def haufe_values(haufe_patterns):
    """patterns equal (np.cov(X, rowvar=False) @ W.T).T on a small set"""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(9, 4)) @ rng.normal(size=(4, 4)) + 3.0
    W = rng.normal(size=(2, 4))
    got = haufe_patterns(X.copy(), W.copy())
    _close(got, (np.cov(X, rowvar=False) @ W.T).T, "haufe_patterns(X, W)", rtol=1e-9)


@visible("haufe_patterns", hint="A 1-D W of length D is one weight vector: return shape (D,).")
def haufe_vector(haufe_patterns):
    """one weight vector (D,) gives one pattern (D,)"""
    rng = np.random.default_rng(2)
    X, w = rng.normal(size=(8, 3)), rng.normal(size=3)
    _close(haufe_patterns(X, w), templates.haufe_patterns(X, w), "haufe_patterns(X, w)", 1e-9)
