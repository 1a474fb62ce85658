"""The plain-data encoding between the grader and a student's kernel.

Everything that crosses the sandbox's boundary is JSON text, and every value in it is one of:

- JSON ``null``, ``true``/``false``, an integer, a string (a Python ``None``, ``bool``, ``int``,
  ``str``);
- a one-key object naming its kind: ``{"float": "0x1.8p+1"}`` (``float.hex``, so inf, nan and
  every bit of a float64 survive), ``{"list": [...]}``, ``{"tuple": [...]}``,
  ``{"dict": [[key, value], ...]}`` (string keys only), ``{"ndarray": {...}}`` (a dtype from a
  short whitelist, the shape and the bytes in base64), ``{"scalar": {...}}`` (a NumPy scalar, as a
  0-d array), ``{"tensor": {...}}`` (a torch tensor: its values as an array and its
  ``requires_grad`` flag), or ``{"unsupported": "<type name>"}`` for anything else.

Decoding is strict: a value of any other shape, too deep, too long, too many bytes, a dtype off
the whitelist or bytes that do not match the shape raise :class:`WireError` (a ``ValueError``).
Nothing is ever unpickled or evaluated. Torch is imported only when a tensor is decoded.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

#: the dtypes an array may have on the wire (little-endian, as NumPy spells them)
DTYPES = ("<f8", "<f4", "<i8", "<i4", "|b1", "|u1", "<i2", "<u4", "<u8")


@dataclass(frozen=True)
class Caps:
    """Limits on one encoded message."""

    text_bytes: int = 48 * 2**20    # the JSON text
    array_bytes: int = 32 * 2**20   # all arrays of one message together (raw bytes)
    depth: int = 24                 # nesting of lists, tuples, dicts
    items: int = 200_000            # values in all containers together
    string: int = 2**20             # characters in one string
    int_digits: int = 400


DEFAULT_CAPS = Caps()


class WireError(ValueError):
    """A message that is not well-formed plain data (or exceeds a cap)."""


@dataclass(frozen=True)
class Unsupported:
    """Stands for a value the other side could not send as plain data (e.g. a function)."""

    type_name: str

    def __repr__(self) -> str:
        return f"<unsupported value of type {self.type_name}>"


class _Budget:
    def __init__(self, caps: Caps):
        self.caps, self.items, self.array_bytes = caps, 0, 0

    def item(self) -> None:
        self.items += 1
        if self.items > self.caps.items:
            raise WireError(f"more than {self.caps.items} values")

    def arrays(self, n: int) -> None:
        self.array_bytes += n
        if self.array_bytes > self.caps.array_bytes:
            raise WireError(f"arrays larger than {self.caps.array_bytes} bytes in all")


# -- encoding ------------------------------------------------------------------------------------

def _array_payload(arr: np.ndarray, budget: _Budget) -> dict:
    dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
    if dtype.str not in DTYPES:
        if arr.dtype.kind == "f":
            dtype = np.dtype("<f8")
        elif arr.dtype.kind in "iu":
            dtype = np.dtype("<i8")
        else:
            raise WireError(f"arrays of dtype {arr.dtype} cannot be sent")
    data = np.ascontiguousarray(arr, dtype=dtype).tobytes()
    budget.arrays(len(data))
    return {"dtype": dtype.str, "shape": [int(n) for n in arr.shape],
            "data": base64.b64encode(data).decode("ascii")}


def _encode(value: Any, depth: int, budget: _Budget) -> Any:
    budget.item()
    if depth > budget.caps.depth:
        raise WireError(f"nested deeper than {budget.caps.depth}")
    if value is None or type(value) in (bool, str):
        if isinstance(value, str) and len(value) > budget.caps.string:
            raise WireError(f"a string longer than {budget.caps.string} characters")
        return value
    if type(value) is int:
        if len(str(abs(value))) > budget.caps.int_digits:
            raise WireError(f"an integer with more than {budget.caps.int_digits} digits")
        return value
    if type(value) is float:
        return {"float": value.hex()}
    if isinstance(value, np.ndarray) and type(value) is np.ndarray:
        return {"ndarray": _array_payload(value, budget)}
    if isinstance(value, np.generic):
        try:
            return {"scalar": _array_payload(np.asarray(value), budget)}
        except WireError:
            return {"unsupported": type(value).__name__}
    if type(value) in (list, tuple):
        kind = "list" if type(value) is list else "tuple"
        if len(value) > budget.caps.items:
            raise WireError(f"a {kind} longer than {budget.caps.items}")
        return {kind: [_encode(v, depth + 1, budget) for v in value]}
    if type(value) is dict:
        pairs = []
        for key, item in value.items():
            if type(key) is not str:
                raise WireError("dict keys must be strings")
            pairs.append([_encode(key, depth + 1, budget), _encode(item, depth + 1, budget)])
        return {"dict": pairs}
    if type(value).__module__ == "torch" and type(value).__name__ in ("Tensor", "Parameter"):
        array = value.detach().cpu().numpy()
        return {"tensor": {"array": _array_payload(array, budget),
                           "requires_grad": bool(value.requires_grad)}}
    return {"unsupported": _type_name(value)}


def _type_name(value: Any) -> str:
    cls = type(value)
    name = f"{cls.__module__}.{cls.__qualname__}" if cls.__module__ not in ("builtins", None) else cls.__qualname__
    return str(name)[:200]


def encode(value: Any, caps: Caps = DEFAULT_CAPS) -> Any:
    """``value`` as JSON-ready plain data (see the module docstring)."""
    return _encode(value, 0, _Budget(caps))


def dumps(value: Any, caps: Caps = DEFAULT_CAPS) -> str:
    """``value`` as JSON text; raises WireError if it exceeds a cap."""
    text = json.dumps(encode(value, caps), allow_nan=False, separators=(",", ":"))
    if len(text) > caps.text_bytes:
        raise WireError(f"message longer than {caps.text_bytes} bytes")
    return text


# -- decoding ------------------------------------------------------------------------------------

def _reject_constant(name: str):
    raise WireError(f"bare {name} is not plain data")


def _pairs(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise WireError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _decode_array(payload: Any, budget: _Budget) -> np.ndarray:
    if type(payload) is not dict or set(payload) != {"dtype", "shape", "data"}:
        raise WireError("an array needs exactly dtype, shape and data")
    dtype, shape, data = payload["dtype"], payload["shape"], payload["data"]
    if type(dtype) is not str or dtype not in DTYPES:
        raise WireError(f"dtype {dtype!r} is not allowed")
    if type(shape) is not list or len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
        raise WireError("bad array shape")
    if type(data) is not str:
        raise WireError("array data must be a base64 string")
    count = math.prod(shape)
    nbytes = count * np.dtype(dtype).itemsize
    budget.arrays(nbytes)
    if len(data) > 4 * (nbytes // 3 + 2):
        raise WireError("array data longer than its shape")
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise WireError(f"array data is not base64 ({exc})") from None
    if len(raw) != nbytes:
        raise WireError(f"array data has {len(raw)} bytes, its shape needs {nbytes}")
    arr = np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape).copy()
    if dtype == "|b1" and arr.view(np.uint8).max(initial=0) > 1:
        raise WireError("a boolean array holds bytes other than 0 and 1")
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _decode(node: Any, depth: int, budget: _Budget) -> Any:
    budget.item()
    if depth > budget.caps.depth:
        raise WireError(f"nested deeper than {budget.caps.depth}")
    kind = type(node)
    if node is None or kind is bool:
        return node
    if kind is int:
        return node
    if kind is str:
        if len(node) > budget.caps.string:
            raise WireError(f"a string longer than {budget.caps.string} characters")
        return node
    if kind is not dict or len(node) != 1:
        raise WireError(f"not a tagged value: {kind.__name__}")
    (tag, body), = node.items()
    if tag == "float":
        if type(body) is not str or len(body) > 40:
            raise WireError("a float must be given by float.hex()")
        try:
            return float.fromhex(body)
        except (ValueError, OverflowError):
            raise WireError(f"not a float: {body[:40]!r}") from None
    if tag in ("list", "tuple"):
        if type(body) is not list:
            raise WireError(f"a {tag} must be a JSON array")
        items = [_decode(v, depth + 1, budget) for v in body]
        return items if tag == "list" else tuple(items)
    if tag == "dict":
        if type(body) is not list:
            raise WireError("a dict must be a JSON array of pairs")
        result = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("a dict entry must be [string key, value]")
            if pair[0] in result:
                raise WireError(f"duplicate key {pair[0][:40]!r}")
            budget.item()
            result[pair[0]] = _decode(pair[1], depth + 1, budget)
        return result
    if tag == "ndarray":
        return _decode_array(body, budget)
    if tag == "scalar":
        arr = _decode_array(body, budget)
        if arr.ndim != 0:
            raise WireError("a scalar must have shape []")
        return arr[()]
    if tag == "tensor":
        if type(body) is not dict or set(body) != {"array", "requires_grad"} or \
                type(body["requires_grad"]) is not bool:
            raise WireError("a tensor needs exactly array and requires_grad")
        arr = _decode_array(body["array"], budget)
        import torch

        tensor = torch.from_numpy(arr)
        if body["requires_grad"]:
            if not tensor.is_floating_point():
                raise WireError("only a floating tensor can require grad")
            tensor.requires_grad_(True)
        return tensor
    if tag == "unsupported":
        if type(body) is not str:
            raise WireError("an unsupported value is named by a string")
        return Unsupported(body[:200])
    raise WireError(f"unknown tag {tag[:40]!r}")


def decode(node: Any, caps: Caps = DEFAULT_CAPS) -> Any:
    """The Python value of already-parsed plain data; raises WireError for anything else."""
    try:
        return _decode(node, 0, _Budget(caps))
    except WireError:
        raise
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError) as exc:
        raise WireError(f"malformed value ({type(exc).__name__})") from None


def loads(text: Any, caps: Caps = DEFAULT_CAPS) -> Any:
    """Parse JSON text strictly and decode it; raises WireError for anything malformed."""
    if type(text) is not str:
        raise WireError(f"a message must be text, not {type(text).__name__}")
    if len(text) > caps.text_bytes:
        raise WireError(f"message longer than {caps.text_bytes} bytes")
    try:
        node = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_pairs)
    except WireError:
        raise
    except (ValueError, RecursionError, TypeError) as exc:
        raise WireError(f"not JSON ({type(exc).__name__})") from None
    return decode(node, caps)
