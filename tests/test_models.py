"""Tests of course_lib.models: the objective, its gradient and Hessian, and the fitted model.

Independent references: PyTorch in float64 (autograd for the derivatives; nn.Linear with
BCEWithLogitsLoss minimised by L-BFGS with a strong-Wolfe line search for the optimum) and
central finite differences (course_lib.gradcheck).
"""

import warnings

import numpy as np
import pytest
import torch

from course_lib.gradcheck import numerical_gradient
from course_lib.models import (ConvergenceWarning, LogisticRegression, logistic_gradient,
                               logistic_hessian, logistic_objective)
from course_lib.toy_data import make_logistic, make_separable, make_two_blobs

from _reference import exact_sigmoid, exact_sigmoid_grad

torch.set_num_threads(1)


def blobs(**kw):
    return make_two_blobs(200, separation=2.0, seed=0, **kw)


def torch_fit(X, y, l2=0.0):
    """Minimise mean BCE + (l2/2)‖w‖² with torch's L-BFGS in float64, tight tolerances."""
    Xt, yt = torch.tensor(X), torch.tensor(y)
    linear = torch.nn.Linear(X.shape[1], 1, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
    loss_fn = torch.nn.BCEWithLogitsLoss()
    opt = torch.optim.LBFGS(linear.parameters(), lr=1.0, max_iter=1000, history_size=50,
                            tolerance_grad=1e-13, tolerance_change=1e-16,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn(linear(Xt).squeeze(1), yt) + 0.5 * l2 * (linear.weight ** 2).sum()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    return linear.weight.detach().numpy().ravel().copy(), float(linear.bias.detach())


def torch_objective(X, y, w, b, l2):
    Xt, yt = torch.tensor(X), torch.tensor(y)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(float(b), dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ wt + bt, yt) \
        + 0.5 * l2 * (wt ** 2).sum()
    return loss, wt, bt


# ---------------------------------------------------------------------------------------------
# The objective and its derivatives
# ---------------------------------------------------------------------------------------------

POINTS = [(np.zeros(2), 0.0), (np.array([1.5, -2.0]), 0.7), (np.array([40.0, 30.0]), -5.0)]


@pytest.mark.parametrize("w, b", POINTS)
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_objective_and_gradient_match_torch(w, b, l2):
    X, y = blobs()
    loss, wt, bt = torch_objective(X, y, w, b, l2)
    loss.backward()
    assert logistic_objective(X, y, w, b, l2) == pytest.approx(loss.item(), rel=1e-12, abs=1e-14)
    g_w, g_b = logistic_gradient(X, y, w, b, l2)
    np.testing.assert_allclose(g_w, wt.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert g_b == pytest.approx(float(bt.grad), rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("w, b", POINTS[:2])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_gradient_matches_central_differences(w, b, l2):
    X, y = blobs()
    theta = np.append(w, b)
    numeric = numerical_gradient(lambda th: logistic_objective(X, y, th[:2], th[2], l2), theta)
    g_w, g_b = logistic_gradient(X, y, w, b, l2)
    np.testing.assert_allclose(np.append(g_w, g_b), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("w, b", POINTS[:2])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_hessian_matches_differences_of_the_gradient_and_torch(w, b, l2):
    X, y = blobs()
    theta = np.append(w, b)
    H = logistic_hessian(X, w, b, l2)
    assert H.shape == (3, 3)
    np.testing.assert_array_equal(H, H.T)
    assert np.linalg.eigvalsh(H).min() > 0.0
    for j in range(3):   # column j: central differences of the j-th gradient entry
        numeric = numerical_gradient(
            lambda th: np.append(*logistic_gradient(X, y, th[:2], th[2], l2))[j], theta)
        np.testing.assert_allclose(H[j], numeric, rtol=1e-6, atol=1e-9)

    def objective(th):
        s = torch.tensor(X) @ th[:2] + th[2]
        return torch.nn.functional.binary_cross_entropy_with_logits(s, torch.tensor(y)) \
            + 0.5 * l2 * (th[:2] ** 2).sum()

    H_torch = torch.autograd.functional.hessian(objective, torch.tensor(theta))
    np.testing.assert_allclose(H, H_torch.numpy(), rtol=1e-10, atol=1e-14)


# The comparisons with torch above use moderate logits. At |s| >= 37 torch is no reference:
# its autograd computes σ'(s) as σ(s)·(1 − σ(s)) and the residual as σ(s) − y, both exactly 0
# once σ(s) rounds to 1, so a Hessian with σ(s)(1 − σ(s)) agreed with torch there only because
# torch has the same flaw (torch's Hessian of [[50], [−50]] is half the true one). The tests
# below compare with exact values instead: σ'(s) = e^{−|s|}/(1 + e^{−|s|})² in 60-digit decimal.

def test_hessian_is_exact_at_saturated_logits():
    X = np.array([[50.0], [-45.0], [40.0], [-50.0]])
    w, b = np.array([1.0]), 0.0   # s = x: |s| from 40 to 50, both signs
    H = logistic_hessian(X, w, b)
    weights = np.array([exact_sigmoid_grad(x) for x in X[:, 0]])   # 1.9e-22 ... 4.2e-18
    X1 = np.column_stack([X, np.ones(4)])
    expected = (X1.T * weights) @ X1 / 4
    np.testing.assert_allclose(H, expected, rtol=1e-13, atol=0)
    # the review's example: s = ±50 contribute equally (p(1 − p) computed from σ gave half)
    H2 = logistic_hessian([[50.0], [-50.0]], [1.0], 0.0)
    assert H2[0, 0] == pytest.approx(2500 * exact_sigmoid_grad(50.0), rel=1e-14, abs=0)
    assert H2[1, 1] == pytest.approx(exact_sigmoid_grad(50.0), rel=1e-14, abs=0)


def test_gradient_is_exact_at_saturated_logits():
    # confidently right examples: p − y = σ(s) − 1 = −σ(−s) ≈ −4e-18 at s = 40, not 0
    X, y = np.array([[40.0], [-45.0]]), np.array([1.0, 0.0])
    g_w, g_b = logistic_gradient(X, y, [1.0], 0.0)
    residual = np.array([-exact_sigmoid(-40.0), exact_sigmoid(-45.0)])
    np.testing.assert_allclose(g_w, X.T @ residual / 2, rtol=1e-14, atol=0)
    assert g_b == pytest.approx(residual.mean(), rel=1e-14, abs=0)


@pytest.mark.parametrize("label", [0.0, 1.0])
@pytest.mark.parametrize("method, l2", [("newton", 0.0), ("newton", 0.1), ("gd", 1.0)])
def test_single_class_labels_are_refused(label, method, l2):
    # With one class, the unpenalised bias has no finite optimum (b → ∓∞), whatever l2 is;
    # before, Newton reported "converged" with b ≈ −19.
    X, _ = blobs()
    with pytest.raises(ValueError, match="y contains only one class"):
        LogisticRegression(l2=l2).fit(X, np.full(X.shape[0], label), method=method)


def test_objective_is_stable_for_huge_logits():
    X, y = blobs()
    value = logistic_objective(X, y, np.array([1e4, 1e4]), 0.0)
    assert np.isfinite(value) and value > 100.0
    g_w, g_b = logistic_gradient(X, y, np.array([1e4, 1e4]), 0.0)
    assert np.all(np.isfinite(g_w)) and np.isfinite(g_b)


# ---------------------------------------------------------------------------------------------
# Fitting: the optimum, agreement between methods and with torch
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw", [{}, {"center": (2.0, 1.0), "correlation": 0.5}])
@pytest.mark.parametrize("l2", [0.0, 0.05])
def test_newton_reaches_the_optimum_and_agrees_with_torch_lbfgs(kw, l2):
    X, y = blobs(**kw)
    model = LogisticRegression(l2=l2).fit(X, y, method="newton", tol=1e-10)
    assert model.converged and not model.separable
    assert model.n_iter <= 10                       # quadratic convergence: a handful of steps
    assert model.grad_norm_history[-1] < 1e-8
    w_ref, b_ref = torch_fit(X, y, l2)
    np.testing.assert_allclose(model.w, w_ref, rtol=0, atol=1e-6)
    assert model.b == pytest.approx(b_ref, abs=1e-6)


def test_regularised_optimum_satisfies_stationarity():
    # At the minimum of mean BCE + (λ/2)‖w‖²: Xᵀ(p − y)/N + λw = 0 and mean(p − y) = 0,
    # checked here with plain NumPy, independently of the model's own gradient code.
    X, y = blobs()
    lam = 0.2
    model = LogisticRegression(l2=lam).fit(X, y, method="newton", tol=1e-12)
    p = 1.0 / (1.0 + np.exp(-(X @ model.w + model.b)))
    np.testing.assert_allclose(X.T @ (p - y) / len(y), -lam * model.w, atol=1e-11)
    assert abs(np.mean(p - y)) < 1e-11
    unregularised = LogisticRegression().fit(X, y, method="newton")
    assert np.linalg.norm(model.w) < np.linalg.norm(unregularised.w)   # L2 shrinks w


def test_gradient_descent_and_newton_agree():
    # On these well-conditioned data (Hessian condition number ≈ 2.6) gradient descent with
    # lr = 1/M, M the curvature bound, reaches a gradient norm of 1e-10 in a few hundred steps.
    # By strong convexity ‖θ − θ*‖ <= ‖∇L‖/μ with μ ≈ 0.1 the smallest Hessian eigenvalue, so
    # the two fits must agree to about 1e-9; 1e-8 leaves room.
    X, y = blobs()
    X1 = np.column_stack([X, np.ones(len(y))])
    M = np.linalg.eigvalsh(X1.T @ X1).max() / (4 * len(y))
    gd = LogisticRegression().fit(X, y, method="gd", lr=1.0 / M, tol=1e-10)
    newton = LogisticRegression().fit(X, y, method="newton", tol=1e-12)
    assert gd.converged and newton.converged
    assert gd.n_iter > 20 * newton.n_iter
    np.testing.assert_allclose(gd.w, newton.w, atol=1e-8)
    assert gd.b == pytest.approx(newton.b, abs=1e-8)
    # With lr <= 1/M every gradient step lowers the loss; Newton's steps do too.
    assert np.all(np.diff(gd.loss_history) <= 1e-15)
    assert np.all(np.diff(newton.loss_history) <= 1e-15)


def test_fit_recovers_the_true_model_from_many_examples():
    w_true, b_true = np.array([2.0, -1.0]), 0.5
    X, y = make_logistic(20_000, w_true, b_true, seed=0)
    model = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(model.w, w_true, atol=0.08)
    assert model.b == pytest.approx(b_true, abs=0.08)


def test_histories_and_status():
    X, y = blobs()
    model = LogisticRegression().fit(X, y, method="gd", lr=0.5, max_iter=50, warn=False)
    assert model.n_iter == 50 and not model.converged
    for history in (model.loss_history, model.grad_norm_history, model.weight_norm_history):
        assert history.shape == (51,)
    assert model.loss_history[0] == pytest.approx(np.log(2.0))     # w = 0, b = 0: p = 1/2
    assert model.weight_norm_history[0] == 0.0
    assert model.weight_norm_history[-1] == pytest.approx(np.linalg.norm(model.w))
    assert "max_iter=50" in model.status
    done = LogisticRegression().fit(X, y)
    assert done.status.startswith("Newton's method converged in")


def test_warm_start_at_the_optimum_stops_at_once():
    X, y = blobs()
    first = LogisticRegression().fit(X, y, tol=1e-12)
    again = LogisticRegression().fit(X, y, tol=1e-8, w_init=first.w, b_init=first.b)
    assert again.n_iter == 0 and again.converged


def test_not_converged_warns_and_warn_false_is_silent():
    X, y = blobs()
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        LogisticRegression().fit(X, y, method="gd", max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LogisticRegression().fit(X, y, method="gd", max_iter=5, warn=False)


# ---------------------------------------------------------------------------------------------
# Separable data
# ---------------------------------------------------------------------------------------------

def test_separable_data_without_l2_has_no_optimum():
    X, y = make_separable(60, seed=0)
    with pytest.warns(ConvergenceWarning, match="maximum-likelihood weights do not exist"):
        newton = LogisticRegression().fit(X, y, method="newton")
    assert newton.separable and not newton.converged
    assert newton.weight_norm_history[-1] > 10.0
    assert np.all(np.diff(newton.weight_norm_history) > 0)           # ‖w‖ grows at every step
    with pytest.warns(ConvergenceWarning):
        gd = LogisticRegression().fit(X, y, method="gd", lr=1.0, max_iter=4000)
    norms = gd.weight_norm_history
    assert np.all(np.diff(norms[1:]) > 0)                             # keeps growing
    assert norms[4000] > norms[400] + 2.0                              # by about log(k)
    assert gd.loss_history[-1] < 1e-3                                 # the loss tends to 0
    # Scaling a separating (w, b) up lowers the loss: there is no minimiser.
    losses = [logistic_objective(X, y, c * gd.w, c * gd.b) for c in (1.0, 2.0, 4.0)]
    assert losses[0] > losses[1] > losses[2] > 0.0


def test_l2_gives_separable_data_a_finite_optimum():
    X, y = make_separable(60, seed=0)
    newton = LogisticRegression(l2=0.01).fit(X, y, method="newton", tol=1e-10)
    assert newton.converged and not newton.separable and newton.n_iter <= 15
    gd = LogisticRegression(l2=0.01).fit(X, y, method="gd", lr=1.0, max_iter=4000, tol=1e-10)
    assert gd.converged
    norms = gd.weight_norm_history
    assert norms.max() < 1.05 * norms[-1]                               # the norm levels off
    assert norms[-1] == pytest.approx(np.linalg.norm(newton.w), rel=1e-8)
    w_ref, b_ref = torch_fit(X, y, l2=0.01)
    np.testing.assert_allclose(newton.w, w_ref, atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Predictions and bad inputs
# ---------------------------------------------------------------------------------------------

def test_predictions_are_consistent():
    X, y = blobs()
    model = LogisticRegression().fit(X, y)
    s = model.decision_function(X)
    np.testing.assert_allclose(s, X @ model.w + model.b)
    p = model.predict_proba(X)
    np.testing.assert_allclose(p, 1.0 / (1.0 + np.exp(-s)), rtol=1e-14)
    np.testing.assert_array_equal(model.predict(X), (s >= 0).astype(float))
    np.testing.assert_array_equal(model.predict(X, threshold=0.9), (p >= 0.9).astype(float))
    assert model.predict(X).dtype == np.float64
    assert np.mean(model.predict(X) == y) > 0.8


def fitted():
    X, y = blobs()
    return LogisticRegression().fit(X, y)


@pytest.mark.parametrize("call, message", [
    (lambda X, y: LogisticRegression(l2=-1.0), "l2 must be >= 0"),
    (lambda X, y: LogisticRegression().fit(X[:, 0], y), r"X.reshape\(-1, 1\)"),
    (lambda X, y: LogisticRegression().fit(X, y[:-1]), "one label per example"),
    (lambda X, y: LogisticRegression().fit(X, y[:, None]), r"y.ravel\(\)"),
    (lambda X, y: LogisticRegression().fit(X, 2 * y - 1), r"\(t \+ 1\) / 2"),
    (lambda X, y: LogisticRegression().fit(np.where(X > 3, np.nan, X), y), "NaN"),
    (lambda X, y: LogisticRegression().fit(np.where(X > 3, np.inf, X), y), "finite"),
    (lambda X, y: LogisticRegression().fit(X[:0], y[:0]), "empty"),
    (lambda X, y: LogisticRegression().fit(X, y, method="sgd"), "method must be"),
    (lambda X, y: LogisticRegression().fit(X, y, method="gd", lr=0.0), "lr must be > 0"),
    (lambda X, y: LogisticRegression().fit(X, y, max_iter=0), "max_iter"),
    (lambda X, y: LogisticRegression().fit(X, y, max_iter=2.5), "max_iter"),
    (lambda X, y: LogisticRegression().fit(X, y, tol=-1.0), "tol must be >= 0"),
    (lambda X, y: LogisticRegression().fit(X, y, w_init=np.zeros(3)), r"shape \(2,\)"),
    (lambda X, y: LogisticRegression().predict(X), "not been fitted"),
    (lambda X, y: fitted().predict(X[:, :1]), "fitted with 2"),
    (lambda X, y: fitted().predict(X, threshold=1.0), "strictly between 0 and 1"),
    (lambda X, y: logistic_objective(X, y, np.zeros(3), 0.0), "one weight per feature"),
    (lambda X, y: logistic_gradient(X, y, np.zeros(2), [0.0, 1.0]), "b must be a single number"),
    (lambda X, y: logistic_hessian(X, np.zeros(2), 0.0, l2=-0.1), "l2 must be >= 0"),
])
def test_bad_inputs_raise_readable_value_errors(call, message):
    X, y = blobs()
    with pytest.raises(ValueError, match=message):
        call(X, y)


@pytest.mark.parametrize("l2", [0.0, 0.1])
def test_gradient_descent_step_size_bounds_of_the_fit_docstring(l2):
    """The numbers in the ``fit`` docstring: with M = λ_max(X̃ᵀX̃)/(4N) + λ, every lr < 2/M lowers
    the loss at each step, lr = 1/M by at least ‖∇L‖²/(2M), and near the minimum the gap shrinks
    by (1 − lr·λ_min)² per step."""
    X, y = blobs()
    X = X + 3.0                                                  # uncentred: ill-conditioned
    X1 = np.column_stack([X, np.ones(len(y))])
    M = np.linalg.eigvalsh(X1.T @ X1).max() / (4 * len(y)) + l2
    at_start = np.linalg.eigvalsh(logistic_hessian(X, np.zeros(2), 0.0, l2=l2)).max()
    assert at_start <= M * (1 + 1e-12) and (l2 > 0 or np.isclose(at_start, M, rtol=1e-12))
    for factor in (1.0, 1.9):
        fit = LogisticRegression(l2=l2).fit(X, y, method="gd", lr=factor / M, max_iter=400, tol=0.0,
                                            warn=False)
        assert np.all(np.diff(fit.loss_history) <= 1e-15)
        if factor == 1.0:
            decrease = -np.diff(fit.loss_history)
            assert np.all(decrease >= fit.grad_norm_history[:-1] ** 2 / (2 * M) * (1 - 1e-9) - 1e-16)
    star = LogisticRegression(l2=l2).fit(X, y, method="newton", tol=1e-12)
    lam_min = np.linalg.eigvalsh(logistic_hessian(X, star.w, star.b, l2=l2)).min()
    gd = LogisticRegression(l2=l2).fit(X, y, method="gd", lr=1 / M, max_iter=20_000, tol=1e-9,
                                       warn=False)
    gap = gd.loss_history - star.loss_history[-1]
    window = np.flatnonzero((gap < 1e-5) & (gap > 1e-11))
    assert window.size > 20
    measured = np.exp(np.polyfit(window, np.log(gap[window]), 1)[0])
    assert abs(np.log(measured) / np.log((1 - lam_min / M) ** 2) - 1) < 0.03


# ---------------------------------------------------------------------------------------------
# The safeguarded Newton step, the default step of gradient descent (issue 14)
# ---------------------------------------------------------------------------------------------

def test_newton_from_a_saturated_start_halves_its_steps_and_still_converges():
    # Started far out (every logit |s| ≈ 40 on average, most of them on the wrong side), the
    # full Newton step overshoots: the quadratic model is poor where σ saturates. The line
    # search halves the step until the loss decreases, and the fit then reaches the optimum.
    X, y = blobs()
    reference = LogisticRegression().fit(X, y, method="newton", tol=1e-10)
    far = LogisticRegression().fit(X, y, method="newton", tol=1e-10, w_init=np.array([-30.0, 30.0]),
                                   b_init=20.0)
    assert far.loss_history[0] > 30.0
    assert far.converged and far.n_iter <= 20
    assert np.all(np.diff(far.loss_history) <= 0.0)                 # every step lowered the loss
    assert far.halvings_history[0] > 0 and far.halvings_history[-1] == 0   # full steps at the end
    assert far.fit_info_["halvings"] == far.halvings_history.sum() > 0
    np.testing.assert_allclose(far.w, reference.w, atol=1e-8)
    assert far.b == pytest.approx(reference.b, abs=1e-8)
    # From zero nothing is halved: the safeguard does not change ordinary fits.
    assert reference.fit_info_["halvings"] == 0 and reference.fit_info_["gradient_steps"] == 0


@pytest.mark.parametrize("make_singular", [
    lambda X: np.column_stack([X, np.zeros(len(X))]),              # an all-zero feature
    lambda X: np.column_stack([X, X[:, 0]]),                        # a duplicated feature
    lambda X: np.column_stack([X, 2.0 * X[:, 1] - X[:, 0] + 1.0]),  # collinear with the bias
])
def test_newton_on_a_rank_deficient_design_reaches_the_optimum(make_singular):
    X, y = blobs()
    reference = LogisticRegression().fit(X, y, method="newton", tol=1e-12)
    Xs = make_singular(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                               # no ConvergenceWarning
        model = LogisticRegression().fit(Xs, y, method="newton", tol=1e-10)
    assert model.converged and model.n_iter <= 15
    assert model.loss_history[-1] == pytest.approx(reference.loss_history[-1], abs=1e-14)
    np.testing.assert_allclose(model.predict_proba(Xs), reference.predict_proba(X), atol=1e-9)
    assert model.fit_info_["min_rank"] == 3 and model.fit_info_["rank_deficient_steps"] == model.n_iter
    assert np.all(model.rank_history == 3) and "singular" in model.status
    # The minimum-norm step never moves along the null space: from w = 0 the weights stay
    # orthogonal to it (the all-zero feature keeps weight 0, duplicated ones share equally).
    Xt = np.column_stack([Xs, np.ones(len(y))])
    null = np.linalg.svd(Xt)[2][-1]
    assert abs(np.append(model.w, model.b) @ null) < 1e-8


def test_newton_on_digits_reaches_the_loss_of_sklearn_newton_cg():
    # Issue 14: raw pixels of scikit-learn's digits, even against odd, unpenalised. Three pixel
    # columns are 0 for every image, so the Hessian is singular at every iterate; the classes
    # are not linearly separable (newton-cg's fit classifies 93 % correctly), so the optimum is
    # finite. Before the safeguard, Newton stopped at iteration 0 with w = 0.
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

    X, digit = load_digits(return_X_y=True)
    y = (digit % 2 == 0).astype(float)
    assert np.sum(X.std(axis=0) == 0) == 3
    sk = SklearnLogisticRegression(C=np.inf, solver="newton-cg", tol=1e-10, max_iter=10_000).fit(X, y)
    sk_loss = logistic_objective(X, y, sk.coef_[0], sk.intercept_[0])
    assert 0.9 < np.mean(sk.predict(X) == y) < 0.95                 # not separable
    model = LogisticRegression().fit(X, y, method="newton")
    assert model.converged and model.fit_info_["min_rank"] <= 62
    assert abs(model.loss_history[-1] - sk_loss) < 1e-9              # the issue asks for 1e-6
    # The blank pixels do not touch the loss; their weights stay near 0 (rounding mixes their
    # exactly flat directions with the nearly flat ones, so not exactly 0).
    assert np.abs(model.w[X.std(axis=0) == 0]).max() < 1e-3


def test_gradient_descent_default_step_is_one_over_the_smoothness_bound():
    from course_lib.models import smoothness_bound

    X, y = blobs()
    X = X + 3.0
    for l2 in (0.0, 0.1):
        X1 = np.column_stack([X, np.ones(len(y))])
        M = np.linalg.eigvalsh(X1.T @ X1).max() / (4 * len(y)) + l2     # chapter 1's M (+ λ)
        assert smoothness_bound(X, l2) == pytest.approx(M, rel=1e-12)
        default = LogisticRegression(l2=l2).fit(X, y, method="gd", max_iter=50, tol=0.0, warn=False)
        given = LogisticRegression(l2=l2).fit(X, y, method="gd", lr=1 / M, max_iter=50, tol=0.0,
                                              warn=False)
        assert default.fit_info_ == {"method": "gd", "lr_from": "1/M",
                                     "lr": pytest.approx(1 / M, rel=1e-12)}
        assert given.fit_info_["lr_from"] == "given" and given.fit_info_["lr"] == 1 / M
        np.testing.assert_allclose(default.loss_history, given.loss_history, rtol=1e-12)
    # lr= still overrides the default, exactly as given
    slow = LogisticRegression().fit(X, y, method="gd", lr=0.1, max_iter=5, warn=False)
    assert slow.fit_info_["lr"] == 0.1


def test_hessian_in_row_blocks_equals_the_augmented_formula(monkeypatch):
    import course_lib.models as models

    X, y = blobs()
    w, b = np.array([0.7, -1.2]), 0.3
    X1 = np.column_stack([X, np.ones(len(y))])
    p = 1.0 / (1.0 + np.exp(-(X1 @ np.append(w, b))))
    expected = (X1.T * (p * (1 - p))) @ X1 / len(y) + np.diag([0.05, 0.05, 0.0])
    monkeypatch.setattr(models, "_HESSIAN_BLOCK_ELEMENTS", 7)        # many small blocks
    np.testing.assert_allclose(logistic_hessian(X, w, b, l2=0.05), expected, rtol=1e-13, atol=1e-16)
