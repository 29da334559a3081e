"""Students apart and the host protected (issue 9, items 9, 10, 12), at every isolation level
available here: System V IPC, total disk use, signals to other processes, sockets, ptrace,
writes outside the scratch directory, and cleanup of what a sandbox leaves."""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from gradingkit import available_levels
from test_sandbox import call, unit

from nnlite.grading import wire
from nnlite.grading.sandbox import (
    Limits,
    Sandbox,
    SandboxError,
    _force_rmtree,
    _remove_shm_created_by,
)

LEVELS = available_levels()
LIBC = ctypes.CDLL(None, use_errno=True)
IPC_CREAT, IPC_RMID = 0o1000, 0


def _shm_keys() -> set[int]:
    lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {int(line.split()[0]) for line in lines}


def _box(level: str, src: str, **limits) -> Sandbox:
    return Sandbox([unit(src)], level, Limits(call_timeout=10, **limits))


def _failure(box: Sandbox, name: str, *args) -> SandboxError:
    blobs: list[bytes] = []
    header = {"op": "call", "name": name, "args": wire.encode_value(list(args), blobs)}
    header["kwargs"] = {"$d": []}
    with pytest.raises(SandboxError) as info:
        box.request(header, blobs)
    return info.value


# ----------------------------------------------------------------------------- item 9: IPC

SHM = """
import ctypes
def make(key):
    libc = ctypes.CDLL(None, use_errno=True)
    shmid = libc.shmget(key, 1 << 20, 0o1000 | 0o666)
    return "created" if shmid >= 0 else "errno %d" % ctypes.get_errno()

def find(key):
    libc = ctypes.CDLL(None, use_errno=True)
    shmid = libc.shmget(key, 0, 0o666)
    return "found" if shmid >= 0 else "errno %d" % ctypes.get_errno()
"""


@pytest.mark.parametrize("level", LEVELS)
def test_shared_memory_is_neither_shared_nor_left_behind(level):
    key = 0x6E6E0000 + os.getpid() % 0xFFFF
    a, b = _box(level, SHM), _box(level, SHM)
    try:
        made = call(a, "make", key)
        found = call(b, "find", key)  # another student's sandbox, alive at the same time
    finally:
        a.close()
        b.close()
    if os.uname().machine == "x86_64":
        assert made == "errno 1"  # seccomp: EPERM at every level
    assert found != "found"  # else: an IPC namespace each (namespaces), or removed at close
    assert key not in _shm_keys()


def test_shm_created_by_a_pid_is_removed():
    key = 0x6E6F0000 + os.getpid() % 0xFFFF
    shmid = LIBC.shmget(key, 4096, IPC_CREAT | 0o600)
    assert shmid >= 0
    try:
        assert key in _shm_keys()
        _remove_shm_created_by(os.getpid() + 1_000_000)  # someone else's: untouched
        assert key in _shm_keys()
        _remove_shm_created_by(os.getpid())
        assert key not in _shm_keys()
    finally:
        LIBC.shmctl(shmid, IPC_RMID, None)


# ----------------------------------------------------------------------------- item 10: disk

FILL = """
import os
def fill(n, size):
    written = 0
    for i in range(n):
        try:
            with open("f%d" % i, "wb") as fh:
                fh.write(b"x" * size)
            written += 1
        except OSError:
            pass
    return written

def many(n):
    made = 0
    for i in range(n):
        try:
            open("e%d" % i, "wb").close()
            made += 1
        except OSError:
            pass
    return made
"""


@pytest.mark.parametrize("level", LEVELS)
def test_total_disk_use_is_bounded_with_a_reason(level):
    box = _box(level, FILL, disk=16 << 20)
    try:
        if level == "process":
            # No write reaches the file system at all at this level.
            assert call(box, "fill", 40, 4 << 20) == 0
            return
        err = _failure(box, "fill", 40, 4 << 20)  # 160 MiB in 4 MiB files (each under FSIZE)
        assert err.kind == "died"
        assert err.detail.startswith("disk limit exceeded") and "16 MiB" in err.detail
    finally:
        box.close()
    assert not Path(box.workdir).exists()


