"""pytest side of the grader: the ``student``/``reference``/``rng`` fixtures and the collector.

``tests/graders/conftest.py`` imports the fixtures (``from nnlite.grading.plugin import *``).
Two modes:

* **grading** (``python -m nnlite grade``): the CLI runs pytest in-process on one grader file with
  a :class:`CollectorPlugin`; the fixtures serve the submitted notebook and the plugin records
  every test's points, status and messages.
* **plain pytest** (CI, authors): no collector; the fixtures serve the lesson's *solution*
  notebook through the same sandbox, so every grader test must pass on the reference.
"""

from __future__ import annotations

import atexit
import dataclasses
import time
import zlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from nnlite.grading.errors import (
    ANSWER_KINDS,
    KINDS,
    GraderError,
    GradingFailure,
    InputMutated,
    StudentError,
)
from nnlite.grading.notebook import Notebook, Program, read_notebook
from nnlite.grading.ownwork import parse_entry
from nnlite.grading.proxy import ExerciseRunner, Reference, Student, TestLog
from nnlite.grading.sandbox import Limits, choose_isolation, kill_all

__all__ = ["student", "reference", "rng", "nnlite_grading_sessions"]

MARKERS = [
    "exercise(grade_id): the notebook exercise a grader test scores",
    "points(n): points a grader test is worth",
    "hint(text, on=kinds): the misconception a failing grader test points to, shown for "
    "failures of these kinds (default: value, shape, dtype, nan, type, error)",
    "visible: a grader test whose feedback may show values (not hidden)",
    "mutation_penalty(share): the share of this test's points an in-place modification of an "
    "input costs (default: the module's MUTATION_PENALTY, else 0.25)",
]

#: Share of a test's points lost when the student's code modified an input in place and the
#: test otherwise passed (a grader module may set ``MUTATION_PENALTY``; a test
#: ``@pytest.mark.mutation_penalty(share)``).
MUTATION_PENALTY = 0.25
UNCHECKABLE = (
    "the answer could not be checked: it does not have the form this test expects "
    "(its shape, length or type)"
)

atexit.register(kill_all)


def find_solution(grader_file: str | Path, lesson: str) -> Path | None:
    """``solutions/LESSON.ipynb`` in the nearest ancestor directory of the grader file."""
    for parent in Path(grader_file).resolve().parents:
        cand = parent / "solutions" / f"{lesson}.ipynb"
        if cand.is_file():
            return cand
    return None


def grader_spec(module: Any) -> tuple[str, dict[str, list[str]]]:
    """Validate and return a grader module's ``LESSON`` and ``EXERCISES``."""
    lesson = getattr(module, "LESSON", None)
    exercises = getattr(module, "EXERCISES", None)
    if not isinstance(lesson, str) or not lesson:
        raise GraderError(f"{module.__name__}: module-level LESSON = 'NN_topic' is missing")
    if not isinstance(exercises, dict) or not exercises:
        raise GraderError(
            f"{module.__name__}: module-level EXERCISES = {{grade_id: [names]}} is missing"
        )
    for key, names in exercises.items():
        if not isinstance(key, str) or not isinstance(names, list | tuple) or not names:
            raise GraderError(
                f"{module.__name__}: EXERCISES[{key!r}] must be a non-empty list of names"
            )
        if not all(isinstance(n, str) and n.isidentifier() for n in names):
            raise GraderError(f"{module.__name__}: EXERCISES[{key!r}] must list identifiers")
    return lesson, {k: list(v) for k, v in exercises.items()}


