"""Class insights (``python -m nnlite report``, ``nnlite grade --summary``): the counts of the
page equal what a class did, names appear only on request, nothing from a submission runs, and
Gradescope and nbgrader results give the same counts as far as their formats carry them."""

from __future__ import annotations

import html.parser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import classgen
import nbformat
import pytest

from nnlite.grading import insights
from nnlite.grading.report import gradescope

REPO = Path(__file__).resolve().parents[2]
HOSTILE = "<img src=x onerror=document.title='PWNED'>"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ALLOWED_TAGS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "h1",
    "h2",
    "h3",
    "p",
    "br",
    "code",
    "strong",
    "table",
    "tr",
    "th",
    "td",
    "ul",
    "li",
    "span",
    "details",
    "summary",
    "svg",
    "line",
    "rect",
    "text",
}
HINT_RESTORE = "Leave x unchanged"
HINT_RELU = "x > 0, not x >= 0"


def cause(kind, message, hint=None, lost=1.0):
    return {"kind": kind, "message": message, "hint": hint, "tests": ["t"], "points_lost": lost}


def report(student, exercises, error=None, lesson="01_autograd", isolation="landlock"):
    """A report as ``nnlite grade`` writes it: exercises = {name: (score, max, status, causes)}."""
    exs = []
    for name, (score, top, status, causes) in exercises.items():
        test = {
            "name": f"test_{name}",
            "score": score,
            "max_score": top,
            "status": status,
            "message": causes[0]["message"] if causes else "",
            "hint": causes[0]["hint"] if causes else None,
            "kind": None,
            "hidden": True,
            "description": "",
        }
        exs.append(
            {
                "name": name,
                "score": score,
                "max_score": top,
                "status": status,
                "message": "",
                "causes": causes,
                "tests": [test],
            }
        )
    return {
        "notebook": f"{student}/{lesson}.ipynb",
        "student": student,
        "lesson": lesson,
        "score": sum(e["score"] for e in exs),
        "max_score": sum(e["max_score"] for e in exs),
        "isolation": isolation,
        "error": error,
        "exercises": exs,
        "grader_faults": [],
    }


def small_class():
    """6 students: 3 with a wrong shape (different shapes each), 1 unsolved, 1 full, 1 broken."""
    out = []
    for i, shape in enumerate(["(3, 5)", "(4, 2)", "(7,)"]):
        msg = f"wrong shape {shape}, expected (3, 1)"
        out.append(
            report(
                f"pupil-shape{i}",
                {
                    "unbroadcast": (1, 3, "failed", [cause("shape", msg, "keepdims", 2)]),
                    "rel_error": (2, 2, "passed", []),
                },
            )
        )
    miss = [cause("missing", "`unbroadcast` is not implemented yet", None, 3)]
    out.append(
        report(
            "pupil-lazy",
            {"unbroadcast": (0, 3, "missing", miss), "rel_error": (0, 2, "missing", miss)},
        )
    )
    out.append(
        report(
            "pupil-ace", {"unbroadcast": (3, 3, "passed", []), "rel_error": (2, 2, "passed", [])}
        )
    )
    out.append(report("pupil-broken", {}, error="the notebook is not valid JSON"))
    return out


def write_reports(folder: Path, reports) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for r in reports:
        (folder / f"{r['student']}.json").write_text(json.dumps(r), encoding="utf-8")
    return folder


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def assert_inert(page: str) -> None:
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, tag
        assert not any(name.startswith("on") for name, _ in attrs), (tag, attrs)
    assert "default-src 'none'" in page


def run_nnlite(*args, cwd=REPO, timeout=600):
    env = dict(os.environ, NO_COLOR="1")
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "nnlite", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def misconception(summary, exercise, phrase, lesson="01_autograd"):
    les = next(x for x in summary["lessons"] if x["lesson"] == lesson)
    found = [
        m
        for m in les["misconceptions"]
        if m["exercise"] == exercise and (phrase in (m["hint"] or "") or phrase in m["example"])
    ]
    assert len(found) == 1, [m["example"] for m in les["misconceptions"]]
    return found[0]


