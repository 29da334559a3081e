"""The data-only channel between the trusted grader and the sandboxed child.

This module is imported by the parent *and* loaded standalone (by file path, without importing
the ``nnlite`` package) by the sandbox child, so it may use only the standard library and numpy.

A message is one frame::

    b"NNL1" + uint32 big-endian length of the JSON header + JSON header + blobs

The JSON header carries ``"blobs": [n0, n1, ...]``, the byte lengths of the ``.npy`` blobs that
follow it. Values are encoded as JSON trees in which every JSON object is a one-key tag:

=================  ====================================================================
Python value       encoding
=================  ====================================================================
None, bool, str    themselves
int                itself (|x| < 10**4000)
float              itself when finite, else ``{"$f": "nan" | "inf" | "-inf"}``
complex            ``{"$c": [re, im]}``
list               a JSON list
tuple              ``{"$t": [...]}``
dict               ``{"$d": [[key, value], ...]}``
numpy array        ``{"$a": i}``: blob ``i`` is an ``.npy`` file (``allow_pickle=False``)
numpy scalar       ``{"$s": i}``: blob ``i`` is a 0-d ``.npy`` file
function (request  ``{"$fn": [name, source]}``: a self-contained grader-authored function,
only)              compiled in the child; never accepted by the parent
=================  ====================================================================

Only numeric and bool arrays cross (dtype kinds ``b i u f c``); object, structured, string and
datetime arrays are refused. Decoding never unpickles, validates every ``.npy`` header itself
before touching the data, and enforces size, depth and node caps.
"""

from __future__ import annotations

import io
import json
import math
import struct
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib import format as npformat

MAGIC = b"NNL1"
HEADER = struct.Struct(">4sI")
MAX_JSON = 4 * 1024 * 1024  # bytes of JSON header per frame
MAX_DEPTH = 64  # nesting of lists/tuples/dicts
MAX_NODES = 200_000  # values in one message
MAX_STR = 1 << 20  # characters in one string
ARRAY_KINDS = "biufc"


class WireError(Exception):
    """A message could not be encoded or decoded: not plain data, too large, or malformed.

    ``reason`` is a short grader-authored explanation safe to show to a student.
    """

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SourceFunction:
    """A grader-authored function shipped to the child as source (requests only)."""

    __slots__ = ("name", "source")

    def __init__(self, name: str, source: str):
        self.name = name
        self.source = source


# --------------------------------------------------------------------------- type names


_PLAIN_TYPE_NAMES = {
    "NoneType",
    "bool",
    "int",
    "float",
    "complex",
    "str",
    "bytes",
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "function",
    "builtin_function_or_method",
    "method",
    "generator",
    "module",
    "type",
    "ndarray",
    "matrix",
    "MaskedArray",
    "Tensor",
    "Parameter",
    "Module",
    "Linear",
    "Sequential",
}


def describe_type(name: str) -> str:
    """A safe description of a type reported by the child: its name only when well known."""
    if name in _PLAIN_TYPE_NAMES:
        return name
    return "an object of a non-data type"


# --------------------------------------------------------------------------- encoding


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    npformat.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _size_guard() -> Callable[[int], None]:
    """A counter for one value's nodes: refuses more than MAX_NODES or deeper than MAX_DEPTH."""
    count = 0

    def visit(depth: int) -> None:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise WireError("a value with too many elements")
        if depth > MAX_DEPTH:
            raise WireError("a value nested too deeply")

    return visit


