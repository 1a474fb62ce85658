"""Tests of course_lib.functional against PyTorch (float64), exact arithmetic and properties."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import course_lib.functional as functional
from course_lib.functional import log_sigmoid, logit, sigmoid, sigmoid_grad, softplus
from course_lib.gradcheck import numerical_gradient

from _reference import (
    ATOL,
    EXTREME_LOGITS_FUNCTIONAL,
    PROPERTY,
    RTOL,
    exact_log_sigmoid,
    exact_logit,
    exact_sigmoid,
    exact_sigmoid_grad,
    exact_softplus,
    run_doctests,
    torch_grad,
    torch_value,
)

EPS = np.finfo(np.float64).eps  # 2.22e-16, the gap between 1 and the next float64

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
FUNCTIONS_OF_LOGITS = [sigmoid, log_sigmoid, softplus, sigmoid_grad]


def random_logits(n=2000, seed=0):
    """Logits of every size: standard normal, wide normal, and log-uniform magnitudes to 1e300."""
    rng = np.random.default_rng(seed)
    magnitudes = 10.0 ** rng.uniform(-300, 300, n)
    return np.concatenate([rng.standard_normal(n), 30 * rng.standard_normal(n),
                           magnitudes * rng.choice([-1.0, 1.0], n)])


# -------------------------------------------------------------------------- against PyTorch

@pytest.mark.parametrize("ours, theirs", [(sigmoid, torch.sigmoid), (log_sigmoid, F.logsigmoid)])
def test_matches_torch_on_random_logits(ours, theirs):
    s = random_logits()
    np.testing.assert_allclose(ours(s), torch_value(theirs, s), rtol=1e-14, atol=0)


def test_softplus_matches_torch_on_random_logits():
    s = random_logits()
    # torch's softplus returns s itself for s > 20 (its threshold), an error of up to
    # e^{-20} ≈ 2e-9 there. Below the threshold compare directly; above it use the identity
    # softplus(s) = s + softplus(−s), where torch's softplus(−s) is exact.
    low = s <= 20
    np.testing.assert_allclose(softplus(s[low]), torch_value(F.softplus, s[low]), rtol=1e-14)
    high = s[~low]
    np.testing.assert_allclose(softplus(high), high + torch_value(F.softplus, -high), rtol=1e-15)
    assert np.any(np.abs(torch_value(F.softplus, high) - softplus(high)) > 1e-12)  # the threshold


def test_sigmoid_grad_matches_torch_autograd():
    s = random_logits(seed=1)
    # torch's backward computes σ·(1 − σ), which for s > 0 loses the relative accuracy of small
    # values (1 − σ cancels; it is exactly 0 from s ≈ 36.7): its absolute error stays below ε.
    np.testing.assert_allclose(sigmoid_grad(s), torch_grad(torch.sigmoid, s), rtol=1e-13, atol=EPS)
    # Ours keeps the relative accuracy: compare a sample with exact values.
    sample = s[::30]
    exact = np.array([exact_sigmoid_grad(x) for x in sample])
    np.testing.assert_allclose(sigmoid_grad(sample), exact, rtol=1e-14, atol=0)


def test_logit_matches_torch_on_random_probabilities():
    p = np.random.default_rng(2).uniform(0, 1, 5000)
    # torch computes log(p / (1 − p)), which loses relative accuracy near p = 1/2 (the result
    # is near 0): compare with an absolute tolerance there.
    np.testing.assert_allclose(logit(p), torch_value(torch.logit, p), rtol=1e-13, atol=1e-15)


def test_logit_endpoints_are_infinite_as_in_torch():
    p = np.array([0.0, 1.0])
    np.testing.assert_array_equal(logit(p), [-np.inf, np.inf])
    np.testing.assert_array_equal(logit(p), torch_value(torch.logit, p))


# --------------------------------------------------------------------------------- extremes

@pytest.mark.parametrize("s", EXTREME_LOGITS_FUNCTIONAL)
@pytest.mark.parametrize("ours, exact", [
    (sigmoid, exact_sigmoid),
    (log_sigmoid, exact_log_sigmoid),
    (softplus, exact_softplus),
    (sigmoid_grad, exact_sigmoid_grad),
])
def test_extreme_logits_against_exact_values(ours, exact, s):
    # Decimal arithmetic is the reference here: torch is exact at some of these points but not
    # all (its softplus returns s itself for s > 20, a relative error below 1e-17).
    got = ours(s)
    assert np.isfinite(got)
    assert got == pytest.approx(exact(s), rel=1e-15, abs=0)


@pytest.mark.parametrize("ours, theirs", [
    (sigmoid, torch.sigmoid), (log_sigmoid, F.logsigmoid), (softplus, F.softplus),
])
def test_extreme_logits_against_torch(ours, theirs):
    # Between the threshold of torch's softplus (20) and beyond, torch's values are exact to
    # float64 rounding at these points, including ±1e308, so a tight tolerance applies.
    s = np.array(EXTREME_LOGITS_FUNCTIONAL)
    np.testing.assert_allclose(ours(s), torch_value(theirs, s), rtol=1e-15, atol=0)


def test_textbook_values_at_the_breaking_points():
    assert log_sigmoid(-1000.0) == -1000.0            # log(sigmoid(-1000)) would be -inf
    assert log_sigmoid(-1e300) == -1e300
    assert softplus(1e300) == 1e300                    # log(1 + exp(1e300)) would be inf
    # abs=0: pytest.approx's default absolute tolerance (1e-12) would accept 0.0 for all of these.
    assert softplus(-700.0) == pytest.approx(math.exp(-700.0), rel=1e-15, abs=0)   # not 0
    assert sigmoid(-700.0) == pytest.approx(math.exp(-700.0) / (1 + math.exp(-700.0)), rel=1e-15,
                                            abs=0)
    assert sigmoid(-1e308) == 0.0 and sigmoid(1e308) == 1.0
    assert log_sigmoid(40.0) == pytest.approx(-math.exp(-40.0), rel=1e-15, abs=0)  # not 0
    assert sigmoid_grad(40.0) == pytest.approx(math.exp(-40.0), rel=1e-12, abs=0)  # σ(1 − σ) gives 0


def test_sigmoid_rounds_to_one_where_the_course_says():
    # σ(s) becomes exactly 1.0 in float64 from about s = 36.7 (chapter 3's claim).
    assert sigmoid(36.0) < 1.0
    assert sigmoid(37.5) == 1.0
    assert sigmoid(-37.5) > 0.0


def test_infinite_logits_give_the_limits():
    s = np.array([-np.inf, np.inf])
    np.testing.assert_array_equal(sigmoid(s), [0.0, 1.0])
    np.testing.assert_array_equal(log_sigmoid(s), [-np.inf, 0.0])
    np.testing.assert_array_equal(softplus(s), [0.0, np.inf])
    np.testing.assert_array_equal(sigmoid_grad(s), [0.0, 0.0])
    np.testing.assert_array_equal(sigmoid(logit([0.0, 1.0])), [0.0, 1.0])


def test_no_warnings_at_extremes():
    # An overflow, a division by zero or an invalid operation would raise here (underflow is
    # allowed: e^{-800} rounding to 0 is the right float64 answer).
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        for fn in FUNCTIONS_OF_LOGITS:
            fn(np.array(EXTREME_LOGITS_FUNCTIONAL))
        logit(np.array([0.0, 1e-300, 0.25, 0.5, 1.0]))


@pytest.mark.parametrize("p", [1e-300, 1e-17, 1e-5, 0.1, 0.2499, 0.25, 0.3, 0.5 + 2**-40,
                               0.7, 0.9, 1 - 1e-10, 1 - 2**-52])
def test_logit_against_exact_values(p):
    assert logit(p) == pytest.approx(exact_logit(p), rel=4 * EPS, abs=0)


def test_logit_near_one_half_keeps_relative_accuracy():
    p = 0.5 + 2.0**-40            # exactly representable; logit(p) ≈ 4·2^-40
    assert logit(p) == pytest.approx(exact_logit(p), rel=4 * EPS, abs=0)
    assert logit(0.5) == 0.0


# --------------------------------------------------------------------- gradient consistency

def test_sigmoid_grad_equals_central_differences():
    s = np.array([-30.0, -5.0, -1.0, 0.0, 0.5, 3.0, 12.0])
    numeric = np.array([numerical_gradient(lambda v: float(sigmoid(v)), x) for x in s])
    # Central differences with h = 1e-5 carry a rounding error of about ε·|f|/h ≈ 1e-11.
    np.testing.assert_allclose(sigmoid_grad(s), numeric, rtol=1e-7, atol=1e-10)


def test_sigmoid_grad_never_exceeds_one_quarter_near_zero():
    # σ'(s) = 1/4 − s²/16 + … rounds to exactly 0.25 for |s| below about 1e-7, but the formula
    # e/(1 + e)² rounds one ulp above it (0.25000000000000006) for many |s| near 1.5e-8. The
    # property test above draws such s only by luck: test the whole band, as the range 0 ≤ σ' ≤ 1/4
    # the chapters state (each σ′ ≤ ¼) requires.
    s = np.concatenate([np.linspace(-1e-7, 1e-7, 200_001), np.geomspace(1e-12, 1e-6, 20_001)])
    e = np.exp(-np.abs(s))
    assert np.any(e / (1.0 + e) ** 2 > 0.25)       # the band really holds such s
    grad = sigmoid_grad(s)
    assert np.all((grad <= 0.25) & (grad >= 0.25 - s**2 / 16 - EPS))
    assert float(sigmoid_grad(1.4901e-08)) == 0.25


def test_derivatives_of_log_sigmoid_and_softplus():
    # d/ds log σ(s) = σ(−s) and d/ds softplus(s) = σ(s)
    s = np.linspace(-8, 8, 17)
    np.testing.assert_allclose(torch_grad(F.logsigmoid, s), sigmoid(-s), rtol=1e-14)
    # f is a sum of 17 terms of size up to 8: its rounding error over 2h is about 1e-9.
    np.testing.assert_allclose(numerical_gradient(lambda v: softplus(v).sum(), s), sigmoid(s),
                               rtol=1e-7, atol=1e-8)


# -------------------------------------------------------------------- input types and shapes

@pytest.mark.parametrize("fn", FUNCTIONS_OF_LOGITS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64])
def test_any_numeric_dtype_gives_float64(fn, dtype):
    s = np.array([-3, 0, 2], dtype=dtype)
    out = fn(s)
    assert out.dtype == np.float64 and out.shape == (3,)
    np.testing.assert_array_equal(out, fn(s.astype(np.float64)))


@pytest.mark.parametrize("fn", FUNCTIONS_OF_LOGITS)
def test_scalars_lists_bools_and_shapes(fn):
    scalar = fn(1.5)
    assert isinstance(scalar, np.float64)
    assert fn([1.5]).shape == (1,)
    assert fn([[1.0, 2.0], [3.0, 4.0]]).shape == (2, 2)
    np.testing.assert_array_equal(fn([True, False]), fn([1.0, 0.0]))
    assert fn(np.float32(1.5)) == scalar and fn(3) == fn(3.0)


def test_logit_accepts_types_and_returns_float64():
    assert isinstance(logit(0.3), np.float64)
    assert logit(np.array([0.25], dtype=np.float32)).dtype == np.float64
    assert logit(True) == np.inf


def test_functions_do_not_modify_their_input():
    s = np.array([-1000.0, -1.0, 0.0, 2.0, 1e300])
    before = s.copy()
    for fn in FUNCTIONS_OF_LOGITS:
        fn(s)
    np.testing.assert_array_equal(s, before)


# ------------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("fn", FUNCTIONS_OF_LOGITS)
def test_nan_empty_and_text_are_refused(fn):
    with pytest.raises(ValueError, match=r"s contains NaN.*s\[1\] = nan"):
        fn([0.0, np.nan])
    with pytest.raises(ValueError, match="s is empty"):
        fn([])
    with pytest.raises(TypeError, match="s must be a number"):
        fn("1.0")
    with pytest.raises(TypeError, match="s must be a number"):
        fn([1.0, None])
    with pytest.raises(TypeError, match="s must contain real numbers"):
        fn(1 + 2j)
    with pytest.raises(ValueError, match="s could not be read as a rectangular array"):
        fn([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("bad", [-0.1, 1.5, -np.inf, np.inf])
def test_logit_refuses_values_outside_the_unit_interval(bad):
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\], but p\[1\] ="):
        logit([0.5, bad])


def test_logit_refuses_nan_and_empty():
    with pytest.raises(ValueError, match="p contains NaN"):
        logit(np.nan)
    with pytest.raises(ValueError, match="p is empty"):
        logit(np.zeros((0, 2)))


def test_docstring_examples():
    run_doctests(functional)


# --------------------------------------------------------------------- properties (hypothesis)

@PROPERTY
@given(finite_floats)
def test_sigmoid_symmetry(s):
    # σ(−s) = 1 − σ(s); computing 1 − σ(s) costs at most one rounding of a number near 1.
    assert abs(sigmoid(-s) - (1.0 - sigmoid(s))) <= EPS
    assert abs(sigmoid(s) + sigmoid(-s) - 1.0) <= EPS


@PROPERTY
@given(finite_floats)
def test_ranges(s):
    assert 0.0 <= sigmoid(s) <= 1.0
    assert log_sigmoid(s) <= 0.0
    assert softplus(s) >= max(s, 0.0)
    assert 0.0 <= sigmoid_grad(s) <= 0.25


@PROPERTY
@given(finite_floats)
def test_softplus_difference_is_the_identity(s):
    # softplus(s) − softplus(−s) = s, exactly in real arithmetic
    assert abs(softplus(s) - softplus(-s) - s) <= 4 * EPS * (abs(s) + 1.0)


@PROPERTY
@given(finite_floats)
def test_log_sigmoid_difference_is_the_identity(s):
    # log σ(s) − log σ(−s) = log(e^{s}) = s
    assert abs(log_sigmoid(s) - log_sigmoid(-s) - s) <= 4 * EPS * (abs(s) + 1.0)


@PROPERTY
@given(finite_floats, finite_floats)
def test_sigmoid_is_monotone(a, b):
    lo, hi = min(a, b), max(a, b)
    assert sigmoid(lo) <= sigmoid(hi)
    assert log_sigmoid(lo) <= log_sigmoid(hi)


@PROPERTY
@given(st.floats(min_value=-30, max_value=30))
def test_logit_inverts_sigmoid(s):
    # σ(s) carries a rounding error of about ε relative; logit magnifies it by 1/(1 − p),
    # which is about e^{s} for large s: the bound reflects that conditioning, nothing looser.
    assert abs(logit(sigmoid(s)) - s) <= 4 * EPS * (math.exp(s) + abs(s) + 1.0)


@PROPERTY
@given(st.floats(min_value=0.0, max_value=1.0))
def test_sigmoid_inverts_logit(p):
    # logit(p) carries an absolute error of about ε·|logit(p)|, which σ turns into a relative
    # error of the same size (σ'(s)/σ(s) ≤ 1): for p = 1e-91, logit(p) ≈ −208.
    x = logit(p)
    bound = 4 * EPS * (1.0 + abs(x)) if np.isfinite(x) else 0.0
    assert sigmoid(x) == pytest.approx(p, rel=bound, abs=0)
