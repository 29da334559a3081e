"""Class insights: what a whole class got wrong, per exercise and per misconception.

``python -m nnlite report reports/ --out class.html [--json class.json] [--names]`` (or
``python -m nnlite grade submissions/ ... --summary class.html``) reads the grading results of a
class and writes one self-contained HTML page (no script, nothing loaded from anywhere: the
figures are inline SVG) and a JSON file with the same counts:

* per lesson and exercise: the score distribution (a histogram), the share of graded students
  with full marks, how many did not attempt it;
* the misconceptions, ranked by how many students hit them: the causes of lost points grouped by
  exercise, kind and a *pattern* of their message (numbers and shapes, which vary between
  students, replaced by ``#`` and ``(…)``), each with one example message and its hint;
* the submissions that could not be graded, grouped by reason; the isolation level(s) used.

Three inputs are understood (:func:`load_class`):

* the reports of ``python -m nnlite grade --out DIR`` (``STUDENT.json``): everything above;
* a folder of Gradescope ``results.json`` files (one per student, ``alice/results.json``): test
  names, scores and outputs, but no causes, kinds, lesson or isolation level, so misconceptions
  are grouped by the test's output (its ``Hint:`` line becomes the hint);
* an nbgrader course folder after ``nbgrader autograde`` (``gradebook.db`` and/or
  ``autograded/STUDENT/ASSIGNMENT/*.ipynb``): per test cell a score (from the gradebook when
  nbgrader is importable, else from the cell's outputs as nbgrader computes it) and the printed
  output, which for the course's own export lists the causes and hints.

What a format does not carry is listed on the page (``missing``). Student names appear only
with ``names=True``: the page is often shown to the class. Everything that comes from a
submission (names, messages quoting its exceptions) is HTML-escaped and the page carries a
Content-Security-Policy that forbids scripts, so a folder named ``<img src=x onerror=...>``
shows as text and runs nothing.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import stat
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

INSIGHTS_VERSION = "nnlite-insights/1"
#: Kinds that say an exercise was not attempted (or not gradeable), not what was misunderstood.
NOT_ATTEMPTED = ("missing",)
#: Kinds that are not the student's (a fault of the grader).
NOT_STUDENTS = ("grader",)
MAX_FILE_BYTES = 20 << 20  # a report larger than this is not read
TOP = 12  # misconceptions shown in full per lesson; the rest under "more"

_SHAPE = re.compile(r"\((?:\s*-?\d+\s*,)*\s*-?\d*\s*\)")
_NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_QUOTED = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"")


def pattern(message: str) -> str:
    """The part of a message that is the same for every student who made the same mistake:
    shapes become ``(…)``, numbers ``#``, quoted text ``'…'``; whitespace collapsed.

    >>> pattern("wrong shape (3, 5), expected (4, 6)")
    'wrong shape (…), expected (…)'
    >>> pattern("max relative error 3.2e-05 at index 7")
    'max relative error # at index #'
    """
    text = " ".join(str(message).split())
    text = _QUOTED.sub("'…'", text)
    text = _SHAPE.sub("(…)", text)
    text = _NUMBER.sub("#", text)
    return text[:300]


# ----------------------------------------------------------------------------- reading


def _files(root: Path) -> list[Path]:
    """Regular files below ``root`` (no links followed, hidden files and folders skipped)."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and not Path(dirpath, d).is_symlink()
        )
        for name in sorted(filenames):
            p = Path(dirpath) / name
            try:
                mode = p.lstat().st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode) and not name.startswith("."):
                out.append(p)
    return out


def _read_json(path: Path) -> Any:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ValueError(f"larger than {MAX_FILE_BYTES >> 20} MiB")
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


