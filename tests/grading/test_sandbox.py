"""What a sandbox child can see and do, at every isolation level available here (R3, R4, R11)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from gradingkit import available_levels, processes_mentioning

from nnlite.grading import wire
from nnlite.grading.sandbox import Limits, Sandbox, SandboxError, choose_isolation

REPO = Path(__file__).resolve().parents[2]

PROBE = r"""
import os, sys, resource, socket

def probe():
    out = {}
    out["uid"] = os.getuid()
    out["pid"] = os.getpid()
    out["ppid"] = os.getppid()
    out["cwd"] = os.getcwd()
    out["env"] = sorted(os.environ)
    out["path_env"] = os.environ.get("PATH", "")
    out["home"] = os.environ.get("HOME", "")
    lim = {}
    for name in ("CPU", "AS", "FSIZE", "NOFILE", "NPROC", "CORE"):
        name = "RLIMIT_" + name
        lim[name] = list(resource.getrlimit(getattr(resource, name)))
    out["limits"] = lim
    reads = {}
    for p in PATHS:
        try:
            if os.path.isdir(p):
                os.listdir(p)
            else:
                open(p, "rb").read(10)
            reads[p] = "ok"
        except OSError as e:
            reads[p] = type(e).__name__
    out["reads"] = reads
    try:
        open(WRITE_TARGET, "w").write("x")
        out["write_tmp"] = "ok"
    except OSError as e:
        out["write_tmp"] = type(e).__name__
    try:
        socket.create_connection(("127.0.0.1", 9), timeout=0.5)
        out["net"] = "ok"
    except OSError as e:
        out["net"] = type(e).__name__
    try:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        out["fork"] = "ok"
    except OSError as e:
        out["fork"] = type(e).__name__
    fds = []
    for fd in range(64):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            pass
    out["fds"] = fds
    out["threads"] = os.environ.get("OPENBLAS_NUM_THREADS")
    return out
