"""R13, own work: delegating an exercise to nnlite earns nothing (issue 9, item 1).

nnlite implements every exercise (the lessons fall back to it). While an exercise is graded,
its sandbox holds a copy of nnlite in which the objects the grader file lists in ``OWN_WORK``
are stubs (nnlite.grading.ownwork). The attack families, each built from a real lesson's
notebook with its exercises stubbed: importing nnlite's version under the exercise's name;
wrapping or subclassing it; reaching it through an object that contains or calls it (nn.MLP,
the lesson fallbacks, nnlite's Tensor for the local rules); and reading its source from disk
(inspect, open() of the module file, importlib of the real file, the real __pycache__ .pyc).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbfactory as f
import pytest
from gradingkit import Grader, available_levels

from nnlite.grading import ownwork
from nnlite.grading.errors import GraderError

REPO = Path(__file__).resolve().parents[2]
GRADERS = REPO / "tests" / "graders"
PKG = REPO / "nnlite"
PYC_TAG = sys.implementation.cache_tag
UNAVAILABLE = "which is not available while exercise"


def grade(tmp_path: Path, nb, level: str | None = None) -> dict:
    path = f.write(nb, tmp_path / f"{nb.metadata['nnlite']['lesson']}.ipynb")
    return Grader(tmp_path, level=level, timeout=10.0)(path, graders_dir=GRADERS)


def ensure_pyc(module: str) -> None:
    """The real package's bytecode cache, as importing nnlite leaves it."""
    import py_compile

    (PKG / "__pycache__").mkdir(exist_ok=True)
    cfile = PKG / "__pycache__" / f"{module}.{PYC_TAG}.pyc"
    py_compile.compile(str(PKG / f"{module}.py"), cfile=str(cfile), doraise=True)


def scores(rep: dict) -> dict[str, float]:
    return {e["name"]: e["score"] for e in rep["exercises"]}


def exercise_tests(rep: dict, exercise: str) -> list[dict]:
    return next(e for e in rep["exercises"] if e["name"] == exercise)["tests"]


def messages(rep: dict, exercise: str) -> list[str]:
    return [t["message"] for t in exercise_tests(rep, exercise)]


# ----------------------------------------------------------------------------- the transform


