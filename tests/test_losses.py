"""Tests of course_lib.losses against PyTorch (float64), exact arithmetic, finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import course_lib._validation as validation
import course_lib.losses as losses
from course_lib.functional import sigmoid
from course_lib.gradcheck import numerical_gradient
from course_lib.losses import (
    BCE_GRAD_EPS,
    bce,
    bce_grad,
    bce_with_logits,
    bce_with_logits_grad,
    logistic_loss,
    logistic_loss_grad,
)

from _reference import (
    ATOL,
    EXTREME_LOGITS,
    PROPERTY,
    RTOL,
    exact_bce_with_logits,
    exact_sigmoid,
    run_doctests,
    torch_bce_with_logits,
    torch_bce_with_logits_grad,
    torch_grad,
    torch_value,
)

EPS = np.finfo(np.float64).eps
REDUCTIONS = ["mean", "sum", "none"]
LABELS = [0.0, 0.3, 0.5, 1.0]
POS_WEIGHTS = [None, 0.0, 0.5, 3.0]

# Probabilities at and near the ends of [0, 1], where logs and the backward clamp matter.
EDGE_P = [0.0, 5e-324, 1e-300, 1e-50, 1e-44, 1e-13, 1e-12, 2e-12, 1e-6, 0.5,
          1 - 1e-6, 1 - 1e-13, 1 - 2**-53, 1.0]


def random_probabilities(n=1000, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, n)


def random_labels(n=1000, seed=1, soft=False):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, n) if soft else rng.integers(0, 2, n).astype(float)


def random_logits(n=1000, seed=2):
    rng = np.random.default_rng(seed)
    half = n // 2
    return np.concatenate([10 * rng.standard_normal(half),
                           10.0 ** rng.uniform(-5, 5, n - half) * rng.choice([-1.0, 1.0], n - half)])


def exact_bce_with_logits_grad(s, y, w=1.0):
    # dℓ/ds = (1 − y)·σ(s) − w·y·σ(−s), from exact sigmoids; one of the terms is 0 for hard labels
    return (1 - y) * exact_sigmoid(s) - w * y * exact_sigmoid(-s)


# ================================================================================ bce on p

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("soft", [False, True])
def test_bce_matches_torch_on_random_inputs(reduction, soft):
    p, y = random_probabilities(), random_labels(soft=soft)
    expected = torch_value(F.binary_cross_entropy, p, y, reduction=reduction)
    np.testing.assert_allclose(bce(p, y, reduction=reduction), expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("y", [0.0, 0.5, 1.0])
def test_bce_matches_torch_at_the_ends_of_the_interval(y):
    p = np.array(EDGE_P)
    labels = np.full_like(p, y)
    ours = bce(p, labels, reduction="none")
    assert np.all(np.isfinite(ours))
    np.testing.assert_allclose(ours, torch_value(F.binary_cross_entropy, p, labels,
                                                 reduction="none"), rtol=1e-14, atol=0)


def test_bce_clamps_each_log_at_minus_100():
    assert bce(0.0, 1.0) == 100.0            # −max(log 0, −100)
    assert bce(1.0, 0.0) == 100.0
    assert bce(0.0, 0.5) == 50.0             # half of the clamped term, and no nan from 0·(−inf)
    assert bce(0.0, 0.0) == 0.0 and bce(1.0, 1.0) == 0.0
    assert bce(1e-50, 1.0) == 100.0          # log(1e-50) ≈ −115 is clamped too
    assert bce(1e-40, 1.0) == pytest.approx(40 * np.log(10), rel=1e-15)  # not clamped


def test_bce_uses_log1p_for_small_p():
    # −log(1 − 1e-10) ≈ 1e-10 + 5e-21; log(1 − p) would give 1.00000008e-10.
    # abs=0 here and below: pytest.approx's default absolute tolerance, 1e-12, would accept
    # almost anything for these tiny values (log(1 − p) included).
    assert bce(1e-10, 0.0) == pytest.approx(1e-10 + 5e-21, rel=1e-15, abs=0)


def test_bce_of_sigmoid_equals_bce_with_logits_for_moderate_logits():
    # For |s| <= 5 the probability σ(s) still carries the information of s (its rounding
    # error, relative ε, costs at most about ε/(1 − p) ≈ 3e-14 relative in the loss).
    rng = np.random.default_rng(3)
    s, y = rng.uniform(-5, 5, 500), rng.uniform(0, 1, 500)
    np.testing.assert_allclose(bce(sigmoid(s), y, reduction="none"),
                               bce_with_logits(s, y, reduction="none"), rtol=1e-12)


# ------------------------------------------------------------------------------- bce_grad

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("soft", [False, True])
def test_bce_grad_matches_torch_autograd(reduction, soft):
    p, y = random_probabilities(seed=4), random_labels(seed=5, soft=soft)
    expected = torch_grad(F.binary_cross_entropy, p, y, reduction=reduction)
    np.testing.assert_allclose(bce_grad(p, y, reduction=reduction), expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("y", [0.0, 0.5, 1.0])
def test_bce_grad_matches_torch_at_the_ends_including_the_clamp(y, reduction):
    # Here torch's backward uses (p − y) / max(p(1 − p), 1e-12 as float32).
    p = np.array(EDGE_P)
    labels = np.full_like(p, y)
    ours = bce_grad(p, labels, reduction=reduction)
    assert np.all(np.isfinite(ours))
    expected = torch_grad(F.binary_cross_entropy, p, labels, reduction=reduction)
    np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=0)


def test_bce_grad_clamp_constant_and_its_effect():
    assert BCE_GRAD_EPS == float(np.float32(1e-12)) and BCE_GRAD_EPS != 1e-12
    assert bce_grad(1.0, 0.0, reduction="sum") == pytest.approx(1 / BCE_GRAD_EPS, rel=1e-15)
    assert bce_grad(0.0, 0.0, reduction="sum") == 0.0
    # Outside the band p(1 − p) >= eps it is torch's safeguard, not the derivative: at
    # p = 1e-50 with y = 0 the true derivative 1/(1 − p) is 1, the safeguard gives p/eps.
    assert bce_grad(1e-50, 0.0, reduction="sum") == pytest.approx(1e-50 / BCE_GRAD_EPS, rel=1e-15, abs=0)
    # Inside the band it is the exact derivative (p − y)/(p(1 − p)).
    assert bce_grad(1e-6, 0.0, reduction="sum") == pytest.approx(1 / (1 - 1e-6), rel=1e-15)


def test_bce_grad_equals_central_differences():
    rng = np.random.default_rng(6)
    p, y = rng.uniform(0.05, 0.95, 12), rng.uniform(0, 1, 12)
    for reduction in ("mean", "sum"):
        numeric = numerical_gradient(lambda q: bce(q, y, reduction=reduction), p)
        np.testing.assert_allclose(bce_grad(p, y, reduction=reduction), numeric,
                                   rtol=1e-7, atol=1e-9)


# ===================================================================== bce_with_logits

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", POS_WEIGHTS)
@pytest.mark.parametrize("soft", [False, True])
def test_bce_with_logits_matches_torch(reduction, pos_weight, soft):
    s, y = random_logits(), random_labels(soft=soft)
    expected = torch_bce_with_logits(s, y, pos_weight, reduction)
    got = bce_with_logits(s, y, pos_weight=pos_weight, reduction=reduction)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_per_column_pos_weight_matches_torch(reduction):
    rng = np.random.default_rng(7)
    s, y = 4 * rng.standard_normal((50, 3)), rng.integers(0, 2, (50, 3)).astype(float)
    pos_weight = np.array([0.5, 2.0, 10.0])
    got = bce_with_logits(s, y, pos_weight=pos_weight, reduction=reduction)
    np.testing.assert_allclose(got, torch_bce_with_logits(s, y, pos_weight, reduction),
                               rtol=RTOL, atol=ATOL)
    grad = bce_with_logits_grad(s, y, pos_weight=pos_weight, reduction=reduction)
    np.testing.assert_allclose(grad, torch_bce_with_logits_grad(s, y, pos_weight, reduction),
                               rtol=RTOL, atol=ATOL)


extreme_cases = pytest.mark.parametrize(
    "s, y, pos_weight",
    [(s, y, w) for s in EXTREME_LOGITS for y in (0.0, 0.5, 1.0) for w in (None, 3.0)])


@extreme_cases
def test_bce_with_logits_at_extreme_logits(s, y, pos_weight):
    got = bce_with_logits(s, y, pos_weight=pos_weight)
    assert np.isfinite(got)
    w = 1.0 if pos_weight is None else pos_weight
    assert got == pytest.approx(exact_bce_with_logits(s, y, w), rel=1e-14, abs=0)
    # torch's form (1 − y)·s + (1 + (w − 1)·y)·softplus(−s) cancels for s ≪ 0 and y = 0 (it
    # gives 2.0611530e-09 at s = −20, exact 2.0611536e-09, and 0 at s = −40): agreement with it
    # holds only in absolute terms there, which the tolerance below allows.
    np.testing.assert_allclose(got, torch_bce_with_logits(s, y, pos_weight, "mean"),
                               rtol=RTOL, atol=ATOL)


@extreme_cases
def test_bce_with_logits_grad_at_extreme_logits(s, y, pos_weight):
    w = 1.0 if pos_weight is None else pos_weight
    got = bce_with_logits_grad(s, y, pos_weight=pos_weight)
    # For y = 0.5 the two terms of the exact formula cancel; compare absolutely there. For a
    # hard label one term is 0 and tiny gradients (4e-18 at s = ±40) keep relative accuracy.
    assert got == pytest.approx(exact_bce_with_logits_grad(s, y, w), rel=1e-15,
                                abs=EPS if y == 0.5 else 0)
    # torch computes its backward as (1 + (w − 1)·y)·σ(s) − w·y, exact in absolute terms.
    np.testing.assert_allclose(got, torch_bce_with_logits_grad(s, y, pos_weight, "mean"),
                               rtol=RTOL, atol=ATOL)


def test_bce_with_logits_values_beyond_torchs_range():
    # Exact answers where the naive formula overflows.
    assert bce_with_logits(1e300, 0.0) == 1e300
    assert bce_with_logits(-1e300, 1.0) == 1e300
    assert bce_with_logits(1e300, 1.0) == 0.0
    assert bce_with_logits(-1e300, 1.0, pos_weight=3.0) == 3e300
    # With a soft label the loss of −1e308 is 1.5e308, inside the float64 range; torch's form
    # computes 2·1e308 first and returns inf (checked here so that the difference is known).
    assert bce_with_logits(-1e308, 0.5, pos_weight=3.0) == 1.5e308
    assert np.isinf(torch_bce_with_logits(-1e308, 0.5, 3.0, "mean"))
    # Tiny losses keep their relative accuracy (torch's form returns 0 for the first one).
    # (abs=0: pytest.approx's default absolute tolerance, 1e-12, would accept 0.0 here.)
    assert bce_with_logits(-40.0, 0.0) == pytest.approx(np.exp(-40.0), rel=1e-15, abs=0)
    assert bce_with_logits(-700.0, 0.0) == pytest.approx(np.exp(-700.0), rel=1e-15, abs=0)


def test_bce_with_logits_pos_weight_scales_only_positive_examples():
    s = np.array([-2.0, 0.5, 3.0])
    ones, zeros = np.ones(3), np.zeros(3)
    np.testing.assert_allclose(bce_with_logits(s, ones, pos_weight=4.0, reduction="none"),
                               4 * bce_with_logits(s, ones, reduction="none"), rtol=1e-15)
    np.testing.assert_array_equal(bce_with_logits(s, zeros, pos_weight=4.0, reduction="none"),
                                  bce_with_logits(s, zeros, reduction="none"))
    assert bce_with_logits(s, ones, pos_weight=0.0) == 0.0


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", POS_WEIGHTS)
def test_bce_with_logits_grad_matches_torch_autograd(reduction, pos_weight):
    s, y = random_logits(seed=8), random_labels(seed=9, soft=True)
    got = bce_with_logits_grad(s, y, pos_weight=pos_weight, reduction=reduction)
    np.testing.assert_allclose(got, torch_bce_with_logits_grad(s, y, pos_weight, reduction),
                               rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("pos_weight", [None, 2.5])
def test_bce_with_logits_grad_equals_central_differences(pos_weight):
    rng = np.random.default_rng(10)
    s, y = rng.uniform(-6, 6, 10), rng.uniform(0, 1, 10)
    for reduction in ("mean", "sum"):
        numeric = numerical_gradient(
            lambda v: bce_with_logits(v, y, pos_weight=pos_weight, reduction=reduction), s)
        np.testing.assert_allclose(
            bce_with_logits_grad(s, y, pos_weight=pos_weight, reduction=reduction), numeric,
            rtol=1e-7, atol=1e-10)


def test_bce_with_logits_grad_is_prediction_minus_label():
    rng = np.random.default_rng(11)
    s, y = 5 * rng.standard_normal(100), rng.uniform(0, 1, 100)
    np.testing.assert_allclose(bce_with_logits_grad(s, y, reduction="sum"), sigmoid(s) - y,
                               rtol=1e-14, atol=EPS)
    np.testing.assert_allclose(bce_with_logits_grad(s, y), (sigmoid(s) - y) / 100,
                               rtol=1e-14, atol=EPS)


# ======================================================================== logistic loss

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logistic_loss_equals_bce_with_logits_of_the_01_labels(reduction):
    s = random_logits(seed=12)
    t = np.random.default_rng(13).choice([-1.0, 1.0], s.size)
    np.testing.assert_allclose(logistic_loss(s, t, reduction=reduction),
                               bce_with_logits(s, (t + 1) / 2, reduction=reduction),
                               rtol=1e-15, atol=0)
    np.testing.assert_allclose(logistic_loss_grad(s, t, reduction=reduction),
                               bce_with_logits_grad(s, (t + 1) / 2, reduction=reduction),
                               rtol=1e-15, atol=0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_logistic_loss_and_grad_match_torch(reduction):
    s = random_logits(seed=14)
    t = np.random.default_rng(15).choice([-1.0, 1.0], s.size)

    def torch_logistic(s_t, t_t):  # −log σ(t·s) = log(1 + e^{−t s})
        per_example = -F.logsigmoid(t_t * s_t)
        return {"mean": per_example.mean, "sum": per_example.sum,
                "none": lambda: per_example}[reduction]()

    np.testing.assert_allclose(logistic_loss(s, t, reduction=reduction),
                               torch_value(torch_logistic, s, t), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(logistic_loss_grad(s, t, reduction=reduction),
                               torch_grad(torch_logistic, s, t), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("t", [-1.0, 1.0])
@pytest.mark.parametrize("s", EXTREME_LOGITS)
def test_logistic_loss_at_extreme_logits(s, t):
    got = logistic_loss(s, t)
    assert np.isfinite(got)
    assert got == pytest.approx(exact_bce_with_logits(s, (t + 1) / 2), rel=1e-14, abs=0)
    grad = logistic_loss_grad(s, t)
    assert grad == pytest.approx(-t * exact_sigmoid(-t * s), rel=1e-15, abs=0)


def test_logistic_loss_grad_equals_central_differences():
    rng = np.random.default_rng(16)
    s, t = rng.uniform(-6, 6, 10), rng.choice([-1.0, 1.0], 10)
    numeric = numerical_gradient(lambda v: logistic_loss(v, t), s)
    np.testing.assert_allclose(logistic_loss_grad(s, t), numeric, rtol=1e-7, atol=1e-10)


def test_logistic_loss_textbook_values():
    assert logistic_loss(0.0, 1) == pytest.approx(np.log(2), rel=1e-15)
    assert logistic_loss(-1000.0, 1) == 1000.0       # log(1 + e^1000) would be inf
    assert logistic_loss(1000.0, 1) == 0.0
    assert logistic_loss(-50.0, -1) == pytest.approx(np.exp(-50.0), rel=1e-15, abs=0)   # not 0


# ============================================================== reductions, shapes, types

LOSS_CALLS = {
    "bce": lambda a, b, **kw: bce(a, b, **kw),
    "bce_grad": lambda a, b, **kw: bce_grad(a, b, **kw),
    "bce_with_logits": lambda a, b, **kw: bce_with_logits(a, b, **kw),
    "bce_with_logits_grad": lambda a, b, **kw: bce_with_logits_grad(a, b, **kw),
    "logistic_loss": lambda a, b, **kw: logistic_loss(a, 2 * np.asarray(b) - 1, **kw),
    "logistic_loss_grad": lambda a, b, **kw: logistic_loss_grad(a, 2 * np.asarray(b) - 1, **kw),
}
FIRST_ARGUMENT = {"bce": "p", "bce_grad": "p"}  # the others take logits s


def small_batch(seed):
    """A 4×5 batch of predictions in (0, 1) (valid as p and as s) and 0/1 labels."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.01, 0.99, (4, 5)), rng.integers(0, 2, (4, 5)).astype(float)


