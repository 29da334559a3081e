"""Own work (R13): the copy of nnlite a sandbox sees, with the graded exercise's code taken out.

``nnlite/`` implements every exercise of the course (the lessons fall back to it). While an
exercise is graded, the student's code must not be able to use that implementation: not by
importing it, not through an object that contains or calls it, not by reading its source. So
each sandbox gets its own *redacted copy* of the package instead of the real one: the objects a
grader file lists for the exercise in ``OWN_WORK`` are replaced by stubs that raise
:class:`OwnWorkError`, and their source text is not in the copy.

A grader file declares, per exercise, the nnlite objects that implement it or contain it::

    OWN_WORK = {
        "linear": ["nnlite.nn:Linear", "nnlite.functional:linear"],
        "backward": ["nnlite.tensor:Tensor.backward", "nnlite.tensor:_reverse_topological_order"],
    }

An entry is ``module:qualname``: a function, a class (every method of it becomes a stub and
instantiating it raises), a method (``Class.method``), or a module-level name bound by an
assignment (``exp = _method("exp")``, replaced by a stub function). Everything in nnlite that
*calls* a redacted object fails with the same error, so a container (``nnlite.nn.MLP`` calling
``Linear``, a fallback calling ``nnlite.train.fit``) needs no entry of its own; an object that
re-implements the exercise inline does.

The copy holds the package's modules (not ``course/``, and of ``grading/`` only ``wire.py``,
which the child needs), never a ``__pycache__``. Building it costs a parse per redacted
module; the result is cached here per (package content, entries), and writing it into a
sandbox's directory is a few small files.
"""

from __future__ import annotations

import ast
import copy
import functools
import hashlib
import os
import re
from pathlib import Path

from nnlite.grading.errors import GraderError

ERROR_NAME = "OwnWorkError"
HELPER_MODULE = "_own_work.py"
_HELPER = f'''"""Raised by nnlite's stand-ins while an exercise that they implement is graded."""


class {ERROR_NAME}(RuntimeError):
    """nnlite's own version of the exercise being graded was called: write your own."""


def unavailable(name, grade_id):
    return {ERROR_NAME}(
        f"nnlite's {{name}} is not available while exercise `{{grade_id}}` is graded: "
        "write your own"
    )
'''
_SKIP_DIRS = {"__pycache__", "course"}
_KEEP_IN_GRADING = {"wire.py"}


def parse_entry(entry: str) -> tuple[str, str]:
    """``"nnlite.nn:Linear"`` → ``("nnlite.nn", "Linear")``; GraderError when malformed."""
    if not isinstance(entry, str) or entry.count(":") != 1:
        raise GraderError(f"OWN_WORK entry {entry!r} must look like 'nnlite.module:qualname'")
    module, qualname = entry.split(":")
    parts = module.split(".")
    if parts[0] != "nnlite" or not all(p.isidentifier() for p in parts):
        raise GraderError(f"OWN_WORK entry {entry!r}: the module must be nnlite or a submodule")
    if not qualname or not all(p.isidentifier() for p in qualname.split(".")):
        raise GraderError(f"OWN_WORK entry {entry!r}: bad qualified name {qualname!r}")
    return module, qualname


def display_name(entry: str) -> str:
    """``"nnlite.tensor:Tensor.backward"`` → ``"nnlite.tensor.Tensor.backward"``."""
    module, qualname = parse_entry(entry)
    return f"{module}.{qualname}"


def _module_file(module: str) -> str:
    """The package-relative path of a module: nnlite.nn → nn.py, nnlite → __init__.py."""
    parts = module.split(".")[1:]
    return "/".join(parts) + ".py" if parts else "__init__.py"


def _signature(root: Path) -> tuple:
    """What identifies the package's content cheaply: (path, size, mtime) of its files."""
    sig = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        rel = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            if rel.split(os.sep)[0] == "grading" and name not in _KEEP_IN_GRADING:
                continue
            st = os.stat(os.path.join(dirpath, name))
            sig.append((os.path.normpath(os.path.join(rel, name)), st.st_size, st.st_mtime_ns))
    return tuple(sig)


