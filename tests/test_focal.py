"""Tests of the focal loss in course_lib.losses: torch float64 autograd of the direct formula,
central differences, γ = 0 giving BCE, extreme logits, and the best constant prediction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.losses import (bce_with_logits, bce_with_logits_grad, focal_best_constant,
                               focal_loss_with_logits, focal_loss_with_logits_grad)


def direct_focal(s, y, gamma, alpha):
    """The textbook formula in torch float64: −α_t (1 − p_t)^γ log p_t with p_t from σ(s)."""
    p = torch.sigmoid(s)
    p_t = p * y + (1 - p) * (1 - y)
    a_t = 1.0 if alpha is None else alpha * y + (1 - alpha) * (1 - y)
    return -a_t * (1 - p_t) ** gamma * torch.log(p_t)


CASES = [(g, a) for g in (0.0, 0.5, 1.0, 2.0, 5.0) for a in (None, 0.25)]


@pytest.mark.parametrize("gamma, alpha", CASES)
def test_loss_and_gradient_match_torch_autograd(gamma, alpha):
    rng = np.random.default_rng(0)
    # |s| ≤ 12: beyond, the direct formula itself loses digits (1 − σ(25) cancels; see below)
    s = np.r_[rng.normal(scale=3.0, size=200), [-12.0, -8.0, 0.0, 8.0, 12.0]]
    y = np.r_[(rng.random(200) < 0.3).astype(float), [1.0, 0.0, 1.0, 1.0, 0.0]]
    st = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.float64)
    per = direct_focal(st, yt, gamma, alpha)
    np.testing.assert_allclose(focal_loss_with_logits(s, y, gamma, alpha, reduction="none"),
                               per.detach().numpy(), rtol=1e-9, atol=1e-300)
    per.mean().backward()
    np.testing.assert_allclose(focal_loss_with_logits_grad(s, y, gamma, alpha), st.grad.numpy(),
                               rtol=1e-8, atol=1e-300)
    assert float(focal_loss_with_logits(s, y, gamma, alpha)) == pytest.approx(float(per.detach().mean()), rel=1e-10)
    assert float(focal_loss_with_logits(s, y, gamma, alpha, reduction="sum")) == pytest.approx(
        float(per.detach().sum()), rel=1e-10)


@pytest.mark.parametrize("gamma, alpha", CASES)
def test_gradient_matches_central_differences(gamma, alpha):
    s = np.array([-7.0, -2.0, -0.3, 0.0, 0.4, 3.0, 9.0])
    for y in (0.0, 1.0):
        h = 1e-6
        numeric = [(float(focal_loss_with_logits(v + h, y, gamma, alpha)) -
                    float(focal_loss_with_logits(v - h, y, gamma, alpha))) / (2 * h) for v in s]
        analytic = focal_loss_with_logits_grad(s, np.full_like(s, y), gamma, alpha, reduction="none")
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-10)


def test_the_direct_formula_loses_digits_where_the_stable_one_does_not():
    exact = 25.0 + math.log1p(math.exp(-25.0))  # −log(1 − σ(25)) = softplus(25)
    direct = float(direct_focal(torch.tensor(25.0, dtype=torch.float64), torch.tensor(0.0, dtype=torch.float64), 0.0, None))
    assert float(focal_loss_with_logits(25.0, 0.0, 0.0)) == pytest.approx(exact, rel=1e-15)
    assert abs(direct - exact) > 1e-7 * exact


def test_gamma_zero_is_bce():
    rng = np.random.default_rng(1)
    s = rng.normal(scale=10.0, size=300)
    y = (rng.random(300) < 0.2).astype(float)
    np.testing.assert_allclose(focal_loss_with_logits(s, y, 0.0, reduction="none"),
                               bce_with_logits(s, y, reduction="none"), rtol=1e-14, atol=0)
    np.testing.assert_allclose(focal_loss_with_logits_grad(s, y, 0.0), bce_with_logits_grad(s, y),
                               rtol=1e-13, atol=0)


def test_extreme_logits_stay_finite_and_exact():
    s = np.array([1e300, -1e300, 1e4, -1e4, 800.0, -800.0])
    for y in (0.0, 1.0):
        loss = focal_loss_with_logits(s, np.full_like(s, y), 2.0, reduction="none")
        grad = focal_loss_with_logits_grad(s, np.full_like(s, y), 2.0, reduction="none")
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    # confidently right: nothing to learn; confidently wrong: loss −log p_t = |s|, gradient ∓1
    assert focal_loss_with_logits([1e300], [1.0], reduction="sum") == 0.0
    assert focal_loss_with_logits([-1e300], [1.0], reduction="sum") == 1e300
    assert focal_loss_with_logits([1e300], [0.0], 2.0, 0.25, reduction="sum") == 0.75e300
    np.testing.assert_array_equal(focal_loss_with_logits_grad([-1e300, 1e300], [1.0, 0.0], reduction="none"),
                                  [-1.0, 1.0])
    np.testing.assert_array_equal(focal_loss_with_logits_grad([1e300, -1e300], [1.0, 0.0], reduction="none"),
                                  [0.0, 0.0])
    # relative accuracy of a tiny loss: at m = 40, FL ≈ e^(−2·40)·e^(−40)
    assert float(focal_loss_with_logits(40.0, 1.0, 2.0)) == pytest.approx(math.exp(-120.0), rel=1e-12)


def test_focusing_shrinks_the_easy_examples_most():
    easy = float(focal_loss_with_logits(-4.0, 0.0, 2.0)) / float(bce_with_logits(-4.0, 0.0))
    hard = float(focal_loss_with_logits(4.0, 0.0, 2.0)) / float(bce_with_logits(4.0, 0.0))
    assert easy == pytest.approx(float(1 / (1 + math.exp(4.0))) ** 2, rel=1e-12)  # (1 − p_t)^γ
    assert easy < 1e-3 < 0.9 < hard < 1.0


def test_best_constant_is_the_base_rate_only_without_focusing():
    for pi in (0.0017, 0.01, 0.3):
        p, b = focal_best_constant(pi, gamma=0.0)
        assert p == pytest.approx(pi, rel=1e-10) and b == pytest.approx(math.log(pi / (1 - pi)), abs=1e-10)
    previous = 0.01
    for gamma in (0.5, 1.0, 2.0, 5.0):
        p, b = focal_best_constant(0.01, gamma)
        assert p > previous  # not π, and further from it as γ grows
        previous = p
        mean_loss = lambda c: 0.01 * float(focal_loss_with_logits(c, 1.0, gamma)) + 0.99 * float(
            focal_loss_with_logits(c, 0.0, gamma))
        slope = 0.01 * float(focal_loss_with_logits_grad(b, 1.0, gamma)) + 0.99 * float(
            focal_loss_with_logits_grad(b, 0.0, gamma))
        assert abs(slope) < 1e-10
        assert mean_loss(b) < mean_loss(b - 0.01) and mean_loss(b) < mean_loss(b + 0.01)
        assert mean_loss(b) < mean_loss(math.log(0.01 / 0.99))  # the base rate's logit is worse
    p2, _ = focal_best_constant(0.01, 2.0)
    assert 0.1 < p2 < 0.2  # measured 0.1536 for γ = 2, π = 0.01


def test_best_constant_with_alpha_by_brute_force():
    pi, gamma, alpha = 0.0017, 2.0, 0.25
    p, b = focal_best_constant(pi, gamma, alpha)
    grid = np.linspace(b - 0.5, b + 0.5, 2001)
    losses = pi * focal_loss_with_logits(grid, np.ones_like(grid), gamma, alpha, reduction="none") + \
        (1 - pi) * focal_loss_with_logits(grid, np.zeros_like(grid), gamma, alpha, reduction="none")
    assert grid[np.argmin(losses)] == pytest.approx(b, abs=1e-3)


@pytest.mark.parametrize("call, pattern", [
    (lambda: focal_loss_with_logits([0.0], [0.5]), "^y"),
    (lambda: focal_loss_with_logits([np.inf], [1.0]), "^s"),
    (lambda: focal_loss_with_logits([0.0], [1.0], gamma=-1.0), "gamma"),
    (lambda: focal_loss_with_logits([0.0], [1.0], alpha=1.5), "alpha"),
    (lambda: focal_loss_with_logits([0.0], [1.0], reduction="avg"), "reduction"),
    (lambda: focal_loss_with_logits_grad([0.0, 1.0], [1.0, 0.0, 1.0]), "shape|broadcast"),
    (lambda: focal_best_constant(0.0), "pi"),
    (lambda: focal_best_constant(1.2), "pi"),
])
def test_bad_input_is_explained(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
