"""Speed of nnlite against hand-written numpy and PyTorch (a script, not a test).

    python benchmarks/bench_nnlite.py            # BLAS threads as configured
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_nnlite.py
    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python benchmarks/bench_nnlite.py
    ... --clock cpu                              # process CPU time (one thread, busy machine)

Three measurements, all in one process, each the median of several runs with the
implementations interleaved in rotating order and separated by short pauses (so a busy machine
slows all of them alike, and no library runs while another one's BLAS threads still spin):

1. One training epoch of a 784-128-64-10 ReLU MLP on 5,000 MNIST images (float32, SGD lr 0.01,
   cross-entropy), batch 64 and 256: nnlite vs a hand-written numpy forward/backward of the same
   network (same initial weights, same batches) vs PyTorch with as many threads as numpy's BLAS.
   The data is shuffled once per epoch (one fancy index, outside the timer) and every
   implementation takes its batches as slices of it. The numpy baseline is written as tightly as
   a careful person would: float32 throughout, ReLU in place, a fused softmax-cross-entropy
   gradient computed in place in the logits' array, no copies. Its update is ``W -= LR * gW``:
   scaling the gradient in place instead would be faster but would destroy it, and nnlite (like
   PyTorch) keeps ``.grad`` after ``step()``.
2. conv2d forward + backward, x (64, 1, 28, 28), 8 filters 5x5 with bias, nnlite vs PyTorch.
3. The overhead of one tiny operation with grad (add of two 4-element tensors that require grad:
   forward and graph creation), nnlite vs PyTorch.

``OPENBLAS_CORETYPE`` (if set) picks OpenBLAS's kernels instead of the detected ones, for numpy
and so nnlite alike; the header shows it with the thread variables, and the ratios compare
libraries on the same kernels. Targets: epoch <= 1.10x hand-written numpy; conv2d <= 1.8x
PyTorch; tiny op <= PyTorch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nnlite  # noqa: E402
from nnlite import functional as F  # noqa: E402
from nnlite import nn, optim  # noqa: E402

try:
    import torch
except ImportError:  # the benchmark still compares nnlite with numpy
    torch = None

SIZES = [784, 128, 64, 10]
LR = 0.01
# OpenBLAS worker threads spin for a while (about 0.1 s) after their last call, and so do
# PyTorch's OpenMP threads: a library timed right after another one shares the 2 cores with
# the other's spinning threads. So the runs are separated by a pause, and the order of the
# implementations rotates from round to round.
PAUSE = 0.25


def interleaved(impls: dict, runs: int, once) -> dict:
    """``runs`` timings of each implementation (``once(f) -> seconds``), interleaved."""
    names = list(impls)
    times = {k: [] for k in names}
    for r in range(runs):
        for k in names[r % len(names) :] + names[: r % len(names)]:
            time.sleep(PAUSE)
            times[k].append(once(impls[k]))
    return times


def blas_threads() -> int:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def load_data(n: int):
    try:
        from nnlite.data import load_mnist

        X, y = load_mnist("train", flatten=True, normalize=True)
    except (ImportError, AttributeError, TypeError):
        path = Path(nnlite.__file__).parent / "datafiles" / "mnist_train10k.npz"
        with np.load(path) as f:
            X, y = f["X"].reshape(-1, 784) / 255.0, f["y"]
    return np.ascontiguousarray(X[:n], dtype=np.float32), y[:n].astype(np.int64)


def shuffled(X, y, seed=0):
    """The data in one epoch's random order: indexed once, so that batches are slices."""
    order = np.random.default_rng(seed).permutation(len(X))
    return X[order], y[order]


# -- the three implementations of one epoch -----------------------------------------------------


def epoch_nnlite(init, X, y, bs, clock):
    model = nn.MLP(SIZES, seed=0, dtype=np.float32)
    model.load_state_dict(init)
    opt = optim.SGD(model.parameters(), lr=LR)
    t0 = clock()
    for i in range(0, len(X), bs):
        xb, yb = X[i : i + bs], y[i : i + bs]
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        loss.item()
    return clock() - t0, [p.data for p in model.parameters()]


