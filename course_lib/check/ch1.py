"""Self-checks for chapter 1, logistic regression.

Each check calls the student's function on small, fixed problems and compares the result with
course_lib's reference (``course_lib.models``, or ``np.linalg.lstsq`` for least squares), with
central finite differences, and with properties the right answer must have. A failure
prints the input, the expected value, the received value, the tolerance and a hint; the
solution itself is never shown.
"""

from __future__ import annotations

import numpy as np

from ..functional import sigmoid
from ..gradcheck import numerical_gradient
from ..models import logistic_gradient, logistic_hessian as reference_hessian, logistic_objective
from ..toy_data import make_two_blobs
from ._core import Check, format_value
from .registry import Exercise

__all__ = ["ch1_least_squares_scores", "predict_proba", "gd_step", "logistic_hessian", "irls",
           "EXERCISES"]

# A tiny problem whose numbers fit in a failure message.
_X = np.array([[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5], [2.0, -1.0]])
_Y = np.array([1.0, 0.0, 0.0, 1.0])
_W = np.array([0.5, -1.0])
_B = 0.25
_SMALL = "X = [[1, 2], [0, 0], [-1, 0.5], [2, -1]], w = [0.5, -1], b = 0.25"
_SMALL_Y = _SMALL + ", y = [1, 0, 0, 1]"


def _blobs():
    """A larger problem: 50 examples of the two-blob data (seed 7)."""
    return make_two_blobs(50, separation=2.0, seed=7)


def _unchanged(array: np.ndarray):
    """A predicate factory: the copy taken now still equals ``array`` later."""
    before = array.copy()
    return lambda _: np.array_equal(array, before)


def _ls_reference(X: np.ndarray, y: np.ndarray, X_new: np.ndarray) -> np.ndarray:
    """Scores of the least-squares fit y ≈ Xw + c (intercept included) at the rows of X_new."""
    theta = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0]
    return X_new @ theta[:-1] + theta[-1]


