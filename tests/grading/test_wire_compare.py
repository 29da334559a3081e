"""The data-only channel (R2) and the strict comparisons (R7)."""

from __future__ import annotations

import io
import math
import pickle

import numpy as np
import pytest
from numpy.lib import format as npformat

from nnlite.grading import (
    WrongAnswer,
    assert_close,
    assert_dtype,
    assert_equal,
    assert_shape,
    assert_true,
    wire,
)

# ----------------------------------------------------------------------------- wire


def roundtrip(value):
    blobs: list[bytes] = []
    tree = wire.encode_value(value, blobs)
    frame = wire.pack({"value": tree}, blobs)
    length = wire.parse_header(frame[:8])
    header, lengths = wire.parse_json(frame[8 : 8 + length])
    rest = frame[8 + length :]
    got_blobs = []
    for n in lengths:
        got_blobs.append(rest[:n])
        rest = rest[n:]
    return wire.decode_value(header["value"], got_blobs)


def test_roundtrip_plain_data():
    value = {
        "a": [1, 2.5, None, True, "s", float("nan"), -math.inf, 3 + 4j],
        (1, "k"): (np.arange(6, dtype=np.int32).reshape(2, 3), np.float32(1.5)),
        7: np.asfortranarray(np.ones((2, 3))),
        "b": np.array([True, False]),
        "e": np.zeros((0, 3)),
    }
    got = roundtrip(value)
    assert got["a"][:5] == [1, 2.5, None, True, "s"] and math.isnan(got["a"][5])
    assert got["a"][6] == -math.inf and got["a"][7] == 3 + 4j
    arr, scalar = got[(1, "k")]
    assert arr.dtype == np.int32 and arr.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert type(scalar) is np.float32 and scalar == 1.5
    assert got[7].flags.c_contiguous and got[7].shape == (2, 3)
    assert got["b"].dtype == bool and got["e"].shape == (0, 3)


def test_subclass_is_stripped():
    class Sub(np.ndarray):
        pass

    got = roundtrip(np.arange(3.0).view(Sub))
    assert type(got) is np.ndarray


