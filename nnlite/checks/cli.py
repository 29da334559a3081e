"""``python -m nnlite check NOTEBOOK [--exercise ID]``: a student's visible checks, from a terminal.

Runs the same ``check(...)`` cells the lesson runs after each exercise, on the notebook as saved:
the notebook's definitions are run (imports, functions, classes and call-free assignments, as
the grader runs them), then every ``check("id", ...)`` line of the notebook. It needs no hidden
graders and no solutions, so it works in a student's handout. This runs the student's own code
in this process, as Jupyter does; it is feedback, not grading.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import sys
from pathlib import Path
from typing import Any


def check_calls(source: str) -> list[tuple[str, list[str]]]:
    """The ``check("id", arg, ...)`` calls of one cell: (grade_id, argument sources)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "check"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and not node.keywords
        ):
            args = [ast.get_source_segment(source, a) or "" for a in node.args[1:]]
            calls.append((node.args[0].value, args))
    return calls


def _namespace(nb: Any) -> tuple[dict[str, Any], list[str]]:
    """Run the notebook's definitions as the grader keeps them; returns the namespace and the
    problems met (a definition that raised is reported, and the rest still run)."""
    from nnlite.grading.notebook import Program

    ns: dict[str, Any] = {"__name__": "__main__"}
    problems = []
    for unit in Program(nb.cells).all_units():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(unit.source, f"<cell {unit.cell}>", "exec"), ns)  # noqa: S102
        except Exception as exc:  # the student's definition failed: say where, go on
            problems.append(f"cell {unit.cell}: {type(exc).__name__}: {exc}")
    return ns, problems


def run_checks(path: Path, exercise: str | None = None, echo=print) -> int:
    """Run the visible checks of the notebook at ``path``; returns 0 when all pass."""
    from nnlite.checks import lesson as lesson_checks
    from nnlite.grading.notebook import lesson_from_filename, read_notebook

    nb = read_notebook(path)
    if nb.error:
        echo(f"check: {path}: {nb.error}")
        return 2
    known = _known_lessons()
    name = nb.lesson or lesson_from_filename(path.name, known)
    if name is None:
        echo(f"check: cannot tell which lesson {path.name} is: its name should start like "
             f"one of {', '.join(known)}")  # fmt: skip
        return 2
    calls = [c for cell in nb.cells for c in check_calls(cell.source)]
    if exercise is not None:
        calls = [c for c in calls if c[0] == exercise]
        if not calls:
            ids = sorted({c[0] for cell in nb.cells for c in check_calls(cell.source)})
            echo(f"check: no check cell for exercise {exercise!r}; exercises: {', '.join(ids)}")
            return 2
    ns, problems = _namespace(nb)
    for p in problems:
        echo(f"note: a definition raised, later checks may fail: {p}")
    check = lesson_checks(name)
    passed = 0
    done: set[str] = set()
    for gid, args in calls:
        if gid in done:
            continue
        done.add(gid)
        echo(f"── {gid}")
        try:
            values = [eval(a, ns) for a in args]  # noqa: S307 (the student's own names)
        except NameError as exc:
            echo(f"✗ {exc.name or exc} is not defined: run the exercise cell, or define it")
            continue
        except Exception as exc:
            echo(f"✗ the check's arguments raised {type(exc).__name__}: {exc}")
            continue
        with contextlib.redirect_stdout(out := io.StringIO()):
            ok = check(gid, *values)
        for line in out.getvalue().rstrip("\n").split("\n"):
            echo(line)
        passed += bool(ok)
    echo(f"{passed} of {len(done)} exercise(s) pass their checks in {path.name}")
    return 0 if passed == len(done) else 1


def _known_lessons() -> list[str]:
    import pkgutil

    import nnlite.checks

    names = [m.name for m in pkgutil.iter_modules(nnlite.checks.__path__)]
    return sorted(n[1:] for n in names if n[:1] == "l" and n[1:3].isdigit())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nnlite check",
        description="Run a lesson notebook's visible checks (the check(...) cells) on the saved "
        "notebook, without Jupyter. Your definitions run; your experiments do not.",
    )
    parser.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    parser.add_argument("--exercise", metavar="ID", help="only this exercise, e.g. rel_error")
    args = parser.parse_args(argv)
    return run_checks(args.notebook, args.exercise)


if __name__ == "__main__":
    sys.exit(main())