def ch1_least_squares_scores(least_squares_scores):
    """Check ``least_squares_scores(X, y, X_new)``: ordinary least squares with an intercept,
    fitted to 0/1 labels, evaluated at the rows of X_new, shape (M,)."""
    c = Check("ex-ch1-least-squares", "least-squares scores least_squares_scores(X, y, X_new)")

    def scores(X, y, X_new):
        return np.asarray(least_squares_scores(X.copy(), y.copy(), X_new.copy()), dtype=float)

    # One feature: the line through these labels is ŷ = 0.4·x − 0.1.
    X1, y1 = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([0.0, 0.0, 1.0, 1.0])
    X1_new = np.array([[1.5], [10.0], [-10.0]])
    c.close("one feature: the line through four labels, at three new points",
            lambda: scores(X1, y1, X1_new), _ls_reference(X1, y1, X1_new), rtol=1e-9, atol=1e-12,
            inputs="X = [[0], [1], [2], [3]], y = [0, 0, 1, 1], X_new = [[1.5], [10], [-10]]",
            hint="Fit ŷ = a·x + c: solve the least-squares problem for the design [X, 1] (a column "
                 "of ones for the intercept), e.g. with np.linalg.lstsq, then evaluate at X_new.")
    X_new_small = np.array([[0.5, 0.5], [3.0, -2.0], [-1.0, 1.0]])
    c.close("two features, 4 training rows, 3 new rows (shape (3,))",
            lambda: scores(_X, _Y, X_new_small), _ls_reference(_X, _Y, X_new_small),
            rtol=1e-9, atol=1e-12,
            inputs="X = [[1, 2], [0, 0], [-1, 0.5], [2, -1]], y = [1, 0, 0, 1], "
                   "X_new = [[0.5, 0.5], [3, -2], [-1, 1]]",
            hint="Return one score per row of X_new (not of X): X_new @ w + c with the fitted w, c.")
    X, y = _blobs()
    X_new = X[:5] + np.array([0.5, -1.0])
    where = "X, y: the 50-example two-blob data (seed 7), X_new: its first 5 rows shifted by (0.5, -1)"
    c.close("50 examples, 5 new points", lambda: scores(X, y, X_new), _ls_reference(X, y, X_new),
            rtol=1e-9, atol=1e-12, inputs=where,
            hint="The fit has d + 1 = 3 unknowns (two weights and the intercept).")
    c.close("one new point still gives an array of shape (1,)",
            lambda: scores(X, y, X[:1]), _ls_reference(X, y, X[:1]), rtol=1e-9, atol=1e-12,
            inputs="the two-blob data, X_new = its first row",
            hint="Do not index the result with [0] or call float(): keep one entry per row of X_new.")
    c.close("on the training data the scores average to the share of positives, mean(y) = 0.5",
            lambda: float(np.mean(scores(X, y, X))), float(np.mean(y)), rtol=0, atol=1e-10,
            inputs="the two-blob data, X_new = X",
            hint="With an intercept the residuals y − ŷ sum to zero. If they do not, the column of "
                 "ones is missing from the design.")
    c.close("relabelling y → 1 − y turns every score ŷ into 1 − ŷ (the two add up to 1)",
            lambda: scores(X, 1.0 - y, X_new) + scores(X, y, X_new), np.ones(5), rtol=0, atol=1e-10,
            inputs=where + "; shown: the scores for 1 − y plus those for y",
            hint="Least squares is linear in the labels, and the intercept absorbs the constant 1; "
                 "a fit without an intercept, or squashed or clipped scores, break this.")
    far = np.array([[40.0, 0.0], [-40.0, 0.0]])
    far_ref = _ls_reference(X, y, far)
    c.that("far from the data the scores leave [0, 1]", lambda: scores(X, y, far),
           lambda got: np.shape(got) == (2,) and got[0] > 1.0 and got[1] < 0.0
           and np.allclose(got, far_ref, rtol=1e-9, atol=1e-12),
           expected=f"a score above 1 at (40, 0) and below 0 at (-40, 0): "
                    f"{format_value(far_ref, 6)}",
           inputs="the two-blob data, X_new = [[40, 0], [-40, 0]]",
           hint="Return the raw scores of the fitted affine function: no clipping, no sigmoid, "
                "no threshold. Leaving [0, 1] is the point of the exercise.")
    Xk, yk, Xn = _X.copy(), _Y.copy(), X_new_small.copy()
    c.that("X, y and X_new are not modified", lambda: least_squares_scores(Xk, yk, Xn),
           lambda _: np.array_equal(Xk, _X) and np.array_equal(yk, _Y) and np.array_equal(Xn, X_new_small),
           expected="X, y and X_new unchanged after the call",
           inputs="X = [[1, 2], [0, 0], [-1, 0.5], [2, -1]], y = [1, 0, 0, 1], "
                  "X_new = [[0.5, 0.5], [3, -2], [-1, 1]]",
           hint="Build the design with np.column_stack (a new array) instead of writing into X.")
    return c.done()


