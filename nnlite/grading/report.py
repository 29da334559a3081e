"""Grading reports: the JSON report (GRADING.md schema + extras), Gradescope ``results.json``,
the CSV gradebook and the terminal report; atomic writes; a small schema validator."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

REPORT_VERSION = "nnlite-grading/1"
STATUSES = ("passed", "failed", "error", "timeout", "missing")

# JSON Schema (draft 2020-12 subset) of one report. ``validate_report`` checks exactly this.
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["notebook", "lesson", "score", "max_score", "isolation", "exercises"],
    "properties": {
        "notebook": {"type": "string"},
        "student": {"type": "string"},
        "lesson": {"type": ["string", "null"]},
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "minimum": 0},
        "isolation": {"type": "string", "enum": ["namespaces", "landlock", "process", "none"]},
        "isolation_features": {"type": "array", "items": {"type": "string"}},
        "version": {"type": "string"},
        "duration": {"type": "number", "minimum": 0},
        "error": {"type": ["string", "null"]},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "grader_faults": {"type": "array", "items": {"type": "string"}},
        "exercises": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "score", "max_score", "status", "tests"],
                "properties": {
                    "name": {"type": "string"},
                    "score": {"type": "number", "minimum": 0},
                    "max_score": {"type": "number", "minimum": 0},
                    "status": {"type": "string", "enum": list(STATUSES)},
                    "message": {"type": "string"},
                    "causes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["kind", "message", "tests", "points_lost"],
                            "properties": {
                                "kind": {"type": "string"},
                                "message": {"type": "string"},
                                "hint": {"type": ["string", "null"]},
                                "tests": {"type": "array", "items": {"type": "string"}},
                                "points_lost": {"type": "number", "minimum": 0},
                            },
                        },
                    },
                    "tests": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": [
                                "name",
                                "score",
                                "max_score",
                                "status",
                                "message",
                                "hidden",
                            ],
                            "properties": {
                                "name": {"type": "string"},
                                "score": {"type": "number", "minimum": 0},
                                "max_score": {"type": "number", "minimum": 0},
                                "status": {"type": "string", "enum": list(STATUSES)},
                                "message": {"type": "string"},
                                "hint": {"type": ["string", "null"]},
                                "kind": {"type": ["string", "null"]},
                                "hidden": {"type": "boolean"},
                                "description": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}


def _check(value: Any, schema: dict, path: str, errors: list[str]) -> None:
    types = schema.get("type")
    if types is not None:
        names = types if isinstance(types, list) else [types]
        ok = False
        for t in names:
            if t == "object" and isinstance(value, dict):
                ok = True
            elif t == "array" and isinstance(value, list):
                ok = True
            elif t == "string" and isinstance(value, str):
                ok = True
            elif t == "boolean" and isinstance(value, bool):
                ok = True
            elif t == "null" and value is None:
                ok = True
            elif t == "number" and isinstance(value, int | float) and not isinstance(value, bool):
                ok = math.isfinite(value)
        if not ok:
            errors.append(f"{path}: expected {types}, got {type(value).__name__}")
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in {schema['enum']}")
    if "minimum" in schema and isinstance(value, int | float) and value < schema["minimum"]:
        errors.append(f"{path}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}: missing {key!r}")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _check(value[key], sub, f"{path}.{key}", errors)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            _check(v, schema["items"], f"{path}[{i}]", errors)


def validate_report(report: Any) -> list[str]:
    """Errors of ``report`` against :data:`REPORT_SCHEMA` plus the score invariants; [] if valid."""
    errors: list[str] = []
    _check(report, REPORT_SCHEMA, "$", errors)
    if errors:
        return errors
    names = [e["name"] for e in report["exercises"]]
    if len(set(names)) != len(names):
        errors.append("$.exercises: an exercise appears twice")
    total = 0.0
    for e in report["exercises"]:
        if e["score"] > e["max_score"] + 1e-9:
            errors.append(f"exercise {e['name']}: score above max_score")
        s = sum(t["score"] for t in e["tests"])
        m = sum(t["max_score"] for t in e["tests"])
        if abs(s - e["score"]) > 1e-6 or abs(m - e["max_score"]) > 1e-6:
            errors.append(f"exercise {e['name']}: score/max_score differ from its tests")
        for t in e["tests"]:
            if t["score"] > t["max_score"] + 1e-9:
                errors.append(f"test {t['name']}: score above max_score")
        total += e["score"]
    if abs(total - report["score"]) > 1e-6:
        errors.append("$.score differs from the sum of the exercises")
    if report["score"] > report["max_score"] + 1e-9:
        errors.append("$.score above $.max_score")
    try:
        json.dumps(report, allow_nan=False)
    except ValueError as exc:
        errors.append(f"not valid JSON: {exc}")
    return errors


# ----------------------------------------------------------------------------- building


def _num(x: float) -> float | int:
    x = round(float(x), 6)
    if not math.isfinite(x):
        x = 0.0
    return int(x) if x.is_integer() else x


def exercise_status(statuses: list[str]) -> str:
    """One status for an exercise from its tests' statuses."""
    if not statuses or all(s == "passed" for s in statuses):
        return "passed"
    bad = [s for s in statuses if s != "passed"]
    if all(s == "missing" for s in bad) and "passed" not in statuses:
        return "missing"
    for s in ("timeout", "error", "failed", "missing"):
        if s in bad:
            return s
    return "failed"