def _text(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else None (a hand-edited file may hold anything)."""
    return value if isinstance(value, str) and value else None


def _student(name: str, lesson: str | None, source: str) -> dict[str, Any]:
    return {
        "name": name,
        "lesson": lesson,
        "source": source,
        "score": 0.0,
        "max_score": 0.0,
        "error": None,
        "isolation": None,
        "exercises": {},
    }


def _exercise(score: Any, max_score: Any, status: str, causes: list[dict]) -> dict[str, Any]:
    return {"score": _num(score), "max_score": _num(max_score), "status": status, "causes": causes}


def from_nnlite(report: dict[str, Any], name: str) -> dict[str, Any]:
    """A student record from one ``nnlite grade`` report."""
    s = _student(str(report.get("student") or name), _text(report.get("lesson")), "nnlite")
    s["score"], s["max_score"] = _num(report.get("score")), _num(report.get("max_score"))
    s["error"] = report.get("error") or None
    s["isolation"] = _text(report.get("isolation"))
    for ex in report.get("exercises") or []:
        if not isinstance(ex, dict) or not isinstance(ex.get("name"), str):
            continue
        causes = []
        for c in ex.get("causes") or []:
            if isinstance(c, dict):
                causes.append(
                    {
                        "kind": str(c.get("kind") or "value"),
                        "message": str(c.get("message") or ""),
                        "hint": c.get("hint") if isinstance(c.get("hint"), str) else None,
                        "points_lost": _num(c.get("points_lost")),
                    }
                )
        s["exercises"][ex["name"]] = _exercise(
            ex.get("score"), ex.get("max_score"), str(ex.get("status") or "failed"), causes
        )
    return s


_LESSON_LINE = re.compile(r"^Lesson (\S+?):")


def from_gradescope(results: dict[str, Any], name: str) -> dict[str, Any]:
    """A student record from one Gradescope ``results.json``: the exercise of a test is its tag
    or the part of its name before ``": "``; a failed test's output is its cause (kind
    ``failed``) and its ``Hint:`` line the hint."""
    output = str(results.get("output") or "")
    m = _LESSON_LINE.match(output)
    s = _student(name, m.group(1) if m and m.group(1) != "?" else None, "gradescope")
    tests = [t for t in results.get("tests") or [] if isinstance(t, dict)]
    error = next((ln[7:] for ln in output.splitlines() if ln.startswith("Error: ")), None)
    if error:  # the course's results say so when a notebook could not be graded
        s["error"] = error
    if not tests:
        s["error"] = output.strip().splitlines()[0] if output.strip() else "no tests in results"
        s["score"] = _num(results.get("score"))
        return s
    for t in tests:
        tname = str(t.get("name") or "")
        tags = t.get("tags") if isinstance(t.get("tags"), list) else []
        ex_name = str(tags[0]) if tags else (tname.split(": ", 1)[0] if ": " in tname else tname)
        ex = s["exercises"].setdefault(ex_name, _exercise(0, 0, "passed", []))
        score, top = _num(t.get("score")), _num(t.get("max_score"))
        ex["score"] += score
        ex["max_score"] += top
        failed = t.get("status") == "failed" or score < top - 1e-9
        if failed:
            ex["status"] = "failed"
            text, hint = _split_hint(str(t.get("output") or ""))
            kind = "missing" if "not implemented yet" in text or "is not defined" in text else ""
            ex["causes"].append(
                {
                    "kind": kind or "failed",
                    "message": text or "(no output)",
                    "hint": hint,
                    "points_lost": max(top - score, 0.0),
                }
            )
    for ex in s["exercises"].values():
        if ex["causes"] and all(c["kind"] == "missing" for c in ex["causes"]) and ex["score"] == 0:
            ex["status"] = "missing"
    s["score"] = _num(results.get("score", sum(e["score"] for e in s["exercises"].values())))
    s["max_score"] = sum(e["max_score"] for e in s["exercises"].values())
    return s


def _split_hint(output: str) -> tuple[str, str | None]:
    lines, hints = [], []
    for line in output.splitlines():
        if line.strip().lower().startswith("hint:"):
            hints.append(line.strip()[5:].strip())
        elif line.strip():
            lines.append(line.strip())
    return " ".join(lines), (" ".join(hints) or None)


# What nnlite.grading.nbgrader_cells.hidden_score prints: a header, then per cause
# "  ✗ message (-points)" and maybe "    hint: ...". The lesson's visible checks print after it
# in their own format ("✗ check", unindented): those lines are not causes.
_NB_HEADER = re.compile(r"^Hidden tests of '")
_NB_CAUSE = re.compile(r"^  ✗ (.*) \(-([\d.eE+-]+)\)\s*$")
_NB_HINT = re.compile(r"^    hint: (.*)$")


def _cell_text(cell: dict[str, Any]) -> tuple[str, str]:
    """(printed text, error "Name: value") of a code cell's outputs."""
    text, error = [], ""
    for out in cell.get("outputs") or []:
        if not isinstance(out, dict):
            continue
        if out.get("output_type") == "stream":
            t = out.get("text")
            text.append("".join(t) if isinstance(t, list) else str(t or ""))
        elif out.get("output_type") == "error":
            error = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip(": ")
    return "".join(text), error


