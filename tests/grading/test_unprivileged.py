"""The fallback levels as they really happen: the grader itself running as an unprivileged user.

The test suite runs as root, where the "process" and "landlock" levels can only be forced (and a
root child ignores RLIMIT_NPROC). Here the CLI runs as uid 65534 in a private mount namespace
(root's Python, under /root (mode 700), is re-mounted so that uid can run it), grading a folder
of adversarial notebooks in parallel; every report must match the case table.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import test_adversarial as adv
from gradingkit import processes_mentioning

from nnlite.grading.report import validate_report
from nnlite.grading.sandbox import _landlock_abi

REPO = Path(__file__).resolve().parents[2]
GRADERS = REPO / "tests" / "grading" / "fixture" / "graders"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root to set up"
    ),
]

# Cases whose outcome does not depend on privileges; `kills_everything_it_can` never runs here
# (kill(-1) as a shared uid outside a PID namespace would hit other processes of that uid).
SKIP = {"kills_everything_it_can"}


def _run_unprivileged(
    folder: Path, out: Path, tmpdir: Path, level: str, uid: int = 65534, home: Path | None = None
) -> subprocess.CompletedProcess:
    prefix = Path(sys.base_prefix).resolve()
    stage = Path(tempfile.mkdtemp(prefix="nnlite-stage-"))
    inner = [
        sys.executable, "-m", "nnlite", "grade", str(folder), "--graders", str(GRADERS),
        "-j", "2", "--timeout", "2", "--isolation", level, "--out", str(out),
    ]  # fmt: skip
    if str(prefix).startswith("/root/"):
        setup = (
            f"mount --bind {prefix} {stage} && mount -t tmpfs -o mode=755 tmpfs /root && "
            f"mkdir -p {prefix} && mount --move {stage} {prefix} && "
        )
    else:
        setup = ""
    cmd = (
        setup + f"cd {REPO} && exec setpriv --reuid={uid} --regid={uid} --clear-groups "
        f"--inh-caps=-all --bounding-set=-all env -i PATH=/usr/bin:/bin HOME={home or tmpdir} "
        f"TMPDIR={tmpdir} " + " ".join(inner)
    )
    try:
        return subprocess.run(
            ["unshare", "--mount", "--", "sh", "-c", cmd],
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        stage.rmdir()


@pytest.mark.parametrize("level", ["landlock", "process"])
def test_unprivileged_batch(level):
    if level == "landlock" and _landlock_abi() == 0:
        pytest.skip("no Landlock")
    base = Path(tempfile.mkdtemp(prefix="nnlite-unpriv-"))
    try:
        os.chmod(base, 0o755)
        folder, out, tmpdir, build = base / "subs", base / "out", base / "tmp", base / "build"
        for d in (folder, out, tmpdir):
            d.mkdir()
            os.chmod(d, 0o777)
        build.mkdir()
        cases = {}
        for case in adv.CASES:
            if case.id in SKIP or level not in ("landlock", "process"):
                continue
            sub = build / case.id
            sub.mkdir()
            src = adv._build(case, sub)
            dst = folder / f"99_fixture-{case.id}.ipynb"
            shutil.copy(src, dst)
            os.chmod(dst, 0o644)
            cases[case.id] = case
        res = _run_unprivileged(folder, out, tmpdir, level)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        for cid, case in cases.items():
            rep = json.loads((out / f"99_fixture-{cid}.json").read_text())
            assert validate_report(rep) == []
            case_for_level = case
            if cid in ("forks", "fork_bomb_bounded", "threads"):
                # As a non-root uid, RLIMIT_NPROC = 0 stops fork and threads at every level.
                case_for_level = adv.Case(cid, None, case.expect, case.message)
            try:
                adv._check(rep, case_for_level, level)
            except AssertionError as exc:
                raise AssertionError(f"{cid}: {exc}") from None
        assert list(tmpdir.iterdir()) == []
        assert processes_mentioning(str(base)) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)
        Path(adv.MARKER).unlink(missing_ok=True)