@pytest.mark.parametrize(
    "value",
    [
        np.array([object()], dtype=object),
        np.array(["a"]),
        np.zeros(2, dtype=[("x", float)]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        object(),
        {1, 2},
        b"bytes",
        len,
        [[[[]]]] * 1,  # fine
    ],
)
def test_refuses_non_data(value):
    if isinstance(value, list):
        roundtrip(value)
        return
    with pytest.raises(wire.WireError):
        wire.encode_value(value, [])


def test_caps():
    deep: list = []
    for _ in range(100):
        deep = [deep]
    with pytest.raises(wire.WireError, match="nested too deeply"):
        wire.encode_value(deep, [])
    with pytest.raises(wire.WireError, match="too many"):
        wire.encode_value([0] * (wire.MAX_NODES + 1), [])
    with pytest.raises(wire.WireError):
        wire.encode_value(10**5000, [])


def _npy(arr) -> bytes:
    buf = io.BytesIO()
    npformat.write_array(buf, arr, allow_pickle=True)
    return buf.getvalue()


def test_decoder_refuses_malformed_and_pickled_blobs():
    good = _npy(np.arange(4.0))
    # Object arrays are pickles inside .npy: refused before anything is unpickled.
    with pytest.raises(wire.WireError):
        wire.decode_value({"$a": 0}, [_npy(np.array([1, None], dtype=object))])
    with pytest.raises(wire.WireError):
        wire.decode_value({"$a": 0}, [pickle.dumps(np.arange(3))])
    with pytest.raises(wire.WireError):  # header claims more data than there is
        wire.decode_value({"$a": 0}, [good[:-8]])
    big = good.replace(b"(4,)", b"(9999999999,)".ljust(4))
    with pytest.raises(wire.WireError):
        wire.decode_value({"$a": 0}, [big])
    for tree in [
        {"$a": 1},
        {"$x": 1},
        {"$f": "bad"},
        {"$t": 1},
        {"$d": [[[1], 2]]},
        {"a": 1, "b": 2},
        {"$fn": ["f", "def f(): pass"]},
    ]:
        with pytest.raises(wire.WireError):
            wire.decode_value(tree, [good])
    with pytest.raises(wire.WireError):
        wire.parse_header(b"XXXX\x00\x00\x00\x01")
    with pytest.raises(wire.WireError):
        wire.parse_json(b"[" * 100000)
    with pytest.raises(wire.WireError):
        wire.parse_json(b'{"blobs": [-1]}')


def test_safe_reason_never_echoes_child_text():
    assert wire.safe_reason("an array of dtype object (Python objects, not numbers)").startswith(
        "an array"
    )
    assert wire.safe_reason("a value of type SECRET123") == "a value that is not plain data"
    assert wire.safe_reason(None) == "a value that is not plain data"


# ----------------------------------------------------------------------------- compare


def fails(fn, *args, **kw) -> WrongAnswer:
    with pytest.raises(WrongAnswer) as info:
        fn(*args, **kw)
    return info.value


def test_exact_shape_before_tolerance_and_no_broadcast():
    e = fails(assert_close, np.ones(1), np.ones((3, 3)))
    assert (e.message, e.kind) == ("wrong shape", "shape")
    assert e.detail == "got shape (1,), expected (3, 3)"
    e = fails(assert_close, np.ones((3, 5)), np.ones((4, 6)), public=True)
    assert e.message == "wrong shape, expected (4, 6)"
    e = fails(assert_close, np.float64(1.0), np.ones(1))
    assert e.detail == "got shape () (a scalar), expected (1,)"


def test_nan_and_inf():
    e = fails(assert_close, np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    assert e.message == "result contains NaN" and e.detail == "1 of 2 elements are NaN"
    assert fails(assert_close, [np.inf], [1.0]).message == "result contains inf"
    e = fails(assert_close, [np.nan], [np.nan])  # NaN expected without equal_nan
    assert (e.message, e.kind) == ("the values compared contain NaN", "nan")
    assert_close([np.nan, 1.0], [np.nan, 1.0], equal_nan=True)
    assert_close([np.inf, -np.inf], [np.inf, -np.inf])
    assert fails(assert_close, [-np.inf], [np.inf]).message.startswith("expected an infinite")


def test_tolerance_is_nan_safe_and_detailed():
    e = fails(assert_close, [[1.0, 2.0], [3.0, 4.12]], [[1.0, 2.0], [3.0, 4.0]], rtol=1e-3)
    assert e.message == "values differ from the expected result"
    assert e.detail.startswith("max abs error 0.12 at index (1, 1)")
    assert_close([1.0 + 1e-9], [1.0], rtol=1e-7)
    assert_close(0.0, 0.0, rtol=0, atol=0)
    assert_close(1e200, 1e200 * (1 + 1e-9), rtol=1e-7)


def test_lists_ints_and_dtypes():
    assert_close([[1, 2], [3, 4]], np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert_close((1.0, 2.0), (1.0, 2.0))  # a tuple expected: compared element by element
    e = fails(assert_close, [[1, 2], [3]], np.ones((2, 2)))
    assert "not a rectangular array" in e.message
    assert "expected numbers" in fails(assert_close, "1.0", 1.0).message
    assert "expected numbers" in fails(assert_close, None, 1.0).message
    assert "plain numbers" in fails(assert_close, ["a", "b"], [1.0, 2.0]).message
    e = fails(assert_close, np.float32(1.0000001), 1.0, rtol=1e-12)
    assert "compute in float64" in e.message
    e = fails(assert_close, np.ones(2), np.ones(2), dtype=np.float32)
    assert (e.message, e.detail, e.kind) == (
        "wrong dtype, expected float32",
        "got dtype float64",
        "dtype",
    )
    assert_dtype(np.ones(2, np.float32), "float32")
    assert_shape([[1, 2, 3]], (1, 3))


def test_structures():
    assert_close((np.ones(2), 3.0), (np.ones(2), 3.0))
    e = fails(assert_close, [1.0], (1.0, 2.0))
    assert (e.message, e.detail) == (
        "returned the wrong number of values, expected 2",
        "got 1 values",
    )
    e = fails(assert_close, (np.ones(2), 4.0), (np.ones(2), 3.0), msg="loss")
    assert e.message.startswith("loss, element 1: values differ")
    assert_close({"a": 1.0}, {"a": 1.0})
    assert "different keys" in fails(assert_close, {"b": 1.0}, {"a": 1.0}).message


def test_assert_equal_is_exact():
    assert_equal(3, 3)
    assert_equal(np.int64(3), 3)
    assert_equal([1, 2], np.array([1, 2]))
    assert_equal("relu", "relu")
    assert_equal((1, "a"), (1, "a"))
    assert fails(assert_equal, 3.5, 3).message == "wrong result"
    assert fails(assert_equal, 1, True).message == "returned an int, expected a bool"
    assert fails(assert_equal, True, 1).message == "returned bools, expected numbers"
    assert fails(assert_equal, "x", "y").message == "wrong result"
    assert fails(assert_equal, 10**18 + 1, 10**18).message == "wrong result"


def test_assert_true_needs_a_bool_and_keeps_messages():
    assert_true(True, "never shown")
    e = fails(
        assert_true, np.bool_(False), "the error should name the bad target", detail="got 'x'"
    )
    assert (e.message, e.detail) == ("the error should name the bad target", "got 'x'")
    # A condition that is not a bool came from the student's side (a patched builtin): it
    # fails the test with the grader's message; it is not a fault of the grader.
    for odd in (np.array([True]), "yes", 1, None):
        e = fails(assert_true, odd, "not a bool")
        assert (e.message, e.kind) == ("not a bool", "type")


def test_never_calls_student_eq():
    class Liar:
        def __eq__(self, other):
            raise AssertionError("__eq__ must never be called")

    e = fails(assert_close, Liar(), 1.0)
    assert "expected numbers" in e.message
    e = fails(assert_equal, Liar(), 1)
    assert "expected numbers" in e.message
