"""Softmax (multinomial logistic) regression in NumPy, fitted by gradient descent (chapter 5).

The model: for features x ∈ R^d, a weight matrix W ∈ R^{d×K} (one column w_k per class) and
biases b ∈ R^K,

    s = Wᵀx + b ∈ R^K,        p = softmax(s),        p_k = P(y = k | x).

The objective is the mean categorical cross-entropy of the N training examples (labels
y_i ∈ {0, …, K − 1}) plus an optional L2 penalty on the weights (not on the biases, as in
:class:`course_lib.models.LogisticRegression`):

    L(W, b) = (1/N) Σᵢ [logsumexp(sᵢ) − s_{i,yᵢ}] + (λ/2)·‖W‖²_F.

Its gradient, with P the N × K matrix of probabilities and Y the one-hot labels:

    ∇_W L = Xᵀ(P − Y)/N + λW,        ∇_b L = mean over examples of (P − Y).

The Hessian. Order the parameters class by class, θ = (θ_0, …, θ_{K−1}) with θ_k = (w_k, b_k) ∈
R^{d+1}, and write x̃ = (x, 1). The Hessian of one example's loss with respect to its logits is
the softmax Jacobian A = diag(p) − ppᵀ, so

    ∇²L = (1/N) Σᵢ Aᵢ ⊗ x̃ᵢx̃ᵢᵀ + λ·(I_K ⊗ diag(1, …, 1, 0)).

Each Aᵢ is positive semi-definite (vᵀAv = Σ p_k v_k² − (Σ p_k v_k)² is the variance of v under
p), so L is convex. Aᵢ𝟙 = p − p = 0: adding the same vector to every θ_k changes no
probability, so ∇²L is singular along those directions (for the biases always, for the weights
unless λ > 0). The biases are therefore determined only up to a common constant; gradient
descent started from Σ_k b_k = 0 stays there, because Σ_k ∂L/∂b_k = mean(Σ_k (p_k − y_k)) = 0.

The step size. For any v, vᵀAv = Var_p(v) ≤ (max v − min v)²/4 ≤ (max v² + min v²)/2 ≤ ‖v‖²/2
(a consequence of Böhning's sharper A ⪯ ½·(I − 𝟙𝟙ᵀ/K); ½ is approached as p tends to (½, ½, 0, …),
with v = (1, −1, 0, …)). Hence

    ∇²L ⪯ ½·I_K ⊗ X̃ᵀX̃/N + λI,        M = λ_max(X̃ᵀX̃)/(2N) + λ

bounds the curvature everywhere (:func:`smoothness_bound`), and gradient descent with step
1/M decreases L at every iteration (the descent lemma). For K = 2 the bound is twice the ¼ of
binary logistic regression: the two-class softmax has two logits per example, and s₁ − s₀
moves twice as fast as each of them.

Public functions:

- :func:`softmax_objective`   L(W, b)
- :func:`softmax_gradient`    (∇_W L, ∇_b L)
- :func:`softmax_hessian`     ∇²L, a K(d + 1) × K(d + 1) matrix, ordered class by class
- :func:`smoothness_bound`    M = λ_max(X̃ᵀX̃)/(2N) + λ
- :class:`SoftmaxRegression`  the model: ``fit``, ``decision_function``, ``predict_proba``,
  ``predict`` and the histories of a fit
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from ._validation import as_float_array
from .functional import _softmax
from .models import ConvergenceWarning, _check_l2, _check_positive_float, _check_positive_int, _check_X

__all__ = ["SoftmaxRegression", "softmax_objective", "softmax_gradient", "softmax_hessian",
           "smoothness_bound"]


# ---------------------------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------------------------

def _check_labels(y, n_examples: int, n_classes=None) -> tuple[np.ndarray, int]:
    y = as_float_array(y, "y")
    if y.ndim == 2 and 1 in y.shape:
        raise ValueError(f"y must be a 1-D array of N class indices, but it has shape {y.shape}; "
                         "flatten it first with y.ravel()")
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of N class indices 0, 1, ..., K − 1, but it has "
                         f"shape {y.shape} (one-hot rows? use y = Y.argmax(axis=1))")
    if y.shape[0] != n_examples:
        raise ValueError(f"X has {n_examples} rows (examples) but y has {y.shape[0]} labels; "
                         "they must have one label per example")
    bad = (y != np.round(y)) | (y < 0)
    if np.any(bad):
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(f"y must hold class indices 0, 1, ..., K − 1, but y[{first}] = "
                         f"{float(y[first])!r}")
    if n_classes is None:
        K = int(y.max()) + 1
    else:
        if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 2:
            raise ValueError(f"n_classes must be a whole number >= 2, not {n_classes!r}")
        K = int(n_classes)
        if y.max() >= K:
            first = int(np.flatnonzero(y >= K)[0])
            raise ValueError(f"y[{first}] = {float(y[first])!r} is not a class index below "
                             f"n_classes = {K}")
    if K < 2:
        raise ValueError("y contains only class 0; softmax regression needs K >= 2 classes")
    return y.astype(np.int64), K


def _check_params(W, b, d: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    W = as_float_array(W, "W", allow_inf=False)
    if W.shape != (d, K):
        raise ValueError(f"W must have one column of weights per class, shape ({d}, {K}) "
                         f"(d features, K classes), but it has shape {W.shape}")
    b = as_float_array(b, "b", allow_inf=False)
    if b.shape != (K,):
        raise ValueError(f"b must hold one bias per class, shape ({K},), but it has shape {b.shape}")
    return W, b


def _checked_problem(X, y, W, b, l2):
    X = _check_X(X)
    W_arr = as_float_array(W, "W", allow_inf=False)
    K = W_arr.shape[-1] if W_arr.ndim == 2 else None
    y, K = _check_labels(y, X.shape[0], K)
    W, b = _check_params(W_arr, b, X.shape[1], K)
    return X, y, W, b, _check_l2(l2)


# ---------------------------------------------------------------------------------------------
# The objective and its derivatives
# ---------------------------------------------------------------------------------------------

def _objective_and_gradient(X, y, W, b, l2) -> tuple[float, np.ndarray, np.ndarray]:
    # One pass: z = S − max(S) ≤ 0 per row, so e^z cannot overflow and the row sums are >= 1.
    # (log of the row sum, rather than log_softmax's log1p form, is enough for a mean loss:
    # it loses relative accuracy only in examples whose loss is below about 1e-16.)
    N = X.shape[0]
    S = X @ W + b
    z = S - S.max(axis=1, keepdims=True)
    e = np.exp(z)
    row_sum = e.sum(axis=1)
    rows = np.arange(N)
    loss = float(np.mean(np.log(row_sum) - z[rows, y])) + 0.5 * l2 * float(np.sum(W * W))
    R = e / row_sum[:, None]
    R[rows, y] -= 1.0                         # P − Y
    return loss, X.T @ R / N + l2 * W, R.mean(axis=0)


def softmax_objective(X, y, W, b, l2: float = 0.0) -> float:
    """The training objective L(W, b) = mean cross-entropy + (λ/2)‖W‖²_F (b not penalised).

    Parameters
    ----------
    X : array_like, shape (N, d)
        Features, one example per row.
    y : array_like, shape (N,)
        Class indices 0 … K − 1 (K is the number of columns of W).
    W : array_like, shape (d, K)
    b : array_like, shape (K,)
    l2 : float, default 0.0
        λ >= 0.

    Returns
    -------
    float

    Examples
    --------
    >>> round(softmax_objective([[1.0], [2.0]], [0, 2], np.zeros((1, 3)), np.zeros(3)), 6)   # log 3
    1.098612
    """
    return _objective_and_gradient(*_checked_problem(X, y, W, b, l2))[0]


def softmax_gradient(X, y, W, b, l2: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The gradient of :func:`softmax_objective`: ``(Xᵀ(P − Y)/N + λW, mean(P − Y))``.

    Examples
    --------
    >>> g_W, g_b = softmax_gradient([[1.0], [-1.0]], [0, 1], np.zeros((1, 2)), np.zeros(2))
    >>> g_W, g_b           # P − Y = (−½, ½) and (½, −½); Xᵀ(P − Y)/N = ((−½, ½) − (½, −½))/2
    (array([[-0.5,  0.5]]), array([0., 0.]))
    """
    return _objective_and_gradient(*_checked_problem(X, y, W, b, l2))[1:]


