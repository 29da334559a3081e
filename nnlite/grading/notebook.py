"""Notebook intake and the definition rule (R5, R6), all without executing anything.

The trusted parent only *parses* student code (``ast.parse``); it never compiles it to code
objects, execs or imports it. What it sends to the sandbox child is the source text of the
selected top-level statements.

Definition rule (documented for students in CONTRIBUTING.md): from every code cell keep only
top-level ``import`` / ``from ... import``, ``def`` / ``async def``, ``class``, and assignments
(plain, annotated with a value, augmented) whose statement contains no call (the body of a
``lambda`` does not count: ``relu = lambda x: np.maximum(x, 0)`` is a definition). Targets may be
names, attributes or subscripts (``Tensor.__add__ = tensor_add`` augments ``Tensor``).
Everything else (expressions, loops, ``if``/``try``/``with`` blocks, calls) is skipped.
IPython magics are neutralised first: lines starting with ``!`` or ``%`` (and ``x = !cmd``)
become ``pass``; a cell starting with ``%%`` is skipped. A cell with a syntax error is skipped
whole. When a name is defined in several cells, the last definition wins.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import re
import stat
import symtable
from pathlib import Path
from typing import Any

# Bounds on the work one notebook can cause (parsing and analysis are linear in these; a
# lesson's solution has about 32 KB of code in 200 top-level statements). Parsing 256 KB of the
# densest code takes about a second.
MAX_NOTEBOOK_BYTES = 20 * 1024 * 1024  # the file, outputs included
MAX_CELL_CHARS = 64 * 1024  # one code cell; a larger cell is skipped with a warning
MAX_CODE_CHARS = 256 * 1024  # all code cells together; more: the notebook is not graded
MAX_STATEMENTS = 5000  # top-level statements analysed; later cells are skipped with a warning
MAX_CELLS = 5000


@dataclasses.dataclass
class Cell:
    index: int  # 1-based position among *all* cells, as Jupyter shows it
    source: str
    too_large: bool = False  # over MAX_CELL_CHARS: not parsed; what it defines scores 0


@dataclasses.dataclass
class Notebook:
    path: str
    cells: list[Cell]
    lesson: str | None  # from metadata.nnlite.lesson, if any
    error: str | None = None  # the notebook could not be read at all
    warnings: list[str] = dataclasses.field(default_factory=list)


# ----------------------------------------------------------------------------- intake


def _source_text(src: Any) -> str:
    if isinstance(src, str):
        return src
    if isinstance(src, list) and all(isinstance(s, str) for s in src):
        return "".join(src)
    return ""


def _lenient_cells(data: Any) -> tuple[list[tuple[str, str]], dict, int | None]:
    """(cell_type, source) pairs, metadata and format version from a parsed JSON document
    (nbformat v4 ``cells`` or v3 ``worksheets[].cells[].input``)."""
    if not isinstance(data, dict):
        raise ValueError("not a notebook")
    fmt = data.get("nbformat") if type(data.get("nbformat")) is int else None
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    raw: list[Any] = []
    if isinstance(data.get("cells"), list):
        raw = data["cells"]
    elif isinstance(data.get("worksheets"), list):
        for ws in data["worksheets"]:
            if isinstance(ws, dict) and isinstance(ws.get("cells"), list):
                raw.extend(ws["cells"])
    elif "cells" not in data and "worksheets" not in data:
        raise ValueError("not a notebook")
    out = []
    for cell in raw:
        if not isinstance(cell, dict):
            continue
        ctype = cell.get("cell_type")
        src = cell.get("source", cell.get("input", ""))
        out.append((ctype if isinstance(ctype, str) else "", _source_text(src)))
    return out, meta, fmt


def read_notebook(path: str | Path, max_bytes: int = MAX_NOTEBOOK_BYTES) -> Notebook:
    """Read a notebook for grading. Never raises for a bad file: sets ``error`` instead."""
    path = Path(path)
    nb = Notebook(path=str(path), cells=[], lesson=None)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                nb.error = f"not a regular file ({file_kind(st.st_mode)}): not read"
                return nb
            size = st.st_size
            if size > max_bytes:
                mib = 1024 * 1024
                nb.error = (
                    f"the notebook is too large ({size // mib} MiB; limit {max_bytes // mib} MiB)"
                )
                return nb
            data = f.read(max_bytes + 1)
    except OSError as exc:
        nb.error = f"cannot read the notebook file ({type(exc).__name__})"
        return nb
    if len(data) > max_bytes:
        nb.error = "the notebook is too large"
        return nb
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        nb.error = "the notebook is not UTF-8 text; is it really a .ipynb file?"
        return nb
    # The JSON is read here rather than with nbformat: importing nbformat (jsonschema and its
    # format checkers) costs about a second, half the grading budget, and its validation
    # rejects notebooks that other editors save with a missing field. Only code cells' sources
    # matter for grading; v4 and v3 (worksheets/input) layouts are both understood.
    try:
        data_obj = json.loads(text)
    except (ValueError, RecursionError):
        nb.error = "the notebook is not valid JSON; open it in Jupyter and save it again"
        return nb
    except MemoryError:
        nb.error = "the notebook could not be read"
        return nb
    try:
        pairs, meta, fmt = _lenient_cells(data_obj)
    except (ValueError, RecursionError):
        nb.error = "the file is JSON but not a Jupyter notebook"
        return nb
    if fmt is not None and fmt not in (3, 4):
        nb.warnings.append(f"unexpected notebook format version {fmt}; graded what could be read")
    if len(pairs) > MAX_CELLS:
        nb.error = f"the notebook has too many cells ({len(pairs)})"
        return nb
    total = 0
    for i, (ctype, src) in enumerate(pairs, start=1):
        if ctype == "code":
            if len(src) > MAX_CELL_CHARS:
                nb.warnings.append(
                    f"cell {i} is too large to grade ({_kib(len(src))}; the limit is "
                    f"{_kib(MAX_CELL_CHARS)} per cell) and was skipped"
                )
                nb.cells.append(Cell(i, src, too_large=True))
                continue
            total += len(src)
            nb.cells.append(Cell(i, src))
    if total > MAX_CODE_CHARS:
        nb.cells = []
        nb.error = (
            f"the notebook holds too much code to grade ({_kib(total)} in its code cells; the "
            f"limit is {_kib(MAX_CODE_CHARS)}): remove pasted data or generated code"
        )
        return nb
    try:
        lesson = meta.get("nnlite", {}).get("lesson")
        if isinstance(lesson, str) and re.fullmatch(r"\d\d_[A-Za-z0-9_]+", lesson):
            nb.lesson = lesson
    except AttributeError:
        pass
    return nb


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words (for "skipped" messages)."""
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def _kib(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} characters"


