"""Tests of the chapter 4 self-checks: right answers pass, wrong ones fail with details, stubs
are "not implemented yet", and no report shows solution code."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_lib import check
from course_lib.check import ch4
from course_lib.functional import log_sigmoid, sigmoid, sigmoid_grad, softplus


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


# -- correct solutions -------------------------------------------------------------------------

def good_standardise(X_train, X_other, clip=5.0):
    X_train, X_other = np.asarray(X_train, dtype=float), np.asarray(X_other, dtype=float)
    std = X_train.std(axis=0)
    constant = X_train.max(axis=0) == X_train.min(axis=0)
    return np.clip((X_other - X_train.mean(axis=0)) / np.where(constant, 1.0, std), -clip, clip)


def standardise_std_guard(X_train, X_other, clip=5.0):  # std > 0 misses a constant 0.1 column
    X_train, X_other = np.asarray(X_train, dtype=float), np.asarray(X_other, dtype=float)
    std = X_train.std(axis=0)
    return np.clip((X_other - X_train.mean(axis=0)) / np.where(std > 0, std, 1.0), -clip, clip)


def good_initial_loss(mu, tau, pi, delta):
    return float(pi * softplus(-mu) + (1 - pi) * softplus(mu) + 0.5 * tau**2 * sigmoid_grad(mu)
                 - pi * (1 - pi) * delta)


def good_ratio(pos_per_neg):
    return math.log(pos_per_neg)


def good_rate(rate):
    return math.log(rate) - math.log1p(-rate)

def good_prior(pos, neg):
    if 0.5 <= pos / neg <= 2:  # pos ≈ neg: b0 is tiny, log1p keeps its relative accuracy
        return math.log1p((pos - neg) / neg)
    return math.log(pos / neg)


def good_loss(b, y, pos_weight=1.0):
    y = np.asarray(y, dtype=float)
    return (-np.mean(pos_weight * y * log_sigmoid(b) + (1 - y) * log_sigmoid(-b)),
            float(np.mean((1 - y) * sigmoid(b) - pos_weight * y * sigmoid(-b))))


def good_threshold(y, p, target):
    scores = np.sort(p[y == 1])[::-1]
    return float(scores[math.ceil(target * scores.size - 1e-9) - 1])


def good_threshold_via_curve(y, p, target):  # the chapter's solution: thresholds decreasing, recall increasing
    from course_lib import metrics
    _, rec, thr = metrics.precision_recall_curve(y, p)
    return float(thr[np.flatnonzero(rec >= target)[0]])


def good_corrected(s, pos_weight):
    return sigmoid(np.asarray(s, dtype=float) - math.log(pos_weight))


def good_focal_grad(s, y, gamma=2.0):
    t = 2 * np.asarray(y, dtype=float) - 1
    m = t * np.asarray(s, dtype=float)
    p, q = sigmoid(m), sigmoid(-m)
    return -t * np.exp(-gamma * softplus(m)) * (gamma * p * softplus(-m) + q)


def good_init(model, pos, neg):
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    with torch.no_grad():
        last.bias.fill_(math.log(pos / neg))
    return model


def good_weights(y):
    y = np.asarray(y)
    n = y.size
    return n / (2 * np.sum(y == 0)), n / (2 * np.sum(y == 1))


def stub(*args):
    raise NotImplementedError("replace this line by your code")


# -- wrong solutions -------------------------------------------------------------------------

def standardise_own_statistics(X_train, X_other, clip=5.0):  # leakage: X_other fits itself
    return good_standardise(X_other, X_other, clip)


def standardise_pooled(X_train, X_other, clip=5.0):  # leakage: fitted on train and other together
    return good_standardise(np.vstack([X_train, X_other]), X_other, clip)


def standardise_unclipped(X_train, X_other, clip=5.0):
    return good_standardise(X_train, X_other, clip=np.inf)


def standardise_divides_by_zero(X_train, X_other, clip=5.0):  # a constant column becomes nan/inf
    X_train = np.asarray(X_train, dtype=float)
    return np.clip((np.asarray(X_other) - X_train.mean(axis=0)) / X_train.std(axis=0), -clip, clip)


def standardise_ddof1(X_train, X_other, clip=5.0):
    X_train = np.asarray(X_train, dtype=float)
    std = X_train.std(axis=0, ddof=1)
    return np.clip((np.asarray(X_other) - X_train.mean(axis=0)) / np.where(std > 0, std, 1.0), -clip, clip)


def standardise_in_place(X_train, X_other, clip=5.0):
    std = X_train.std(axis=0)
    X_other -= X_train.mean(axis=0)
    X_other /= np.where(X_train.max(axis=0) == X_train.min(axis=0), 1.0, std)
    return np.clip(X_other, -clip, clip)


def initial_loss_without_spread(mu, tau, pi, delta):
    return good_initial_loss(mu, 0.0, pi, delta)


def initial_loss_tau_not_squared(mu, tau, pi, delta):
    return good_initial_loss(mu, 0.0, pi, delta) + 0.5 * tau * float(sigmoid_grad(mu))


def initial_loss_classes_swapped(mu, tau, pi, delta):
    return good_initial_loss(mu, tau, 1 - pi, delta)


def initial_loss_without_labels(mu, tau, pi, delta):  # the old estimate: logits taken as label-free
    return good_initial_loss(mu, tau, pi, 0.0)


def initial_loss_delta_sign(mu, tau, pi, delta):
    return good_initial_loss(mu, tau, pi, -delta)


def initial_loss_delta_pi_only(mu, tau, pi, delta):  # π·Δ instead of π(1 − π)·Δ
    return good_initial_loss(mu, tau, pi, 0.0) - pi * delta


def initial_loss_three_arguments(mu, tau, pi):  # the signature before the Δ term
    return good_initial_loss(mu, tau, pi, 0.0)


def initial_loss_naive(mu, tau, pi, delta):  # log(1 + e^mu) overflows at mu = 1000
    p = 1 / (1 + np.exp(-mu))
    return float(-pi * np.log(p) - (1 - pi) * np.log(1 - p) + 0.5 * tau**2 * p * (1 - p)
                 - pi * (1 - pi) * delta)

def naive_loss(b, y):  # the textbook formula: breaks at b = -800
    y = np.asarray(y, dtype=float)
    p = 1 / (1 + np.exp(-b))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), float(np.mean(p - y))


def wrong_sign_grad(b, y, pos_weight=1.0):
    loss, grad = good_loss(b, y, pos_weight)
    return loss, -grad


def loss_unweighted(b, y, pos_weight=1.0):  # ignores pos_weight
    return good_loss(b, y)


def loss_weights_negatives(b, y, pos_weight=1.0):  # the weight on the wrong class
    y = np.asarray(y, dtype=float)
    return good_loss(-b, 1 - y, pos_weight)[0], -good_loss(-b, 1 - y, pos_weight)[1]


def loss_weighted_mean(b, y, pos_weight=1.0):  # divides by the total weight, not by N
    y = np.asarray(y, dtype=float)
    total = np.sum(np.where(y == 1, pos_weight, 1.0))
    loss, grad = good_loss(b, y, pos_weight)
    return loss * y.size / total, grad * y.size / total


def naive_loss_weighted(b, y, pos_weight=1.0):
    y = np.asarray(y, dtype=float)
    p = 1 / (1 + np.exp(-b))
    return (-np.mean(pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p)),
            float(np.mean((1 - y) * p - pos_weight * y * (1 - p))))


def threshold_lowest(y, p, target):  # the lowest threshold reaching the target: flags the most
    return float(np.min(p[y == 1]))


def threshold_all_scores(y, p, target):  # the k-th highest score of all examples, not of the positives
    k = math.ceil(target * int(np.sum(y == 1)))
    return float(np.sort(p)[::-1][k - 1])


def threshold_off_by_one(y, p, target):  # catches one positive too many
    scores = np.sort(p[y == 1])[::-1]
    return float(scores[min(scores.size - 1, math.ceil(target * scores.size - 1e-9))])


def threshold_floor(y, p, target):  # ⌊target·n_pos⌋: misses the target when it is not a whole number
    scores = np.sort(p[y == 1])[::-1]
    return float(scores[max(0, int(target * scores.size) - 1)])


def corrected_wrong_sign(s, pos_weight):
    return good_corrected(s, 1 / pos_weight)


def corrected_divides_probability(s, pos_weight):  # p / w instead of odds / w
    return sigmoid(np.asarray(s, dtype=float)) / pos_weight


def corrected_subtracts_w(s, pos_weight):
    return sigmoid(np.asarray(s, dtype=float) - pos_weight)


def corrected_via_odds(s, pos_weight):  # right formula, computed from probabilities: 1/0 at s = 800
    p = 1 / (1 + np.exp(-np.asarray(s, dtype=float)))
    odds = p / (1 - p) / pos_weight
    return odds / (1 + odds)


def focal_grad_constant_factor(s, y, gamma=2.0):  # treats (1 − p_t)^γ as a constant
    t = 2 * np.asarray(y, dtype=float) - 1
    m = t * np.asarray(s, dtype=float)
    return -t * np.exp(-gamma * softplus(m)) * sigmoid(-m)


def focal_grad_sign(s, y, gamma=2.0):
    return -good_focal_grad(s, y, gamma)


def focal_grad_naive(s, y, gamma=2.0):  # from probabilities: log 0 at |s| = 500
    y = np.asarray(y, dtype=float)
    p = 1 / (1 + np.exp(-np.asarray(s, dtype=float)))
    pt = np.where(y == 1, p, 1 - p)
    t = 2 * y - 1
    return -t * (1 - pt) ** gamma * (gamma * pt * -np.log(pt) + (1 - pt))


def init_touching_weights(model, pos, neg):
    good_init(model, pos, neg)
    with torch.no_grad():
        [m for m in model.modules() if isinstance(m, nn.Linear)][-1].weight.zero_()


def init_by_attribute(model, pos, neg):
    with torch.no_grad():
        model.output.bias.fill_(math.log(pos / neg))


CASES = [
    (ch4.ch4_standardise, good_standardise, [standardise_own_statistics, standardise_pooled,
                                             standardise_unclipped, standardise_divides_by_zero,
                                             standardise_ddof1, standardise_in_place,
                                             standardise_std_guard]),
    (ch4.ch4_expected_initial_loss, good_initial_loss, [initial_loss_without_spread, initial_loss_tau_not_squared,
                                                        initial_loss_classes_swapped, initial_loss_naive,
                                                        initial_loss_without_labels, initial_loss_delta_sign,
                                                        initial_loss_delta_pi_only,
                                                        initial_loss_three_arguments]),
    (ch4.prior_bias_from_counts, good_prior, [lambda pos, neg: math.log(neg / pos),
                                             lambda pos, neg: math.log(pos / (pos + neg)),
                                             lambda pos, neg: math.log(pos / neg),  # 8e-4 off at pos ≈ neg
                                             lambda pos, neg: math.log(pos) - math.log(neg),  # 0 there
                                             lambda pos, neg: math.log1p((pos - neg) / neg)]),  # far apart
    (ch4.bias_only_loss, good_loss, [naive_loss_weighted, wrong_sign_grad, loss_unweighted,
                                     loss_weights_negatives, loss_weighted_mean]),
    (ch4.init_output_bias, good_init, [init_touching_weights, init_by_attribute]),
    (ch4.class_weights, good_weights, [lambda y: (1.0, len(y) / np.sum(y)),
                                       lambda y: good_weights(y)[::-1]]),
    (ch4.threshold_for_recall, good_threshold, [threshold_lowest, threshold_all_scores,
                                                threshold_off_by_one, threshold_floor]),
    (ch4.corrected_probability, good_corrected, [corrected_wrong_sign, corrected_divides_probability,
                                                 corrected_subtracts_w, corrected_via_odds]),
    (ch4.focal_loss_grad, good_focal_grad, [focal_grad_constant_factor, focal_grad_sign, focal_grad_naive]),
]

# (bias_for_ratio, bias_for_rate) pairs: the check takes two functions
RATIO_RATE_WRONG = [
    (good_ratio, lambda r: math.log(r)),  # the rare-class approximation used as the rate's bias
    (good_rate, good_rate),  # the ratio treated as a rate
    (good_rate, good_ratio),  # the two swapped
    (good_ratio, lambda r: math.log((1 - r) / r)),  # the odds upside down
]


@pytest.mark.parametrize("checker, good, bad", CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_right_answers_pass_and_wrong_ones_fail(checker, good, bad, capsys):
    result = checker(good)
    out = capsys.readouterr().out
    assert result.ok, out
    assert "all" in out and "tests passed" in out
    for wrong in bad:
        result = checker(wrong)
        out = capsys.readouterr().out
        assert not result.ok and not result.not_implemented
        assert "[FAIL]" in out
        # a wrong value shows expected/received/hint; an exception shows what was raised
        assert ("expected:" in out and "received:" in out and "hint:" in out) or "raised" in out


@pytest.mark.parametrize("checker", [c for c, _, _ in CASES], ids=lambda c: c.__name__)
def test_stubs_are_not_implemented_yet(checker, capsys):
    result = checker(stub)
    out = capsys.readouterr().out
    assert result.not_implemented and result.score == 0.0
    assert "not implemented yet" in out and "Traceback" not in out


def test_ratio_and_rate_right_passes_wrong_fail_stubs_wait(capsys):
    result = ch4.ch4_bias_for_ratio_and_rate(good_ratio, good_rate)
    out = capsys.readouterr().out
    assert result.ok and "all 12 tests passed" in out, out
    for ratio, rate in RATIO_RATE_WRONG:
        result = ch4.ch4_bias_for_ratio_and_rate(ratio, rate)
        out = capsys.readouterr().out
        assert not result.ok and not result.not_implemented and "[FAIL]" in out
        assert ("expected:" in out and "received:" in out and "hint:" in out) or "raised" in out
    result = ch4.ch4_bias_for_ratio_and_rate(stub, stub)
    out = capsys.readouterr().out
    assert result.not_implemented and result.score == 0.0 and "Traceback" not in out
    assert "not implemented yet: `stub`" in out
    # one function written: its tests run and score, the others wait for the stub
    result = ch4.ch4_bias_for_ratio_and_rate(good_ratio, stub)
    out = capsys.readouterr().out
    assert result.not_implemented and 0 < result.passed < result.total and "[FAIL]" not in out


def test_leakage_is_caught_by_the_row_by_row_test(capsys):
    """Fitting on X_other (alone or pooled with X_train) fails the no-leakage test by name."""
    for wrong in (standardise_own_statistics, standardise_pooled):
        result = ch4.ch4_standardise(wrong)
        failed = {o.description for o in result.outcomes if o.status == "failed"}
        assert "a row's result does not depend on the other rows of X_other (no leakage)" in failed
    capsys.readouterr()
    result = ch4.ch4_standardise(standardise_unclipped)  # right statistics, no clipping
    failed = [o.description for o in result.outcomes if o.status == "failed"]
    assert failed and all("clip" in d or "Preprocessor" in d for d in failed)
    result = ch4.ch4_standardise(standardise_in_place)
    assert [o.description for o in result.outcomes if o.status == "failed"] == [
        "X_train and X_other are not modified"]


def test_initial_loss_overflow_is_the_only_failure_of_the_textbook_formula(capsys):
    result = ch4.ch4_expected_initial_loss(initial_loss_naive)
    out = capsys.readouterr().out
    assert [o.description for o in result.outcomes if o.status == "failed"] == [
        "finite for μ = 1000 (no overflow)", "finite for μ = -1000 (no overflow)"]
    assert "softplus" in out


def test_failures_name_input_and_tolerance_but_never_the_solution(capsys):
    ch4.bias_only_loss(naive_loss_weighted)
    out = capsys.readouterr().out
    assert "input:" in out and "tolerance:" in out and "b = -800.0" in out
    for solution_text in ("np.log(pos) - np.log(neg)", "fill_(", "log_sigmoid(b)", "n / (2"):
        assert solution_text not in out
    ch4.ch4_standardise(standardise_unclipped)
    ch4.ch4_expected_initial_loss(initial_loss_without_spread)
    ch4.ch4_bias_for_ratio_and_rate(good_ratio, good_ratio)
    ch4.corrected_probability(corrected_via_odds)
    ch4.focal_loss_grad(focal_grad_constant_factor)
    ch4.threshold_for_recall(threshold_off_by_one)
    out = capsys.readouterr().out
    assert "input:" in out and "tolerance:" in out
    for solution_text in ("X_train.mean(axis=0)", "np.where(std", "sigmoid_grad(mu)", "log1p(-r", "log1p(-rate",
                          "math.log(pos_weight)", "softplus(-m)", "np.sort("):
        assert solution_text not in out


def test_stable_loss_is_required_and_hinted(capsys):
    result = ch4.bias_only_loss(naive_loss_weighted)
    out = capsys.readouterr().out
    failed = [o.description for o in result.outcomes if o.status == "failed"]
    assert failed == ["stable for b = −800 (loss = 800·w·mean(y))"]
    assert "softplus" in out


def test_the_old_two_argument_loss_fails_only_the_weighted_tests(capsys):
    result = ch4.bias_only_loss(naive_loss)  # no pos_weight parameter at all
    failed = [o.description for o in result.outcomes if o.status == "failed"]
    assert failed and all("pos_weight" in d or "−800" in d for d in failed)
    capsys.readouterr()


def test_the_chapter_threshold_solution_passes(capsys):
    assert ch4.threshold_for_recall(good_threshold_via_curve).ok
    capsys.readouterr()


def test_prior_bias_near_equal_counts_separates_the_formulas(capsys):
    """Review item round1/ch4.md 10: the old 'large counts' case passed every formula."""
    result = ch4.prior_bias_from_counts(lambda pos, neg: math.log(pos / neg))
    failed = [o.description for o in result.outcomes if o.status == "failed"]
    assert failed and all("pos ≈ neg" in d for d in failed)
    capsys.readouterr()


def test_strict_mode_raises(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "1")
    with pytest.raises(check.CheckFailed):
        ch4.class_weights(lambda y: (1.0, 1.0))
    ch4.class_weights(good_weights)  # a pass does not raise


def test_registry_and_lookup_by_name():
    labels = [e.label for e in check.exercises_for("ch4")]
    assert labels == ["ex-ch4-standardise", "ex-ch4-initial-loss", "ex-ch4-prior-bias", "ex-ch4-bias-only-loss",
                      "ex-ch4-init-output-bias", "ex-ch4-class-weights", "ex-ch4-logit-adjustment",
                      "ex-ch4-threshold", "ex-ch4-focal-grad", "ex-ch4-ratio-or-rate"]
    for exercise in check.exercises_for("ch4_prior_bias"):
        assert getattr(check, exercise.check.__name__) is exercise.check


# -- review 2026-12-02 ch4b #3 and #7: the statements ask for finite and accurate, not warning-free --

def corrected_where_sigmoid(s, pos_weight):  # the common "stable" sigmoid: np.where evaluates both branches
    z = np.asarray(s, dtype=float) - math.log(pos_weight)
    return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))


def corrected_plain_sigmoid(s, pos_weight):  # overflows to exactly 0 at z = -813.8, the correctly rounded value
    return 1 / (1 + np.exp(-(np.asarray(s, dtype=float) - math.log(pos_weight))))


def focal_grad_where_sigmoid(s, y, gamma=2.0):  # right formula with a both-branch sigmoid: warns, but accurate
    t = 2 * np.asarray(y, dtype=float) - 1
    m = t * np.asarray(s, dtype=float)

    def sig(z):
        return np.where(z >= 0, 1 / (1 + np.exp(-z)), np.exp(z) / (1 + np.exp(z)))

    return -t * np.exp(-gamma * softplus(m)) * (gamma * sig(m) * softplus(-m) + sig(-m))


def focal_grad_torchvision(s, y, gamma=2.0):  # torchvision's sigmoid_focal_loss without α, through autograd
    s_t = torch.tensor(np.asarray(s, dtype=float), requires_grad=True)
    y_t = torch.tensor(np.asarray(y, dtype=float))
    p = torch.sigmoid(s_t)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(s_t, y_t, reduction="none")
    p_t = p * y_t + (1 - p) * (1 - y_t)
    (ce * (1 - p_t) ** gamma).sum().backward()
    return s_t.grad.numpy()


@pytest.mark.parametrize("answer", [corrected_where_sigmoid, corrected_plain_sigmoid])
def test_correction_answers_that_warn_but_are_right_pass(answer, capsys):
    with np.errstate(all="ignore"):
        assert ch4.corrected_probability(answer).ok
    capsys.readouterr()


def test_correction_from_probabilities_fails_only_at_extreme_logits(capsys):
    result = ch4.corrected_probability(corrected_via_odds)
    out = capsys.readouterr().out
    assert [o.description for o in result.outcomes if o.status == "failed"] == ["finite and accurate for extreme logits"]
    assert "1/0" in out and "logit" in out


def test_focal_answer_that_warns_but_is_right_passes(capsys):
    with np.errstate(all="ignore"):
        assert ch4.focal_loss_grad(focal_grad_where_sigmoid).ok
    capsys.readouterr()


def test_torchvision_focal_formula_fails_only_on_tiny_gradients_and_the_hint_says_why(capsys):
    result = ch4.focal_loss_grad(focal_grad_torchvision)
    out = capsys.readouterr().out
    failed = [o.description for o in result.outcomes if o.status == "failed"]
    assert len(failed) == 1 and failed[0].startswith("finite and accurate (relative 1e-9")
    assert "1 − σ(m) rounds to exactly 0" in out and "2e-52" in out