def predict_proba(predict_proba):
    """Check ``predict_proba(X, w, b)``: the probabilities σ(Xw + b), shape (N,)."""
    c = Check("ex-ch1-predict-proba", "predict_proba(X, w, b) = σ(Xw + b)")
    c.close("the probabilities of a small example",
            lambda: predict_proba(_X.copy(), _W.copy(), _B), sigmoid(_X @ _W + _B),
            rtol=1e-12, inputs=_SMALL,
            hint="First the logits s = X @ w + b (one per row of X), then p = σ(s).")
    X, _ = _blobs()
    w = np.array([1.5, -0.7])
    c.close("50 examples at once (shape (50,))", lambda: predict_proba(X.copy(), w.copy(), -0.3),
            sigmoid(X @ w - 0.3), rtol=1e-12,
            inputs="X: the 50×2 two-blob data (seed 7), w = [1.5, -0.7], b = -0.3",
            hint="Use the matrix-vector product X @ w, not a loop, and return a 1-D array.")
    c.close("one example still gives an array of shape (1,)",
            lambda: predict_proba(np.array([[2.0, 1.0]]), np.array([1.0, 1.0]), 0.0),
            sigmoid(np.array([3.0])), rtol=1e-12, inputs="X = [[2, 1]], w = [1, 1], b = 0",
            hint="Do not index the result with [0] or call float(): keep one entry per row.")
    c.close("confident logits s = ±800 give 1 and 0, without NaN",
            lambda: predict_proba(np.array([[800.0], [-800.0]]), np.array([1.0]), 0.0),
            np.array([1.0, 0.0]), rtol=0, atol=1e-300, inputs="X = [[800], [-800]], w = [1], b = 0",
            hint="Use a numerically stable sigmoid, e.g. course_lib.functional.sigmoid.")
    Xk, wk = _X.copy(), _W.copy()
    c.that("X and w are not modified", lambda: predict_proba(Xk, wk, _B),
           lambda _: np.array_equal(Xk, _X) and np.array_equal(wk, _W),
           expected="X and w unchanged after the call", inputs=_SMALL,
           hint="Do not write into the arrays you are given (no X *= ..., no w += ...).")
    return c.done()


def gd_step(gd_step):
    """Check ``gd_step(X, y, w, b, lr)``: one gradient-descent step on the mean BCE."""
    c = Check("ex-ch1-gd-step", "one gradient-descent step gd_step(X, y, w, b, lr)")
    lr = 0.5
    g_w, g_b = logistic_gradient(_X, _Y, _W, _B)
    c.close("the new weights on a small example",
            lambda: np.asarray(gd_step(_X.copy(), _Y.copy(), _W.copy(), _B, lr)[0], dtype=float),
            _W - lr * g_w, rtol=1e-10, atol=1e-14, inputs=_SMALL_Y + ", lr = 0.5",
            hint="w_new = w − lr·∇_w L with ∇_w L = Xᵀ(p − y)/N: mind the minus sign and the "
                 "division by N (the loss is a mean).")
    c.close("the new bias on a small example",
            lambda: float(gd_step(_X.copy(), _Y.copy(), _W.copy(), _B, lr)[1]),
            _B - lr * g_b, rtol=1e-10, atol=1e-14, inputs=_SMALL_Y + ", lr = 0.5",
            hint="b_new = b − lr·∂L/∂b with ∂L/∂b = mean(p − y).")

    # The step implies a gradient, (θ − θ_new)/lr; it must be the derivative of the loss,
    # measured here by central finite differences of the mean BCE.
    X, y = _blobs()
    w, b, lr_small = np.array([0.3, -0.2]), 0.1, 0.01

    def implied_gradient():
        w_new, b_new = gd_step(X.copy(), y.copy(), w.copy(), b, lr_small)
        return np.append((w - np.asarray(w_new, dtype=float)) / lr_small,
                         (b - float(b_new)) / lr_small)

    numeric = numerical_gradient(lambda th: logistic_objective(X, y, th[:2], th[2]), np.append(w, b))
    c.close("(θ − θ_new)/lr equals finite differences of the mean BCE", implied_gradient, numeric,
            rtol=1e-5, atol=1e-8,
            inputs="X, y: the 50-example two-blob data (seed 7), w = [0.3, -0.2], b = 0.1, "
                   "lr = 0.01",
            hint="Your step must follow the gradient of L = mean BCE, i.e. Xᵀ(σ(Xw + b) − y)/N, "
                 "on all N examples.")
    c.that("the step lowers the loss",
           lambda: logistic_objective(X, y, *gd_step(X.copy(), y.copy(), w.copy(), b, 0.5)),
           lambda loss: loss < logistic_objective(X, y, w, b),
           expected=f"a loss below {logistic_objective(X, y, w, b):.6f} (the loss before the step)",
           inputs="the two-blob data, w = [0.3, -0.2], b = 0.1, lr = 0.5",
           hint="Gradient descent moves against the gradient: subtract lr·gradient.")
    wk = _W.copy()
    c.that("w is not modified in place", lambda: gd_step(_X.copy(), _Y.copy(), wk, _B, lr),
           _unchanged(wk), expected="the caller's w unchanged after the call",
           inputs=_SMALL_Y + ", lr = 0.5",
           hint="Return a new array (w - lr * grad_w) instead of updating w with -=.")
    return c.done()