def _nb_cell_grade(cell: dict[str, Any]) -> tuple[float, float]:
    """nbgrader's score of an autograded test cell (its own rule when nbgrader is installed)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    top = _num(meta.get("points"))
    try:
        import nbformat
        from nbgrader.utils import determine_grade

        score, top = determine_grade(nbformat.from_dict(cell))
        return _num(score), _num(top)
    except (ImportError, ValueError, TypeError, KeyError, AttributeError):
        top = _num(meta.get("points"))  # no nbgrader, or a cell it cannot read: its rule here
    for out in cell.get("outputs") or []:
        if out.get("output_type") == "error":
            return 0.0, top
    for out in cell.get("outputs") or []:
        if out.get("output_type") == "execute_result":
            value = (out.get("data") or {}).get("text/plain")
            try:
                return min(
                    max(float("".join(value) if isinstance(value, list) else value), 0.0), top
                ), top
            except (TypeError, ValueError):
                pass
    return top, top


def from_nbgrader_notebook(nb: dict[str, Any], name: str, lesson: str) -> dict[str, Any]:
    """A student record from one autograded notebook: one exercise per graded test cell
    (``test_<grade_id>``); causes from the lines the course's test cells print for the hidden
    tests (``  ✗ message (-points)`` and ``    hint: ...``), else the cell's error."""
    s = _student(name, lesson, "nbgrader")
    for cell in nb.get("cells") or []:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if cell.get("cell_type") != "code" or not meta.get("grade") or not meta.get("grade_id"):
            continue
        ex_name = str(meta["grade_id"]).removeprefix("test_")
        score, top = _nb_cell_grade(cell)
        text, error = _cell_text(cell)
        causes: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        in_block = False
        for line in text.splitlines():
            if _NB_HEADER.match(line):
                in_block = True
            elif in_block and (m := _NB_CAUSE.match(line)):
                msg = m.group(1)
                kind = "missing" if "not implemented yet" in msg or "is not defined" in msg else ""
                current = {"kind": kind or "failed", "message": msg, "hint": None,
                           "points_lost": _num(m.group(2))}  # fmt: skip
                causes.append(current)
            elif in_block and current is not None and (m := _NB_HINT.match(line)):
                current["hint"] = m.group(1).strip()
            else:
                in_block, current = False, None
        if score < top - 1e-9 and not causes:
            causes.append(
                {
                    "kind": "failed",
                    "message": error or "(no output)",
                    "hint": None,
                    "points_lost": top - score,
                }
            )
        status = "passed" if score >= top - 1e-9 else "failed"
        if causes and all(c["kind"] == "missing" for c in causes) and score == 0:
            status = "missing"
        s["exercises"][ex_name] = _exercise(score, top, status, causes)
    s["score"] = sum(e["score"] for e in s["exercises"].values())
    s["max_score"] = sum(e["max_score"] for e in s["exercises"].values())
    return s


def _gradebook_scores(db: Path) -> dict[tuple[str, str, str], dict[str, tuple[float, float]]]:
    """{(assignment, notebook, student): {grade cell: (score, max_score)}} from nbgrader's
    gradebook (its API); {} when nbgrader is not installed."""
    try:
        from nbgrader.api import Gradebook
    except ImportError:
        return {}
    out: dict[tuple[str, str, str], dict[str, tuple[float, float]]] = {}
    with Gradebook(f"sqlite:///{db}") as gb:
        for assignment in gb.assignments:
            for sub in gb.assignment_submissions(assignment.name):
                for nb in sub.notebooks:
                    key = (assignment.name, nb.name, sub.student.id)
                    out[key] = {g.name: (_num(g.score), _num(g.max_score)) for g in nb.grades}
    return out