def softmax_hessian(X, W, b, l2: float = 0.0) -> np.ndarray:
    """The Hessian of :func:`softmax_objective` with respect to θ = (θ_0, …, θ_{K−1}), θ_k = (w_k, b_k).

    H = (1/N) Σᵢ Aᵢ ⊗ x̃ᵢx̃ᵢᵀ + λ·(I_K ⊗ diag(1, …, 1, 0)), Aᵢ = diag(pᵢ) − pᵢpᵢᵀ; it does not
    depend on the labels. Block (k, l), of size (d + 1) × (d + 1), is X̃ᵀ diag(A_{·,k,l}) X̃ / N.
    It is symmetric, positive semi-definite, and singular along every direction that adds the
    same vector to all θ_k (for λ > 0, only along the common bias shift (0, …, 0, 1) repeated K
    times).

    Returns
    -------
    numpy.ndarray, shape (K(d + 1), K(d + 1))

    Examples
    --------
    >>> H = softmax_hessian([[1.0], [-1.0]], np.zeros((1, 2)), np.zeros(2))
    >>> H            # p = (½, ½): A = [[¼, −¼], [−¼, ¼]], X̃ᵀX̃/N = I
    array([[ 0.25,  0.  , -0.25,  0.  ],
           [ 0.  ,  0.25,  0.  , -0.25],
           [-0.25,  0.  ,  0.25,  0.  ],
           [ 0.  , -0.25,  0.  ,  0.25]])
    """
    X = _check_X(X)
    W_arr = as_float_array(W, "W", allow_inf=False)
    if W_arr.ndim != 2:
        raise ValueError(f"W must have shape (d, K), but it has shape {W_arr.shape}")
    W, b = _check_params(W_arr, b, X.shape[1], W_arr.shape[1])
    l2 = _check_l2(l2)
    N, d = X.shape
    K = W.shape[1]
    P = _softmax(X @ W + b, -1)
    A = -P[:, :, None] * P[:, None, :]
    A[:, np.arange(K), np.arange(K)] += P
    X1 = np.column_stack([X, np.ones(N)])
    H = np.einsum("ikl,ia,ib->kalb", A, X1, X1, optimize=True) / N
    H = H.reshape(K * (d + 1), K * (d + 1))
    H = 0.5 * (H + H.T)
    penalised = np.tile(np.r_[np.ones(d), 0.0], K)
    H[np.diag_indices_from(H)] += l2 * penalised
    return H