def logistic_hessian(logistic_hessian):
    """Check ``logistic_hessian(X, w, b)``: the (d + 1)×(d + 1) Hessian of the mean BCE, bias last."""
    c = Check("ex-ch1-hessian", "the Hessian logistic_hessian(X, w, b) = X̃ᵀSX̃/N")
    X, y = _blobs()
    w, b = np.array([0.8, -0.4]), 0.3
    where = "X: the 50×2 two-blob data (seed 7), w = [0.8, -0.4], b = 0.3"

    def H():
        return np.asarray(logistic_hessian(X.copy(), w.copy(), b), dtype=float)

    c.that("shape (d + 1, d + 1) = (3, 3)", lambda: np.shape(H()), lambda shape: shape == (3, 3),
           expected="(3, 3)", inputs=where,
           hint="θ = (w, b) has d + 1 entries: append a column of ones to X for the bias.")
    c.that("symmetric", H, lambda h: np.allclose(h, h.T, rtol=0, atol=1e-12),
           expected="H equal to its transpose (to 1e-12)", inputs=where,
           hint="X̃ᵀ S X̃ is symmetric; check the order of the products.")
    c.that("positive semi-definite", H, lambda h: np.linalg.eigvalsh(0.5 * (h + h.T)).min() >= -1e-12,
           expected="all eigenvalues >= 0", inputs=where,
           hint="The weights in S are p(1 − p) >= 0, never p − y.")
    theta = np.append(w, b)
    numeric = np.array([
        numerical_gradient(lambda th: np.append(*logistic_gradient(X, y, th[:2], th[2]))[j], theta)
        for j in range(3)
    ])
    c.close("equals finite differences of the gradient", H, numeric, rtol=1e-5, atol=1e-8,
            inputs=where,
            hint="H = X̃ᵀ S X̃ / N with S = diag(p(1 − p)); do not forget the 1/N.")
    X1 = np.array([[1.0], [-2.0], [0.5]])
    c.close("one feature, confident logits (d = 1)",
            lambda: np.asarray(logistic_hessian(X1.copy(), np.array([12.0]), -1.0), dtype=float),
            reference_hessian(X1, np.array([12.0]), -1.0), rtol=1e-6, atol=1e-14,
            inputs="X = [[1], [-2], [0.5]], w = [12], b = -1",
            hint="Compute p(1 − p) from a stable sigmoid; the result is 2×2 here.")
    return c.done()


def _newton_reference(X: np.ndarray, y: np.ndarray, tol: float, max_iter: int):
    """Plain Newton from w = 0, b = 0: full steps, stop when ‖∇L‖ <= tol (tested before each
    step) or after max_iter steps. Returns (w, b, number of steps taken)."""
    d = X.shape[1]
    w, b = np.zeros(d), 0.0
    for k in range(max_iter + 1):
        g_w, g_b = logistic_gradient(X, y, w, b)
        g = np.append(g_w, g_b)
        if np.sqrt(g @ g) <= tol or k == max_iter:
            return w, b, k
        step = np.linalg.solve(reference_hessian(X, w, b), g)
        w, b = w - step[:d], b - step[d]
    raise AssertionError("unreachable")