def load_nbgrader(root: Path) -> tuple[list[dict], list[str], list[tuple[str, str]]]:
    """Students, what is missing, and unreadable files of an nbgrader course folder."""
    students: list[dict] = []
    unreadable: list[tuple[str, str]] = []
    missing = ["nbgrader records no isolation level"]
    db = root / "gradebook.db"
    scores = _gradebook_scores(db) if db.is_file() else {}
    if db.is_file() and not scores:
        missing.append(
            "the gradebook could not be read (nbgrader is not installed, or it is "
            "empty): scores come from the autograded notebooks"
        )
    autograded = root / "autograded"
    seen: set[tuple[str, str, str]] = set()
    if autograded.is_dir():
        for path in _files(autograded):
            rel = path.relative_to(autograded).parts
            if len(rel) != 3 or not path.name.endswith(".ipynb"):
                continue
            student, assignment, nb_name = rel[0], rel[1], path.name[: -len(".ipynb")]
            try:
                s = from_nbgrader_notebook(_read_json(path), student, assignment)
            except (OSError, ValueError, AttributeError, TypeError) as exc:
                unreadable.append((str(path.relative_to(root)), _why(exc)))
                continue
            key = (assignment, nb_name, student)
            seen.add(key)
            for cell, (score, top) in scores.get(key, {}).items():
                ex = s["exercises"].get(cell.removeprefix("test_"))
                if ex is not None:  # the gradebook's score wins (manual grades included)
                    ex["score"], ex["max_score"] = score, top
                    if score >= top - 1e-9:
                        ex["status"], ex["causes"] = "passed", []
            s["score"] = sum(e["score"] for e in s["exercises"].values())
            s["max_score"] = sum(e["max_score"] for e in s["exercises"].values())
            students.append(s)
    else:
        missing.append("no autograded/ folder: no printed output, so no causes or hints")
    for (assignment, _nb, student), cells in sorted(scores.items()):
        if (assignment, _nb, student) in seen:
            continue
        s = _student(student, assignment, "nbgrader")
        for cell, (score, top) in cells.items():
            status = "passed" if score >= top - 1e-9 else "failed"
            s["exercises"][cell.removeprefix("test_")] = _exercise(score, top, status, [])
        s["score"] = sum(e["score"] for e in s["exercises"].values())
        s["max_score"] = sum(e["max_score"] for e in s["exercises"].values())
        students.append(s)
    missing.append(
        "nbgrader keeps no cause kinds: misconceptions are grouped by the hidden tests' printed "
        "cause (the course's export prints one line per cause) or the cell's error"
    )
    return students, missing, unreadable


