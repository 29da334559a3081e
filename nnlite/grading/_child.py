"""Sandbox child: runs a student's definitions and serves calls over the data-only channel.

Started by :mod:`nnlite.grading.sandbox` as ``python -s -P -B _child.py CONFIG_JSON``. Standard
library only until the sandbox is in place; then it loads ``wire.py`` by file path (without
importing the ``nnlite`` package) and numpy. Everything this process says is *untrusted* by the
parent: student code runs in it and can rewrite any of it.
"""

import builtins
import ctypes
import fcntl
import json
import os
import resource
import sys

# The builtins as they were before any student code ran (R15). This module's functions (made
# below, so they capture it), the wire encoder and every grader function (a fresh copy each)
# resolve builtins there: a definition that patches builtins.all or builtins.isinstance does
# not change what a driver computes. (Library code imported before, such as json, keeps the
# real builtins: patching those breaks the student's own sandbox, never in their favour.)
_BUILTINS = dict(builtins.__dict__)
globals()["__builtins__"] = _BUILTINS

# ----------------------------------------------------------------------------- setup helpers

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18

_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _mount(src, tgt, fstype, flags, data=None):
    libc = _lib()
    libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    if libc.mount(enc(src), enc(tgt), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {src} on {tgt}: {os.strerror(err)}")


def _bind(root, path, writable=False, target=None):
    dst = root + (target or path)
    if os.path.isdir(path):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if not os.path.exists(dst):
            open(dst, "w").close()
    _mount(path, dst, None, MS_BIND | MS_REC)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV
    if not writable:
        flags |= MS_RDONLY
    _mount(None, dst, None, flags)


def _setup_namespaces(cfg):
    """Build a minimal root (tmpfs + read-only binds), chroot into it. Runs as root, PID 1."""
    root = cfg["root"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=755")
    # Scratch first: a bind below /tmp (a repository or venv cloned there) goes on top of it.
    _bind(root, cfg["scratch"], writable=True, target="/tmp")
    for link, target in cfg["symlinks"]:
        os.makedirs(os.path.dirname(root + link), exist_ok=True)
        os.symlink(target, root + link)
    for path in cfg["binds"]:
        if os.path.exists(path):
            _bind(root, path)
    # nnlite's copy for this exercise, over every path where the real package lives.
    for src, target in cfg["overlays"]:
        _bind(root, src, target=target)
    os.makedirs(root + "/dev", exist_ok=True)
    for dev in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"):
        if os.path.exists(dev):
            _bind(root, dev, writable=True)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir("/tmp")


def _set_limits(cfg):
    lim = cfg["limits"]
    pairs = [
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_CPU, lim["cpu"], lim["cpu"] + 1),
        (resource.RLIMIT_FSIZE, lim["fsize"], lim["fsize"]),
        (resource.RLIMIT_NOFILE, lim["nofile"], lim["nofile"]),
        (resource.RLIMIT_AS, lim["as"], lim["as"]),
        (resource.RLIMIT_MEMLOCK, 0, 0),
        (resource.RLIMIT_MSGQUEUE, 0, 0),
    ]
    for what, soft, hard in pairs:
        try:
            resource.setrlimit(what, (soft, hard))
        except (ValueError, OSError):
            cur_soft, cur_hard = resource.getrlimit(what)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
            resource.setrlimit(what, (min(soft, hard), hard))
    # No new processes or threads: the count of the child's uid is always >= 0. (Not enforced
    # for root, which is why the namespace level also drops to an unprivileged uid.)
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def _drop_privileges(uid):
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop privileges")


def _no_new_privs():
    PR_SET_NO_NEW_PRIVS = 38
    if _lib().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(NO_NEW_PRIVS)")


# Landlock (Linux >= 5.13): unprivileged filesystem, TCP and signal restrictions.
_SYS_LANDLOCK = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446)}
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_ALL_V1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15