def own_work_spec(module: Any) -> dict[str, list[str]]:
    """Validate and return a grader module's ``OWN_WORK`` (R13; see ownwork.py), or {}."""
    own = getattr(module, "OWN_WORK", None)
    if own is None:
        return {}
    exercises = getattr(module, "EXERCISES", {})
    if not isinstance(own, dict):
        raise GraderError(f"{module.__name__}: OWN_WORK must be a dict {{grade_id: [entries]}}")
    for key, entries in own.items():
        if key not in exercises:
            raise GraderError(f"{module.__name__}: OWN_WORK[{key!r}] is not an exercise")
        if not isinstance(entries, list | tuple):
            raise GraderError(f"{module.__name__}: OWN_WORK[{key!r}] must be a list")
        for entry in entries:
            parse_entry(entry)
    return {k: list(v) for k, v in own.items()}


def item_meta(item: pytest.Item) -> tuple[str | None, float, str | None, bool]:
    """(grade_id, points, hint, visible) from an item's markers."""
    ex = item.get_closest_marker("exercise")
    pts = item.get_closest_marker("points")
    hint = item.get_closest_marker("hint")
    grade_id = ex.args[0] if ex is not None and ex.args else None
    points = pts.args[0] if pts is not None and pts.args else None
    if grade_id is not None and not isinstance(grade_id, str):
        raise GraderError(f"{item.nodeid}: @pytest.mark.exercise needs a grade_id string")
    if grade_id is not None:
        if points is None:
            raise GraderError(f"{item.nodeid}: @pytest.mark.points(n) is missing")
        if isinstance(points, bool) or not isinstance(points, int | float) or not points >= 0:
            raise GraderError(f"{item.nodeid}: @pytest.mark.points needs a number >= 0")
    return (
        grade_id,
        float(points or 0),
        hint.args[0] if hint is not None and hint.args else None,
        item.get_closest_marker("visible") is not None,
    )


def item_feedback(item: pytest.Item) -> tuple[tuple[str, ...], float]:
    """(the failure kinds the test's hint is about, the mutation penalty share) of an item."""
    hint = item.get_closest_marker("hint")
    on: Any = hint.kwargs.get("on", ANSWER_KINDS) if hint is not None else ANSWER_KINDS
    kinds = (on,) if isinstance(on, str) else tuple(on)
    if not kinds or not all(k in KINDS for k in kinds):
        raise GraderError(f"{item.nodeid}: @pytest.mark.hint(on=...) takes kinds from {KINDS}")
    pen = item.get_closest_marker("mutation_penalty")
    share = pen.args[0] if pen is not None and pen.args else None
    if share is None:
        share = getattr(getattr(item, "module", None), "MUTATION_PENALTY", MUTATION_PENALTY)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise GraderError(f"{item.nodeid}: a mutation penalty is a share between 0 and 1")
    return kinds, float(share)


_PROGRAMS: dict[tuple[str, int, int], Program] = {}


