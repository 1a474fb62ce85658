"""Tests of course_lib.init: the prior bias and the entropy of the base rate."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import course_lib.init as init
from course_lib.functional import logit, sigmoid
from course_lib.init import base_rate_entropy, prior_bias, prior_bias_from_labels
from course_lib.losses import bce_with_logits, bce_with_logits_grad

from _reference import PROPERTY, exact_entropy, run_doctests

POS, NEG = 492, 284315          # frauds and legitimate transactions in creditcard.csv
N = POS + NEG                   # 284,807


def fraud_labels():
    y = np.zeros(N)
    y[:POS] = 1.0
    return y


# ------------------------------------------------------------------------------- the facts

def test_prior_bias_of_the_fraud_data():
    b0 = prior_bias(POS, NEG)
    assert isinstance(b0, np.float64)
    assert round(float(b0), 5) == -6.35936
    assert b0 == pytest.approx(math.log(POS / NEG), rel=1e-15)
    assert sigmoid(b0) == pytest.approx(POS / N, rel=1e-14)    # it does what it promises
    assert b0 == pytest.approx(logit(POS / N), rel=1e-14)       # the logit of the base rate


def test_base_rate_entropy_of_the_fraud_data_and_the_ln2_ratio():
    h = base_rate_entropy(POS / N)
    assert h == pytest.approx(0.0127147, abs=5e-8)
    assert math.log(2) / h == pytest.approx(54.5, abs=0.05)


def test_the_tensorflow_tutorials_rounded_value_is_the_entropy_of_0_0018():
    # The tutorial's "about 0.01317" is H(0.0018), the rounded rate, not H(492/284807).
    assert base_rate_entropy(0.0018) == pytest.approx(0.01317, abs=5e-6)
    assert abs(base_rate_entropy(0.0018) - base_rate_entropy(POS / N)) > 4e-4


def test_a_bias_only_model_at_the_prior_costs_the_entropy_and_is_stationary():
    y = fraud_labels()
    b0 = prior_bias_from_labels(y)
    assert b0 == prior_bias(POS, NEG)
    logits = np.full(N, b0)
    assert bce_with_logits(logits, y) == pytest.approx(base_rate_entropy(POS / N), rel=1e-12)
    # dL/db = mean(σ(b0) − y) = 0: b0 is the maximum-likelihood intercept
    assert abs(bce_with_logits_grad(b0, y)) < 1e-15
    assert bce_with_logits(np.zeros(N), y) == pytest.approx(math.log(2), rel=1e-14)


def test_retinanet_prior():
    # π = 0.01 gives b = −log((1 − π)/π) ≈ −4.595
    assert prior_bias(0.01, 0.99) == pytest.approx(-math.log(99), rel=1e-14)
    assert round(float(prior_bias(1, 99)), 3) == -4.595


# ------------------------------------------------------------------------------ prior_bias

def test_prior_bias_accepts_reals_arrays_and_extreme_ratios():
    assert prior_bias(1, 1) == 0.0
    assert prior_bias(2.5, 2.5) == 0.0
    np.testing.assert_allclose(prior_bias([1, 10, 100], 10), np.log([0.1, 1.0, 10.0]), rtol=1e-15)
    assert prior_bias(1000, 1001) == pytest.approx(-math.log1p(1 / 1000), rel=1e-14)
    # a ratio beyond the float64 range still gives the right log
    assert prior_bias(1e300, 1e-300) == pytest.approx(600 * math.log(10), rel=1e-15)
    assert prior_bias(1e-300, 1e300) == pytest.approx(-600 * math.log(10), rel=1e-15)


@pytest.mark.parametrize("pos, neg, name", [(0, 10, "pos"), (-3, 10, "pos"), (10, 0, "neg"),
                                            (10, -1.5, "neg")])
def test_prior_bias_refuses_counts_that_are_not_positive(pos, neg, name):
    with pytest.raises(ValueError, match=rf"{name} must be > 0, but {name} = .*both classes"):
        prior_bias(pos, neg)


def test_prior_bias_refuses_other_bad_input():
    with pytest.raises(ValueError, match="pos must be finite"):
        prior_bias(np.inf, 10)
    with pytest.raises(ValueError, match="neg contains NaN"):
        prior_bias(10, np.nan)
    with pytest.raises(TypeError, match="pos must be a number"):
        prior_bias("492", 284315)
    with pytest.raises(ValueError, match=r"pos has shape \(2,\) and neg has shape \(3,\)"):
        prior_bias([1, 2], [1, 2, 3])


def test_prior_bias_from_labels():
    assert prior_bias_from_labels([1, 0, 0, 0]) == pytest.approx(math.log(1 / 3), rel=1e-15)
    assert prior_bias_from_labels([True, False]) == 0.0
    assert prior_bias_from_labels(np.array([[1, 0], [0, 0]])) == pytest.approx(-math.log(3))


@pytest.mark.parametrize("labels, only, infinity", [([0, 0, 0], r"0 \(negative\)", "-inf"),
                                                    ([1, 1], r"1 \(positive\)", r"\+inf")])
def test_prior_bias_from_labels_of_one_class(labels, only, infinity):
    with pytest.raises(ValueError, match=rf"y contains only one class: all {len(labels)} labels "
                                         rf"are {only}.*{infinity}"):
        prior_bias_from_labels(labels)


def test_prior_bias_from_labels_bad_input():
    with pytest.raises(ValueError, match=r"y must contain only the values \{0, 1\}, but y\[1\]"):
        prior_bias_from_labels([1, 0.5, 0])
    with pytest.raises(ValueError, match="y is empty"):
        prior_bias_from_labels([])
    with pytest.raises(ValueError, match="y contains NaN"):
        prior_bias_from_labels([1, np.nan])


# ----------------------------------------------------------------------- base_rate_entropy

def test_entropy_at_the_ends_and_the_middle():
    np.testing.assert_array_equal(base_rate_entropy([0.0, 1.0]), [0.0, 0.0])   # no nan
    assert base_rate_entropy(0.5) == pytest.approx(math.log(2), rel=1e-15)
    assert isinstance(base_rate_entropy(0.3), np.float64)
    assert base_rate_entropy(np.array([0.1, 0.2], dtype=np.float32)).dtype == np.float64


@pytest.mark.parametrize("p", [1e-300, 1e-20, 1e-9, 0.0018, 492 / 284807, 0.1, 0.5, 0.9,
                               1 - 1e-9])
def test_entropy_against_exact_values(p):
    # abs=0: pytest.approx's default absolute tolerance (1e-12) would pass anything for small p.
    assert base_rate_entropy(p) == pytest.approx(exact_entropy(p), rel=1e-14, abs=0)


@pytest.mark.parametrize("bad", [-0.1, 1.1, np.inf])
def test_entropy_refuses_rates_outside_the_unit_interval(bad):
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\], but p\[1\] ="):
        base_rate_entropy([0.5, bad])


def test_entropy_refuses_nan_and_text():
    with pytest.raises(ValueError, match="p contains NaN"):
        base_rate_entropy(np.nan)
    with pytest.raises(TypeError, match="p must be a number"):
        base_rate_entropy("half")


def test_docstring_examples():
    run_doctests(init)


@PROPERTY
@given(st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=1.0))
def test_entropy_is_the_smallest_constant_prediction_loss(p, q):
    # −p ln q − (1 − p) ln(1 − q) >= H(p), with equality at q = p (Gibbs' inequality)
    h = base_rate_entropy(p)
    assert 0.0 <= h <= math.log(2) * (1 + 1e-15)
    # H(p) = H(1 − p), for a pair that sums to exactly 1 (1 − p itself may round)
    complement = 1.0 - p
    assert base_rate_entropy(complement) == pytest.approx(base_rate_entropy(1.0 - complement),
                                                          rel=1e-13, abs=1e-300)
    if 0.0 < q < 1.0:
        cross = bce_with_logits(logit(q), p)
        assert cross >= h * (1 - 1e-12)


# -- numbers the docstrings and chapter 4 state ----------------------------------------------------

def test_pytorch_default_output_bias_is_uniform_in_plus_minus_one_over_sqrt_fan_in():
    """PyTorch's nn.Linear does not start its bias at 0 (Keras does): a draw in ±1/√fan_in."""
    import torch

    with torch.random.fork_rng(devices=[]):
        biases = []
        for seed in range(200):
            torch.manual_seed(seed)
            biases.append(torch.nn.Linear(16, 1).bias.item())
    biases = np.array(biases)
    assert np.all(np.abs(biases) <= 0.25) and np.sum(biases != 0.0) == 200
    assert biases.min() < -0.2 and biases.max() > 0.2  # spread over the whole interval
    assert abs(biases.mean()) < 0.05 and biases.std() == pytest.approx(0.25 / math.sqrt(3), rel=0.15)