# ----------------------------------------------------------------------------- lessons

_LESSON_RE = re.compile(r"^(\d\d)(?:[_-]([A-Za-z0-9_]*?))?(?=$|[-_ .(]|[A-Za-z])")


def lesson_from_filename(name: str, known: list[str]) -> str | None:
    """Which known lesson a file name refers to: ``01_autograd-alice (1).ipynb`` → 01_autograd.

    An exact ``NN_topic`` prefix wins; otherwise the two-digit number alone, if unique.
    """
    stem = Path(name).name
    if stem.lower().endswith(".ipynb"):
        stem = stem[: -len(".ipynb")]
    for lesson in sorted(known, key=len, reverse=True):
        if stem == lesson or (stem.startswith(lesson) and not stem[len(lesson)].isalnum()):
            return lesson
    m = re.match(r"^(\d\d)(?!\d)", stem)
    if not m:
        return None
    same = [k for k in known if k[:2] == m.group(1)]
    return same[0] if len(same) == 1 else None


# ----------------------------------------------------------------------------- magics


_MAGIC_LINE = re.compile(r"^(\s*)(?:[!%]|[A-Za-z_][A-Za-z0-9_]*\s*=\s*[!%])")


def neutralise_magics(source: str) -> str | None:
    """Replace IPython magic/shell lines by ``pass``; None for a ``%%`` cell magic."""
    stripped = source.lstrip()
    if stripped.startswith("%%"):
        return None
    lines = source.split("\n")
    for i, line in enumerate(lines):
        m = _MAGIC_LINE.match(line)
        if m:
            lines[i] = m.group(1) + "pass"
    return "\n".join(lines)


