"""Hand-written backward passes against torch.autograd (float64, 1e-10) and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.backprop import (
    MLPForward,
    init_mlp_params,
    mlp_backward,
    mlp_forward,
    mlp_loss_and_grads,
    sigmoid_unit_forward_backward,
)
from course_lib.gradcheck import max_relative_error, numerical_gradient

from _reference import exact_sigmoid, exact_sigmoid_grad

RTOL, ATOL = 1e-10, 1e-13


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _data(seed, n=7, d=3, soft=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.uniform(size=n) if soft else (rng.uniform(size=n) < 0.5).astype(float)
    return X, y, rng.normal(size=d), float(rng.normal())


def _torch_unit(X, y, w, b, loss):
    wt, bt = _t(w, True), _t(b, True)
    p = torch.sigmoid(_t(X) @ wt + bt)
    value = F.binary_cross_entropy(p, _t(y)) if loss == "bce" else (0.5 * (p - _t(y)) ** 2).mean()
    value.backward()
    return float(value.detach()), wt.grad.numpy(), float(bt.grad)


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("loss", ["bce", "squared"])
def test_sigmoid_unit_matches_torch(seed, loss):
    X, y, w, b = _data(seed, soft=seed % 2 == 1)
    out = sigmoid_unit_forward_backward(X, y, w, b, loss=loss)
    ref_loss, ref_w, ref_b = _torch_unit(X, y, w, b, loss)
    np.testing.assert_allclose(out.loss, ref_loss, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out.grad_w, ref_w, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(out.grad_b, ref_b, rtol=RTOL, atol=ATOL)
    assert out.grad_w.shape == w.shape and isinstance(out.grad_b, float)


@pytest.mark.parametrize("loss", ["bce", "squared"])
def test_sigmoid_unit_matches_finite_differences(loss):
    X, y, w, b = _data(3, n=11, d=4)
    out = sigmoid_unit_forward_backward(X, y, w, b, loss=loss)
    num_w = numerical_gradient(lambda v: sigmoid_unit_forward_backward(X, y, v, b, loss=loss).loss, w)
    num_b = numerical_gradient(lambda v: sigmoid_unit_forward_backward(X, y, w, v, loss=loss).loss, b)
    assert max_relative_error(out.grad_w, num_w) < 1e-7
    assert max_relative_error(out.grad_b, num_b) < 1e-7


def test_sigmoid_unit_matrix_formula_and_extremes():
    X, y, w, b = _data(4)
    out = sigmoid_unit_forward_backward(X, y, w, b)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    np.testing.assert_allclose(out.grad_w, X.T @ (p - y) / len(y), rtol=1e-12)
    np.testing.assert_allclose(out.grad_b, np.mean(p - y), rtol=1e-12)
    # confidently wrong: the BCE gradient stays ≈ x, the squared-error one vanishes
    far = sigmoid_unit_forward_backward([[1.0]], [1.0], [-1000.0], 0.0)
    assert far.loss == pytest.approx(1000.0) and far.grad_w[0] == pytest.approx(-1.0)
    sq = sigmoid_unit_forward_backward([[1.0]], [1.0], [-10.0], 0.0, loss="squared")
    assert 4e-5 < -sq.grad_w[0] < 5e-5


# torch is no reference for saturated units: its sigmoid backward is σ(s)·(1 − σ(s)), exactly 0
# once σ(s) rounds to 1 (|s| ≳ 37), and the old σ(s)(1 − σ(s)) and σ(s) − y here agreed with
# torch only because torch has the same flaw. These compare with 60-digit decimal values.

@pytest.mark.parametrize("s, y", [(40.0, 0.0), (45.0, 1.0), (-50.0, 1.0), (-40.0, 0.0)])
def test_sigmoid_unit_gradients_are_exact_at_saturated_logits(s, y):
    p, p_minus = exact_sigmoid(s), exact_sigmoid(-s)
    residual = p - y if y == 0.0 else -p_minus          # σ(s) − y without rounding σ(s) first
    x = 2.0                                             # s = x·w with w = s/2
    sq = sigmoid_unit_forward_backward([[x]], [y], [s / x], 0.0, loss="squared")
    expected = residual * exact_sigmoid_grad(s)          # confidently wrong (40, 0): 4.2e-18
    assert sq.grad_b == pytest.approx(expected, rel=1e-14, abs=0)
    assert sq.grad_w[0] == pytest.approx(x * expected, rel=1e-14, abs=0)
    bce = sigmoid_unit_forward_backward([[x]], [y], [s / x], 0.0)
    assert bce.grad_b == pytest.approx(residual, rel=1e-14, abs=0)
    assert bce.grad_w[0] == pytest.approx(x * residual, rel=1e-14, abs=0)


def test_mlp_output_gradient_is_exact_when_the_output_saturates():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    params = {"W1": np.eye(2), "b1": np.zeros(2), "w2": np.array([1.0, 1.0]), "b2": 40.0}
    y = np.array([1.0, 1.0])   # s = 41 for both rows: right, and very sure
    _, grads = mlp_loss_and_grads(X, y, params)
    ds = -exact_sigmoid(-41.0) / 2                       # (p − y)/N ≈ −8e-19, not 0
    assert grads["b2"] == pytest.approx(2 * ds, rel=1e-14, abs=0)
    np.testing.assert_allclose(grads["w2"], [ds, ds], rtol=1e-14, atol=0)
    np.testing.assert_allclose(grads["W1"], np.eye(2) * ds, rtol=1e-14, atol=0)


@pytest.mark.parametrize("args, message", [
    (([1.0, 2.0], [1.0], [1.0], 0.0), "2-D"),
    (([[1.0, 2.0]], [1.0, 0.0], [1.0, 2.0], 0.0), r"y must have shape \(1,\)"),
    (([[1.0, 2.0]], [[1.0]], [1.0, 2.0], 0.0), "ravel"),
    (([[1.0, 2.0]], [1.0], [1.0], 0.0), r"w must have shape \(2,\)"),
    (([[1.0, 2.0]], [2.0], [1.0, 2.0], 0.0), r"\[0, 1\]"),
    (([[1.0, 2.0]], [1.0], [1.0, 2.0], [0.0, 1.0]), "single number"),
    (([[np.nan, 2.0]], [1.0], [1.0, 2.0], 0.0), "NaN"),
    (([[np.inf, 2.0]], [1.0], [1.0, 2.0], 0.0), "finite"),
])
def test_sigmoid_unit_validation(args, message):
    with pytest.raises(ValueError, match=message):
        sigmoid_unit_forward_backward(*args)
    with pytest.raises(ValueError, match="'bce' or 'squared'"):
        sigmoid_unit_forward_backward([[1.0]], [1.0], [1.0], 0.0, loss="mse")


def _torch_mlp(X, y, params):
    W1, b1, w2, b2 = (_t(params[k], True) for k in ("W1", "b1", "w2", "b2"))
    a = _t(X) @ W1.T + b1
    s = torch.relu(a) @ w2 + b2
    loss = F.binary_cross_entropy_with_logits(s, _t(y))
    loss.backward()
    return float(loss.detach()), {"W1": W1.grad.numpy(), "b1": b1.grad.numpy(),
                                  "w2": w2.grad.numpy(), "b2": float(b2.grad)}


@pytest.mark.parametrize("seed", range(10))
def test_mlp_backward_matches_torch(seed):
    X, y, _, _ = _data(seed, n=9, d=4, soft=seed % 3 == 0)
    params = init_mlp_params(4, 6, seed=seed)
    params["b1"] = np.random.default_rng(seed + 100).normal(size=6) * 0.5
    params["b2"] = 0.3
    loss, grads = mlp_loss_and_grads(X, y, params)
    ref_loss, ref = _torch_mlp(X, y, params)
    np.testing.assert_allclose(loss, ref_loss, rtol=RTOL, atol=ATOL)
    for key in params:
        np.testing.assert_allclose(grads[key], ref[key], rtol=RTOL, atol=ATOL, err_msg=key)
        assert np.shape(grads[key]) == np.shape(params[key])


def test_mlp_backward_matches_finite_differences():
    X, y, _, _ = _data(5, n=8, d=3)
    params = init_mlp_params(3, 5, seed=1)
    _, grads = mlp_loss_and_grads(X, y, params)
    for key in params:
        def f(v, key=key):
            return mlp_loss_and_grads(X, y, {**params, key: v})[0]
        assert max_relative_error(grads[key], numerical_gradient(f, params[key])) < 1e-6, key


def test_mlp_forward_shapes_and_relu():
    X, _, _, _ = _data(0, n=5, d=3)
    params = init_mlp_params(3, 4)
    fwd = mlp_forward(X, params)
    assert isinstance(fwd, MLPForward)
    assert fwd.a.shape == (5, 4) and fwd.h.shape == (5, 4) and fwd.s.shape == (5,)
    np.testing.assert_array_equal(fwd.h, np.maximum(fwd.a, 0))
    assert np.all((fwd.p > 0) & (fwd.p < 1))


def test_mlp_validation():
    X, y, _, _ = _data(0, n=5, d=3)
    params = init_mlp_params(3, 4)
    with pytest.raises(ValueError, match="missing b2"):
        mlp_forward(X, {k: v for k, v in params.items() if k != "b2"})
    with pytest.raises(ValueError, match=r"W1 must have shape \(m, 2\)"):
        mlp_forward(X[:, :2], params)
    with pytest.raises(ValueError, match=r"b1 must have shape \(4,\)"):
        mlp_forward(X, {**params, "b1": np.zeros(3)})
    with pytest.raises(TypeError, match="dict"):
        mlp_forward(X, [1, 2])
    with pytest.raises(ValueError, match="MLPForward"):
        mlp_backward(X, y, params, mlp_forward(X[:2], params))
    with pytest.raises(ValueError, match="positive integers"):
        init_mlp_params(0, 3)


def test_mlp_is_seeded():
    a, b = init_mlp_params(3, 4, seed=7), init_mlp_params(3, 4, seed=7)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_docstring_examples():
    from _reference import run_doctests

    import course_lib.backprop

    run_doctests(course_lib.backprop)