def epoch_numpy(init, X, y, bs, clock):
    """The same network written out by hand: the practical floor for a numpy autograd."""
    W1, b1, W2, b2, W3, b3 = (v.copy() for v in init.values())
    t0 = clock()
    for i in range(0, len(X), bs):
        xb, yb = X[i : i + bs], y[i : i + bs]
        n = len(yb)
        rows = np.arange(n)
        h1 = xb @ W1.T
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ W2.T
        h2 += b2
        np.maximum(h2, 0, out=h2)
        d3 = h2 @ W3.T  # the logits, turned in place into the gradient of the mean loss
        d3 += b3
        d3 -= d3.max(axis=1, keepdims=True)
        picked = d3[rows, yb]
        np.exp(d3, out=d3)
        s = d3.sum(axis=1, keepdims=True)
        loss = (np.log(s[:, 0]) - picked).mean()
        d3 /= s
        d3[rows, yb] -= 1
        d3 *= 1.0 / n
        gW3, gb3 = d3.T @ h2, d3.sum(axis=0)
        d2 = d3 @ W3
        d2 *= h2 > 0
        gW2, gb2 = d2.T @ h1, d2.sum(axis=0)
        d1 = d2 @ W2
        d1 *= h1 > 0
        gW1, gb1 = d1.T @ xb, d1.sum(axis=0)
        W1 -= LR * gW1
        b1 -= LR * gb1
        W2 -= LR * gW2
        b2 -= LR * gb2
        W3 -= LR * gW3
        b3 -= LR * gb3
        float(loss)
    return clock() - t0, [W1, b1, W2, b2, W3, b3]


def epoch_torch(init, X, y, bs, clock):
    layers = []
    vals = list(init.values())
    for i in range(len(SIZES) - 1):
        lin = torch.nn.Linear(SIZES[i], SIZES[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(vals[2 * i]))
            lin.bias.copy_(torch.from_numpy(vals[2 * i + 1]))
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)
    t0 = clock()
    for i in range(0, len(X), bs):
        xb, yb = tX[i : i + bs], ty[i : i + bs]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        loss.item()
    return clock() - t0, [p.detach().numpy() for p in model.parameters()]


# -- conv2d and the tiny op ---------------------------------------------------------------------


def conv_runs(runs: int, x_requires_grad: bool):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    w = (rng.standard_normal((8, 1, 5, 5)) * 0.2).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    G = rng.standard_normal((64, 8, 24, 24)).astype(np.float32)

    def nn_once():
        xt = nnlite.Tensor(x, requires_grad=x_requires_grad)
        wt, bt = nnlite.Tensor(w, requires_grad=True), nnlite.Tensor(b, requires_grad=True)
        t0 = time.perf_counter()
        F.conv2d(xt, wt, bt).backward(G)
        return time.perf_counter() - t0

    def torch_once():
        xt = torch.from_numpy(x).requires_grad_(x_requires_grad)
        wt = torch.from_numpy(w).requires_grad_(True)
        bt = torch.from_numpy(b).requires_grad_(True)
        Gt = torch.from_numpy(G)
        t0 = time.perf_counter()
        torch.nn.functional.conv2d(xt, wt, bt).backward(Gt)
        return time.perf_counter() - t0

    impls = {"nnlite": nn_once}
    if torch is not None:
        impls["torch"] = torch_once

    def once(f):  # the median of 5 back-to-back calls: a conv takes only milliseconds
        f()
        return statistics.median(f() for _ in range(5))

    times = interleaved(impls, runs, once)
    return {k: statistics.median(v) for k, v in times.items()}


def tiny_op(number: int = 100_000, repeat: int = 9):
    a = nnlite.Tensor(np.ones(4), requires_grad=True)
    b = nnlite.Tensor(np.ones(4), requires_grad=True)
    time.sleep(PAUSE)
    out = {"nnlite": statistics.median(timeit.repeat(lambda: a + b, number=number, repeat=repeat))}
    if torch is not None:
        ta = torch.ones(4, dtype=torch.float64, requires_grad=True)
        tb = torch.ones(4, dtype=torch.float64, requires_grad=True)
        time.sleep(PAUSE)
        out["torch"] = statistics.median(
            timeit.repeat(lambda: ta + tb, number=number, repeat=repeat)
        )
    return {k: v / number for k, v in out.items()}