@pytest.mark.parametrize("name", ["bce", "bce_with_logits", "logistic_loss"])
def test_reductions_are_mean_sum_and_none(name):
    fn = LOSS_CALLS[name]
    x, y = small_batch(17)
    each = fn(x, y, reduction="none")
    assert isinstance(each, np.ndarray) and each.shape == (4, 5) and each.dtype == np.float64
    total, mean = fn(x, y, reduction="sum"), fn(x, y)
    assert isinstance(total, np.float64) and isinstance(mean, np.float64)
    assert total == pytest.approx(each.sum(), rel=1e-15)
    assert mean == pytest.approx(each.sum() / 20, rel=1e-15)
    assert isinstance(fn(0.5, 1.0, reduction="none"), np.float64)


@pytest.mark.parametrize("name", ["bce_grad", "bce_with_logits_grad", "logistic_loss_grad"])
def test_gradient_reductions(name):
    fn = LOSS_CALLS[name]
    x, y = small_batch(18)
    each = fn(x, y, reduction="none")
    np.testing.assert_array_equal(fn(x, y, reduction="sum"), each)
    np.testing.assert_allclose(fn(x, y), each / 20, rtol=1e-15)


@pytest.mark.parametrize("name", list(LOSS_CALLS))
def test_a_scalar_label_broadcasts(name):
    fn = LOSS_CALLS[name]
    x = np.array([0.2, 0.4, 0.9])
    for reduction in REDUCTIONS:
        np.testing.assert_array_equal(fn(x, 1.0, reduction=reduction),
                                      fn(x, np.ones(3), reduction=reduction))


