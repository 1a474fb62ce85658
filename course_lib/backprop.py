"""Backpropagation written out by hand, in matrix form, for two small models.

1. **One sigmoid unit** on a batch: s = Xw + b, p = σ(s), and a mean loss over the N rows.
   With binary cross-entropy the chain rule collapses to

       ∂L/∂sᵢ = (pᵢ − yᵢ)/N,      ∇_w L = Xᵀ(p − y)/N,      ∂L/∂b = mean(p − y);

   with squared error L = (1/N) Σ ½(pᵢ − yᵢ)² it keeps a factor σ'(sᵢ) = pᵢ(1 − pᵢ):

       ∂L/∂sᵢ = (pᵢ − yᵢ)·pᵢ(1 − pᵢ)/N.

2. **One hidden ReLU layer** (m hidden units), for a batch X of shape (N, d); the rows of
   the matrices a and h are the vectors a and h of the examples:

       a = X W1ᵀ + b1      (N, m)   hidden pre-activations
       h = ReLU(a)         (N, m)   hidden activations
       s = h w2 + b2       (N,)     logits
       p = σ(s)            (N,)     probabilities,  L = mean BCE(p, y)

   and backwards, every line one application of the chain rule:

       ds  = (p − y)/N                      (N,)
       ∇w2 = hᵀ ds,        ∂L/∂b2 = Σ ds
       dh  = ds w2ᵀ                         (N, m)  (an outer product)
       da  = dh ⊙ 1[a > 0]                  (N, m)  (ReLU passes the gradient where a > 0)
       ∇W1 = daᵀ X         (m, d),   ∇b1 = Σ_rows da   (m,)

The parameters of the network are a dict ``{"W1": (m, d), "b1": (m,), "w2": (m,), "b2": scalar}``.
Losses are computed from the logits (:func:`course_lib.losses.bce_with_logits`), so they stay
finite however confident the model is, and so are the factors of the gradients: p − y as
(1 − y)·σ(s) − y·σ(−s) and σ'(s) = p(1 − p) as e^{−|s|}/(1 + e^{−|s|})², so that a saturated
unit (σ(40) rounds to 1) still gets its tiny but non-zero gradient. Everything is float64 NumPy; gradients have the shapes of
the parameters they belong to.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, check_in_unit_interval
from .functional import _sigmoid, _sigmoid_grad, sigmoid
from .losses import bce_with_logits

__all__ = [
    "SigmoidUnitGrads",
    "MLPForward",
    "sigmoid_unit_forward_backward",
    "init_mlp_params",
    "mlp_forward",
    "mlp_backward",
    "mlp_loss_and_grads",
]

_LOSSES = ("bce", "squared")


class SigmoidUnitGrads(NamedTuple):
    """What :func:`sigmoid_unit_forward_backward` returns: the loss and its two gradients."""

    loss: float
    grad_w: np.ndarray
    grad_b: float


class MLPForward(NamedTuple):
    """The intermediate values of :func:`mlp_forward`, kept for the backward pass."""

    a: np.ndarray   # (N, m) hidden pre-activations
    h: np.ndarray   # (N, m) hidden activations ReLU(a)
    s: np.ndarray   # (N,)   logits
    p: np.ndarray   # (N,)   probabilities σ(s)


# ------------------------------------------------------------------------------ validation

def _design_matrix(X) -> np.ndarray:
    X = as_float_array(X, "X", allow_inf=False, inf_reason="Features must be finite numbers")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (N, d), one example per row, but it has "
                         f"shape {X.shape}; for one example write X = x.reshape(1, -1)")
    return X


def _labels(y, n: int) -> np.ndarray:
    y = as_float_array(y, "y")
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), one label per row of X, but it has shape "
                         f"{y.shape}" + ("; flatten it with y.ravel()" if y.size == n else ""))
    check_in_unit_interval(y, "y", hint="Labels are 0 or 1 (or a soft label in between)")
    return y


def _vector(v, name: str, n: int, what: str) -> np.ndarray:
    v = as_float_array(v, name, allow_inf=False, inf_reason="Parameters must be finite")
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), {what}, but it has shape {v.shape}")
    return v


def _scalar(v, name: str) -> float:
    v = as_float_array(v, name, allow_inf=False, inf_reason="Parameters must be finite")
    if v.size != 1:
        raise ValueError(f"{name} must be a single number, but it has shape {v.shape}")
    return float(v.reshape(()))


def _residual(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    """p − y = σ(s) − y, computed as (1 − y)·σ(s) − y·σ(−s) (as in
    :func:`course_lib.losses.bce_with_logits_grad`): for a 0/1 label one term is 0, so a tiny
    residual keeps its relative accuracy (σ(40) − 1 would round to exactly 0)."""
    return (1.0 - y) * _sigmoid(s) - y * _sigmoid(-s)


# ------------------------------------------------------------------------------ sigmoid unit

def sigmoid_unit_forward_backward(X, y, w, b, loss: str = "bce") -> SigmoidUnitGrads:
    """The mean loss of one sigmoid unit on a batch and its gradients, in matrix form.

    In the book: Chapter 2, §The chain rule, by hand, and §The batch (matrix) form; loss="squared" is
    §Squared error after a sigmoid learns slowly.

    Forward: s = Xw + b, p = σ(s). Loss and gradient:

    - ``loss="bce"``: L = −(1/N) Σ [yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)] (computed from s),
      ∇_w L = Xᵀ(p − y)/N and ∂L/∂b = mean(p − y).
    - ``loss="squared"``: L = (1/N) Σ ½(pᵢ − yᵢ)², with δᵢ = (pᵢ − yᵢ)·pᵢ(1 − pᵢ):
      ∇_w L = Xᵀδ/N and ∂L/∂b = mean(δ).

    Parameters
    ----------
    X : array_like, shape (N, d)
        The design matrix, finite numbers.
    y : array_like, shape (N,)
        Labels in [0, 1] (0/1 or soft labels).
    w : array_like, shape (d,)
        The weights.
    b : float
        The bias.
    loss : {"bce", "squared"}, default "bce"

    Returns
    -------
    SigmoidUnitGrads
        ``(loss, grad_w, grad_b)``: a float, a float64 array of shape (d,), a float.

    Raises
    ------
    ValueError
        For shapes that do not fit, NaN or infinite entries, labels outside [0, 1], or an
        unknown ``loss``.

    Examples
    --------
    >>> out = sigmoid_unit_forward_backward([[0.5]], [0.7], [0.2], 0.1)
    >>> round(out.loss, 6), round(float(out.grad_w[0]), 6), round(out.grad_b, 6)
    (0.658139, -0.075083, -0.150166)
    """
    if loss not in _LOSSES:
        raise ValueError(f"loss must be 'bce' or 'squared', not {loss!r}")
    X = _design_matrix(X)
    n, d = X.shape
    y = _labels(y, n)
    w = _vector(w, "w", d, "one weight per column of X")
    b = _scalar(b, "b")
    s = X @ w + b
    residual = _residual(s, y)             # p − y
    if loss == "bce":
        value = float(bce_with_logits(s, y))
        delta = residual                   # ∂ℓᵢ/∂sᵢ
    else:
        value = float(np.mean(0.5 * residual ** 2))
        delta = residual * _sigmoid_grad(s)   # ∂ℓᵢ/∂pᵢ · ∂pᵢ/∂sᵢ, with σ'(s) = p(1 − p)
    return SigmoidUnitGrads(value, X.T @ delta / n, float(np.mean(delta)))


# ------------------------------------------------------------------------------ hidden layer

def init_mlp_params(d: int, hidden: int, seed: int = 0) -> dict:
    """Random parameters for the one-hidden-layer network: He-normal W1, small w2, zero biases.

    In the book: Chapter 2, §One hidden layer, backpropagated by hand.

    W1 ~ N(0, 2/d) (suits ReLU), w2 ~ N(0, 1/hidden), b1 = 0, b2 = 0, from
    ``numpy.random.default_rng(seed)``.
    """
    if int(d) != d or d < 1 or int(hidden) != hidden or hidden < 1:
        raise ValueError(f"d and hidden must be positive integers, got d={d!r}, hidden={hidden!r}")
    rng = np.random.default_rng(seed)
    return {"W1": rng.normal(0.0, np.sqrt(2.0 / d), size=(hidden, d)),
            "b1": np.zeros(hidden),
            "w2": rng.normal(0.0, np.sqrt(1.0 / hidden), size=hidden),
            "b2": 0.0}


def _params(params, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys W1, b1, w2, b2, not {type(params).__name__}")
    missing = [k for k in ("W1", "b1", "w2", "b2") if k not in params]
    if missing:
        raise ValueError(f"params is missing {', '.join(missing)}; it needs W1 (m, d), b1 (m,), "
                         "w2 (m,) and b2 (a number)")
    W1 = as_float_array(params["W1"], "W1", allow_inf=False)
    if W1.ndim != 2 or W1.shape[1] != d:
        raise ValueError(f"W1 must have shape (m, {d}), one row per hidden unit (m of them) and one column per "
                         f"feature, but it has shape {W1.shape}")
    hidden = W1.shape[0]
    b1 = _vector(params["b1"], "b1", hidden, "one bias per hidden unit")
    w2 = _vector(params["w2"], "w2", hidden, "one output weight per hidden unit")
    return W1, b1, w2, _scalar(params["b2"], "b2")


def mlp_forward(X, params: dict) -> MLPForward:
    """The forward pass of the one-hidden-layer ReLU network on a batch.

    In the book: Chapter 2, §One hidden layer, backpropagated by hand.

    a = X W1ᵀ + b1, h = ReLU(a), s = h w2 + b2, p = σ(s); returns all four in an
    :class:`MLPForward` (the backward pass needs a, h and p).
    """
    X = _design_matrix(X)
    W1, b1, w2, b2 = _params(params, X.shape[1])
    a = X @ W1.T + b1
    h = np.maximum(a, 0.0)
    s = h @ w2 + b2
    return MLPForward(a, h, s, sigmoid(s))


def mlp_backward(X, y, params: dict, forward: MLPForward) -> dict:
    """The gradients of the mean BCE of the network with respect to W1, b1, w2 and b2.

    In the book: Chapter 2, §One hidden layer, backpropagated by hand.

    ``forward`` is what :func:`mlp_forward` returned for the same X and params. The formulas
    are in the module docstring; ReLU's derivative is taken as 0 at a = 0 (as in PyTorch).
    Returns a dict with the keys and shapes of ``params``.
    """
    X = _design_matrix(X)
    n = X.shape[0]
    y = _labels(y, n)
    W1, b1, w2, b2 = _params(params, X.shape[1])
    if not isinstance(forward, MLPForward) or forward.p.shape != (n,):
        raise ValueError("forward must be the MLPForward that mlp_forward(X, params) returned "
                         "for this X")
    ds = _residual(forward.s, y) / n          # ∂L/∂s = (p − y)/N
    grad_w2 = forward.h.T @ ds                # s = h w2 + b2
    grad_b2 = float(np.sum(ds))
    dh = np.outer(ds, w2)                     # ∂L/∂h
    da = dh * (forward.a > 0)                 # through the ReLU
    grad_W1 = da.T @ X                        # a = X W1ᵀ + b1
    grad_b1 = da.sum(axis=0)
    return {"W1": grad_W1, "b1": grad_b1, "w2": grad_w2, "b2": grad_b2}


def mlp_loss_and_grads(X, y, params: dict) -> tuple[float, dict]:
    """The mean BCE of the network on (X, y) and its gradients: a forward then a backward pass.

    In the book: Chapter 2, §One hidden layer, backpropagated by hand.
    """
    forward = mlp_forward(X, params)
    y = _labels(y, forward.s.shape[0])
    return float(bce_with_logits(forward.s, y)), mlp_backward(X, y, params, forward)