def _why(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return "not valid JSON"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return f"{type(exc).__name__}"


def load_class(root: str | Path) -> dict[str, Any]:
    """Everything known about a class from a folder of results (see the module docstring).

    Returns ``{"students": [...], "sources": [...], "missing": [...], "unreadable": [(file,
    why)...]}``; each student is ``{"name", "lesson", "source", "score", "max_score", "error",
    "isolation", "exercises": {name: {"score", "max_score", "status", "causes"}}}``.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(str(root))
    if (root / "gradebook.db").is_file() or (root / "autograded").is_dir():
        students, missing, unreadable = load_nbgrader(root)
        return {
            "students": students,
            "sources": ["nbgrader"],
            "missing": missing,
            "unreadable": unreadable,
        }
    students, unreadable = [], []
    sources: Counter[str] = Counter()
    for path in _files(root):
        if not path.name.endswith(".json"):
            continue
        rel = path.relative_to(root).as_posix()
        try:
            data = _read_json(path)
        except (OSError, ValueError) as exc:
            unreadable.append((rel, _why(exc)))
            continue
        if not isinstance(data, dict) or data.get("version") == INSIGHTS_VERSION:
            continue
        if isinstance(data.get("exercises"), list) and "notebook" in data:
            students.append(from_nnlite(data, path.stem))
            sources["nnlite"] += 1
        elif path.name == "results.json" or isinstance(data.get("tests"), list):
            parts = list(Path(rel).parts[:-1])
            if parts and parts[-1] == "results":  # Gradescope's own results/results.json
                parts.pop()
            name = "/".join(parts) if path.name == "results.json" else rel[: -len(".json")]
            students.append(from_gradescope(data, name or path.stem))
            sources["gradescope"] += 1
    missing = []
    if sources["gradescope"]:
        missing += [
            "Gradescope results carry test names, scores and outputs, not the causes' kinds: "
            "misconceptions are grouped by the failed test's output",
            "Gradescope results record no isolation level",
        ]
        if any(s["lesson"] is None for s in students if s["source"] == "gradescope"):
            missing.append("some Gradescope results do not name their lesson")
    return {
        "students": students,
        "sources": sorted(sources),
        "missing": missing,
        "unreadable": unreadable,
    }


# ----------------------------------------------------------------------------- counting


def _histogram(scores: list[float], top: float, bins: int = 10) -> list[int]:
    """Counts in ``bins`` equal bins over [0, top]; the last bin holds full marks only."""
    counts = [0] * (bins + 1)
    for x in scores:
        if top <= 0 or x >= top - 1e-9:
            counts[bins] += 1
        else:
            counts[min(int(x / top * bins), bins - 1)] += 1
    return counts


def summarize(data: dict[str, Any], names: bool = False) -> dict[str, Any]:
    """The counts of the page, as JSON-ready data (student names only with ``names``)."""
    students = data["students"]
    graded = [s for s in students if not s["error"]]
    ungraded: dict[str, list[str]] = defaultdict(list)
    for s in students:
        if s["error"]:
            ungraded[" ".join(str(s["error"]).split())[:300]].append(s["name"])
    for file, why in data.get("unreadable", []):
        ungraded[f"the result file could not be read ({why})"].append(file)
    lessons: dict[str, list[dict]] = defaultdict(list)
    for s in graded:
        lessons[s["lesson"] or "unknown"].append(s)
    out_lessons = []
    for lesson in sorted(lessons):
        group = lessons[lesson]
        ex_names: list[str] = []
        for s in group:
            ex_names += [e for e in s["exercises"] if e not in ex_names]
        exercises = []
        groups: dict[tuple[str, str, str], dict[str, Any]] = {}
        for ex_name in ex_names:
            rows = [(s, s["exercises"][ex_name]) for s in group if ex_name in s["exercises"]]
            top = max((e["max_score"] for _, e in rows), default=0.0)
            scores = sorted(round(e["score"], 6) for _, e in rows)
            full = sum(1 for _, e in rows if e["score"] >= e["max_score"] - 1e-9)
            attempted = [s for s, e in rows if e["status"] != "missing"]
            exercises.append(
                {
                    "name": ex_name,
                    "max_score": top,
                    "students": len(rows),
                    "full_marks": full,
                    "full_marks_share": full / len(rows) if rows else 0.0,
                    "not_attempted": len(rows) - len(attempted),
                    "mean": sum(scores) / len(scores) if scores else 0.0,
                    "scores": scores,
                    "histogram": _histogram(scores, top),
                }
            )
            for s, e in rows:
                seen: set[tuple[str, str, str]] = set()
                for c in e["causes"]:
                    if c["kind"] in NOT_ATTEMPTED + NOT_STUDENTS or e["status"] == "missing":
                        continue
                    key = (ex_name, c["kind"], pattern(c["message"]))
                    g = groups.setdefault(
                        key, {"messages": Counter(), "hints": Counter(), "students": [], "lost": []}
                    )
                    g["messages"][" ".join(c["message"].split())] += 1
                    if c.get("hint"):
                        g["hints"][c["hint"]] += 1
                    if key not in seen:  # one student counts once per misconception
                        seen.add(key)
                        g["students"].append(s["name"])
                        g["lost"].append(c["points_lost"])
                    else:
                        g["lost"][-1] += c["points_lost"]
        n = len(group)
        ranked = []
        for (ex_name, kind, pat), g in groups.items():
            item = {
                "exercise": ex_name,
                "kind": kind,
                "pattern": pat,
                "example": g["messages"].most_common(1)[0][0],
                "hint": g["hints"].most_common(1)[0][0] if g["hints"] else None,
                "students": len(g["students"]),
                "share": len(g["students"]) / n if n else 0.0,
                "mean_points_lost": sum(g["lost"]) / len(g["lost"]),
            }
            if names:
                item["names"] = sorted(g["students"])
            ranked.append((item, frozenset(g["students"])))
        ranked.sort(
            key=lambda r: (
                -r[0]["students"],
                -r[0]["mean_points_lost"],
                r[0]["exercise"],
                r[0]["pattern"],
            )
        )
        # One mistake often shows as several causes (each test sees it its own way): say when a
        # row was hit by exactly the students of an earlier one.
        first: dict[frozenset, int] = {}
        for rank, (item, who) in enumerate(ranked, start=1):
            item["rank"] = rank
            item["same_students_as"] = first.get(who)
            first.setdefault(who, rank)
        ranked = [item for item, _ in ranked]
        totals = sorted(round(s["score"], 6) for s in group)
        top = max((s["max_score"] for s in group), default=0.0)
        out_lessons.append(
            {
                "lesson": lesson,
                "students": n,
                "max_score": top,
                "mean": sum(totals) / n if n else 0.0,
                "full_marks": sum(1 for s in group if s["score"] >= s["max_score"] - 1e-9),
                "scores": totals,
                "histogram": _histogram(totals, top),
                "exercises": exercises,
                "misconceptions": ranked,
            }
        )
    isolation = Counter(s["isolation"] for s in students if s["isolation"])
    result = {
        "version": INSIGHTS_VERSION,
        "sources": data.get("sources", []),
        "submissions": len(students) + len(data.get("unreadable", [])),
        "graded": len(graded),
        "not_graded": sum(len(v) for v in ungraded.values()),
        "isolation": dict(sorted(isolation.items())),
        "missing": list(data.get("missing", [])),
        "ungraded": [
            {"reason": reason, "count": len(who), **({"names": sorted(who)} if names else {})}
            for reason, who in sorted(ungraded.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ],
        "lessons": out_lessons,
    }
    return result


# ----------------------------------------------------------------------------- the page


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _fmt(x: float) -> str:
    return f"{x:.3g}" if not float(x).is_integer() else f"{int(x)}"


def histogram_svg(counts: list[int], top: float, label: str, w: int = 300, h: int = 130) -> str:
    """An inline SVG bar chart of ``counts`` (from :func:`_histogram`): x = points, y =
    students; the full-marks bar is green and set apart."""
    left, bottom, pad = 34, 30, 6
    bins = len(counts) - 1
    ymax = max(max(counts, default=0), 1)
    bw = (w - left - pad) / (bins + 1.5)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="{_e(label)}">'
    ]
    y0 = h - bottom
    parts.append(f'<line x1="{left}" y1="{y0}" x2="{w - pad}" y2="{y0}" stroke="#444"/>')
    parts.append(f'<line x1="{left}" y1="{pad}" x2="{left}" y2="{y0}" stroke="#444"/>')
    for i, c in enumerate(counts):
        x = left + (i + (0.5 if i == bins else 0)) * bw + 1
        bh = (y0 - pad - 10) * c / ymax
        colour = "#2e8b57" if i == bins else "#c0504d"
        parts.append(
            f'<rect x="{x:.1f}" y="{y0 - bh:.1f}" width="{bw - 2:.1f}" '
            f'height="{bh:.1f}" fill="{colour}"/>'
        )
        if c:
            parts.append(
                f'<text x="{x + bw / 2 - 1:.1f}" y="{y0 - bh - 2:.1f}" '
                f'font-size="9" text-anchor="middle">{c}</text>'
            )
    for i, tick in ((0, "0"), (bins, _fmt(top))):
        parts.append(
            f'<text x="{left + i * bw:.1f}" y="{y0 + 11}" font-size="9" '
            f'text-anchor="middle">{tick}</text>'
        )
    parts.append(
        f'<text x="{left + (bins + 1) * bw:.1f}" y="{y0 + 11}" font-size="9" '
        'text-anchor="middle">full</text>'
    )
    parts.append(
        f'<text x="{(left + w) / 2:.0f}" y="{h - 4}" font-size="10" '
        'text-anchor="middle">points</text>'
    )
    parts.append(
        f'<text x="10" y="{y0 / 2:.0f}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 10 {y0 / 2:.0f})">students</text>'
    )
    parts.append(
        f'<text x="{left - 3}" y="{pad + 10}" font-size="9" text-anchor="end">{ymax}</text></svg>'
    )
    return "".join(parts)


_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; max-width: 72rem; margin: 1.5rem auto; color: #222;
       padding: 0 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
td, th { border: 1px solid #ccc; padding: .25rem .5rem; vertical-align: top; text-align: left; }
th { background: #f3f3f3; } .num { text-align: right; white-space: nowrap; }
.hint { color: #225; font-style: italic; } .muted { color: #666; font-size: 90%; }
.figs { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; }
figure { margin: 0; } figcaption { font-size: 90%; color: #444; }
code { font-size: 90%; } .bar { background: #c0504d; height: .7rem; display: inline-block; }
"""

_KIND_WORD = {
    "value": "wrong values",
    "shape": "wrong shape",
    "dtype": "wrong dtype",
    "nan": "NaN or inf",
    "type": "wrong type",
    "mutation": "changes its input",
    "error": "raised an error",
    "timeout": "too slow",
    "blocked": "could not load",
    "failed": "failed test",
}


def render_html(summary: dict[str, Any], title: str = "Class insights") -> str:
    """The page: one self-contained HTML document, no script, nothing loaded."""
    names = any("names" in m for les in summary["lessons"] for m in les["misconceptions"]) or any(
        "names" in u for u in summary["ungraded"]
    )
    iso = ", ".join(f"{_e(k)} ({v})" for k, v in summary["isolation"].items()) or "not recorded"
    p = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Nothing on this page may load or run anything, whatever a submission is named.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p><strong>{summary['submissions']}</strong> submission(s): "
        f"<strong>{summary['graded']}</strong> graded, "
        f"<strong>{summary['not_graded']}</strong> could not be graded. "
        f"Source: {_e(', '.join(summary['sources']) or 'none')}. Isolation: {iso}.</p>",
    ]
    if not names:
        p.append('<p class="muted">Student names are left out (run with --names to list them).</p>')
    for les in summary["lessons"]:
        p.append(_lesson_html(les))
    if summary["ungraded"]:
        p.append(
            "<h2>Could not be graded</h2><table><tr><th>Submissions</th><th>Why</th>"
            + ("<th>Who</th>" if names else "")
            + "</tr>"
        )
        for u in summary["ungraded"]:
            who = f"<td>{_e(', '.join(u['names']))}</td>" if names else ""
            p.append(f'<tr><td class="num">{u["count"]}</td><td>{_e(u["reason"])}</td>{who}</tr>')
        p.append("</table>")
    if summary["missing"]:
        p.append("<h2>What these results do not say</h2><ul>")
        p += [f"<li>{_e(m)}</li>" for m in summary["missing"]]
        p.append("</ul>")
    p.append(
        '<p class="muted">Misconceptions group the causes of lost points by exercise, kind '
        "and message, with numbers and shapes that differ between students replaced by # "
        "and (…). A student counts once per misconception. Written by python -m nnlite "
        "report.</p></body></html>"
    )
    return "\n".join(p) + "\n"


