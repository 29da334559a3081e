"""Parent side of the sandbox: start, talk to, time out and clean up one child per exercise.

Isolation levels (reported in every grading report as ``isolation``):

``namespaces``
    The grader runs as root (CI, an instructor's grading box). Each child is started through
    ``unshare --fork --pid --mount --net --ipc --kill-child``: a PID namespace (the child is PID
    1, so killing it kills everything it spawned), no network (an empty network namespace), its
    own System V IPC namespace (nothing shared with other sandboxes or left behind), and a
    private mount namespace in which the child ``chroot``s into a minimal root: a read-only
    tmpfs holding only read-only binds of ``/usr`` (and the ``/lib``-style symlinks), the Python
    installation(s), the ``nnlite`` package directory, ``/dev/{null,zero,urandom,random}``, a
    fresh ``/proc`` and a scratch tmpfs at ``/tmp`` (``Limits.disk`` bytes, ``Limits.inodes``
    files; it never touches the host's disk). The repository's ``tests/``,
    ``solutions/`` and ``.git`` and every other file of the machine simply do not exist there;
    the package directory shows the exercise's redacted copy of nnlite (R13, ownwork.py).
    The child then drops to uid/gid 65534 (no groups, no capabilities, ``no_new_privs``), and,
    when the kernel offers Landlock, restricts itself further.
``landlock``
    No privileges, but a Landlock-capable kernel: filesystem access limited to reading the
    Python installation (minus an nnlite installed in it) and the exercise's copy of ``nnlite``,
    and writing the scratch directory; TCP bind/connect
    denied (ABI >= 4); signals and abstract unix sockets outside the sandbox denied (ABI >= 6).
``process``
    Neither: everything else is kept (minimal environment, scratch working directory,
    rlimits, no new processes for a non-root uid, a new session killed as a whole), but the
    child runs as the grading user and can read what that user can read (``import nnlite``
    finds the redacted copy, but the real package's files stay readable by path). Writing
    files is denied outright by the seccomp filter (below), the only thing that keeps the
    child out of the user's files (``~/.bashrc``, the output folder) at this level.

Every level applies: wall-clock timeout per call enforced here with SIGKILL; rlimits for CPU
time, address space, file size, open files, processes (0) and core dumps; BLAS/OpenMP threads
1; a minimal environment; stdout/stderr to a size-capped log file; the channel on dedicated
pipes carrying only :mod:`nnlite.grading.wire` frames; a budget for the scratch directory as a
whole (outside the namespaces level the parent measures it every 0.1 s and after each answer,
and kills the child past it: "disk limit exceeded"); on x86_64 a seccomp filter (see
``_child.py``: signals only to itself, no sockets, ptrace, io_uring, System V IPC, changes of
file metadata or administrative calls); cleanup that restores permissions the child removed
and, without an IPC namespace, removes the shared memory it created.

Force a level with the environment variable ``NNLITE_GRADING_ISOLATION`` (``namespaces``,
``landlock`` or ``process``) or ``python -m nnlite grade --isolation LEVEL``; the default,
``auto``, picks the strongest available.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from nnlite.grading import wire
from nnlite.grading.ownwork import package_copy, write_copy

CHILD_SCRIPT = Path(__file__).with_name("_child.py")
SANDBOX_UID = 65534
LEVELS = ("namespaces", "landlock", "process")
# PID, mount, network and System V IPC namespaces (the child's shared memory, semaphores and
# message queues vanish with it and are invisible to other sandboxes).
_UNSHARE_FLAGS = ("--fork", "--pid", "--mount", "--net", "--ipc", "--kill-child")
TMP_PREFIX = "nnlite-grade-"


@dataclasses.dataclass
class Limits:
    """Resource limits of one sandbox child."""

    call_timeout: float = 5.0  # wall-clock seconds per call (the parent kills the child)
    start_timeout: float = 30.0  # seconds for the child to start (before any student code)
    load_timeout: float = 15.0  # seconds to load the notebook's definitions
    cpu: int = 120  # RLIMIT_CPU, seconds over the child's whole life
    address_space: int = 4 << 30  # RLIMIT_AS, bytes
    file_size: int = 8 << 20  # RLIMIT_FSIZE, bytes (also caps the stdout/stderr log)
    disk: int = 64 << 20  # all files in the scratch directory together, bytes
    inodes: int = 4096  # files and folders in the scratch directory
    open_files: int = 64  # RLIMIT_NOFILE
    result_bytes: int = 64 << 20  # largest answer accepted back over the channel
    max_timeouts: int = 2  # after this many timeouts, an exercise's other tests are not run


class SandboxError(Exception):
    """The child could not deliver an answer. ``kind`` says why; ``detail`` is safe text.

    kinds: ``timeout``, ``died`` (killed by a signal or exited), ``garbage`` (malformed or
    oversized message), ``start`` (the sandbox could not start: a fault of the grader host).
    """

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


# ----------------------------------------------------------------------------- isolation


@functools.cache
def _namespaces_available() -> bool:
    if os.geteuid() != 0 or sys.platform != "linux":
        return False
    unshare = shutil.which("unshare") or (
        "/usr/bin/unshare" if Path("/usr/bin/unshare").exists() else None
    )
    if unshare is None:
        return False
    try:
        r = subprocess.run(
            [unshare, *_UNSHARE_FLAGS, "--", "/bin/true"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            env={"PATH": "/usr/bin:/bin"},
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


@functools.cache
def _landlock_abi() -> int:
    if sys.platform != "linux":
        return 0
    try:
        import importlib.util

        spec = importlib.util.spec_from_file_location("_nnlite_child_probe", CHILD_SCRIPT)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return int(mod.landlock_abi())
    except Exception:  # noqa: BLE001
        return 0


def choose_isolation(requested: str | None = None) -> str:
    """The isolation level to use: ``requested``, else $NNLITE_GRADING_ISOLATION, else auto.

    Asking for a level stronger than the host allows raises :class:`SandboxError`.
    """
    level = (requested or os.environ.get("NNLITE_GRADING_ISOLATION") or "auto").strip().lower()
    if level == "auto":
        if _namespaces_available():
            return "namespaces"
        return "landlock" if _landlock_abi() > 0 else "process"
    if level not in LEVELS:
        raise SandboxError(
            "start", f"unknown isolation level {level!r}; use {', '.join(LEVELS)} or auto"
        )
    if level == "namespaces" and not _namespaces_available():
        raise SandboxError("start", "isolation 'namespaces' needs root and unshare(1)")
    if level == "landlock" and _landlock_abi() == 0:
        raise SandboxError("start", "isolation 'landlock' needs a kernel with Landlock")
    return level


def _package_dirs() -> list[str]:
    """The nnlite package this grader runs from (first: the child runs its _child.py and
    wire.py), then any other directory ``import nnlite`` resolves to."""
    dirs = [str(Path(__file__).resolve().parent.parent)]
    try:
        import nnlite

        for p in getattr(nnlite, "__path__", []):
            q = str(Path(p).resolve())
            if q not in dirs:
                dirs.append(q)
    except ImportError:
        pass
    return dirs


def _python_paths() -> list[str]:
    """Directories the child needs to read to run Python with numpy and nnlite."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    exe = Path(sys.executable)
    paths.add(str(exe.parent))
    try:
        paths.add(str(exe.resolve().parent.parent))
    except OSError:
        pass
    try:
        import numpy

        paths.add(str(Path(numpy.__file__).resolve().parent.parent))
    except Exception:  # noqa: BLE001
        pass
    out = sorted({str(Path(p).resolve()) for p in paths if p and Path(p).exists()})
    # Drop paths nested in another listed path.
    return [p for p in out if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in out)]


