"""Input checking shared by every course_lib module.

Every public function in course_lib turns its arguments into float64 NumPy arrays and checks
them here, so that a student who passes something wrong gets the same kind of message from
every function: a ``ValueError`` (or ``TypeError`` for something that is not a number at all)
that names the argument, says what is wrong with it, shows the first offending entry and,
where it helps, suggests the likely fix.

The helpers, in the order a function usually calls them:

- :func:`as_float_array`     anything array-like -> float64 ndarray; rejects text, complex
                             numbers, ragged lists, empty arrays and NaN (and ±inf on request)
- :func:`check_in_unit_interval`  every entry in [0, 1] (probabilities, soft labels)
- :func:`check_in_set`       every entry one of a few allowed values ({0, 1}, {-1, +1})
- :func:`check_nonnegative`, :func:`check_positive`
- :func:`check_same_shape`   broadcast several arguments to one shape, refusing the silent
                             (N, 1) with (N,) -> (N, N) blow-up
- :func:`check_reduction`    "mean", "sum" or "none"
- :func:`reduce`             apply a checked reduction to per-example values
- :func:`sum_to_shape`       sum a gradient over broadcast axes (the shape rule of autograd)
- :func:`to_output`          a 0-d result becomes a NumPy float64 scalar

These are private to the package (the module name starts with an underscore) but stable:
models, metrics and the self-checks use them too.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "REDUCTIONS",
    "as_float_array",
    "check_in_unit_interval",
    "check_in_set",
    "check_nonnegative",
    "check_positive",
    "check_same_shape",
    "check_reduction",
    "reduce",
    "sum_to_shape",
    "to_output",
]

#: The reductions every loss accepts, with the meanings PyTorch gives them.
REDUCTIONS = ("mean", "sum", "none")

# dtype kinds accepted as numbers: booleans, signed and unsigned integers, floats.
_NUMERIC_KINDS = "biuf"


def _where(name: str, shape: tuple[int, ...], flat_index: int) -> str:
    """Write the entry at ``flat_index`` of an array called ``name`` as Python indexing."""
    if not shape:
        return name
    index = np.unravel_index(flat_index, shape)
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def _first_offender(values: np.ndarray, bad: np.ndarray, name: str) -> str:
    """Describe the first entry where ``bad`` is true, e.g. ``"p[2] = 1.5 (and 3 more)"``."""
    flat = np.flatnonzero(bad)
    first = int(flat[0])
    text = f"{_where(name, values.shape, first)} = {float(values.flat[first])!r}"
    if flat.size > 1:
        text += f" (and {flat.size - 1} more)"
    return text


def _refuse_entries(values: np.ndarray, bad: np.ndarray, name: str, requirement: str,
                    hint: str = "") -> None:
    """Raise ``ValueError("<name> <requirement>, but <first offender>. <hint>")`` if any ``bad``."""
    if np.any(bad):
        message = f"{name} {requirement}, but {_first_offender(values, bad, name)}"
        if hint:
            message += f". {hint}"
        raise ValueError(message)


def as_float_array(x, name: str, *, allow_inf: bool = True, allow_empty: bool = False,
                   inf_reason: str = "") -> np.ndarray:
    """Convert ``x`` to a float64 NumPy array, refusing anything that is not real numbers.

    Accepted: Python numbers, (nested, rectangular) lists and tuples, NumPy arrays and scalars
    of any boolean, integer or float dtype (float16/32/64 ...), and objects NumPy can turn into
    an array of numbers. Booleans become 0.0/1.0. The result may share memory with ``x`` when
    ``x`` already is a float64 array: callers must not write into it.

    Parameters
    ----------
    x : array_like
        The argument to convert.
    name : str
        The argument's name as the student wrote it (``"p"``, ``"y"``, ``"s"``): every message
        starts with it.
    allow_inf : bool, default True
        If False, ``+inf`` and ``-inf`` are refused with a ``ValueError``.
    allow_empty : bool, default False
        If False, an array with no entries is refused with a ``ValueError``.
    inf_reason : str, optional
        A sentence appended to the message about infinite entries (why they are refused here).

    Returns
    -------
    numpy.ndarray
        ``x`` as a float64 array (0-d for a scalar).

    Raises
    ------
    TypeError
        If ``x`` holds text, complex numbers or objects that are not numbers.
    ValueError
        If ``x`` is a ragged nested list, is empty (unless ``allow_empty``), contains NaN, or
        contains ±inf while ``allow_inf`` is False.

    Examples
    --------
    >>> as_float_array([1, 2], "s")
    array([1., 2.])
    >>> as_float_array("0.5", "p")
    Traceback (most recent call last):
        ...
    TypeError: p must be a number or an array of numbers, not text ('0.5')
    """
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} could not be read as a rectangular array of numbers "
                         f"(are its rows of different lengths?): {exc}") from None
    except Exception as exc:  # e.g. a torch tensor that requires grad
        raise TypeError(f"{name} could not be read as an array of numbers: {exc}") from None

    kind = arr.dtype.kind
    if kind in "US":
        example = str(arr.flat[0]) if arr.size else ""
        raise TypeError(f"{name} must be a number or an array of numbers, not text "
                        f"({example!r})")
    if kind == "c":
        raise TypeError(f"{name} must contain real numbers, not complex numbers")
    if kind not in _NUMERIC_KINDS:
        # Object arrays: lists mixing Python objects (None, Fraction, Decimal ...). Accept them
        # only if every entry converts to a float (None would silently become NaN: refuse it).
        if any(v is None for v in arr.flat):
            raise TypeError(f"{name} must be a number or an array of numbers, not None")
        try:
            arr = arr.astype(np.float64)
        except OverflowError:
            raise ValueError(f"{name} contains a number too large for float64 "
                             f"(the largest is about 1.8e308)") from None
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a number or an array of numbers; it contains "
                            f"something else (NumPy reads it as dtype {arr.dtype})") from None
    arr = np.asarray(arr, dtype=np.float64)

    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one entry")
    nan = np.isnan(arr)
    if nan.any():
        raise ValueError(f"{name} contains NaN (not a number): {_first_offender(arr, nan, name)}. "
                         "NaN usually comes from an earlier step, e.g. 0·inf, inf − inf or 0/0")
    if not allow_inf:
        _refuse_entries(arr, np.isinf(arr), name, "must be finite", inf_reason)
    return arr


def check_in_unit_interval(x: np.ndarray, name: str, *, hint: str = "") -> None:
    """Raise ``ValueError`` unless every entry of ``x`` lies in the closed interval [0, 1].

    ``hint`` is added to the message, e.g. to suggest the logit version of a loss when
    probabilities look like logits.

    >>> check_in_unit_interval(np.array([0.0, 1.5]), "p")
    Traceback (most recent call last):
        ...
    ValueError: p must lie in [0, 1], but p[1] = 1.5
    """
    _refuse_entries(x, (x < 0) | (x > 1), name, "must lie in [0, 1]", hint)


def check_in_set(x: np.ndarray, name: str, allowed: tuple[float, ...], *, hint: str = "") -> None:
    """Raise ``ValueError`` unless every entry of ``x`` is one of the ``allowed`` values.

    >>> check_in_set(np.array([1.0, 0.0]), "t", (-1.0, 1.0))
    Traceback (most recent call last):
        ...
    ValueError: t must contain only the values {-1, 1}, but t[1] = 0.0
    """
    shown = ", ".join(f"{v:g}" for v in allowed)
    _refuse_entries(x, ~np.isin(x, allowed), name, f"must contain only the values {{{shown}}}",
                    hint)


def check_nonnegative(x: np.ndarray, name: str) -> None:
    """Raise ``ValueError`` unless every entry of ``x`` is >= 0."""
    _refuse_entries(x, x < 0, name, "must be >= 0")


def check_positive(x: np.ndarray, name: str, *, hint: str = "") -> None:
    """Raise ``ValueError`` unless every entry of ``x`` is > 0 (``hint`` is added to the message)."""
    _refuse_entries(x, x <= 0, name, "must be > 0", hint)


def check_same_shape(**arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Broadcast the named arrays to one common shape, or explain why they do not fit.

    The rule: the arguments must have the same shape, or all of them must broadcast to the
    shape of one of them (a scalar label next to an array of probabilities, a per-column
    ``pos_weight`` of shape (C,) next to logits of shape (N, C)). Broadcasting that stretches
    *both* sides is refused, because it is almost always a bug: logits of shape (N, 1) with
    labels of shape (N,) would broadcast to an (N, N) table of losses, and its mean is a
    different, wrong number.

    Parameters
    ----------
    **arrays : numpy.ndarray
        The arrays, passed by the names the student knows them by (``p=p, y=y``).

    Returns
    -------
    tuple of numpy.ndarray
        The arrays broadcast to the common shape, in the order given (read-only views).

    Raises
    ------
    ValueError
        If the shapes do not broadcast, or only broadcast by stretching every argument.

    Examples
    --------
    >>> p, y = check_same_shape(p=np.zeros(3), y=np.zeros(4))
    Traceback (most recent call last):
        ...
    ValueError: p has shape (3,) and y has shape (4,); they must have the same shape (or one must broadcast to the shape of the other)
    """
    names = list(arrays)
    shapes = [np.shape(arrays[n]) for n in names]
    described = " and ".join(f"{n} has shape {s}" for n, s in zip(names, shapes))
    rule = ("they must have the same shape (or one must broadcast to the shape of the other)"
            if len(names) == 2 else
            "they must have the same shape (or broadcast to the shape of one of them)")
    try:
        common = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{described}; {rule}") from None
    if common not in shapes:
        raise ValueError(f"{described}; {rule}. Together they would broadcast to {common}, "
                         "which pairs every entry of one with every entry of the other; "
                         "flatten the column vector first (e.g. with .ravel())")
    return tuple(np.broadcast_to(arrays[n], common) for n in names)