def exercise(summary, name, lesson="01_autograd"):
    les = next(x for x in summary["lessons"] if x["lesson"] == lesson)
    return next(e for e in les["exercises"] if e["name"] == name)


# ----------------------------------------------------------------------------- unit


def test_pattern_groups_the_same_mistake_whatever_the_numbers():
    a = insights.pattern("wrong shape (3, 5), expected (3, 1)")
    assert (
        a
        == insights.pattern("wrong shape (7,), expected (3, 1)")
        == ("wrong shape (…), expected (…)")
    )
    assert insights.pattern("max error 3.2e-05 at 7") == insights.pattern("max error 1.0 at 12")
    assert insights.pattern("values differ") != insights.pattern("wrong dtype")


def test_counts_of_a_small_class():
    data = {
        "students": [insights.from_nnlite(r, "") for r in small_class()],
        "sources": ["nnlite"],
        "missing": [],
        "unreadable": [("bad.json", "not valid JSON")],
    }
    s = insights.summarize(data)
    assert (s["submissions"], s["graded"], s["not_graded"]) == (7, 5, 2)
    assert {u["reason"]: u["count"] for u in s["ungraded"]} == {
        "the notebook is not valid JSON": 1,
        "the result file could not be read (not valid JSON)": 1,
    }
    [les] = s["lessons"]
    assert [(m["exercise"], m["students"]) for m in les["misconceptions"]] == [("unbroadcast", 3)]
    m = les["misconceptions"][0]
    assert m["hint"] == "keepdims" and m["share"] == pytest.approx(3 / 5)
    assert m["mean_points_lost"] == 2 and "names" not in m
    ub = exercise(s, "unbroadcast")
    assert (ub["students"], ub["full_marks"], ub["not_attempted"]) == (5, 1, 1)
    assert ub["histogram"] == [1, 0, 0, 3, 0, 0, 0, 0, 0, 0, 1]  # 0; three at 1 of 3; full
    assert s["isolation"] == {"landlock": 6}


def test_each_lesson_of_a_mixed_folder_gets_its_own_section(tmp_path):
    other = report("pupil-x", {"mlp": (1, 4, "failed", [cause("value", "wrong", "hint", 3)])},
                   lesson="02_mlp")  # fmt: skip
    folder = write_reports(tmp_path / "r", [*small_class(), other])
    (folder / "notes.json").write_text(json.dumps({"some": "other file"}), encoding="utf-8")
    s = insights.summarize(insights.load_class(folder))
    assert [(les["lesson"], les["students"]) for les in s["lessons"]] == [
        ("01_autograd", 5),
        ("02_mlp", 1),
    ]
    assert misconception(s, "mlp", "wrong", lesson="02_mlp")["students"] == 1
    assert s["submissions"] == 7  # notes.json is neither a report nor a results.json


def test_names_only_on_request(tmp_path):
    folder = write_reports(tmp_path / "reports", small_class())
    anonymous = insights.write_insights(folder, tmp_path / "a.html", tmp_path / "a.json")
    named = insights.write_insights(folder, tmp_path / "n.html", tmp_path / "n.json", names=True)
    for f in ("a.html", "a.json"):
        text = (tmp_path / f).read_text(encoding="utf-8")
        assert "pupil-" not in text, f
    assert "pupil-shape0" in (tmp_path / "n.html").read_text(encoding="utf-8")
    assert named["lessons"][0]["misconceptions"][0]["names"] == [
        "pupil-shape0",
        "pupil-shape1",
        "pupil-shape2",
    ]
    assert anonymous["lessons"][0]["misconceptions"][0]["students"] == 3


def hostile_class():
    reps = small_class()
    for r in reps:
        r["student"] = f"{r['student']}{HOSTILE}"
    reps[0]["exercises"][0]["causes"][0]["message"] = f"raised ValueError: {HOSTILE}"
    reps[0]["exercises"][0]["causes"][0]["hint"] = HOSTILE
    reps[-1]["error"] = f"not graded: {HOSTILE}"
    return reps


