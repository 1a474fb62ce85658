"""Tests of course_lib.gradcheck: central differences and the relative error."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import course_lib.gradcheck as gradcheck
from course_lib.gradcheck import max_relative_error, numerical_gradient, relative_error
from course_lib.losses import bce_with_logits, bce_with_logits_grad

from _reference import PROPERTY, run_doctests


# ------------------------------------------------------------------------ numerical_gradient

def test_sum_of_squares():
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -0.25]])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 2), x), 2 * x,
                               rtol=1e-9, atol=1e-10)


def test_sine_at_many_points_and_a_scalar_point():
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x),
                               rtol=1e-8, atol=1e-10)
    grad = numerical_gradient(np.sin, 1.0)
    assert isinstance(grad, np.float64)
    assert grad == pytest.approx(np.cos(1.0), rel=1e-9)


def test_a_function_that_couples_the_entries():
    # f(x) = x0·x1 + exp(x2)·x0: ∇f = (x1 + exp(x2), x0, exp(x2)·x0)
    x = np.array([1.5, -0.5, 0.3])
    expected = [x[1] + np.exp(x[2]), x[0], np.exp(x[2]) * x[0]]
    np.testing.assert_allclose(
        numerical_gradient(lambda v: v[0] * v[1] + np.exp(v[2]) * v[0], x), expected, rtol=1e-9)


def test_central_differences_are_second_order():
    # f(x) = x³: the central difference is exactly 3x² + h², a one-sided one 3x² + 3xh + h².
    h = 1e-3
    assert numerical_gradient(lambda v: v ** 3, 2.0, h=h) == pytest.approx(12 + h ** 2, rel=1e-9)


def test_agrees_with_torch_autograd():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(4)
    X, y = rng.standard_normal((20, 4)), rng.integers(0, 2, 20).astype(float)

    def loss(weights):
        return bce_with_logits(X @ weights, y)

    w_t = torch.tensor(w, requires_grad=True)
    torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(X) @ w_t, torch.tensor(y)).backward()
    numeric = numerical_gradient(loss, w)
    np.testing.assert_allclose(numeric, w_t.grad.numpy(), rtol=1e-8, atol=1e-11)
    # and with the analytic chain rule ∇w = Xᵀ(σ(Xw) − y)/N
    assert max_relative_error(numeric, X.T @ bce_with_logits_grad(X @ w, y)) < 1e-8


def test_does_not_mutate_the_callers_array_and_passes_copies():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    seen = []

    def f(v):
        seen.append(v)
        v[0] = 0.0  # a careless f that writes into its argument must not affect anything
        return float(np.sum(v))

    grad = numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)
    assert all(v is not x for v in seen)
    np.testing.assert_allclose(grad, [0.0, 1.0, 1.0], atol=1e-9)  # f zeroed entry 0 itself
    assert len(seen) == 2 * x.size


def test_accepts_lists_ints_and_tensor_results():
    np.testing.assert_allclose(numerical_gradient(lambda v: float(np.sum(v ** 2)), [1, 2]),
                               [2.0, 4.0], rtol=1e-9)
    # f may return a one-element array or a 0-d tensor
    assert numerical_gradient(lambda v: np.array([v * 3.0]), 0.5) == pytest.approx(3.0)
    assert numerical_gradient(lambda v: torch.tensor(v) ** 2, 1.5) == pytest.approx(3.0)


def test_the_step_is_the_actual_float64_distance():
    # At x = 1e6 the float64 spacing is 1.2e-10, so x ± 1e-5 is not exactly x ± h; dividing by
    # the actual distance keeps the derivative of f(x) = x exactly 1.
    assert numerical_gradient(lambda v: v, 1e6) == 1.0


def test_bad_arguments():
    with pytest.raises(TypeError, match="f must be a function"):
        numerical_gradient(3.0, 1.0)
    with pytest.raises(ValueError, match=r"f must return a single number .* shape \(2,\)"):
        numerical_gradient(lambda v: v, [1.0, 2.0])
    with pytest.raises(TypeError, match="f must return a number"):
        numerical_gradient(lambda v: "loss", 1.0)
    with pytest.raises(ValueError, match=r"f returned inf at x\[1\] \+ h"):
        numerical_gradient(lambda v: np.inf if v[1] > 0 else 0.0, [1.0, 0.0])
    with pytest.raises(ValueError, match="h must be a single number > 0"):
        numerical_gradient(np.sin, 1.0, h=0.0)
    with pytest.raises(ValueError, match="h must be a single number > 0"):
        numerical_gradient(np.sin, 1.0, h=[1e-5, 1e-5])
    with pytest.raises(ValueError, match="h contains NaN"):
        numerical_gradient(np.sin, 1.0, h=np.nan)
    with pytest.raises(ValueError, match=r"h = 1e-05 is too small for x = 1e\+20"):
        numerical_gradient(np.sin, 1e20)
    with pytest.raises(ValueError, match="x is empty"):
        numerical_gradient(np.sum, [])
    with pytest.raises(ValueError, match="x must be finite"):
        numerical_gradient(np.sum, [1.0, np.inf])
    with pytest.raises(TypeError, match="x must be a number"):
        numerical_gradient(np.sum, "abc")


# ---------------------------------------------------------------------------- relative error

def test_relative_error_values():
    assert relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1, rel=1e-14)
    assert relative_error(0.0, 0.0) == 0.0                   # both zero: perfect agreement
    assert relative_error(0.0, 1e-300) == 1.0                # one zero: totally different
    assert relative_error(2.0, -2.0) == 2.0                  # opposite signs: the maximum
    assert relative_error(1e-8, 1.01e-8) == pytest.approx(0.01 / 1.01, rel=1e-12)  # scale-free
    assert isinstance(relative_error(1.0, 2.0), np.float64)


def test_relative_error_is_elementwise_for_arrays():
    got = relative_error([0.0, 1.0, 3.0], [0.0, 1.0, 4.0])
    assert isinstance(got, np.ndarray) and got.shape == (3,)
    np.testing.assert_allclose(got, [0.0, 0.0, 0.25], rtol=1e-15)
    assert relative_error(np.ones((2, 2)), 1.0).shape == (2, 2)


def test_max_relative_error():
    got = max_relative_error([[0.0, 1.0], [3.0, 2.0]], [[0.0, 1.0], [4.0, 2.2]])
    assert isinstance(got, float) and got == pytest.approx(0.25, rel=1e-15)
    assert max_relative_error(0.0, 0.0) == 0.0


def test_relative_error_bad_input():
    with pytest.raises(ValueError, match=r"a has shape \(2,\) and b has shape \(3,\)"):
        relative_error([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"b contains NaN"):
        relative_error([1.0], [np.nan])
    with pytest.raises(ValueError, match=r"a must be finite.*finite numbers only"):
        max_relative_error([np.inf], [1.0])
    with pytest.raises(ValueError, match="a is empty"):
        relative_error([], [])


def test_docstring_examples():
    run_doctests(gradcheck)


finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False)


@PROPERTY
@given(finite, finite)
def test_relative_error_is_symmetric_and_in_range(a, b):
    r = relative_error(a, b)
    assert r == relative_error(b, a)
    assert 0.0 <= r <= 2.0
    assert (r == 0.0) == (a == b)


moderate = st.floats(min_value=1e-50, max_value=1e50) | st.floats(min_value=-1e50, max_value=-1e-50)


@PROPERTY
@given(moderate, st.floats(min_value=1e-200, max_value=1e200))
def test_relative_error_ignores_the_scale(a, scale):
    b = a * (1 + 1e-6)
    assert relative_error(a * scale, b * scale) == pytest.approx(relative_error(a, b), rel=1e-6)


def test_f_returning_none_or_a_tensor_that_requires_grad_is_explained():
    """None used to become NaN ("f returned nan"); a tensor that requires grad used to escape as
    a RuntimeError from NumPy."""
    with pytest.raises(TypeError, match=r"returned NoneType None; did you forget the `return`"):
        numerical_gradient(lambda v: None, 1.0)
    with pytest.raises(TypeError, match=r"f must return a number, but at x\[0\] \+ h it returned object"):
        numerical_gradient(lambda v: object(), [1.0])
    torch = pytest.importorskip("torch")
    w = torch.tensor(2.0, requires_grad=True)
    with pytest.raises(TypeError, match=r"requires grad: return loss\.item\(\)"):
        numerical_gradient(lambda v: w * float(v), 1.0)


# ------------------------------------------------- the numbers stated in the module docstring

def _median_relative_error(dtype, h):
    """Chapter 2's experiment: the BCE of a sigmoid unit (x = 0.5, b = 0.1, y = 0.7) as a
    function of w, every operation in ``dtype``, central differences at 200 points in [−3, 3]
    against the exact float64 gradient; the median relative error (None if h is too small)."""
    x, b, y = 0.5, 0.1, 0.7
    one = dtype(1)

    def loss(w):
        p = one / (one + np.exp(-(w * dtype(x) + dtype(b))))
        return -(dtype(y) * np.log(p) + (one - dtype(y)) * np.log(one - p))

    w = np.random.default_rng(4).uniform(-3.0, 3.0, size=200)
    exact = (1.0 / (1.0 + np.exp(-(w * x + b))) - y) * x
    w = w.astype(dtype)
    plus, minus = w + dtype(h), w - dtype(h)
    step = plus.astype(float) - minus.astype(float)
    if np.any(step == 0):
        return None
    numeric = (loss(plus).astype(float) - loss(minus).astype(float)) / step
    return float(np.median(relative_error(exact, numeric)))


def test_docstring_numbers_float64_and_float32():
    h_grid = np.logspace(-10, 0, 41)
    assert 1e-11 < _median_relative_error(np.float64, 1e-5) < 1e-10          # "about 4e−11"
    for dtype, (h_lo, h_hi), (e_lo, e_hi) in ((np.float64, (1e-6, 1e-4), (5e-12, 1e-10)),
                                              (np.float32, (5e-3, 1e-1), (5e-6, 5e-5))):
        errors = [(_median_relative_error(dtype, h), h) for h in h_grid]
        best_error, best_h = min((e, h) for e, h in errors if e is not None)
        eps = float(np.finfo(dtype).eps)
        assert h_lo < best_h < h_hi and 0.1 < best_h / eps ** (1 / 3) < 10   # h of order ε^(1/3)
        assert e_lo < best_error < e_hi and 0.1 < best_error / eps ** (2 / 3) < 10
    assert 5e-3 < _median_relative_error(np.float32, 1e-5) < 1e-1             # "about 2e−2"


def test_a_kink_within_h_makes_a_correct_gradient_look_wrong():
    relu_sum = lambda v: float(np.sum(np.maximum(v, 0.0)))                    # noqa: E731
    x = np.array([3e-6, 0.5, -0.7])                                           # |x₀| < h = 1e−5
    exact = (x > 0).astype(float)
    assert max_relative_error(exact, numerical_gradient(relu_sum, x, h=1e-5)) > 1e-2
    assert max_relative_error(exact, numerical_gradient(relu_sum, x, h=1e-6)) < 1e-9
