"""The nnlite autograder: ``python -m nnlite grade NOTEBOOK|FOLDER``.

Student code is untrusted. It runs only in sandboxed child processes (one per exercise); the
verdict is computed in the trusted grader process from plain data (numbers, arrays, strings,
lists/tuples/dicts of them) sent back without pickle. See ``../shared/GRADING.md`` for the
requirements (R1-R12) and :mod:`nnlite.grading.sandbox` for the isolation levels.

Writing a grader file
=====================

One file per lesson: ``tests/graders/test_NN_topic.py``, an ordinary pytest module::

    import numpy as np
    import pytest
    from nnlite.grading import assert_close, assert_true

    LESSON = "01_autograd"
    # grade_id -> the top-level names that exercise defines. The sandbox of an exercise loads
    # only these names and the definitions they use (transitively), plus their imports.
    EXERCISES = {"rel_error": ["rel_error"], "backward": ["Tensor"]}
    TIMEOUT = 5  # optional: default wall-clock seconds per call (5)
    # R13: nnlite's own versions of an exercise (and nnlite objects re-implementing it inline),
    # replaced by stubs in the sandbox's copy of nnlite while that exercise is graded.
    OWN_WORK = {"backward": ["nnlite.tensor:Tensor.backward"]}

    @pytest.mark.exercise("rel_error")   # grade_id (required)
    @pytest.mark.points(1)               # points (required; fractions allowed)
    @pytest.mark.hint("Both-zero inputs: divide by max(|a|, |b|, eps).")   # optional
    def test_rel_error_both_zero(student, reference, rng):
        a = rng.normal(size=(3, 4))
        got = student.rel_error(a, a * 0)            # runs in the sandbox; returns plain data
        assert_close(got, reference.rel_error(a, a * 0), rtol=1e-7)   # judged here

``@pytest.mark.visible`` marks a test whose failure may show values (diffs, the student's
shapes, exception class and text). Tests are *hidden* by default: their report says only
grader-authored text (the helpers' messages, your hints), never anything the student's code
chose at run time -- a value, a shape, a length, an exception's class name or text, output --
since each of those is a channel that can carry a hidden input out ("wrong shape", "`f` raised
an exception"; the details go to ``detail``, shown for visible tests only).

Run ``python -m pytest tests/graders/test_NN_topic.py``: without a notebook the fixtures serve
the lesson's *solution* notebook (``solutions/NN_topic.ipynb``), so every test must pass: that is
the "solution scores full marks" check. ``python -m nnlite grade lessons/NN_topic.ipynb`` must
give 0 with status ``missing`` everywhere.

Fixtures (``tests/graders/conftest.py`` does ``from nnlite.grading.plugin import *``)
-----------------------------------------------------------------------------------

``student``
    * ``student.NAME(*args, **kwargs)`` calls the notebook's top-level ``NAME`` in the sandbox
      and returns its answer as plain data (arrays come back as plain ``np.ndarray``, numpy
      scalars as numpy scalars, tuples as tuples). Arguments are copied into the child.
      Raises, and so fails the test with the right status:
      ``StudentMissing`` ("`f` is not defined in the notebook", "not implemented yet" for a
      stub raising NotImplementedError), ``StudentError`` ("`f` raised ValueError", a crash:
      "process killed by signal 11 (SIGSEGV)"), ``StudentTimeout`` ("time limit exceeded
      (5 s)"; after 2 timeouts the exercise's remaining tests are not run), ``WrongAnswer``
      (a non-data answer). An input array modified in place -- by ``student.NAME`` or inside
      ``student.run`` (also through the ``.data`` of a Tensor built on an argument) -- does not
      raise: the test judges the value as usual and the modification is its own cause, see
      "Causes, hints and the cost of a mutation" below.
    * ``student.call(NAME, *args, **kwargs) -> Call`` does the same without judging exceptions
      or mutation: ``.value``, ``.raised`` (``Raised(types, message)`` or None), ``.mutated``
      (labels of modified arguments). Use it to test "x unchanged even if f raises" or to make
      mutation its own test.
    * ``student.raises(ValueError, IndexError).NAME(*args) -> Raised``: the call must raise one of
      these (matched by class *name* along the exception's MRO, so a notebook's own
      ``GradcheckError`` matches ``"GradcheckError"``). ``Raised.message`` is the student's text:
      check it (``assert_true("7" in r.message, "the error should name the bad target")``), but
      it is only shown for visible tests.
    * ``student.run(driver, *args, **kwargs)`` runs ``driver(ns, *args, **kwargs)`` inside the
      sandbox, where ``ns`` holds the student's definitions (``ns["Tensor"]`` or ``ns.Tensor``).
      Use drivers to exercise classes and callables (build a Tensor graph, call ``backward``,
      return ``t.grad``). **Drivers compute; they never judge**: return plain data and compare
      it in the test. A driver must be a self-contained module-level ``def`` (no closure, no
      module globals other than ``np``/``numpy``/``math``; import what else it needs inside its
      body): its *source* is shipped to the sandbox, so never put expected values in it.
    * Grader functions can also be passed as arguments (``student.numerical_grad(f_sin, x)``):
      same rules as drivers.
    * ``student.with_timeout(30).train(...)``: another per-call limit; ``student.defines(NAME)``.
``reference``
    The solution notebook's definitions executed in the trusted grader process:
    ``reference.NAME(*args)`` (arguments deep-copied), ``reference.run(driver, *args)``,
    ``reference.ns``. Answers pass through the same encoding as the student's, so types match.
``rng``
    ``np.random.Generator`` seeded from the test's name: hidden inputs are random but the same
    on every run (R12).

What crosses the channel
------------------------
To the child: the selected definitions' source text, call arguments (plain data), driver
source. Back: plain data only -- ``None``, bools, ints, floats (NaN/inf included), complex,
strings, lists, tuples, dicts, numeric/bool ndarrays (``.npy``, ``allow_pickle=False``), numpy
scalars -- with size caps (64 MiB). Anything else (an object array, a Tensor, a custom class,
an object with a malicious ``__reduce__``) is refused: ``WrongAnswer("`f` returned a value of
type ..., which is not plain data")``. Student stdout/stderr go to a capped log, never to the
report. Expected values, the graders and ``solutions/`` never enter the child.

Assert helpers (strict, run in the grader; R7)
----------------------------------------------
``assert_close(got, expected, rtol=1e-7, atol=0, *, equal_nan=False, dtype=None, msg=None,
hint=None, public=False)``: float64 conversion, exact shape first (never broadcasts), NaN/inf
must match the expected ones, then ``|got - expected| <= atol + rtol*|expected|``
elementwise (NaN-safe). Lists are accepted when they convert to the right shape.
``dtype=np.float32`` also checks "float32 in, float32 out". Tuples/dicts compare element by
element. Messages: "wrong shape" (+ "got shape (3, 5), expected (4, 6)" for visible tests),
"result contains NaN", "values differ from the expected result" (+ "max abs error 0.12 at
index (1, 2) ..." for visible tests).
``assert_equal(got, expected)``: exact (ints, bools, strings, arrays, tuples).
``assert_shape(got, shape)``, ``assert_dtype(got, dtype)``,
``assert_true(condition, "grader-authored message", detail=..., hint=..., kind=...)``,
``fail(message, kind=...)``, ``as_array(got)`` (validated plain ndarray, original dtype).
Prefer these to bare ``assert``: a bare failing ``assert`` is reported as "wrong result"
(its values are shown only for visible tests). Messages never quote the student's shape; pass
``public=True`` (assert_close/assert_equal/assert_shape) when the expected value is public
(stated in the lesson or in the test's description) to add "expected (1, 3)" for hidden tests.
"wrong dtype, expected float32" names only the expected dtype. The float64 advice of "values
differ" is given only when the test asks for no dtype and expects float64 values.
``assert_true`` fails (it raises no grader fault) when the condition is not a bool: a condition
computed in the sandbox is whatever the student's code made it (a patched ``all``). An
"expected" value that came from the student (a draw compared with a redraw) may hold NaN or no
numbers: that fails the test too. Validate an answer's shape (``assert_shape``) before doing
arithmetic with it in the test; if the test's own code still raises on an answer (numpy
refusing to broadcast predictions of the wrong length), the test fails with "the answer could
not be checked": the student's failure, not a grader fault (every test passes on the solution,
so the grader's own mistakes show up there).

Causes, hints and the cost of a mutation
----------------------------------------
Every failure has a *kind*, its cause (:data:`nnlite.grading.errors.KINDS`): ``value``,
``shape``, ``dtype``, ``nan``, ``type`` (the answer's form), ``error`` (the student's code
raised), ``mutation``, ``timeout``, ``missing``, ``blocked`` (the exercise's definitions could not
be loaded: a syntax error, an unreadable notebook) and ``grader``. The helpers set it; ``fail``,
``assert_true`` and ``assert_equal`` take ``kind=`` (``assert_equal(dtype_name, "float32",
kind="dtype")``). A test's ``@pytest.mark.hint(text)`` is shown for failures of the answer kinds
(value, shape, dtype, nan, type, error); a test about one thing says so:
``@pytest.mark.hint("float32 in, float32 out", on="dtype")`` is not shown with "wrong shape".
A ``hint=`` given to a helper is shown whenever that assertion fails. ``blocked``, ``missing``,
``timeout`` and ``mutation`` failures carry their own advice and get no test hint (unless the
hint names the kind in ``on=``).

The report groups an exercise's failures by cause (``exercise["causes"]``: kind, message, the
hints that fit it, the tests affected, the points lost) and the terminal report prints one line
per cause, not one per test; an exercise-level error is one cause, and a notebook-level one is
said once, at the top. An input modified in place is one cause per exercise however many tests
saw it: a test whose value is right keeps ``1 - MUTATION_PENALTY`` of its points (module level,
default 0.25); a test about leaving the input unchanged says
``@pytest.mark.mutation_penalty(1)``; a test that failed for another reason loses only that.
In plain pytest runs (on the solution) a mutation fails the test.

Statuses
--------
Per test and per exercise: ``passed``, ``failed`` (wrong answer, wrong shape, mutated input,
non-data answer), ``error`` (raised an exception, crashed, a syntax error in the defining cell),
``timeout``, ``missing`` (not defined, or a NotImplementedError stub). A test that skips is not
scored. An exercise is ``passed`` when all its tests pass, ``missing`` when nothing was
implemented, else the worst of its tests' statuses (timeout > error > failed). A test that
passes with an input modified in place is ``failed`` with part of its points (see above). A
fault of the grader itself (a bug in a grader file, or a test raising before any answer
arrived) is reported as "the grader could not check this result (a fault of the grader, not
yours)" and makes the CLI exit with status 1.

Mutation tests for a lesson
---------------------------
:func:`nnlite.grading.testing.grade_with` grades the solution notebook with some definitions
replaced by mutants::

    from nnlite.grading.testing import grade_with
    mutant = "def rel_error(a, b, eps=1e-12):\\n    return 0.0"
    rep = grade_with("01_autograd", {"rel_error": mutant})
    assert rep.exercise("rel_error")["score"] < rep.exercise("rel_error")["max_score"]

The sandbox
-----------
One child process per exercise, started when the grader file is collected (all exercises load
concurrently), replaced when it dies. What it loads: the notebook's *definitions* (top-level
imports, def, class, and assignments without a call -- a lambda's body does not count), only
those the exercise's names need, the last definition of a name winning; magics are dropped, a
cell with a syntax error is skipped (an exercise defined there scores 0 with "cell N has a
syntax error (line L)"). Isolation (``report["isolation"]``): ``namespaces`` as root (PID,
mount, network and System V IPC namespaces, a minimal read-only root without the repository's
tests/, solutions/ and .git, scratch on a 64 MiB tmpfs, uid 65534, Landlock), ``landlock``
without privileges on a Landlock kernel, else ``process``; every level has a wall-clock limit
per call (5 s; module-level ``TIMEOUT`` or ``student.with_timeout``), 15 s to load the
definitions, rlimits (CPU 120 s, address space 4 GiB, files 8 MiB, 64 fds, no processes or
threads, no core), a total of 64 MiB and 4096 files in the scratch directory (the sandbox is
killed past it: "disk limit exceeded"), one BLAS thread, a minimal environment, a private
scratch directory in a session of its own, and on x86_64 a seccomp filter (no signals to other
processes, no sockets, no ptrace, no System V IPC, no changes of file modes or owners). Force
a level with ``NNLITE_GRADING_ISOLATION`` or ``--isolation``. See :mod:`nnlite.grading.sandbox`.

What each level leaves open (say so to whoever grades on such a host):

* ``namespaces``: nothing known of the host is reachable; memory is bounded by the address
  space limit per child, not by a cgroup.
* ``landlock``: the child runs as the grading user: it reads only Python, numpy and nnlite
  and writes only its scratch directory (total bounded by watching it: writes within the
  0.1 s between two checks can pass the budget by what the disk takes in that time); its
  processes are visible in ``/proc`` but unreachable by signals or ptrace.
* ``process``: the child can *read* whatever the grading user can (grade as a user that holds
  nothing else, or as root); seccomp denies it every write to the file system, sockets,
  signals to other processes and ptrace, so ``kill(-1)``, ``~/.bashrc`` and the output folder
  are out of reach. Without seccomp (not x86_64) those are open too: use another level.

Batches: ``python -m nnlite grade FOLDER`` grades every notebook of the folder as one lesson
(``--lesson``, else the folder's name, else what most file names or metadata say; printed),
and reports a notebook whose own name or metadata say another lesson. A single notebook whose
file name and metadata disagree is not graded (an error names both; ``--lesson`` decides).
Only regular files are opened: symbolic links, FIFOs, sockets, devices, hidden files and
hidden folders are listed as "not graded" (with a CSV row and a report, except hidden
folders). Reports in ``--out`` are named after the notebook's path in the folder, escaped
reversibly (``alice%2F01_autograd.json``); every CSV row names its notebook.

Own work (R13)
--------------
nnlite implements every exercise (lessons fall back to it). While an exercise is graded, its
sandbox imports a *copy* of nnlite in which each ``OWN_WORK`` entry (``module:qualname``: a
function, a class, a method, a module-level name) is a stub raising ``OwnWorkError``; whatever
in nnlite calls it fails the same way (``nnlite.nn.MLP`` builds ``Linear``s, the lesson fallbacks
call ``nnlite.train.fit``), so list also what re-implements the exercise inline. Other
exercises' objects stay: a later exercise keeps nnlite's version of an earlier one. A test that
reaches a stub fails with "`f` uses nnlite's `nnlite.nn.Linear`, which is not available while
exercise `linear` is graded: write your own". What the copy guarantees per isolation level:
``namespaces``: the copy is mounted over the package's real path(s); the real files and their
``__pycache__`` do not exist in the child. ``landlock``: only the copy is readable (a real
nnlite inside site-packages is left out of the readable paths). ``process``: the copy is what
``import nnlite`` finds, but the real files stay readable by path (the grading user's rights):
a student who knows the path can read nnlite's source, as they can read ``solutions/``; use a
stronger level for summative grading. See :mod:`nnlite.grading.ownwork`.

Other entry points
------------------
:func:`grade_notebook` (one notebook → report dict), :mod:`nnlite.grading.report` (schema,
validator, Gradescope, CSV, text), :mod:`nnlite.checks` (the visible in-notebook checks).
"""

from __future__ import annotations

from typing import Any

from nnlite.grading.compare import (
    as_array,
    assert_close,
    assert_dtype,
    assert_equal,
    assert_shape,
    assert_true,
    fail,
)
from nnlite.grading.errors import (
    GraderError,
    GradingFailure,
    InputMutated,
    StudentError,
    StudentMissing,
    StudentTimeout,
    WrongAnswer,
)

__all__ = [
    "assert_close",
    "assert_equal",
    "assert_shape",
    "assert_dtype",
    "assert_true",
    "as_array",
    "fail",
    "GradingFailure",
    "WrongAnswer",
    "StudentError",
    "StudentTimeout",
    "StudentMissing",
    "InputMutated",
    "GraderError",
    "grade_notebook",
]


def grade_notebook(path: Any, **kwargs: Any) -> dict[str, Any]:
    """Grade one notebook and return its report dict (see :mod:`nnlite.grading.runner`)."""
    from nnlite.grading.runner import grade_notebook as _grade

    return _grade(path, **kwargs)