def test_page_shows_hostile_text_as_text(tmp_path):
    folder = write_reports(tmp_path / "r", hostile_class())
    insights.write_insights(folder, tmp_path / "c.html", names=True)
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "<img" not in page and "&lt;img src=x onerror=" in page
    assert_inert(page)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")
def test_headless_browser_runs_no_handler_from_a_hostile_name(tmp_path):
    folder = write_reports(tmp_path / "r", hostile_class())
    insights.write_insights(folder, tmp_path / "c.html", names=True)
    dom = chromium_dom(tmp_path / "c.html")
    assert "<title>Class insights</title>" in dom and "PWNED" not in dom.split("<body")[0]
    assert "<img" not in dom


def chromium_dom(page: Path) -> str:
    """The DOM of ``page`` after load in headless Chromium; fails on any console message (a
    script error, or a load or script the page's CSP blocked)."""
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000",
         "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    return done.stdout


def test_grade_summary_with_a_hostile_folder_name(tmp_path):
    # A student folder named like an HTML tag holds a broken notebook; two others are graded
    # with the fixture lesson. The page of --summary has no names; `report --names` shows the
    # name as text, and a browser runs nothing.
    import nbfactory
    from gradingkit import run_cli

    subs = tmp_path / "subs"
    for who in ("bob", "eve"):
        (subs / who).mkdir(parents=True)
        nbfactory.write(nbfactory.fixture_notebook(), subs / who / "99_fixture.ipynb")
    (subs / HOSTILE).mkdir()
    (subs / HOSTILE / "99_fixture.ipynb").write_text("{ not json", encoding="utf-8")
    args = [str(subs), "--out", str(tmp_path / "r"), "--summary", str(tmp_path / "c.html")]
    done = run_cli(*args, "-q", tmp=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert (summary["graded"], summary["not_graded"]) == (2, 1)
    assert summary["lessons"][0]["full_marks"] == 2
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert "onerror" not in page and "PWNED" not in page and "bob" not in page
    done = run_nnlite("report", tmp_path / "r", "--out", tmp_path / "n.html", "--names")
    assert done.returncode == 0, done.stderr
    named = (tmp_path / "n.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=" in named and "<img" not in named
    assert_inert(named)
    if CHROMIUM:
        dom = chromium_dom(tmp_path / "n.html")
        assert "<title>Class insights</title>" in dom and "<img" not in dom


def test_unreadable_and_foreign_files_are_reported_not_fatal(tmp_path):
    folder = write_reports(tmp_path / "r", small_class()[:1])
    (folder / "bad.json").write_text("{not json", encoding="utf-8")
    (folder / "notes.txt").write_text("ignored", encoding="utf-8")
    (folder / "class.json").write_text(json.dumps({"version": insights.INSIGHTS_VERSION}))
    s = insights.summarize(insights.load_class(folder))
    assert (s["graded"], s["not_graded"]) == (1, 1)
    assert s["ungraded"][0]["reason"] == "the result file could not be read (not valid JSON)"


def test_odd_values_in_a_hand_edited_report_do_not_stop_the_page(tmp_path):
    odd = report("pupil-odd", {"rel_error": (1, 2, "failed", [cause("value", "x", None, 1)])})
    odd.update(lesson=5, isolation=["?"], score=float("nan"))
    odd["exercises"][0]["causes"][0]["points_lost"] = "a lot"
    folder = write_reports(tmp_path / "r", [small_class()[0]])
    (folder / "odd.json").write_text(json.dumps(odd, allow_nan=True), encoding="utf-8")
    s = insights.write_insights(folder, tmp_path / "c.html", tmp_path / "c.json")
    assert [les["lesson"] for les in s["lessons"]] == ["01_autograd", "unknown"]
    text = (tmp_path / "c.json").read_text(encoding="utf-8")
    json.loads(text, parse_constant=pytest.fail)  # no NaN or Infinity


def test_report_command(tmp_path):
    folder = write_reports(tmp_path / "r", small_class())
    done = run_nnlite("report", folder, "--out", tmp_path / "c.html", "--json", tmp_path / "c.json")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "c.json").read_text())["graded"] == 5
    (tmp_path / "empty").mkdir()
    assert run_nnlite("report", tmp_path / "empty", "--out", tmp_path / "e.html").returncode == 2
    assert run_nnlite("report", tmp_path / "nowhere").returncode == 2


