"""Feedback for a student, from a grading report: Markdown and a self-contained HTML page.

What a student may see: the score of each exercise, what was wrong (each distinct cause once,
with the points it cost and its hint), and the descriptions of the *visible* tests. Never the
names, parameters or descriptions of hidden tests, nor grader faults (they are the
instructor's). Everything that comes from a submission or its code (the notebook's path,
the student id, messages quoting exception text) is escaped, so a notebook named
``<img src=x onerror=alert(1)>.ipynb`` shows as that text and runs nothing.
"""

from __future__ import annotations

import html
import re
from typing import Any

from nnlite.grading.report import describe

_STATUS_WORD = {
    "passed": "passed",
    "failed": "not yet right",
    "error": "raised an error or could not run",
    "timeout": "too slow",
    "missing": "not implemented",
}
# The characters that are Markdown syntax (CommonMark, GitHub's tables and strikethrough)
# anywhere in a line; the text never starts a line (each line starts with our own "- ", "| "
# or "# "), so line-start syntax such as "1." or "#" needs no escape. < > & are HTML-escaped.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def _causes(exercise: dict[str, Any]) -> list[dict[str, Any]]:
    """What went wrong, for a student: message, points lost, hint, and where (visible only)."""
    visible = {t["name"] for t in exercise["tests"] if not t.get("hidden")}
    out = []
    for cause in exercise.get("causes", []):
        tests = cause["tests"]
        if len(tests) == 1 and tests[0] in visible:
            where = describe(exercise, tests[0])
        else:
            where = f"{len(tests)} test{'s' if len(tests) != 1 else ''}"
        out.append({**cause, "where": where})
    if not out and exercise["status"] != "passed" and exercise.get("message"):
        lost = exercise["max_score"] - exercise["score"]
        out.append({"message": exercise["message"], "hint": None, "points_lost": lost,
                    "where": "the exercise"})  # fmt: skip
    return out


def _fmt(x: float) -> str:
    return f"{x:g}"


def md_escape(text: Any) -> str:
    """``text`` as literal Markdown: HTML escaped (raw HTML is allowed in Markdown), syntax
    characters backslash-escaped, and on one line."""
    one_line = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(one_line, quote=True))


def feedback_markdown(report: dict[str, Any]) -> str:
    """A student's feedback as Markdown."""
    e = md_escape
    lines = [
        f"# Feedback: {e(report.get('student') or report['notebook'])}",
        "",
        f"Notebook: {e(report['notebook'])}  ",
        f"Lesson: {e(report.get('lesson') or 'unknown')}  ",
        f"**Score: {_fmt(report['score'])} / {_fmt(report['max_score'])}**",
        "",
    ]
    if report.get("error"):
        lines += [f"**Your notebook could not be graded in full:** {e(report['error'])}", ""]
    lines += ["| Exercise | Points | Status |", "|---|---|---|"]
    for ex in report["exercises"]:
        word = _STATUS_WORD.get(ex["status"], ex["status"])
        lines.append(
            f"| {e(ex['name'])} | {_fmt(ex['score'])} / {_fmt(ex['max_score'])} | {e(word)} |"
        )
    for ex in report["exercises"]:
        causes = _causes(ex)
        if not causes:
            continue
        lines += ["", f"## {e(ex['name'])}", ""]
        for cause in causes:
            lines.append(
                f"- {e(cause['message'])} ({e(cause['where'])}; "
                f"{_fmt(cause['points_lost'])} point(s) lost)"
            )
            if cause.get("hint"):
                lines.append(f"  - Hint: {e(cause['hint'])}")
    return "\n".join(lines) + "\n"


_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .25rem .6rem; }
.passed { color: #176b2c; } .lost { color: #a31515; } .hint { color: #225; font-style: italic; }
"""


def feedback_html(report: dict[str, Any]) -> str:
    """A student's feedback as one self-contained HTML page (no script, no network)."""

    def e(text: Any) -> str:
        return html.escape(str(text), quote=True)

    who = report.get("student") or report["notebook"]
    rows = "\n".join(
        f'<tr class="{"passed" if ex["status"] == "passed" else "lost"}"><td>{e(ex["name"])}'
        f"</td><td>{_fmt(ex['score'])} / {_fmt(ex['max_score'])}</td>"
        f"<td>{e(_STATUS_WORD.get(ex['status'], ex['status']))}</td></tr>"
        for ex in report["exercises"]
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Nothing on this page may load or run anything, whatever a submission is named.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">",
        f"<title>Feedback: {e(who)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Feedback: {e(who)}</h1>",
        f"<p>Notebook: <code>{e(report['notebook'])}</code><br>"
        f"Lesson: {e(report.get('lesson') or 'unknown')}<br>"
        f"<strong>Score: {_fmt(report['score'])} / {_fmt(report['max_score'])}</strong></p>",
    ]
    if report.get("error"):
        parts.append(f"<p><strong>Your notebook could not be graded in full:</strong> "
                     f"{e(report['error'])}</p>")  # fmt: skip
    parts.append(
        "<table><tr><th>Exercise</th><th>Points</th><th>Status</th></tr>\n" + rows + "</table>"
    )
    for ex in report["exercises"]:
        causes = _causes(ex)
        if not causes:
            continue
        parts.append(f"<h2>{e(ex['name'])}</h2><ul>")
        for cause in causes:
            item = (f"{e(cause['message'])} <small>({e(cause['where'])}; "
                    f"{_fmt(cause['points_lost'])} point(s) lost)</small>")  # fmt: skip
            if cause.get("hint"):
                item += f'<br><span class="hint">Hint: {e(cause["hint"])}</span>'
            parts.append(f"<li>{item}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
