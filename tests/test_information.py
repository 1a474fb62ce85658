"""Tests of course_lib.information against PyTorch's Bernoulli distribution (float64),
exact arithmetic, the identities that tie the three quantities together, and bad input."""

import math
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.distributions import Bernoulli, kl_divergence

import course_lib.information as information
from course_lib.information import bernoulli_cross_entropy, bernoulli_entropy, bernoulli_kl
from course_lib.init import base_rate_entropy

from _reference import PROPERTY, exact_entropy, exact_kl, run_doctests

FRAUD_RATE = 492 / 284807
#: Probabilities from the middle and from both ends of [0, 1].
GRID = np.array([1e-300, 1e-50, 1e-10, FRAUD_RATE, 0.1, 0.3, 0.5, 0.7, 0.9, 1 - 1e-10])
#: Where torch's Bernoulli (which clamps its probabilities to [eps, 1 − eps]) is accurate.
MIDDLE = GRID[3:-1]
probabilities = st.floats(min_value=0.0, max_value=1.0)
inner = st.floats(min_value=1e-12, max_value=1 - 1e-12)


def torch_bernoulli(p):
    return Bernoulli(probs=torch.tensor(np.asarray(p, dtype=np.float64), dtype=torch.float64))


def test_docstring_examples():
    run_doctests(information)


def test_entropy_is_the_base_rate_entropy():
    np.testing.assert_array_equal(bernoulli_entropy(GRID), base_rate_entropy(GRID))


def test_entropy_matches_torch_and_exact_values():
    # torch's Bernoulli works through clamped logits, accurate only away from 0 and 1.
    expected_torch = torch_bernoulli(MIDDLE).entropy().numpy()
    np.testing.assert_allclose(bernoulli_entropy(MIDDLE), expected_torch, rtol=1e-10)
    # abs_tol=0 everywhere: the values at the small end are far below pytest.approx's default
    # absolute tolerance of 1e-12, which would pass anything there (0.0 included).
    for p in GRID:
        assert math.isclose(float(bernoulli_entropy(p)), exact_entropy(p), rel_tol=1e-12, abs_tol=0)
    # H(p) = p·(1 − log p) + O(p²) for tiny p
    assert math.isclose(float(bernoulli_entropy(1e-300)), 1e-300 * (1 - math.log(1e-300)),
                        rel_tol=1e-12, abs_tol=0)


def test_entropy_end_points_and_maximum():
    np.testing.assert_array_equal(bernoulli_entropy([0.0, 1.0]), [0.0, 0.0])
    assert float(bernoulli_entropy(0.5)) == pytest.approx(math.log(2), rel=1e-15)


def test_cross_entropy_matches_torch_binary_cross_entropy_with_soft_target():
    # torch's BCE(input=q, target=p) is −p log q − (1 − p) log(1 − q), its logs clamped at −100
    # (irrelevant for q >= 1e-10).
    p, q = np.meshgrid(GRID, GRID[2:-1])
    expected = torch.nn.functional.binary_cross_entropy(
        torch.tensor(q), torch.tensor(p), reduction="none").numpy()
    np.testing.assert_allclose(bernoulli_cross_entropy(p, q), expected, rtol=1e-10, atol=1e-12)


def test_kl_matches_torch_kl_divergence():
    p, q = np.meshgrid(MIDDLE, MIDDLE)
    expected = kl_divergence(torch_bernoulli(p), torch_bernoulli(q)).numpy()
    np.testing.assert_allclose(bernoulli_kl(p, q), expected, rtol=1e-9, atol=1e-14)


def test_kl_matches_exact_values_at_the_ends():
    for p in GRID:
        for q in GRID:
            expected = exact_kl(float(p), float(q))
            assert math.isclose(float(bernoulli_kl(p, q)), expected, rel_tol=1e-14, abs_tol=0), (p, q)


#: q − p from 1e−12 to 0.5, where the definition's two terms cancel more and more.
DELTAS = [10.0**-k for k in range(12, 0, -1)] + [0.25, 0.5]
TINY = np.finfo(np.float64).tiny   # the smallest normal float, 2.2e-308


@pytest.mark.parametrize("p", [1e-300, 1e-10, FRAUD_RATE, 0.25, 0.3, 0.5, 0.7, 0.9, 1 - 1e-10])
def test_kl_of_nearby_distributions_matches_exact_values(p):
    # exact_kl evaluates the definition at 500 digits; bernoulli_kl must keep the relative
    # accuracy of a tiny divergence (KL ≈ δ²/(2p(1 − p)) down to 1e−24 and below), which the
    # definition in float64, or H(p, q) − H(p), loses completely. No absolute tolerance.
    for delta in DELTAS:
        for step in (delta, delta * p, delta * (1 - p)):   # absolute and relative steps
            for q in (p + step, p - step):
                if 0.0 <= q <= 1.0 and q != p:
                    expected = exact_kl(p, q)
                    # (below the normal range, for p = 1e-300, only absolute accuracy is left)
                    atol = 0.0 if expected >= TINY else TINY
                    assert math.isclose(float(bernoulli_kl(p, q)), expected, rel_tol=1e-14,
                                        abs_tol=atol), (p, q)


@PROPERTY
@given(p=probabilities, q=probabilities)
def test_kl_matches_exact_values_everywhere(p, q):
    expected = exact_kl(p, q)
    got = float(bernoulli_kl(p, q))
    if math.isinf(expected) or expected == 0.0:
        assert got == expected
    else:   # a subnormal result keeps only its absolute accuracy
        assert math.isclose(got, expected, rel_tol=1e-14, abs_tol=0 if expected >= TINY else TINY)