_signatures: dict[str, tuple] = {}


def _cached_signature(root: Path) -> tuple:
    """The package's signature, computed once per process (nnlite does not change while a
    grader runs; a changed file in a long-lived process is picked up by a new process)."""
    key = str(root)
    if key not in _signatures:
        _signatures[key] = _signature(root)
    return _signatures[key]


@functools.lru_cache(maxsize=8)
def _read_package(root: str, signature: tuple) -> dict[str, bytes]:
    return {rel: Path(root, rel).read_bytes() for rel, _size, _mtime in signature}


@functools.lru_cache(maxsize=64)
def _redacted(root: str, signature: tuple, entries: tuple[str, ...], grade_id: str):
    files = dict(_read_package(root, signature))
    by_file: dict[str, list[tuple[str, str]]] = {}
    for entry in entries:
        module, qualname = parse_entry(entry)
        rel = _module_file(module)
        if rel not in files:
            raise GraderError(f"OWN_WORK entry {entry!r}: nnlite has no module {module}")
        by_file.setdefault(rel, []).append((entry, qualname))
    for rel, items in by_file.items():
        files[rel] = _redact_module(files[rel].decode("utf-8"), items, grade_id).encode("utf-8")
    files[HELPER_MODULE] = _HELPER.encode("utf-8")
    digest = hashlib.sha256(repr((signature, entries, grade_id)).encode()).hexdigest()[:16]
    return files, digest


def package_copy(root: str | Path, entries: list[str], grade_id: str) -> dict[str, bytes]:
    """The files (package-relative path → bytes) of nnlite's copy for one exercise."""
    root = Path(root)
    sig = _cached_signature(root)
    return _redacted(str(root), sig, tuple(sorted(set(entries))), grade_id)[0]