def test_prior_bias_ratio_form_is_more_accurate_than_the_difference_of_logs():
    """The docstring's advice: log(pos/neg) has an absolute error of ~1 unit roundoff, while
    log(pos) − log(neg) adds two rounded logs of size log(count) (measured against 50 digits)."""
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    worst_ratio, worst_difference = 0.0, 0.0
    for pos, neg in ((10**15 + 1, 10**15), (10**15 + 7, 10**15 - 3), (999_999_937, 1_000_000_007),
                     (492, 284_315), (3 * 10**14 + 1, 3 * 10**14)):
        exact = float((Decimal(pos) / Decimal(neg)).ln())
        worst_ratio = max(worst_ratio, abs(float(prior_bias(pos, neg)) - exact))
        worst_difference = max(worst_difference, abs(math.log(pos) - math.log(neg) - exact))
    assert worst_ratio <= 2.3e-16 and worst_difference > 2 * worst_ratio


def test_tutorial_rate_is_not_the_base_rate_rounded():
    """Chapter 4: 0.0018 is 4.2 % above π = 492/284,807 (two significant figures give 0.0017),
    and its entropy is 3.6 % above H(π): the relative error shrinks."""
    pi = 492 / 284_807
    assert f"{pi:.2g}" == "0.0017"
    assert round(100 * (0.0018 / pi - 1), 1) == 4.2
    assert round(100 * (base_rate_entropy(0.0018) / base_rate_entropy(pi) - 1), 1) == 3.6
    assert round(float(base_rate_entropy(0.0017)), 5) == 0.01254