def encode_value(value: Any, blobs: list[bytes], *, allow_functions: bool = False) -> Any:
    """Encode ``value`` into a JSON-able tree, appending ``.npy`` blobs to ``blobs``.

    Raises :class:`WireError` for anything that is not plain data. Iterative over containers up
    to :data:`MAX_DEPTH` levels (deeper structures are refused).
    """
    visit = _size_guard()

    def enc(v: Any, depth: int) -> Any:
        visit(depth)
        t = type(v)
        if v is None or t is bool or t is str:
            if t is str and len(v) > MAX_STR:
                raise WireError("a string that is too long")
            return v
        if t is int:
            if abs(v).bit_length() > 13000:
                raise WireError("an integer that is too large")
            return v
        if t is float:
            if math.isfinite(v):
                return v
            return {"$f": "nan" if v != v else ("inf" if v > 0 else "-inf")}
        if t is complex:
            return {"$c": [enc(v.real, depth + 1), enc(v.imag, depth + 1)]}
        if t is list:
            return [enc(x, depth + 1) for x in v]
        if t is tuple:
            return {"$t": [enc(x, depth + 1) for x in v]}
        if t is dict:
            return {"$d": [[enc(k, depth + 1), enc(x, depth + 1)] for k, x in v.items()]}
        if isinstance(v, np.ndarray):
            arr = np.asarray(v)
            if type(arr) is not np.ndarray:
                arr = np.array(arr, copy=True).view(np.ndarray)
            if arr.dtype.kind not in ARRAY_KINDS or arr.dtype.names is not None:
                raise WireError(f"an array of dtype {_dtype_label(arr.dtype)}")
            # Not np.ascontiguousarray: it turns a 0-d array into shape (1,).
            if not arr.flags.c_contiguous:
                arr = np.array(arr, order="C")
            blobs.append(_npy_bytes(arr))
            return {"$a": len(blobs) - 1}
        if isinstance(v, np.generic):
            arr = np.asarray(v)
            if arr.dtype.kind not in ARRAY_KINDS or arr.dtype.names is not None:
                raise WireError(f"a numpy scalar of dtype {_dtype_label(arr.dtype)}")
            blobs.append(_npy_bytes(arr.reshape(())))
            return {"$s": len(blobs) - 1}
        if allow_functions and t is SourceFunction:
            return {"$fn": [v.name, v.source]}
        raise WireError(f"a value of type {describe_type(t.__name__)}")

    return enc(value, 0)


def _dtype_label(dtype: np.dtype) -> str:
    if dtype.kind == "O":
        return "object (Python objects, not numbers)"
    if dtype.names is not None:
        return "structured"
    if dtype.kind in "US":
        return "str"
    return {"M": "datetime64", "m": "timedelta64", "V": "void"}.get(dtype.kind, dtype.kind)


_DTYPE_LABELS = [
    "object (Python objects, not numbers)",
    "structured",
    "str",
    "datetime64",
    "timedelta64",
    "void",
]


def safe_reason(reason: object) -> str:
    """``reason`` if it is one the encoder can produce (the child is untrusted), else generic."""
    known = {
        "a value with too many elements",
        "a value nested too deeply",
        "a string that is too long",
        "an integer that is too large",
    }
    for label in _DTYPE_LABELS:
        known.add(f"an array of dtype {label}")
        known.add(f"a numpy scalar of dtype {label}")
    for name in _PLAIN_TYPE_NAMES:
        known.add(f"a value of type {name}")
    known.add("a value of type an object of a non-data type")
    if isinstance(reason, str) and reason in known:
        return reason.replace("a value of type an object", "an object")
    return "a value that is not plain data"


# --------------------------------------------------------------------------- decoding


def _decode_npy(blob: bytes) -> np.ndarray:
    """Decode one ``.npy`` blob without pickle, validating the header before any allocation."""
    f = io.BytesIO(blob)
    try:
        version = npformat.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(f, max_header_size=10000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = npformat.read_array_header_2_0(f, max_header_size=10000)
        else:
            raise WireError("malformed array")
    except WireError:
        raise
    except Exception as exc:  # noqa: BLE001 - any header problem is a malformed message
        raise WireError("malformed array") from exc
    if not isinstance(dtype, np.dtype) or dtype.kind not in ARRAY_KINDS:
        raise WireError("an array that is not numeric")
    if dtype.names is not None or dtype.subdtype is not None or dtype.hasobject:
        raise WireError("an array that is not numeric")
    if not isinstance(shape, tuple) or len(shape) > 32:
        raise WireError("malformed array")
    if not all(type(d) is int and d >= 0 for d in shape):
        raise WireError("malformed array")
    count = 1
    for d in shape:
        count *= d
    offset = f.tell()
    if count * dtype.itemsize != len(blob) - offset:
        raise WireError("malformed array")
    arr = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
    arr = arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)
    out = np.array(arr, dtype=dtype.newbyteorder("="), copy=True, order="C")
    return out


