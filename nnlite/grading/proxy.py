"""The ``student`` and ``reference`` objects graders use, and the per-exercise sandbox runner."""

from __future__ import annotations

import ast
import builtins
import copy
import dataclasses
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from nnlite.grading import wire
from nnlite.grading.errors import (
    GraderError,
    GradingFailure,
    StudentError,
    StudentMissing,
    StudentTimeout,
    WrongAnswer,
)
from nnlite.grading.notebook import Program, Selection
from nnlite.grading.ownwork import ERROR_NAME, display_name, package_copy
from nnlite.grading.sandbox import Limits, Sandbox, SandboxError, _package_dirs

_BUILTIN_EXC = {
    name
    for name in dir(builtins)
    if isinstance(getattr(builtins, name), type)
    and issubclass(getattr(builtins, name), BaseException)
}
_DRIVER_GLOBALS = {"np", "numpy", "math"}


@dataclasses.dataclass
class Raised:
    """An exception raised by student code in the sandbox.

    ``types``: the class names of the exception's MRO (most derived first); ``message``: its
    text (student-controlled: graders may inspect it, reports show it only for visible tests).
    """

    types: list[str]
    message: str

    @property
    def name(self) -> str:
        return self.types[0] if self.types else "Exception"

    def isinstance(self, *names: str | type) -> bool:
        want = {n if isinstance(n, str) else n.__name__ for n in names}
        return any(t in want for t in self.types)


@dataclasses.dataclass
class Call:
    """What :meth:`Student.call` returns: the value (plain data) or the exception, and which
    input arrays the function modified in place (labels such as ``"argument 1"``)."""

    value: Any
    raised: Raised | None
    mutated: list[str]


# ----------------------------------------------------------------------------- shipping functions

_source_cache: dict[Callable, wire.SourceFunction] = {}


def ship(func: Callable) -> wire.SourceFunction:
    """Package a grader-authored module-level function to run in the sandbox (as source).

    The function must be self-contained: a module-level ``def`` with no closure, using only
    builtins, its arguments, ``np``/``numpy``/``math`` and what it imports in its body. Its
    source crosses into the sandbox, so it must not contain expected answers.
    """
    if isinstance(func, wire.SourceFunction):
        return func
    cached = _source_cache.get(func)
    if cached is not None:
        return cached
    if not inspect.isfunction(func):
        raise GraderError(f"{func!r} is not a function: drivers must be module-level functions")
    if func.__name__ == "<lambda>" or func.__qualname__ != func.__name__:
        raise GraderError(
            f"driver `{func.__qualname__}` must be a module-level def (not a lambda, method or "
            "nested function): it is shipped to the sandbox as source"
        )
    if func.__code__.co_freevars:
        raise GraderError(f"driver `{func.__name__}` uses a closure; make it self-contained")
    try:
        cv = inspect.getclosurevars(func)
    except (TypeError, ValueError) as exc:
        raise GraderError(f"cannot inspect driver `{func.__name__}`: {exc}") from None
    extra = sorted(set(cv.globals) - _DRIVER_GLOBALS)
    if extra:
        raise GraderError(
            f"driver `{func.__name__}` uses module-level name(s) {', '.join(extra)}; drivers run "
            "in the sandbox and may use only np/numpy/math, builtins and their own imports"
        )
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as exc:
        raise GraderError(f"cannot read the source of driver `{func.__name__}`: {exc}") from None
    lines = source.split("\n")
    while lines and lines[0].lstrip().startswith("@"):
        raise GraderError(f"driver `{func.__name__}` must not be decorated")
    shipped = wire.SourceFunction(SHIPPED_NAME, _neutral_source(source))
    _source_cache[func] = shipped
    return shipped


SHIPPED_NAME = "grader_function"


