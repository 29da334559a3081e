"""Grade one notebook: find its lesson and grader, run the grader in-process, build the report."""

from __future__ import annotations

import contextlib
import io
import os
import re
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from nnlite.grading.notebook import Notebook, lesson_from_filename, read_notebook
from nnlite.grading.report import build_report
from nnlite.grading.sandbox import Limits, SandboxError, choose_isolation

GRADER_RE = re.compile(r"^test_(\d\d_[A-Za-z0-9_]+)\.py$")


def default_graders_dir() -> Path:
    """$NNLITE_GRADERS, else ``tests/graders`` of nnlite's repository, else ./tests/graders."""
    env = os.environ.get("NNLITE_GRADERS")
    if env:
        return Path(env)
    import nnlite

    for p in getattr(nnlite, "__path__", []):
        cand = Path(p).resolve().parent / "tests" / "graders"
        if cand.is_dir():
            return cand
    return Path.cwd() / "tests" / "graders"


def known_lessons(graders_dir: str | Path) -> list[str]:
    """Lessons that have a grader file ``test_NN_topic.py`` in ``graders_dir``."""
    d = Path(graders_dir)
    if not d.is_dir():
        return []
    return sorted(m.group(1) for p in d.iterdir() if (m := GRADER_RE.match(p.name)))


def student_id(path: str | Path, lesson: str | None, root: str | Path | None = None) -> str:
    """A student's id from the file name: ``01_autograd-alice.ipynb`` → ``alice``; a file named
    like the lesson takes its folder's name (``alice/01_autograd.ipynb`` → ``alice``)."""
    p = Path(path)
    stem = p.name[:-6] if p.name.lower().endswith(".ipynb") else p.name
    rest = stem
    if lesson and stem.startswith(lesson):
        rest = stem[len(lesson) :]
    rest = re.sub(r"\s*\(\d+\)\s*$", "", rest).strip(" -_.")
    if rest:
        return rest
    if root is not None:
        try:
            rel = p.resolve().parent.relative_to(Path(root).resolve())
            if str(rel) not in ("", "."):
                return str(rel).replace(os.sep, "/")
        except ValueError:
            pass
    return stem


def _error_report(
    path: str, student: str, lesson: str | None, error: str, t0: float, level: str
) -> dict:
    return build_report(
        notebook=path,
        student=student,
        lesson=lesson,
        exercises={},
        outcomes=[],
        isolation=level,
        features=[],
        duration=time.monotonic() - t0,
        error=error,
    )