# ----------------------------------------------------------------------------- analysis


@dataclasses.dataclass
class Unit:
    """One kept top-level statement."""

    cell: int
    line: int
    source: str
    defines: tuple[str, ...]  # names it binds
    augments: tuple[str, ...]  # names whose attributes/items it sets (X.a = ..., X[k] = ...)
    uses: frozenset[str]
    dotted_import: bool = False  # `import a.b` (binds a, adds a.b)
    star: bool = False  # `from m import *`

    @property
    def position(self) -> tuple[int, int]:
        return (self.cell, self.line)

    def wire(self) -> dict[str, Any]:
        return {"file": f"<cell {self.cell}>", "line": self.line, "source": self.source}


@dataclasses.dataclass
class BrokenCell:
    cell: int
    line: int
    names: frozenset[str]

    too_large: bool = False

    def message(self) -> str:
        if self.too_large:
            return (
                f"cell {self.cell} is too large to grade (over {_kib(MAX_CELL_CHARS)}): "
                "move data out of the code cell"
            )
        return f"cell {self.cell} has a syntax error (line {self.line}): fix it so the cell runs"


@dataclasses.dataclass
class Selection:
    """What the sandbox of one exercise loads."""

    units: list[Unit]
    missing: list[str]  # required names defined nowhere
    broken: dict[str, BrokenCell]  # required or needed names whose latest definition is broken


