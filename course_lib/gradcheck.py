"""Gradient checking: central finite differences and the relative error.

The recipe (CS231n's notes on gradient checking): compute the gradient you derived by hand,
compute a numerical estimate with :func:`numerical_gradient`, and compare the two with
:func:`relative_error`, never with a plain difference, because gradients of very different
sizes must be judged on one scale.

Reading the relative error in float64 (CS231n's rule of thumb, which chapter 2 follows): above
1e−2 the gradient is probably wrong, between 1e−4 and 1e−2 it is suspicious, and a correct
gradient of a smooth function should give 1e−7 or less. With h = 1e−5 it usually gives far
less: chapter 2 measures a median of about 4e−11 over 200 points of a sigmoid unit's BCE. A
larger error from a correct gradient has two usual causes: a kink, such as ReLU's at 0, within
h of a coordinate of x (a pre-activation with |a| < h), and a gradient entry near 0, which
leaves only rounding error to compare.

The error depends on h and on the precision. Truncation error grows like h² and rounding
error like ε·|f|/h (ε the machine epsilon), so the best h is of the order of ε^(1/3) and the
best error of the order of ε^(2/3): about 6e−6 and 4e−11 in float64, 5e−3 and 2e−5 in float32.
Measured in chapter 2 for float32: a median of about 1.5e−5 at its best h (about 2e−2), but
about 2e−2 with the float64 habit h = 1e−5, where a correct gradient looks wrong. Do gradient
checks in double precision.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._validation import as_float_array, check_same_shape, to_output

__all__ = ["numerical_gradient", "relative_error", "max_relative_error"]


def _as_number(value, where: str) -> float:
    """Turn what ``f`` returned into a float, or explain why that is not possible."""
    def not_a_number(why: str = "") -> TypeError:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:80] + "..."
        return TypeError(f"f must return a number, but at {where} it returned "
                         f"{type(value).__name__} {shown}{why}")

    if value is None:
        return_hint = "; did you forget the `return` in f?"
        raise not_a_number(return_hint)
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - ragged lists, a tensor that requires grad ...
        hint = (" (a tensor that requires grad: return loss.item() or float(loss))"
                if callable(getattr(value, "detach", None)) else f" ({type(exc).__name__}: {exc})")
        raise not_a_number(hint) from None
    if arr.dtype.kind not in "biuf":  # text, objects, complex numbers: not a real number
        raise not_a_number()
    arr = arr.astype(np.float64)
    if arr.size != 1:
        raise ValueError(f"f must return a single number (a scalar loss), but at {where} it "
                         f"returned an array of shape {arr.shape}; reduce it, e.g. with .sum()")
    number = float(arr.reshape(()))
    if not np.isfinite(number):
        raise ValueError(f"f returned {number} at {where}; a central difference needs finite "
                         "values on both sides of the point")
    return number


def numerical_gradient(f: Callable, x, h=1e-5):
    """Estimate the gradient of a scalar function f at x by central differences.

    In the book: Chapter 2, §Gradient checking done right (central, not one-sided, differences;
    the step h against ε^(1/3)).

    Formula, for every entry xᵢ of x (eᵢ is the i-th unit vector):

        ∂f/∂xᵢ ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / (2h)

    The central difference is accurate to O(h²) (the one-sided (f(x + h) − f(x))/h only to
    O(h)); in float64, h = 1e−5 balances that truncation error against rounding error
    (about ε·|f|/h with ε ≈ 2.2e−16). The denominator used is the actual distance between the
    two points as float64 numbers, (xᵢ + h) − (xᵢ − h), which is exactly 2h only when xᵢ ± h are
    representable; this removes one source of rounding error.

    The function is called 2·x.size times, each time with a fresh float64 copy of x in which
    one entry is moved; the caller's x is never modified.

    Parameters
    ----------
    f : callable
        f(x) -> a number (a Python/NumPy scalar, or an array or tensor with one entry). It
        receives a float64 array shaped like x (a NumPy float64 scalar if x is a scalar).
    x : array_like
        The point, finite real numbers of any shape.
    h : float, default 1e-5
        The step, a finite number > 0.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The estimated gradient, float64, with the shape of x (a scalar for a scalar x).

    Raises
    ------
    TypeError
        If f is not callable, or returns something that is not a number.
    ValueError
        If x is empty or not finite, h is not a finite number > 0 or is too small to move an
        entry of x, or f returns an array with more than one entry, or a non-finite value.

    Examples
    --------
    >>> numerical_gradient(lambda v: (v ** 2).sum(), [1.0, -2.0])   # 2x
    array([ 2., -4.])
    >>> round(float(numerical_gradient(np.sin, 0.0)), 8)   # cos 0
    1.0
    """
    if not callable(f):
        raise TypeError(f"f must be a function of x that returns a number, not "
                        f"{type(f).__name__}")
    x = as_float_array(x, "x", allow_inf=False,
                       inf_reason="A finite difference needs a finite point")
    h = as_float_array(h, "h", allow_inf=False)
    if h.ndim != 0 or not h > 0:
        raise ValueError(f"h must be a single number > 0 (the finite-difference step), not {h!r}")
    h = float(h)

    grad = np.empty(x.shape, dtype=np.float64)
    for index in np.ndindex(x.shape):
        where = "x" if not x.shape else f"x[{', '.join(map(str, index))}]"
        plus, minus = x.copy(), x.copy()
        plus[index] += h
        minus[index] -= h
        step = plus[index] - minus[index]
        if step == 0:
            raise ValueError(f"h = {h:g} is too small for {where} = {float(x[index])!r}: x + h "
                             "rounds to x; use a larger h")
        f_plus = _as_number(f(to_output(plus)), f"{where} + h")
        f_minus = _as_number(f(to_output(minus)), f"{where} - h")
        grad[index] = (f_plus - f_minus) / step
    return to_output(grad)


def relative_error(a, b):
    """The relative error between two numbers or arrays, elementwise.

    In the book: Chapter 2, §Gradient checking done right (relative, not absolute, error).

    Formula:

        rel(a, b) = |a − b| / max(|a|, |b|),    and 0 where a = b = 0.

    It is symmetric in a and b, lies in [0, 2] (2 only for opposite signs), and does not care
    about the overall scale: a gradient of size 1e−8 is judged as strictly as one of size 1e8.
    Where both are 0 the two agree perfectly, so the error is 0 rather than 0/0.

    Parameters
    ----------
    a, b : array_like
        Finite real numbers, the same shape (or one broadcastable to the other's shape).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        A float64 scalar for scalar inputs; otherwise the array of elementwise relative errors
        in the broadcast shape. Use :func:`max_relative_error` for the single worst value.

    Raises
    ------
    ValueError
        If a or b is empty, contains NaN or ±inf, or their shapes do not fit.
    TypeError
        If a or b is not numbers.

    Examples
    --------
    >>> float(relative_error(1.0, 1.1))   # 0.1 / 1.1
    0.09090909090909098
    >>> relative_error([0.0, 2.0], [0.0, -2.0])
    array([0., 2.])
    """
    reason = "The relative error is defined for finite numbers only"
    a, b = check_same_shape(a=as_float_array(a, "a", allow_inf=False, inf_reason=reason),
                            b=as_float_array(b, "b", allow_inf=False, inf_reason=reason))
    scale = np.maximum(np.abs(a), np.abs(b))
    both_zero = scale == 0
    return to_output(np.where(both_zero, 0.0, np.abs(a - b) / np.where(both_zero, 1.0, scale)))


def max_relative_error(a, b) -> np.float64:
    """The largest elementwise :func:`relative_error` between a and b, as one number.

    In the book: Chapter 2, §Gradient checking done right (the largest error sees the worst
    point).

    This is the number to report in a gradient check: max over entries of
    |a − b| / max(|a|, |b|) (0 where both are 0).

    Parameters
    ----------
    a, b : array_like
        As in :func:`relative_error`.

    Returns
    -------
    numpy.float64
        The worst relative error, in [0, 2].

    Raises
    ------
    ValueError, TypeError
        As :func:`relative_error`.

    Examples
    --------
    >>> float(max_relative_error([1.0, 2.0], [1.0, 2.2]))
    0.09090909090909098
    """
    return np.float64(np.max(relative_error(a, b)))