def fmt_ms(t: float) -> str:
    return f"{t * 1e3:9.2f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9, help="timed runs per measurement (>= 7)")
    ap.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="time epochs by wall clock (default) or by this process's CPU time, which other "
        "processes on a busy machine disturb less (meaningful with one BLAS thread)",
    )
    ap.add_argument("--epoch-only", action="store_true", help="only measurement 1")
    args = ap.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    threads = blas_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'not installed'}")
    print(
        f"BLAS/torch threads: {threads} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}); epochs timed by "
        f"{args.clock} clock; median of {args.runs} runs each; load average at start "
        f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores\n"
    )
    results = []

    X, y = load_data(5000)
    init = nn.MLP(SIZES, seed=0, dtype=np.float32).state_dict()
    impls = {"nnlite": epoch_nnlite, "numpy": epoch_numpy}
    if torch is not None:
        impls["torch"] = epoch_torch
    print("1. One epoch, MLP 784-128-64-10, 5,000 MNIST images, float32, SGD lr 0.01")
    Xs, ys = shuffled(X, y)
    for bs in (64, 256):
        for f in impls.values():  # warm-up, and check that all reach the same weights
            f(init, Xs, ys, bs, clock)
        finals = {k: f(init, Xs, ys, bs, clock)[1] for k, f in impls.items()}
        times = interleaved(impls, args.runs, lambda f, b=bs: f(init, Xs, ys, b, clock)[0])
        med = {k: statistics.median(v) for k, v in times.items()}
        best = {k: min(v) for k, v in times.items()}
        diff = max(
            float(np.abs(a - b).max())
            for a, b in zip(finals["nnlite"], finals["numpy"], strict=True)
        )
        line = f"   batch {bs:3d}: nnlite {fmt_ms(med['nnlite'])}  numpy {fmt_ms(med['numpy'])}"
        if "torch" in med:
            line += f"  torch {fmt_ms(med['torch'])}"
        print(line + f"   (max |W_nnlite - W_numpy| after the epoch: {diff:.1e})")
        print(
            "              fastest run: "
            + "  ".join(f"{k} {fmt_ms(v)}" for k, v in best.items())
            + f"   (nnlite / numpy {best['nnlite'] / best['numpy']:.2f}x)"
        )
        steps = -(-len(Xs) // bs)
        print(
            "              per step: "
            + "  ".join(f"{k} {v / steps * 1e6:6.0f} us" for k, v in med.items())
        )
        ratio = med["nnlite"] / med["numpy"]
        results.append((f"epoch, batch {bs}: nnlite / numpy", ratio, 1.10))
        if "torch" in med:
            results.append(
                (f"epoch, batch {bs}: nnlite / torch", med["nnlite"] / med["torch"], None)
            )
            results.append((f"epoch, batch {bs}: numpy / torch", med["numpy"] / med["torch"], None))

    if args.epoch_only:
        return _verdict(results)

    print("\n2. conv2d forward + backward, x (64, 1, 28, 28), weight (8, 1, 5, 5), float32")
    for xg in (False, True):
        med = conv_runs(args.runs, xg)
        label = "x.requires_grad=" + str(xg)
        line = f"   {label:22s}: nnlite {fmt_ms(med['nnlite'])}"
        if "torch" in med:
            line += f"  torch {fmt_ms(med['torch'])}"
            results.append((f"conv2d ({label}): nnlite / torch", med["nnlite"] / med["torch"], 1.8))
        print(line)

    print("\n3. Tiny op with grad: a + b, two float64 tensors of 4 elements requiring grad")
    t = tiny_op()
    line = f"   nnlite {t['nnlite'] * 1e6:.2f} us/op"
    if "torch" in t:
        line += f"   torch {t['torch'] * 1e6:.2f} us/op"
        results.append(("tiny op: nnlite / torch", t["nnlite"] / t["torch"], 1.0))
    print(line)

    return _verdict(results)


def _verdict(results) -> int:
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    print("Ratios of medians (lower is faster for nnlite)")
    ok = True
    for name, ratio, target in results:
        verdict = ""
        if target is not None:
            met = ratio <= target
            ok &= met
            verdict = f"target <= {target:.2f}  {'met' if met else 'MISSED'}"
        print(f"   {name:45s} {ratio:6.2f}x   {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