def landlock_abi():
    """The Landlock ABI version offered by the kernel, or 0."""
    nums = _SYS_LANDLOCK.get(os.uname().machine)
    if nums is None:
        return 0
    try:
        abi = _lib().syscall(nums[0], None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except Exception:  # noqa: BLE001
        return 0
    return max(0, abi)


def _landlock(cfg, abi):
    """Allow reading/executing only the configured paths, writing only the scratch directory."""
    create, add_rule, restrict = _SYS_LANDLOCK[os.uname().machine]
    libc = _lib()
    fs = _FS_ALL_V1
    if abi >= 2:
        fs |= _FS_REFER
    if abi >= 3:
        fs |= _FS_TRUNCATE
    if abi >= 5:
        fs |= _FS_IOCTL_DEV
    net = 3 if abi >= 4 else 0  # BIND_TCP | CONNECT_TCP
    scoped = 3 if abi >= 6 else 0  # ABSTRACT_UNIX_SOCKET | SIGNAL
    if abi >= 6:
        attr = (ctypes.c_uint64 * 3)(fs, net, scoped)
    elif abi >= 4:
        attr = (ctypes.c_uint64 * 2)(fs, net)
    else:
        attr = (ctypes.c_uint64 * 1)(fs)
    rfd = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), 0)
    if rfd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    file_rights = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE
    if abi >= 3:
        file_rights |= _FS_TRUNCATE
    read = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

    def allow(path, rights):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not os.path.isdir(path):
                rights &= file_rights
            rule = PathBeneath(rights, fd)
            if libc.syscall(add_rule, rfd, 1, ctypes.byref(rule), 0) != 0:
                raise OSError(ctypes.get_errno(), f"landlock_add_rule {path}")
        finally:
            os.close(fd)

    for path in cfg["landlock_read"]:
        allow(path, read)
    for path in cfg["landlock_write"]:
        allow(path, fs)
    for dev in ("/dev/null", "/dev/zero"):
        allow(dev, _FS_READ_FILE | _FS_WRITE_FILE)
    allow("/dev/urandom", _FS_READ_FILE)
    _no_new_privs()
    if libc.syscall(restrict, rfd, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    os.close(rfd)


# ----------------------------------------------------------------------------- the server

wire = None
np = None
FD_IN = 62
FD_OUT = 63


def _read_exact(n):
    chunks = []
    while n:
        chunk = os.read(FD_IN, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _recv():
    length = wire.parse_header(_read_exact(wire.HEADER.size))
    header, lengths = wire.parse_json(_read_exact(length))
    blobs = [_read_exact(n) for n in lengths]
    return header, blobs


def _send(header, blobs=None):
    data = wire.pack(header, blobs)
    view = memoryview(data)
    while view:
        n = os.write(FD_OUT, view)
        view = view[n:]


def _exc_info(exc):
    names = []
    try:
        for cls in type(exc).__mro__:
            names.append(str(cls.__name__)[:100])
    except Exception:  # noqa: BLE001
        names = ["Exception"]
    try:
        message = str(exc)[:1000]
    except BaseException:  # noqa: BLE001
        message = ""
    info = {"types": names[:20], "message": message}
    if isinstance(exc, NameError):
        name = getattr(exc, "name", None)
        if isinstance(name, str):
            info["name"] = name[:200]
    return info


class _Missing(KeyError):
    pass


class StudentNamespace:
    """What a driver sees as ``ns``: the student's definitions, by item or attribute."""

    def __init__(self, ns):
        object.__setattr__(self, "_ns", ns)

    def __getitem__(self, name):
        try:
            return self._ns[name]
        except KeyError:
            raise _Missing(name) from None

    def __getattr__(self, name):
        return self[name]

    def __contains__(self, name):
        return name in self._ns

    def get(self, name, default=None):
        return self._ns.get(name, default)


def _driver_globals():
    return {"__builtins__": dict(_BUILTINS), "__name__": "nnlite_driver", "np": np, "numpy": np}


def _materialise(value):
    """Turn shipped grader functions into callables (only in requests from the parent)."""
    if isinstance(value, wire.SourceFunction):
        glb = _driver_globals()
        exec(compile(value.source, f"<grader {value.name}>", "exec"), glb)
        return glb[value.name]
    if type(value) is list:
        return [_materialise(v) for v in value]
    if type(value) is tuple:
        return tuple(_materialise(v) for v in value)
    if type(value) is dict:
        return {k: _materialise(v) for k, v in value.items()}
    return value


def _arrays(value, out):
    if isinstance(value, np.ndarray):
        out.append(value)
    elif type(value) in (list, tuple):
        for v in value:
            _arrays(v, out)
    elif type(value) is dict:
        for v in value.values():
            _arrays(v, out)
    return out


def _load(ns, units):
    errors = []
    for i, unit in enumerate(units):
        try:
            code = compile("\n" * (unit["line"] - 1) + unit["source"], unit["file"], "exec")
            exec(code, ns)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            errors.append({"unit": i, **_exc_info(exc)})
    return errors


def _respond_value(value, mutated, cap):
    blobs = []
    try:
        tree = wire.encode_value(value, blobs)
    except wire.WireError as exc:
        _send({"status": "bad_value", "reason": exc.reason, "mutated": mutated})
        return
    except RecursionError:
        _send({"status": "bad_value", "reason": "a value nested too deeply", "mutated": mutated})
        return
    if sum(len(b) for b in blobs) > cap:
        _send({"status": "bad_value", "reason": "too large", "mutated": mutated})
        return
    _send({"status": "ok", "value": tree, "mutated": mutated}, blobs)


def _serve(cfg):
    ns = {"__name__": "__main__", "__builtins__": builtins}
    cap = cfg["limits"]["result_bytes"]
    while True:
        try:
            req, blobs = _recv()
        except EOFError:
            return
        op = req.get("op")
        if op == "load":
            errors = _load(ns, req["units"])
            _send({"status": "loaded", "errors": errors})
            continue
        if op == "exit":
            return
        if op not in ("call", "run"):
            _send({"status": "protocol"})
            continue
        args = wire.decode_value(req["args"], blobs, allow_functions=True)
        kwargs = wire.decode_value(req["kwargs"], blobs, allow_functions=True)
        arrays = _arrays([args, kwargs], [])
        pristine = [(a.shape, a.dtype.str, a.tobytes()) for a in arrays]
        args = _materialise(args)
        kwargs = _materialise(kwargs)
        if op == "call":
            name = req["name"]
            if name not in ns:
                _send({"status": "missing", "name": name})
                continue
            func = ns[name]
            if not callable(func):
                _send({"status": "not_callable", "type": type(func).__name__[:100]})
                continue
        else:
            func = _materialise(wire.SourceFunction(req["driver"], req["source"]))
            args = [StudentNamespace(ns), *args]
        # Nothing of the request but the inputs stays reachable from this frame (R15).
        del req, blobs
        try:
            value = func(*args, **kwargs)
            raised = None
        except _Missing as exc:
            _send({"status": "missing", "name": str(exc.args[0])[:200]})
            continue
        except BaseException as exc:  # noqa: BLE001 - includes SystemExit, KeyboardInterrupt
            value, raised = None, _exc_info(exc)
        mutated = []
        for i, (arr, (shape, dt, data)) in enumerate(zip(arrays, pristine, strict=True)):
            try:
                if arr.shape != shape or arr.dtype.str != dt or arr.tobytes() != data:
                    mutated.append(i)
            except BaseException:  # noqa: BLE001
                mutated.append(i)
        if raised is not None:
            _send({"status": "raised", "exc": raised, "mutated": mutated})
        else:
            _respond_value(value, mutated, cap)


def main():
    global wire, np
    cfg = json.loads(sys.argv[1])
    # Park both channel ends above FD_IN/FD_OUT first: the inherited numbers may be 62 or 63
    # themselves (a parent with many open files), and a direct dup2 would clobber one end.
    parked = [fcntl.fcntl(cfg[k], fcntl.F_DUPFD, FD_OUT + 1) for k in ("fd_in", "fd_out")]
    for fd in {cfg["fd_in"], cfg["fd_out"]}:
        os.close(fd)
    os.dup2(parked[0], FD_IN)
    os.dup2(parked[1], FD_OUT)
    for fd in parked:
        os.close(fd)
    os.set_inheritable(FD_IN, False)
    os.set_inheritable(FD_OUT, False)
    features = []
    if cfg["mode"] == "namespaces":
        _setup_namespaces(cfg)
        features += ["pid-ns", "mount-ns", "net-ns", "minimal-root"]
    _set_limits(cfg)
    features.append("rlimits")
    if cfg["mode"] == "namespaces":
        _drop_privileges(cfg["uid"])
        features.append(f"uid-{cfg['uid']}")
    abi = landlock_abi() if cfg["landlock"] else 0
    if abi:
        _landlock(cfg, abi)
        features.append(f"landlock-abi{abi}")
    else:
        _no_new_privs()
    # First on sys.path: nnlite's copy wins over any installed nnlite.
    for path in reversed(cfg["syspath"]):
        sys.path.insert(0, path)
    import importlib.util

    spec = importlib.util.spec_from_file_location("_nnlite_wire", cfg["wire"])
    wire = importlib.util.module_from_spec(spec)
    wire.__dict__["__builtins__"] = _BUILTINS
    spec.loader.exec_module(wire)
    import numpy

    np = numpy
    _send({"status": "hello", "features": features, "uid": os.getuid(), "pid": os.getpid()})
    _serve(cfg)


if __name__ == "__main__":
    try:
        main()
    except BaseException as exc:  # noqa: BLE001
        # Setup failure (or a student killing the server loop): say so in the log only.
        try:
            os.write(2, f"nnlite sandbox child: {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
        os._exit(70)
    os._exit(0)
