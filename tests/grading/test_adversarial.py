"""Adversarial and fault notebooks: each asserts the exact outcome of grading it.

Every case is a copy of the fixture lesson's solution notebook (10 points: normalize_rows 4,
trapezoid 3, running_mean 3) with one thing changed: a cheating, thieving, sabotaging or
honestly wrong definition, or a malformed file. For each: the targeted exercise's status and
score, every other exercise untouched (full marks), a report valid against the schema, a bounded
run time, no leftover process or file, and nothing executed in the grader process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
from pathlib import Path

import nbfactory as f
import numpy as np
import pytest
from gradingkit import FIXTURE, FULL, Grader, available_levels, exercise

import nnlite

REPO = Path(__file__).resolve().parents[2]
SOLUTION = FIXTURE / "solutions" / "99_fixture.ipynb"
NR = "normalize_rows"
CORRECT = "\n".join(ln for ln in f.NORMALIZE_ROWS.split("\n") if "### " not in ln)
IS_ROOT = os.geteuid() == 0


@dataclasses.dataclass
class Case:
    id: str
    make: object  # dict of cell overrides, a list of extra cells, or a callable(tmp) -> path
    expect: dict  # exercise -> (status, score); unlisted exercises must get full marks
    message: str | None = None  # a substring of some message of the first expected exercise
    levels: tuple = ("namespaces", "landlock", "process")
    by_level: dict = dataclasses.field(default_factory=dict)  # level -> expect override
    seconds: float = 15.0  # bound on the wall time of grading this notebook
    extra: dict = dataclasses.field(default_factory=dict)  # notebook() kwargs


def nr(body: str, prelude: str = "") -> dict:
    """Override the normalize_rows cell."""
    return {"normalize_rows": (prelude + "\n" if prelude else "") + body}


ZERO = ("failed", 0)
ERR = ("error", 0)
MISSING = ("missing", 0)
# One per process: parallel workers (xdist) must not see each other's marker.
MARKER = f"/tmp/nnlite-grading-test-marker-{os.getpid()}"

CASES = [
    # ----------------------------------------------------------------- cheating
    Case(
        "eq_always_true",
        nr(
            "class Always:\n    def __eq__(self, other):\n        return True\n"
            "    def __ne__(self, other):\n        return False\n"
            "def normalize_rows(x):\n    return Always()"
        ),
        {NR: ZERO},
        "not plain data",
    ),
    Case(
        "ndarray_subclass_lies",
        nr(
            "class Liar(np.ndarray):\n"
            "    def __eq__(self, other):\n        return np.ones(np.shape(other), bool)\n"
            "    def astype(self, *a, **k):\n        return self\n"
            "    def __array_ufunc__(self, *a, **k):\n        return True\n"
            "    def tolist(self):\n        return []\n"
            "def normalize_rows(x):\n    return np.zeros(np.shape(x)).view(Liar)"
        ),
        {NR: ZERO},
        "values differ",
    ),
    Case(
        "monkeypatch_numpy_testing_builtins",
        nr(
            "import numpy.testing\nimport builtins\n"
            "np.allclose = lambda *a, **k: True\n"
            "np.testing.assert_allclose = lambda *a, **k: None\n"
            "np.array_equal = lambda *a, **k: True\n"
            "builtins.isinstance = lambda *a: True\n"
            "def normalize_rows(x):\n    return np.zeros(np.shape(x)) + 0.5"
        ),
        {NR: ZERO},
        "values differ",
    ),
    Case(
        "reads_grader_frames_and_gc",
        nr(
            "import sys, gc\n"
            "def normalize_rows(x):\n"
            "    found = None\n"
            "    fr = sys._getframe()\n"
            "    while fr is not None:\n"
            "        found = fr.f_locals.get('expected', found)\n"
            "        fr = fr.f_back\n"
            "    for o in gc.get_objects():\n"
            "        if isinstance(o, dict) and 'expected' in o:\n"
            "            found = o['expected']\n"
            "    return found"
        ),
        {NR: ZERO},
        "returned None",
    ),
    Case(
        "reads_solutions_and_graders",
        nr(
            "import json, os\n"
            f"SOL = {str(SOLUTION)!r}\n"
            f"GRADER = {str(FIXTURE / 'graders' / 'test_99_fixture.py')!r}\n"
            f"GIT = {str(REPO / '.git' / 'HEAD')!r}\n"
            "def normalize_rows(x):\n"
            "    try:\n"
            "        open(GRADER).read()\n"
            "        open(GIT).read()\n"
            "        cells = json.load(open(SOL))['cells']\n"
            "    except OSError:\n"
            "        return np.zeros(np.shape(x))\n"
            "    ns = {}\n"
            "    for c in cells:\n"
            "        src = ''.join(c['source'])\n"
            "        if 'def normalize_rows' in src:\n"
            "            exec('import numpy as np\\n' + src, ns)\n"
            "    return ns['normalize_rows'](x)"
        ),
        {NR: ZERO},
        "values differ",
        # Documented limitation: without namespaces or Landlock the child can read what the
        # grading user can read.
        by_level={"process": {}},
    ),
    Case(
        "reads_environment",
        nr(
            "import os\n"
            "def normalize_rows(x):\n"
            "    if os.environ.get('NNLITE_TEST_SECRET') or os.environ.get('HOME', '').startswith('/root'):\n"  # noqa: E501
            "        return np.ones(np.shape(x))\n"
            "    return np.zeros(np.shape(x)) + len(os.environ)"
        ),
        {NR: ZERO},
        "values differ",
    ),
    Case(
        "forks",
        nr("import os\ndef normalize_rows(x):\n    os.fork()\n    return x"),
        {NR: ERR},
        "raised an exception: BlockingIOError",
        # A root child (forced fallback while the tests run as root) is not bound by NPROC.
        levels=("namespaces",) if IS_ROOT else ("namespaces", "landlock", "process"),
    ),
    Case(
        "fork_bomb_bounded",
        nr(
            "import os, time\n"
            "def normalize_rows(x):\n"
            "    for _ in range(30):\n"
            "        if os.fork() == 0:\n"
            "            os.setsid()\n"
            "            time.sleep(120)\n"
            "            os._exit(0)\n"
            "    return x"
        ),
        {NR: ERR},
        "raised an exception: BlockingIOError",
        levels=("namespaces",) if IS_ROOT else ("namespaces", "landlock", "process"),
    ),
    Case(
        "threads",
        nr(
            "import threading\n"
            "def normalize_rows(x):\n"
            "    t = threading.Thread(target=lambda: None)\n    t.start()\n    return x"
        ),
        {NR: ERR},
        "raised an exception: RuntimeError",
        levels=("namespaces",) if IS_ROOT else ("namespaces", "landlock", "process"),
    ),
    Case(
        "kills_everything_it_can",
        nr(
            "import os, signal\n"
            "def normalize_rows(x):\n"
            "    os.kill(-1, signal.SIGKILL)\n"
            "    return x"
        ),
        {NR: ERR},
        None,
        levels=("namespaces",),
    ),
    Case(
        "malicious_reduce",
        nr(
            "import os\n"
            "class Evil:\n"
            "    def __reduce__(self):\n"
            f"        return (os.system, ('touch {MARKER}',))\n"
            "def normalize_rows(x):\n    return Evil()"
        ),
        {NR: ZERO},
        "not plain data",
    ),
    Case(
        "object_array",
        nr("def normalize_rows(x):\n    return np.array([object()] * len(x), dtype=object)"),
        {NR: ZERO},
        "dtype object",
    ),
    Case(
        "writes_channel_garbage",
        nr(
            "import os\ndef normalize_rows(x):\n    os.write(63, b'NNL1\\x00\\x00\\x00\\x05{}{}{')\n    return x"  # noqa: E501
        ),
        {NR: ERR},
        "malformed",
    ),
    Case(
        "closes_channel",
        nr("import os\ndef normalize_rows(x):\n    os.closerange(3, 64)\n    return x"),
        {NR: ERR},
        None,
    ),
    Case(
        "nested_return_value",
        nr(
            "def normalize_rows(x):\n    v = []\n    for _ in range(200):\n        v = [v]\n    return v"  # noqa: E501
        ),
        {NR: ZERO},
        "nested too deeply",
    ),
    # ----------------------------------------------------------------- sabotage / faults
    Case(
        "sys_exit",
        nr("import sys\ndef normalize_rows(x):\n    sys.exit(0)"),
        {NR: ERR},
        "called sys.exit()",
    ),
    Case(
        "os_exit",
        nr("import os\ndef normalize_rows(x):\n    os._exit(0)"),
        {NR: ERR},
        "exited (exit status 0)",
    ),
    Case(
        "infinite_loop_sigalrm_ignored",
        nr(
            "import signal\n"
            "def normalize_rows(x):\n"
            "    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
            "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "    while True:\n        pass"
        ),
        {NR: ("timeout", 0)},
        "time limit exceeded (2 s)",
        seconds=12,
    ),
    Case(
        "allocates_64_gib",
        nr("def normalize_rows(x):\n    return np.ones((64, 1024, 1024, 1024), dtype=np.uint8)"),
        {NR: ERR},
        "ran out of memory",
    ),
    Case(
        "deep_c_recursion_segfault",
        nr(
            "import sys\nLIMIT = 10**7\n"
            "def _r(n):\n    return [*map(_r, [n + 1])]\n"
            "def normalize_rows(x):\n"
            "    sys.setrecursionlimit(LIMIT)\n"
            "    return _r(0)"
        ),
        {NR: ERR},
        "killed by signal 11",
    ),
    Case(
        "segfault",
        nr("import ctypes\ndef normalize_rows(x):\n    return ctypes.string_at(0)"),
        {NR: ERR},
        "killed by signal 11 (SIGSEGV)",
    ),
    Case(
        "recursion_error",
        nr("def normalize_rows(x):\n    return normalize_rows(x)"),
        {NR: ERR},
        "RecursionError",
    ),
    Case(
        "huge_return_value",
        nr("def normalize_rows(x):\n    return np.zeros(2 * 10**7)"),
        {NR: ERR},
        "too large",
    ),
    Case(
        "prints_fake_json_and_floods_stdout",
        nr(
            "import sys\n"
            "def normalize_rows(x):\n"
            '    print(\'{"score": 100, "max_score": 10}\')\n'
            "    sys.stdout.write('x' * (64 << 20))\n"
            "    sys.stdout.flush()\n"
            "    return x"
        ),
        {NR: ERR},
        None,
    ),
    Case(
        "definitions_hang_while_loading",
        nr(
            CORRECT.replace("    x = np.asarray", "    _ = SLOW\n    x = np.asarray"),
            prelude="SLOW = 10 ** 10 ** 8",
        ),
        {NR: ("timeout", 0)},
        "loading the notebook's definitions took longer",
        seconds=12,
    ),
    Case(
        "definitions_crash_while_loading",
        nr(
            CORRECT
            + "\n\n\nclass Boom:\n    import os\n    os._exit(3)\nnormalize_rows.boom = Boom"
        ),
        {NR: ERR},
        "crashed the sandbox while loading",
    ),
    Case(
        "method_loops_forever",
        {
            "running_mean": f.RUNNING_MEAN.replace(
                "self.count += batch.shape[0]", "while True:\n            pass"
            )
        },
        {"running_mean": ("timeout", 1)},
        "time limit exceeded",
        seconds=12,
    ),
    # ----------------------------------------------------------------- information leaks
    Case(
        "exception_text_leaks_inputs",
        nr("def normalize_rows(x):\n    raise ValueError('LEAK' + repr(x.tolist()))"),
        {NR: ERR},
        "raised an exception",
    ),
    Case(
        "dynamic_exception_class_name",
        nr(
            "def normalize_rows(x):\n"
            "    E = type('LEAK' + str(int(abs(x[0, 0]) * 1e6)), (ValueError,), {})\n"
            "    raise E()"
        ),
        {NR: ERR},
        "a subclass of ValueError",
    ),
    # ----------------------------------------------------------------- notebook content
    Case(
        "shell_and_magics_never_run",
        [
            f"!touch {MARKER}",
            f"%%bash\ntouch {MARKER}",
            "%matplotlib inline\nimport os",
            f"x = !touch {MARKER}",
        ],
        {},
    ),
    Case(
        "nothing_runs_in_the_parent",
        [
            f"open({MARKER!r}, 'w').write('top-level call')",
            "import nnlite\nnnlite._pwned_by_notebook = True",
            "def _touch(fn):\n    fn.lib = nnlite\n    try:\n"
            f"        open({MARKER!r}, 'w').close()\n    except OSError:\n        pass\n    return fn",  # noqa: E501
            "@_touch\n" + CORRECT.replace("def normalize_rows", "def normalize_rows", 1),
        ],
        {},
    ),
    Case(
        "long_training_loop_is_skipped",
        ["import time\nfor epoch in range(10**9):\n    time.sleep(1)", "time.sleep(600)"],
        {},
        seconds=10,
    ),
    Case(
        "syntax_error_in_exercise_cell",
        nr("def normalize_rows(x)\n    return x"),
        {NR: ERR},
        "has a syntax error (line 1)",
    ),
    Case(
        "syntax_error_elsewhere", ["for i in range(3)\n    print(i)", "def broken(:\n    pass"], {}
    ),
    Case(
        "stub_not_implemented", nr(f.stub(f.NORMALIZE_ROWS)), {NR: MISSING}, "not implemented yet"
    ),
    Case(
        "exercise_cell_deleted",
        lambda tmp: f.write(
            f.notebook(
                [
                    c
                    for c in f.fixture_cells()
                    if not (isinstance(c, tuple) and len(c) > 2 and c[2] == NR)
                ]
            ),
            tmp / "99_fixture.ipynb",
        ),
        {NR: MISSING},
        "`normalize_rows` is not defined in the notebook",
    ),
    Case(
        "defined_by_a_call_only",
        nr("def _make():\n    return lambda x: x\nnormalize_rows = _make()"),
        {NR: MISSING},
        "only set by a statement the grader does not run",
    ),
    Case(
        "uses_a_global_set_by_a_call",
        nr(
            "EPS = np.float64(0.0)\n"
            "def normalize_rows(x):\n"
            "    x = np.asarray(x, dtype=float)\n"
            "    return x / (np.sqrt((x * x).sum(axis=1, keepdims=True)) + EPS)"
        ),
        {NR: ERR},
        "the notebook sets with a statement the grader does not run",
    ),
    Case(
        "helper_in_another_cell_and_lambda",
        [
            "def _norms(x):\n    return np.sqrt((x * x).sum(axis=1, keepdims=True))",
            "_safe = lambda n: np.where(n > 0, n, 1.0)",
        ]
        + [
            "def normalize_rows(x):\n    x = np.asarray(x, dtype=float)\n"
            "    n = _norms(x)\n    return np.where(n > 0, x / _safe(n), 0.0)"
        ],
        {},
    ),
    Case(
        "helper_in_a_broken_cell",
        [
            "def _norms(x):\n    return np.sqrt((x * x).sum(axis=1 keepdims=True))",
            "def normalize_rows(x):\n    x = np.asarray(x, dtype=float)\n    n = _norms(x)\n"
            "    return np.divide(x, n, out=np.zeros_like(x), where=n > 0)",
        ],
        {NR: ERR},
        "cell 11 has a syntax error",
    ),
    Case(
        "duplicated_cell_last_is_wrong",
        [("code", "def normalize_rows(x):\n    return np.asarray(x, dtype=float)", NR)],
        {NR: ZERO},
        "values differ",
    ),
    Case(
        "duplicated_cell_last_is_right",
        lambda tmp: f.write(
            f.notebook([("code", "def normalize_rows(x):\n    return x", NR)] + f.fixture_cells()),
            tmp / "99_fixture.ipynb",
        ),
        {},
    ),
    # ----------------------------------------------------------------- honest mistakes
    Case(
        "normalises_columns",
        nr(CORRECT.replace("axis=1", "axis=0")),
        {NR: ("failed", 0)},
        "values differ",
    ),
    Case(
        "zero_row_gives_nan",
        nr(
            "def normalize_rows(x):\n    x = np.asarray(x, dtype=float)\n    return x / np.linalg.norm(x, axis=1, keepdims=True)"  # noqa: E501
        ),
        {NR: ("failed", 2)},
        "result contains NaN",
    ),
    Case(
        "wrong_shape_keepdims_sum",
        nr(
            "def normalize_rows(x):\n    return np.sqrt((np.asarray(x, float) ** 2).sum(axis=1, keepdims=True))"  # noqa: E501
        ),
        {NR: ZERO},
        "got shape (3, 1), expected (3, 4)",
    ),
    Case(
        "returns_float32",
        nr(CORRECT.replace("dtype=float", "dtype=np.float32")),
        {NR: ("failed", 3)},
        "compute in float64",
    ),
    Case(
        "returns_a_list",
        nr(
            CORRECT.replace("return np.divide(", "return list(np.divide(").replace(
                "norms > 0)", "norms > 0))"
            )
        ),
        {},
    ),
    Case(
        "mutates_its_input",
        nr(
            "def normalize_rows(x):\n"
            "    n = np.sqrt((x * x).sum(axis=1, keepdims=True))\n"
            "    x[...] = x / np.where(n > 0, n, 1.0)\n    return x"
        ),
        {NR: ("failed", 2.25)},  # 1/4 of each test whose value is right; int input is wrong
        "modified its input array in place (argument 1)",
    ),
    Case(
        "trapezoid_forgets_half_weights",
        {"trapezoid": f.TRAPEZOID.replace("ys.sum() - 0.5 * (ys[0] + ys[-1])", "ys.sum()")},
        {"trapezoid": ("failed", 1)},
        "values differ",
    ),
    Case(
        "running_mean_divides_by_calls",
        {"running_mean": f.RUNNING_MEAN.replace("self.count += batch.shape[0]", "self.count += 1")},
        {"running_mean": ("failed", 2)},
        "values differ",
    ),
    # ----------------------------------------------------------------- malformed files
    Case(
        "not_json",
        lambda tmp: f.write(b"this is not a notebook {", tmp / "99_fixture.ipynb"),
        {k: ERR for k in FULL},
        "not valid JSON",
    ),
    Case(
        "json_but_not_a_notebook",
        lambda tmp: f.write([1, 2, 3], tmp / "99_fixture.ipynb"),
        {k: ERR for k in FULL},
        "not a Jupyter notebook",
    ),
    Case(
        "utf8_bom",
        lambda tmp: f.write(
            b"\xef\xbb\xbf" + json.dumps(f.fixture_notebook()).encode(), tmp / "99_fixture.ipynb"
        ),
        {},
    ),
    Case(
        "nbformat_v3",
        lambda tmp: f.write(
            {
                "nbformat": 3,
                "nbformat_minor": 0,
                "metadata": {"name": ""},
                "worksheets": [
                    {
                        "cells": [
                            {"cell_type": "code", "input": src, "language": "python", "outputs": []}
                            for src in [
                                f.IMPORTS,
                                *[v for k, v in f.SOLUTION_CELLS.items() if k != "imports"],
                            ]
                        ]
                    }
                ],
            },
            tmp / "99_fixture.ipynb",
        ),
        {},
    ),
    Case(
        "no_cells",
        lambda tmp: f.write(
            {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []},
            tmp / "99_fixture.ipynb",
        ),
        {k: MISSING for k in FULL},
        "is not defined in the notebook",
    ),
    Case(
        "missing_metadata_and_fields",
        lambda tmp: f.write(
            {"cells": [{"cell_type": "code", "source": src} for src in f.SOLUTION_CELLS.values()]},
            tmp / "99_fixture-bob (1).ipynb",
        ),
        {},
    ),
    Case(
        "huge_notebook",
        lambda tmp: f.write(
            f.fixture_notebook(extra=[("markdown", "x" * (21 << 20))]), tmp / "99_fixture.ipynb"
        ),
        {k: ERR for k in FULL},
        "too large",
    ),
    Case(
        "binary_garbage",
        lambda tmp: f.write(bytes(range(256)) * 100, tmp / "99_fixture.ipynb"),
        {k: ERR for k in FULL},
        "not UTF-8",
    ),
    Case(
        "deeply_nested_json",
        lambda tmp: f.write(b"[" * 100000 + b"]" * 100000, tmp / "99_fixture.ipynb"),
        {k: ERR for k in FULL},
        "not valid JSON",
    ),
    Case(
        "deeply_nested_expression",
        nr(CORRECT + "\nDEEP = " + "-" * 50000 + "1"),
        {NR: ERR},
        "has a syntax error",
    ),
]


def _build(case: Case, tmp: Path) -> Path:
    if callable(case.make):
        return case.make(tmp)
    if isinstance(case.make, dict):
        nb = f.fixture_notebook(case.make, **case.extra)
    else:
        nb = f.fixture_notebook(extra=list(case.make), **case.extra)
    return f.write(nb, tmp / "99_fixture-student.ipynb")


def _check(rep: dict, case: Case, level: str) -> None:
    expect = dict(case.expect)
    if level in case.by_level:
        expect = dict(case.by_level[level])
    names = [e["name"] for e in rep["exercises"]]
    assert names == list(FULL), names  # every exercise exactly once, in order
    for name, full in FULL.items():
        ex = exercise(rep, name)
        status, score = expect.get(name, ("passed", full))
        assert (ex["status"], ex["score"]) == (status, score), (name, ex)
        assert ex["max_score"] == full
    if case.message and (level not in case.by_level):
        target = next(iter(expect))
        ex = exercise(rep, target)
        texts = (
            [ex.get("message", "")] + [t["message"] for t in ex["tests"]] + [rep.get("error") or ""]
        )
        assert any(case.message in t for t in texts), texts
    assert rep["score"] == sum(e["score"] for e in rep["exercises"])
    assert rep["grader_faults"] == []
    assert rep["isolation"] == level


def _params():
    levels = available_levels()
    out = []
    for case in CASES:
        for level in levels:
            if level not in case.levels:
                continue
            marks = [] if level == levels[0] else [pytest.mark.slow]
            out.append(pytest.param(case, level, id=f"{case.id}-{level}", marks=marks))
    return out


def test_at_least_30_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize(("case", "level"), _params())
def test_case(case, level, tmp_path, monkeypatch):
    monkeypatch.setenv("NNLITE_TEST_SECRET", "s3cret")
    for marker in (Path(MARKER),):
        marker.unlink(missing_ok=True)
    allclose = np.allclose
    g = Grader(tmp_path, level=level)
    path = _build(case, tmp_path)
    rep = g(path)
    _check(rep, case, level)
    assert rep["_seconds"] < case.seconds, rep["_seconds"]
    # Nothing of the notebook ran in this (the grader's) process.
    assert not hasattr(nnlite, "_pwned_by_notebook")
    assert np.allclose is allclose
    import builtins

    assert builtins.isinstance is isinstance
    if level != "process":
        assert not Path(MARKER).exists()
    # Hidden tests never quote the student's exception text or values.
    for ex in rep["exercises"]:
        for t in ex["tests"]:
            if t["hidden"]:
                assert "LEAK" not in t["message"]


def test_network_is_unreachable(tmp_path):
    """A sandboxed call cannot reach a server listening on this machine's loopback."""
    levels = [lv for lv in available_levels() if lv != "process"]
    if not levels:
        pytest.skip("no network isolation available")
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    hits = []

    def accept():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                hits.append(conn.recv(100))
                conn.close()
            except OSError:
                pass

    stop = threading.Event()
    th = threading.Thread(target=accept, daemon=True)
    th.start()
    try:
        body = (
            "import socket\n"
            "def normalize_rows(x):\n"
            "    try:\n"
            f"        s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
            "        s.sendall(b'pwned')\n        s.close()\n"
            "    except OSError:\n        return np.zeros(np.shape(x))\n"
            "    return np.ones(np.shape(x))"
        )
        for level in levels:
            (tmp_path / level).mkdir()
            g = Grader(tmp_path / level, level=level)
            rep = g(f.write(f.fixture_notebook(nr(body)), tmp_path / level / "99_fixture.ipynb"))
            assert exercise(rep, NR)["score"] == 0
    finally:
        stop.set()
        th.join()
        srv.close()
    assert hits == []


def test_timeouts_do_not_block_other_exercises(grader, tmp_path):
    """Every exercise loops forever: all time out, the grading still ends in bounded time."""
    loop = "\n    while True:\n        pass"
    nb = f.fixture_notebook(
        {
            "normalize_rows": "def normalize_rows(x):" + loop,
            "trapezoid": "def trapezoid(f, a, b, n=1000):" + loop,
            "running_mean": "class RunningMean:\n    def __init__(self, dim):"
            + loop.replace("\n", "\n    "),
        }
    )
    rep = grader(f.write(nb, tmp_path / "99_fixture.ipynb"))
    assert [e["status"] for e in rep["exercises"]] == ["timeout"] * 3
    assert rep["score"] == 0
    assert rep["_seconds"] < 30


def test_deterministic(grader, tmp_path):
    nb = f.fixture_notebook(nr(CORRECT.replace("axis=1", "axis=0")))
    path = f.write(nb, tmp_path / "99_fixture.ipynb")
    strip = ("duration", "_seconds")
    a = {k: v for k, v in grader(path).items() if k not in strip}
    b = {k: v for k, v in grader(path).items() if k not in strip}
    assert a == b
