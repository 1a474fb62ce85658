"""Tests of the softmax, the log-softmax, categorical cross-entropy and its gradient, and the
K-class prior bias (chapter 5), against PyTorch in float64, exact decimal arithmetic, central
differences and scikit-learn; extremes (logits up to ±1e308) and bad inputs included."""

from decimal import Decimal, localcontext

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_lib import functional, init, losses
from course_lib.functional import log_softmax, sigmoid, softmax
from course_lib.gradcheck import numerical_gradient
from course_lib.init import prior_bias, prior_bias_multiclass
from course_lib.losses import cross_entropy, cross_entropy_grad

from _reference import PROPERTY, run_doctests

RTOL, ATOL = 1e-12, 1e-14


def t64(x):
    return torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64)


def exact_log_softmax(row):
    """log softmax of one row of floats, in 400-digit decimal arithmetic (enough to keep 1 + e^-745),
    rounded once."""
    with localcontext() as ctx:
        ctx.prec = 400
        d = [Decimal(float(v)) for v in row]
        m = max(d)
        total = sum(((v - m).exp() for v in d), Decimal(0))
        return np.array([float((v - m) - total.ln()) for v in d])


# ------------------------------------------------------------------------------ softmax

@pytest.mark.parametrize("shape, axis", [((5,), -1), ((4, 3), -1), ((4, 3), 0), ((2, 3, 4), 1)])
def test_softmax_and_log_softmax_equal_torch(shape, axis):
    S = np.random.default_rng(0).normal(0, 5, size=shape)
    np.testing.assert_allclose(softmax(S, axis=axis), F.softmax(t64(S), dim=axis).numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(log_softmax(S, axis=axis), F.log_softmax(t64(S), dim=axis).numpy(),
                               rtol=RTOL, atol=ATOL)


EXTREME_ROWS = [[1e300, -1e300], [-1e300, 1e300, 0.0], [1e308, -1e308], [800.0, 0.0, -800.0],
                [40.0, 0.0], [0.0, -1000.0, -2000.0], [-1e5, -1e5 + 1.0], [1e-300, -1e-300, 0.0],
                [709.0, 710.0, 711.0], [-745.0, 0.0]]


@pytest.mark.parametrize("row", EXTREME_ROWS)
def test_extremes_are_finite_sum_to_one_and_match_exact_arithmetic(row):
    with np.errstate(all="raise", under="ignore"):
        p = softmax(row)
        logp = log_softmax(row)
    assert np.all(np.isfinite(p)) and abs(p.sum() - 1) < 1e-15
    exact = exact_log_softmax(row)
    finite = np.isfinite(exact)
    assert np.all(np.isfinite(logp[finite]))
    np.testing.assert_allclose(logp[finite], exact[finite], rtol=1e-15, atol=0)
    # the row [1e308, -1e308]: the exact log-probability −2e308 is not a float64, −inf is right
    assert np.array_equal(np.isinf(logp), ~finite)


def test_log_softmax_keeps_the_tiny_log_probability_of_a_confident_class():
    exact = -float(np.log1p(np.exp(-40.0)))
    assert log_softmax([40.0, 0.0])[0] == pytest.approx(exact, rel=1e-15, abs=0)
    assert float(F.log_softmax(t64([40.0, 0.0]), dim=0)[0]) == 0.0       # torch rounds it to 0
    with np.errstate(divide="ignore"):
        assert np.log(softmax([0.0, -1000.0]))[1] == -np.inf            # log of the softmax fails
    assert log_softmax([0.0, -1000.0])[1] == -1000.0


def test_the_textbook_softmax_overflows_where_this_one_does_not():
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.array([710.0, 0.0]))
        naive = e / e.sum()
    assert np.isnan(naive[0])
    np.testing.assert_array_equal(softmax([710.0, 0.0]), [1.0, np.exp(-710.0) / (1 + np.exp(-710.0))])


def test_minus_inf_masks_a_class_like_torch():
    S = np.array([[1.0, -np.inf, 2.0], [-np.inf, 0.0, -np.inf]])
    np.testing.assert_allclose(softmax(S), F.softmax(t64(S), dim=1).numpy(), rtol=RTOL, atol=0)
    np.testing.assert_array_equal(log_softmax(S), F.log_softmax(t64(S), dim=1).numpy())


