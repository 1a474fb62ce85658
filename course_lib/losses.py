"""Binary cross-entropy in its three forms, and the gradients of each.

=============================  ==========================  ===================================
function                       input                       labels
=============================  ==========================  ===================================
:func:`bce`                    probabilities p ∈ [0, 1]    y ∈ [0, 1] (0/1, or soft labels)
:func:`bce_with_logits`        logits s ∈ R                y ∈ [0, 1], optional pos_weight
:func:`logistic_loss`          logits s ∈ R                t ∈ {−1, +1}
=============================  ==========================  ===================================

They are the same loss written three ways: with p = σ(s) and t = 2y − 1,
``bce(σ(s), y) = bce_with_logits(s, y) = logistic_loss(s, t)`` (as long as σ(s) does not round
to 0 or 1). They match PyTorch's ``F.binary_cross_entropy`` and
``F.binary_cross_entropy_with_logits`` computed in float64. Prefer the logit forms in
practice: they are exact for every finite logit, whereas a probability has already lost the
information (σ(40) and σ(50) are both exactly 1.0 in float64).

Common rules:

- ``reduction`` is "mean" (the default), "sum" or "none", as in PyTorch. "mean" and "sum"
  return a NumPy float64 scalar; "none" returns the per-example losses as a float64 array of
  the broadcast shape (a float64 scalar if that shape is ()).
- The two arguments must have the same shape, or one must broadcast to the shape of the other
  (e.g. a scalar label). Shapes (N, 1) and (N,) are refused: they would broadcast to (N, N).
- Any real numeric input is accepted (Python numbers, lists, NumPy arrays of any int, bool or
  float dtype) and everything is computed in float64.
- Bad input raises ``ValueError`` naming the argument: empty arrays, NaN, p or y outside
  [0, 1], t not in {−1, +1}, negative or non-finite ``pos_weight``, an unknown reduction, and
  **infinite logits** (a logit of ±inf stands for a probability of exactly 1 or 0, for which
  the loss is infinite or undefined; PyTorch returns NaN there, we say what went wrong).
  Text or other non-numbers raise ``TypeError``.

The gradient functions return the derivative with respect to the *prediction* (p or s), never
with respect to the label: that is what training needs. For "mean" and "sum" they return the
gradient of that scalar, with the shape of the prediction argument (summed over any axis it was
broadcast along, as autograd does); for "none" they return the elementwise derivatives
dℓᵢ/dsᵢ in the broadcast shape (the Jacobian of an elementwise loss is diagonal).

Also here: the focal loss of Lin et al. (2017) on logits, :func:`focal_loss_with_logits`, its
gradient and :func:`focal_best_constant`, the constant prediction it prefers (not the base rate).
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    as_float_array,
    check_in_set,
    check_in_unit_interval,
    check_nonnegative,
    check_reduction,
    check_same_shape,
    reduce,
    sum_to_shape,
    to_output,
)
from .functional import _log_softmax, _sigmoid, _softmax, _softplus

__all__ = [
    "bce",
    "bce_grad",
    "bce_with_logits",
    "bce_with_logits_grad",
    "logistic_loss",
    "logistic_loss_grad",
    "cross_entropy",
    "cross_entropy_grad",
    "focal_loss_with_logits",
    "focal_loss_with_logits_grad",
    "focal_best_constant",
    "LOG_CLAMP",
    "BCE_GRAD_EPS",
]

#: The lower bound PyTorch's BCELoss puts on each log: log p and log(1 − p) are clamped to >= −100.
LOG_CLAMP = -100.0

#: The denominator floor of PyTorch's BCELoss backward, (p − y) / max(p(1 − p), eps).
#: PyTorch's constant is 1e-12 as a float32, i.e. 9.999999960041972e-13 (measured in float64).
BCE_GRAD_EPS = float(np.float32(1e-12))

_INFINITE_LOGIT = ("A logit of ±inf stands for a probability of exactly 1 or 0, for which the "
                   "loss is infinite or undefined; look for an overflow where s was computed")
_P_HINT = ("bce expects probabilities; if p holds logits (any real numbers), "
           "use bce_with_logits(s, y) instead")
_Y_HINT = "Labels are 0 or 1 (or a soft label in between); for ±1 labels use logistic_loss(s, t)"
_T_HINT = "If your labels are 0/1, use t = 2*y - 1, or call bce_with_logits(s, y)"


def _probabilities(p) -> np.ndarray:
    p = as_float_array(p, "p")
    check_in_unit_interval(p, "p", hint=_P_HINT)
    return p


def _logits(s) -> np.ndarray:
    return as_float_array(s, "s", allow_inf=False, inf_reason=_INFINITE_LOGIT)


def _labels01(y) -> np.ndarray:
    y = as_float_array(y, "y")
    check_in_unit_interval(y, "y", hint=_Y_HINT)
    return y


def _labels_pm1(t) -> np.ndarray:
    t = as_float_array(t, "t")
    check_in_set(t, "t", (-1.0, 1.0), hint=_T_HINT)
    return t


def _element_weight(weight):
    """The per-element ``weight`` of :func:`bce` and :func:`bce_with_logits`, validated (None: 1)."""
    if weight is None:
        return None
    weight = as_float_array(weight, "weight", allow_inf=False,
                            inf_reason="weight multiplies each element's loss")
    check_nonnegative(weight, "weight")
    return weight


def _broadcast_with_weight(weight, **arrays):
    """Broadcast the named arrays and the weight (if any) together; the weight last, 1.0 if None."""
    weight = _element_weight(weight)
    if weight is None:
        return (*check_same_shape(**arrays), 1.0)
    return check_same_shape(**arrays, weight=weight)


def _logits_labels_weight(s, y, pos_weight, weight=None):
    """Validate (s, y, pos_weight, weight); return s's own shape, then the four broadcast together.

    A pos_weight or weight of None stands for 1 and takes no part in the shape check.
    """
    s, y = _logits(s), _labels01(y)
    arrays = {"s": s, "y": y}
    if pos_weight is not None:
        pw = as_float_array(pos_weight, "pos_weight", allow_inf=False,
                            inf_reason="pos_weight multiplies the loss of positive examples")
        check_nonnegative(pw, "pos_weight")
        arrays["pos_weight"] = pw
    weight = _element_weight(weight)
    if weight is not None:
        arrays["weight"] = weight
    out = dict(zip(arrays, check_same_shape(**arrays)))
    return s.shape, out["s"], out["y"], out.get("pos_weight", 1.0), out.get("weight", 1.0)


def _reduce_grad(grad: np.ndarray, shape: tuple[int, ...], reduction: str):
    """Finish a gradient: divide by N for "mean", sum over broadcast axes unless "none"."""
    if reduction == "mean":
        grad = grad / grad.size
    if reduction == "none":
        return to_output(grad)
    return to_output(sum_to_shape(grad, shape))


def bce(p, y, reduction="mean", *, weight=None):
    """Binary cross-entropy on probabilities, exactly as PyTorch's ``BCELoss`` computes it.

    Derived in Chapter 3, §Maximum likelihood for a Bernoulli label; the clamp is Chapter 3,
    §What PyTorch does: `BCELoss` and `BCEWithLogitsLoss` (and the warm-up, §Binary
    cross-entropy of probabilities).

    Formula, per example, with each log clamped at −100 and an optional weight vᵢ (``weight``,
    1 if None):

        ℓᵢ = −vᵢ·[ yᵢ · max(log pᵢ, −100) + (1 − yᵢ) · max(log(1 − pᵢ), −100) ]

    and L = (1/N) Σ ℓᵢ for reduction="mean", N the number of elements (of the broadcast shape):
    as in PyTorch, a weighted mean divides by N, not by Σ vᵢ. Without the clamp this is the negative
    log-likelihood of a Bernoulli label, −log(p^y (1 − p)^(1−y)).

    Why the clamp: at p = 0 or p = 1 one of the logs is log 0 = −inf. With a hard label the
    other factor is often 0 (y = 1, p = 1: the term (1 − y)·log(1 − p) is 0·(−inf) = nan in
    floating point), and with the wrong label the loss is +inf and its gradient does not
    exist. PyTorch therefore clamps each log to >= −100, so the loss is finite (at most 100 per
    example) and a gradient exists; this function does the same and so equals
    ``torch.nn.functional.binary_cross_entropy`` in float64 for every p in [0, 1], 0 and 1
    included. log(1 − p) is computed as ``log1p(−p)``, which is exact for tiny p.
    The clamp changes the answer only where p < e^{−100} ≈ 3.7e−44 (or 1 − p is that small):
    a probability model should never get there; use :func:`bce_with_logits` on logits instead.

    Parameters
    ----------
    p : array_like
        Predicted probabilities in [0, 1] (0 and 1 included).
    y : array_like
        Labels in [0, 1]: 0/1, or soft labels in between. Same shape as ``p``, or broadcastable
        to it (or ``p`` to ``y``'s).
    reduction : {"mean", "sum", "none"}, default "mean"
    weight : array_like, optional
        Non-negative, finite weight(s) multiplying each element's loss, like the ``weight`` of
        ``torch.nn.functional.binary_cross_entropy``: a scalar, one weight per element, or any
        shape that broadcasts with p and y (e.g. one weight per column of (N, C) data).

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The mean or sum of the losses (a float64 scalar), or the losses themselves ("none").

    Raises
    ------
    ValueError
        If p, y or weight is empty, contains NaN, p or y has an entry outside [0, 1], weight is
        negative or infinite, their shapes do not fit, or ``reduction`` is not one of "mean",
        "sum", "none".
    TypeError
        If p or y is not numbers.

    Examples
    --------
    >>> round(float(bce([0.9, 0.2], [1, 0])), 6)   # (−log 0.9 − log 0.8) / 2
    0.164252
    >>> float(bce(0.0, 1.0))   # −max(log 0, −100)
    100.0
    >>> round(float(bce([0.9, 0.2], [1, 0], weight=[2.0, 0.0])), 6)   # 2·(−log 0.9) / 2
    0.105361
    """
    reduction = check_reduction(reduction)
    p, y, v = _broadcast_with_weight(weight, p=_probabilities(p), y=_labels01(y))
    with np.errstate(divide="ignore"):  # log(0) = -inf is clamped just below
        log_p = np.maximum(np.log(p), LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-p), LOG_CLAMP)
    return reduce(v * ((y - 1.0) * log_1mp - y * log_p), reduction)


def bce_grad(p, y, reduction="mean", *, weight=None):
    """The gradient of :func:`bce` with respect to the probabilities p, as PyTorch computes it.

    (Chapter 3, §Gradients and convexity, and §What PyTorch does: `BCELoss` and
    `BCEWithLogitsLoss` for the floor ε.) With a ``weight`` v each element's derivative below
    is multiplied by vᵢ.

    Formula. Without the clamp, dℓ/dp = −y/p + (1 − y)/(1 − p) = (p − y) / (p(1 − p)).
    PyTorch's ``BCELoss`` backward (and so this function) uses

        dℓᵢ/dpᵢ = (pᵢ − yᵢ) / max(pᵢ(1 − pᵢ), ε),     ε = 1e−12 as float32 ≈ 9.99999996e−13,

    divided by N for reduction="mean". It equals the exact derivative wherever
    p(1 − p) ≥ ε, i.e. roughly 1e−12 ≤ p ≤ 1 − 1e−12. Outside that band it is a safeguard, not
    a derivative: it stays finite at p = 0 and p = 1 (at most |p − y|/ε ≈ 1e12 per example,
    0 where p = y), but it is *not* the derivative of the clamped loss either (that would be
    0 where the clamp is active). For example at p = 1e−50, y = 0, the exact derivative is
    1/(1 − p) ≈ 1 while this gives p/ε ≈ 1e−38. We reproduce PyTorch here so that a chapter can
    compare against ``torch.autograd`` everywhere; a finite-difference check only agrees inside
    the band.

    Parameters
    ----------
    p : array_like
        Predicted probabilities in [0, 1].
    y : array_like
        Labels in [0, 1], shaped like ``p`` (or broadcastable, see :func:`bce`).
    reduction : {"mean", "sum", "none"}, default "mean"
        The reduction of the loss being differentiated.
    weight : array_like, optional
        As in :func:`bce`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        For "mean"/"sum": dL/dp with the shape of ``p``. For "none": the elementwise
        derivatives dℓᵢ/dpᵢ in the broadcast shape.

    Raises
    ------
    ValueError, TypeError
        As :func:`bce`.

    Examples
    --------
    >>> bce_grad([0.5, 0.8], [1, 1], reduction="sum")   # −1/p
    array([-2.  , -1.25])
    """
    reduction = check_reduction(reduction)
    p0 = _probabilities(p)
    p, y, v = _broadcast_with_weight(weight, p=p0, y=_labels01(y))
    grad = v * ((p - y) / np.maximum(p * (1.0 - p), BCE_GRAD_EPS))
    return _reduce_grad(grad, p0.shape, reduction)


def bce_with_logits(s, y, pos_weight=None, reduction="mean", *, weight=None):
    """Binary cross-entropy on logits (PyTorch's ``BCEWithLogitsLoss``), stable for every finite s.

    Derived in Chapter 1, §The loss and its gradient, and Chapter 3, §The ±1 form: a loss on
    the logit; the stable computation is Chapter 3, §The stable forms; ``pos_weight`` is
    Chapter 3, §`pos_weight`: weighting the positive class, and Chapter 4, §Class weights and
    `pos_weight`.

    Formula, per example, with p = σ(s), positive-class weight w (``pos_weight``, 1 if None)
    and element weight vᵢ (``weight``, 1 if None):

        ℓᵢ = −vᵢ·[ w·yᵢ·log σ(sᵢ) + (1 − yᵢ)·log(1 − σ(sᵢ)) ]

    Stable computation. Since −log σ(s) = softplus(−s) and −log(1 − σ(s)) = −log σ(−s) =
    softplus(s),

        ℓᵢ = w·yᵢ·softplus(−sᵢ) + (1 − yᵢ)·softplus(sᵢ),

    with softplus(s) = max(s, 0) + log1p(e^{−|s|}) (see :func:`course_lib.functional.softplus`).
    Without pos_weight this is the familiar max(s, 0) − s·y + log(1 + e^{−|s|}); PyTorch
    writes the weighted version as (1 − y)·s + (1 + (w − 1)·y)·softplus(−s), which is the same
    function. Here every term is >= 0, so no digits are lost to cancellation (PyTorch's form
    loses relative accuracy for y = 0 and s ≪ 0, where the loss is tiny), e^{x} is only
    evaluated at x ≤ 0, and nothing overflows unless the loss itself exceeds the largest
    float64 (≈ 1.8e308): bce_with_logits(1e300, 0) = 1e300 exactly. Computing σ(s) first and
    then :func:`bce` would fail from |s| ≈ 36.7, where σ(s) rounds to 0 or 1.

    ``pos_weight`` multiplies the loss of the positive examples (for imbalanced data, a
    common choice is neg/pos); it may be a scalar or broadcast against y, e.g. one weight per
    column for labels of shape (N, C). ``weight`` multiplies every element's loss, as
    PyTorch's ``weight`` does; with reduction="mean" the weighted losses are divided by the
    number of elements N, not by Σ vᵢ (as in PyTorch).

    Parameters
    ----------
    s : array_like
        Logits, any finite real numbers.
    y : array_like
        Labels in [0, 1] (0/1 or soft), shaped like ``s`` or broadcastable (see module notes).
    pos_weight : array_like, optional
        Non-negative, finite weight(s) of the positive class; None means 1.
    reduction : {"mean", "sum", "none"}, default "mean"
    weight : array_like, optional
        Non-negative, finite weight(s) of each element (a scalar, one per element, or any
        shape that broadcasts with s and y); None means 1.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The mean or sum of the losses (a float64 scalar), or the losses themselves ("none").

    Raises
    ------
    ValueError
        If s, y, pos_weight or weight is empty or contains NaN, s contains ±inf, y is outside
        [0, 1], pos_weight or weight is negative or infinite, the shapes do not fit, or
        ``reduction`` is unknown.
    TypeError
        If an argument is not numbers.

    Examples
    --------
    >>> round(float(bce_with_logits(0.0, 1.0)), 6)   # log 2
    0.693147
    >>> float(bce_with_logits(1e300, 0.0))
    1e+300
    >>> round(float(bce_with_logits(0.0, 1.0, pos_weight=3.0)), 6)   # 3 log 2
    2.079442
    """
    reduction = check_reduction(reduction)
    _, s, y, w, v = _logits_labels_weight(s, y, pos_weight, weight)
    with np.errstate(over="ignore"):  # only when the exact loss exceeds the float64 range
        loss = w * y * _softplus(-s) + (1.0 - y) * _softplus(s)
        if weight is not None:
            loss = v * loss
    return reduce(loss, reduction)


def bce_with_logits_grad(s, y, pos_weight=None, reduction="mean", *, weight=None):
    """The gradient of :func:`bce_with_logits` with respect to the logits s.

    Derived in Chapter 1, §The loss and its gradient (p − y), Chapter 3, §Gradients and
    convexity, and by the chain rule in Chapter 2, §The chain rule, by hand.

    Formula. Differentiating ℓ = w·y·softplus(−s) + (1 − y)·softplus(s), with
    softplus'(s) = σ(s):

        dℓ/ds = (1 − y)·σ(s) − w·y·σ(−s)
              = (1 + (w − 1)·y)·σ(s) − w·y,

    which for w = 1 is the famous σ(s) − y: the prediction minus the label. With a
    ``weight`` v each entry is multiplied by vᵢ. For reduction="mean" each entry is divided
    by N, the number of elements.

    Stable computation: the first form above, with σ evaluated by the stable sigmoid. For a
    hard label one of its terms is 0, so no cancellation happens and small gradients keep
    their relative accuracy (σ(−40) ≈ 4.2e−18, where σ(40) − 1 would give exactly 0).

    Parameters
    ----------
    s, y, pos_weight, reduction, weight
        As in :func:`bce_with_logits`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        For "mean"/"sum": dL/ds with the shape of ``s``. For "none": the elementwise
        derivatives dℓᵢ/dsᵢ in the broadcast shape.

    Raises
    ------
    ValueError, TypeError
        As :func:`bce_with_logits`.

    Examples
    --------
    >>> bce_with_logits_grad([0.0, 0.0], [1.0, 0.0])   # (σ(0) − y) / 2
    array([-0.25,  0.25])
    """
    reduction = check_reduction(reduction)
    s_shape, s, y, w, v = _logits_labels_weight(s, y, pos_weight, weight)
    grad = (1.0 - y) * _sigmoid(s) - w * y * _sigmoid(-s)
    if weight is not None:
        grad = v * grad
    return _reduce_grad(grad, s_shape, reduction)


def logistic_loss(s, t, reduction="mean"):
    """The logistic loss on logits with ±1 labels: ℓ = log(1 + e^{−t·s}).

    Formula. With t ∈ {−1, +1} and the symmetry σ(−s) = 1 − σ(s), the probability of the
    observed label is P(t | x) = σ(t·s), so the negative log-likelihood is
    −log σ(t·s) = log(1 + e^{−t·s}). Its argument t·s is the *margin*: positive when the
    prediction has the right sign. With t = 2y − 1 it equals ``bce_with_logits(s, y)``.

    Stable computation: ℓ = softplus(−t·s) = max(−t·s, 0) + log1p(e^{−|s|}); the naive
    ``log(1 + exp(-t*s))`` overflows to inf for t·s < −709.78 (the true loss is just −t·s) and
    gives 0 instead of e^{−t·s} for t·s > 36.7.

    Parameters
    ----------
    s : array_like
        Logits, any finite real numbers.
    t : array_like
        Labels, each −1 or +1; shaped like ``s`` or broadcastable (see module notes).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The mean or sum of the losses (a float64 scalar), or the losses themselves ("none").

    Raises
    ------
    ValueError
        If s or t is empty or contains NaN, s contains ±inf, t has an entry other than −1 or
        +1 (0/1 labels included: convert them with t = 2y − 1), the shapes do not fit, or
        ``reduction`` is unknown.
    TypeError
        If an argument is not numbers.

    Examples
    --------
    >>> round(float(logistic_loss(2.0, -1)), 6)   # log(1 + e^2)
    2.126928
    >>> float(logistic_loss(-1000.0, 1))
    1000.0
    """
    reduction = check_reduction(reduction)
    s, t = check_same_shape(s=_logits(s), t=_labels_pm1(t))
    return reduce(_softplus(-t * s), reduction)


def logistic_loss_grad(s, t, reduction="mean"):
    """The gradient of :func:`logistic_loss` with respect to the logits s.

    Formula: dℓ/ds = −t·σ(−t·s), divided by N for reduction="mean". With t = 2y − 1 this is
    σ(s) − y again (for t = +1: −σ(−s) = σ(s) − 1; for t = −1: σ(s) − 0).

    Stable computation: the stable sigmoid of the margin −t·s (never overflows, never NaN).

    Parameters
    ----------
    s, t, reduction
        As in :func:`logistic_loss`.

    Returns
    -------
    numpy.float64 or numpy.ndarray
        For "mean"/"sum": dL/ds with the shape of ``s``. For "none": the elementwise
        derivatives dℓᵢ/dsᵢ in the broadcast shape.

    Raises
    ------
    ValueError, TypeError
        As :func:`logistic_loss`.

    Examples
    --------
    >>> logistic_loss_grad([0.0, 0.0], [1, -1], reduction="sum")
    array([-0.5,  0.5])
    """
    reduction = check_reduction(reduction)
    s0 = _logits(s)
    s, t = check_same_shape(s=s0, t=_labels_pm1(t))
    return _reduce_grad(-t * _sigmoid(-t * s), s0.shape, reduction)


# ---------------------------------------------------------------------------------------------
# Categorical cross-entropy (chapter 5): K classes, softmax of the logits
# ---------------------------------------------------------------------------------------------

_ROW_SUM_TOL = 1e-6


def _ce_logits(S) -> np.ndarray:
    S = as_float_array(S, "S", allow_inf=False, inf_reason=_INFINITE_LOGIT)
    if S.ndim not in (1, 2):
        raise ValueError(f"S must hold the logits of one example, shape (K,), or of N examples, "
                         f"shape (N, K), with the classes along the last axis; it has shape "
                         f"{S.shape}")
    if S.shape[-1] < 2:
        raise ValueError(f"S has {S.shape[-1]} class(es) along its last axis (shape {S.shape}); "
                         "a classifier needs at least 2. For one logit per example, use "
                         "bce_with_logits(s, y)")
    return S


def _ce_targets(S: np.ndarray, y, label_smoothing: float) -> tuple[np.ndarray, np.ndarray | None]:
    """The target distribution q (the shape of S) and, for class indices, the indices."""
    K = S.shape[-1]
    y_arr = np.asarray(y) if not isinstance(y, np.ndarray) else y
    if y_arr.shape == S.shape:   # probability rows (soft labels)
        q = as_float_array(y, "y")
        check_in_unit_interval(q, "y", hint="Probability targets are rows of class probabilities")
        sums = q.sum(axis=-1)
        bad = np.abs(sums - 1.0) > _ROW_SUM_TOL
        if np.any(bad):
            first = int(np.flatnonzero(bad)[0])
            where = f"row {first}" if q.ndim == 2 else "the row"
            raise ValueError(f"y holds probability rows (it has the shape of S, {S.shape}), but "
                             f"{where} sums to {float(np.atleast_1d(sums)[first])!r}, not 1. Class "
                             "indices need shape S.shape[:-1]; probabilities must sum to 1")
        return q * (1.0 - label_smoothing) + label_smoothing / K, None
    if y_arr.shape != S.shape[:-1]:
        raise ValueError(f"S has shape {S.shape} and y has shape {y_arr.shape}: y must be class "
                         f"indices of shape {S.shape[:-1]} (one per example) or probability rows "
                         f"of shape {S.shape} (one row per example)")
    idx = as_float_array(y, "y")
    bad = (idx != np.round(idx)) | (idx < 0) | (idx >= K)
    if np.any(bad):
        first = int(np.flatnonzero(bad)[0])
        value = float(idx.flat[first])
        raise ValueError(f"y must hold class indices 0, 1, ..., {K - 1} (S has K = {K} classes), "
                         f"but y[{first}] = {value!r}" if idx.ndim else
                         f"y must be a class index 0, 1, ..., {K - 1} (S has K = {K} classes), "
                         f"not {value!r}")
    idx = idx.astype(np.int64)
    q = np.zeros_like(S)
    np.put_along_axis(q, idx[..., None], 1.0, axis=-1)
    return q * (1.0 - label_smoothing) + label_smoothing / K, idx


def _ce_weight(weight, K: int) -> np.ndarray | None:
    if weight is None:
        return None
    w = as_float_array(weight, "weight", allow_inf=False,
                       inf_reason="weight multiplies the loss of each class")
    if w.shape != (K,):
        raise ValueError(f"weight must hold one weight per class, shape ({K},), but it has shape "
                         f"{w.shape}")
    check_nonnegative(w, "weight")
    return w


def _ce_smoothing(label_smoothing) -> float:
    eps = as_float_array(label_smoothing, "label_smoothing", allow_inf=False)
    if eps.ndim != 0 or not 0.0 <= float(eps) <= 1.0:
        raise ValueError(f"label_smoothing must be a single number in [0, 1], not {label_smoothing!r}")
    return float(eps)


def _ce_parts(S, y, weight, label_smoothing, reduction):
    """Validated pieces: S, the weighted target rows Q (w_k·q_k), the indices (or None) and the
    denominator of "mean" (Σ w_{y_i} for class indices with a weight, N otherwise)."""
    reduction = check_reduction(reduction)
    S = _ce_logits(S)
    eps = _ce_smoothing(label_smoothing)
    w = _ce_weight(weight, S.shape[-1])
    q, idx = _ce_targets(S, y, eps)
    n = 1 if S.ndim == 1 else S.shape[0]
    if w is None:
        return reduction, S, q, idx, float(n)
    Q = q * w
    if idx is None:
        return reduction, S, Q, idx, float(n)
    denominator = float(np.sum(w[idx]))
    if reduction == "mean" and denominator == 0.0:
        raise ValueError("every example's class has weight 0, so the weighted mean divides by "
                         "Σ weight[y_i] = 0; give those classes a positive weight or use "
                         "reduction='sum'")
    return reduction, S, Q, idx, denominator


def cross_entropy(S, y, weight=None, label_smoothing=0.0, reduction="mean"):
    """Categorical cross-entropy on logits, exactly as PyTorch's ``F.cross_entropy`` defines it.

    In the book: Chapter 3, §Label smoothing (the rule (1 − ε)·y + ε/K for K = 2), and Chapter 5.

    Formula. With p = softmax(s) for the logits s ∈ R^K of one example and a label y, the
    negative log-likelihood of a categorical label is ℓ = −log p_y = logsumexp(s) − s_y. For a
    target distribution q (probability rows, or a smoothed one-hot row) it is
    ℓ = −Σ_k q_k log p_k. The options, as in PyTorch:

    - ``weight`` (w ∈ R^K, ≥ 0): each term −q_k log p_k is multiplied by w_k;
    - ``label_smoothing`` ε ∈ [0, 1]: the target becomes (1 − ε)·q + ε/K (for indices q is
      one-hot);
    - ``reduction="mean"`` divides the sum of the losses by N, **except** for class indices with
      a weight, where it divides by Σ_i w_{y_i} (a weighted mean, PyTorch's convention).

    Stable computation: log p = :func:`course_lib.functional.log_softmax` (the largest logit
    subtracted, log1p for the rest), so each −log p_k ≥ 0 is accurate and nothing overflows
    unless the loss itself exceeds the float64 range: cross_entropy([[1e300, -1e300]], [1]) is
    2e300. Computing softmax first and then −log would give log 0 = −inf from logit gaps of
    about 745 on.

    Parameters
    ----------
    S : array_like, shape (N, K) or (K,)
        Logits (not probabilities: do not apply a softmax first), finite.
    y : array_like
        Either class indices, shape (N,) (or a single index for S of shape (K,)), integers in
        0 … K − 1 (floats with integer values are accepted); or probability rows of the shape
        of S, each in [0, 1] and summing to 1 (within 1e-6).
    weight : array_like, shape (K,), optional
        Non-negative, finite class weights.
    label_smoothing : float, default 0.0
        ε in [0, 1].
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    numpy.float64 or numpy.ndarray
        The mean or sum (a float64 scalar), or the per-example losses, shape (N,) ("none").

    Raises
    ------
    ValueError
        If S is not (N, K) or (K,) with K ≥ 2, or is empty, NaN or infinite; y has neither
        shape, holds an index that is not an integer in 0 … K − 1, or a probability row outside
        [0, 1] or not summing to 1; weight is not (K,), negative or infinite; label_smoothing is
        outside [0, 1]; the weighted mean divides by 0; ``reduction`` is unknown.
    TypeError
        If an argument is not numbers.

    Examples
    --------
    >>> round(float(cross_entropy([[0.0, 0.0, 0.0]], [2])), 6)      # log 3
    1.098612
    >>> float(cross_entropy([[1e300, -1e300]], [1]))
    2e+300
    >>> cross_entropy([[2.0, 0.0], [0.0, 2.0]], [[1.0, 0.0], [0.5, 0.5]], reduction="none").round(6)
    array([0.126928, 1.126928])
    """
    reduction, S, Q, idx, denominator = _ce_parts(S, y, weight, label_smoothing, reduction)
    with np.errstate(over="ignore", invalid="ignore"):
        neg_log_p = -_log_softmax(S, -1)
        # 0 · (a huge −log p) must stay 0 (a class the target does not mention).
        losses = np.sum(np.where(Q > 0, Q * neg_log_p, 0.0), axis=-1)
    if reduction == "mean":
        return np.float64(np.sum(losses) / denominator)
    return reduce(losses, reduction)


def cross_entropy_grad(S, y, weight=None, label_smoothing=0.0, reduction="mean"):
    """The gradient of :func:`cross_entropy` with respect to the logits S.

    Formula. For one example with (weighted, smoothed) target row Q and p = softmax(s),
    ℓ = −Σ_k Q_k log p_k and ∂ log p_k / ∂s_j = 1[j = k] − p_j, so

        ∂ℓ/∂s_j = −Σ_k Q_k (1[j = k] − p_j) = (Σ_k Q_k)·p_j − Q_j,

    which for a hard label without weights or smoothing is the famous p − onehot(y). For
    reduction="mean" it is divided by the same denominator as the loss (N, or Σ_i w_{y_i}).
    Each loss depends only on its own row of S, so "none" returns the per-example gradients
    ∂ℓ_i/∂s_i as the rows of an (N, K) array (the same array as "sum").

    Stable computation: p from the stable softmax; for class indices the entry of the true
    class is computed as (Σ_k Q_k − Q_y) − (Σ_k Q_k)·Σ_{j≠y} p_j, so that a confident right
    answer keeps a tiny, accurate gradient (p_y − 1 would round to 0 once p_y rounds to 1:
    for s = (40, 0), y = 0 it is −4.2e−18, not 0).

    Parameters
    ----------
    S, y, weight, label_smoothing, reduction
        As in :func:`cross_entropy`.

    Returns
    -------
    numpy.ndarray
        The shape of S.

    Raises
    ------
    ValueError, TypeError
        As :func:`cross_entropy`.

    Examples
    --------
    >>> cross_entropy_grad([[0.0, 0.0]], [0])      # p − onehot(y) = (1/2 − 1, 1/2)
    array([[-0.5,  0.5]])
    >>> float(cross_entropy_grad([[40.0, 0.0]], [0])[0, 0]) < 0
    True
    """
    reduction, S, Q, idx, denominator = _ce_parts(S, y, weight, label_smoothing, reduction)
    p = _softmax(S, -1)
    total = np.sum(Q, axis=-1, keepdims=True)
    grad = total * p - Q
    if idx is not None:
        at = idx[..., None]
        p_others = p.copy()
        np.put_along_axis(p_others, at, 0.0, axis=-1)
        q_true = np.take_along_axis(Q, at, axis=-1)
        true_entry = (total - q_true) - total * np.sum(p_others, axis=-1, keepdims=True)
        np.put_along_axis(grad, at, true_entry, axis=-1)
    if reduction == "mean":
        grad = grad / denominator
    return grad


# ---------------------------------------------------------------------------------------------
# Focal loss (chapter 4, §Focal loss)
# ---------------------------------------------------------------------------------------------

def _focal_parts(s, y, gamma, alpha):
    """Validated (s's shape, s, y, gamma, alpha weight per example) for the focal-loss functions."""
    s = as_float_array(s, "s", allow_inf=False, inf_reason=_INFINITE_LOGIT)
    y = as_float_array(y, "y")
    check_in_set(y, "y", (0.0, 1.0), hint="the focal loss is defined for hard labels 0 or 1")
    s_shape = s.shape
    s, y = check_same_shape(s=s, y=y)
    g = as_float_array(gamma, "gamma", allow_inf=False)
    if g.ndim != 0 or not float(g) >= 0:
        raise ValueError(f"gamma must be a single number >= 0, not {gamma!r}")
    if alpha is None:
        a = 1.0
    else:
        al = as_float_array(alpha, "alpha", allow_inf=False)
        if al.ndim != 0 or not 0.0 <= float(al) <= 1.0:
            raise ValueError(f"alpha must be a single number in [0, 1] (the positives' weight), not {alpha!r}")
        a = np.where(y == 1, float(al), 1.0 - float(al))
    return s_shape, s, y, float(g), a


def focal_loss_with_logits(s, y, gamma=2.0, alpha=None, reduction="mean"):
    """The focal loss of Lin et al. (2017) on logits, stable for every finite s (|s| up to 1e300).

    Formula, per example, with t = 2y − 1, p_t = σ(t·s) the probability given to the true class,
    and α_t = α for a positive, 1 − α for a negative (1 when ``alpha`` is None):

        FL = −α_t (1 − p_t)^γ log p_t.

    γ = 0 gives BCE (:func:`bce_with_logits`); γ > 0 shrinks the loss of well-classified
    examples (p_t near 1) by the factor (1 − p_t)^γ, so the many easy negatives of a rare class
    weigh less.

    Stable computation, with m = t·s: −log p_t = softplus(−m) and 1 − p_t = σ(−m), so
    (1 − p_t)^γ = exp(−γ·softplus(m)) and

        FL = α_t · exp(−γ·softplus(m)) · softplus(−m):

    no σ is rounded to 1 first, exp only sees arguments ≤ 0, and at m = ±1e300 the loss is 0 or
    α_t·1e300 exactly.

    Parameters
    ----------
    s : logits (finite);  y : labels 0 or 1, shaped like s (or broadcastable);
    gamma : the focusing parameter γ >= 0 (2 in the paper);  alpha : None or α in [0, 1];
    reduction : "mean", "sum" or "none"
    """
    reduction = check_reduction(reduction)
    _, s, y, gamma, a = _focal_parts(s, y, gamma, alpha)
    m = np.where(y == 1, s, -s)
    with np.errstate(over="ignore"):
        loss = a * np.exp(-gamma * _softplus(m)) * _softplus(-m)
    return reduce(loss, reduction)


def focal_loss_with_logits_grad(s, y, gamma=2.0, alpha=None, reduction="mean"):
    """The gradient of :func:`focal_loss_with_logits` with respect to the logits s.

    Formula. With m = t·s, p = p_t = σ(m), q = 1 − p_t = σ(−m), u = −log p_t = softplus(−m), and
    dq/dm = −p·q, du/dm = −q:

        d/dm [q^γ u] = −γ q^(γ−1)·p·q·u − q^γ·q = −q^γ (γ·p·u + q),

    so dFL/ds = −t·α_t·q^γ·(γ·p·u + q). For γ = 0 this is −t·σ(−t·s) = σ(s) − y, BCE's gradient.
    The form never divides by q (q^(γ−1) would be infinite for γ < 1 at q = 0), and every factor is
    computed stably (q^γ = exp(−γ·softplus(m))). For reduction="mean" each entry is divided by N.
    """
    reduction = check_reduction(reduction)
    s_shape, s, y, gamma, a = _focal_parts(s, y, gamma, alpha)
    t = np.where(y == 1, 1.0, -1.0)
    m = t * s
    p, q = _sigmoid(m), _sigmoid(-m)
    with np.errstate(over="ignore", invalid="ignore"):
        pu = np.where(p > 0, p * _softplus(-m), 0.0)  # p·u → 0 as m → −inf (p = e^m, u ≈ −m)
        grad = -t * a * np.exp(-gamma * _softplus(m)) * (gamma * pu + q)
    return _reduce_grad(grad, s_shape, reduction)


def focal_best_constant(pi, gamma=2.0, alpha=None, tol=1e-13):
    """The constant prediction that minimises the mean focal loss on labels with base rate π.

    A model that predicts the same logit b for every example has mean focal loss

        F(b) = π·FL(b, 1) + (1 − π)·FL(b, 0),

    and its best b solves F'(b) = π·FL'(b, 1) + (1 − π)·FL'(b, 0) = 0 (FL' from
    :func:`focal_loss_with_logits_grad`). F'(b) < 0 for b → −∞ and > 0 for b → +∞; it is solved
    here by bisection on b in [−60, 60] (past the first sign change of a grid scan) to ``tol``.
    For γ = 0 and no α the answer is σ(b) = π (BCE's best constant is the base rate); for γ > 0
    it is not, which is why RetinaNet's π = 0.01 (b = −log((1 − π)/π)) is a chosen prior for
    the initial predictions rather than an estimate of the base rate (chapter 4, §Focal loss).

    Returns (p*, b*): the best constant probability and its logit.
    """
    pi_arr = as_float_array(pi, "pi", allow_inf=False)
    if pi_arr.ndim != 0 or not 0.0 < float(pi_arr) < 1.0:
        raise ValueError(f"pi must be a single base rate strictly between 0 and 1, not {pi!r}")
    pi = float(pi_arr)

    def slope(b):
        g1 = np.asarray(focal_loss_with_logits_grad(b, np.ones_like(b), gamma, alpha, reduction="none"))
        g0 = np.asarray(focal_loss_with_logits_grad(b, np.zeros_like(b), gamma, alpha, reduction="none"))
        return pi * g1 + (1.0 - pi) * g0

    grid = np.linspace(-60.0, 60.0, 1201)
    slopes = slope(grid)  # the grid scan, vectorised
    change = np.flatnonzero((slopes[:-1] < 0) & (slopes[1:] >= 0))
    if change.size == 0:
        raise ValueError(f"no minimum of the constant focal loss in b ∈ [−60, 60] for pi={pi!r}, "
                         f"gamma={gamma!r}, alpha={alpha!r}")
    lo, hi = float(grid[change[0]]), float(grid[change[0] + 1])
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if float(slope(np.float64(mid))) < 0:
            lo = mid
        else:
            hi = mid
    b = 0.5 * (lo + hi)
    return float(_sigmoid(np.float64(b))), b