@pytest.mark.parametrize("level", [lv for lv in LEVELS if lv != "process"])
def test_file_count_is_bounded(level):
    box = _box(level, FILL, inodes=300)
    try:
        err = _failure(box, "many", 5000)
        assert err.detail == "disk limit exceeded: the sandbox created more than 300 files"
    finally:
        box.close()


@pytest.mark.parametrize("level", LEVELS)
def test_writing_within_the_budget_works(level):
    box = _box(level, FILL, disk=16 << 20)
    try:
        expected = 0 if level == "process" else 3
        assert call(box, "fill", 3, 1 << 20) == expected
    finally:
        box.close()


# ----------------------------------------------------------------------------- item 12

HOSTILE = """
import ctypes, os, signal, socket

def _try(f):
    try:
        f()
        return "ok"
    except OSError as e:
        return type(e).__name__

def signals(pid):
    out = {"kill": _try(lambda: os.kill(pid, signal.SIGKILL))}
    out["killpg"] = _try(lambda: os.killpg(pid, signal.SIGKILL))
    libc = ctypes.CDLL(None, use_errno=True)
    def sys(nr, *a):
        if libc.syscall(nr, *a) != 0:
            raise OSError(ctypes.get_errno(), "denied")
    out["tgkill"] = _try(lambda: sys(234, pid, pid, signal.SIGKILL))
    out["tkill"] = _try(lambda: sys(200, pid, signal.SIGKILL))
    out["pidfd"] = _try(lambda: os.pidfd_open(pid))
    out["self"] = _try(lambda: os.kill(os.getpid(), 0))
    return out

def sockets(path):
    def unix():
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(1)
        s.connect(path)
    def pair():
        socket.socketpair()
    def tcp():
        socket.create_connection(("127.0.0.1", 9), timeout=0.5)
    return {"unix": _try(unix), "pair": _try(pair), "tcp": _try(tcp)}

def ptrace(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    r = libc.ptrace(16, pid, None, None)  # PTRACE_ATTACH
    return "ok" if r == 0 else "errno %d" % ctypes.get_errno()

def writes(folder):
    target = os.path.join(folder, "planted")
    out = {"open": _try(lambda: open(target, "w").write("x"))}
    out["mkdir"] = _try(lambda: os.mkdir(target + "-dir"))
    out["symlink"] = _try(lambda: os.symlink("/", target + "-link"))
    out["chmod"] = _try(lambda: os.chmod(os.path.join(folder, "victim"), 0o777))
    out["rename"] = _try(lambda: os.rename(os.path.join(folder, "victim"), target + "-moved"))
    out["unlink"] = _try(lambda: os.unlink(os.path.join(folder, "victim")))
    out["read"] = _try(lambda: open(os.path.join(folder, "victim")).read())
    return out

def hide():
    os.makedirs("a/b/c")
    open("a/b/c/f", "w").write("x")
    return [_try(lambda: os.chmod("a/b", 0)), _try(lambda: os.chmod(".", 0))]
"""


@pytest.mark.parametrize("level", LEVELS)
def test_no_signals_to_other_processes(level):
    victim = subprocess.Popen(["sleep", "60"], start_new_session=True)
    box = _box(level, HOSTILE)
    try:
        out = call(box, "signals", victim.pid)
        for what in ("kill", "killpg", "tgkill", "tkill", "pidfd"):
            assert out[what] != "ok", (what, out)
        assert out["self"] == "ok"  # signalling itself still works
        assert victim.poll() is None
        assert call(box, "ptrace", victim.pid).startswith("errno")
    finally:
        box.close()
        victim.kill()
        victim.wait()


