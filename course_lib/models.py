"""Logistic regression in NumPy, fitted by gradient descent or by Newton's method (IRLS).

The model (chapter 1's notation): for features x ∈ R^d, weights w ∈ R^d and bias b,

    s = w·x + b,        p = p(y = 1 | x) = σ(s).

The objective is the mean binary cross-entropy of the N training examples plus an optional
L2 penalty on the weights:

    L(w, b) = (1/N) Σᵢ ℓᵢ + (λ/2)·‖w‖²,     ℓᵢ = −[yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)],

with λ = ``l2`` >= 0. The penalty is on **w only, not on b**: penalising b would pull every
prediction towards 1/2 when the classes are imbalanced, and the fit would change if the
features were merely shifted (a shift of x is absorbed by b, and should cost nothing).

Its derivatives, written with the design matrix X (N × d) and p = σ(Xw + b):

    ∇_w L = Xᵀ(p − y)/N + λw,       ∂L/∂b = mean(p − y),
    ∇²L   = X̃ᵀ S X̃ / N + λ·diag(1, …, 1, 0),     S = diag(p ⊙ (1 − p)),

where X̃ = [X, 1] is X with a column of ones appended, so that θ = (w, b) is one vector of
length d + 1 with the bias **last**. The Hessian is positive semi-definite (it does not depend on
the labels; it is positive definite when λ > 0, or when the columns of X̃ are linearly
independent, since p(1 − p) > 0), so L is convex: every stationary point is a global minimum.
A minimum need not exist, though: with λ = 0 and separable data ‖w‖ grows without bound, and
with only one class in y the unpenalised b runs off to ±∞ for any λ. See Bishop, PRML
§4.3.2–4.3.3, and the CS229 notes.

Public functions (used by the chapter, its self-checks and the tests):

- :func:`logistic_objective`  L(w, b)
- :func:`logistic_gradient`   (∇_w L, ∂L/∂b)
- :func:`logistic_hessian`    ∇²L, a (d + 1) × (d + 1) matrix, bias last
- :class:`LogisticRegression` the model: ``fit`` (``method="gd"`` or ``"newton"``),
  ``decision_function``, ``predict_proba``, ``predict``, and the histories of a fit
"""

from __future__ import annotations

import contextlib
import numbers
import warnings

import numpy as np

from ._validation import as_float_array, check_in_set, check_nonnegative
from .functional import _sigmoid, _sigmoid_grad, sigmoid

__all__ = ["LogisticRegression", "ConvergenceWarning", "logistic_objective", "logistic_gradient",
           "logistic_hessian", "smoothness_bound"]

METHODS = ("gd", "newton")
_DEFAULT_MAX_ITER = {"gd": 10_000, "newton": 100}


class ConvergenceWarning(UserWarning):
    """A fit stopped before reaching the minimum (or the minimum does not exist)."""


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------

def _check_X(X, name: str = "X") -> np.ndarray:
    X = as_float_array(X, name, allow_inf=False,
                       inf_reason="Features must be finite numbers; check for a division by zero "
                                  "or an overflow when the features were computed")
    if X.ndim != 2:
        hint = (" For a single feature, use X.reshape(-1, 1); for a single example, "
                "X.reshape(1, -1)." if X.ndim == 1 else "")
        raise ValueError(f"{name} must be a 2-D array of shape (N, d), one example per row, "
                         f"but it has shape {X.shape}.{hint}")
    return X


def _check_y(y, n_examples: int) -> np.ndarray:
    y = as_float_array(y, "y")
    if y.ndim == 2 and 1 in y.shape:
        raise ValueError(f"y must be a 1-D array of N labels, but it has shape {y.shape}; "
                         "flatten it first with y.ravel()")
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of N labels, but it has shape {y.shape}")
    if y.shape[0] != n_examples:
        raise ValueError(f"X has {n_examples} rows (examples) but y has {y.shape[0]} labels; "
                         "they must have one label per example")
    check_in_set(y, "y", (0.0, 1.0),
                 hint="If your labels are -1/+1, use y = (t + 1) / 2")
    return y