def write_copy(files: dict[str, bytes], dest: Path) -> None:
    """Write a package copy below ``dest`` (read-only files, directories 0755)."""
    dest.mkdir(mode=0o755)
    made = {dest}
    for rel, data in files.items():
        path = dest / rel
        parent = path.parent
        if parent not in made:
            parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            made.add(parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


# ----------------------------------------------------------------------------- the transform


def _stub_body(entry: str, grade_id: str) -> list[ast.stmt]:
    text = f"raise _nnlite_unavailable({display_name(entry)!r}, {grade_id!r})"
    return ast.parse(text).body


def _stub_function(node: ast.FunctionDef | ast.AsyncFunctionDef, entry: str, grade_id: str):
    node.body = _stub_body(entry, grade_id)


def _stub_class(node: ast.ClassDef, entry: str, grade_id: str) -> None:
    has_init = False
    for child in ast.walk(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            _stub_function(child, entry, grade_id)
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name in ("__init__", "__new__"):
            has_init = True
    # A docstring or class-level data may describe or hold the implementation: drop them.
    node.body = [s for s in node.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)]
    if not has_init:
        init = ast.parse("def __init__(self, *args, **kwargs):\n    pass").body[0]
        _stub_function(init, entry, grade_id)
        node.body.insert(0, init)


def _find(body: list[ast.stmt], name: str) -> tuple[int, ast.stmt] | None:
    """The last top-level statement of ``body`` that binds ``name`` (def, class, assignment)."""
    hit = None
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if stmt.name == name:
                hit = (i, stmt)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                hit = (i, stmt)
    return hit


@functools.lru_cache(maxsize=32)
def _parse(source: str) -> ast.Module:
    return ast.parse(source)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """Index of the last line of the block whose header is ``lines[start]`` (0-based)."""
    end = start
    for j in range(start + 1, len(lines)):
        text = lines[j]
        if not text.strip():
            continue
        if len(text) - len(text.lstrip()) <= indent and not text.lstrip().startswith(")"):
            break
        end = j
    return end


def _locate_fast(lines: list[str], qualname: str) -> tuple[ast.stmt, int] | None:
    """Find a definition by its text and parse only its own block: (node, line offset to add
    to the node's line numbers), or None: then the whole module is parsed."""
    lo, hi, pad = 0, len(lines), ""
    parts = qualname.split(".")
    for k, part in enumerate(parts):
        head = re.compile(
            rf"^{pad}(?:(?:async\s+)?def|class)\s+{part}\b|^{pad}{part}\s*(?::[^=]*)?=(?!=)"
        )
        hits = [j for j in range(lo, hi) if head.match(lines[j])]
        if not hits:
            return None
        first = hits[-1]
        while first > lo and lines[first - 1].startswith(pad + "@"):
            first -= 1
        last = _block_end(lines, hits[-1], len(pad))
        if k < len(parts) - 1:  # a class: look inside it, one indentation deeper
            inner = [ln for ln in lines[hits[-1] + 1 : last + 1] if ln.strip()]
            if not lines[hits[-1]].startswith(pad + "class") or not inner:
                return None
            lo, hi, pad = hits[-1] + 1, last + 1, _indent(inner[0])
            continue
        segment = "\n".join(ln[len(pad) :] for ln in lines[first : last + 1])
        try:
            body = ast.parse(segment).body
        except SyntaxError:
            return None
        return (body[0], first) if len(body) == 1 else None
    return None


def _locate_slow(source: str, entry: str, qualname: str) -> tuple[ast.stmt, int]:
    parts = qualname.split(".")
    body = _parse(source).body
    for part in parts[:-1]:
        found = _find(body, part)
        if found is None or not isinstance(found[1], ast.ClassDef):
            raise GraderError(f"OWN_WORK entry {entry!r}: no class {part} there")
        body = found[1].body
    found = _find(body, parts[-1])
    if found is None:
        raise GraderError(f"OWN_WORK entry {entry!r}: nnlite does not define {qualname}")
    return found[1], 0


def _redact_module(source: str, items: list[tuple[str, str]], grade_id: str) -> str:
    """The module's source with each item's lines replaced by a stub (text splicing: the
    rest of the file keeps its exact text and line numbers)."""
    lines = source.split("\n")
    edits: list[tuple[int, int, list[str]]] = []  # (first line, last line, replacement), 1-based
    for entry, qualname in items:
        node, off = _locate_fast(lines, qualname) or _locate_slow(source, entry, qualname)
        first = off + min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        last = off + (node.end_lineno or node.lineno)
        pad = _indent(lines[off + node.lineno - 1])
        name = qualname.split(".")[-1]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
            node.body[0].lineno > node.lineno and node.body[0].col_offset > 0
        ):
            # Keep the signature (decorators, defaults); replace the body, docstring included.
            body_pad = _indent(lines[off + node.body[0].lineno - 1])
            stub = ast.unparse(_stub_body(entry, grade_id)[0])
            edits.append((off + node.body[0].lineno, last, [body_pad + stub]))
            continue
        node = copy.deepcopy(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _stub_function(node, entry, grade_id)
        elif isinstance(node, ast.ClassDef):
            _stub_class(node, entry, grade_id)
        else:  # an assignment: the name becomes a stub function
            node = ast.parse(f"def {name}(*args, **kwargs):\n    pass").body[0]
            _stub_function(node, entry, grade_id)
        text = ast.unparse(ast.fix_missing_locations(node)).split("\n")
        edits.append((first, last, [pad + t if t else t for t in text]))
    # Apply from the bottom up; an edit inside another one (a method of a redacted class) goes.
    edits.sort(key=lambda e: (e[0], -e[1]))
    kept: list[tuple[int, int, list[str]]] = []
    for e in edits:
        if kept and e[1] <= kept[-1][1]:
            continue
        kept.append(e)
    for first, last, repl in reversed(kept):
        lines[first - 1 : last] = repl
    # The stubs look the helper up when called, never while the module is imported.
    lines.append("from nnlite._own_work import unavailable as _nnlite_unavailable  # noqa: E402")
    return "\n".join(lines) + "\n"