def test_gradient_of_a_broadcast_logit_is_summed_as_autograd_does():
    # One shared logit (a bias-only model) against many labels.
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    b = 0.3
    for reduction in ("mean", "sum"):
        def torch_loss(b_t, y_t):
            return F.binary_cross_entropy_with_logits(b_t.expand(5), y_t, reduction=reduction)
        got = bce_with_logits_grad(b, y, reduction=reduction)
        assert isinstance(got, np.float64)
        assert got == pytest.approx(float(torch_grad(torch_loss, b, y)), rel=1e-14)
    assert bce_with_logits_grad(b, y, reduction="none").shape == (5,)


@pytest.mark.parametrize("name", list(LOSS_CALLS))
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int64, bool])
def test_any_numeric_dtype_is_computed_in_float64(name, dtype):
    fn = LOSS_CALLS[name]
    x = np.array([0.25, 0.5, 0.75], dtype=np.float16)
    x = x.astype(dtype) if dtype is not bool else np.array([True, False, True])
    y = np.array([1, 0, 1], dtype=dtype)
    got = fn(x, y, reduction="none")
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, fn(x.astype(np.float64), y.astype(np.float64),
                                          reduction="none"))
    np.testing.assert_array_equal(fn([0.25, 0.5], [1, 0]),
                                  fn(np.array([0.25, 0.5]), np.array([1.0, 0.0])))