def _lesson_html(les: dict[str, Any]) -> str:
    n = les["students"]
    p = [
        f"<h2>Lesson {_e(les['lesson'])}</h2>",
        f"<p>{n} graded student(s); mean {_fmt(les['mean'])} / {_fmt(les['max_score'])} "
        f"points; {les['full_marks']} with full marks.</p>",
        "<h3>Misconceptions, most frequent first</h3>",
    ]
    ranked = les["misconceptions"]
    if not ranked:
        p.append("<p>No points were lost to a mistake in an attempted exercise.</p>")
    else:
        head = (
            "<table><tr><th>#</th><th>Students</th><th>Exercise</th>"
            "<th>What went wrong (one example)</th><th>Hint given</th>"
            "<th>Points lost (mean)</th></tr>"
        )
        for i, chunk in enumerate((ranked[:TOP], ranked[TOP:])):
            if not chunk:
                continue
            if i:
                p.append(f"<details><summary>{len(chunk)} more</summary>")
            p.append(head)
            for m in chunk:
                who = (
                    f'<br><span class="muted">{_e(", ".join(m["names"]))}</span>'
                    if "names" in m
                    else ""
                )
                bar = f'<span class="bar" style="width:{round(60 * m["share"])}px"></span>'
                kind = _KIND_WORD.get(m["kind"], m["kind"])
                same = m.get("same_students_as")
                same = f'<br><span class="muted">same students as #{same}</span>' if same else ""
                p.append(
                    f'<tr><td class="num">{m["rank"]}</td>'
                    f'<td class="num">{m["students"]} ({m["share"]:.0%}) {bar}{same}</td>'
                    f"<td><code>{_e(m['exercise'])}</code></td>"
                    f'<td>{_e(m["example"])} <span class="muted">({_e(kind)})</span>{who}</td>'
                    f'<td class="hint">{_e(m["hint"] or "—")}</td>'
                    f'<td class="num">{_fmt(m["mean_points_lost"])}</td></tr>'
                )
            p.append("</table>" + ("</details>" if i else ""))
    p.append(
        "<h3>Exercises</h3><table><tr><th>Exercise</th><th>Points</th><th>Mean</th>"
        "<th>Full marks</th><th>Not attempted</th><th>Score distribution (students per "
        "tenth of the points; green: full marks)</th></tr>"
    )
    rows = [("<strong>whole lesson</strong>", les)] + [
        (f"<code>{_e(ex['name'])}</code>", ex) for ex in les["exercises"]
    ]
    for label, ex in rows:
        full = ex["full_marks"]
        n_ex = ex.get("students", n)
        what = "the whole lesson" if ex is les else f"exercise {ex['name']}"
        fig = histogram_svg(
            ex["histogram"], ex["max_score"], f"Histogram of the points of {what}", w=240, h=90
        )
        p.append(
            f'<tr><td>{label}</td><td class="num">{_fmt(ex["max_score"])}</td>'
            f'<td class="num">{_fmt(ex["mean"])}</td>'
            f'<td class="num">{full} of {n_ex} ({full / n_ex if n_ex else 0:.0%})</td>'
            f'<td class="num">{ex.get("not_attempted", "")}</td><td>{fig}</td></tr>'
        )
    p.append("</table>")
    return "\n".join(p)


