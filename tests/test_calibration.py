"""Tests of course_lib.calibration against scikit-learn, SciPy and small cases worked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss

from course_lib import calibration as cal
from course_lib.metrics import average_precision


def rare_problem(seed=0, n=20_000, rate=0.002):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(float)
    y[:3] = 1.0  # at least a few positives
    s = -6.0 + 3.0 * y + rng.normal(size=n)
    return y, s


def sigmoid(s):
    return 1.0 / (1.0 + np.exp(-s))


def test_base_rate_and_mean_predicted():
    assert cal.base_rate([0, 1, 0, 0]) == 0.25
    assert cal.mean_predicted([0.1, 0.2, 0.3, 0.0]) == pytest.approx(0.15)


def test_nll_matches_sklearn_and_hand_values():
    y, s = rare_problem()
    p = sigmoid(s)
    assert cal.nll(y, p) == pytest.approx(log_loss(y, p), rel=1e-12)
    assert cal.nll_from_logits(y, s) == pytest.approx(log_loss(y, p), rel=1e-10)
    assert cal.nll([1, 0], [0.5, 0.5]) == pytest.approx(math.log(2), rel=1e-15)
    assert cal.nll([1, 0], [0.8, 0.1]) == pytest.approx(-(math.log(0.8) + math.log(0.9)) / 2, rel=1e-15)
    assert cal.nll([1], [0.0]) == math.inf  # a certain mistake costs infinitely much
    assert cal.nll([0, 1], [0.0, 1.0]) == 0.0


def test_nll_from_logits_is_stable_at_extremes():
    assert cal.nll_from_logits([1, 0], [800.0, -800.0]) == 0.0
    assert cal.nll_from_logits([0], [800.0]) == pytest.approx(800.0)
    assert cal.nll_from_logits([1], [-40.0]) == pytest.approx(40.0 + math.log1p(math.exp(-40.0)), rel=1e-15)


def test_brier_matches_sklearn_and_constant_prediction():
    y, s = rare_problem()
    p = sigmoid(s)
    assert cal.brier_score(y, p) == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    pi = y.mean()
    assert cal.brier_score(y, np.full_like(y, pi)) == pytest.approx(pi * (1 - pi), rel=1e-12)
    assert cal.brier_score([1, 0], [1.0, 0.0]) == 0.0


def test_wilson_interval_matches_scipy_and_hand_values():
    for k, n in ((0, 10), (1, 10), (5, 10), (10, 10), (3, 2000), (0, 1)):
        lo, hi = cal.wilson_interval(k, n)
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert float(lo) == pytest.approx(ci.low, abs=1e-12)
        assert float(hi) == pytest.approx(ci.high, abs=1e-12)
    z = 1.959963984540054
    lo, hi = cal.wilson_interval(0, 10)
    assert float(lo) == 0.0 and float(hi) == pytest.approx(z * z / (10 + z * z), rel=1e-12)
    lo, hi = cal.wilson_interval(np.array([2.0, 0.0]), np.array([4.0, 5.0]), alpha=0.1)
    assert lo.shape == (2,) and np.all(lo <= np.array([0.5, 0.0])) and np.all(hi >= np.array([0.5, 0.0]))


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("n_bins", [5, 10])
def test_reliability_curve_matches_sklearn_calibration_curve(strategy, n_bins):
    y, s = rare_problem()
    p = sigmoid(s)
    curve = cal.reliability_curve(y, p, n_bins=n_bins, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    np.testing.assert_allclose(curve.observed_rate, prob_true, rtol=1e-12)
    np.testing.assert_allclose(curve.mean_predicted, prob_pred, rtol=1e-12)
    assert curve.counts.sum() == y.size and curve.positives.sum() == y.sum()
    assert np.all(curve.lower <= curve.observed_rate) and np.all(curve.observed_rate <= curve.upper)
    assert len(curve.edges) == n_bins + 1


def test_quantile_bins_hold_equal_counts_and_suit_a_rare_class():
    y, s = rare_problem()
    p = sigmoid(s)
    quantile = cal.reliability_curve(y, p, n_bins=10)
    assert quantile.counts.min() >= y.size // 10 - 1 and quantile.counts.max() <= y.size // 10 + 1
    uniform = cal.reliability_curve(y, p, n_bins=10, strategy="uniform")
    assert uniform.counts[0] > 0.99 * y.size  # equal widths: nearly everything in the first bin


def test_reliability_curve_small_case_by_hand():
    y = np.array([0, 0, 1, 0, 1, 1], dtype=float)
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    curve = cal.reliability_curve(y, p, n_bins=2, strategy="uniform")
    np.testing.assert_array_equal(curve.edges, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(curve.counts, [3, 3])
    np.testing.assert_array_equal(curve.positives, [1, 2])
    np.testing.assert_allclose(curve.mean_predicted, [0.6 / 3, 2.2 / 3], rtol=1e-12)
    np.testing.assert_allclose(curve.observed_rate, [1 / 3, 2 / 3])
    # ties on an edge go to the lower bin (scikit-learn's convention), empty bins are dropped
    curve = cal.reliability_curve([0, 1, 1], [0.5, 0.5, 0.9], n_bins=4, strategy="uniform")
    np.testing.assert_array_equal(curve.counts, [2, 1])


def test_prior_correction_undoes_pos_weight_and_keeps_the_ranking():
    pi, w = 0.01, 99.0
    # the pos_weight optimum for a constant model: odds multiplied by w (chapter 3)
    p_w = w * pi / (w * pi + 1 - pi)
    s_w = math.log(p_w / (1 - p_w))
    assert cal.prior_correction(s_w, w) == pytest.approx(math.log(pi / (1 - pi)), rel=1e-12)
    y, s = rare_problem()
    corrected = cal.prior_correction(s, 7.5)
    np.testing.assert_allclose(corrected, s - math.log(7.5), rtol=0, atol=1e-15)
    assert average_precision(y, corrected) == average_precision(y, s)
    assert cal.prior_correction(np.array([]), 2.0).shape == (0,)


def test_cost_threshold():
    assert cal.cost_threshold(1, 1) == 0.5
    assert cal.cost_threshold(1, 99) == pytest.approx(0.01)
    assert cal.cost_threshold(5.0, 495.0) == pytest.approx(0.01)
    # the threshold minimises the expected cost of a decision at p = t
    t = cal.cost_threshold(2.0, 30.0)
    assert 2.0 * (1 - t) == pytest.approx(30.0 * t)


def test_paired_bootstrap_ap():
    y, s = rare_problem(n=5000, rate=0.01)
    rng = np.random.default_rng(1)
    s_worse = s + rng.normal(scale=2.0, size=s.size)
    result = cal.paired_bootstrap_ap(y, s, s_worse, n_boot=300, seed=3)
    expected = average_precision_score(y, s) - average_precision_score(y, s_worse)
    assert result.difference == pytest.approx(expected, rel=1e-12)
    assert result.replicates.shape == (300,)
    assert result.lower < result.difference < result.upper
    assert result.lower > 0 and result.fraction_nonpositive < 0.05
    again = cal.paired_bootstrap_ap(y, s, s_worse, n_boot=300, seed=3)
    assert np.array_equal(again.replicates, result.replicates)  # seeded
    same = cal.paired_bootstrap_ap(y, s, s, n_boot=50, seed=0)
    assert same.difference == 0.0 and np.all(same.replicates == 0.0)  # paired: identical models agree


def test_bootstrap_replicate_equals_ap_on_the_resampled_arrays():
    # one replicate by hand: the same draws as the function makes, with metrics.average_precision
    y, s = rare_problem(n=800, rate=0.05)
    s = np.round(s, 1)  # ties, which the multiplicity form must treat as one step
    s_b = -s
    result = cal.paired_bootstrap_ap(y, s, s_b, n_boot=2, seed=11)
    rng = np.random.default_rng(11)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    for r in range(2):
        drawn = np.concatenate([rng.choice(pos, size=pos.size, replace=True),
                                rng.choice(neg, size=neg.size, replace=True)])
        assert y[drawn].sum() == pos.size  # stratified: the class counts are kept
        expected = average_precision(y[drawn], s[drawn]) - average_precision(y[drawn], s_b[drawn])
        assert result.replicates[r] == pytest.approx(expected, abs=1e-12)


def test_calibration_summary():
    y, s = rare_problem()
    summary = cal.calibration_summary(y, s)
    p = sigmoid(s)
    assert summary["mean_predicted"] == pytest.approx(p.mean(), rel=1e-12)
    assert summary["base_rate"] == y.mean()
    assert summary["ratio"] == pytest.approx(p.mean() / y.mean(), rel=1e-12)
    assert summary["nll"] == pytest.approx(log_loss(y, p), rel=1e-10)
    assert summary["brier"] == pytest.approx(brier_score_loss(y, p), rel=1e-12)


@pytest.mark.parametrize("call, pattern", [
    (lambda: cal.nll([0, 2], [0.1, 0.2]), "^y"),
    (lambda: cal.nll([0, 1], [0.1, 1.2]), "^p"),
    (lambda: cal.nll([0, 1], [0.1]), "^p must have the shape"),
    (lambda: cal.brier_score([0, 1], [np.nan, 0.2]), "^p"),
    (lambda: cal.nll_from_logits([0, 1], [0.0, np.inf]), "^s"),
    (lambda: cal.reliability_curve([0, 1], [0.1, 0.2], n_bins=0), "n_bins"),
    (lambda: cal.reliability_curve([0, 1], [0.1, 0.2], strategy="logarithmic"), "strategy"),
    (lambda: cal.reliability_curve([0, 1], [0.1, 0.2], strategy="log", p_min=0.0), "p_min"),
    (lambda: cal.wilson_interval(3, 2), "^k"),
    (lambda: cal.wilson_interval(1, 0), "^n"),
    (lambda: cal.wilson_interval(1, 5, alpha=1.5), "alpha"),
    (lambda: cal.prior_correction([0.0], 0.0), "pos_weight"),
    (lambda: cal.prior_correction([0.0], [1.0, 2.0]), "pos_weight"),
    (lambda: cal.cost_threshold(0, 1), "c_fp"),
    (lambda: cal.cost_threshold(1, -1), "c_fn"),
    (lambda: cal.cost_threshold(1, np.inf), "c_fn"),
    (lambda: cal.paired_bootstrap_ap([0, 0], [0.1, 0.2], [0.2, 0.1]), "positive"),
    (lambda: cal.paired_bootstrap_ap([0, 1], [0.1, 0.2], [0.2]), "scores_b"),
    (lambda: cal.paired_bootstrap_ap([0, 1], [0.1, 0.2], [0.2, 0.1], n_boot=0), "n_boot"),
    (lambda: cal.mean_predicted([0.5, -0.1]), "^p"),
])
def test_bad_input_is_explained(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_log_bins_are_equal_in_log_p_and_count_every_example():
    rng = np.random.default_rng(5)
    p = 10.0 ** rng.uniform(-5, 0, size=4000)
    y = (rng.random(4000) < p).astype(float)
    curve = cal.reliability_curve(y, p, n_bins=5, strategy="log", p_min=1e-5)
    np.testing.assert_allclose(np.log10(curve.edges), [-5, -4, -3, -2, -1, 0], atol=1e-12)
    assert curve.counts.sum() == 4000 and curve.positives.sum() == y.sum()
    for j, (lo, hi) in enumerate(zip(curve.edges[:-1], curve.edges[1:])):
        inside = (p > lo) & (p <= hi) if j else (p <= hi)
        assert curve.counts[j] == inside.sum()
        assert math.isclose(curve.mean_predicted[j], p[inside].mean(), rel_tol=1e-12)
    # without p_min the first edge is the smallest positive p
    assert math.isclose(cal.reliability_curve(y, p, n_bins=5, strategy="log").edges[0], p.min())


def test_log_bins_first_bin_holds_everything_below_p_min():
    """Review 2026-12-02 ch4b #6: with p_min, every p below it lands in the first bin."""
    p = np.array([0.0, 1e-8, 5e-6, 2e-4, 0.5])
    y = np.array([0.0, 0.0, 0.0, 1.0, 1.0])
    curve = cal.reliability_curve(y, p, n_bins=5, strategy="log", p_min=1e-5)
    assert curve.counts[0] == 3 and curve.mean_predicted[0] < 1e-5 < curve.edges[1]


def test_cost_threshold_general_costs_by_differences():
    """Elkan's general threshold (c_FP − c_TN) / (c_FP − c_TN + c_FN − c_TP), as the docstring says."""
    c_fp, c_fn, c_tn, c_tp = 3.0, 50.0, 0.5, 2.0
    t = cal.cost_threshold(c_fp - c_tn, c_fn - c_tp)
    p = t  # at the threshold, flagging and passing cost the same in expectation
    flag = c_fp * (1 - p) + c_tp * p
    passing = c_fn * p + c_tn * (1 - p)
    assert math.isclose(flag, passing, rel_tol=1e-12)