def test_inputs_are_not_modified():
    p, y, s = np.array([0.0, 0.5, 1.0]), np.array([1.0, 0.5, 0.0]), np.array([-1e300, 0.0, 5.0])
    copies = p.copy(), y.copy(), s.copy()
    bce(p, y), bce_grad(p, y), bce_with_logits(s, y, pos_weight=2.0)
    bce_with_logits_grad(s, y, pos_weight=2.0), logistic_loss(s, 2 * y.round() - 1)
    for original, copy in zip((p, y, s), copies):
        np.testing.assert_array_equal(original, copy)


# ========================================================================== bad input

@pytest.mark.parametrize("name", list(LOSS_CALLS))
def test_mismatched_shapes_name_both_arguments(name):
    first = FIRST_ARGUMENT.get(name, "s")
    second = "t" if name.startswith("logistic") else "y"
    with pytest.raises(ValueError, match=rf"{first} has shape \(3,\) and {second} has shape "
                                         r"\(4,\); they must have the same shape"):
        LOSS_CALLS[name](np.full(3, 0.5), np.ones(4))
    # (N, 1) against (N,) would silently become an (N, N) table of losses
    with pytest.raises(ValueError, match=r"shape \(3, 1\).*would broadcast to \(3, 3\)"):
        LOSS_CALLS[name](np.full((3, 1), 0.5), np.ones(3))