@contextlib.contextmanager
def _quiet_env():
    """Run the in-process pytest without the caller's pytest options or auto-loaded plugins."""
    saved = {
        k: os.environ.get(k)
        for k in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    }
    os.environ.pop("PYTEST_ADDOPTS", None)
    os.environ.pop("PYTEST_PLUGINS", None)
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def grade_notebook(
    path: str | Path,
    *,
    lesson: str | None = None,
    graders_dir: str | Path | None = None,
    isolation: str | None = None,
    limits: Limits | None = None,
    student: str | None = None,
    root: str | Path | None = None,
    only: Collection[str] | None = None,
) -> dict[str, Any]:
    """Grade one notebook; returns the report (see :mod:`nnlite.grading.report`).

    ``only`` (grade_ids) grades just those exercises; the report lists only them. Grader tests use
    it to keep mutation runs lean (a mutant of one exercise need not re-grade the others).

    Never raises for anything the notebook contains. Grader faults (a broken grader file, a
    sandbox that cannot start) are listed in ``report["grader_faults"]``.
    """
    import pytest

    from nnlite.grading.plugin import CollectorPlugin, GradingSession

    t0 = time.monotonic()
    path = str(path)
    graders = Path(graders_dir) if graders_dir else default_graders_dir()
    known = known_lessons(graders)
    try:
        level = choose_isolation(isolation)
    except SandboxError as exc:
        rep = _error_report(path, student or Path(path).stem, lesson, exc.detail, t0, "none")
        rep["grader_faults"].append(exc.detail)
        return rep
    nb: Notebook = read_notebook(path)
    warnings = list(nb.warnings)
    by_name = lesson_from_filename(path, known)
    by_meta = nb.lesson if nb.lesson in known else None
    conflict = None
    if lesson is not None:
        # Chosen by the caller (--lesson, or the batch's lesson): graded as that, whatever the
        # notebook says about itself; a disagreement is reported.
        for what, said in (("file name", by_name), ("metadata", by_meta)):
            if said and said != lesson:
                warnings.append(f"graded as lesson {lesson}, although its {what} says {said}")
    elif by_name and by_meta and by_name != by_meta:
        # Never resolved silently: a lesson-02 notebook renamed 01_... is neither lesson's.
        conflict = (
            f"the file name says lesson {by_name} but the notebook's metadata says {by_meta}: "
            "rename the file or grade it with --lesson"
        )
    else:
        lesson = by_meta or by_name
    sid = student or student_id(path, lesson, root)
    if conflict is not None:
        rep = _error_report(path, sid, None, conflict, t0, level)
        rep["warnings"] = warnings
        return rep
    if lesson is None:
        hint = f"known lessons: {', '.join(known)}" if known else f"no graders found in {graders}"
        msg = (
            "cannot tell which lesson this notebook belongs to: name it NN_topic.ipynb "
            f"(e.g. {known[0] if known else '01_autograd'}.ipynb) or pass --lesson; {hint}"
        )
        if nb.error:  # an unreadable notebook has no metadata: its real problem comes first
            msg = nb.error
        rep = _error_report(path, sid, None, msg, t0, level)
        rep["warnings"] = warnings
        return rep
    grader_file = graders / f"test_{lesson}.py"
    if not grader_file.is_file():
        rep = _error_report(
            path, sid, lesson, f"no grader for lesson {lesson} ({grader_file})", t0, level
        )
        rep["grader_faults"].append(f"missing grader file {grader_file}")
        return rep

    session = GradingSession(path, lesson=lesson, isolation=level, limits=limits, nb=nb, only=only)
    plugin = CollectorPlugin(session)
    args = [
        str(grader_file),
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:xdist",
        # Nor the repository's own addopts (they run the test suite in parallel with xdist).
        "-o",
        "addopts=",
        "-p",
        "no:cov",
        "-p",
        "no:faulthandler",
        # These two call gc.collect() several times per session: 30 ms each in a busy worker.
        "-p",
        "no:unraisableexception",
        "-p",
        "no:threadexception",
        "-p",
        "no:junitxml",
        "-p",
        "no:pastebin",
        "-p",
        "no:doctest",
    ]
    sink = io.StringIO()
    try:
        with _quiet_env(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = pytest.main(args, plugins=[plugin])
        if int(code) == int(pytest.ExitCode.INTERRUPTED) and plugin.interrupted:
            raise KeyboardInterrupt
    except BaseException as exc:  # noqa: BLE001 - the batch must go on
        if isinstance(exc, KeyboardInterrupt):
            session.close()
            raise
        code = -1
        plugin.faults.append(f"the grader crashed: {type(exc).__name__}: {exc}")
    finally:
        session.close()
    faults = list(plugin.faults)
    unknown = [gid for gid in only or () if plugin.exercises and gid not in plugin.exercises]
    if unknown:  # the caller's mistake (grade --exercise), not the grader's
        ids = ", ".join(plugin.exercises)
        msg = f"no exercise {unknown[0]!r} in lesson {lesson}; its exercises: {ids}"
        return _error_report(path, sid, lesson, msg, t0, level)
    if int(code) not in (0, 1) and not faults:
        faults.append(f"pytest exited with status {int(code)}: {sink.getvalue()[-1500:]}")
    if not plugin.collected and not faults:
        faults.append("the grader file could not be collected")
    exercises = plugin.exercises
    if not exercises:
        try:
            from nnlite.grading.plugin import grader_spec

            mod = _load_spec_module(grader_file)
            exercises = grader_spec(mod)[1]
        except Exception:  # noqa: BLE001
            exercises = {}
    if only is not None:
        exercises = {gid: names for gid, names in exercises.items() if gid in only}
    outcomes = [plugin.outcomes[n] for n in plugin.order]
    warnings += [w for w in session.warnings if w not in warnings]
    return build_report(
        notebook=path,
        student=sid,
        lesson=lesson,
        exercises=exercises,
        outcomes=outcomes,
        isolation=level,
        features=session.features(),
        duration=time.monotonic() - t0,
        error=nb.error,
        warnings=warnings,
        faults=faults,
    )


def _load_spec_module(grader_file: Path) -> Any:
    """Read EXERCISES/LESSON of a grader file by AST, without importing it."""
    import ast
    import types

    tree = ast.parse(grader_file.read_text(encoding="utf-8"))
    mod = types.ModuleType(grader_file.stem)
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            if node.targets[0].id in ("LESSON", "EXERCISES"):
                setattr(mod, node.targets[0].id, ast.literal_eval(node.value))
    return mod
