"""Per-student feedback files (--out): Markdown and HTML with no hidden-test internals, and
nothing from a submission can run in the instructor's (or the student's) browser."""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess

import nbfactory as f
import pytest
from gradingkit import run_cli

from nnlite.grading.feedback import feedback_html, feedback_markdown, md_escape

HOSTILE = "<img src=x onerror=alert(1)>"
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "br", "code",
                "strong", "table", "tr", "th", "td", "ul", "li", "small", "span"}  # fmt: skip


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def tags_of(page: str) -> list[tuple[str, list]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def report(name: str = "alice") -> dict:
    hidden = {"name": "test_secret_case[big-7]", "score": 0, "max_score": 2, "status": "failed",
              "message": f"raised ValueError: {HOSTILE}", "hint": "Check the axis.",
              "kind": "value", "hidden": True, "description": "The secret big case."}  # fmt: skip
    visible = {**hidden, "name": "test_shape", "hidden": False, "description": "Output shape.",
               "message": "wrong shape (3, 5), expected (4, 6)", "hint": None}  # fmt: skip
    causes = [
        {"kind": "value", "message": hidden["message"], "hint": "Check the axis.",
         "tests": [hidden["name"]], "points_lost": 2},
        {"kind": "value", "message": visible["message"], "hint": None,
         "tests": [visible["name"]], "points_lost": 2},
    ]  # fmt: skip
    ex = {"name": "normalize_rows", "score": 0, "max_score": 4, "status": "failed",
          "message": "", "causes": causes, "tests": [hidden, visible]}  # fmt: skip
    return {"notebook": f"{name}/{HOSTILE}.ipynb", "student": f"{name}{HOSTILE}",
            "lesson": "99_fixture", "score": 0, "max_score": 4, "isolation": "process",
            "error": None, "exercises": [ex], "grader_faults": ["a grader traceback"]}  # fmt: skip


def test_html_shows_a_hostile_name_as_text_and_runs_nothing():
    page = feedback_html(report())
    assert HOSTILE not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    for tag, attrs in tags_of(page):
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.startswith("on") for name, _ in attrs), (tag, attrs)
    assert "default-src 'none'" in page


def test_markdown_escapes_html_and_markdown_syntax():
    text = feedback_markdown(report())
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert md_escape("[click](javascript:alert(1))") == "\\[click\\](javascript:alert(1))"
    assert md_escape("**a_b** `c`") == "\\*\\*a\\_b\\*\\* \\`c\\`"
    assert md_escape("a\nb | c") == "a b \\| c"


@pytest.mark.parametrize("render", [feedback_html, feedback_markdown])
def test_no_hidden_test_internals_and_no_grader_faults(render):
    text = render(report())
    assert "test_secret_case" not in text and "big-7" not in text
    assert "secret big case" not in text and "a grader traceback" not in text
    assert "Check the axis." in text  # the hint of the hidden test's cause is for the student
    assert "Output shape" in text  # a visible test is named by its description
    assert "0 / 4" in text


def test_cli_out_writes_feedback_for_a_hostile_file_name(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    f.write(f.fixture_notebook(), subs / f"{HOSTILE}.ipynb")
    out = run_cli(str(subs), "--out", str(tmp_path / "o"), "--lesson", "99_fixture", tmp=tmp_path)
    assert out.returncode == 0, out.stderr
    pages = list((tmp_path / "o").glob("*.html"))
    assert len(pages) == 1 and len(list((tmp_path / "o").glob("*.md"))) == 1
    page = pages[0].read_text(encoding="utf-8")
    assert "Score: 10 / 10" in page and "<img" not in page
    assert all(tag in ALLOWED_TAGS for tag, _ in tags_of(page))
    data = json.loads(next((tmp_path / "o").glob("*.json")).read_text())
    assert data["score"] == 10


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_headless_browser_runs_no_handler_from_a_hostile_name(tmp_path):
    # A handler that ran would change the title; the browser's DOM after load must keep it and
    # contain no <img> element at all.
    page = feedback_html(report()).replace(
        HOSTILE.replace("<", "&lt;").replace(">", "&gt;"),
        "&lt;img src=x onerror=document.title='PWNED'&gt;",
    )
    path = tmp_path / "feedback.html"
    path.write_text(page, encoding="utf-8")
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000",
         "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    assert "<title>Feedback:" in dom and "PWNED</title>" not in dom
    assert "<img" not in dom