def write_insights(
    source: str | Path,
    out_html: str | Path,
    out_json: str | Path | None = None,
    names: bool = False,
) -> dict[str, Any]:
    """Read ``source`` (:func:`load_class`), write the page (and the JSON); returns the summary."""
    from nnlite.grading.report import atomic_write

    summary = summarize(load_class(source), names=names)
    atomic_write(out_html, render_html(summary))
    if out_json is not None:
        atomic_write(
            out_json, json.dumps(summary, indent=1, allow_nan=False, ensure_ascii=False) + "\n"
        )
    return summary


def write_class_page(reports: list[dict[str, Any]], out_html: str | Path) -> dict[str, Any]:
    """``nnlite grade --summary``: the page of a batch just graded (no names), and its JSON
    beside it (``class.html`` -> ``class.json``)."""
    from nnlite.grading.report import atomic_write

    data = {
        "students": [from_nnlite(r, str(r.get("student") or "")) for r in reports],
        "sources": ["nnlite"],
        "missing": [],
        "unreadable": [],
    }
    summary = summarize(data)
    out_json = Path(out_html).with_suffix(".json")
    atomic_write(out_html, render_html(summary))
    atomic_write(
        out_json, json.dumps(summary, indent=1, allow_nan=False, ensure_ascii=False) + "\n"
    )
    print(f"class insights: {out_html} and {out_json}")
    return summary


def main(argv: list[str] | None = None) -> int:
    """``python -m nnlite report FOLDER --out class.html [--json class.json] [--names]``."""
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m nnlite report",
        description="One page of class insights (score distributions, misconceptions ranked by "
        "how many students hit them) from the reports of `nnlite grade --out`, a folder of "
        "Gradescope results.json files or an nbgrader course folder after autograde.",
    )
    ap.add_argument("folder", help="reports/ of nnlite grade, Gradescope results, or nbgrader")
    ap.add_argument(
        "--out", metavar="HTML", default="class.html", help="the page (default: class.html)"
    )
    ap.add_argument("--json", metavar="FILE", help="also write the counts as JSON")
    ap.add_argument("--names", action="store_true", help="list student names (off by default)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return 0 if exc.code in (0, None) else 2
    try:
        summary = write_insights(args.folder, args.out, args.json, names=args.names)
    except NotADirectoryError:
        print(f"nnlite report: not a folder: {args.folder}", file=sys.stderr)
        return 2
    if not summary["submissions"]:
        print(f"nnlite report: no grading results found in {args.folder}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.out}"
        + (f" and {args.json}" if args.json else "")
        + f": {summary['graded']} graded, {summary['not_graded']} not graded"
    )
    return 0
