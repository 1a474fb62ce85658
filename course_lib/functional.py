"""The sigmoid and its relatives, computed so that no finite input breaks them.

The textbook formulas fail in float64 long before the inputs look extreme: ``1 + exp(-s)``
overflows to inf for s < −709.78, ``exp(s)`` for s > 709.78, σ(s) rounds to exactly 1 from
s ≈ 36.7 so that ``log(1 − σ(s))`` becomes log 0 = −inf. Each function below is rearranged so
that ``exp`` only ever sees a non-positive argument (its result lies in (0, 1], it cannot
overflow) and small quantities are kept small (``log1p`` instead of ``log(1 + ...)``).

All functions are vectorised: they accept a Python number, a (nested) list or a NumPy array of
any integer, boolean or float dtype, compute in float64, and return a NumPy float64 scalar for
a scalar input and a float64 array of the same shape otherwise.

Infinite inputs: the functions of a logit accept ±inf and return the limits (σ(+inf) = 1,
σ(−inf) = 0, softplus(+inf) = +inf, log σ(−inf) = −inf, ...), so that ``sigmoid(logit(p))``
works for p = 0 and p = 1 too. NaN and empty arrays are refused with a ``ValueError``.
(The losses in :mod:`course_lib.losses` are stricter: they refuse infinite logits.)
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_in_unit_interval, to_output

__all__ = ["sigmoid", "log_sigmoid", "softplus", "logit", "sigmoid_grad", "softmax", "log_softmax"]


# ---------------------------------------------------------------------------------------------
# Unchecked float64 kernels, shared with course_lib.losses (which validates its own inputs).
# ---------------------------------------------------------------------------------------------

def _sigmoid(s: np.ndarray) -> np.ndarray:
    """σ(s) for a float64 array, with exp only of −|s| (never overflows)."""
    e = np.exp(-np.abs(s))  # in (0, 1]
    return np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(s: np.ndarray) -> np.ndarray:
    """log(1 + e^s) = max(s, 0) + log1p(e^{−|s|}) for a float64 array."""
    return np.maximum(s, 0.0) + np.log1p(np.exp(-np.abs(s)))


def _sigmoid_grad(s: np.ndarray) -> np.ndarray:
    """σ(s)·(1 − σ(s)) = e^{−|s|} / (1 + e^{−|s|})² for a float64 array."""
    e = np.exp(-np.abs(s))
    # For |s| near 1e-8 rounding can give 0.25000000000000006, one ulp above the maximum
    # (the exact value, 1/4 − s²/16, rounds to 0.25): keep the result in [0, 1/4].
    return np.minimum(e / (1.0 + e) ** 2, 0.25)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------

def sigmoid(s):
    """The logistic sigmoid σ(s) = 1 / (1 + e^{−s}), which maps a logit to a probability.

    In the book: Chapter 1, §The sigmoid and the logit; why it is computed this way: the
    warm-up, §The sigmoid, and where its textbook formula breaks, and Chapter 3, §The stable
    forms.

    Stable computation: with e = e^{−|s|} (always in (0, 1], so it cannot overflow),

        σ(s) = 1 / (1 + e)     for s ≥ 0,
        σ(s) = e / (1 + e)     for s < 0   (multiply top and bottom of the formula by e^{s}).

    The textbook formula would compute e^{−s} = e^{1000} = inf for s = −1000: the result,
    1/inf = 0, happens to be right, but with a warning, and the same trick fails elsewhere
    (inf/inf = NaN). This form never produces NaN, and keeps full *relative* accuracy for very
    negative s, where σ(s) ≈ e^{s} is tiny but not zero (σ(−700) ≈ 9.86e−305). From s ≈ 36.74
    on the result is exactly 1.0 in float64, because 1 + e^{−s} rounds to 1 once
    e^{−s} < 2^{−53} ≈ 1.1e−16. (The correctly rounded σ(s) would still be 1 − 2^{−53}, the
    float just below 1, up to s ≈ 37.43, beyond which no float64 formula can return less than
    1; see :func:`course_lib.numerics.one_minus_rounds_to_one`.) That is rounding, not a bug,
    and the reason losses should be computed from logits.

    Parameters
    ----------
    s : array_like
        Logits: any real numbers, ±inf allowed (σ(+inf) = 1, σ(−inf) = 0).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        σ(s) in [0, 1], float64, the shape of ``s``.

    Raises
    ------
    ValueError
        If ``s`` is empty or contains NaN.
    TypeError
        If ``s`` is not numbers (e.g. text).

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    >>> sigmoid([-1000.0, 1000.0])
    array([0., 1.])
    """
    return to_output(_sigmoid(as_float_array(s, "s")))


def log_sigmoid(s):
    """The log of the sigmoid, log σ(s) = −log(1 + e^{−s}) = −softplus(−s).

    In the book: Chapter 3, §The stable forms.

    Stable computation: log σ(s) = −(max(−s, 0) + log1p(e^{−|s|})).

    Taking ``np.log(sigmoid(s))`` fails at both ends: for s = −1000, σ(s) underflows to 0 and
    the log is −inf, although the exact answer is ≈ −1000; for s = 40, σ(s) rounds to 1 and
    the log is 0, although the exact answer is −e^{−40} ≈ −4.2e−18. Written as a softplus,
    the large part (max(−s, 0)) is exact and the small correction log1p(e^{−|s|}) ≤ log 2 keeps
    its relative accuracy.

    Parameters
    ----------
    s : array_like
        Logits: any real numbers, ±inf allowed (log σ(+inf) = 0, log σ(−inf) = −inf).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        log σ(s) ≤ 0, float64, the shape of ``s``.

    Raises
    ------
    ValueError
        If ``s`` is empty or contains NaN.
    TypeError
        If ``s`` is not numbers.

    Examples
    --------
    >>> float(log_sigmoid(-1000.0))
    -1000.0
    >>> round(float(log_sigmoid(0.0)), 6)   # log(1/2)
    -0.693147
    """
    return to_output(-_softplus(-as_float_array(s, "s")))


def softplus(s):
    """The softplus, softplus(s) = log(1 + e^{s}), a smooth version of max(s, 0).

    In the book: Chapter 3, §The two forms are one function, and §The stable forms.

    Stable computation: softplus(s) = max(s, 0) + log1p(e^{−|s|}).

    This is exact algebra (for s > 0, log(1 + e^{s}) = s + log(1 + e^{−s})). It avoids
    computing e^{s}, which overflows for s > 709.78, and log1p keeps the tiny values right:
    softplus(s) = s for large s (the correction is below the last digit of s), and
    softplus(s) ≈ e^{s} for very negative s (softplus(−700) ≈ 9.86e−305, not 0).
    Note that PyTorch's ``F.softplus`` returns s itself for s > 20 (its ``threshold``), which
    is off by up to e^{−20} ≈ 2e−9 (relative 1e−10) just above 20; this function is not.

    Parameters
    ----------
    s : array_like
        Any real numbers, ±inf allowed (softplus(+inf) = +inf, softplus(−inf) = 0).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        softplus(s) ≥ max(s, 0), float64, the shape of ``s``.

    Raises
    ------
    ValueError
        If ``s`` is empty or contains NaN.
    TypeError
        If ``s`` is not numbers.

    Examples
    --------
    >>> float(softplus(1e300))
    1e+300
    >>> float(softplus(-800.0))   # e^{-800} is below the smallest float64
    0.0
    """
    return to_output(_softplus(as_float_array(s, "s")))


def logit(p):
    """The logit (log-odds), the inverse of the sigmoid: logit(p) = log(p / (1 − p)).

    In the book: Chapter 1, §The sigmoid and the logit.

    Stable computation:

        logit(p) = log(p) − log1p(−p)      for p < 1/4,
        logit(p) = 2·atanh(2p − 1)         for p ≥ 1/4.

    Near p = 1/2 the logit is close to 0 and ``log(p/(1 − p))`` loses relative accuracy (it
    takes the log of a number close to 1); 2p − 1 is computed exactly for p ≥ 1/4 and atanh is
    accurate near 0, so the second form keeps it. For small p the first form has no
    cancellation (log p dominates), and log1p keeps log(1 − p) exact to the last digit.

    The end points give the mathematically right answers: logit(0) = −inf and logit(1) = +inf
    (no warning is printed). A probability of exactly 0 or 1 has no finite log-odds; that is
    why a logistic model can never output them, and why a classifier fed such "probabilities"
    needs them clipped first.

    Parameters
    ----------
    p : array_like
        Probabilities in [0, 1].

    Returns
    -------
    numpy.float64 or numpy.ndarray
        logit(p), float64, the shape of ``p``; ±inf at p = 1 and p = 0.

    Raises
    ------
    ValueError
        If ``p`` is empty, contains NaN, or has an entry outside [0, 1].
    TypeError
        If ``p`` is not numbers.

    Examples
    --------
    >>> float(logit(0.5))
    0.0
    >>> round(float(logit(492 / 284807)), 5)
    -6.35936
    >>> logit([0.0, 1.0])
    array([-inf,  inf])
    """
    p = as_float_array(p, "p")
    check_in_unit_interval(p, "p", hint="The logit is defined only for probabilities")
    with np.errstate(divide="ignore"):  # log(0) = -inf and atanh(1) = +inf are wanted
        small = np.log(np.where(p < 0.25, p, 0.5)) - np.log1p(-np.where(p < 0.25, p, 0.5))
        large = 2.0 * np.arctanh(2.0 * np.where(p >= 0.25, p, 0.5) - 1.0)
    return to_output(np.where(p < 0.25, small, large))


def sigmoid_grad(s):
    """The derivative of the sigmoid, σ'(s) = σ(s)·(1 − σ(s)) = σ(s)·σ(−s).

    In the book: The warm-up, §The derivative of the sigmoid (derived once there); used in Chapter
    2, §Depth: why gradients vanish through a stack of sigmoids (σ′ ≤ 1/4).

    Stable computation: with e = e^{−|s|} ∈ (0, 1], σ'(s) = e / (1 + e)².

    Computing ``sigmoid(s) * (1 - sigmoid(s))`` gives exactly 0 from s ≈ 36.7 on, because σ(s)
    rounds to 1 there, although σ'(40) ≈ 4.25e−18. The form above is symmetric in s (σ' is an
    even function) and keeps full relative accuracy as long as e^{−|s|} is a normal float
    (|s| < 708.4); beyond that e^{−|s|} is subnormal and loses digits gradually, and it
    underflows to 0 from |s| ≈ 745.1. The largest value is σ'(0) = 1/4: a sigmoid unit passes back at most a quarter
    of the gradient it receives, and almost nothing when it saturates.

    Parameters
    ----------
    s : array_like
        Logits: any real numbers, ±inf allowed (σ'(±inf) = 0).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        σ'(s) in [0, 1/4], float64, the shape of ``s``.

    Raises
    ------
    ValueError
        If ``s`` is empty or contains NaN.
    TypeError
        If ``s`` is not numbers.

    Examples
    --------
    >>> float(sigmoid_grad(0.0))
    0.25
    >>> bool(sigmoid_grad(40.0) > 0)
    True
    """
    return to_output(_sigmoid_grad(as_float_array(s, "s")))


# ---------------------------------------------------------------------------------------------
# The softmax (chapter 5): K logits per example instead of one
# ---------------------------------------------------------------------------------------------

def _check_logit_rows(S, axis, name: str = "S") -> tuple[np.ndarray, int]:
    """``S`` as float64 with a valid ``axis``; +inf refused, −inf allowed unless a whole row is."""
    S = as_float_array(S, name)
    if S.ndim == 0:
        raise ValueError(f"{name} is a single number; the softmax needs a vector of logits, one "
                         f"per class (shape (K,), or (N, K) for N examples)")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"axis must be an integer, not {axis!r}")
    if not -S.ndim <= int(axis) < S.ndim:
        raise ValueError(f"axis {axis} is out of range for {name} with {S.ndim} dimension(s) "
                         f"(shape {S.shape})")
    axis = int(axis) % S.ndim
    if np.any(S == np.inf):
        flat = int(np.flatnonzero(S == np.inf)[0])
        where = np.unravel_index(flat, S.shape)
        raise ValueError(f"{name} must not contain +inf, but {name}[{', '.join(map(str, where))}] = "
                         "inf: a logit of +inf has no finite difference to the others (inf − inf "
                         "is undefined); look for an overflow where the logits were computed")
    if np.any(np.all(S == -np.inf, axis=axis)):
        raise ValueError(f"{name} has a row (along axis {axis}) whose logits are all −inf: every "
                         "class would have probability 0, and they must sum to 1")
    return S, axis


def _shifted_and_log_rest(S: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """z = S − max(S) along ``axis`` (so z ≤ 0, with one 0 per row) and log1p(Σ_{j≠j*} e^{z_j}),
    where j* is the (first) position of the maximum; log Σ_j e^{S_j} = max(S) + that log1p.

    Splitting off the 1 contributed by the largest logit keeps the tiny terms: for S = (40, 0)
    log(1 + e^{−40}) would round to log 1 = 0, while log1p(e^{−40}) ≈ 4.2e−18 is exact."""
    m = np.max(S, axis=axis, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):   # −inf − m = −inf; huge gaps overflow to −inf
        z = S - m
    e = np.exp(z)                                         # in [0, 1], exactly 1 at the maximum
    first = np.argmax(S, axis=axis)
    np.put_along_axis(e, np.expand_dims(first, axis), 0.0, axis=axis)
    return z, np.log1p(np.sum(e, axis=axis, keepdims=True))


def _log_softmax(S: np.ndarray, axis: int = -1) -> np.ndarray:
    z, log_rest = _shifted_and_log_rest(S, axis)
    return z - log_rest


def _softmax(S: np.ndarray, axis: int = -1) -> np.ndarray:
    z, _ = _shifted_and_log_rest(S, axis)
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def softmax(S, axis=-1):
    """The softmax, which turns K logits into K probabilities: p_k = e^{s_k} / Σ_j e^{s_j}.

    In the book: Chapter 5, §The softmax.

    Stable computation. Adding the same constant c to every logit multiplies numerator and
    denominator by e^{c} and leaves p unchanged, so the function subtracts the largest logit
    first, z = s − max(s): then every e^{z_k} lies in [0, 1] (no overflow), the largest is
    exactly 1 (the denominator is at least 1, no division by 0), and the result is finite and
    correct for every finite input, up to ±1e308. The textbook formula computes e^{s_k}
    directly, which overflows to inf past s ≈ 709.78 and gives inf/inf = NaN.

    For K = 2 (classes 0 and 1) p₁ = σ(s₁ − s₀): the sigmoid is the two-class softmax.

    Parameters
    ----------
    S : array_like
        Logits, with the classes along ``axis``: shape (K,) for one example, (N, K) for N.
        −inf is allowed (that class gets probability exactly 0, as a mask), +inf is not.
    axis : int, default -1
        The axis of the classes.

    Returns
    -------
    numpy.ndarray
        Probabilities in [0, 1], float64, the shape of ``S``, summing to 1 along ``axis`` (up
        to rounding).

    Raises
    ------
    ValueError
        If ``S`` is a single number, empty, contains NaN or +inf, has a row of −inf only, or
        ``axis`` is out of range.
    TypeError
        If ``S`` is not numbers.

    Examples
    --------
    >>> softmax([0.0, 0.0])
    array([0.5, 0.5])
    >>> softmax([1000.0, 0.0])          # the textbook formula gives [nan, 0]
    array([1., 0.])
    >>> np.round(softmax([[1.0, 2.0, 3.0]]), 6)
    array([[0.090031, 0.244728, 0.665241]])
    """
    S, axis = _check_logit_rows(S, axis)
    return _softmax(S, axis)


def log_softmax(S, axis=-1):
    """The log of the softmax: log p_k = s_k − log Σ_j e^{s_j} = s_k − logsumexp(s).

    In the book: Chapter 5, §Numerics: log-sum-exp and the stable log-softmax.

    Stable computation. With m = max(s) and z = s − m,

        log p_k = z_k − log1p( Σ_{j ≠ j*} e^{z_j} ),

    where j* is the position of the largest logit (its e^{z} is exactly 1 and is taken out of
    the sum). Every exponent is ≤ 0, so nothing overflows; log1p keeps the log-probability of
    a confident class accurate (log_softmax([40, 0])[0] = −log(1 + e^{−40}) ≈ −4.2e−18, where
    ``np.log(softmax(S))`` gives 0 and PyTorch's ``log_softmax`` gives 0 too), and a tiny
    probability keeps its log (log_softmax([0, −1000])[1] = −1000, where log(softmax) gives
    log 0 = −inf). The result is finite for every finite input whose logits differ by less
    than about 1.8e308 (beyond that the exact answer itself is not a float64).

    Parameters
    ----------
    S : array_like
        Logits, classes along ``axis`` (see :func:`softmax`); −inf allowed (log p = −inf).
    axis : int, default -1
        The axis of the classes.

    Returns
    -------
    numpy.ndarray
        log p ≤ 0, float64, the shape of ``S``.

    Raises
    ------
    ValueError, TypeError
        As :func:`softmax`.

    Examples
    --------
    >>> log_softmax([0.0, -1000.0])
    array([    0., -1000.])
    >>> bool(log_softmax([40.0, 0.0])[0] < 0)
    True
    >>> np.round(log_softmax([1.0, 1.0, 1.0]), 6)    # log(1/3)
    array([-1.098612, -1.098612, -1.098612])
    """
    S, axis = _check_logit_rows(S, axis)
    return _log_softmax(S, axis)