@pytest.mark.parametrize("name", list(LOSS_CALLS))
def test_empty_nan_text_and_reduction_are_refused(name):
    fn, first = LOSS_CALLS[name], FIRST_ARGUMENT.get(name, "s")
    second = "t" if name.startswith("logistic") else "y"
    with pytest.raises(ValueError, match=f"{first} is empty"):
        fn([], [])
    with pytest.raises(ValueError, match=rf"{first} contains NaN.*{first}\[1\] = nan"):
        fn([0.5, np.nan], [1.0, 1.0])
    with pytest.raises(ValueError, match=rf"{second} contains NaN"):
        fn([0.5, 0.5], [1.0, np.nan])
    with pytest.raises(TypeError, match=f"{first} must be a number"):
        fn("0.5", 1.0)
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none', "
                                         "not 'average'"):
        fn(0.5, 1.0, reduction="average")
    with pytest.raises(ValueError, match="reduction must be one of"):
        fn(0.5, 1.0, reduction=None)


@pytest.mark.parametrize("fn", [bce, bce_grad])
@pytest.mark.parametrize("bad", [-0.01, 1.01, 3.2, np.inf])
def test_probabilities_outside_the_unit_interval(fn, bad):
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\], but p\[1\] = .*"
                                         r"use bce_with_logits"):
        fn([0.5, bad], [1.0, 1.0])


