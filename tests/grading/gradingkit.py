"""Helpers of the grader's own test suite (tests/grading/), importable by name."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nnlite.grading.report import validate_report  # noqa: E402
from nnlite.grading.sandbox import Limits, _landlock_abi, _namespaces_available  # noqa: E402

FIXTURE = Path(__file__).parent / "fixture"
GRADERS = FIXTURE / "graders"
FULL = {"normalize_rows": 4, "trapezoid": 3, "running_mean": 3}
REPO = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, tmp: Path, timeout: float = 120, graders: Path = GRADERS
) -> subprocess.CompletedProcess:
    env = dict(os.environ, TMPDIR=str(tmp / "tmpdir"), NO_COLOR="1")
    (tmp / "tmpdir").mkdir(exist_ok=True)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "nnlite", "grade", "--graders", str(graders), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def available_levels() -> list[str]:
    levels = []
    if _namespaces_available():
        levels.append("namespaces")
    if _landlock_abi() > 0:
        levels.append("landlock")
    levels.append("process")
    return levels


def descendants(pid: int) -> set[int]:
    """All live descendants of ``pid`` (from /proc)."""
    parent: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    parts = f.read().rsplit(")", 1)[1].split()
                parent[int(d)] = int(parts[1])
            except (OSError, IndexError, ValueError):
                pass
    out: set[int] = set()
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in out]
        out.update(kids)
        frontier.extend(kids)
    return out


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line mentions ``text`` (our private temp dir is in the child's argv)."""
    hits = []
    needle = text.encode()
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != os.getpid():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if needle in f.read():
                        hits.append(int(d))
            except OSError:
                pass
    return hits


class Grader:
    """Grade fixture notebooks in-process, with a private temp dir and leftover checks."""

    def __init__(self, tmp: Path, level: str | None = None, timeout: float = 2.0):
        self.tmp = tmp
        self.level = level
        self.limits = Limits(call_timeout=timeout, load_timeout=6.0)
        self.sandbox_tmp = tmp / "sandbox-tmp"
        self.sandbox_tmp.mkdir()

    def __call__(self, path, **kw):
        from nnlite.grading.runner import grade_notebook

        kw.setdefault("graders_dir", GRADERS)
        kw.setdefault("isolation", self.level)
        kw.setdefault("limits", self.limits)
        saved = tempfile.tempdir
        tempfile.tempdir = str(self.sandbox_tmp)
        t0 = time.monotonic()
        try:
            rep = grade_notebook(path, **kw)
        finally:
            tempfile.tempdir = saved
        rep["_seconds"] = time.monotonic() - t0
        errors = validate_report({k: v for k, v in rep.items() if k != "_seconds"})
        assert errors == [], errors
        self.assert_clean()
        return rep

    def assert_clean(self) -> None:
        """No sandbox process or file left behind."""
        deadline = time.monotonic() + 5
        while True:
            # Sandboxes carry their private directory (under sandbox_tmp) in their argv. (Other
            # sandboxes of this test process, e.g. the plain-pytest grader sessions, may live on.)
            left = processes_mentioning(str(self.sandbox_tmp))
            if not left:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"leftover sandbox processes: {left}")
            time.sleep(0.05)
        assert list(self.sandbox_tmp.iterdir()) == [], list(self.sandbox_tmp.iterdir())


def _is_sandbox(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return False
    return b"_child.py" in cmd or b"unshare" in cmd


def exercise(rep: dict, name: str) -> dict:
    for ex in rep["exercises"]:
        if ex["name"] == name:
            return ex
    raise KeyError(name)
