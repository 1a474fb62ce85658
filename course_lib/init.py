"""Initialising the output bias to the class prior, and the loss that this initialisation gives.

A classifier whose last layer is σ(w·h + b) starts, with small random weights, near
p = σ(b). With b = 0 (what Keras's ``Dense`` uses when it is given no bias initialiser; the
TensorFlow tutorial's ``make_model`` passes ``bias_initializer=None``, which tf.keras replaces by
Glorot-uniform, ±√3 ≈ ±1.73 for a single output bias) every prediction is about 1/2
and the initial loss is about ln 2 ≈ 0.693 nats, however rare the positive class is; the first
epochs are spent learning what the class prior is. PyTorch's ``nn.Linear`` does not start at
0: it draws its bias, like its weights, uniformly from ±1/√fan_in (±0.25 for 16 inputs), so the
initial loss there is of the order of ln 2, above or below it depending on the draw. Setting σ(b₀) = pos/N instead gives

    b₀ = log(p / (1 − p)) = log(pos / neg),

the logit of the base rate (and the maximum-likelihood intercept of a bias-only model). The
loss of that constant prediction is the entropy of the base rate, H(p), which for 492 frauds
among 284,807 transactions is about 0.0127 nats, some 54.5 times smaller than ln 2. An untrained
network with this bias starts near H(p), not exactly at it, and not always above it: its logits
vary around b₀ and, being functions of the features, correlate with the labels.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_float_array,
    check_in_set,
    check_in_unit_interval,
    check_positive,
    check_same_shape,
    to_output,
)

__all__ = ["prior_bias", "prior_bias_from_labels", "base_rate_entropy", "prior_bias_multiclass"]


def _count(x, name: str) -> np.ndarray:
    x = as_float_array(x, name, allow_inf=False,
                       inf_reason="It should be a count (or a share) of examples")
    check_positive(x, name, hint="The prior bias log(pos/neg) needs examples of both classes")
    return x


def prior_bias(pos, neg):
    """The output bias that makes σ(b) equal the base rate: b₀ = log(pos / neg).

    In the book: Chapter 4, §The prior bias (b₀ and L(b₀) = H(π) are derived in
    Chapter 3, §The best constant prediction).

    Formula. With N = pos + neg and base rate p = pos/N, solving σ(b) = 1/(1 + e^{−b}) = p for
    b gives b = log(p / (1 − p)) = log(pos/neg): the log-odds of the positive class. The same
    follows from the odds: P(y=0)/P(y=1) = e^{−b} = neg/pos.

    How to compute it: log(pos / neg), the log of the ratio, is the recommended form (and what
    this function does). The ratio is rounded once (a relative error of at most the unit
    roundoff u ≈ 1.1e-16, which the log turns into an absolute error of about u), and the log's
    result is rounded to half an ulp of |b₀| (about |b₀|·u), so b₀ has an absolute error of
    about (1 + |b₀|)·u: ~1e-16 only near b₀ = 0, about 5e-16 at the fraud data's b₀ = −6.36.
    log(pos) − log(neg) adds the rounding errors of two logs of size
    log(count), about 35 for counts near 1e15, and is up to that many times less accurate, which
    matters most near b₀ = 0, where the difference cancels. Neither form keeps full *relative*
    accuracy when b₀ is tiny (pos/neg within ~1e-12 of 1, say): an absolute error of ~1e-16 is
    then a large part of b₀.
    Only if the ratio overflows or underflows (counts beyond ~1e300 apart) does this function
    fall back to log(pos) − log(neg).

    Parameters
    ----------
    pos : array_like
        Number of positive examples, > 0 (any positive real: counts, shares or weights).
    neg : array_like
        Number of negative examples, > 0; same shape as ``pos`` or broadcastable.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        b₀ (a float64 scalar for scalar inputs).

    Raises
    ------
    ValueError
        If pos or neg is 0, negative, infinite or NaN (with no examples of a class the prior is
        ±inf and no finite bias reaches it), or their shapes do not fit.
    TypeError
        If pos or neg is not numbers.

    Examples
    --------
    >>> round(float(prior_bias(492, 284315)), 5)
    -6.35936
    >>> round(float(prior_bias(1, 99)), 3)   # RetinaNet's π = 0.01
    -4.595
    """
    pos, neg = check_same_shape(pos=_count(pos, "pos"), neg=_count(neg, "neg"))
    with np.errstate(over="ignore", under="ignore"):
        ratio = pos / neg
    in_range = np.isfinite(ratio) & (ratio >= np.finfo(np.float64).tiny)
    safe_ratio = np.where(in_range, ratio, 1.0)
    return to_output(np.where(in_range, np.log(safe_ratio), np.log(pos) - np.log(neg)))


def prior_bias_from_labels(y):
    """The prior bias b₀ = log(pos / neg) counted from an array of 0/1 labels.

    In the book: Chapter 4, §The prior bias.

    Formula: pos = Σ yᵢ, neg = N − pos, b₀ = log(pos/neg) (see :func:`prior_bias`); this is
    also the logit of the mean label, logit(ȳ).

    Parameters
    ----------
    y : array_like
        Labels, each 0 or 1 (booleans are fine), any shape.

    Returns
    -------
    numpy.float64
        b₀.

    Raises
    ------
    ValueError
        If y is empty, contains anything but 0 and 1, or contains only one class (then the
        prior is 0 or 1, its log-odds are −inf or +inf, and no finite bias reaches it).
    TypeError
        If y is not numbers.

    Examples
    --------
    >>> round(float(prior_bias_from_labels([1, 0, 0, 0])), 6)   # log(1/3)
    -1.098612
    """
    y = as_float_array(y, "y")
    check_in_set(y, "y", (0.0, 1.0), hint="prior_bias_from_labels counts hard 0/1 labels")
    pos = float(np.sum(y))
    neg = y.size - pos
    if pos == 0 or neg == 0:
        only, sign = ("0 (negative)", "-inf") if pos == 0 else ("1 (positive)", "+inf")
        raise ValueError(f"y contains only one class: all {y.size} labels are {only}. The "
                         f"base rate is then exactly {0 if pos == 0 else 1}, its log-odds "
                         f"log(pos/neg) are {sign}, and no finite bias reaches it")
    return prior_bias(pos, neg)


def base_rate_entropy(p):
    """The entropy of a Bernoulli(p) label in nats: H(p) = −p ln p − (1 − p) ln(1 − p).

    In the book: Chapter 3, §The best constant prediction (L(b₀) = H(π)); used in Chapter 4, §A
    model that is only a bias.

    This is the smallest mean binary cross-entropy a *constant* prediction can achieve on data
    with base rate p: predicting q everywhere costs −p ln q − (1 − p) ln(1 − q), which is
    minimal at q = p, with value H(p). So it is the initial loss of a model whose output bias
    is :func:`prior_bias`, approximately: an untrained network's logits spread around that
    bias and correlate with the labels, which moves its loss a little, in either direction.
    H(1/2) = ln 2, the loss at b = 0.

    Stable computation: by the convention 0·ln 0 = 0 (the limit of x ln x as x → 0), each term
    is 0 where its factor is 0, so H(0) = H(1) = 0 exactly, with no NaN from 0·(−inf); ln(1 − p)
    is computed as log1p(−p), exact for small p.

    Parameters
    ----------
    p : array_like
        Base rate(s) in [0, 1].

    Returns
    -------
    numpy.float64 or numpy.ndarray
        H(p) in [0, ln 2], in nats (divide by ln 2 for bits).

    Raises
    ------
    ValueError
        If p is empty, contains NaN, or has an entry outside [0, 1].
    TypeError
        If p is not numbers.

    Examples
    --------
    >>> round(float(base_rate_entropy(492 / 284807)), 7)
    0.0127147
    >>> round(float(base_rate_entropy(0.0018)), 5)   # the rate the TensorFlow tutorial states
    0.01317
    >>> round(float(base_rate_entropy(0.0017)), 5)   # 492/284807 to two significant figures
    0.01254
    >>> float(base_rate_entropy(0.0))
    0.0
    """
    p = as_float_array(p, "p")
    check_in_unit_interval(p, "p", hint="The base rate is a fraction of examples")
    positive_part = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    negative_part = np.where(p < 1, -(1.0 - p) * np.log1p(-np.where(p < 1, p, 0.0)), 0.0)
    return to_output(positive_part + negative_part)


def prior_bias_multiclass(counts):
    """The K-class prior bias: b_k = log n_k − mean_j log n_j, so that softmax(b) = the class shares.

    In the book: Chapter 5, §The prior bias for K classes.

    Formula. A softmax output layer whose weights start near 0 predicts p = softmax(b). Asking
    for p_k = π_k = n_k / N gives e^{b_k} / Σ_j e^{b_j} = π_k, i.e. b_k = log π_k + c for any
    constant c (the softmax ignores a common shift of its logits). Choosing c so that the
    biases have mean 0 gives b_k = log n_k − (1/K) Σ_j log n_j (N cancels). It is the
    maximum-likelihood bias of a bias-only model: the gradient of the mean cross-entropy,
    mean(p − onehot(y)) = softmax(b) − π, is zero there, and the loss is the entropy of the
    class distribution, −Σ_k π_k log π_k. For K = 2 the difference b₁ − b₀ = log(n₁/n₀) is
    :func:`prior_bias`.

    Parameters
    ----------
    counts : array_like, shape (K,)
        The number of examples of each class (or any positive shares or weights), K ≥ 2, each
        > 0 and finite.

    Returns
    -------
    numpy.ndarray, shape (K,)
        The biases, with mean 0 (up to rounding).

    Raises
    ------
    ValueError
        If counts is not one-dimensional with at least 2 entries, or has an entry that is 0,
        negative, infinite or NaN (a class with no examples has prior 0 and log-prior −inf: no
        finite bias reaches it).
    TypeError
        If counts is not numbers.

    Examples
    --------
    >>> prior_bias_multiclass([10, 10, 10])
    array([0., 0., 0.])
    >>> b = prior_bias_multiclass([1, 2, 4])
    >>> np.round(b, 6), round(float(b[2] - b[0]), 6)     # log 4 − log 1
    (array([-0.693147,  0.      ,  0.693147]), 1.386294)
    """
    n = as_float_array(counts, "counts", allow_inf=False,
                       inf_reason="It should be a count (or a share) of examples per class")
    if n.ndim != 1 or n.size < 2:
        raise ValueError(f"counts must be a 1-D array with one count per class (K ≥ 2 classes), "
                         f"but it has shape {n.shape}")
    check_positive(n, "counts", hint="Every class needs at least one example; a class with no "
                                     "examples has log-prior −inf")
    log_n = np.log(n)
    return log_n - np.mean(log_n)
