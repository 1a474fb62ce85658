"""Entropy, cross-entropy and KL divergence of Bernoulli distributions, in nats.

A binary label is a Bernoulli random variable: it is 1 with probability p and 0 with
probability 1 − p. For two such distributions, the "true" one with parameter p and a model's
with parameter q:

=====================================  ======================================================
:func:`bernoulli_entropy`  H(p)        −p log p − (1 − p) log(1 − p)
:func:`bernoulli_cross_entropy` H(p,q)  −p log q − (1 − p) log(1 − q)
:func:`bernoulli_kl` KL(p‖q)           p log(p/q) + (1 − p) log((1 − p)/(1 − q))
=====================================  ======================================================

and the identity that ties them together, H(p, q) = H(p) + KL(p‖q) with KL(p‖q) ≥ 0 (zero only
at q = p). The binary cross-entropy loss of one example is H(y, q) with the label as the "true"
distribution (p = y ∈ {0, 1}, so H(y) = 0 and the loss *is* a KL divergence); the mean loss
of a constant prediction q on data with base rate π is H(π, q), smallest at q = π, where it
equals H(π).

Conventions: logs are natural (nats; divide by log 2 for bits) and 0·log 0 = 0, the limit of
x log x as x → 0, so a term whose weight is 0 contributes 0 whatever its log is. Where a
positive weight meets log 0 (p > 0 but q = 0, or p < 1 but q = 1) the value is +inf: the model
gave probability 0 to something that happens. No warnings are printed for that.

All functions are vectorised, accept Python numbers, lists or NumPy arrays (p and q of the same
shape, or one broadcastable to the other's shape), compute in float64, and return a NumPy
float64 scalar for scalar input. Bad input raises ``ValueError`` (``TypeError`` for text).
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_in_unit_interval, check_same_shape, to_output
from .init import base_rate_entropy

__all__ = ["bernoulli_entropy", "bernoulli_cross_entropy", "bernoulli_kl"]


def _probability(x, name: str) -> np.ndarray:
    x = as_float_array(x, name)
    check_in_unit_interval(x, name, hint="It is the parameter of a Bernoulli distribution, "
                                         "a probability")
    return x


def _weighted_log(weight: np.ndarray, log_value: np.ndarray) -> np.ndarray:
    """weight · log_value with the convention 0 · (anything, −inf included) = 0."""
    safe = np.where(weight > 0, log_value, 0.0)
    return np.where(weight > 0, weight * safe, 0.0)


def bernoulli_entropy(p):
    """The entropy of a Bernoulli(p) label in nats: H(p) = −p log p − (1 − p) log(1 − p).

    In the book: Chapter 3, §Cross-entropy as information.

    It measures how uncertain the label is: 0 when it is certain (p = 0 or 1), largest,
    log 2 ≈ 0.693 nats (one bit), at p = 1/2. This is the same function as
    :func:`course_lib.init.base_rate_entropy` (which this calls): the entropy of the base rate
    is the smallest mean cross-entropy any constant prediction can reach.

    Parameters
    ----------
    p : array_like
        Probabilities in [0, 1].

    Returns
    -------
    numpy.float64 or numpy.ndarray
        H(p) in [0, log 2].

    Raises
    ------
    ValueError
        If p is empty, contains NaN, or has an entry outside [0, 1].
    TypeError
        If p is not numbers.

    Examples
    --------
    >>> round(float(bernoulli_entropy(0.5)), 6)   # log 2
    0.693147
    >>> bernoulli_entropy([0.0, 1.0])
    array([0., 0.])
    """
    return base_rate_entropy(p)


def bernoulli_cross_entropy(p, q):
    """The cross-entropy of Bernoulli(q) relative to Bernoulli(p): H(p, q) = −p log q − (1 − p) log(1 − q).

    In the book: Chapter 3, §Cross-entropy as information.

    The expected cost, in nats, of a label drawn with probability p of being 1 when it is
    scored by a model that says q: E_{y∼p}[−log q^y (1 − q)^{1−y}]. With p = y ∈ {0, 1} it is the
    binary cross-entropy loss of one example; with p = π, the base rate, it is the mean loss of
    predicting the constant q on every example. H(p, p) = H(p), and H(p, q) ≥ H(p).

    Stable computation: log(1 − q) as log1p(−q); 0·log 0 = 0, so H(0, 0) = H(1, 1) = 0; +inf
    where a positive weight meets log 0 (e.g. p > 0, q = 0), without a warning.

    Parameters
    ----------
    p : array_like
        The true probabilities (or labels) in [0, 1].
    q : array_like
        The model's probabilities in [0, 1]; same shape as p, or one broadcastable to the other.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        H(p, q) ≥ 0 in nats, possibly +inf.

    Raises
    ------
    ValueError
        If p or q is empty, contains NaN, has an entry outside [0, 1], or the shapes do not fit.
    TypeError
        If p or q is not numbers.

    Examples
    --------
    >>> round(float(bernoulli_cross_entropy(1.0, 0.9)), 6)   # −log 0.9, the BCE of one example
    0.105361
    >>> float(bernoulli_cross_entropy(0.5, 0.0))
    inf
    """
    p, q = check_same_shape(p=_probability(p, "p"), q=_probability(q, "q"))
    with np.errstate(divide="ignore"):  # log 0 = -inf is wanted (weighted by 0, or giving +inf)
        log_q, log_1mq = np.log(q), np.log1p(-q)
    return to_output(-_weighted_log(p, log_q) - _weighted_log(1.0 - p, log_1mq))


def bernoulli_kl(p, q):
    """The Kullback-Leibler divergence KL(p‖q) = p log(p/q) + (1 − p) log((1 − p)/(1 − q)), in nats.

    In the book: Chapter 3, §Cross-entropy as information.

    How many extra nats per label it costs to score labels drawn from Bernoulli(p) with a model
    that says q: KL(p‖q) = H(p, q) − H(p). It is ≥ 0 and is 0 only at q = p (Gibbs' inequality),
    and it is not symmetric: KL(p‖q) ≠ KL(q‖p) in general.

    Stable computation: the two terms of the definition have opposite signs and nearly cancel
    when q is close to p (KL(p‖p + δ) ≈ δ²/(2p(1 − p)), while each term is of size δ), so
    neither the definition nor H(p, q) − H(p) keeps a tiny divergence. Since
    p·(q − p)/p + (1 − p)·(p − q)/(1 − p) = 0, the divergence can be rewritten as a sum of two
    terms that are each ≥ 0,

        KL(p‖q) = p·φ((q − p)/p) + (1 − p)·φ((p − q)/(1 − p)),     φ(u) = u − log(1 + u) ≥ 0,

    with q − p computed from the inputs (exactly, when q is near p). φ(u) is evaluated without
    cancellation: for |u| ≤ 1/2 from the series φ(u) = 2r²/(1 − r) − 2(r³/3 + r⁵/5 + …),
    r = u/(2 + u), whose terms do not cancel; for larger |u| as u − log1p(u). The result is
    correct to a few units in the last place (relative error below 1e−15 in the tests, against
    a 500-digit decimal reference, wherever the result is not subnormal), q − p = 1e−12
    included. A term of weight 0 contributes its 0·log 0 = 0 (KL(0‖q) = −log(1 − q),
    KL(1‖q) = −log q); +inf where p > 0 = q or p < 1 = q, without a warning.

    Parameters
    ----------
    p : array_like
        The true probabilities in [0, 1].
    q : array_like
        The model's probabilities in [0, 1]; same shape as p, or one broadcastable to the other.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        KL(p‖q) ≥ 0, possibly +inf.

    Raises
    ------
    ValueError
        If p or q is empty, contains NaN, has an entry outside [0, 1], or the shapes do not fit.
    TypeError
        If p or q is not numbers.

    Examples
    --------
    >>> float(bernoulli_kl(0.3, 0.3))
    0.0
    >>> round(float(bernoulli_kl(0.5, 0.25)), 6)   # 0.5 log 2 + 0.5 log(2/3)
    0.143841
    """
    p, q = check_same_shape(p=_probability(p, "p"), q=_probability(q, "q"))
    p, q = np.broadcast_arrays(p, q)
    # log 0 = −inf only where the KL is +inf; u overflows or underflows only where harmless.
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        diff = q - p   # exact when q and p are within a factor 2 of each other (Sterbenz)
        kl = _kl_term(p, diff, q) + _kl_term(1.0 - p, -diff, 1.0 - q)
    return to_output(np.maximum(kl, 0.0))


#: 1/3, 1/5, 1/7, ...: the coefficients of atanh(r)/r − 1 = r²/3 + r⁴/5 + … (in powers of r²).
#: With |r| ≤ 1/3 (|u| ≤ 1/2) the 20 terms leave a truncation error below 1e−19 relative.
_ATANH_COEFFS = 1.0 / np.arange(3.0, 43.0, 2.0)


def _phi_small(u: np.ndarray) -> np.ndarray:
    """φ(u) = u − log(1 + u) for |u| ≤ 1/2, to a few ulps.

    With r = u/(2 + u), log(1 + u) = 2·atanh(r) and u = 2r/(1 − r), so
    φ(u) = 2r²/(1 − r) − 2r³·(1/3 + r²/5 + r⁴/7 + …). For r < 0 both parts are ≥ 0; for r > 0
    the second is at most r/3 of the first: nothing cancels.
    """
    r = u / (2.0 + u)
    r2 = r * r
    tail = np.zeros_like(r)
    for c in _ATANH_COEFFS[::-1]:   # Horner in r²
        tail = tail * r2 + c
    return 2.0 * r2 / (1.0 - r) - 2.0 * r * r2 * tail


def _kl_term(a: np.ndarray, diff: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a·log(a/b) + (b − a) = a·φ((b − a)/a) ≥ 0, with diff = b − a given exactly.

    The (b − a) parts of the two terms of the KL sum to 0. Weight a = 0: the term is b − a = b
    (0·log 0 = 0). b = 0 < a: +inf.
    """
    out = np.empty(np.shape(a))
    zero = a == 0.0
    out[zero] = diff[zero]
    a, diff, b = a[~zero], diff[~zero], b[~zero]
    u = diff / a   # >= −1; may overflow to +inf when a is tiny
    small = np.abs(u) <= 0.5
    phi = _phi_small(np.where(small, u, 0.0))
    # Large |u|: φ(u) = u − log1p(u) has no harmful cancellation; write a·φ(u) as
    # (b − a) − a·log(b/a). log(b/a) as log1p(u) for u > 1/2; near u = −1 as log of the
    # ratio itself (b is exact there, and u = −1 + 1e−24 would round to −1); where u
    # overflows or b/a is subnormal (a or b tiny) as log b − log a, accurate as it is large.
    ratio = b / a
    log_ratio = np.where(u > 0.0, np.log1p(u), np.log(ratio))
    huge = ~np.isfinite(u) | (ratio < np.finfo(np.float64).tiny)
    log_ratio = np.where(huge, np.log(b) - np.log(a), log_ratio)
    large = np.where(b == 0.0, np.inf, diff - a * log_ratio)
    out[~zero] = np.where(small, a * phi, large)
    return out
