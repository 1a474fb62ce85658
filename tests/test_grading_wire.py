"""The wire format: plain data round-trips exactly; anything else is refused, never evaluated."""

import base64
import json
import math

import numpy as np
import pytest

from course_lib.grading import wire


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2**80, "σ text", 1.5, -0.0, math.inf, -math.inf, 5e-324,
    [1, [2.0, "a"]], (1, (2.0,)), {"a": 1, "b": [None]},
    np.arange(6, dtype=np.float64).reshape(2, 3), np.array([1, 2], dtype=np.int32),
    np.array([True, False]), np.zeros((0, 3)), np.float32(1.25), np.array(3.0),
])
def test_round_trip(value):
    back = wire.loads(wire.dumps(value))
    if isinstance(value, np.ndarray):
        assert isinstance(back, np.ndarray) and back.dtype == value.dtype and back.shape == value.shape
        assert np.array_equal(back, value)
    elif isinstance(value, np.generic):
        assert type(back) is type(value) and back == value
    else:
        assert back == value and type(back) is type(value)
        if isinstance(value, float):
            assert math.copysign(1, back) == math.copysign(1, value)


def test_nan_and_tensors():
    import torch

    assert math.isnan(wire.loads(wire.dumps(math.nan)))
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True) * 2
    back = wire.loads(wire.dumps(t))
    assert isinstance(back, torch.Tensor) and back.requires_grad and back.tolist() == [2.0, 4.0]


def test_other_values_become_unsupported():
    class Evil:
        def __reduce__(self):
            raise AssertionError("never pickled")

    for value in (Evil(), print, lambda: 1, {1, 2}, b"bytes", np.array(["a"]), np.array([1 + 2j])):
        back = wire.loads(wire.dumps(value)) if not isinstance(value, np.ndarray) else None
        if back is not None:
            assert isinstance(back, wire.Unsupported)
    with pytest.raises(wire.WireError):
        wire.dumps(np.array(["a"]))
    with pytest.raises(wire.WireError):
        wire.dumps({1: 2})


def array(dtype="<f8", shape=(2,), data=None):
    raw = data if data is not None else np.zeros(shape, dtype=dtype).tobytes()
    return {"ndarray": {"dtype": dtype, "shape": list(shape), "data": base64.b64encode(raw).decode()}}


@pytest.mark.parametrize("text", [
    "", "[", "NaN", '{"float": 1.0}', "1.5", '{"list": [1], "tuple": []}', '{"set": []}',
    '{"dict": [[1, 2]]}', '{"dict": [["a", 1], ["a", 2]]}', '{"float": "0x1p+99999"}',
    '{"float": "__import__(\'os\')"}', "[1, 2]", '{"a": 1, "a": 2}',
    json.dumps(array("|O8")), json.dumps(array("<f8", (3,), b"\0" * 8)),
    json.dumps(array("<f8", (-1,), b"")), json.dumps(array("|b1", (1,), b"\x07")),
    json.dumps({"ndarray": {"dtype": "<f8", "shape": [1], "data": "!!!!"}}),
    json.dumps({"tensor": {"array": array(), "requires_grad": "yes"}}),
    "[" * 100000 + "]" * 100000,
])
def test_malformed_messages_are_refused(text):
    with pytest.raises(wire.WireError):
        wire.loads(text)


def test_caps():
    caps = wire.Caps(text_bytes=1000, array_bytes=800, depth=3, items=50, string=10)
    with pytest.raises(wire.WireError):
        wire.dumps(np.zeros(101), caps)
    with pytest.raises(wire.WireError):
        wire.dumps([[[[[1]]]]], caps)
    with pytest.raises(wire.WireError):
        wire.dumps(list(range(60)), caps)
    with pytest.raises(wire.WireError):
        wire.loads(json.dumps("x" * 11), caps)
    deep = '{"list": [' * 30 + "1" + "]}" * 30
    with pytest.raises(wire.WireError):
        wire.loads(deep)
    assert wire.loads('{"list": [' * 5 + "1" + "]}" * 5) == [[[[[1]]]]]