def _solution_program(path: Path) -> Program:
    """The parsed solution notebook, cached while the file is unchanged (batch workers)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    prog = _PROGRAMS.get(key)
    if prog is None:
        nb = read_notebook(path)
        if nb.error:
            raise GraderError(f"the solution notebook {path}: {nb.error}")
        prog = _PROGRAMS[key] = Program(nb.cells)
    return prog


class GradingSession:
    """Everything about grading one notebook with one grader module."""

    def __init__(
        self,
        notebook: str | Path,
        *,
        lesson: str,
        isolation: str | None = None,
        limits: Limits | None = None,
        nb: Notebook | None = None,
        solution: str | Path | None = None,
        only: Collection[str] | None = None,
    ):
        self.notebook = str(notebook)
        self.only = frozenset(only) if only is not None else None  # grade_ids to grade
        self.lesson = lesson
        self.level = choose_isolation(isolation)
        self.limits = limits or Limits()
        if nb is None:
            nb = read_notebook(notebook)
        self.warnings: list[str] = list(nb.warnings)
        self.notebook_error = nb.error
        self.program = Program(nb.cells if nb.error is None else [])
        self.warnings += self.program.warnings
        self.solution = Path(solution) if solution else None
        self.runners: dict[str, ExerciseRunner] = {}
        self._reference: Reference | None = None
        self.exercises: dict[str, list[str]] = {}
        self.own_work: dict[str, list[str]] = {}  # grade_id -> nnlite objects hidden (R13)

    def runner(self, grade_id: str, exercises: dict[str, list[str]]) -> ExerciseRunner:
        if grade_id not in exercises:
            raise GraderError(f"exercise {grade_id!r} is not a key of EXERCISES")
        self.exercises = exercises
        r = self.runners.get(grade_id)
        if r is None:
            r = ExerciseRunner(
                grade_id,
                exercises[grade_id],
                self.program,
                self.level,
                self.limits,
                self.notebook_error,
                own_work=self.own_work.get(grade_id, []),
            )
            self.runners[grade_id] = r
        return r

    def start(self, grade_ids: list[str], exercises: dict[str, list[str]]) -> None:
        """Start the sandboxes of these exercises now, so that they load concurrently."""
        for gid in grade_ids:
            if gid in exercises:
                self.runner(gid, exercises).start()

    def reference(self, module: Any, grader_file: str | Path) -> Reference:
        if self._reference is None:
            lesson, exercises = grader_spec(module)
            sol = self.solution or find_solution(grader_file, lesson)
            if sol is None:
                raise GraderError(
                    f"no solution notebook solutions/{lesson}.ipynb near {grader_file}"
                )
            names = [n for names in exercises.values() for n in names]
            self._reference = Reference(_solution_program(Path(sol)), names, Path(sol).name)
        return self._reference

    def features(self) -> list[str]:
        for r in self.runners.values():
            if r.features:
                return list(r.features)
        return []

    def close(self) -> None:
        for r in self.runners.values():
            r.close()


SESSION_KEY = pytest.StashKey[GradingSession]()
LOG_KEY = pytest.StashKey[TestLog]()
CI_KEY = pytest.StashKey[dict]()


# ----------------------------------------------------------------------------- fixtures


def _session_for(request: pytest.FixtureRequest, sessions: dict) -> GradingSession:
    session = request.config.stash.get(SESSION_KEY, None)
    if session is not None:
        return session
    # Plain pytest: grade the lesson's solution notebook.
    module = request.module
    lesson, exercises = grader_spec(module)
    key = str(Path(module.__file__).resolve())
    session = sessions.get(key)
    if session is None:
        sol = find_solution(module.__file__, lesson)
        if sol is None:
            raise GraderError(
                f"no solution notebook solutions/{lesson}.ipynb for {module.__file__}"
            )
        session = GradingSession(sol, lesson=lesson, solution=sol)
        session.own_work = own_work_spec(module)
        sessions[key] = session
        wanted = []
        for item in request.session.items:
            if getattr(item, "module", None) is module:
                gid = item_meta(item)[0]
                if gid is not None and gid not in wanted:
                    wanted.append(gid)
        session.start(wanted, exercises)
    return session


@pytest.fixture(scope="session")
def nnlite_grading_sessions():
    """Grading sessions of plain pytest runs (one per grader module); closed at the end."""
    sessions: dict[str, GradingSession] = {}
    yield sessions
    for s in sessions.values():
        s.close()


@pytest.fixture
def student(request: pytest.FixtureRequest, nnlite_grading_sessions: dict):
    """Proxy to the graded notebook's definitions, running in the exercise's sandbox."""
    lesson, exercises = grader_spec(request.module)
    grade_id, _points, _hint, visible = item_meta(request.node)
    if grade_id is None:
        raise GraderError(
            f"{request.node.nodeid} uses `student` without @pytest.mark.exercise(...)"
        )
    session = _session_for(request, nnlite_grading_sessions)
    runner = session.runner(grade_id, exercises)
    if runner.blocked:
        raise StudentError(runner.blocked, kind="blocked")
    timeout = getattr(request.module, "TIMEOUT", None)
    log = request.node.stash[LOG_KEY] = TestLog()
    yield Student(runner, visible, float(timeout) if timeout else None, log)
    if log.mutations and request.config.stash.get(SESSION_KEY, None) is None:
        # Plain pytest on the solution: an in-place change of an input is a bug to see.
        raise InputMutated(log.mutations[0])


@pytest.fixture
def reference(request: pytest.FixtureRequest, nnlite_grading_sessions: dict) -> Reference:
    """The solution notebook's definitions, executed in the trusted grader process."""
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        session = _session_for(request, nnlite_grading_sessions)
    return session.reference(request.module, request.module.__file__)


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A numpy Generator seeded from the test's name: the same inputs on every run."""
    key = f"{Path(request.module.__file__).name}::{request.node.name}"
    return np.random.default_rng(zlib.crc32(key.encode()))