# ----------------------------------------------------------------------------- other formats


def to_gradescope(reports, root: Path) -> Path:
    """A Gradescope export as the course's autograder writes it: STUDENT/results.json."""
    for r in reports:
        path = root / r["student"] / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(gradescope(r)), encoding="utf-8")
    return root


def test_gradescope_results_give_the_same_counts_and_say_what_is_missing(tmp_path):
    reps = small_class()
    s = insights.summarize(insights.load_class(to_gradescope(reps, tmp_path / "gs")))
    assert s["sources"] == ["gradescope"] and (s["graded"], s["not_graded"]) == (5, 1)
    m = misconception(s, "unbroadcast", "keepdims")
    assert m["students"] == 3 and m["kind"] == "failed"
    assert exercise(s, "unbroadcast")["not_attempted"] == 1
    assert exercise(s, "unbroadcast")["full_marks"] == 1
    assert any("isolation" in x for x in s["missing"]) and s["isolation"] == {}


def nbgrader_notebook(report) -> dict:
    """An autograded notebook as ``nbgrader autograde`` leaves the course's export: one test
    cell per exercise whose output is what nnlite.grading.nbgrader_cells prints, and the score
    as the cell's result (nbgrader's partial credit)."""
    cells = []
    for ex in report["exercises"]:
        lines = [f"Hidden tests of {ex['name']!r}: {ex['score']:g} / {ex['max_score']:g} points"]
        for c in ex["causes"]:
            lines.append(f"  ✗ {c['message']} (-{c['points_lost']:g})")
            if c.get("hint"):
                lines.append(f"    hint: {c['hint']}")
        # The lesson's visible checks print after the hidden tests, in their own format.
        lines += ["✗ a visible check: values differ", "    hint: a visible hint", "✓ another"]
        cell = nbformat.v4.new_code_cell("visible_or_score(...)", execution_count=1)
        cell.metadata["nbgrader"] = {
            "grade": True,
            "solution": False,
            "locked": True,
            "points": ex["max_score"],
            "grade_id": f"test_{ex['name']}",
            "schema_version": 3,
        }
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text="\n".join(lines) + "\n"),
            nbformat.v4.new_output(
                "execute_result", {"text/plain": repr(float(ex["score"]))}, execution_count=1
            ),
        ]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


# nbgrader's add_submission warns from its own session handling while the test builds a gradebook.
@pytest.mark.filterwarnings("ignore:Object of type")
def test_nbgrader_autograded_notebooks_and_gradebook(tmp_path, monkeypatch):
    pytest.importorskip("nbgrader")
    # A new gradebook runs nbgrader's `alembic`, installed beside this Python.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    from nbgrader.api import Gradebook

    course = tmp_path / "course"
    reps = [r for r in small_class() if not r["error"]]
    for r in reps:
        path = course / "autograded" / r["student"] / "01_autograd" / "01_autograd.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nbgrader_notebook(r), path)
    s = insights.summarize(insights.load_class(course))
    assert s["sources"] == ["nbgrader"] and s["graded"] == 5
    assert len(s["lessons"][0]["misconceptions"]) == 1  # the visible checks' lines are not causes
    assert misconception(s, "unbroadcast", "keepdims")["students"] == 3
    assert exercise(s, "unbroadcast")["not_attempted"] == 1
    assert exercise(s, "rel_error")["full_marks"] == 4
    # The gradebook's scores win over the notebooks' (an instructor's manual grade included).
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.add_assignment("01_autograd")
        gb.update_or_create_notebook("01_autograd", "01_autograd")
        for name in ("unbroadcast", "rel_error"):
            gb.update_or_create_grade_cell(
                f"test_{name}",
                "01_autograd",
                "01_autograd",
                max_score=3 if name == "unbroadcast" else 2,
                cell_type="code",
            )
        for r in reps:
            gb.add_student(r["student"])
            gb.add_submission("01_autograd", r["student"])
            for ex in r["exercises"]:
                g = gb.find_grade(f"test_{ex['name']}", "01_autograd", "01_autograd", r["student"])
                g.auto_score = ex["score"]
                if r["student"] == "pupil-shape0" and ex["name"] == "unbroadcast":
                    g.manual_score = 3  # regraded by hand
        gb.db.commit()
    s = insights.summarize(insights.load_class(course))
    assert misconception(s, "unbroadcast", "keepdims")["students"] == 2
    assert exercise(s, "unbroadcast")["full_marks"] == 2