def decode_value(tree: Any, blobs: list[bytes], *, allow_functions: bool = False) -> Any:
    """Decode a tree made by :func:`encode_value`. Raises :class:`WireError` when malformed."""
    visit = _size_guard()

    def dec(v: Any, depth: int) -> Any:
        visit(depth)
        t = type(v)
        if v is None or t is bool or t is int or t is str:
            return v
        if t is float:
            return v
        if t is list:
            return [dec(x, depth + 1) for x in v]
        if t is not dict or len(v) != 1:
            raise WireError("malformed message")
        ((tag, body),) = v.items()
        if tag == "$f":
            if body == "nan":
                return math.nan
            if body == "inf":
                return math.inf
            if body == "-inf":
                return -math.inf
            raise WireError("malformed message")
        if tag == "$c":
            if type(body) is not list or len(body) != 2:
                raise WireError("malformed message")
            re_, im = dec(body[0], depth + 1), dec(body[1], depth + 1)
            if type(re_) not in (int, float) or type(im) not in (int, float):
                raise WireError("malformed message")
            return complex(re_, im)
        if tag == "$t":
            if type(body) is not list:
                raise WireError("malformed message")
            return tuple(dec(x, depth + 1) for x in body)
        if tag == "$d":
            if type(body) is not list:
                raise WireError("malformed message")
            out = {}
            for pair in body:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("malformed message")
                key = dec(pair[0], depth + 1)
                try:
                    hash(key)
                except TypeError:
                    raise WireError("malformed message") from None
                if isinstance(key, np.generic):
                    raise WireError("malformed message")
                out[key] = dec(pair[1], depth + 1)
            return out
        if tag in ("$a", "$s"):
            if type(body) is not int or not 0 <= body < len(blobs):
                raise WireError("malformed message")
            arr = _decode_npy(blobs[body])
            if tag == "$s":
                if arr.shape != ():
                    raise WireError("malformed message")
                return arr[()]
            return arr
        if tag == "$fn" and allow_functions:
            if type(body) is not list or len(body) != 2 or not all(type(x) is str for x in body):
                raise WireError("malformed message")
            return SourceFunction(body[0], body[1])
        raise WireError("malformed message")

    return dec(tree, 0)


# --------------------------------------------------------------------------- framing


def pack(header: dict, blobs: list[bytes] | None = None) -> bytes:
    """One frame: magic, JSON header length, JSON header (with blob lengths), blobs."""
    blobs = blobs or []
    header = dict(header)
    header["blobs"] = [len(b) for b in blobs]
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(text) > MAX_JSON:
        raise WireError("message too large")
    return b"".join([HEADER.pack(MAGIC, len(text)), text, *blobs])


def parse_header(prefix: bytes) -> int:
    """Validate the 8-byte frame prefix; returns the JSON header length."""
    magic, length = HEADER.unpack(prefix)
    if magic != MAGIC or length > MAX_JSON:
        raise WireError("malformed message")
    return length


def parse_json(text: bytes) -> tuple[dict, list[int]]:
    """Parse a frame's JSON header; returns it and its list of blob lengths."""
    try:
        header = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError, MemoryError) as exc:
        raise WireError("malformed message") from exc
    if type(header) is not dict:
        raise WireError("malformed message")
    lengths = header.pop("blobs", [])
    if type(lengths) is not list or not all(type(n) is int and n >= 0 for n in lengths):
        raise WireError("malformed message")
    if len(lengths) > MAX_NODES:
        raise WireError("a value with too many elements")
    return header, lengths
