"""Differential fuzz against PyTorch: random compositions of every op in ``tests/strategies.py``.

Each example builds a small random graph (1 to 4 ops, each input either an earlier result or a
fresh leaf) over random broadcastable shapes, 0-d, size-1 and empty axes included, in float64
or float32 (0-d leaves may be float64 beside float32 data, to exercise the dtype rule). The same
graph runs in nnlite and in PyTorch; every result must agree in shape, dtype and value, an op
must raise in both libraries or in neither, and after a backward pass with a random upstream
gradient every leaf's gradient must agree in shape, dtype and value.

The default run is small and derandomized (the same examples every time). For a longer, random
run: ``NNLITE_FUZZ_EXAMPLES=5000 python -m pytest tests/test_torch_fuzz.py -p no:randomly``.
"""

import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from strategies import NN, OPS, SEEDS, SHAPES, restrict, sample, torch_namespace

from nnlite import Tensor

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
TORCH = torch_namespace()

LONG_RUN = "NNLITE_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(
    max_examples=int(os.environ.get("NNLITE_FUZZ_EXAMPLES", "1000")),
    derandomize=not LONG_RUN,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# |ours - torch| <= atol + rtol * |torch|, with atol relative to the largest value compared.
TOL = {np.dtype(np.float64): (1e-7, 1e-9), np.dtype(np.float32): (2e-3, 2e-4)}


class Pair:
    """The same value in both libraries."""

    def __init__(self, ours, theirs):
        self.ours, self.theirs = ours, theirs

    @property
    def shape(self):
        return self.ours.shape


def _leaf(a: np.ndarray) -> Pair:
    return Pair(Tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))


def _close(ours, theirs, what: str, dtype):
    """Equal shape and dtype, values within the tolerance of the computation's ``dtype``."""
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch's {theirs.shape}"
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != torch's {theirs.dtype}"
    rtol, atol = TOL[np.dtype(dtype)]
    finite = np.abs(theirs[np.isfinite(theirs)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol * scale, err_msg=what)


def _restrict(domain: str, v: Pair) -> Pair:
    return Pair(
        restrict(domain, v.ours, lambda a: Tensor(a.astype(v.ours.dtype))),
        restrict(domain, v.theirs, lambda a: torch.tensor(a, dtype=v.theirs.dtype)),
    )


def _run(op, inputs, params):
    """(ours, theirs) results, or the two exceptions."""
    results = []
    for L, side in ((NN, "ours"), (TORCH, "theirs")):
        try:
            results.append(op.fn(L, *(getattr(v, side) for v in inputs), **params))
        except Exception as e:  # noqa: BLE001 (either library's error is compared below)
            results.append(e)
    return results


@pytest.mark.filterwarnings("ignore")
@FUZZ
@given(data=st.data(), seed=SEEDS, dtype=st.sampled_from([np.float64, np.float32]))
def test_random_compositions_match_torch(data, seed, dtype):
    rng = np.random.default_rng(seed)
    leaves = []

    def fresh(shape, domain="any"):
        # A 0-d leaf may be float64 beside float32 data: PyTorch's weak 0-d rule.
        dt = np.float64 if shape == () and rng.random() < 0.5 else dtype
        leaf = _leaf(sample(domain, shape, rng, dt))
        leaves.append(leaf)
        return leaf

    pool = [fresh(data.draw(SHAPES, label="first shape"))]
    trace = []
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(data.draw(st.integers(1, 4), label="steps")):
            op = data.draw(st.sampled_from(OPS), label=f"op {step}")
            event(op.name)  # --hypothesis-show-statistics counts the ops drawn
            prev = pool[-1]
            got = op.more(data.draw, prev.shape)
            if got is None and op.first is not None:  # e.g. conv2d: start from a fresh image
                prev = fresh(data.draw(op.first, label="first shape of its own"))
                got = op.more(data.draw, prev.shape)
            if got is None:
                continue
            shapes, params = got
            inputs = [prev]
            for shape in shapes:
                same = [v for v in pool if v.shape == shape]
                reuse = same and data.draw(st.booleans(), label="reuse")
                inputs.append(same[-1] if reuse else fresh(shape))
            inputs = [_restrict(d, v) for d, v in zip(op.domains, inputs, strict=False)]
            if (
                op.name in ("matmul", "linear", "conv2d")
                and len({v.ours.dtype for v in inputs}) > 1
            ):
                continue  # nnlite promotes, torch raises: a documented difference
            trace.append(f"{op.name}{[v.shape for v in inputs]} {params}")
            ours, theirs = _run(op, inputs, params)
            where = " -> ".join(trace)
            if isinstance(ours, Exception) or isinstance(theirs, Exception):
                assert isinstance(ours, Exception) and isinstance(theirs, Exception), (
                    f"{where}: only one library raised: nnlite {ours!r}, torch {theirs!r}"
                )
                break
            if ours.dtype == np.float32:  # e.g. astype: float32 precision from here on
                dtype = np.float32
            _close(ours.data, theirs.detach().numpy(), f"{where}: forward", dtype)
            if not np.isfinite(ours.data).all():
                # NaN gradients follow different conventions (docs/differences_from_pytorch.md):
                # stop before the value that would carry them.
                break
            if op.name == "std" and (np.abs(ours.data) < 1e-3).any():
                # std's slope 1/std is ill-conditioned near 0: for a slice that is constant up
                # to rounding, each library's rounding decides the gradient. Stop before it.
                break
            pool.append(Pair(ours, theirs))

        out = pool[-1]
        g = rng.normal(size=out.shape).astype(out.ours.dtype)
        out.ours.backward(g)
        out.theirs.backward(torch.tensor(g))
        for i, leaf in enumerate(leaves):
            ours, theirs = leaf.ours.grad, leaf.theirs.grad
            what = f"{' -> '.join(trace)}: gradient of leaf {i} {leaf.shape}"
            if ours is None or theirs is None:
                assert ours is None and theirs is None, f"{what}: {ours} vs torch {theirs}"
                continue
            _close(ours, theirs.numpy(), what, dtype)
