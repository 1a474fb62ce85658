"""Tests of course_lib.information against PyTorch's Bernoulli distribution (float64),
exact arithmetic, the identities that tie the three quantities together, and bad input."""

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.distributions import Bernoulli, kl_divergence

import course_lib.information as information
from course_lib.information import bernoulli_cross_entropy, bernoulli_entropy, bernoulli_kl
from course_lib.init import base_rate_entropy

from _reference import PROPERTY, exact_entropy, run_doctests

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
    # (exact_entropy works with 60 digits, so 1 − 1e−300 is 1 there: start at 1e−50.)
    for p in GRID[1:]:
        assert math.isclose(float(bernoulli_entropy(p)), exact_entropy(p), rel_tol=1e-12)
    # H(p) ≈ p·(1 − log p) for tiny p
    assert float(bernoulli_entropy(1e-300)) == pytest.approx(1e-300 * (1 - math.log(1e-300)), rel=1e-12)


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


def exact_kl(p: float, q: float) -> float:
    """KL(p‖q) from its definition in 60-digit decimal arithmetic (0 < p, q < 1)."""
    with localcontext() as ctx:
        ctx.prec = 60
        a, b = Decimal(p), Decimal(q)
        return float(a * (a / b).ln() + (1 - a) * ((1 - a) / (1 - b)).ln())


def test_kl_matches_exact_values_at_the_ends():
    for p in GRID:
        for q in GRID:
            expected = exact_kl(float(p), float(q))
            assert float(bernoulli_kl(p, q)) == pytest.approx(expected, rel=1e-9, abs=1e-15), (p, q)


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
    p, delta = 0.3, 1e-9
    expected = delta**2 / (2 * p * (1 - p))
    assert float(bernoulli_kl(p, p + delta)) == pytest.approx(expected, rel=1e-3)


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