@PROPERTY
@given(arrays(np.float64, st.integers(2, 8), elements=st.floats(-1e6, 1e6)),
       st.floats(-1e6, 1e6))
def test_shift_invariance_and_normalisation(s, c):
    p = softmax(s)
    assert abs(p.sum() - 1) < 1e-14 and np.all(p >= 0)
    np.testing.assert_allclose(softmax(s + c), p, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_softmax(s)), p, rtol=1e-12, atol=1e-300)
    order = np.argsort(s, kind="stable")
    assert np.all(np.diff(p[order]) >= 0)           # a larger logit never gets a smaller probability


@PROPERTY
@given(st.floats(-700, 700), st.floats(-700, 700))
def test_two_classes_give_the_sigmoid_of_the_difference(s1, s2):
    assert softmax([s1, s2])[0] == pytest.approx(float(sigmoid(s1 - s2)), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("bad, kwargs, match", [
    ([1.0, np.nan], {}, "S contains NaN"),
    ([1.0, np.inf], {}, r"\+inf"),
    ([[0.0, 1.0], [-np.inf, -np.inf]], {}, "all −inf"),
    ([], {}, "empty"),
    (3.0, {}, "single number"),
    ([1.0, 2.0], {"axis": 1}, "axis 1 is out of range"),
    ([1.0, 2.0], {"axis": 0.5}, "axis must be an integer"),
])
@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_bad_logits_are_refused(fn, bad, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(bad, **kwargs)


@pytest.mark.parametrize("fn", [softmax, log_softmax])
def test_text_is_a_type_error(fn):
    with pytest.raises(TypeError, match="S must be"):
        fn(["a", "b"])


def test_functional_doctests():
    run_doctests(functional)


# ------------------------------------------------------------------------------ cross-entropy

RNG = np.random.default_rng(1)
S7 = RNG.normal(0, 3, size=(7, 4))
Y7 = RNG.integers(0, 4, size=7)
P7 = RNG.dirichlet(np.ones(4), size=7)
W4 = RNG.uniform(0.2, 2.0, size=4)


def torch_ce(S, y, weight=None, label_smoothing=0.0, reduction="mean"):
    St = t64(S).requires_grad_(True)
    yt = torch.tensor(np.asarray(y)) if np.asarray(y).dtype.kind in "iu" else t64(y)
    loss = F.cross_entropy(St, yt, weight=None if weight is None else t64(weight),
                           label_smoothing=label_smoothing, reduction=reduction)
    loss.sum().backward()
    return loss.detach().numpy(), St.grad.numpy()


@pytest.mark.parametrize("target", ["indices", "probabilities"])
@pytest.mark.parametrize("weight", [None, W4])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_its_gradient_equal_torch(target, weight, label_smoothing, reduction):
    y = Y7 if target == "indices" else P7
    expected_loss, expected_grad = torch_ce(S7, y, weight, label_smoothing, reduction)
    got = cross_entropy(S7, y, weight, label_smoothing, reduction)
    np.testing.assert_allclose(got, expected_loss, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(cross_entropy_grad(S7, y, weight, label_smoothing, reduction), expected_grad,
                               rtol=1e-10, atol=ATOL)


def test_one_example_of_shape_k_like_torch():
    s = np.array([0.3, -1.2, 2.0])
    loss, grad = torch_ce(s, np.array(2))
    assert cross_entropy(s, 2) == pytest.approx(float(loss), rel=RTOL)
    np.testing.assert_allclose(cross_entropy_grad(s, 2), grad, rtol=1e-12, atol=ATOL)
    assert cross_entropy(s, [0.0, 0.0, 1.0]) == pytest.approx(float(loss), rel=RTOL)


def test_float_indices_with_integer_values_are_indices():
    assert cross_entropy(S7, Y7.astype(float)) == cross_entropy(S7, Y7)


def test_hard_probability_rows_equal_indices_and_the_loss_is_minus_log_p():
    onehot = np.eye(4)[Y7]
    assert cross_entropy(S7, onehot) == pytest.approx(float(cross_entropy(S7, Y7)), rel=1e-14)
    p = softmax(S7)
    np.testing.assert_allclose(cross_entropy(S7, Y7, reduction="none"), -np.log(p[np.arange(7), Y7]), rtol=1e-12)


def test_the_gradient_is_p_minus_onehot_and_matches_central_differences():
    np.testing.assert_allclose(cross_entropy_grad(S7, Y7, reduction="sum"), softmax(S7) - np.eye(4)[Y7],
                               rtol=1e-12, atol=1e-15)
    for weight, eps, y in [(None, 0.0, Y7), (W4, 0.1, Y7), (W4, 0.3, P7)]:
        numeric = numerical_gradient(lambda v: cross_entropy(v, y, weight, eps), S7.copy())
        np.testing.assert_allclose(cross_entropy_grad(S7, y, weight, eps), numeric, rtol=1e-6, atol=1e-10)
    # each row of the gradient sums to 0 (without weights): the loss ignores a shift of a row
    assert np.abs(cross_entropy_grad(S7, P7, label_smoothing=0.2).sum(axis=1)).max() < 1e-15


@pytest.mark.parametrize("row, label", [([1e300, -1e300], 1), ([1e300, -1e300], 0), ([-1e300, 1e300, 0.0], 2),
                                        ([800.0, 0.0, -800.0], 2), ([40.0, 0.0], 0), ([40.0, 0.0], 1)])
def test_extreme_logits_give_the_exact_loss(row, label):
    exact = -exact_log_softmax(row)[label]
    with np.errstate(all="raise", under="ignore"):
        got = cross_entropy([row], [label])
    assert got == pytest.approx(exact, rel=1e-15, abs=0)
    torch_loss, _ = torch_ce([row], np.array([label]))
    assert got == pytest.approx(float(torch_loss), rel=1e-15, abs=1e-17)


def test_a_confident_right_answer_keeps_a_tiny_accurate_gradient():
    g = cross_entropy_grad([[40.0, 0.0]], [0], reduction="sum")
    tiny = float(np.exp(-40.0) / (1 + np.exp(-40.0)))
    np.testing.assert_allclose(g, [[-tiny, tiny]], rtol=1e-15, atol=0)
    _, torch_g = torch_ce([[40.0, 0.0]], np.array([0]), reduction="sum")
    assert torch_g[0, 0] == 0.0                                        # p − 1 rounds to 0 in torch
    g_huge = cross_entropy_grad([[1e300, -1e300, 0.0]], [1], reduction="sum")
    np.testing.assert_array_equal(g_huge, [[1.0, -1.0, 0.0]])


def test_softmax_before_cross_entropy_is_a_different_loss():
    # The misconception of chapter 5: F.cross_entropy takes logits; probabilities squash the loss.
    right = cross_entropy(S7, Y7)
    doubled = cross_entropy(softmax(S7), Y7)
    assert doubled > np.log(4) - 1.0 and abs(doubled - right) > 0.1
    # with probabilities as "logits" the loss can never go below log(K) − (1 − 1/K)
    assert cross_entropy([[1.0, 0.0, 0.0, 0.0]], [0]) == pytest.approx(np.log(3 + np.e) - 1.0, rel=1e-14)


def test_cross_entropy_agrees_with_sklearn_log_loss():
    from sklearn.metrics import log_loss
    assert cross_entropy(S7, Y7) == pytest.approx(log_loss(Y7, softmax(S7), labels=range(4)), rel=1e-12)


@pytest.mark.parametrize("kwargs, match", [
    (dict(S=S7, y=Y7[:5]), r"S has shape \(7, 4\) and y has shape \(5,\)"),
    (dict(S=S7, y=np.r_[Y7[:6], 4]), r"class indices 0, 1, ..., 3 .* y\[6\] = 4.0"),
    (dict(S=S7, y=np.r_[Y7[:6], -1]), r"y\[6\] = -1.0"),
    (dict(S=S7, y=np.r_[Y7[:6], 0.5]), r"y\[6\] = 0.5"),
    (dict(S=S7, y=P7 * 0.9), "sums to"),
    (dict(S=S7, y=np.abs(P7 - 0.5)), r"y must lie in \[0, 1\]|sums to"),
    (dict(S=np.r_[S7[:6], [[0, np.nan, 0, 0]]], y=Y7), "S contains NaN"),
    (dict(S=np.r_[S7[:6], [[0, np.inf, 0, 0]]], y=Y7), "S must be finite"),
    (dict(S=S7, y=np.where(np.arange(7) == 3, np.nan, Y7)), "y contains NaN"),
    (dict(S=S7[:, :1], y=np.zeros(7)), "at least 2"),
    (dict(S=S7.reshape(7, 2, 2), y=Y7), "shape"),
    (dict(S=S7, y=Y7, weight=W4[:3]), r"weight must hold one weight per class, shape \(4,\)"),
    (dict(S=S7, y=Y7, weight=-W4), "weight must be >= 0"),
    (dict(S=S7, y=Y7, weight=np.zeros(4)), "weight 0"),
    (dict(S=S7, y=Y7, label_smoothing=1.5), "label_smoothing"),
    (dict(S=S7, y=Y7, reduction="avg"), "reduction"),
    (dict(S=[], y=[]), "S is empty"),
])
@pytest.mark.parametrize("fn", [cross_entropy, cross_entropy_grad])
def test_bad_inputs_raise_a_value_error_naming_the_argument(fn, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fn(**kwargs)


def test_a_zero_weight_sum_is_fine_for_sum():
    assert cross_entropy(S7, Y7, weight=np.zeros(4), reduction="sum") == 0.0


def test_losses_doctests():
    run_doctests(losses)


# ------------------------------------------------------------------------------ prior bias

def test_prior_bias_multiclass_matches_the_class_shares_with_zero_mean():
    counts = np.array([500, 120, 30, 7, 1])
    b = prior_bias_multiclass(counts)
    assert abs(b.mean()) < 1e-15
    np.testing.assert_allclose(softmax(b), counts / counts.sum(), rtol=1e-14)
    np.testing.assert_allclose(b - b[0], np.log(counts / counts[0]), rtol=1e-14, atol=1e-15)


def test_the_bias_only_model_at_the_prior_has_zero_gradient_and_the_entropy_as_loss():
    counts = np.array([300, 90, 40, 12])
    y = np.repeat(np.arange(4), counts)
    pi = counts / counts.sum()
    S = np.tile(prior_bias_multiclass(counts), (y.size, 1))
    entropy = -float(np.sum(pi * np.log(pi)))
    assert cross_entropy(S, y) == pytest.approx(entropy, rel=1e-13)
    assert np.abs(cross_entropy_grad(S, y).sum(axis=0)).max() < 1e-15
    # any other constant logits cost more (Gibbs' inequality), and b = 0 costs log K
    assert cross_entropy(np.zeros_like(S), y) == pytest.approx(np.log(4), rel=1e-14)
    rng = np.random.default_rng(2)
    for _ in range(20):
        other = np.tile(rng.normal(size=4), (y.size, 1))
        assert cross_entropy(other, y) > entropy


def test_two_classes_give_the_binary_prior_bias():
    b = prior_bias_multiclass([284315, 492])
    assert b[1] - b[0] == pytest.approx(float(prior_bias(492, 284315)), rel=1e-14)


@PROPERTY
@given(arrays(np.float64, st.integers(2, 12), elements=st.floats(1e-3, 1e9)))
def test_prior_bias_property(counts):
    b = prior_bias_multiclass(counts)
    assert abs(b.mean()) < 1e-12 * max(1.0, np.abs(b).max())
    np.testing.assert_allclose(softmax(b), counts / counts.sum(), rtol=1e-9)


@pytest.mark.parametrize("bad, match", [
    ([10, 0, 3], "counts must be > 0"), ([10, -1], "counts must be > 0"), ([5], "K ≥ 2"),
    ([[1, 2], [3, 4]], "1-D"), ([1, np.inf], "counts must be finite"), ([1, np.nan], "NaN"), ([], "empty"),
])
def test_prior_bias_multiclass_refuses_bad_counts(bad, match):
    with pytest.raises(ValueError, match=match):
        prior_bias_multiclass(bad)


def test_init_doctests():
    run_doctests(init)