@pytest.mark.parametrize("level", LEVELS)
def test_no_sockets_of_any_family(level):
    folder = Path(tempfile.mkdtemp(prefix="nnlite-sock-"))
    os.chmod(folder, 0o755)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(folder / "agent.sock"))
    os.chmod(folder / "agent.sock", 0o777)
    srv.listen(1)
    srv.settimeout(0.3)
    box = _box(level, HOSTILE)
    try:
        out = call(box, "sockets", str(folder / "agent.sock"))
        assert out == {"unix": out["unix"], "pair": "PermissionError", "tcp": "PermissionError"}
        assert out["unix"] in ("PermissionError", "FileNotFoundError")
        with pytest.raises(TimeoutError):
            srv.accept()  # nobody connected
    finally:
        box.close()
        srv.close()
        _force_rmtree(folder)


@pytest.mark.parametrize("level", LEVELS)
def test_no_writes_outside_scratch(level):
    folder = Path(tempfile.mkdtemp(prefix="nnlite-home-"))
    os.chmod(folder, 0o777)
    (folder / "victim").write_text("keep")
    os.chmod(folder / "victim", 0o666)
    box = _box(level, HOSTILE)
    try:
        out = call(box, "writes", str(folder))
        for what in ("open", "mkdir", "symlink", "chmod", "rename", "unlink"):
            assert out[what] in ("PermissionError", "FileNotFoundError"), (what, out)
        assert sorted(p.name for p in folder.iterdir()) == ["victim"]
        assert (folder / "victim").read_text() == "keep"
        if level == "process":
            assert out["read"] == "ok"  # reading is not prevented at this level (documented)
    finally:
        box.close()
        _force_rmtree(folder)


def test_force_rmtree_opens_up_unreadable_folders(tmp_path):
    # As an unprivileged owner (root ignores permissions): run the removal as uid 65533.
    if os.geteuid() != 0:
        pytest.skip("needs root to switch uid")
    base = Path(tempfile.mkdtemp(prefix="nnlite-rm-"))
    os.chmod(base, 0o777)
    victim = base / "work"
    (victim / "a" / "b" / "c").mkdir(parents=True)
    (victim / "a" / "b" / "c" / "f").write_text("x")
    subprocess.run(["chown", "-R", "65533:65533", str(victim)], check=True)
    os.chmod(victim / "a" / "b", 0)
    os.chmod(victim / "a", 0)
    code = (
        "import sys; sys.path.insert(0, sys.argv[2]); "
        "from nnlite.grading.sandbox import _force_rmtree; _force_rmtree(sys.argv[1])"
    )
    repo = str(Path(__file__).resolve().parents[2])
    try:
        r = subprocess.run(
            ["setpriv", "--reuid=65533", "--regid=65533", "--clear-groups",
             sys.executable, "-c", code, str(victim), repo],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert not victim.exists()
    finally:
        subprocess.run(["rm", "-rf", str(base)], check=False)


@pytest.mark.parametrize("level", LEVELS)
def test_unreadable_scratch_folders_are_removed(level):
    box = _box(level, HOSTILE)
    try:
        if level != "process":  # (no folders can be made at the process level)
            assert call(box, "hide") == ["PermissionError"] * 2  # seccomp: no chmod
    finally:
        box.close()
    assert not Path(box.workdir).exists()


def test_features_name_the_filters():
    for level in LEVELS:
        box = _box(level, "x = 1")
        try:
            box.wait_ready()
            feats = box.features
        finally:
            box.close()
        if os.uname().machine == "x86_64":
            assert ("seccomp-no-writes" in feats) == (level == "process"), feats
            assert any(f.startswith("seccomp") for f in feats), feats
        if level == "namespaces":
            assert "ipc-ns" in feats, feats


@pytest.mark.parametrize("level", LEVELS)
def test_matplotlib_still_imports(level):
    # It needs a config folder it can name; at the process level none can be created.
    pytest.importorskip("matplotlib")
    src = "import matplotlib.pyplot as plt\ndef axes():\n    return len(plt.figure().axes)"
    box = Sandbox([unit(src)], level, Limits(call_timeout=30, load_timeout=30))
    try:
        assert call(box, "axes", timeout=30) == 0
    finally:
        box.close()
