"""Tests of course_lib.numerics: the naive formulas fail where and how the chapter says, and the
thresholds found by bisection are the exact boundaries (checked against their neighbours and
against the closed forms from the float formats)."""

import math

import numpy as np
import pytest

import course_lib.numerics as numerics
from course_lib.losses import bce_with_logits, logistic_loss
from course_lib.numerics import (
    exp_overflow_point,
    naive_bce,
    naive_logistic_loss,
    naive_sigmoid,
    one_minus_rounds_to_one,
    sigmoid_rounds_to_one,
    smallest_float_where,
)

from _reference import run_doctests

DTYPES = [np.float64, np.float32]
BREAKING = dict(over="ignore", invalid="ignore", divide="ignore")


def previous(x):
    return np.nextafter(x, type(x)(-np.inf))


def test_docstring_examples():
    run_doctests(numerics)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_rounds_to_one_is_the_exact_boundary(dtype):
    s = sigmoid_rounds_to_one(dtype)
    assert s.dtype == np.dtype(dtype)
    assert naive_sigmoid(s, dtype) == 1
    assert naive_sigmoid(previous(s), dtype) < 1
    # e^{−s} crosses half the spacing above 1: s ≈ (m + 1) log 2 with m fraction bits
    m = np.finfo(dtype).nmant
    assert float(s) == pytest.approx((m + 1) * math.log(2), abs=1e-5 if dtype is np.float32 else 1e-12)


def test_thresholds_have_the_values_the_chapter_states():
    assert round(float(sigmoid_rounds_to_one(np.float64)), 1) == 36.7
    assert round(float(sigmoid_rounds_to_one(np.float32)), 1) == 16.6
    assert round(float(exp_overflow_point(np.float64)), 2) == 709.78
    assert round(float(exp_overflow_point(np.float32)), 2) == 88.72


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_minus_rounds_to_one_is_the_exact_boundary(dtype):
    s = one_minus_rounds_to_one(dtype)
    one = np.dtype(dtype).type(1)
    assert one - np.exp(-s) == one
    assert one - np.exp(-previous(s)) < one
    assert s > sigmoid_rounds_to_one(dtype)  # a perfectly rounded σ holds out a little longer


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_overflow_point_is_the_exact_boundary(dtype):
    s = exp_overflow_point(dtype)
    with np.errstate(over="ignore"):
        assert np.isinf(np.exp(s))
    assert np.isfinite(np.exp(previous(s)))
    assert float(s) == pytest.approx(math.log(float(np.finfo(dtype).max)), rel=1e-6)


def test_smallest_float_where_finds_boundaries_across_zero_and_at_exact_values():
    assert float(smallest_float_where(lambda x: x >= 1.5, 0.0, 2.0)) == 1.5
    assert float(smallest_float_where(lambda x: x > -0.25, -1.0, 1.0)) == float(np.nextafter(-0.25, 1.0))
    x = smallest_float_where(lambda x: x > 0, -1.0, 1.0)
    assert x == np.nextafter(0.0, 1.0)  # the smallest subnormal
    x32 = smallest_float_where(lambda x: x >= 0.1, 0.0, 1.0, np.float32)
    assert x32 == np.float32(0.1) and x32.dtype == np.float32


@pytest.mark.parametrize("lo, hi, message", [
    (2.0, 1.0, "lo < hi"),
    (0.0, math.inf, "finite"),
    (3.0, 4.0, "already true"),
    (-2.0, -1.0, "false at hi"),
])
def test_smallest_float_where_refuses_bad_brackets(lo, hi, message):
    with pytest.raises(ValueError, match=message):
        smallest_float_where(lambda x: x >= 1.5 if x < 3 else True, lo, hi)


@pytest.mark.parametrize("dtype", [np.float16, np.int64, "float128x", "text"])
def test_only_float64_and_float32_are_accepted(dtype):
    with pytest.raises(ValueError, match="float64 or float32"):
        naive_sigmoid(1.0, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_naive_formulas_agree_with_the_stable_ones_in_the_safe_range(dtype):
    s = np.linspace(-10, 10, 41)
    y = (np.arange(41) % 2).astype(float)
    rtol = 1e-12 if dtype is np.float64 else 1e-3  # float32 log(1 − p) loses digits for small p
    np.testing.assert_allclose(naive_bce(s, y, dtype), bce_with_logits(s, y, reduction="none"), rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(naive_logistic_loss(s, 2 * y - 1, dtype),
                               logistic_loss(s, 2 * y - 1, reduction="none"), rtol=rtol, atol=1e-7)
    assert naive_bce(s, y, dtype).dtype == np.dtype(dtype)


def test_naive_bce_fails_as_the_chapter_says_in_float64():
    with np.errstate(**BREAKING):
        assert math.isinf(naive_bce(40.0, 0.0))   # true loss 40
        assert math.isnan(naive_bce(40.0, 1.0))   # 0·log 0
        assert math.isinf(naive_bce(-800.0, 1.0))  # exp(800) overflows, σ = 0, true loss 800
        assert math.isnan(naive_bce(-800.0, 0.0))
        assert math.isfinite(naive_bce(36.0, 0.0)) and math.isfinite(naive_bce(-700.0, 1.0))


def test_naive_bce_fails_earlier_in_float32():
    with np.errstate(**BREAKING):
        assert math.isinf(naive_bce(20.0, 0.0, np.float32))
        assert math.isinf(naive_bce(-100.0, 1.0, np.float32))
        assert math.isfinite(naive_bce(20.0, 0.0, np.float64))


def test_naive_logistic_loss_fails_as_the_chapter_says():
    with np.errstate(over="ignore"):
        assert math.isinf(naive_logistic_loss(-710.0, 1.0))
        assert math.isinf(naive_logistic_loss(-89.0, 1.0, np.float32))
    assert naive_logistic_loss(40.0, 1.0) == 0.0     # true value e^{−40} ≈ 4.2e−18
    assert float(logistic_loss(40.0, 1.0)) == pytest.approx(math.exp(-40), rel=1e-12, abs=0)


def test_naive_formulas_warn_unless_told_not_to():
    with pytest.warns(RuntimeWarning):
        naive_bce(40.0, 0.0)
    with pytest.warns(RuntimeWarning):
        naive_logistic_loss(-800.0, 1.0)


def test_naive_formulas_validate_their_inputs():
    with pytest.raises(ValueError, match="NaN"):
        naive_sigmoid(np.nan)
    with pytest.raises(ValueError, match="empty"):
        naive_bce([], [])
    with pytest.raises(TypeError):
        naive_logistic_loss("1", 1.0)


def test_naive_formulas_keep_shapes():
    out = naive_bce(np.zeros((2, 3)), 1.0)
    assert out.shape == (2, 3)
    assert isinstance(naive_sigmoid(0.0), np.float64)
    assert isinstance(naive_sigmoid(0.0, np.float32), np.float32)
