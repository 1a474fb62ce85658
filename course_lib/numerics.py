"""Where the textbook formulas of the logistic loss break, found by computation.

Chapter 3 shows that the loss written as on the blackboard,

    p = 1 / (1 + e^{−s}),      ℓ = −[ y·log p + (1 − y)·log(1 − p) ],

returns inf or NaN for perfectly ordinary logits, and finds the exact places where that starts
instead of quoting them. This module holds

- the *naive* formulas, evaluated in a chosen floating-point type (float64 or float32) so that
  their failures can be shown: :func:`naive_sigmoid`, :func:`naive_bce`,
  :func:`naive_logistic_loss`. They break **on purpose** and do not silence NumPy's warnings:
  wrap a call in ``with np.errstate(over="ignore", invalid="ignore", divide="ignore"):`` when
  breaking them is the point;
- a bisection over the floats themselves, :func:`smallest_float_where`, which returns the
  exact smallest float of a type at which a monotone condition becomes true;
- the thresholds built on it: :func:`sigmoid_rounds_to_one` (the first s where the naive
  σ(s) is exactly 1.0), :func:`one_minus_rounds_to_one` (the first s where even a perfectly
  rounded σ(s) is exactly 1.0), :func:`exp_overflow_point` (the first s where e^s is inf).

The stable losses themselves live in :mod:`course_lib.losses`; this module is only about
failure.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import as_float_array

__all__ = [
    "FLOAT_TYPES",
    "naive_sigmoid",
    "naive_bce",
    "naive_logistic_loss",
    "smallest_float_where",
    "sigmoid_rounds_to_one",
    "one_minus_rounds_to_one",
    "exp_overflow_point",
]

#: The floating-point types the functions here accept, with the integer type of the same width
#: (used to walk through the floats in order).
FLOAT_TYPES = {np.dtype(np.float64): np.int64, np.dtype(np.float32): np.int32}


def _float_type(dtype) -> np.dtype:
    """``dtype`` as a NumPy dtype, if it is float64 or float32; ValueError otherwise."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt not in FLOAT_TYPES:
        raise ValueError(f"dtype must be float64 or float32 (np.float64, np.float32, "
                         f"'float64', 'float32'), not {dtype!r}")
    return dt


def _as_dtype(x, name: str, dt: np.dtype) -> np.ndarray:
    """``x`` checked by the shared validation, then rounded to the type ``dt``."""
    return as_float_array(x, name).astype(dt)


def naive_sigmoid(s, dtype=np.float64):
    """The textbook sigmoid σ(s) = 1 / (1 + e^{−s}), evaluated in ``dtype`` exactly as written.

    In the book: Chapter 3, §Where σ(s) becomes exactly 1, and where e^s overflows.

    Every intermediate (e^{−s}, 1 + e^{−s}, the quotient) is rounded to ``dtype``. Two things go
    wrong: 1 + e^{−s} rounds to exactly 1 once e^{−s} is below half the spacing of the floats
    just above 1 (so σ(s) = 1.0 from s ≈ 36.7 in float64, ≈ 16.6 in float32), and e^{−s}
    overflows to inf for very negative s (a warning, and σ(s) = 1/inf = 0).

    Parameters
    ----------
    s : array_like
        Logits (finite real numbers, or ±inf).
    dtype : {np.float64, np.float32}, default np.float64
        The floating-point type to compute in.

    Returns
    -------
    numpy.ndarray or numpy scalar of type ``dtype``

    Raises
    ------
    ValueError
        If ``s`` is empty or contains NaN, or ``dtype`` is not float64/float32.

    Examples
    --------
    >>> float(naive_sigmoid(40.0))
    1.0
    >>> float(naive_sigmoid(20.0, np.float32))
    1.0
    """
    dt = _float_type(dtype)
    s = _as_dtype(s, "s", dt)
    one = dt.type(1)
    result = one / (one + np.exp(-s))
    return result[()] if result.ndim == 0 else result