@pytest.mark.parametrize("fn", [bce, bce_grad, bce_with_logits, bce_with_logits_grad])
@pytest.mark.parametrize("bad", [-1.0, 2.0, -np.inf])
def test_labels_outside_the_unit_interval(fn, bad):
    with pytest.raises(ValueError, match=r"y must lie in \[0, 1\], but y\[2\] ="):
        fn([0.5, 0.5, 0.5], [0.0, 1.0, bad])


@pytest.mark.parametrize("fn", [logistic_loss, logistic_loss_grad])
@pytest.mark.parametrize("bad", [0.0, 0.5, 2.0])
def test_pm1_labels_must_be_minus_one_or_one(fn, bad):
    with pytest.raises(ValueError, match=r"t must contain only the values \{-1, 1\}, but "
                                         r"t\[1\] = .*t = 2\*y - 1"):
        fn([0.5, 0.5], [1.0, bad])


@pytest.mark.parametrize("fn", [bce_with_logits, bce_with_logits_grad, logistic_loss,
                                logistic_loss_grad])
@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_logits_are_refused(fn, bad):
    with pytest.raises(ValueError, match=r"s must be finite, but s\[0\] = -?inf.*probability"):
        fn([bad, 0.0], [1.0, 1.0])


@pytest.mark.parametrize("fn", [bce_with_logits, bce_with_logits_grad])
def test_bad_pos_weight(fn):
    with pytest.raises(ValueError, match=r"pos_weight must be >= 0, but pos_weight = -2.0"):
        fn([0.0], [1.0], pos_weight=-2.0)
    with pytest.raises(ValueError, match="pos_weight must be finite"):
        fn([0.0], [1.0], pos_weight=np.inf)
    with pytest.raises(ValueError, match="pos_weight contains NaN"):
        fn([0.0], [1.0], pos_weight=np.nan)
    with pytest.raises(ValueError, match=r"pos_weight has shape \(3,\)"):
        fn(np.zeros((4, 2)), np.ones((4, 2)), pos_weight=np.ones(3))
    with pytest.raises(TypeError, match="pos_weight must be a number"):
        fn([0.0], [1.0], pos_weight="heavy")