# ----------------------------------------------------------------------------- collector


@dataclasses.dataclass
class Outcome:
    exercise: str
    name: str
    points: float
    status: str = "error"
    message: str = ""
    detail: str | None = None
    hint: str | None = None
    hidden: bool = True
    description: str = ""
    duration: float = 0.0
    kind: str | None = None  # the cause of a failure (errors.KINDS)
    test_hint: str | None = None  # the test's @pytest.mark.hint
    hint_on: tuple[str, ...] = ANSWER_KINDS  # the kinds that hint is about
    credit: float = 0.0  # share of the points kept when not passed (a mutation only)
    mutation: str | None = None  # an in-place modification of an input seen in this test
    mutation_penalty: float = MUTATION_PENALTY


class CollectorPlugin:
    """Records per-test outcomes while the CLI runs a grader file in-process."""

    def __init__(self, session: GradingSession):
        self.session = session
        self.outcomes: dict[str, Outcome] = {}
        self.order: list[str] = []
        self.exercises: dict[str, list[str]] = {}
        self.lesson: str | None = None
        self.faults: list[str] = []
        self.collected = False
        self.interrupted = False

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SESSION_KEY] = self.session
        for line in MARKERS:
            config.addinivalue_line("markers", line)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.faults.append(f"cannot collect the grader: {str(report.longrepr)[-2000:]}")

    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list
    ) -> None:
        keep, drop = [], []
        for item in items:
            try:
                grade_id, points, hint, visible = item_meta(item)
                if grade_id is None:
                    drop.append(item)
                    continue
                lesson, exercises = grader_spec(item.module)
                if grade_id not in exercises:
                    raise GraderError(f"{item.nodeid}: exercise {grade_id!r} is not in EXERCISES")
                hint_on, penalty = item_feedback(item)
            except GraderError as exc:
                self.faults.append(str(exc))
                drop.append(item)
                continue
            self.lesson, self.exercises = lesson, exercises
            if self.session.only is not None and grade_id not in self.session.only:
                drop.append(item)
                continue
            try:
                self.session.own_work = own_work_spec(item.module)
            except GraderError as exc:
                self.faults.append(str(exc))
            doc = (getattr(item, "function", None).__doc__ or "").strip().split("\n")[0]
            self.outcomes[item.nodeid] = Outcome(
                grade_id,
                item.name,
                points,
                hidden=not visible,
                description=doc,
                test_hint=hint,
                hint_on=hint_on,
                mutation_penalty=penalty,
            )
            self.order.append(item.nodeid)
            keep.append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep
        self.collected = True

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        wanted = []
        for nodeid in self.order:
            gid = self.outcomes[nodeid].exercise
            if gid not in wanted:
                wanted.append(gid)
        try:
            self.session.start(wanted, self.exercises)
        except Exception as exc:  # noqa: BLE001
            self.faults.append(f"cannot start the sandboxes: {type(exc).__name__}: {exc}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        """Record the outcome; build a cheap report (pytest's own failure repr re-parses the
        source of every frame: seconds per notebook when most tests fail)."""
        out = self.outcomes.get(item.nodeid)
        if out is None:
            return None
        excinfo = call.excinfo
        if call.when == "call":
            out.duration = call.duration
        if excinfo is None:
            outcome, longrepr = "passed", None
            if call.when == "call":
                out.status, out.message = "passed", ""
                self._mutation(out, item)
        elif excinfo.errisinstance(pytest.skip.Exception):
            outcome = "skipped"
            path, lineno, _ = item.location
            longrepr = (str(path), (lineno or 0) + 1, f"Skipped: {excinfo.value}")
            if call.when != "teardown":
                out.status, out.message = "skipped", "skipped"
        else:
            outcome = "failed"
            longrepr = f"{excinfo.typename}: {str(excinfo.value)[:1000]}"
            if call.when != "teardown" or out.status == "passed":
                self._record(out, call, item)
                if call.when == "call":
                    self._mutation(out, item)
        return pytest.TestReport(
            item.nodeid,
            item.location,
            {},
            outcome,
            longrepr,
            call.when,
            [],
            call.duration,
            call.start,
            call.stop,
            user_properties=item.user_properties,
        )

    @staticmethod
    def _hints(out: Outcome, extra: str | None) -> str | None:
        """The hints that fit the failure's cause: the assertion's own hint, and the test's
        hint when the failure is of a kind the test's hint is about."""
        parts = [extra] if extra else []
        if out.test_hint and out.kind in out.hint_on and out.test_hint not in parts:
            parts.append(out.test_hint)
        return " ".join(parts) or None

    def _mutation(self, out: Outcome, item: pytest.Item) -> None:
        """An input modified in place: its own cause. A test that otherwise passed keeps
        ``1 - mutation_penalty`` of its points; a failed test just notes it."""
        log = item.stash.get(LOG_KEY, None)
        if log is None or not log.mutations:
            return
        out.mutation = log.mutations[0]
        if out.status == "passed":
            out.status, out.kind, out.message, out.detail = "failed", "mutation", out.mutation, None
            out.credit = 1.0 - out.mutation_penalty
            out.hint = self._hints(out, None)

    def _record(self, out: Outcome, call: pytest.CallInfo, item: pytest.Item) -> None:
        exc = call.excinfo.value if call.excinfo is not None else None
        log = item.stash.get(LOG_KEY, None)
        if isinstance(exc, GradingFailure):
            out.status = exc.status
            out.message = exc.message
            out.detail = exc.detail
            out.kind = exc.kind
            out.hint = self._hints(out, exc.hint)
        elif isinstance(exc, AssertionError):
            out.status = "failed"
            out.message = "wrong result"
            out.kind = "value"
            text = str(exc).strip().split("\n")[0]
            out.detail = text[:300] or None
            out.hint = self._hints(out, None)
        elif isinstance(exc, GraderError):
            out.status = "error"
            out.kind = "grader"
            out.message = "the grader could not run this test (a fault of the grader, not yours)"
            self.faults.append(f"{out.name}: {exc}")
        elif isinstance(exc, Exception) and log is not None and log.answers > 0:
            # The test's own code failed on an answer of the student's (numpy refusing to
            # compare predictions of the wrong length...): the answer's fault, not the
            # grader's. Graders are checked against the solution, where this never happens.
            out.status, out.kind, out.message = "failed", "type", UNCHECKABLE
            out.detail = f"{type(exc).__name__}: {str(exc)[:300]}"
            out.hint = self._hints(out, None)
        else:
            name = type(exc).__name__ if exc is not None else "unknown"
            out.status = "error"
            out.kind = "grader"
            out.message = (
                "the grader could not check this result (a fault of the grader, not yours)"
            )
            self.faults.append(f"{out.name}: unexpected {name}: {str(exc)[:500]}")

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        # pytest reports collection errors as Session.Interrupted: only a real interrupt counts.
        if not excinfo.errisinstance(pytest.Session.Interrupted):
            self.interrupted = True

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.session.close()


def now() -> float:
    return time.monotonic()