def naive_bce(s, y, dtype=np.float64):
    """Per-example BCE computed the textbook way: p = σ(s) first, then the two logs.

    In the book: Chapter 3, §What the naive loss returns there.

    Formula, every step rounded to ``dtype``:

        p = 1 / (1 + e^{−s}),    ℓ = −[ y·log p + (1 − y)·log(1 − p) ].

    It fails in two ways once p has rounded to exactly 0 or 1: with the *wrong* label the loss
    is −log 0 = inf (the true loss, about |s|, is finite), and with the *right* label the
    unused term becomes 0·log 0 = 0·(−inf) = NaN (the true loss is tiny but not NaN). NumPy
    warns about both; this function does not silence the warnings.

    Parameters
    ----------
    s : array_like
        Logits.
    y : array_like
        Labels, 0 or 1, broadcastable against ``s``.
    dtype : {np.float64, np.float32}, default np.float64

    Returns
    -------
    numpy.ndarray or numpy scalar of type ``dtype``
        The per-example losses (no reduction).

    Examples
    --------
    >>> with np.errstate(divide="ignore", invalid="ignore"):
    ...     print(naive_bce(40.0, 0.0), naive_bce(40.0, 1.0))
    inf nan
    """
    dt = _float_type(dtype)
    y = _as_dtype(y, "y", dt)
    p = naive_sigmoid(s, dt)
    one = dt.type(1)
    result = -(y * np.log(p) + (one - y) * np.log(one - p))
    return result[()] if np.ndim(result) == 0 else result


def naive_logistic_loss(s, t, dtype=np.float64):
    """Per-example logistic loss computed the textbook way, ℓ = log(1 + e^{−t·s}), in ``dtype``.

    In the book: Chapter 3, §What the naive loss returns there.

    It returns inf once e^{−t·s} overflows (t·s < −709.78 in float64, < −88.72 in float32),
    where the true loss is just −t·s; and it returns exactly 0 once 1 + e^{−t·s} rounds to 1
    (t·s > 36.7 in float64), where the true loss is e^{−t·s} > 0: harmless for the value of the
    loss, but all relative accuracy is gone.

    Parameters
    ----------
    s : array_like
        Logits.
    t : array_like
        Labels, −1 or +1, broadcastable against ``s``.
    dtype : {np.float64, np.float32}, default np.float64

    Returns
    -------
    numpy.ndarray or numpy scalar of type ``dtype``

    Examples
    --------
    >>> with np.errstate(over="ignore"):
    ...     print(naive_logistic_loss(-800.0, 1.0))
    inf
    """
    dt = _float_type(dtype)
    margin = _as_dtype(t, "t", dt) * _as_dtype(s, "s", dt)
    result = np.log(dt.type(1) + np.exp(-margin))
    return result[()] if np.ndim(result) == 0 else result


# ---------------------------------------------------------------------------------------------
# Walking through the floats in order
# ---------------------------------------------------------------------------------------------

def _to_ordered(x: np.ndarray, int_type) -> int:
    """An integer that orders the floats as their values do (−0.0 and +0.0 both map to 0)."""
    bits = int(np.asarray(x).view(int_type))
    if bits >= 0:
        return bits
    magnitude = bits & np.iinfo(int_type).max  # clear the sign bit
    return -magnitude


def _from_ordered(k: int, dt: np.dtype, int_type):
    """The float of type ``dt`` whose ordered integer (see :func:`_to_ordered`) is ``k``."""
    if k >= 0:
        bits = k
    else:
        bits = -k | int(np.iinfo(int_type).min)  # set the sign bit
    return np.array(bits, dtype=int_type).view(dt)[()]