def _neutral_source(source: str) -> str:
    """What of a grader function reaches the child (R15): its code, under a neutral name,
    without its docstrings and comments (they describe the test and its expected answer, and
    the child's memory is readable by student code)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    tree.body[0].name = SHIPPED_NAME
    return ast.unparse(tree)


def _ship_tree(value: Any) -> Any:
    if inspect.isfunction(value):
        return ship(value)
    if type(value) is list:
        return [_ship_tree(v) for v in value]
    if type(value) is tuple:
        return tuple(_ship_tree(v) for v in value)
    if type(value) is dict:
        return {k: _ship_tree(v) for k, v in value.items()}
    return value


def _array_labels(args: tuple, kwargs: dict) -> list[str]:
    """Labels of the ndarrays in args/kwargs, in the order the child reports mutations."""
    labels: list[str] = []

    def walk(v: Any, label: str) -> None:
        if isinstance(v, np.ndarray):
            labels.append(label)
        elif type(v) in (list, tuple):
            for x in v:
                walk(x, label)
        elif type(v) is dict:
            for x in v.values():
                walk(x, label)

    for i, a in enumerate(args, start=1):
        walk(a, f"argument {i}")
    for k, a in kwargs.items():
        walk(a, f"argument `{k}`")
    return labels


# ----------------------------------------------------------------------------- the runner


class ExerciseRunner:
    """The sandbox of one exercise of one notebook; replaced when it dies."""

    def __init__(
        self,
        grade_id: str,
        names: list[str],
        program: Program,
        level: str,
        limits: Limits,
        notebook_error: str | None = None,
        own_work: list[str] | None = None,
    ):
        self.grade_id = grade_id
        self.own_work = list(own_work or [])
        self.names = list(names)
        self.program = program
        self.level = level
        self.limits = limits
        self.notebook_error = notebook_error
        self.selection: Selection = program.select(self.names)
        self.box: Sandbox | None = None
        self.features: list[str] = []
        self.starts = 0
        self.timeouts = 0
        self.load_failure: GradingFailure | None = None

    @property
    def blocked(self) -> str | None:
        """Why every test of this exercise fails without running, or None."""
        if self.notebook_error:
            return self.notebook_error
        for name in self.names:
            b = self.selection.broken.get(name)
            if b is not None:
                return b.message()
        return None

    def start(self) -> None:
        if self.box is None and self.blocked is None:
            self.starts += 1
            package = package_copy(_package_dirs()[0], self.own_work, self.grade_id)
            self.box = Sandbox(
                [u.wire() for u in self.selection.units], self.level, self.limits, package
            )

    def close(self) -> None:
        if self.box is not None:
            self.box.close()
            self.box = None

    def request(
        self, header: dict, blobs: list[bytes], timeout: float | None
    ) -> tuple[dict, list[bytes]]:
        if self.load_failure is not None:
            f = self.load_failure
            raise type(f)(f.message, detail=f.detail, hint=f.hint, kind=f.kind)
        if self.box is None or not self.box.alive:
            self.close()
            self.start()
        assert self.box is not None
        try:
            self.box.wait_ready()
        except SandboxError as exc:
            self.close()
            if exc.kind == "start":
                raise
            lim = self.limits.load_timeout
            if exc.kind == "load_timeout":
                self.load_failure = StudentTimeout(
                    f"loading the notebook's definitions took longer than {lim:g} s "
                    "(a definition that computes too much at the top level?)",
                    kind="blocked",
                )
            elif exc.kind == "load_died":
                self.load_failure = StudentError(
                    f"the notebook's definitions crashed the sandbox while loading ({exc.detail})",
                    kind="blocked",
                )
            else:
                self.load_failure = StudentError(
                    "the notebook's definitions broke the sandbox while loading", kind="blocked"
                )
            f = self.load_failure
            raise type(f)(f.message, detail=f.detail, hint=f.hint, kind=f.kind) from None
        if self.box.features:
            self.features = self.box.features
        try:
            return self.box.request(header, blobs, timeout)
        except SandboxError:
            self.close()
            raise

    def load_error_for(self, name: str) -> dict | None:
        """The error raised while loading the statement that defines ``name``, if any."""
        box = self.box
        if box is None:
            return None
        units = self.selection.units
        for err in box.load_errors:
            i = err.get("unit")
            if isinstance(i, int) and 0 <= i < len(units) and name in units[i].defines:
                return err
        return None


# ----------------------------------------------------------------------------- the proxy

# How a call's sandbox died, in grader-authored words. The student's code picks the exit status
# (os._exit(n)) and the signal (os.kill): quoted, they would carry a byte of a hidden input per
# test, so a message names only these few kinds; the exact reason is the visible-only detail.
_DEATHS = (
    ("SIGXCPU", "CPU time limit exceeded (process killed by signal SIGXCPU)"),
    ("SIGXFSZ", "output size limit exceeded (process killed by signal SIGXFSZ)"),
    ("(SIGSEGV)", "process killed by signal 11 (SIGSEGV)"),
    ("(SIGKILL)", "process killed by signal 9 (SIGKILL)"),
    ("(SIGABRT)", "process killed by signal 6 (SIGABRT)"),
    ("stopped answering", "the process stopped answering"),
    ("sandbox process failed", "the sandbox process failed"),
    ("exited", "the process exited during the call (sys.exit or os._exit?)"),
)


def death_message(reason: str) -> str:
    """A grader-authored message for a sandbox death reason (see ``Sandbox._death_reason``)."""
    for key, message in _DEATHS:
        if key in reason:
            return message
    return "process killed by a signal"


class TestLog:
    """What happened in one grader test besides its answers: how many answers arrived from the
    sandbox, and the in-place modifications of inputs seen (each message once)."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.answers = 0
        self.mutations: list[str] = []

    def mutation(self, message: str) -> None:
        if message not in self.mutations:
            self.mutations.append(message)