def _has_call(node: ast.AST) -> bool:
    """Whether evaluating ``node`` calls something (a lambda's body is not evaluated)."""
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Call):
            return True
        if isinstance(n, ast.Lambda):
            todo.extend(n.args.defaults)
            todo.extend(d for d in n.args.kw_defaults if d is not None)
            continue
        todo.extend(ast.iter_child_nodes(n))
    return False


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _global_uses(stmt: ast.stmt) -> set[str] | None:
    """The module-level names a def/class statement refers to, by Python's scoping rules: a
    function's parameters and locals are not globals (``def f(model): return model`` needs no
    global ``model``). None when the statement cannot be analysed (then every name counts)."""
    try:
        table = symtable.symtable(ast.unparse(stmt), "<unit>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    names: set[str] = set()
    todo = [table]
    while todo:
        t = todo.pop()
        for sym in t.get_symbols():
            module_level = t.get_type() == "module"
            if sym.is_referenced() and (module_level or sym.is_global()):
                names.add(sym.get_name())
            elif sym.is_declared_global() and sym.is_assigned():
                names.add(sym.get_name())  # `global X; X = ...` changes a module name
        todo.extend(t.get_children())
    return names


def _target_roots(target: ast.AST, defines: list[str], augments: list[str]) -> bool:
    """Classify assignment targets; False when a target is not a plain name/attr/item."""
    if isinstance(target, ast.Name):
        defines.append(target.id)
        return True
    if isinstance(target, ast.Tuple | ast.List):
        return all(_target_roots(t, defines, augments) for t in target.elts)
    if isinstance(target, ast.Starred):
        return _target_roots(target.value, defines, augments)
    if isinstance(target, ast.Attribute | ast.Subscript):
        node = target
        while isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        if isinstance(node, ast.Name):
            augments.append(node.id)
            return True
    return False


_DEF_GUESS = re.compile(
    r"^(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)|^([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)",
    re.M,
)
_IMPORT_STMT = re.compile(r"(?:import|from)\s")
_IMPORT_GUESS = re.compile(r"^(?:from\s+\S+\s+)?import\s+(.+)$", re.M)


def _guess_names(source: str) -> frozenset[str]:
    """Names a cell that does not parse appears to define (column-0 def/class/assignments)."""
    names = set()
    for m in _DEF_GUESS.finditer(source):
        names.add(m.group(1) or m.group(2))
    for m in _IMPORT_GUESS.finditer(source):
        for part in m.group(1).split(","):
            part = part.strip().strip("()")
            bits = part.split()
            if len(bits) == 3 and bits[1] == "as":
                names.add(bits[2])
            elif bits:
                names.add(bits[0].split(".")[0])
    return frozenset(n for n in names if n.isidentifier())


def _segment(lines: list[str], encoded: dict[int, bytes], node: ast.stmt) -> str | None:
    """The source text of ``node`` (what ast.get_source_segment gives), in time linear in the
    segment's own lines: ``encoded`` caches each line's UTF-8 bytes across calls."""
    end_line, end_col = node.end_lineno, node.end_col_offset
    if end_line is None or end_col is None or end_line > len(lines):
        return None

    def line(i: int) -> bytes:
        if i not in encoded:
            encoded[i] = lines[i].encode("utf-8")
        return encoded[i]

    first, last = node.lineno - 1, end_line - 1
    if first == last:
        return line(first)[node.col_offset : end_col].decode("utf-8", "replace")
    parts = [line(first)[node.col_offset :]]
    parts += [line(i) for i in range(first + 1, last)]
    parts.append(line(last)[:end_col])
    return b"\n".join(parts).decode("utf-8", "replace")


class Program:
    """The kept definitions of a notebook, and which of them each exercise needs."""

    def __init__(self, cells: list[Cell]):
        self.units: list[Unit] = []
        self.broken: list[BrokenCell] = []
        self.skipped_names: set[str] = set()  # names only bound by statements that are skipped
        self.identifiers: set[str] = set()  # every identifier of the parsed code (safe to show)
        self.warnings: list[str] = []
        self._statements = 0
        for cell in cells:
            if self._statements >= MAX_STATEMENTS:
                if not self.warnings:
                    self._over_cap(cell.index)
                break
            self._add_cell(cell)
        self._defs: dict[str, list[int]] = {}
        self._augs: dict[str, list[int]] = {}
        for i, u in enumerate(self.units):
            for name in u.defines:
                self._defs.setdefault(name, []).append(i)
            for name in u.augments:
                self._augs.setdefault(name, []).append(i)
        self.skipped_names -= set(self._defs)

    def _over_cap(self, cell: int) -> None:
        self.warnings.append(
            f"the notebook has more than {MAX_STATEMENTS} top-level statements: grading read "
            f"none after the first {MAX_STATEMENTS} (from cell {cell} on)"
        )

    def _add_cell(self, cell: Cell) -> None:
        if cell.too_large:
            self.broken.append(BrokenCell(cell.index, 1, _guess_names(cell.source), True))
            return
        source = neutralise_magics(cell.source)
        if source is None or not source.strip():
            return
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else 1
            self.broken.append(BrokenCell(cell.index, line, _guess_names(source)))
            return
        except (ValueError, RecursionError, MemoryError, OverflowError):
            self.broken.append(BrokenCell(cell.index, 1, _guess_names(source)))
            return
        lines = source.split("\n")
        body = tree.body[: MAX_STATEMENTS - self._statements]
        if len(body) < len(tree.body):
            self._over_cap(cell.index)
        self._statements += len(body)
        line_use: dict[int, int] = {}
        for stmt in body:
            for ln in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1):
                line_use[ln] = line_use.get(ln, 0) + 1
        encoded: dict[int, bytes] = {}  # UTF-8 lines, encoded once (AST columns are in bytes)
        for stmt in body:
            name_nodes = [n for n in ast.walk(stmt) if isinstance(n, ast.Name)]
            ids = {n.id for n in name_nodes}
            self.identifiers |= ids
            unit = self._classify(stmt, ids)
            if unit is None:
                self.skipped_names.update(n.id for n in name_nodes if isinstance(n.ctx, ast.Store))
                continue
            defines, augments, uses, dotted, star = unit
            start = stmt.lineno
            decos = getattr(stmt, "decorator_list", [])
            if decos:
                start = min([start] + [d.lineno for d in decos])
            end = stmt.end_lineno or stmt.lineno
            shared = any(line_use.get(ln, 0) > 1 for ln in range(start, end + 1))
            if shared:
                # A statement sharing a line (`a = 1; b = 2`): its exact segment. Not
                # ast.get_source_segment, which re-splits the whole cell on every call
                # (quadratic: 40,000 statements on one line took minutes).
                text = _segment(lines, encoded, stmt)
                if text is None:
                    continue
            else:
                text = "\n".join(lines[start - 1 : end])
            self.units.append(
                Unit(cell.index, start, text, tuple(defines), tuple(augments), uses, dotted, star)
            )

    @staticmethod
    def _classify(stmt: ast.stmt, ids: set[str]):
        if isinstance(stmt, ast.Import):
            defines = []
            dotted = False
            for alias in stmt.names:
                if alias.asname:
                    defines.append(alias.asname)
                else:
                    defines.append(alias.name.split(".")[0])
                    dotted = dotted or "." in alias.name
            return defines, [], frozenset(), dotted and len(stmt.names) == 1, False
        if isinstance(stmt, ast.ImportFrom):
            names = [a.asname or a.name for a in stmt.names]
            if names == ["*"]:
                return [], [], frozenset(), False, True
            return names, [], frozenset(), False, False
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            uses = _global_uses(stmt)
            uses = ids if uses is None else uses
            return [stmt.name], [], frozenset(uses - {stmt.name}), False, False
        if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            if stmt.value is None or _has_call(stmt):
                return None
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            defines: list[str] = []
            augments: list[str] = []
            if not all(_target_roots(t, defines, augments) for t in targets):
                return None
            if isinstance(stmt, ast.AugAssign):
                augments += defines
                defines = []
            uses = _names_in(stmt.value) | set(augments)
            for t in targets:
                if not isinstance(t, ast.Name):
                    uses |= _names_in(t)
            return defines, augments, frozenset(uses), False, False
        return None

    # -- queries -----------------------------------------------------------------------------

    def defined(self, name: str) -> bool:
        return name in self._defs

    def latest_broken(self, name: str) -> BrokenCell | None:
        """The broken cell that appears to (re)define ``name`` after its last valid definition."""
        last = self._defs.get(name)
        pos = self.units[last[-1]].position if last else (-1, -1)
        hits = [b for b in self.broken if name in b.names and (b.cell, 0) > (pos[0], -1)]
        return hits[-1] if hits else None

    def _external(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        """Whether ``name`` is bound to something the notebook did not define: an import (a
        module, or an object of one), an alias of one (``F = nnlite.functional``), a builtin."""
        defs = self._defs.get(name)
        if not defs or name in seen:
            return True
        text = self.units[defs[-1]].source.lstrip()
        if _IMPORT_STMT.match(text):
            return True
        alias = re.match(rf"{re.escape(name)}\s*(?::[^=\n]*)?=\s*([A-Za-z_]\w*)[\w.]*\s*$", text)
        return alias is not None and self._external(alias.group(1), seen | {name})

    def select(self, names: list[str]) -> Selection:
        """The units an exercise needs: the latest definition of each name, transitively.

        ``X.attr = ...`` statements (and ``X[k] = ...``) after X's definition come along with
        X, except when X is something the notebook imported (``np.exp = np.log``,
        ``nnlite.functional.cross_entropy = ...``): such a patch of a library only counts in
        the exercise's own cells (those defining its names), so that each exercise is graded
        on its own definitions and a patch in another exercise's cell does not follow it.
        """
        chosen: set[int] = set()
        seen: set[str] = set()
        todo = list(names)
        own_cells = {self.units[self._defs[n][-1]].cell for n in names if n in self._defs}
        broken: dict[str, BrokenCell] = {}
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            b = self.latest_broken(name)
            if b is not None:
                broken[name] = b
            defs = self._defs.get(name)
            if not defs:
                continue
            picked = [defs[-1]]
            if self.units[defs[-1]].dotted_import:
                for i in reversed(defs[:-1]):
                    if not self.units[i].dotted_import:
                        break
                    picked.append(i)
            first = min(self.units[i].position for i in picked)
            augs = [i for i in self._augs.get(name, []) if self.units[i].position > first]
            if augs and self._external(name):
                augs = [i for i in augs if self.units[i].cell in own_cells]
            picked += augs
            for i in picked:
                if i not in chosen:
                    chosen.add(i)
                    todo.extend(self.units[i].uses)
                    todo.extend(self.units[i].augments)
        chosen |= {i for i, u in enumerate(self.units) if u.star}
        units = [self.units[i] for i in sorted(chosen)]
        missing = [n for n in names if n not in self._defs and n not in broken]
        return Selection(units, missing, broken)

    def all_units(self) -> list[Unit]:
        """Every kept definition, latest-wins not applied (as when running top to bottom)."""
        return list(self.units)
