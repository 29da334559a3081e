"""Batches of submissions (issue 9, items 3, 4, 7, 11): every notebook of a folder is graded as
the folder's lesson, only regular files are opened, what is skipped is said, and every
submission gets its own report."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import stat
import threading
import urllib.parse
from pathlib import Path

import nbfactory as f
import pytest
from gradingkit import GRADERS
from test_cli import assert_no_leftovers, run_cli

from nnlite.grading.cli import batch_lesson, find_notebooks, report_names
from nnlite.grading.notebook import read_notebook
from nnlite.grading.report import validate_report


@pytest.fixture
def two_lessons(tmp_path) -> Path:
    """A graders folder with lessons 99_fixture and 98_other (same exercises, own solutions)."""
    root = tmp_path / "course"
    (root / "graders").mkdir(parents=True)
    (root / "solutions").mkdir()
    shutil.copy(GRADERS / "conftest.py", root / "graders" / "conftest.py")
    text = (GRADERS / "test_99_fixture.py").read_text()
    (root / "graders" / "test_99_fixture.py").write_text(text)
    (root / "graders" / "test_98_other.py").write_text(text.replace("99_fixture", "98_other"))
    f.write(f.fixture_notebook(), root / "solutions" / "99_fixture.ipynb")
    f.write(f.fixture_notebook(lesson="98_other"), root / "solutions" / "98_other.ipynb")
    return root / "graders"


def _csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


# ----------------------------------------------------------------------------- item 3


def test_batch_grades_every_notebook_as_the_batch_lesson(tmp_path, two_lessons):
    subs = tmp_path / "subs"
    subs.mkdir()
    f.write(f.fixture_notebook(), subs / "99_fixture-alice.ipynb")
    f.write(f.fixture_notebook(), subs / "99_fixture-bob.ipynb")
    # Another lesson's notebook saved under this lesson's name: graded as this lesson.
    f.write(f.fixture_notebook(lesson="98_other"), subs / "99_fixture-mallory.ipynb")
    # This lesson's notebook under another lesson's name: still this batch's lesson.
    f.write(f.fixture_notebook(), subs / "98_other-trudy.ipynb")
    out = run_cli(str(subs), "--csv", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o"),
                  tmp=tmp_path, graders=two_lessons)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "as lesson 99_fixture (from 3 of 4 notebooks' file names" in out.stdout
    rows = {r["student"]: r for r in _csv(tmp_path / "g.csv")}
    assert {r["lesson"] for r in rows.values()} == {"99_fixture"}
    reports = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "o").glob("*.json")}
    mallory = reports["99_fixture-mallory"]
    assert mallory["lesson"] == "99_fixture"
    assert any("metadata says 98_other" in w for w in mallory["warnings"])
    trudy = reports["98_other-trudy"]
    assert trudy["lesson"] == "99_fixture"
    assert any("file name says 98_other" in w for w in trudy["warnings"])
    assert reports["99_fixture-alice"]["warnings"] == []
    assert_no_leftovers(tmp_path)


def test_folder_name_decides_and_a_tie_needs_lesson(tmp_path, two_lessons):
    known = ["98_other", "99_fixture"]
    folder = tmp_path / "98_other"
    folder.mkdir()
    nbs = [f.write(f.fixture_notebook(), folder / f"99_fixture-{n}.ipynb") for n in "ab"]
    assert batch_lesson(folder, nbs, known) == ("98_other", "from the folder's name")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    nbs = [
        f.write(f.fixture_notebook(), mixed / "99_fixture-a.ipynb"),
        f.write(f.fixture_notebook(lesson="98_other"), mixed / "98_other-b.ipynb"),
    ]
    assert batch_lesson(mixed, nbs, known)[0] is None
    out = run_cli(str(mixed), tmp=tmp_path, graders=two_lessons)
    assert out.returncode == 2 and "pass --lesson" in out.stderr
    # No lesson in any name: the notebooks' metadata decide, by majority.
    plain = tmp_path / "plain"
    plain.mkdir()
    nbs = [f.write(f.fixture_notebook(lesson=ls), plain / f"{n}.ipynb")
           for n, ls in (("a", "98_other"), ("b", "98_other"), ("c", "99_fixture"))]  # fmt: skip
    assert batch_lesson(plain, nbs, known) == ("98_other", "from 2 of 3 notebooks' metadata")


def test_single_notebook_disagreement_is_reported_not_resolved(tmp_path, two_lessons):
    nb = f.write(f.fixture_notebook(lesson="98_other"), tmp_path / "99_fixture-mallory.ipynb")
    out = run_cli(str(nb), "--json", str(tmp_path / "r.json"), tmp=tmp_path, graders=two_lessons)
    assert out.returncode == 0
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["score"] == 0 and rep["lesson"] is None and validate_report(rep) == []
    assert "file name says lesson 99_fixture" in rep["error"]
    assert "metadata says 98_other" in rep["error"] and "--lesson" in rep["error"]
    # --lesson decides, and the report still says what the notebook claimed.
    out = run_cli(str(nb), "--lesson", "98_other", "--json", str(tmp_path / "r2.json"),
                  tmp=tmp_path, graders=two_lessons)  # fmt: skip
    rep = json.loads((tmp_path / "r2.json").read_text())
    assert rep["lesson"] == "98_other" and rep["score"] == 10
    assert rep["warnings"] == ["graded as lesson 98_other, although its file name says 99_fixture"]


# ----------------------------------------------------------------------------- items 4, 7


def _hostile_folder(tmp_path: Path) -> tuple[Path, list[socket.socket]]:
    subs = tmp_path / "subs"
    (subs / "real").mkdir(parents=True)
    f.write(f.fixture_notebook(stubbed=True), subs / "99_fixture-honest.ipynb")
    solution = f.write(f.fixture_notebook(), tmp_path / "hidden-solution.ipynb")
    os.symlink(solution, subs / "99_fixture-linker.ipynb")  # a link to the solution
    os.symlink(solution, subs / "99_fixture-dangling.ipynb.tmp")  # not a notebook name
    os.symlink(tmp_path / "nowhere.ipynb", subs / "99_fixture-broken.ipynb")
    f.write(f.fixture_notebook(), subs / "real" / "99_fixture.ipynb")
    os.symlink(subs / "real", subs / "alias")  # a link to a folder: not followed
    os.mkfifo(subs / "99_fixture-fifo.ipynb")  # hung the batch: open() waits for a writer
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(subs / "99_fixture-sock.ipynb"))
    socks = [sock]
    if os.geteuid() == 0:
        os.mknod(subs / "99_fixture-dev.ipynb", 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # zero
    return subs, socks


def test_only_regular_files_are_opened_and_skips_are_reported(tmp_path):
    subs, socks = _hostile_folder(tmp_path)
    try:
        found = find_notebooks([str(subs)])
        graded = sorted(p.relative_to(subs).as_posix() for p, _ in found.notebooks)
        assert graded == ["99_fixture-honest.ipynb", "real/99_fixture.ipynb"]
        skipped = {p.name: why for p, _, why in found.skipped}
        assert skipped["99_fixture-linker.ipynb"].startswith("a symbolic link, not a regular")
        assert skipped["99_fixture-broken.ipynb"].startswith("a symbolic link")
        assert skipped["99_fixture-fifo.ipynb"].startswith("a FIFO")
        assert skipped["99_fixture-sock.ipynb"].startswith("a socket")
        assert skipped["alias"] == "a symbolic link to a folder: not followed"
        if os.geteuid() == 0:
            assert skipped["99_fixture-dev.ipynb"].startswith("a character device")
        out = run_cli(str(subs), "-j", "2", "--lesson", "99_fixture",
                      "--csv", str(tmp_path / "g.csv"), "--out", str(tmp_path / "o"),
                      tmp=tmp_path, timeout=120)  # fmt: skip
        assert out.returncode == 0, out.stderr
        for name in skipped:
            assert f"not graded: {subs / name}: " in out.stdout
        assert f"; {len(skipped)} not graded (listed above)" in out.stdout
        rows = {Path(r["notebook"]).name: r for r in _csv(tmp_path / "g.csv")}
        assert rows["99_fixture-linker.ipynb"]["score"] == "0"  # not the solution's 10
        assert "not graded: a symbolic link" in rows["99_fixture-linker.ipynb"]["error"]
        assert "not graded: a FIFO" in rows["99_fixture-fifo.ipynb"]["error"]
        assert rows["99_fixture.ipynb"]["score"] == "10"  # the real folder, graded once
        assert len(rows) == 2 + len(skipped)
        assert len(list((tmp_path / "o").glob("*.json"))) == len(rows)
        assert_no_leftovers(tmp_path)
    finally:
        for s in socks:
            s.close()


def test_reading_a_fifo_or_device_never_blocks(tmp_path):
    fifo = tmp_path / "01_autograd.ipynb"
    os.mkfifo(fifo)
    result = {}
    t = threading.Thread(target=lambda: result.update(nb=read_notebook(fifo)), daemon=True)
    t.start()
    t.join(20)
    assert not t.is_alive(), "read_notebook blocked on a FIFO"
    assert result["nb"].error == "not a regular file (a FIFO): not read"
    assert read_notebook("/dev/zero").error.startswith("not a regular file (a character")


def test_explicit_fifo_is_not_graded(tmp_path):
    fifo = tmp_path / "99_fixture.ipynb"
    os.mkfifo(fifo)
    out = run_cli(str(fifo), tmp=tmp_path, timeout=60)
    assert out.returncode == 2
    assert "a FIFO, not a regular file" in out.stdout


# ----------------------------------------------------------------------------- item 11


def test_report_names_are_distinct_and_reversible():
    labels = [
        "01_autograd-alice.ipynb",
        "alice./01_autograd.ipynb",
        "alice/01_autograd.ipynb",
        "bob_x.ipynb",
        "bob/x.ipynb",
        "bob%2Fx.ipynb",
        ".eve.ipynb",
        "Zoë/01.ipynb",
        "CASE.ipynb",
        "case.ipynb",
        "p" * 300 + "1.ipynb",
        "p" * 300 + "2.ipynb",
    ]
    names = report_names(labels)
    assert len({n.casefold() for n in names}) == len(labels)
    for label, name in zip(labels[:8], names[:8], strict=True):
        assert "/" not in name and not name.startswith(".")
        assert urllib.parse.unquote(name) == label[: -len(".ipynb")]
    assert names[8:10] == ["CASE", "case~2"]
    assert all(len(n) <= 120 for n in names) and names[10] != names[11]


def test_colliding_ids_each_get_their_own_report(tmp_path):
    subs = tmp_path / "subs"
    long = "x" * 140
    layout = {
        "99_fixture-alice.ipynb": f.fixture_notebook(),
        "alice./99_fixture.ipynb": f.fixture_notebook(stubbed=True),
        "99_fixture-bob_x.ipynb": f.fixture_notebook(),
        "bob/x/99_fixture.ipynb": f.fixture_notebook(stubbed=True),
        f"99_fixture-{long}a.ipynb": f.fixture_notebook(),
        f"99_fixture-{long}b.ipynb": f.fixture_notebook(stubbed=True),
        "99_fixture-alice-2.ipynb": f.fixture_notebook(),
        ".carol/99_fixture.ipynb": f.fixture_notebook(),  # hidden folder: said, not graded
    }
    for rel, nb in layout.items():
        (subs / rel).parent.mkdir(parents=True, exist_ok=True)
        f.write(nb, subs / rel)
    out = run_cli(str(subs), "-j", "2", "--lesson", "99_fixture", "--csv",
                  str(tmp_path / "g.csv"), "--out", str(tmp_path / "o"), tmp=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"not graded: 1 notebook(s) in the hidden folder {subs / '.carol'}" in out.stdout
    graded = [rel for rel in layout if not rel.startswith(".")]
    reports = [json.loads(p.read_text()) for p in (tmp_path / "o").glob("*.json")]
    assert sorted(r["notebook"] for r in reports) == sorted(str(subs / r) for r in graded)
    stubbed = {str(subs / rel) for rel in ("alice./99_fixture.ipynb", "bob/x/99_fixture.ipynb")}
    stubbed.add(str(subs / f"99_fixture-{long}b.ipynb"))
    for r in reports:  # each file holds its own notebook's report
        assert r["score"] == (0 if r["notebook"] in stubbed else 10), r["notebook"]
    rows = _csv(tmp_path / "g.csv")
    assert sorted(r["notebook"] for r in rows) == sorted(str(subs / r) for r in graded)
    assert len({r["student"] for r in rows}) == len(graded)
    assert_no_leftovers(tmp_path)