class Student:
    """The ``student`` fixture: calls run in the exercise's sandbox and return plain data.

    * ``student.NAME(*args, **kwargs)``: call the student's top-level ``NAME``; returns the
      answer; raises :class:`StudentMissing` (not defined / NotImplementedError),
      :class:`StudentError` (raised, crashed, answered non-data), :class:`StudentTimeout`.
      An input array modified in place is noted (not raised): the test judges the value, and
      the plugin reports the mutation once per exercise at its stated cost.
    * ``student.call(NAME, *args, **kwargs) -> Call``: the same without judging exceptions and
      mutations: inspect ``.value``, ``.raised`` and ``.mutated`` yourself.
    * ``student.raises(ValueError, "GradcheckError", ...).NAME(*args) -> Raised``: the call must
      raise one of these (matched by class name along the MRO).
    * ``student.run(driver, *args, **kwargs)``: run ``driver(ns, *args, **kwargs)`` in the
      sandbox; ``ns`` gives the student's definitions (``ns["Tensor"]`` or ``ns.Tensor``).
    * ``student.with_timeout(seconds)``: the same proxy with another per-call time limit.
    * ``student.defines(NAME) -> bool``: whether the notebook defines ``NAME`` (no call made).

    Arguments may be plain data (numbers, strings, arrays, lists/tuples/dicts of them) or
    self-contained module-level grader functions (shipped as source, see :func:`ship`).
    """

    def __init__(
        self,
        runner: ExerciseRunner,
        visible: bool = False,
        timeout: float | None = None,
        log: TestLog | None = None,
    ):
        object.__setattr__(self, "_runner", runner)
        object.__setattr__(self, "_visible", visible)
        object.__setattr__(self, "_timeout", timeout)
        object.__setattr__(self, "_log", log if log is not None else TestLog())

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("__"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._judge(name, self.call(name, *args, **kwargs))

        call.__name__ = name
        return call

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the student proxy is read-only")

    def __repr__(self) -> str:
        return f"<student exercise={self._runner.grade_id!r}>"

    # -- public API --------------------------------------------------------------------------

    @property
    def exercise(self) -> str:
        return self._runner.grade_id

    def with_timeout(self, seconds: float) -> Student:
        return Student(self._runner, self._visible, float(seconds), self._log)

    def defines(self, name: str) -> bool:
        return self._runner.program.defined(name)

    def raises(self, *expected: str | type) -> _Raises:
        if not expected:
            expected = (Exception,)
        return _Raises(self, expected)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Call:
        header = {"op": "call", "name": name}
        return self._request(header, name, args, kwargs)

    def run(self, driver: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        shipped = ship(driver)
        header = {"op": "run", "driver": shipped.name, "source": shipped.source}
        result = self._request(header, None, args, kwargs)
        names = self._runner.names
        who = f"`{names[0]}`" if len(names) == 1 else "your code"
        if result.raised is not None:
            raise self._raised_error(who, result.raised)
        if result.mutated:
            # The driver's arguments reach the student's code as arrays or as the .data of
            # Tensors built on them (Tensor(z) shares z's memory).
            self._log.mutation(
                f"{who} modified an input in place (an array, or a Tensor's .data): work on a copy"
            )
        return result.value

    # -- internals ---------------------------------------------------------------------------

    def _judge(self, name: str, result: Call) -> Any:
        if result.raised is not None:
            raise self._raised_error(f"`{name}`", result.raised)
        if result.mutated:
            # Not a failure of this test's values: one cause, reported once per exercise and
            # costing a stated share (see TestLog), while the value is judged as usual.
            self._log.mutation(
                f"`{name}` modified its input array in place "
                f"({', '.join(dict.fromkeys(result.mutated))}): work on a copy"
            )
        return result.value

    def _exc_label(self, raised: Raised) -> str:
        for i, t in enumerate(raised.types):
            if t in _BUILTIN_EXC or (t in self._runner.program.identifiers and t.isidentifier()):
                return t if i == 0 else f"an exception (a subclass of {t})"
        return "an exception"

    def _raised_error(self, who: str, raised: Raised) -> Exception:
        """The failure for an exception of the student's. The message names only a few fixed
        kinds of exception; the class name (which the student chooses) and the exception's
        text are the detail, shown for visible tests only."""
        label = self._exc_label(raised)
        if "NotImplementedError" in raised.types:
            return StudentMissing(f"{who} is not implemented yet (it raises NotImplementedError)")
        if ERROR_NAME in raised.types and self._runner.own_work:
            used = [
                n for n in map(display_name, self._runner.own_work) if f"{n} " in raised.message
            ]
            what = f"nnlite's `{used[0]}`" if used else "nnlite's version of this exercise"
            return StudentError(
                f"{who} uses {what}, which is not available while exercise "
                f"`{self._runner.grade_id}` is graded: write your own"
            )
        if "SystemExit" in raised.types:
            return StudentError(f"{who} called sys.exit(): never exit the process in an exercise")
        if "KeyboardInterrupt" in raised.types:
            return StudentError(f"{who} raised KeyboardInterrupt")
        if "MemoryError" in raised.types:
            return StudentError(f"{who} ran out of memory (MemoryError)")
        if "RecursionError" in raised.types:
            return StudentError(f"{who} raised RecursionError (recursion too deep)")
        prog = self._runner.program
        if "NameError" in raised.types and raised.message:
            # The name (and its cell) would be picked at run time by the exception's text, so
            # they are the visible-only detail; the message says what kind of name it is.
            for cand, b in sorted(self._runner.selection.broken.items()):
                if f"'{cand}'" in raised.message:
                    return StudentError(
                        f"{who} uses a name defined in a cell the grader could not run",
                        detail=f"{b.message()}; it defines `{cand}`",
                    )
            for cand in sorted(prog.skipped_names):
                if f"'{cand}'" in raised.message:
                    return StudentError(
                        f"{who} uses a name that the notebook sets with a statement the grader "
                        "does not run (only imports, def, class and assignments without calls "
                        "are run): define it inside your function or as a constant",
                        detail=f"the name is `{cand}`",
                    )
        text = raised.message[:300]
        return StudentError(
            f"{who} raised an exception", detail=f"{label}: {text}" if text else label
        )

    def _request(self, header: dict, name: str | None, args: tuple, kwargs: dict) -> Call:
        runner = self._runner
        blocked = runner.blocked
        if blocked:
            raise StudentError(blocked, kind="blocked")
        try:
            blobs: list[bytes] = []
            header["args"] = wire.encode_value(_ship_tree(list(args)), blobs, allow_functions=True)
            header["kwargs"] = wire.encode_value(
                _ship_tree(dict(kwargs)), blobs, allow_functions=True
            )
        except wire.WireError as exc:
            raise GraderError(f"grader arguments are not plain data: {exc.reason}") from None
        timeout = self._timeout or runner.limits.call_timeout
        if runner.timeouts >= runner.limits.max_timeouts:
            raise StudentTimeout(
                f"time limit exceeded ({timeout:g} s): not run, "
                "earlier tests of this exercise timed out"
            )
        try:
            resp, rblobs = runner.request(header, blobs, timeout)
        except SandboxError as exc:
            if exc.kind == "timeout":
                runner.timeouts += 1
                raise StudentTimeout(f"time limit exceeded ({timeout:g} s)") from None
            if exc.kind == "died":
                raise StudentError(death_message(exc.detail), detail=exc.detail) from None
            if exc.kind == "garbage":
                if exc.detail == "too large":
                    lim = runner.limits.result_bytes >> 20
                    raise StudentError(f"the result is too large (over {lim} MiB)") from None
                raise StudentError("the sandbox answered with malformed data") from None
            raise GraderError(f"the sandbox could not start: {exc.detail}") from None
        call = self._interpret(name, resp, rblobs, _array_labels(args, kwargs))
        self._log.answers += 1
        return call

    def _interpret(
        self, name: str | None, resp: dict, blobs: list[bytes], labels: list[str]
    ) -> Call:
        status = resp.get("status")
        mutated_idx = resp.get("mutated", [])
        mutated = []
        if isinstance(mutated_idx, list):
            for i in mutated_idx:
                if type(i) is int and 0 <= i < len(labels):
                    mutated.append(labels[i])
        if status == "ok":
            try:
                value = wire.decode_value(resp.get("value"), blobs)
            except wire.WireError:
                raise StudentError("the sandbox answered with malformed data") from None
            except RecursionError:
                raise StudentError("the answer is nested too deeply") from None
            return Call(value, None, mutated)
        if status == "raised":
            exc = resp.get("exc")
            if not isinstance(exc, dict):
                raise StudentError("the sandbox answered with malformed data")
            types = exc.get("types")
            message = exc.get("message")
            if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
                types = ["Exception"]
            return Call(
                None, Raised(types[:20], message if isinstance(message, str) else ""), mutated
            )
        if status == "missing":
            missing = resp.get("name")
            shown = missing if isinstance(missing, str) and missing in self._runner.names else name
            shown = shown or "a name"
            err = self._runner.load_error_for(shown)
            if err is not None:
                raw = err.get("types") if isinstance(err.get("types"), list) else []
                r = Raised(
                    [t for t in raw if isinstance(t, str)] or ["Exception"],
                    str(err.get("message", ""))[:300],
                )
                return_err = self._raised_error(f"the definition of `{shown}`", r)
                if isinstance(return_err, StudentMissing):
                    raise return_err
                raise StudentError(
                    return_err.message + " while the notebook's definitions were loaded",
                    detail=r.message or None,
                )
            broken = self._runner.program.latest_broken(shown)
            if broken is not None:
                raise StudentError(broken.message())
            if shown in self._runner.program.skipped_names:
                raise StudentMissing(
                    f"`{shown}` is only set by a statement the grader does not run "
                    "(a call, a loop, "
                    "an if/try block): define it with def/class or a plain assignment"
                )
            raise StudentMissing(f"`{shown}` is not defined in the notebook")
        if status == "not_callable":
            raise WrongAnswer(f"`{name}` is not a function or class")
        if status == "bad_value":
            reason = resp.get("reason")
            if reason == "too large":
                lim = self._runner.limits.result_bytes >> 20
                raise StudentError(f"the result is too large (over {lim} MiB)")
            text = wire.safe_reason(reason)
            names = self._runner.names
            who = f"`{name}`" if name else (f"`{names[0]}`" if len(names) == 1 else "your code")
            raise WrongAnswer(
                f"{who} returned {text}, which is not plain data (numbers, arrays, lists)"
            )
        raise StudentError("the sandbox answered with malformed data")


class _Raises:
    def __init__(self, student: Student, expected: tuple[str | type, ...]):
        self._student = student
        self._expected = [e if isinstance(e, str) else e.__name__ for e in expected]

    def __getattr__(self, name: str) -> Callable[..., Raised]:
        if name.startswith("__"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Raised:
            result = self._student.call(name, *args, **kwargs)
            want = " or ".join(self._expected)
            if result.raised is None:
                raise WrongAnswer(f"`{name}` should raise {want} here, but it returned normally")
            if (
                "NotImplementedError" in result.raised.types
                and "NotImplementedError" not in self._expected
            ):
                raise StudentMissing(
                    f"`{name}` is not implemented yet (it raises NotImplementedError)"
                )
            if not result.raised.isinstance(*self._expected):
                label = self._student._exc_label(result.raised)
                text = result.raised.message[:300]
                raise WrongAnswer(
                    f"`{name}` raised another exception than {want}",
                    detail=f"{label}: {text}" if text else label,
                    kind="error",
                )
            return result.raised

        return call


# ----------------------------------------------------------------------------- reference


class _RefNamespace:
    def __init__(self, ref: Reference):
        object.__setattr__(self, "_ref", ref)

    def __getitem__(self, name: str) -> Any:
        ns = self._ref._ns
        if name not in ns:
            self._ref._load([name])
        return ns[name]

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._ref._ns or self._ref._program.defined(name)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default


def _roundtrip(value: Any) -> Any:
    """Pass a reference answer through the wire encoding, so it has the student's types."""
    blobs: list[bytes] = []
    try:
        tree = wire.encode_value(value, blobs)
    except (wire.WireError, RecursionError):
        return value
    return wire.decode_value(tree, blobs)


class Reference:
    """The ``reference`` fixture: the solution notebook's definitions, run in the trusted parent.

    ``reference.NAME(*args, **kwargs)`` calls it with deep copies of the arguments (so expected
    values never depend on a mutation); ``reference.run(driver, *args)`` runs a driver on the
    solution's namespace; ``reference.ns`` is that namespace. Answers are passed through the
    wire encoding, so they have exactly the types a student's answer would have.
    """

    def __init__(self, program: Program, names: list[str], origin: str):
        self._program = program
        self._origin = origin
        self._ns: dict[str, Any] = {"__name__": "nnlite_reference", "__builtins__": builtins}
        self._loaded: set[int] = set()
        self._load(names)

    def _load(self, names: list[str]) -> None:
        sel = self._program.select(names)
        for unit in sel.units:
            key = id(unit)
            if key in self._loaded:
                continue
            self._loaded.add(key)
            try:
                code = compile(
                    "\n" * (unit.line - 1) + unit.source, f"{self._origin} cell {unit.cell}", "exec"
                )
                exec(code, self._ns)  # noqa: S102 - trusted solution notebook
            except Exception as exc:  # noqa: BLE001
                raise GraderError(
                    f"the solution notebook {self._origin}: cell {unit.cell} raised "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        if sel.broken:
            b = next(iter(sel.broken.values()))
            raise GraderError(f"the solution notebook {self._origin}: {b.message()}")

    @property
    def ns(self) -> _RefNamespace:
        return _RefNamespace(self)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._ns:
            self._load([name])
        if name not in self._ns:
            raise GraderError(f"the solution notebook {self._origin} does not define `{name}`")
        func = self._ns[name]

        def call(*args: Any, **kwargs: Any) -> Any:
            return _roundtrip(func(*copy.deepcopy(args), **copy.deepcopy(kwargs)))

        call.__name__ = name
        return call

    def run(self, driver: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        ship(driver)  # same contract as in the sandbox: self-contained
        return _roundtrip(driver(self.ns, *copy.deepcopy(args), **copy.deepcopy(kwargs)))