# ============================================================ the validation helpers

def test_check_same_shape_broadcasts_to_the_larger_argument():
    a, b = validation.check_same_shape(a=np.zeros((2, 3)), b=np.arange(3.0))
    assert a.shape == b.shape == (2, 3)
    np.testing.assert_array_equal(b[1], [0.0, 1.0, 2.0])


def test_sum_to_shape_undoes_broadcasting():
    grad = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(validation.sum_to_shape(grad, (3,)), [3.0, 5.0, 7.0])
    np.testing.assert_array_equal(validation.sum_to_shape(grad, (2, 1)), [[3.0], [12.0]])
    assert validation.sum_to_shape(grad, ()) == 15.0
    np.testing.assert_array_equal(validation.sum_to_shape(grad, (2, 3)), grad)


def test_as_float_array_accepts_objects_that_are_numbers():
    from fractions import Fraction
    np.testing.assert_array_equal(validation.as_float_array([Fraction(1, 4), 2], "x"), [0.25, 2.0])
    with pytest.raises(ValueError, match="x contains a number too large"):
        validation.as_float_array(10**400, "x")
    with pytest.raises(TypeError, match="x must be a number or an array of numbers, not None"):
        validation.as_float_array(None, "x")
    assert validation.as_float_array([], "x", allow_empty=True).shape == (0,)


def test_docstring_examples():
    run_doctests(losses)
    run_doctests(validation)


# ======================================================================= properties

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
unit_floats = st.floats(min_value=0.0, max_value=1.0)


@PROPERTY
@given(finite_floats, unit_floats)
def test_bce_with_logits_is_nonnegative_and_bounded(s, y):
    loss = bce_with_logits(s, y)
    # each example costs at most softplus(|s|) <= |s| + log 2 (plus an ulp of rounding)
    assert loss >= 0.0
    # (written so that nothing overflows; 2ε relative slack for the rounding of each term)
    assert loss - abs(s) <= np.log(2) * (1 + 2 * EPS) + 2 * EPS * abs(s)


@PROPERTY
@given(finite_floats, st.sampled_from([-1.0, 1.0]))
def test_logistic_loss_equals_bce_with_logits_everywhere(s, t):
    assert logistic_loss(s, t) == bce_with_logits(s, (t + 1) / 2)
    assert logistic_loss_grad(s, t) == bce_with_logits_grad(s, (t + 1) / 2)


@PROPERTY
@given(finite_floats, unit_floats)
def test_flipping_the_logit_and_the_label_leaves_the_loss(s, y):
    # ℓ(s, y) = ℓ(−s, 1 − y): calling the other class positive changes nothing. 1 − (1 − y)
    # differs from y by up to ε/2, which moves the loss by up to ε·softplus(|s|).
    assert bce_with_logits(-s, 1.0 - y) == pytest.approx(bce_with_logits(s, y), rel=4 * EPS,
                                                         abs=EPS * (abs(s) + 1.0))


@PROPERTY
@given(finite_floats, unit_floats, st.floats(min_value=0.0, max_value=100.0))
def test_gradient_is_bounded_and_signed(s, y, w):
    grad = bce_with_logits_grad(s, y, pos_weight=w, reduction="sum")
    assert -w * y <= grad <= 1.0 - y
    if y == 1.0:
        assert grad <= 0.0     # a positive example always pushes its logit up


@PROPERTY
@given(st.floats(min_value=-5, max_value=5), unit_floats)
def test_bce_on_sigmoid_agrees_with_bce_with_logits(s, y):
    assert bce(sigmoid(s), y) == pytest.approx(bce_with_logits(s, y), rel=1e-12, abs=1e-15)


# ================================================================================ weight=
# The per-element weight of F.binary_cross_entropy(_with_logits), broadcasting included; the
# mean divides by the number of elements, not by the sum of the weights (as in PyTorch).