def _causes(outs: list[Any], tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per distinct cause of lost points in an exercise: its message, the hints that
    fit it (each once), the tests it affected and the points it cost, in order of appearance.
    An in-place modification of an input is one cause however many tests saw it."""
    causes: dict[tuple[str, str], dict[str, Any]] = {}

    def add(kind: str, message: str, hint: str | None, test: str, lost: float) -> None:
        # All in-place modifications of an exercise are one cause, worded as first seen.
        c = causes.setdefault(
            (kind, "" if kind == "mutation" else message),
            {"kind": kind, "message": message, "hint": None, "tests": [], "points_lost": 0.0},
        )
        if hint and hint not in (c["hint"] or ""):
            c["hint"] = f"{c['hint']} {hint}" if c["hint"] else hint
        if test not in c["tests"]:
            c["tests"].append(test)
        c["points_lost"] += lost

    for o, t in zip(outs, tests, strict=True):
        if t["status"] == "passed":
            continue
        lost = t["max_score"] - t["score"]
        add(t["kind"] or "value", t["message"], t["hint"], t["name"], lost)
        if o.mutation and t["kind"] != "mutation":
            add("mutation", o.mutation, None, t["name"], 0.0)
    for c in causes.values():
        c["points_lost"] = _num(c["points_lost"])
    return list(causes.values())


def build_report(
    *,
    notebook: str,
    student: str,
    lesson: str | None,
    exercises: dict[str, list[str]],
    outcomes: list[Any],
    isolation: str,
    features: list[str],
    duration: float,
    error: str | None = None,
    warnings: list[str] | None = None,
    faults: list[str] | None = None,
) -> dict[str, Any]:
    """Assemble a report; every exercise of ``exercises`` appears exactly once, clamped."""
    by_ex: dict[str, list[Any]] = {k: [] for k in exercises}
    for out in outcomes:
        if out.status == "skipped":
            continue
        by_ex.setdefault(out.exercise, []).append(out)
    ex_list = []
    total = max_total = 0.0
    for name, outs in by_ex.items():
        tests = []
        for o in outs:
            pts = max(0.0, float(o.points)) if math.isfinite(o.points) else 0.0
            status = o.status if o.status in STATUSES else "error"
            credit = getattr(o, "credit", 0.0)
            credit = min(max(float(credit), 0.0), 1.0) if math.isfinite(credit) else 0.0
            score = pts if status == "passed" else pts * credit
            msg = o.message or ""
            if not o.hidden and o.detail:
                msg = f"{msg}: {o.detail}" if msg else o.detail
            msg = " ".join(msg.split())  # one line, whatever a visible detail contained
            tests.append(
                {
                    "name": o.name,
                    "score": _num(score),
                    "max_score": _num(pts),
                    "status": status,
                    "message": msg,
                    "hint": (o.hint if status not in ("passed", "missing") else None),
                    "kind": None if status == "passed" else getattr(o, "kind", None),
                    "hidden": bool(o.hidden),
                    "description": o.description or "",
                }
            )
        e_score = sum(t["score"] for t in tests)
        e_max = sum(t["max_score"] for t in tests)
        status = exercise_status([t["status"] for t in tests])
        causes = _causes(outs, tests)
        e_msg = causes[0]["message"] if status != "passed" and len(causes) == 1 else ""
        if error and not tests:
            status, e_msg = "error", error
        ex_list.append(
            {
                "name": name,
                "score": _num(min(e_score, e_max)),
                "max_score": _num(e_max),
                "status": status,
                "message": e_msg,
                "causes": causes,
                "tests": tests,
            }
        )
        total += min(e_score, e_max)
        max_total += e_max
    return {
        "notebook": notebook,
        "student": student,
        "lesson": lesson,
        "score": _num(min(total, max_total)),
        "max_score": _num(max_total),
        "isolation": isolation,
        "isolation_features": list(features),
        "version": REPORT_VERSION,
        "duration": round(max(0.0, duration), 3),
        "error": error,
        "warnings": list(warnings or []),
        "grader_faults": list(faults or []),
        "exercises": ex_list,
    }


# ----------------------------------------------------------------------------- outputs


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600 files; use the usual mode
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def to_json(report: Any) -> str:
    return json.dumps(report, indent=2, allow_nan=False, ensure_ascii=False) + "\n"


#: The keys Gradescope's autograder specification defines for results.json and for each test.
GRADESCOPE_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format",
                   "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests",
                   "leaderboard"}  # fmt: skip
GRADESCOPE_TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output",
                        "output_format", "tags", "visibility", "extra_data"}  # fmt: skip
GRADESCOPE_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def gradescope(
    report: dict[str, Any], hidden_visibility: str = "after_published"
) -> dict[str, Any]:
    """Gradescope autograder ``results.json`` for one report.

    Visible tests (the notebook's own checks) are ``visible``; hidden tests get
    ``hidden_visibility`` (default ``after_published``: students see them once grades are
    published). The total is the sum of the tests' scores, as Gradescope computes it.
    """
    if hidden_visibility not in GRADESCOPE_VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {GRADESCOPE_VISIBILITIES}")
    tests = []
    for i, ex in enumerate(report["exercises"], start=1):
        for j, t in enumerate(ex["tests"], start=1):
            out = t["message"]
            if t.get("hint") and t["status"] != "passed":
                out = f"{out}\nHint: {t['hint']}" if out else f"Hint: {t['hint']}"
            tests.append(
                {
                    "name": f"{ex['name']}: {describe(ex, t['name'])}",
                    "number": f"{i}.{j}",
                    "score": t["score"],
                    "max_score": t["max_score"],
                    "status": "passed" if t["status"] == "passed" else "failed",
                    "output": out,
                    "visibility": hidden_visibility if t.get("hidden") else "visible",
                    "tags": [ex["name"], t["status"]],
                }
            )
    lines = [f"Lesson {report['lesson'] or '?'}: {report['score']}/{report['max_score']}"]
    if report.get("error"):
        lines.append(f"Error: {report['error']}")
    for ex in report["exercises"]:
        lines.append(f"  {ex['name']}: {ex['score']}/{ex['max_score']} ({ex['status']})")
    return {
        "score": report["score"],
        "execution_time": report.get("duration", 0),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def gradescope_problems(results: Any) -> list[str]:
    """What makes ``results`` an invalid Gradescope results.json ([] when valid): unknown keys,
    wrong types, or a score given neither at the top nor on every test."""
    if not isinstance(results, dict):
        return ["results.json must be an object"]
    problems = [f"unknown top-level key {k!r}" for k in results if k not in GRADESCOPE_KEYS]
    number = (int, float)
    if "score" in results and not isinstance(results["score"], number):
        problems.append("score must be a number")
    for key in ("visibility", "stdout_visibility"):
        if key in results and results[key] not in GRADESCOPE_VISIBILITIES:
            problems.append(f"{key} must be one of {GRADESCOPE_VISIBILITIES}")
    tests = results.get("tests", [])
    if not isinstance(tests, list):
        return problems + ["tests must be a list"]
    for n, t in enumerate(tests):
        if not isinstance(t, dict):
            problems.append(f"tests[{n}] must be an object")
            continue
        problems += [f"tests[{n}]: unknown key {k!r}" for k in t if k not in GRADESCOPE_TEST_KEYS]
        for key in ("score", "max_score"):
            if key in t and not isinstance(t[key], number):
                problems.append(f"tests[{n}].{key} must be a number")
        if t.get("status", "passed") not in ("passed", "failed"):
            problems.append(f"tests[{n}].status must be passed or failed")
        if t.get("visibility", "visible") not in GRADESCOPE_VISIBILITIES:
            problems.append(f"tests[{n}].visibility is not a Gradescope visibility")
    if "score" not in results and not all("score" in t for t in tests if isinstance(t, dict)):
        problems.append("a score is needed at the top level or on every test")
    return problems


def gradebook_csv(reports: list[dict[str, Any]]) -> str:
    """One row per notebook: student, notebook, lesson, one column per exercise, total..."""
    columns: list[str] = []
    for r in reports:
        for ex in r["exercises"]:
            if ex["name"] not in columns:
                columns.append(ex["name"])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student", "notebook", "lesson", *columns, "score", "max_score", "error"])
    for r in reports:
        scores = {ex["name"]: ex["score"] for ex in r["exercises"]}
        row = [_csv_safe(r.get("student", "")), _csv_safe(r["notebook"]), r["lesson"] or ""]
        row += [scores.get(c, "") for c in columns]
        row += [r["score"], r["max_score"], _csv_safe(r.get("error") or "")]
        w.writerow(row)
    return buf.getvalue()


def _csv_safe(text: str) -> str:
    """Neutralise spreadsheet formulas in text cells (file names are student-controlled)."""
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


_SYMBOL = {"passed": "✓", "failed": "✗", "error": "!", "timeout": "⏱", "missing": "?"}
_MEANING = {
    "✓": "passed",
    "✗": "wrong result",
    "!": "raised an error or could not run",
    "⏱": "too slow (time limit)",
    "?": "missing (not implemented)",
}
_CAUSE_SYMBOL = {"error": "!", "blocked": "!", "grader": "!", "timeout": "⏱", "missing": "?"}


def render_text(report: dict[str, Any], *, color: bool = False, verbose: bool = False) -> str:
    """The terminal report: per exercise and test, points, messages and hints."""

    report = _printable(report)
    used: set[str] = set()

    def c(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    lines = []
    head = f"{report['notebook']}"
    if report.get("lesson"):
        head += f"  (lesson {report['lesson']})"
    lines.append(c(head, "1"))
    if report.get("error"):
        lines.append(c(f"  error: {report['error']}", "31"))
    for w in report.get("warnings", []):
        lines.append(c(f"  warning: {w}", "33"))
    for ex in report["exercises"]:
        colour = "32" if ex["status"] == "passed" else ("33" if ex["score"] > 0 else "31")
        lines.append(
            c(
                f"  {ex['name']:<28} {_fmt(ex['score'])}/{_fmt(ex['max_score'])}  {ex['status']}",
                colour,
            )
        )
        if ex["status"] == "passed" and not verbose:
            continue
        causes = ex.get("causes")
        if causes is not None and not verbose:
            if not ex["tests"] and ex.get("message"):
                lines.append(f"      {ex['message']}")
            said: set[str] = set()  # a hint shared by several causes is printed once
            for cause in causes:
                if cause["message"] == report.get("error"):
                    continue  # the notebook-level error, already said once above
                sym = _CAUSE_SYMBOL.get(cause["kind"], "✗")
                used.add(sym)
                lines.append(f"    {sym} {cause['message']}")
                n = len(cause["tests"])
                where = describe(ex, cause["tests"][0]) if n == 1 else f"{n} tests"
                lost = cause["points_lost"]
                lines.append(c(f"        ({where}; -{_fmt(lost)} points)", "2"))
                if cause.get("hint") and cause["hint"] not in said:
                    said.add(cause["hint"])
                    lines.append(c(f"        hint: {cause['hint']}", "36"))
            continue
        if ex.get("message") and ex["status"] != "passed":
            lines.append(f"      {ex['message']}")
        for t in ex["tests"]:
            if t["status"] == "passed" and not verbose:
                continue
            sym = _SYMBOL.get(t["status"], "?")
            used.add(sym)
            lines.append(
                f"    {sym} {t['name']:<40} {_fmt(t['score'])}/{_fmt(t['max_score'])}  "
                f"{t['message']}"
            )
            if t.get("hint") and t["status"] != "passed":
                lines.append(c(f"        hint: {t['hint']}", "36"))
    total = f"  total: {_fmt(report['score'])}/{_fmt(report['max_score'])}"
    lines.append(c(total, "1"))
    if report.get("grader_faults"):
        lines.append(c("  grader faults (please report):", "35"))
        for f in report["grader_faults"]:
            lines.append(f"    {f[:500]}")
    lines.append(c(f"  isolation: {report['isolation']}", "2"))
    if used:
        legend = " · ".join(f"{sym} {_MEANING[sym]}" for sym in _MEANING if sym in used)
        lines.append(c(f"  symbols: {legend}", "2"))
    return "\n".join(lines) + "\n"


def describe(exercise: dict[str, Any], test_name: str) -> str:
    """A test as a reader should see it: its description, else its name made readable
    (``test_sum_backward[shape0-None-False]`` -> "sum backward")."""
    for t in exercise["tests"]:
        if t["name"] == test_name and t.get("description"):
            return t["description"].rstrip(".")
    words = test_name.split("[", 1)[0].removeprefix("test_").replace("_", " ")
    return words or test_name


def _printable(value: Any) -> Any:
    """``value`` with terminal control characters replaced by "?" in every string (a file name
    or a visible detail could carry escape sequences)."""
    if isinstance(value, str):
        return "".join(
            "?" if (o := ord(ch)) < 32 or o == 127 or 128 <= o < 160 else ch for ch in value
        )
    if isinstance(value, list):
        return [_printable(v) for v in value]
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    return value


def _fmt(x: float) -> str:
    return f"{x:g}"