@functools.lru_cache(maxsize=4)
def _readable_except(roots: tuple[str, ...], excluded: tuple[str, ...]) -> list[str]:
    """Paths that together cover ``roots`` minus the ``excluded`` directories below them."""
    out: list[str] = []

    def cover(path: str) -> None:
        inside = [e for e in excluded if e.startswith(path.rstrip("/") + "/")]
        if path in excluded:
            return
        if not inside:
            out.append(path)
            return
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return
        for name in names:
            cover(os.path.join(path, name))

    for root in roots:
        cover(root)
    return out


def _system_layout() -> tuple[list[str], list[tuple[str, str]]]:
    """Read-only binds and symlinks for the minimal root: /usr, /lib*, /bin, ld.so.cache."""
    binds, links = [], []
    for name in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"):
        p = Path(name)
        if p.is_symlink():
            links.append((name, os.readlink(name)))
        elif p.is_dir():
            binds.append(name)
    for name in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"):
        if Path(name).exists():
            binds.append(name)
    return binds, links


# ----------------------------------------------------------------------------- the sandbox


def _minimal_env(home: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "VECLIB_MAXIMUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        # An existing folder: at the process level no folder can be created (seccomp), and
        # matplotlib refuses to import without a config folder it can name.
        "MPLCONFIGDIR": home,
    }


_SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}

_live_lock = threading.Lock()
_live: set[Sandbox] = set()


def kill_all() -> None:
    """Kill every sandbox child this process started (used at exit and by the CLI)."""
    with _live_lock:
        boxes = list(_live)
    for box in boxes:
        box.close()


class Sandbox:
    """One child process serving one exercise's calls.

    Usage: ``box = Sandbox(units, level, limits)`` starts the child and sends the definitions;
    ``box.call(...)`` / ``box.run(...)`` return the decoded response dict or raise
    :class:`SandboxError`; ``box.close()`` kills the child and removes its files. After a
    ``SandboxError`` of kind timeout/died/garbage the child is dead: make a new Sandbox.
    """

    def __init__(
        self,
        units: list[dict[str, Any]],
        level: str,
        limits: Limits | None = None,
        package: dict[str, bytes] | None = None,
    ):
        self.level = level
        self.package = package
        self.limits = limits or Limits()
        self.units = units
        self.features: list[str] = []
        self.load_errors: list[dict[str, Any]] = []
        self.proc: subprocess.Popen | None = None
        self._ready = False
        self._disk_reason = ""
        self._next_disk_check = 0.0
        self._init_pid: int | None = None
        self._closed = False
        _sweep_stale_workdirs()
        self.workdir = tempfile.mkdtemp(prefix=TMP_PREFIX)
        Path(self.workdir, "owner").write_text(_OWNER)
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        with _live_lock:
            _live.add(self)

    # -- lifecycle ---------------------------------------------------------------------------

    def _start(self) -> None:
        work = Path(self.workdir)
        scratch = work / "scratch"
        scratch.mkdir(mode=0o700)
        (work / "root").mkdir(mode=0o755)
        pkg_dirs = _package_dirs()
        ns = self.level == "namespaces"
        # The child sees a copy of nnlite (R13: the graded exercise's code redacted, see
        # ownwork.py), never the real package: under namespaces the copy is mounted over every
        # path the package has on this host; otherwise the copy alone is readable.
        libdir = work / "lib"
        libdir.mkdir(mode=0o755)
        copy = libdir / "nnlite"
        write_copy(self.package or package_copy(pkg_dirs[0], [], ""), copy)
        # The data files (no code) are shared: a symlink, or a mount under namespaces.
        data_dir = Path(pkg_dirs[0], "datafiles")
        extra_reads: list[str] = []
        overlays = [(str(copy), d) for d in pkg_dirs]
        if data_dir.is_dir():
            if ns:
                (copy / "datafiles").mkdir()
                overlays += [(str(data_dir), str(Path(d, "datafiles"))) for d in pkg_dirs]
            else:
                os.symlink(data_dir, copy / "datafiles")
                extra_reads.append(str(data_dir))
        if ns:
            # The package's parent directory holds only the package in the child's root.
            syspath = [str(Path(pkg_dirs[0]).parent)]
            lib_paths: list[str] = []
            wire_path = str(Path(pkg_dirs[0], "grading", "wire.py"))
        else:
            syspath = [str(libdir)]
            overlays = []
            lib_paths = [str(libdir)]
            wire_path = str(copy / "grading" / "wire.py")
        if ns:
            os.chown(scratch, SANDBOX_UID, SANDBOX_UID)
            os.chmod(work, 0o711)
        lim = self.limits
        log_path = work / "output.log"
        log = open(log_path, "wb")  # noqa: SIM115 - closed below, after the spawn
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        sys_binds, sys_links = _system_layout()
        py_paths = _python_paths()
        # Landlock rules only add access: a real nnlite inside the Python installation
        # (site-packages) is left out by allowing that directory's other entries one by one.
        read_paths = _readable_except(tuple(py_paths), tuple(pkg_dirs))
        read_paths = sorted(set(read_paths + sys_binds + lib_paths + extra_reads))
        if ns:  # inside the child's root, these paths hold the copy
            read_paths = sorted(set(read_paths + pkg_dirs + syspath))
        cfg = {
            "mode": "namespaces" if ns else "process",
            "fd_in": req_r,
            "fd_out": resp_w,
            "root": str(work / "root"),
            "scratch": str(scratch),
            "binds": sorted(set(sys_binds + py_paths + extra_reads)),
            "overlays": overlays,
            "symlinks": sys_links,
            "uid": SANDBOX_UID,
            "syspath": syspath,
            "wire": wire_path,
            "landlock": self.level in ("namespaces", "landlock"),
            "landlock_read": read_paths,
            "landlock_write": ["/tmp"] if ns else [str(scratch)],
            "disk": int(lim.disk),
            "inodes": int(lim.inodes),
            # Without Landlock nothing else keeps the child out of the user's files.
            "seccomp": "no-writes" if self.level == "process" else "deny",
            "limits": {
                "cpu": int(lim.cpu),
                "as": int(lim.address_space),
                "fsize": int(lim.file_size),
                "nofile": int(lim.open_files),
                "result_bytes": int(lim.result_bytes),
            },
        }
        argv = [sys.executable, "-s", "-P", "-B", str(CHILD_SCRIPT), json.dumps(cfg)]
        if ns:
            unshare = shutil.which("unshare") or "/usr/bin/unshare"
            argv = [unshare, *_UNSHARE_FLAGS, "--", *argv]
        env = _minimal_env("/tmp" if ns else str(scratch))
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=str(scratch),
                env=env,
                pass_fds=(req_r, resp_w),
                start_new_session=True,
                close_fds=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
            log.close()
        self._wfd = req_w
        self._rfd = resp_r
        os.set_blocking(self._wfd, False)
        # Send the definitions right away: the child loads them while the parent goes on.
        self._send({"op": "load", "units": self.units}, [], time.monotonic() + lim.start_timeout)

    def wait_ready(self) -> None:
        """Wait for the child's hello, then for the result of loading the definitions.

        Raises SandboxError ``start`` (the sandbox itself failed: a host problem; no student
        code had run yet), or ``load_timeout`` / ``load_died`` / ``load_garbage`` (the
        notebook's definitions hung or crashed the child while loading).
        """
        if self._ready:
            return
        try:
            hello, _ = self._recv(time.monotonic() + self.limits.start_timeout)
            if hello.get("status") != "hello":
                self._fail("garbage", "the sandbox sent an unexpected message")
        except SandboxError as exc:
            tail = ""
            try:
                tail = (Path(self.workdir) / "output.log").read_text(errors="replace")[-800:]
            except OSError:
                pass
            self.close()
            raise SandboxError("start", f"{exc.kind}: {exc.detail} {tail}".strip()) from None
        feats = hello.get("features")
        if isinstance(feats, list):
            self.features = [str(f)[:40] for f in feats[:20]]
        try:
            loaded, _ = self._recv(time.monotonic() + self.limits.load_timeout)
            if loaded.get("status") != "loaded" or not isinstance(loaded.get("errors"), list):
                self._fail("garbage", "the sandbox sent an unexpected message")
        except SandboxError as exc:
            raise SandboxError(f"load_{exc.kind}", exc.detail) from None
        self.load_errors = [e for e in loaded["errors"] if isinstance(e, dict)]
        self._ready = True

    @property
    def alive(self) -> bool:
        return not self._closed and self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Kill the child (and everything it started) and remove its files. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with _live_lock:
            _live.discard(self)
        for fd in (getattr(self, "_wfd", None), getattr(self, "_rfd", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self.proc is not None:
            self._kill()
            if self.level != "namespaces":
                # Without an IPC namespace: segments it created outlive it (seccomp denies
                # creating them on x86_64; this covers the other architectures).
                _remove_shm_created_by(self.proc.pid)
        _force_rmtree(self.workdir)

    def _kill(self) -> None:
        proc = self.proc
        assert proc is not None
        inits: list[int] = []
        if proc.poll() is None:
            if self.level == "namespaces":
                # Kill the namespace's init first: unshare then reaps it and exits itself.
                inits = _children(proc.pid)
                for pid in inits:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        # A loaded machine can take a moment to finish an init that unshare did not reap.
        deadline = time.monotonic() + 2
        while any(_proc_alive(pid) for pid in inits) and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.level != "namespaces":
            try:  # anything left in the session (a non-root child cannot fork: belt and braces)
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

    def _death_reason(self) -> str:
        if self._disk_reason:
            return self._disk_reason
        proc = self.proc
        assert proc is not None
        try:
            code = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "the process stopped answering"
        if self.level == "namespaces" and code >= 128:
            code = -(code - 128)  # unshare reports the child's signal as 128 + signo
        if code < 0:
            sig = -code
            name = _SIGNAL_NAMES.get(sig, "")
            if sig == signal.SIGXCPU:
                return "CPU time limit exceeded (process killed by signal SIGXCPU)"
            if sig == signal.SIGXFSZ:
                return "output size limit exceeded (process killed by signal SIGXFSZ)"
            return f"process killed by signal {sig}" + (f" ({name})" if name else "")
        if code == 70:
            return "the sandbox process failed"
        return f"the process exited (exit status {code}) during the call"

    def _fail(self, kind: str, detail: str) -> None:
        if kind == "died":
            detail = self._death_reason()
        self.close()
        raise SandboxError(kind, detail)

    # -- framing -----------------------------------------------------------------------------

    def _send(self, header: dict, blobs: list[bytes], deadline: float) -> None:
        data = memoryview(wire.pack(header, blobs))
        while data:
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail("timeout", "")
            w = _wait(self._wfd, select.POLLOUT, min(left, 0.1))
            self._check_disk()
            if not w:
                if self.proc is not None and self.proc.poll() is not None:
                    self._fail("died", "")
                continue
            try:
                n = os.write(self._wfd, data[: 1 << 16])
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                self._fail("died", "")
            data = data[n:]

    def _read(self, n: int, deadline: float, cap: int) -> bytes:
        if n > cap:
            self._fail("garbage", "too large")
        chunks: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0:
                self._fail("timeout", "")
            r = _wait(self._rfd, select.POLLIN, min(left, 0.1))
            self._check_disk()
            if not r:
                continue
            chunk = os.read(self._rfd, min(n, 1 << 20))
            if not chunk:
                self._fail("died", "")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _recv(self, deadline: float) -> tuple[dict, list[bytes]]:
        try:
            prefix = self._read(wire.HEADER.size, deadline, 16)
            length = wire.parse_header(prefix)
            header, lengths = wire.parse_json(self._read(length, deadline, wire.MAX_JSON))
            total = sum(lengths)
            if total > self.limits.result_bytes + (1 << 20):
                self._fail("garbage", "too large")
            blobs = [self._read(n, deadline, total) for n in lengths]
        except wire.WireError as exc:
            self._fail("garbage", exc.reason)
        self._check_disk(now=True)  # an answer given after filling the disk does not count
        return header, blobs

    # -- disk ------------------------------------------------------------------------------

    def _check_disk(self, now: bool = False) -> None:
        """Kill the child once its scratch files exceed the budget (checked every 0.1 s while
        waiting for it, and after each answer); the reason becomes the call's failure."""
        t = time.monotonic()
        if not now and t < self._next_disk_check:
            return
        self._next_disk_check = t + 0.1
        reason = self._disk_usage_problem()
        if reason:
            self._disk_reason = reason
            self._fail("died", "")

    def _disk_usage_problem(self) -> str:
        lim = self.limits
        mib = f"{lim.disk / (1 << 20):g} MiB"
        if self.level == "namespaces":
            # The scratch tmpfs is bounded by the kernel; full means the budget was reached.
            if self._init_pid is None and self.proc is not None:
                kids = _children(self.proc.pid)
                self._init_pid = kids[0] if kids else None
            if self._init_pid is None:
                return ""
            try:
                st = os.statvfs(f"/proc/{self._init_pid}/root/tmp")
            except OSError:
                return ""
            if st.f_bfree == 0:
                return f"disk limit exceeded: the sandbox's files filled its {mib} of scratch space"
            if st.f_ffree == 0:
                return f"disk limit exceeded: the sandbox created more than {lim.inodes} files"
            return ""
        used, count = _tree_usage(Path(self.workdir) / "scratch", lim.inodes + 1)
        if count > lim.inodes:
            return f"disk limit exceeded: the sandbox created more than {lim.inodes} files"
        if used > lim.disk:
            return f"disk limit exceeded: the sandbox wrote more than {mib} of files"
        return ""

    # -- requests ----------------------------------------------------------------------------

    def request(
        self, header: dict, blobs: list[bytes], timeout: float | None = None
    ) -> tuple[dict, list[bytes]]:
        """Send one call/run request and return the raw response (header, blobs)."""
        if self._closed:
            raise SandboxError("died", "the sandbox is closed")
        self.wait_ready()
        deadline = time.monotonic() + (timeout or self.limits.call_timeout)
        self._send(header, blobs, deadline)
        return self._recv(deadline)


try:
    import ctypes

    _LIBC = ctypes.CDLL(None, use_errno=True)
    _PRCTL = _LIBC.prctl
    _SHMCTL = _LIBC.shmctl
except Exception:  # noqa: BLE001
    _PRCTL = _SHMCTL = None


def _proc_start(pid: int | str) -> str:
    """A process's start time (field 22 of /proc/PID/stat), to tell a live owner from a reused
    pid; "" when the process does not exist."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


_OWNER = f"{os.getpid()} {_proc_start(os.getpid())}"
_swept: set[str] = set()


def _sweep_stale_workdirs() -> None:
    """Remove sandbox directories left by a grader that was killed (SIGKILL skips cleanup):
    those whose owner process is gone. Once per temp directory and process."""
    tmp = tempfile.gettempdir()
    if tmp in _swept:
        return
    _swept.add(tmp)
    try:
        entries = [e for e in os.scandir(tmp) if e.name.startswith(TMP_PREFIX) and e.is_dir()]
    except OSError:
        return
    for e in entries:
        try:
            pid, start = Path(e.path, "owner").read_text().split()
        except (OSError, ValueError):
            continue  # not ours, or being created right now
        if _proc_start(pid) != start:
            _force_rmtree(e.path)


def _tree_usage(root: Path, max_entries: int) -> tuple[int, int]:
    """(bytes allocated, entries) below ``root``, links not followed; stops counting at
    ``max_entries``. A folder the child made unreadable is opened up first (we own it)."""
    used, count = 0, 0
    todo = [str(root)]
    while todo and count < max_entries:
        d = todo.pop()
        try:
            entries = list(os.scandir(d))
        except PermissionError:
            try:
                os.chmod(d, 0o700)
                entries = list(os.scandir(d))
            except OSError:
                continue
        except OSError:
            continue
        for e in entries:
            count += 1
            try:
                st = e.stat(follow_symlinks=False)
            except OSError:
                continue
            used += st.st_blocks * 512
            if e.is_dir(follow_symlinks=False):
                todo.append(e.path)
    return used, count


def _force_rmtree(path: str | Path) -> None:
    """Remove a sandbox's directory even where the child took permissions away (a folder set
    to mode 000 stops shutil.rmtree for a grader that is not root)."""
    for _ in range(4):
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return
        try:
            os.chmod(path, 0o700)
        except OSError:
            return
        for dirpath, dirnames, _ in os.walk(path):
            for d in dirnames:
                full = os.path.join(dirpath, d)
                if not os.path.islink(full):
                    try:
                        os.chmod(full, 0o700)
                    except OSError:
                        pass


def _remove_shm_created_by(pid: int) -> None:
    """IPC_RMID every System V shared-memory segment whose creator was ``pid``."""
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return
    for line in lines:
        f = line.split()
        if len(f) > 4 and f[4] == str(pid) and _SHMCTL is not None:
            _SHMCTL(int(f[1]), 0, None)  # IPC_RMID


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """PR_SET_PDEATHSIG(SIGKILL): if the grader dies, its sandboxes die with it."""
    if _PRCTL is not None:
        _PRCTL(1, 9, 0, 0, 0)


def _wait(fd: int, event: int, timeout: float) -> bool:
    """poll() one fd (select() cannot take fds >= 1024); True when ready or hung up."""
    p = select.poll()
    p.register(fd, event)
    return bool(p.poll(max(0, int(timeout * 1000))))


def _proc_alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]