def test_cross_entropy_of_a_label_is_the_bce_of_one_example():
    assert float(bernoulli_cross_entropy(1.0, 0.8)) == pytest.approx(-math.log(0.8), rel=1e-15)
    assert float(bernoulli_cross_entropy(0.0, 0.8)) == pytest.approx(-math.log(0.2), rel=1e-14)


def test_conventions_zero_log_zero_and_infinities():
    assert float(bernoulli_cross_entropy(0.0, 0.0)) == 0.0
    assert float(bernoulli_cross_entropy(1.0, 1.0)) == 0.0
    assert float(bernoulli_kl(0.0, 0.0)) == 0.0
    assert float(bernoulli_kl(1.0, 1.0)) == 0.0
    with np.errstate(all="raise"):  # no warning may escape
        assert float(bernoulli_cross_entropy(0.5, 0.0)) == math.inf
        assert float(bernoulli_cross_entropy(0.5, 1.0)) == math.inf
        assert float(bernoulli_kl(1e-9, 0.0)) == math.inf
        assert float(bernoulli_kl(0.2, 1.0)) == math.inf
        assert float(bernoulli_kl(0.0, 1.0)) == math.inf
        assert float(bernoulli_kl(1.0, 0.0)) == math.inf
        assert float(bernoulli_kl(5e-324, 0.0)) == math.inf
        # a weight of 0: KL(0‖q) = −log(1 − q), KL(1‖q) = −log q
        assert float(bernoulli_kl(0.0, 0.25)) == pytest.approx(-math.log1p(-0.25), rel=1e-15, abs=0)
        assert float(bernoulli_kl(1.0, 0.25)) == pytest.approx(-math.log(0.25), rel=1e-15, abs=0)
        assert float(bernoulli_kl(0.0, 1e-20)) == pytest.approx(1e-20, rel=1e-15, abs=0)
        np.testing.assert_array_equal(bernoulli_kl([0.0, 1.0, 0.3], [0.0, 1.0, 0.3]), [0, 0, 0])


@PROPERTY
@given(p=probabilities, q=inner)
def test_cross_entropy_is_entropy_plus_kl(p, q):
    h, ce, kl = float(bernoulli_entropy(p)), float(bernoulli_cross_entropy(p, q)), float(bernoulli_kl(p, q))
    assert kl >= 0.0
    assert ce == pytest.approx(h + kl, rel=1e-9, abs=1e-12)


@PROPERTY
@given(p=probabilities)
def test_kl_is_zero_at_q_equal_p_and_cross_entropy_is_entropy(p):
    assert float(bernoulli_kl(p, p)) == 0.0
    assert float(bernoulli_cross_entropy(p, p)) == pytest.approx(float(bernoulli_entropy(p)), rel=1e-12, abs=1e-300)


def test_kl_is_not_symmetric():
    assert float(bernoulli_kl(0.1, 0.5)) != pytest.approx(float(bernoulli_kl(0.5, 0.1)), rel=1e-3)


def test_tiny_kl_keeps_its_accuracy():
    # KL(p‖p + δ) ≈ δ² / (2 p (1 − p)); computed as H(p, q) − H(p) it would be lost to rounding.
    # abs=0: the expected 2.4e-18 is far below pytest.approx's default absolute tolerance
    # (1e-12), which would accept 0.0.
    p, delta = 0.3, 1e-9
    expected = delta**2 / (2 * p * (1 - p))
    assert float(bernoulli_kl(p, p + delta)) == pytest.approx(expected, rel=1e-6, abs=0)


def test_best_constant_prediction_costs_the_entropy_of_the_base_rate():
    q = np.linspace(1e-4, 0.02, 20001)
    cost = bernoulli_cross_entropy(FRAUD_RATE, q)
    best = int(np.argmin(cost))
    assert abs(q[best] - FRAUD_RATE) <= q[1] - q[0]
    assert float(cost[best]) == pytest.approx(float(base_rate_entropy(FRAUD_RATE)), rel=1e-7)
    assert float(bernoulli_cross_entropy(FRAUD_RATE, FRAUD_RATE)) == pytest.approx(0.0127147, abs=5e-8)


def test_broadcasting_and_shapes():
    out = bernoulli_cross_entropy(0.3, [0.1, 0.5, 0.9])
    assert out.shape == (3,)
    assert isinstance(bernoulli_kl(0.3, 0.4), np.float64)
    assert bernoulli_entropy(np.full((2, 3), 0.5)).shape == (2, 3)


@pytest.mark.parametrize("function", [bernoulli_cross_entropy, bernoulli_kl])
@pytest.mark.parametrize("p, q, message", [
    (1.5, 0.5, "p must lie in"),
    (0.5, -0.1, "q must lie in"),
    (np.nan, 0.5, "NaN"),
    ([], 0.5, "empty"),
    ([0.1, 0.2], [0.1, 0.2, 0.3], "shape"),
    (np.zeros((3, 1)), np.zeros(3), "broadcast"),
])
def test_bad_input_raises_value_error(function, p, q, message):
    with pytest.raises(ValueError, match=message):
        function(p, q)


def test_text_raises_type_error():
    with pytest.raises(TypeError):
        bernoulli_entropy("0.5")
    with pytest.raises(TypeError):
        bernoulli_kl(0.5, "0.5")