# ----------------------------------------------------------------------------- a real class


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """30 submissions of lesson 01 with known mistakes, graded with --out and --summary."""
    root = tmp_path_factory.mktemp("class")
    counts = classgen.make_class(root / "submissions")
    done = run_nnlite(
        "grade",
        root / "submissions",
        "-j",
        "2",
        "--out",
        root / "reports",
        "--summary",
        root / "class.html",
        "-q",
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root, counts


@pytest.mark.slow
def test_generated_class_counts_equal_the_injected_ones(graded_class, tmp_path):
    root, counts = graded_class
    assert counts == {
        "solution": 10,
        "no_restore": 10,
        "relu_at_zero": 5,
        "unsolved": 3,
        "broken": 2,
    }
    by_grade = json.loads((root / "class.json").read_text(encoding="utf-8"))
    done = run_nnlite(
        "report", root / "reports", "--out", tmp_path / "c.html", "--json", tmp_path / "c.json"
    )
    assert done.returncode == 0, done.stderr
    by_report = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    gs = insights.summarize(
        insights.load_class(
            to_gradescope(
                [json.loads(p.read_text()) for p in (root / "reports").glob("*.json")],
                tmp_path / "gs",
            )
        )
    )
    for s in (by_grade, by_report, gs):
        assert (s["submissions"], s["graded"], s["not_graded"]) == (30, 28, 2)
        [why] = s["ungraded"]
        assert why["count"] == 2 and "not valid JSON" in why["reason"]
        assert misconception(s, "numerical_grad", HINT_RESTORE)["students"] == 10
        assert misconception(s, "rules_elementwise", HINT_RELU)["students"] == 5
        for name in ("numerical_grad", "rel_error", "backward"):
            assert exercise(s, name)["not_attempted"] == 3
        assert exercise(s, "numerical_grad")["full_marks"] == 15
        assert exercise(s, "rules_elementwise")["full_marks"] == 20
        assert exercise(s, "backward")["full_marks"] == 25
        les = s["lessons"][0]
        assert les["full_marks"] == 10 and les["students"] == 28
        # Every misconception on the page comes from an injected mistake.
        assert {m["exercise"] for m in les["misconceptions"]} == {
            "numerical_grad",
            "rules_elementwise",
        }
        assert all(m["students"] in (10, 5) for m in les["misconceptions"])
        # The no-restore mistake shows as several causes, all hit by the same ten students.
        same = [m["same_students_as"] for m in les["misconceptions"] if m["students"] == 10]
        assert same[0] is None and set(same[1:]) == {1}
    assert (
        by_grade["isolation"] == by_report["isolation"]
        and sum(by_grade["isolation"].values()) == 30
    )
    assert by_grade["lessons"] == by_report["lessons"]
    page = (root / "class.html").read_text(encoding="utf-8")
    assert_inert(page)
    assert "28</strong> graded" in page and "norestore" not in page and "good0" not in page
    if CHROMIUM:
        dom = chromium_dom(root / "class.html")
        assert "Misconceptions, most frequent first" in dom and dom.count("<svg") == 7