def smoothness_bound(X, l2: float = 0.0) -> float:
    """M = λ_max(X̃ᵀX̃)/(2N) + λ, an upper bound on the largest eigenvalue of the Hessian.

    Derivation (module docstring): the softmax Jacobian satisfies diag(p) − ppᵀ ⪯ ½·I, so
    ∇²L ⪯ ½·I_K ⊗ X̃ᵀX̃/N + λI at every (W, b). Gradient descent with a step 1/M therefore
    decreases the objective at every iteration. λ_max(X̃ᵀX̃) is the square of the largest
    singular value of X̃ = [X, 1].

    Examples
    --------
    >>> round(smoothness_bound([[1.0], [-1.0]]), 12)      # X̃ᵀX̃/N = I, so ½
    0.5
    """
    X = _check_X(X)
    l2 = _check_l2(l2)
    X1 = np.column_stack([X, np.ones(X.shape[0])])
    top = float(np.linalg.norm(X1, 2)) ** 2
    return top / (2.0 * X.shape[0]) + l2


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------

class SoftmaxRegression:
    """Softmax regression p(y = k | x) = softmax(Wᵀx + b)_k, fitted by gradient descent on
    mean cross-entropy + (λ/2)‖W‖²_F (see the module docstring; the biases are not penalised).

    Parameters
    ----------
    l2 : float, default 0.0
        λ >= 0. With λ = 0 and training data that a linear classifier separates, the minimum
        does not exist (‖W‖ grows without bound, see ``separable``); λ > 0 gives a unique W.

    Attributes (after ``fit``)
    --------------------------
    W : numpy.ndarray, shape (d, K)
    b : numpy.ndarray, shape (K,)
        Determined up to a common constant; ``fit`` keeps the constant of ``b_init``
        (Σ_k b_k = 0 from the default start).
    lr : float
        The step used (1/M by default, M from :func:`smoothness_bound`).
    loss_history, grad_norm_history : numpy.ndarray, shape (n_iter + 1,)
        The objective and the norm of its full gradient at the start and after every step.
    n_iter : int
    converged : bool
        True when the gradient norm fell to ``tol`` (and the data are not separated).
    separable : bool
        True when λ = 0 and the final model puts every training example's true class strictly
        ahead of all others: then scaling W and b up lowers the loss forever.
    status : str

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5], [0.2, 0.9]])
    >>> y = np.array([0, 1, 2, 1, 0, 2])
    >>> model = SoftmaxRegression(l2=0.1).fit(X, y)
    >>> model.converged, model.predict_proba(X).shape
    (True, (6, 3))
    """

    def __init__(self, l2: float = 0.0):
        self.l2 = _check_l2(l2)
        self.W: np.ndarray | None = None
        self.b: np.ndarray | None = None
        self.lr = float("nan")
        self.loss_history = np.empty(0)
        self.grad_norm_history = np.empty(0)
        self.n_iter = 0
        self.converged = False
        self.separable = False
        self.status = "not fitted"

    def __repr__(self) -> str:
        return f"SoftmaxRegression(l2={self.l2!r})"

    def fit(self, X, y, *, n_classes: int | None = None, lr: float | None = None,
            max_iter: int = 10_000, tol: float = 1e-6, W_init=None, b_init=None,
            warn: bool = True):
        """Fit W and b by gradient descent, θ ← θ − lr·∇L(θ), from ``W_init``/``b_init``
        (zeros by default), until ‖∇L‖ <= ``tol`` or ``max_iter`` steps.

        Parameters
        ----------
        X : array_like, shape (N, d)
        y : array_like, shape (N,)
            Class indices 0 … K − 1; every class must occur (a class without examples has no
            finite maximum-likelihood bias: b_k → −∞).
        n_classes : int, optional
            K; by default max(y) + 1.
        lr : float, optional
            The step; by default 1/M with M = :func:`smoothness_bound` (X, l2), for which every
            step decreases the objective.
        max_iter : int, default 10 000
        tol : float, default 1e-6
        W_init : array_like, shape (d, K), optional
        b_init : array_like, shape (K,), optional
            E.g. :func:`course_lib.init.prior_bias_multiclass` of the class counts.
        warn : bool, default True
            Issue a :class:`~course_lib.models.ConvergenceWarning` when the fit did not converge.

        Returns
        -------
        self
        """
        X = _check_X(X)
        y, K = _check_labels(y, X.shape[0], n_classes)
        counts = np.bincount(y, minlength=K)
        if np.any(counts == 0):
            missing = int(np.flatnonzero(counts == 0)[0])
            raise ValueError(f"class {missing} has no examples in y, so its maximum-likelihood "
                             f"bias is −∞ (the loss keeps falling as b_{missing} → −∞); fit on "
                             f"data with every class 0 … {K - 1}, or lower n_classes")
        d = X.shape[1]
        M = smoothness_bound(X, self.l2)
        step = 1.0 / M if lr is None else _check_positive_float(lr, "lr")
        max_iter = _check_positive_int(max_iter, "max_iter")
        tol = _check_positive_float(tol, "tol", allow_zero=True)
        W, b = _check_params(np.zeros((d, K)) if W_init is None else W_init,
                             np.zeros(K) if b_init is None else b_init, d, K)
        W, b = W.copy(), b.copy()

        losses, grad_norms = [], []
        stop_reason = ""
        k = 0
        while True:
            loss, g_W, g_b = _objective_and_gradient(X, y, W, b, self.l2)
            grad_norm = float(np.sqrt(np.sum(g_W * g_W) + g_b @ g_b))
            losses.append(loss)
            grad_norms.append(grad_norm)
            if grad_norm <= tol:
                break
            if k == max_iter:
                stop_reason = (f"stopped after max_iter={max_iter} steps with gradient norm "
                               f"{grad_norm:.3g} > tol={tol:g}")
                break
            W -= step * g_W
            b -= step * g_b
            k += 1

        self.W, self.b, self.lr = W, b, step
        self.loss_history = np.array(losses)
        self.grad_norm_history = np.array(grad_norms)
        self.n_iter = k
        S = X @ W + b
        true = S[np.arange(len(y)), y]
        S_other = S.copy()
        S_other[np.arange(len(y)), y] = -np.inf
        self.separable = bool(self.l2 == 0.0 and np.all(true > S_other.max(axis=1)))
        if self.separable:
            stop_reason = (stop_reason + "; " if stop_reason else "") + (
                "every training example's class is strictly ahead, so with l2 = 0 the "
                "maximum-likelihood weights do not exist (scaling W up lowers the loss forever); "
                "use l2 > 0")
        self.converged = not stop_reason
        if self.converged:
            self.status = (f"gradient descent converged in {k} steps "
                           f"(gradient norm {grad_norms[-1]:.3g} <= tol={tol:g})")
        else:
            self.status = f"gradient descent did not converge: {stop_reason}"
            if warn:
                warnings.warn(self.status, ConvergenceWarning, stacklevel=2)
        return self

    def _fitted_X(self, X) -> np.ndarray:
        if self.W is None:
            raise ValueError("this model has not been fitted yet: call fit(X, y) first")
        X = _check_X(X)
        if X.shape[1] != self.W.shape[0]:
            raise ValueError(f"X has {X.shape[1]} features (columns) but the model was fitted "
                             f"with {self.W.shape[0]}")
        return X

    def decision_function(self, X) -> np.ndarray:
        """The logits S = XW + b, shape (N, K)."""
        return self._fitted_X(X) @ self.W + self.b

    def predict_proba(self, X) -> np.ndarray:
        """The probabilities softmax(XW + b), shape (N, K); each row sums to 1."""
        return _softmax(self.decision_function(X), -1)

    def predict(self, X) -> np.ndarray:
        """The most probable class of each example (the largest logit), integers, shape (N,)."""
        return np.argmax(self.decision_function(X), axis=1)