"""


def unit(src: str) -> dict:
    return {"file": "<probe>", "line": 1, "source": src}


def call(box: Sandbox, name: str, *args, timeout: float | None = None):
    blobs: list[bytes] = []
    header = {
        "op": "call",
        "name": name,
        "args": wire.encode_value(list(args), blobs),
        "kwargs": {"$d": []},
    }
    resp, rblobs = box.request(header, blobs, timeout)
    assert resp["status"] == "ok", resp
    return wire.decode_value(resp["value"], rblobs)


SECRETS = [
    str(REPO / "solutions"),
    str(REPO / "tests" / "graders"),
    str(REPO / "tests" / "grading" / "fixture" / "solutions" / "99_fixture.ipynb"),
    str(REPO / ".git"),
    "/etc/shadow",
    "/root",
]


@pytest.fixture(params=available_levels())
def level(request):
    return request.param


def test_probe(level, monkeypatch):
    monkeypatch.setenv("NNLITE_TEST_SECRET", "s3cret")
    real_pkg = [str(REPO / "nnlite" / "__init__.py"), str(REPO / "nnlite" / "course" / "build.py")]
    paths = SECRETS + real_pkg
    target = str(REPO / "tests" / "grading" / "written-by-child")
    box = Sandbox(
        [unit(f"PATHS = {paths!r}\nWRITE_TARGET = {target!r}"), unit(PROBE)], level, Limits()
    )
    try:
        out = call(box, "probe")
        workdir = box.workdir
    finally:
        box.close()
    assert not Path(workdir).exists()
    env = set(out["env"])
    assert "NNLITE_TEST_SECRET" not in env
    assert env <= {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "LC_ALL",
        "PYTHONHASHSEED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "MPLBACKEND",
        "MPLCONFIGDIR",
        "LC_CTYPE",
    }
    assert out["threads"] == "1"
    lim = out["limits"]
    assert lim["RLIMIT_CORE"] == [0, 0]
    assert lim["RLIMIT_NPROC"] == [0, 0]
    assert lim["RLIMIT_AS"][0] == 4 << 30
    assert lim["RLIMIT_FSIZE"][0] == 8 << 20
    assert lim["RLIMIT_NOFILE"][0] == 64
    assert lim["RLIMIT_CPU"][0] == 120
    assert set(out["fds"]) <= {0, 1, 2, 62, 63}
    # R13: the child sees a copy of nnlite, not the package itself: under namespaces the copy
    # (without course/) is mounted at the package's path; under Landlock that path is unreadable.
    init, course = (out["reads"][p] for p in real_pkg)
    assert (init, course) == {
        "namespaces": ("ok", "FileNotFoundError"),
        "landlock": ("PermissionError", "PermissionError"),
        "process": ("ok", "ok"),
    }[level]
    if level == "namespaces":
        assert out["uid"] == 65534 and out["pid"] == 1 and out["ppid"] == 0
        assert out["cwd"] == "/tmp" and out["home"] == "/tmp"
        for p in SECRETS:
            assert out["reads"][p] != "ok", p
        assert out["net"] != "ok" and out["fork"] != "ok"
    elif level == "landlock":
        for p in SECRETS:
            assert out["reads"][p] != "ok", p
        assert out["write_tmp"] != "ok"
        assert out["net"] != "ok"
    else:
        assert out["cwd"] == out["home"]
        assert out["cwd"].startswith(str(Path(workdir)))
    if level != "process":  # a root child (forced fallback in this root test run) can write
        assert out["write_tmp"] != "ok" and not Path(target).exists()
    Path(target).unlink(missing_ok=True)


def test_child_is_replaced_after_death_and_timeout(level):
    box = Sandbox(
        [unit("import os, time\ndef die():\n    os._exit(5)\ndef hang():\n    time.sleep(100)")],
        level,
    )
    with pytest.raises(SandboxError) as info:
        call(box, "die")
    assert info.value.kind == "died" and "exit status 5" in info.value.detail
    assert not box.alive
    box = Sandbox([unit("import time\ndef hang():\n    time.sleep(100)")], level)
    t0 = time.monotonic()
    with pytest.raises(SandboxError) as info:
        call(box, "hang", timeout=0.5)
    assert info.value.kind == "timeout" and time.monotonic() - t0 < 3
    assert not box.alive


def test_no_leftovers_after_kill(level, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    src = "import os, time\ndef spin():\n    while True:\n        pass"
    boxes = [Sandbox([unit(src)], level) for _ in range(3)]
    pids = []
    for b in boxes:
        b.wait_ready()
        pids.append(b.proc.pid)
    for b in boxes:
        with pytest.raises(SandboxError):
            call(b, "spin", timeout=0.3)
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists()
            or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
        )
    assert processes_mentioning(str(tmp_path)) == []
    assert list(tmp_path.iterdir()) == []


def test_sandbox_dies_with_the_grader(tmp_path, monkeypatch):
    """PR_SET_PDEATHSIG: a grader killed by SIGKILL takes its sandboxes with it."""
    import subprocess
    import sys
    import tempfile

    script = (
        "import sys, time\n"
        "from nnlite.grading.sandbox import Sandbox\n"
        "b = Sandbox([{'file': 'x', 'line': 1, 'source': 'x = 1'}], sys.argv[1])\n"
        "b.wait_ready()\n"
        "print(b.proc.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    level = available_levels()[0]
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, level], stdout=subprocess.PIPE, cwd=REPO, text=True, env=env
    )
    child = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        try:
            if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
                break
        except OSError:
            break
        time.sleep(0.05)
    alive = (
        Path(f"/proc/{child}").exists()
        and Path(f"/proc/{child}/stat").read_text().split()[2] != "Z"
    )
    assert not alive
    # The killed grader could not remove its sandbox directory: the next grader sweeps it.
    (stale,) = list(tmp_path.iterdir())
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    Sandbox([unit("x = 1")], level).close()
    assert list(tmp_path.iterdir()) == []


def test_forced_levels(monkeypatch):
    monkeypatch.setenv("NNLITE_GRADING_ISOLATION", "process")
    assert choose_isolation() == "process"
    assert choose_isolation("auto") == available_levels()[0]
    with pytest.raises(SandboxError):
        choose_isolation("bogus")
    if os.geteuid() != 0:
        with pytest.raises(SandboxError):
            choose_isolation("namespaces")


def test_mutation_is_detected_in_the_child(level):
    import numpy as np

    box = Sandbox([unit("def f(x, y):\n    x[0] = 99\n    return y.sum()")], level)
    try:
        blobs: list[bytes] = []
        args = wire.encode_value([np.zeros(3), np.ones(2)], blobs)
        resp, _ = box.request(
            {"op": "call", "name": "f", "args": args, "kwargs": {"$d": []}}, blobs
        )
        assert resp["status"] == "ok" and resp["mutated"] == [0]
    finally:
        box.close()


@pytest.mark.parametrize("first_free", [58, 59, 60, 61, 62, 63, 64])
def test_channel_survives_a_parent_with_many_open_files(level, first_free):
    # The channel's pipe ends are inherited under whatever numbers the parent gets; when
    # those are the child's own channel numbers (62, 63) the ends must not clobber each other.
    held = []
    try:
        while True:
            fd = os.open(os.devnull, os.O_RDONLY)
            if fd >= first_free - 1:
                os.close(fd)
                break
            held.append(fd)
        box = Sandbox([unit("def double(x):\n    return 2 * x")], level)
        try:
            assert call(box, "double", 21) == 42
        finally:
            box.close()
    finally:
        for fd in held:
            os.close(fd)