WEIGHT_SHAPES = [                      # (prediction shape, label shape, weight shape)
    ((6,), (6,), ()),                  # one scalar weight
    ((6,), (6,), (6,)),                # one weight per element
    ((4, 3), (4, 3), (3,)),            # one weight per column
    ((4, 3), (4, 3), (4, 1)),          # one weight per row
    ((4, 3), (4, 3), (1, 3)),
    ((4, 3), (3,), (4, 3)),            # broadcast labels and per-element weights
]


def _weighted_case(shapes, seed=0):
    s_shape, y_shape, w_shape = shapes
    rng = np.random.default_rng(seed)
    s = 4.0 * rng.standard_normal(s_shape)
    y = rng.integers(0, 2, y_shape).astype(float)
    weight = rng.uniform(0.0, 3.0, w_shape)
    return s, y, weight


@pytest.mark.parametrize("shapes", WEIGHT_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, 2.5])
def test_bce_with_logits_weight_matches_torch(shapes, reduction, pos_weight):
    s, y, weight = _weighted_case(shapes)
    st, yt = torch.tensor(s, requires_grad=True), torch.tensor(y).expand(s.shape)
    wt = torch.tensor(weight)
    pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    expected = F.binary_cross_entropy_with_logits(st, yt, weight=wt, pos_weight=pw, reduction=reduction)
    got = bce_with_logits(s, y, pos_weight=pos_weight, reduction=reduction, weight=weight)
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-13, atol=1e-15)
    grad_out = torch.ones_like(expected)
    (grad,) = torch.autograd.grad(expected, st, grad_out)
    got_grad = bce_with_logits_grad(s, y, pos_weight=pos_weight, reduction=reduction, weight=weight)
    if reduction == "none":                          # elementwise derivatives, as documented
        np.testing.assert_allclose(got_grad, grad.numpy(), rtol=1e-13, atol=1e-300)
    else:
        assert np.shape(got_grad) == s.shape
        np.testing.assert_allclose(got_grad, grad.numpy(), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("shapes", WEIGHT_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_weight_matches_torch(shapes, reduction):
    s, y, weight = _weighted_case(shapes, seed=1)
    p = sigmoid(s / 4.0)
    p.flat[0] = 0.0                                  # the clamp of log 0 at −100 too
    pt = torch.tensor(p, requires_grad=True)
    yt = torch.tensor(y).expand(p.shape)
    expected = F.binary_cross_entropy(pt, yt, weight=torch.tensor(weight).expand(p.shape),
                                      reduction=reduction)
    got = bce(p, y, reduction=reduction, weight=weight)
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-13, atol=1e-15)
    (grad,) = torch.autograd.grad(expected, pt, torch.ones_like(expected))
    np.testing.assert_allclose(bce_grad(p, y, reduction=reduction, weight=weight), grad.numpy(),
                               rtol=1e-13, atol=1e-300)


def test_weight_of_one_changes_nothing_and_zero_removes_an_element():
    s, y, _ = _weighted_case(((6,), (6,), ()), seed=2)
    p = sigmoid(s)
    for fn, x in ((bce, p), (bce_grad, p), (bce_with_logits, s), (bce_with_logits_grad, s)):
        np.testing.assert_array_equal(fn(x, y, reduction="sum", weight=1.0), fn(x, y, reduction="sum"))
        keep = np.array([1.0, 1.0, 1.0, 0.0, 1.0, 1.0])
        dropped = fn(x, y, reduction="none", weight=keep)
        assert dropped[3] == 0.0
        np.testing.assert_array_equal(np.delete(dropped, 3), np.delete(fn(x, y, reduction="none"), 3))
    # "mean" divides by the number of elements, as PyTorch does, not by the sum of the weights
    assert bce_with_logits(s, y, weight=2.0) == pytest.approx(2.0 * bce_with_logits(s, y), rel=1e-15)


@pytest.mark.parametrize("fn", [bce, bce_grad, bce_with_logits, bce_with_logits_grad])
@pytest.mark.parametrize("weight, message", [
    (-1.0, "weight"), (np.inf, "weight"), (np.nan, "weight"), (np.ones(5), "weight has shape"),
    ("heavy", None),
])
def test_bad_weights_are_refused(fn, weight, message):
    x = np.full(4, 0.25)
    error = TypeError if message is None else ValueError
    with pytest.raises(error, match=message):
        fn(x, np.zeros(4), weight=weight)