def test_copy_redacts_functions_methods_classes_and_assignments(tmp_path):
    entries = [
        "nnlite.gradcheck:numerical_grad",
        "nnlite.tensor:Tensor.backward",
        "nnlite.nn:Linear",
        "nnlite.tensor:exp",  # exp = _method("exp")
    ]
    files = ownwork.package_copy(PKG, entries, "demo")
    assert ownwork.HELPER_MODULE in files
    assert not any("__pycache__" in p or p.startswith("course/") for p in files)
    assert [p for p in files if p.startswith("grading/")] == ["grading/wire.py"]
    grad = files["gradcheck.py"].decode()
    real = (PKG / "gradcheck.py").read_text()
    assert "(2 * h)" in real or "2 * h" in real
    body = grad.split("def numerical_grad", 1)[1].split("\ndef ", 1)[0]
    assert "raise _nnlite_unavailable('nnlite.gradcheck.numerical_grad', 'demo')" in body
    assert "h)" not in body.split("raise", 1)[1]  # nothing of the implementation is left
    ownwork.write_copy(files, tmp_path / "nnlite")
    code = (
        "import inspect, nnlite, nnlite.nn\n"
        "out = []\n"
        "for call in (lambda: nnlite.numerical_grad(sum, [1.0]), lambda: nnlite.nn.Linear(2, 3),"
        " lambda: nnlite.exp(1.0), lambda: (nnlite.Tensor(2.0, requires_grad=True) * 3).backward(),"
        " lambda: nnlite.nn.MLP([2, 3])):\n"
        "    try:\n        call(); out.append('ran')\n"
        "    except Exception as e:\n        out.append(type(e).__name__)\n"
        "out.append('return' in inspect.getsource(nnlite.nn.Linear))\n"
        "out.append(nnlite.tanh(1.0).item() > 0.7)\n"  # not listed: works
        "print(out)\n"
    )
    import subprocess

    r = subprocess.run(
        [sys.executable, "-P", "-c", code],
        env={"PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(["OwnWorkError"] * 5 + [False, True])


@pytest.mark.parametrize(
    "entry",
    ["nnlite.nn:NoSuchThing", "nnlite.nowhere:f", "numpy:exp", "nnlite.nn.Linear", "nnlite.nn:1x"],
)
def test_bad_entries_are_grader_errors(entry):
    with pytest.raises(GraderError):
        ownwork.package_copy(PKG, [entry], "x")


def test_lesson_declarations_name_real_objects():
    """Every OWN_WORK entry of every grader file names something nnlite defines."""
    import importlib.util

    for path in sorted(GRADERS.glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"_own_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for gid, entries in getattr(mod, "OWN_WORK", {}).items():
            assert gid in mod.EXERCISES, (path.name, gid)
            ownwork.package_copy(PKG, entries, gid)  # raises GraderError for a bad entry


# ----------------------------------------------------------------------------- lesson 02

L02_IMPORTS = """from nnlite.nn import Linear, MLP
from nnlite.functional import log_softmax, cross_entropy
from nnlite.optim import SGD
from nnlite.checks.l02_mlp import fallback_train_epoch as train_epoch
from nnlite.checks.l02_mlp import fallback_count_parameters as count_parameters
from nnlite.train import evaluate"""

L02_WRAPPERS = '''import nnlite
from nnlite import Tensor


class Linear(nnlite.nn.Linear):
    """A subclass: every method is nnlite's."""


class MLP(nnlite.nn.Sequential):
    def __init__(self, sizes, activation="relu", rng=None):
        inner = nnlite.nn.MLP(sizes, activation=activation, rng=rng)
        super().__init__(*list(inner))


def log_softmax(logits, axis=-1):
    return nnlite.functional.softmax(logits, axis=axis).log()


def cross_entropy(logits, target, reduction="mean"):
    return nnlite.functional.nll_loss(log_softmax(logits), target, reduction=reduction)


class SGD(nnlite.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.inner = nnlite.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)

    def step(self):
        self.inner.step()

    def zero_grad(self):
        self.inner.zero_grad()


def train_epoch(model, X, y, opt, batch_size, rng):
    from nnlite.train import fit

    history = fit(model, X, y, optimizer=opt, epochs=1, batch_size=batch_size, rng=rng)
    return float(history["loss"][0])


def evaluate(model, X, y, batch_size=None):
    from nnlite.train import evaluate as theirs

    return theirs(model, X, y)'''

# The source of nnlite's version, read from disk and executed: through the module's __file__
# (the copy), through the package's real path, and as the real __pycache__ bytecode.
L02_FROM_DISK = f"""import importlib
import importlib.util
import inspect
import marshal
import os

REAL = {str(PKG)!r}


def _from_file(module, name):
    m = importlib.import_module(module)
    ns = {{"__name__": module + "_stolen", "__package__": "nnlite"}}
    exec(open(m.__file__).read(), ns)
    return ns[name]


def _from_real_path(module, name):
    rel = module.split(".", 1)[1].replace(".", "/") + ".py"
    path = os.path.join(REAL, rel)
    spec = importlib.util.spec_from_file_location("nnlite._stolen_" + name, path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return getattr(m, name)


def _from_pyc(module, name):
    rel = module.split(".", 1)[1]
    path = os.path.join(REAL, "__pycache__", rel + ".{PYC_TAG}.pyc")
    ns = {{"__name__": module + "_stolen", "__package__": "nnlite"}}
    exec(marshal.loads(open(path, "rb").read()[16:]), ns)
    return ns[name]


def _source(module, name):
    m = importlib.import_module(module)
    ns = {{"__name__": module + "_stolen", "__package__": "nnlite"}}
    exec(compile(inspect.getsource(m), "x", "exec"), ns)
    return ns[name]


class Linear:
    def __new__(cls, *args, **kwargs):
        return _from_file("nnlite.nn", "Linear")(*args, **kwargs)


def log_softmax(logits, axis=-1):
    return _from_real_path("nnlite.functional", "log_softmax")(logits, axis=axis)


def cross_entropy(logits, target, reduction="mean"):
    return _from_pyc("nnlite.functional", "cross_entropy")(logits, target, reduction=reduction)


class SGD:
    def __new__(cls, *args, **kwargs):
        return _source("nnlite.optim", "SGD")(*args, **kwargs)"""


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["imports", "wrappers"])
def test_lesson02_delegating_to_nnlite_scores_zero(tmp_path, attack):
    cells = {"imports": L02_IMPORTS, "wrappers": L02_WRAPPERS}[attack]
    rep = grade(tmp_path, f.lesson_notebook("02_mlp", extra=[cells]))
    assert rep["grader_faults"] == []
    assert rep["score"] == 0, scores(rep)
    for ex in ("linear", "cross_entropy", "mlp", "training_loop"):
        assert any(UNAVAILABLE in m for m in messages(rep, ex)), (ex, messages(rep, ex))


@pytest.mark.slow
def test_lesson02_later_exercises_keep_nnlite_versions_of_earlier_ones(tmp_path):
    """The solution scores full marks although its MLP exercise runs with nnlite's Linear, and
    its training loop with nnlite's MLP, SGD and cross_entropy (only the graded exercise's own
    objects are taken away)."""
    rep = grade(tmp_path, f.lesson_notebook("02_mlp", stubbed=False))
    assert rep["score"] == rep["max_score"] > 0, scores(rep)


@pytest.mark.slow
@pytest.mark.parametrize("level", available_levels())
def test_lesson02_source_from_disk_is_redacted(tmp_path, level):
    ensure_pyc("functional")
    rep = grade(tmp_path, f.lesson_notebook("02_mlp", extra=[L02_FROM_DISK]), level)
    got = scores(rep)
    assert got["linear"] == 0 and got["sgd"] == 0, got  # the copy's source: stubs
    if level == "process":
        # Documented: without namespaces or Landlock the real package is readable by path.
        assert got["cross_entropy"] > 0, got
        return
    assert got["cross_entropy"] == 0, got


# ----------------------------------------------------------------------------- lesson 01

_RULES = {
    "add_backward": ("a, b, g", "lambda x, y: x + y", "a, b"),
    "sub_backward": ("a, b, g", "lambda x, y: x - y", "a, b"),
    "mul_backward": ("a, b, g", "lambda x, y: x * y", "a, b"),
    "truediv_backward": ("a, b, g", "lambda x, y: x / y", "a, b"),
    "neg_backward": ("x, g", "lambda x: -x", "x"),
    "pow_backward": ("x, g, p", "lambda x: x**p", "x"),
    "exp_backward": ("x, g", "lambda x: x.exp()", "x"),
    "log_backward": ("x, g", "lambda x: x.log()", "x"),
    "tanh_backward": ("x, g", "lambda x: x.tanh()", "x"),
    "relu_backward": ("x, g", "lambda x: x.relu()", "x"),
    "matmul_backward": ("a, b, g", "lambda x, y: x @ y", "a, b"),
    "sum_backward": ("x, g, axis=None, keepdims=False", "lambda x: x.sum(axis, keepdims)", "x"),
    "mean_backward": ("x, g, axis=None, keepdims=False", "lambda x: x.mean(axis, keepdims)", "x"),
    "reshape_backward": ("x, g", "lambda x: x.reshape(np.shape(g))", "x"),
    "transpose_backward": ("x, g, axes=None", "lambda x: x.transpose(axes)", "x"),
    "getitem_backward": ("x, g, index", "lambda x: x[index]", "x"),
}
_RULE_DEFS = "\n\n".join(
    f"def {name}({sig}):\n    grads = _via_nnlite({op}, g, {ins})\n"
    f"    return grads if len(grads) > 1 else grads[0]"
    for name, (sig, op, ins) in _RULES.items()
)
L01_WRAPPERS = f"""import nnlite
from nnlite import Tensor
from nnlite.gradcheck import GradcheckError, gradcheck

backward = Tensor.backward


def numerical_grad(f, x, h=1e-6):
    return nnlite.numerical_grad(f, np.array(x, dtype=float), h)


def unbroadcast(grad, shape):
    return nnlite.unbroadcast(np.asarray(grad), tuple(shape))


def _via_nnlite(op, g, *arrays):
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    op(*ts).backward(np.asarray(g))
    return tuple(t.grad for t in ts)


{_RULE_DEFS}"""

L01_FROM_DISK = f"""import importlib
import importlib.util
import inspect
import marshal
import os
import sys

import nnlite.tensor

REAL = {str(PKG)!r}


def numerical_grad(f, x, h=1e-6):
    path = os.path.join(REAL, "gradcheck.py")
    spec = importlib.util.spec_from_file_location("nnlite._stolen_gradcheck", path)
    m = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = m
    spec.loader.exec_module(m)
    return m.numerical_grad(f, np.array(x, dtype=float), h)


def unbroadcast(grad, shape):
    ns = {{"np": np}}
    exec(inspect.getsource(importlib.import_module("nnlite.tensor").unbroadcast), ns)
    return ns["unbroadcast"](np.asarray(grad), tuple(shape))


def _pyc_tensor():
    path = os.path.join(REAL, "__pycache__", "tensor.{PYC_TAG}.pyc")
    ns = {{"__name__": "nnlite._stolen_tensor", "__package__": "nnlite"}}
    exec(marshal.loads(open(path, "rb").read()[16:]), ns)
    return ns


def mul_backward(a, b, g):
    T = _pyc_tensor()["Tensor"]
    ta, tb = T(a, requires_grad=True), T(b, requires_grad=True)
    (ta * tb).backward(np.asarray(g))
    return ta.grad, tb.grad"""


@pytest.mark.slow
def test_lesson01_delegating_to_nnlite_scores_zero(tmp_path):
    rep = grade(tmp_path, f.lesson_notebook("01_autograd", extra=[L01_WRAPPERS]))
    assert rep["grader_faults"] == []
    assert rep["score"] == 0, scores(rep)
    for ex in ("numerical_grad", "unbroadcast", "rules_elementwise", "rules_shape", "backward"):
        assert any(UNAVAILABLE in m for m in messages(rep, ex)), (ex, messages(rep, ex))


@pytest.mark.slow
@pytest.mark.parametrize("level", available_levels())
def test_lesson01_source_from_disk_is_redacted(tmp_path, level):
    ensure_pyc("tensor")
    rep = grade(tmp_path, f.lesson_notebook("01_autograd", extra=[L01_FROM_DISK]), level)
    got = scores(rep)
    assert got["unbroadcast"] == 0, got  # the copy's source: a stub
    mul = [t for t in exercise_tests(rep, "rules_elementwise") if "mul_backward" in t["name"]]
    if level == "process":
        # Documented: without namespaces or Landlock, the real files (source and .pyc) are
        # readable by the grading user, so the real path gives nnlite's versions.
        assert got["numerical_grad"] > 0 and mul[0]["status"] == "passed", got
        return
    assert got["numerical_grad"] == 0 and mul[0]["status"] != "passed", got