def _check_params(w, b, d: int) -> tuple[np.ndarray, float]:
    w = as_float_array(w, "w", allow_inf=False)
    if w.ndim != 1 or w.shape[0] != d:
        raise ValueError(f"w must be a 1-D array with one weight per feature, shape ({d},), "
                         f"but it has shape {w.shape}")
    b_arr = as_float_array(b, "b", allow_inf=False)
    if b_arr.size != 1:
        raise ValueError(f"b must be a single number, not an array of shape {b_arr.shape}")
    return w, float(b_arr.reshape(()))


def _check_l2(l2) -> float:
    l2_arr = as_float_array(l2, "l2", allow_inf=False)
    if l2_arr.ndim != 0:
        raise ValueError(f"l2 must be a single number, not an array of shape {l2_arr.shape}")
    check_nonnegative(l2_arr, "l2")
    return float(l2_arr)


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")
    return int(value)


def _check_positive_float(value, name: str, *, allow_zero: bool = False) -> float:
    arr = as_float_array(value, name, allow_inf=False)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, not an array of shape {arr.shape}")
    value = float(arr)
    if value < 0.0 or (value == 0.0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, not {value!r}")
    return value


def _checked_problem(X, y, w, b, l2):
    X = _check_X(X)
    y = _check_y(y, X.shape[0])
    w, b = _check_params(w, b, X.shape[1])
    return X, y, w, b, _check_l2(l2)


# ---------------------------------------------------------------------------------------------
# The objective and its derivatives (unchecked kernels, then the public, checked functions)
# ---------------------------------------------------------------------------------------------

def _loss_terms(s, sign) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-example BCE ℓᵢ, z = sign·s and e = e^{−|s|}, for logits s and sign = 1 − 2y (±1).

    With z = (1 − 2y)·s (z = s for y = 0, −s for y = 1) the loss is ℓ = softplus(z) =
    max(z, 0) + log1p(e): the stable form of :func:`course_lib.losses.bce_with_logits`, the
    same sums with the same rounding for 0/1 labels, with one exp and one log1p per example.
    z and e are handed on to the residual and the curvature. Labels must be 0 or 1.
    """
    z = sign * s
    e = np.abs(s)
    np.negative(e, out=e)
    np.exp(e, out=e)
    terms = np.maximum(z, 0.0)
    terms += np.log1p(e)
    return terms, z, e


def _residual_from(sign, z, e) -> np.ndarray:
    """σ(s) − y = (1 − 2y)·σ(z) for 0/1 labels (σ(s) for y = 0, −σ(−s) for y = 1, never a
    difference that cancels; see :func:`_residual`), with σ(z) = 1/(1 + e) for z >= 0 and
    e/(1 + e) otherwise."""
    residual = np.where(z >= 0, 1.0, e)
    residual /= 1.0 + e
    residual *= sign
    return residual


def _curvature_from(e) -> np.ndarray:
    """p(1 − p) = σ'(s) = e/(1 + e)², e = e^{−|s|}, kept at most 1/4 (see ``_sigmoid_grad``)."""
    return np.minimum(e / (1.0 + e) ** 2, 0.25)


def _objective(X, y, w, b, l2) -> float:
    return _objective_at(X @ w + b, 1.0 - 2.0 * y, w, l2)


def _objective_at(s, sign, w, l2) -> float:
    """L from the logits s = Xw + b and sign = 1 − 2y (no pass over X)."""
    return float(np.mean(_loss_terms(s, sign)[0])) + 0.5 * l2 * float(w @ w)


def _objective_and_gradient(X, y, w, b, l2) -> tuple[float, np.ndarray, float]:
    """L, ∇_w L and ∂L/∂b, from one evaluation of the logits s = Xw + b."""
    return _objective_and_gradient_at(X, X @ w + b, 1.0 - 2.0 * y, w, l2)[:3]


def _objective_and_gradient_at(X, s, sign, w, l2):
    """L, ∇_w L, ∂L/∂b and e^{−|s|} at given logits s = Xw + b: one pass over X (Xᵀr)."""
    terms, z, e = _loss_terms(s, sign)
    loss = float(np.mean(terms)) + 0.5 * l2 * float(w @ w)
    residual = _residual_from(sign, z, e)            # p − y, one entry per example
    return loss, X.T @ residual / X.shape[0] + l2 * w, float(residual.mean()), e


def _residual(s, y) -> np.ndarray:
    """σ(s) − y for labels y in [0, 1], as (1 − y)·σ(s) − y·σ(−s) (the kernel of
    :func:`course_lib.losses.bce_with_logits_grad`): for a 0/1 label one term is 0, so a tiny
    residual keeps its relative accuracy (σ(40) − 1 would be exactly 0, not −4.2e−18)."""
    return (1.0 - y) * _sigmoid(s) - y * _sigmoid(-s)


def _gradient(X, y, w, b, l2) -> tuple[np.ndarray, float]:
    return _objective_and_gradient(X, y, w, b, l2)[1:]


#: Elements per block of rows when the Hessian is accumulated (256 KB): the weighted copy of one
#: block of X is the only temporary. Small blocks also keep each product in one thread, which
#: measured faster and far steadier than large ones on a loaded 2-core machine (at 284,807 × 29:
#: about 25 ms per Hessian, against 55 ms for one weighted copy of all of X).
_HESSIAN_BLOCK_ELEMENTS = 1 << 15


def _hessian_from_weights(X, weights, l2) -> np.ndarray:
    """X̃ᵀ S X̃ / N + λ·diag(1, …, 1, 0) with S = diag(weights), bias last, without forming X̃.

    The block of the weights is accumulated over blocks of rows, (X_B ⊙ weights_B)ᵀ X_B, so the
    memory on top of X is one block; the bias row and column are Xᵀweights and Σ weights.
    """
    n, d = X.shape
    H = np.empty((d + 1, d + 1))
    block = max(256, _HESSIAN_BLOCK_ELEMENTS // max(d, 1))
    buffer = np.empty((min(block, n), d))
    H_ww = np.zeros((d, d))
    for start in range(0, n, block):
        X_B = X[start:start + block]
        weighted = np.multiply(X_B, weights[start:start + block, None], out=buffer[:X_B.shape[0]])
        H_ww += weighted.T @ X_B
    H[:d, :d] = H_ww
    H[:d, d] = H[d, :d] = X.T @ weights
    H[d, d] = weights.sum()
    H /= n
    H = 0.5 * (H + H.T)   # exactly symmetric (the product above may differ in the last bit)
    H[np.arange(d), np.arange(d)] += l2
    return H


def _hessian(X, w, b, l2) -> np.ndarray:
    # p(1 − p) = σ'(s) from the stable kernel: computed as σ(s)·(1 − σ(s)) it is exactly 0
    # once σ(s) rounds to 1 (s ≳ 36.7), although σ'(50) ≈ 1.9e−22.
    return _hessian_from_weights(X, _sigmoid_grad(X @ w + b), l2)


def _gram_max_eigenvalue(X) -> float:
    """λ_max(X̃ᵀX̃) for X̃ = [X, 1], from the (d + 1) × (d + 1) Gram matrix (X̃ is not formed)."""
    n, d = X.shape
    G = np.empty((d + 1, d + 1))
    G[:d, :d] = X.T @ X
    G[:d, d] = G[d, :d] = X.sum(axis=0)
    G[d, d] = n
    return float(np.linalg.eigvalsh(0.5 * (G + G.T))[-1])


def smoothness_bound(X, l2: float = 0.0) -> float:
    """The curvature bound M = λ_max(X̃ᵀX̃)/(4N) + λ of the objective (Chapter 1, §Gradient descent
    and its learning rate), X̃ = [X, 1] with the bias column.

    Every eigenvalue of the Hessian X̃ᵀSX̃/N + λ·diag(1, …, 1, 0) is at most M, since each
    p(1 − p) <= 1/4 and the penalty adds at most λ; with λ = 0, M is the curvature at w = 0,
    b = 0. ``fit(method="gd")`` uses lr = 1/M unless given another rate.

    Examples
    --------
    >>> smoothness_bound([[1.0], [-1.0]])   # X̃ᵀX̃ = 2·I, N = 2: 2/(4·2)
    0.25
    """
    X = _check_X(X)
    return _gram_max_eigenvalue(X) / (4.0 * X.shape[0]) + _check_l2(l2)


def logistic_objective(X, y, w, b, l2: float = 0.0) -> float:
    """The training objective L(w, b) = mean BCE + (λ/2)‖w‖² (λ = ``l2``; b is not penalised).

    In the book: Chapter 1, §The loss and its gradient.

    The mean BCE is computed from the logits with the stable
    :func:`course_lib.losses.bce_with_logits`, so it is finite for any finite w and b.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Features, one example per row.
    y : array_like, shape (N,)
        Labels, 0 or 1.
    w : array_like, shape (d,)
        Weights.
    b : float
        Bias.
    l2 : float, default 0.0
        Strength λ >= 0 of the L2 penalty on w.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If a shape does not fit, a label is not 0/1, l2 < 0, or an input is empty, NaN or
        infinite.

    Examples
    --------
    >>> round(logistic_objective([[1.0], [2.0]], [0, 1], [0.0], 0.0), 6)   # log 2
    0.693147
    """
    return _objective(*_checked_problem(X, y, w, b, l2))


def logistic_gradient(X, y, w, b, l2: float = 0.0) -> tuple[np.ndarray, float]:
    """The gradient of :func:`logistic_objective`: ``(Xᵀ(p − y)/N + λw, mean(p − y))``.

    In the book: Chapter 1, §The loss and its gradient.

    Parameters
    ----------
    X, y, w, b, l2
        As in :func:`logistic_objective`.

    Returns
    -------
    grad_w : numpy.ndarray, shape (d,)
    grad_b : float

    Examples
    --------
    >>> g_w, g_b = logistic_gradient([[1.0], [2.0]], [0, 1], [0.0], 0.0)
    >>> g_w, g_b                      # p = 1/2 everywhere: ((0.5·1 − 0.5·2)/2, 0)
    (array([-0.25]), 0.0)
    """
    return _gradient(*_checked_problem(X, y, w, b, l2))


def logistic_hessian(X, w, b, l2: float = 0.0) -> np.ndarray:
    """The Hessian of :func:`logistic_objective` with respect to θ = (w, b), bias last.

    In the book: Chapter 1, §The curvature of the loss: its Hessian.

    H = X̃ᵀ S X̃ / N + λ·diag(1, …, 1, 0), with X̃ = [X, 1] and S = diag(p(1 − p)). It does not
    depend on the labels. It is symmetric and positive semi-definite.

    Parameters
    ----------
    X, w, b, l2
        As in :func:`logistic_objective`.

    Returns
    -------
    numpy.ndarray, shape (d + 1, d + 1)

    Examples
    --------
    >>> logistic_hessian([[1.0], [-1.0]], [0.0], 0.0)   # p(1 − p) = 1/4 for both
    array([[0.25, 0.  ],
           [0.  , 0.25]])
    """
    X = _check_X(X)
    w, b = _check_params(w, b, X.shape[1])
    return _hessian(X, w, b, _check_l2(l2))


def _single_threaded_blas():
    """A context in which BLAS runs on one thread (threadpoolctl, installed with scikit-learn),
    or a no-op without threadpoolctl. Measured on the 2-core course machine under load, a Newton
    fit at 284,807 × 29 took about half the time with one BLAS thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


#: The line search of Newton's method: Armijo's constant c, and the most halvings of the step.
_ARMIJO_C = 1e-4
_MAX_HALVINGS = 50


def _newton_direction(H, g) -> tuple[np.ndarray | None, int]:
    """The safeguarded Newton direction Δ (see ``LogisticRegression.fit``) and the numerical
    rank of H.

    With H = QΛQᵀ, eigenvalues above τ = (d + 1)·ε·λ_max are used as they are (NumPy's
    ``lstsq``/``pinv`` cutoff); those at most τ are replaced by μ = ‖g‖ (a Levenberg–Marquardt
    damping of the flat directions only). Returns (None, 0) when H is numerically zero.
    """
    eigenvalues, Q = np.linalg.eigh(H)
    largest = eigenvalues[-1]
    if not largest > 0.0:
        return None, 0
    keep = eigenvalues > H.shape[0] * np.finfo(float).eps * largest
    rank = int(keep.sum())
    coefficients = Q.T @ g
    if rank == H.shape[0]:
        return Q @ (coefficients / eigenvalues), rank
    return Q @ (coefficients / np.where(keep, eigenvalues, float(np.sqrt(g @ g)))), rank


def _armijo(X, sign, w, b, step, slope, loss, l2):
    """Backtracking line search along −step: (w, b, logits, halvings) of the first accepted
    t = 1, 1/2, 1/4, …, or None when none of ``_MAX_HALVINGS`` halvings is accepted."""
    d = X.shape[1]
    allowance = 4.0 * np.finfo(float).eps * abs(loss)
    t = 1.0
    for halvings in range(_MAX_HALVINGS + 1):
        w_t, b_t = w - t * step[:d], b - t * step[d]
        s_t = X @ w_t + b_t
        if _objective_at(s_t, sign, w_t, l2) <= loss - _ARMIJO_C * t * slope + allowance:
            return w_t, float(b_t), s_t, halvings
        t *= 0.5
    return None


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------

class LogisticRegression:
    """Binary logistic regression p(y = 1 | x) = σ(w·x + b), fitted by minimising
    mean BCE + (λ/2)‖w‖² (see the module docstring; the bias is not penalised).

    In the book: Chapter 1, §Fitting by gradient descent, and §Newton's method and iteratively
    reweighted least squares.

    Parameters
    ----------
    l2 : float, default 0.0
        Strength λ >= 0 of the L2 penalty on the weights. With λ = 0 and linearly separable
        training data the minimum does not exist (‖w‖ grows without bound); any λ > 0 gives a
        unique, finite minimum when y contains both classes. (With one class only, the
        unpenalised bias b goes to ±∞ for every λ, so ``fit`` refuses such labels.)

    Attributes (after ``fit``)
    --------------------------
    w : numpy.ndarray, shape (d,)
        The weights.
    b : float
        The bias.
    loss_history : numpy.ndarray, shape (n_iter + 1,)
        The objective at the starting point and after every iteration.
    grad_norm_history : numpy.ndarray, shape (n_iter + 1,)
        The Euclidean norm of the full gradient (∇_w L, ∂L/∂b) at the same points.
    weight_norm_history : numpy.ndarray, shape (n_iter + 1,)
        ‖w‖ at the same points.
    n_iter : int
        The number of iterations taken.
    converged : bool
        True when the gradient norm fell to ``tol`` or below (and the data are not separated,
        see ``separable``).
    separable : bool
        True when l2 = 0 and the final weights classify every training example correctly with
        a strictly positive margin: the data are linearly separable, so the maximum-likelihood
        weights do not exist (scaling w and b up lowers the loss forever).
    status : str
        A sentence saying why the fit stopped (and, for Newton's method, whether the Hessian
        was singular on the way).
    rank_history : numpy.ndarray of int, shape (n_iter,)
        Newton's method: the numerical rank of the (d + 1) × (d + 1) Hessian at each iteration
        (d + 1 when it was non-singular; see ``fit``). Empty for gradient descent.
    halvings_history : numpy.ndarray of int, shape (n_iter,)
        Newton's method: how many times the line search halved each step (0: the full step).
    fit_info_ : dict
        What the fit did. Always ``"method"``. Gradient descent: ``"lr"``, the rate used, and
        ``"lr_from"``, "1/M" (the default) or "given". Newton's method: ``"hessian_size"``
        (d + 1), ``"min_rank"``, ``"rank_deficient_steps"``, ``"halvings"`` (in all),
        ``"steps_with_halvings"`` and ``"gradient_steps"`` (fallback steps Δ = g/M).

    Examples
    --------
    >>> from course_lib.toy_data import make_two_blobs
    >>> X, y = make_two_blobs(100, separation=2.0, seed=0)
    >>> model = LogisticRegression().fit(X, y, method="newton")
    >>> model.converged, model.n_iter < 10
    (True, True)
    """

    def __init__(self, l2: float = 0.0):
        self.l2 = _check_l2(l2)
        self.w: np.ndarray | None = None
        self.b: float | None = None
        self.loss_history = np.empty(0)
        self.grad_norm_history = np.empty(0)
        self.weight_norm_history = np.empty(0)
        self.n_iter = 0
        self.converged = False
        self.separable = False
        self.status = "not fitted"
        self.rank_history = np.empty(0, dtype=int)
        self.halvings_history = np.empty(0, dtype=int)
        self.fit_info_: dict = {}

    def __repr__(self) -> str:
        return f"LogisticRegression(l2={self.l2!r})"

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X, y, method: str = "newton", *, lr: float | None = None,
            max_iter: int | None = None, tol: float = 1e-8, w_init=None, b_init: float = 0.0,
            warn: bool = True):
        """Fit w and b to the data by gradient descent or by Newton's method.

        Both methods start from ``w_init`` (zeros by default) and ``b_init`` and stop when the
        norm of the gradient is at most ``tol``, or after ``max_iter`` iterations. The inputs
        are checked once, at the start; the iterations then work on the checked arrays.

        - ``method="gd"`` (Chapter 1, §Gradient descent and its learning rate): gradient
          descent, θ ← θ − lr·∇L(θ), with a fixed learning rate. By default lr = 1/M, with the
          chapter's curvature bound

              M = λ_max(X̃ᵀX̃)/(4N) + λ,     X̃ = [X, 1] (the bias column included),

          computed once per fit from the (d + 1) × (d + 1) Gram matrix (see
          :func:`smoothness_bound`); ``lr=`` overrides it and is then used exactly as given.
          Each iteration costs one pass over X for the logits Xw + b and one for Xᵀ(p − y).
          Why 1/M: since p(1 − p) <= 1/4, M bounds the curvature, and one step lowers L by at
          least lr·(1 − lr·M/2)·‖∇L‖², so every lr < 2/M decreases L at each step; 2/M is also
          the stability limit of gradient descent on a quadratic of curvature M. lr = 1/M
          maximises that guaranteed decrease (‖∇L‖²/(2M)) and is the rate for which the
          standard bound L_k − L* <= ‖θ_0 − θ*‖²/(2·lr·k) is stated. M bounds the curvature
          everywhere and, with l2 = 0, is the curvature at the default start w = 0, b = 0
          (every p = 1/2); near the minimum the largest curvature λ_max(H*) is smaller, and
          there lr < 2/λ_max(H*) is enough for stability: chapter 1's 4/M overshoots at first
          and still converges, 8/M ends in a 2-cycle. Near the minimum the gap L − L* shrinks
          by about max(|1 − lr·λ_min|, |1 − lr·λ_max(H*)|)² per step, λ_min and λ_max(H*) the
          smallest and largest eigenvalues of the Hessian there; for lr ≤ 2/(λ_min + λ_max(H*)),
          as with lr = 1/M, that is (1 − lr·λ_min)²: linear convergence, slow when the problem
          is ill-conditioned.
        - ``method="newton"`` (Chapter 1, §Newton's method and iteratively reweighted least
          squares): Newton's method, which for this loss is IRLS, safeguarded so that a
          singular or nearly singular Hessian does not stop it. At θ_k, with gradient g and
          Hessian H = QΛQᵀ (its eigendecomposition, (d + 1) × (d + 1)):

              Δ = Σᵢ (qᵢᵀg / λ̃ᵢ)·qᵢ,   λ̃ᵢ = λᵢ if λᵢ > τ, else ‖g‖;   τ = (d + 1)·ε·λ_max(H),

          ε = 2⁻⁵². When H is non-singular (every λᵢ > τ) this is the Newton step H⁻¹g. When
          it is not (an all-zero or duplicated feature, more features than examples), the
          directions with λᵢ <= τ (NumPy's ``lstsq``/``pinv`` cutoff) get the damping μ = ‖g‖ of
          a Levenberg–Marquardt step instead of 1/λᵢ. Along a direction in which the logits
          Xw + b do not change at all (with λ = 0 the null space of H is that of X̃ when every
          p(1 − p) > 0) the gradient is 0 too, so nothing moves there (up to rounding) and Δ
          is the minimum-norm least-squares solution of HΔ = g; where the curvature has only
          underflowed (saturated logits) the gradient still moves θ. Then a backtracking
          (Armijo) line search: θ_{k+1} = θ_k − t·Δ with the first t in 1, 1/2, 1/4, … (at most
          50 halvings) for which

              L(θ_k − t·Δ) <= L(θ_k) − c·t·gᵀΔ + 4ε·|L(θ_k)|,     c = 10⁻⁴,

          the last term allowing for rounding in L at the very end. From the default start on
          ordinary data the full step t = 1 is taken at every iteration, and near the minimum the convergence is quadratic (the
          number of correct digits doubles every step); started far out (saturated logits,
          where the quadratic model is poor) the step is halved until the loss decreases.
          Should H be numerically zero, Δ not a descent direction, or no halving be accepted,
          the iteration takes a gradient step Δ = g/M instead (the rate of ``"gd"``, which
          decreases L by at least ‖g‖²/(2M)), with the same line search. Each iteration makes
          one pass over X for the Hessian (in blocks of rows, so no copy of X is made), one
          for Xᵀ(p − y) and one for the logits of each trial step, all with one BLAS thread
          (see ``_single_threaded_blas``). What it did is in
          ``rank_history``, ``halvings_history`` and ``fit_info_``, and the ``status`` says
          when the Hessian was singular.

        Parameters
        ----------
        X : array_like, shape (N, d)
            Features, one example per row, finite.
        y : array_like, shape (N,)
            Labels, 0 or 1.
        method : {"newton", "gd"}, default "newton"
        lr : float, optional
            The learning rate of gradient descent (> 0); 1/M by default (see above). Ignored by
            Newton's method.
        max_iter : int, optional
            The most iterations; 10 000 for "gd" and 100 for "newton" by default.
        tol : float, default 1e-8
            Stop when ‖(∇_w L, ∂L/∂b)‖ <= tol (>= 0).
        w_init : array_like, shape (d,), optional
            Starting weights; zeros by default.
        b_init : float, default 0.0
            Starting bias.
        warn : bool, default True
            Issue a :class:`ConvergenceWarning` when the fit did not converge.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            If an input has the wrong shape, a label is not 0/1, X has NaN or infinite entries,
            y contains only one class, the method is unknown, or lr, max_iter or tol is out of
            range.
        """
        X = _check_X(X)
        y = _check_y(y, X.shape[0])
        if y.min() == y.max():
            label = int(y[0])
            raise ValueError(
                f"y contains only one class (every label is {label}), so the fit has no finite "
                f"optimum: the bias b is not penalised, and the loss keeps decreasing as "
                f"b → {'+' if label == 1 else '−'}∞ (p → {label} for every example), whatever "
                f"l2 is. Fit on data that contain both classes")
        if not isinstance(method, str) or method not in METHODS:
            raise ValueError(f"method must be 'gd' (gradient descent) or 'newton' (Newton/IRLS), "
                             f"not {method!r}")
        if lr is not None:
            lr = _check_positive_float(lr, "lr")
        max_iter = _check_positive_int(_DEFAULT_MAX_ITER[method] if max_iter is None else max_iter,
                                       "max_iter")
        tol = _check_positive_float(tol, "tol", allow_zero=True)
        X = np.ascontiguousarray(X)                # row blocks of X are then contiguous
        n, d = X.shape
        w, b = _check_params(np.zeros(d) if w_init is None else w_init, b_init, d)
        w = w.copy()
        l2 = self.l2
        sign = 1.0 - 2.0 * y              # ±1: the kernels work with z = (1 − 2y)·s
        bound = None                      # M, computed when first needed

        def smoothness():
            nonlocal bound
            if bound is None:
                bound = _gram_max_eigenvalue(X) / (4.0 * n) + l2
            return bound

        info: dict = {"method": method}
        if method == "gd":
            info["lr_from"] = "given" if lr is not None else "1/M"
            if lr is None:
                lr = 1.0 / smoothness()
            info["lr"] = lr
        ranks, halvings = [], []
        gradient_steps = 0

        losses, grad_norms, weight_norms = [], [], []
        stop_reason = ""
        k = 0
        # Newton's small dense algebra (the (d + 1)² eigendecomposition, the Hessian's row
        # blocks) gains nothing from BLAS threads and loses much to them on a loaded machine.
        with _single_threaded_blas() if method == "newton" else contextlib.nullcontext():
            s = X @ w + b
            while True:
                loss, g_w, g_b, e = _objective_and_gradient_at(X, s, sign, w, l2)
                grad_norm = float(np.sqrt(g_w @ g_w + g_b * g_b))
                losses.append(loss)
                grad_norms.append(grad_norm)
                weight_norms.append(float(np.sqrt(w @ w)))
                if grad_norm <= tol:
                    break
                if k == max_iter:
                    stop_reason = (f"stopped after max_iter={max_iter} iterations with gradient norm "
                                   f"{grad_norm:.3g} > tol={tol:g}")
                    break
                if method == "gd":
                    w, b = w - lr * g_w, b - lr * g_b
                    s = X @ w + b
                else:
                    g = np.append(g_w, g_b)
                    step, rank = _newton_direction(_hessian_from_weights(X, _curvature_from(e), l2), g)
                    slope = float(g @ step) if step is not None else 0.0
                    if step is None or not slope > 0.0:    # no curvature to use, or rounding
                        step = g / smoothness()
                        slope = float(g @ step)
                        gradient_steps += 1
                    ranks.append(rank)
                    accepted = _armijo(X, sign, w, b, step, slope, loss, l2)
                    if accepted is None:                   # the quadratic model is useless here:
                        step = g / smoothness()            # a gradient step, which must decrease L
                        accepted = _armijo(X, sign, w, b, step, float(g @ step), loss, l2)
                        gradient_steps += 1
                    if accepted is None:
                        halvings.append(_MAX_HALVINGS)
                        stop_reason = (f"no step along the Newton direction (even halved "
                                       f"{_MAX_HALVINGS} times) decreased the loss, at gradient norm "
                                       f"{grad_norm:.3g} > tol={tol:g}: the loss is at the limit of "
                                       f"its rounding error")
                        break
                    w, b, s, n_halvings = accepted
                    halvings.append(n_halvings)
                k += 1

        self.w, self.b = w, float(b)
        self.loss_history = np.array(losses)
        self.grad_norm_history = np.array(grad_norms)
        self.weight_norm_history = np.array(weight_norms)
        self.rank_history = np.array(ranks, dtype=int)
        self.halvings_history = np.array(halvings, dtype=int)
        self.n_iter = k
        margins = (2.0 * y - 1.0) * s
        self.separable = bool(l2 == 0.0 and np.all(margins > 0.0))
        if method == "newton":
            info.update(hessian_size=d + 1,
                        min_rank=int(self.rank_history.min()) if ranks else d + 1,
                        rank_deficient_steps=int(np.sum(self.rank_history < d + 1)),
                        halvings=int(self.halvings_history.sum()),
                        steps_with_halvings=int(np.sum(self.halvings_history > 0)),
                        gradient_steps=gradient_steps)
        self.fit_info_ = info
        if self.separable:
            stop_reason = (stop_reason + "; " if stop_reason else "") + (
                "the weights separate the training data perfectly, so the maximum-likelihood "
                "weights do not exist: scaling w and b up lowers the loss forever and ‖w‖ grows "
                "without bound. Use l2 > 0 (or stop early on purpose)")
        self.converged = not stop_reason
        name = "gradient descent" if method == "gd" else "Newton's method"
        if self.converged:
            self.status = (f"{name} converged in {k} iterations "
                           f"(gradient norm {grad_norms[-1]:.3g} <= tol={tol:g})")
        else:
            self.status = f"{name} did not converge: {stop_reason}"
        if method == "newton" and info["rank_deficient_steps"]:
            self.status += (f"; the Hessian was singular at {info['rank_deficient_steps']} of "
                            f"{k} iterations (rank {info['min_rank']} of {d + 1} at the least), "
                            f"so those steps were least-squares (pseudo-inverse) Newton steps, "
                            f"damped along the directions in which the loss is flat")
        if not self.converged and warn:
            warnings.warn(self.status, ConvergenceWarning, stacklevel=2)
        return self

    # -- predicting ---------------------------------------------------------------------------
    def _fitted_X(self, X) -> np.ndarray:
        if self.w is None:
            raise ValueError("this model has not been fitted yet: call fit(X, y) first")
        X = _check_X(X)
        if X.shape[1] != self.w.shape[0]:
            raise ValueError(f"X has {X.shape[1]} features (columns) but the model was fitted "
                             f"with {self.w.shape[0]}")
        return X

    def decision_function(self, X) -> np.ndarray:
        """The logits s = Xw + b, shape (N,)."""
        return self._fitted_X(X) @ self.w + self.b

    def predict_proba(self, X) -> np.ndarray:
        """The probabilities p = σ(Xw + b) that y = 1, shape (N,)."""
        return sigmoid(self.decision_function(X))

    def predict(self, X, threshold: float = 0.5) -> np.ndarray:
        """The predicted labels, 1.0 where p >= ``threshold`` and 0.0 elsewhere, shape (N,).

        ``threshold`` must lie strictly between 0 and 1. With the default 1/2 the prediction is
        1 where s = w·x + b >= 0, on the positive side of the decision boundary (up to rounding
        for logits within about 1e-16 of 0, where σ(s) rounds to 1/2).
        """
        t = as_float_array(threshold, "threshold", allow_inf=False)
        if t.ndim != 0 or not 0.0 < float(t) < 1.0:
            raise ValueError(f"threshold must be a single number strictly between 0 and 1, "
                             f"not {threshold!r}")
        return (self.predict_proba(X) >= float(t)).astype(np.float64)