def smallest_float_where(condition: Callable[[np.floating], bool], lo: float, hi: float,
                         dtype=np.float64):
    """The smallest float x of type ``dtype`` in (lo, hi] for which ``condition(x)`` is true.

    In the book: Chapter 3, §Where σ(s) becomes exactly 1, and where e^s overflows.

    Bisection over the floats themselves: every float of a type has an integer rank (its bit
    pattern, reordered so that negative numbers come first), neighbouring floats have
    neighbouring ranks, so bisecting the ranks finds the exact boundary in at most 64 steps,
    to the last bit, without choosing a tolerance.

    ``condition`` must be monotone on [lo, hi]: false at ``lo``, true at ``hi``, and once true,
    true for every larger float up to ``hi``. It is called with a NumPy scalar of type
    ``dtype``, inside ``np.errstate(all="ignore")`` (the conditions of interest are about
    overflow and rounding, so warnings are expected).

    Parameters
    ----------
    condition : callable
        float -> bool, monotone as described.
    lo, hi : float
        A bracket: ``condition(lo)`` false, ``condition(hi)`` true, ``lo < hi``.
    dtype : {np.float64, np.float32}, default np.float64

    Returns
    -------
    numpy.float64 or numpy.float32
        The first float (in increasing order) where the condition holds; its predecessor
        ``np.nextafter(x, -inf)`` is the last float where it does not.

    Raises
    ------
    ValueError
        If ``dtype`` is not float64/float32, the bracket is not finite or not increasing, or the
        condition is not false at ``lo`` and true at ``hi``.

    Examples
    --------
    >>> x = smallest_float_where(lambda x: x >= 1.5, 0.0, 2.0)
    >>> float(x)
    1.5
    """
    dt = _float_type(dtype)
    int_type = FLOAT_TYPES[dt]
    lo_f, hi_f = dt.type(lo), dt.type(hi)
    if not (np.isfinite(lo_f) and np.isfinite(hi_f) and lo_f < hi_f):
        raise ValueError(f"the bracket must be finite with lo < hi, got lo={lo!r}, hi={hi!r}")
    with np.errstate(all="ignore"):
        if condition(lo_f):
            raise ValueError(f"the condition is already true at lo={lo!r}: choose a smaller lo")
        if not condition(hi_f):
            raise ValueError(f"the condition is false at hi={hi!r}: choose a larger hi")
        a, b = _to_ordered(lo_f, int_type), _to_ordered(hi_f, int_type)  # false at a, true at b
        while b - a > 1:
            mid = (a + b) // 2
            if condition(_from_ordered(mid, dt, int_type)):
                b = mid
            else:
                a = mid
    return _from_ordered(b, dt, int_type)


def sigmoid_rounds_to_one(dtype=np.float64):
    """The smallest s of type ``dtype`` at which :func:`naive_sigmoid` returns exactly 1.0.

    In the book: Chapter 3, §Where σ(s) becomes exactly 1, and where e^s overflows.

    Found by bisection, not quoted. It lies where e^{−s} drops to half the spacing of the floats
    just above 1, i.e. near s = (m + 1)·ln 2 for a type with an m-bit fraction: about 36.74 in
    float64 (m = 52) and 16.64 in float32 (m = 23). From there on log(1 − σ(s)) = log 0.

    >>> round(float(sigmoid_rounds_to_one()), 2)
    36.74
    >>> round(float(sigmoid_rounds_to_one(np.float32)), 2)
    16.64
    """
    dt = _float_type(dtype)
    return smallest_float_where(lambda s: naive_sigmoid(s, dt) == 1, 0.0, 100.0, dt)


def one_minus_rounds_to_one(dtype=np.float64):
    """The smallest s of type ``dtype`` at which 1 − e^{−s} rounds to exactly 1.0.

    In the book: Chapter 3, §Where σ(s) becomes exactly 1, and where e^s overflows.

    σ(s) = 1 − e^{−s} + ... for large s, so from here on *no* formula can return a σ(s)
    below 1 in this type, even a perfectly rounded one: the float nearest to σ(s) is 1. It lies
    where e^{−s} drops to a quarter of the spacing above 1 (half the spacing below 1), near
    (m + 2)·ln 2: about 37.43 in float64 and 17.33 in float32.

    >>> round(float(one_minus_rounds_to_one()), 2)
    37.43
    """
    dt = _float_type(dtype)
    one = dt.type(1)
    return smallest_float_where(lambda s: one - np.exp(-s) == one, 0.0, 100.0, dt)


def exp_overflow_point(dtype=np.float64):
    """The smallest s of type ``dtype`` at which ``np.exp(s)`` overflows to inf.

    In the book: Chapter 3, §Where σ(s) becomes exactly 1, and where e^s overflows (and Chapter 5,
    §Numerics: log-sum-exp and the stable log-softmax).

    It lies just above log(largest finite float): about 709.78 in float64 and 88.72 in
    float32. The naive sigmoid computes e^{−s}, so it overflows for s below minus this value.

    >>> round(float(exp_overflow_point()), 2)
    709.78
    >>> round(float(exp_overflow_point(np.float32)), 2)
    88.72
    """
    dt = _float_type(dtype)
    return smallest_float_where(lambda s: np.isinf(np.exp(s)), 0.0, 1000.0, dt)