def check_reduction(reduction) -> str:
    """Return ``reduction`` if it is "mean", "sum" or "none"; raise ``ValueError`` otherwise.

    >>> check_reduction("avg")
    Traceback (most recent call last):
        ...
    ValueError: reduction must be one of 'mean', 'sum', 'none', not 'avg'
    """
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        allowed = ", ".join(repr(r) for r in REDUCTIONS)
        raise ValueError(f"reduction must be one of {allowed}, not {reduction!r}")
    return reduction


def reduce(values: np.ndarray, reduction: str):
    """Reduce per-example values: their mean, their sum, or the values themselves ("none").

    ``reduction`` must already have passed :func:`check_reduction`. "mean" and "sum" give a
    NumPy float64 scalar; "none" gives the array (a float64 scalar if it is 0-d).
    """
    if reduction == "mean":
        return np.float64(np.mean(values))
    if reduction == "sum":
        return np.float64(np.sum(values))
    return to_output(values)


def sum_to_shape(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes along which an argument of ``shape`` was broadcast.

    If an input of shape ``shape`` was broadcast to ``grad.shape`` in the forward computation,
    each of its entries was used several times, and its gradient is the sum of the gradients
    of all its copies (the rule autograd applies). The result has shape ``shape``.

    >>> sum_to_shape(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    """
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def to_output(values: np.ndarray):
    """Return a 0-d array as a NumPy float64 scalar and any other array unchanged."""
    values = np.asarray(values, dtype=np.float64)
    return values[()] if values.ndim == 0 else values