def irls(irls):
    """Check ``irls(X, y, tol=1e-8, max_iter=50)``: Newton's method written as iteratively
    reweighted least squares, from w = 0, b = 0, returning ``(w, b, n_iter)``."""
    c = Check("ex-ch1-irls", "Newton's method as IRLS, irls(X, y, tol, max_iter) -> (w, b, n_iter)")
    X, y = _blobs()
    where = "X, y: the 50-example two-blob data (seed 7)"

    def call(X_, y_, tol, max_iter):
        w, b, n_iter = irls(X_.copy(), y_.copy(), tol=tol, max_iter=max_iter)
        return np.asarray(w, dtype=float), float(b), n_iter

    w_ref, b_ref, n_ref = _newton_reference(X, y, 1e-8, 50)
    c.close("the fitted weights and bias, (w1, w2, b)",
            lambda: np.append(*call(X, y, 1e-8, 50)[:2]), np.append(w_ref, b_ref),
            rtol=1e-7, atol=1e-9, inputs=where + ", tol = 1e-8, max_iter = 50",
            hint="Each iteration: p = σ(X̃θ), weights r = p(1 − p), working response "
                 "z = X̃θ − (p − y)/r, then θ = the weighted least-squares fit of z on X̃ = [X, 1] "
                 "(the column of ones carries the bias).")
    c.that("the gradient of the mean BCE at your (w, b) is below tol",
           lambda: np.linalg.norm(np.append(*logistic_gradient(X, y, *call(X, y, 1e-8, 50)[:2]))),
           lambda g: g <= 1e-8, expected="‖(∇_w L, ∂L/∂b)‖ <= 1e-8", inputs=where + ", tol = 1e-8",
           hint="At the maximum-likelihood fit the whole gradient vanishes, the bias component "
                "mean(p − y) included: fit the bias along with the weights.")
    for tol in (1e-8, 1e-3):
        n_tol = _newton_reference(X, y, tol, 50)[2]
        c.that(f"the number of Newton steps to ‖∇L‖ <= {tol:g}: {n_tol}",
               lambda tol=tol: call(X, y, tol, 50)[2],
               lambda n, n_tol=n_tol: isinstance(n, (int, np.integer)) and not isinstance(n, bool)
               and n == n_tol,
               expected=f"{n_tol} (an int)", inputs=where + f", tol = {tol:g}, max_iter = 50",
               hint="Test the gradient norm before each step and stop as soon as it is <= tol; "
                    "n_iter counts the weighted least-squares solves you did (0 if the start is "
                    "already good enough). Exact Newton steps need no learning rate.")
    w2, b2, _ = _newton_reference(X, y, 0.0, 2)
    c.close("after exactly max_iter = 2 steps: two full Newton steps from (0, 0)",
            lambda: np.append(*call(X, y, 0.0, 2)[:2]), np.append(w2, b2), rtol=1e-9, atol=1e-12,
            inputs=where + ", tol = 0, max_iter = 2",
            hint="Stop after max_iter steps even if the gradient is not yet below tol. Each step "
                 "must be the exact Newton step: weights p(1 − p), not p, and no damping.")
    X1 = np.array([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
    y1 = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    w1, b1, _ = _newton_reference(X1, y1, 1e-10, 50)
    c.close("one feature (d = 1): w has shape (1,)",
            lambda: np.append(*call(X1, y1, 1e-10, 50)[:2]), np.append(w1, b1), rtol=1e-7, atol=1e-9,
            inputs="X = [[0], [1], [2], [3], [4], [5]], y = [0, 0, 1, 0, 1, 1], tol = 1e-10",
            hint="Return w as a 1-D array of length d (here 1) and b as a number.")
    Xk, yk = X.copy(), y.copy()
    c.that("X and y are not modified", lambda: irls(Xk, yk, tol=1e-8, max_iter=50),
           lambda _: np.array_equal(Xk, X) and np.array_equal(yk, y),
           expected="X and y unchanged after the call", inputs=where,
           hint="Build X̃ with np.column_stack (a new array) instead of writing into X.")
    return c.done()


EXERCISES = [
    Exercise("ex-ch1-least-squares", ("least_squares_scores",), ch1_least_squares_scores),
    Exercise("ex-ch1-predict-proba", ("predict_proba",), predict_proba),
    Exercise("ex-ch1-gd-step", ("gd_step",), gd_step),
    Exercise("ex-ch1-hessian", ("logistic_hessian",), logistic_hessian),
    Exercise("ex-ch1-irls", ("irls",), irls),
]
