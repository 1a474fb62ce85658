"""Tests of course_lib.softmax_regression: the objective, gradient and Hessian against
torch.autograd in float64, the smoothness bound as an upper bound on the curvature, the fit
against scikit-learn's multinomial LogisticRegression, and bad inputs."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import softmax_regression
from course_lib.models import ConvergenceWarning
from course_lib.softmax_regression import (SoftmaxRegression, smoothness_bound, softmax_gradient,
                                           softmax_hessian, softmax_objective)

from _reference import run_doctests


def problem(N=40, d=3, K=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, d))
    W_true = rng.normal(size=(d, K))
    y = np.argmax(X @ W_true + rng.gumbel(size=(N, K)) * 2.0, axis=1)
    y[:K] = np.arange(K)                       # every class occurs
    return X, y, rng.normal(size=(d, K)), rng.normal(size=K)


def torch_objective(X, y, W, b, l2):
    return (F.cross_entropy(torch.as_tensor(X) @ W + b, torch.as_tensor(y))
            + 0.5 * l2 * (W * W).sum())


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_objective_and_gradient_equal_torch(l2):
    X, y, W, b = problem()
    Wt = torch.tensor(W, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    loss = torch_objective(X, y, Wt, bt, l2)
    loss.backward()
    assert softmax_objective(X, y, W, b, l2) == pytest.approx(float(loss.detach()), rel=1e-13)
    g_W, g_b = softmax_gradient(X, y, W, b, l2)
    np.testing.assert_allclose(g_W, Wt.grad.numpy(), rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(g_b, bt.grad.numpy(), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_hessian_equals_torch_and_is_psd_and_singular_along_the_common_shift(l2):
    X, y, W, b = problem(N=30, d=2, K=3)
    d, K = W.shape

    def f(theta):   # θ ordered class by class: (w_1, b_1, w_2, b_2, ...)
        Th = theta.reshape(K, d + 1)
        return torch_objective(X, y, Th[:, :d].T, Th[:, d], l2)

    theta = torch.tensor(np.column_stack([W.T, b]).ravel())
    expected = torch.autograd.functional.hessian(f, theta).numpy()
    H = softmax_hessian(X, W, b, l2)
    np.testing.assert_allclose(H, expected, rtol=1e-10, atol=1e-13)
    eig = np.linalg.eigvalsh(H)
    assert eig.min() > -1e-12
    bias_shift = np.tile(np.r_[np.zeros(d), 1.0], K)          # b + c·1
    assert np.abs(H @ bias_shift).max() < 1e-13
    weight_shift = np.tile(np.r_[1.0, np.zeros(d)], K)        # every w_k + e_1
    if l2 == 0:
        assert np.abs(H @ weight_shift).max() < 1e-13
        assert np.sum(eig < 1e-12) == d + 1                     # exactly the d + 1 common shifts
    else:
        assert np.sum(eig < 1e-12) == 1                          # only the bias shift is left


def test_the_smoothness_bound_bounds_the_curvature_everywhere():
    X, y, W, b = problem(N=50, d=3, K=5, seed=3)
    for l2 in (0.0, 0.1):
        M = smoothness_bound(X, l2)
        rng = np.random.default_rng(4)
        largest = 0.0
        for scale in (0.0, 0.3, 1.0, 3.0, 10.0):
            for _ in range(5):
                H = softmax_hessian(X, rng.normal(size=W.shape) * scale, rng.normal(size=b.shape) * scale, l2)
                largest = max(largest, float(np.linalg.eigvalsh(H).max()))
        assert largest <= M
        assert largest > 0.25 * M        # and it is not absurdly loose on this data


def test_the_bound_is_attained_for_two_classes_and_one_feature():
    # Two classes, p = (1/2, 1/2): A = [[1/4, −1/4], [−1/4, 1/4]] has eigenvalue 1/2.
    X = np.array([[1.0], [-1.0]])
    H = softmax_hessian(X, np.zeros((1, 2)), np.zeros(2))
    assert np.linalg.eigvalsh(H).max() == pytest.approx(smoothness_bound(X), rel=1e-12)


def test_gradient_descent_with_step_one_over_m_decreases_the_loss_every_step():
    X, y, _, _ = problem(N=60, d=4, K=3, seed=5)
    model = SoftmaxRegression(l2=0.05).fit(X * 5.0, y, max_iter=500, tol=0.0, warn=False)
    assert np.all(np.diff(model.loss_history) <= 1e-15)
    assert model.lr == pytest.approx(1 / smoothness_bound(X * 5.0, 0.05))
    assert abs(model.b.sum()) < 1e-12                           # Σ b stays at its start, 0


def test_fit_reaches_the_optimum_scikit_learn_finds():
    from sklearn.linear_model import LogisticRegression as SkLogisticRegression
    X, y, _, _ = problem(N=80, d=3, K=4, seed=6)
    l2 = 0.05
    model = SoftmaxRegression(l2).fit(X, y, tol=1e-10, max_iter=50_000)
    assert model.converged and not model.separable
    sk = SkLogisticRegression(C=1.0 / (l2 * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), sk.predict_proba(X), atol=1e-8)
    np.testing.assert_allclose(model.W, sk.coef_.T, atol=1e-7)
    np.testing.assert_allclose(model.b - model.b.mean(), sk.intercept_ - sk.intercept_.mean(), atol=1e-7)
    assert softmax_objective(X, y, sk.coef_.T, sk.intercept_, l2) == pytest.approx(model.loss_history[-1],
                                                                                     abs=1e-12)
    np.testing.assert_array_equal(model.predict(X), sk.predict(X))


def test_weights_sum_to_zero_over_classes_when_penalised():
    X, y, _, _ = problem(seed=7)
    model = SoftmaxRegression(0.1).fit(X, y, tol=1e-10, max_iter=50_000)
    assert np.abs(model.W.sum(axis=1)).max() < 1e-9


def test_separable_data_without_penalty_are_flagged():
    X = np.array([[-3.0], [-2.0], [0.0], [0.2], [2.0], [3.0]])
    y = np.array([0, 0, 1, 1, 2, 2])
    with pytest.warns(ConvergenceWarning, match="do not exist"):
        model = SoftmaxRegression().fit(X, y, max_iter=3000)
    assert model.separable and not model.converged
    assert SoftmaxRegression(l2=0.1).fit(X, y).converged


def test_prior_bias_start_is_kept_and_predictions_have_the_right_shapes():
    X, y, _, _ = problem(seed=8)
    b0 = np.log(np.bincount(y)) - np.log(np.bincount(y)).mean()
    model = SoftmaxRegression(0.1).fit(X, y, b_init=b0, max_iter=1, tol=0.0, warn=False)
    assert model.n_iter == 1 and model.loss_history.shape == (2,)
    P = model.predict_proba(X)
    assert P.shape == (len(y), 4) and np.allclose(P.sum(axis=1), 1)
    assert model.predict(X).dtype.kind == "i"


@pytest.mark.parametrize("call, match", [
    (lambda X, y: SoftmaxRegression().fit(X, y[:-1]), "one label per example"),
    (lambda X, y: SoftmaxRegression().fit(X, y + 0.5), "class indices"),
    (lambda X, y: SoftmaxRegression().fit(X, -y), "class indices"),
    (lambda X, y: SoftmaxRegression().fit(X, np.eye(4)[y]), "1-D"),
    (lambda X, y: SoftmaxRegression().fit(X, y, n_classes=6), "class 4 has no examples"),
    (lambda X, y: SoftmaxRegression().fit(X, y, n_classes=3), "not a class index below"),
    (lambda X, y: SoftmaxRegression().fit(X, np.zeros_like(y)), "K >= 2"),
    (lambda X, y: SoftmaxRegression().fit(X[:, 0], y), "2-D"),
    (lambda X, y: SoftmaxRegression().fit(X, y, lr=-1.0), "lr"),
    (lambda X, y: SoftmaxRegression().fit(X, y, W_init=np.zeros((3, 3))), r"W must have .* \(3, 4\)"),
    (lambda X, y: SoftmaxRegression().fit(X, y, b_init=np.zeros(3)), r"b must hold one bias per class"),
    (lambda X, y: SoftmaxRegression(l2=-1.0), "l2"),
    (lambda X, y: SoftmaxRegression().predict(X), "not been fitted"),
    (lambda X, y: SoftmaxRegression(0.1).fit(X, y).predict(X[:, :2]), "features"),
    (lambda X, y: softmax_objective(X, y, np.zeros((3, 2)), np.zeros(2)), "class index below"),
])
def test_bad_inputs_raise_value_errors(call, match):
    X, y, _, _ = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.raises(ValueError, match=match):
            call(X, y)


def test_doctests():
    run_doctests(softmax_regression)
