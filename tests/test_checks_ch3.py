"""Tests of chapter 3's self-checks: right answers pass, typical wrong answers fail with a useful
report (input, expected, received, hint, never the solution), stubs are "not implemented yet",
strict mode raises, and every registered exercise exists in the chapter."""

import json
from pathlib import Path

import numpy as np
import pytest

from course_lib import check
from course_lib.check import CheckFailed, exercises_for
from course_lib.check import ch3

NOTEBOOK = Path(__file__).resolve().parents[1] / "book" / "ch3_cross_entropy.ipynb"


# ---------------------------------------------------------------- right answers (written here)

def bce_probability_form(p, y):
    p, y = np.asarray(p, float), np.asarray(y, float)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def logistic_loss_margin_form(s, t):
    return np.log1p(np.exp(-np.asarray(t, float) * np.asarray(s, float)))


def stable_bce_with_logits(s, y):
    s, y = np.asarray(s, float), np.asarray(y, float)
    return np.maximum(s, 0) - s * y + np.log1p(np.exp(-np.abs(s)))


def find_naive_failure():
    return 50.0


def bce_logit_grad(s, y):
    s = np.asarray(s, float)
    e = np.exp(-np.abs(s))
    sigma = np.where(s >= 0, 1 / (1 + e), e / (1 + e))
    return sigma - np.asarray(y, float)


def log_likelihood(p, y):
    p, y = np.asarray(p, float), np.asarray(y, float)
    with np.errstate(divide="ignore"):
        return float(np.sum(np.log(np.where(y == 1, p, 1 - p))))


def zero_one_loss(s, t):
    return (np.asarray(t, float) * np.asarray(s, float) <= 0).astype(float)


def hinge_loss(s, t):
    return np.maximum(0.0, 1.0 - np.asarray(t, float) * np.asarray(s, float))


# ---------------------------------------------------------------- typical wrong answers

def naive_bce_with_logits(s, y):
    p = 1 / (1 + np.exp(-np.asarray(s, float)))
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def mean_instead_of_per_example(p, y):
    return float(np.mean(bce_probability_form(p, y)))


def margin_form_with_wrong_sign(s, t):
    return np.log1p(np.exp(np.asarray(t, float) * np.asarray(s, float)))


def log_of_the_product(p, y):
    p, y = np.asarray(p, float), np.asarray(y, float)
    return float(np.log(np.prod(np.where(y == 1, p, 1 - p))))


def log_likelihood_two_terms(p, y):
    p, y = np.asarray(p, float), np.asarray(y, float)
    return float(np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))


def mean_log_likelihood(p, y):
    return log_likelihood(p, y) / np.asarray(p).size


def minus_summed_clamped_bce(p, y):
    from course_lib.losses import bce
    return -float(bce(p, y, reduction="sum"))


def zero_one_strict(s, t):
    return (np.asarray(t, float) * np.asarray(s, float) < 0).astype(float)


def zero_one_ignoring_the_label(s, t):
    return (np.asarray(s, float) <= 0).astype(float)


def perceptron_loss(s, t):
    return np.maximum(0.0, -np.asarray(t, float) * np.asarray(s, float))


def mean_hinge_loss(s, t):
    return float(np.mean(hinge_loss(s, t)))


def stub(*args):
    raise NotImplementedError("write your code here")


def smoothed_bce_with_logits(s, y, eps):
    s, y = np.asarray(s, float), np.asarray(y, float)
    target = (1 - eps) * y + eps / 2
    softplus_s = np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s)))      # log(1 + e^s)
    softplus_minus_s = np.maximum(-s, 0) + np.log1p(np.exp(-np.abs(s)))
    return target * softplus_minus_s + (1 - target) * softplus_s


def smoothed_cancelling(s, y, eps):          # softplus(s) − ỹ·s: equal on paper, 0 for y = 1, s = 40
    s, y = np.asarray(s, float), np.asarray(y, float)
    target = (1 - eps) * y + eps / 2
    return np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s))) - target * s


def smoothed_towards_one(s, y, eps):          # ỹ = (1 − ε)y + ε: a positive label stays at 1
    s, y = np.asarray(s, float), np.asarray(y, float)
    return np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s))) - ((1 - eps) * y + eps) * s


def smoothed_without_the_half(s, y, eps):     # ỹ = (1 − ε)y: a negative label is not moved
    s, y = np.asarray(s, float), np.asarray(y, float)
    return np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s))) - (1 - eps) * y * s


def smoothed_naive(s, y, eps):                # through σ(s) and two logs
    s, y = np.asarray(s, float), np.asarray(y, float)
    target = (1 - eps) * y + eps / 2
    p = 1 / (1 + np.exp(-s))
    return -(target * np.log(p) + (1 - target) * np.log(1 - p))


def unsmoothed(s, y, eps):                    # ignores ε
    s, y = np.asarray(s, float), np.asarray(y, float)
    return np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s))) - y * s


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def test_right_answers_pass(capsys):
    assert check.ch3_two_forms(bce_probability_form, logistic_loss_margin_form).ok
    assert check.ch3_stable_bce_with_logits(stable_bce_with_logits).ok
    assert check.ch3_naive_bce_failure(find_naive_failure).ok
    assert check.ch3_bce_logit_grad(bce_logit_grad).ok
    assert check.ch3_log_likelihood(log_likelihood).ok
    assert check.ch3_margin_losses(zero_one_loss, hinge_loss).ok
    assert check.ch3_smoothed_bce(smoothed_bce_with_logits).ok
    assert "FAIL" not in capsys.readouterr().out


@pytest.mark.parametrize("value", [40.0, -800.0, 36.8, -710.0])
def test_every_kind_of_naive_failure_is_accepted(value):
    assert ch3.ch3_naive_bce_failure(lambda: value).ok


@pytest.mark.parametrize("value", [0.0, 10.0, -700.0, 1e309, float("nan"), [40.0, 50.0], None])
def test_logits_where_the_naive_formula_works_or_that_are_not_logits_fail(value):
    assert not ch3.ch3_naive_bce_failure(lambda: value).ok


def test_the_naive_stable_bce_fails_with_a_report(capsys):
    result = ch3.ch3_stable_bce_with_logits(naive_bce_with_logits)
    assert not result.ok
    report = capsys.readouterr().out
    assert "FAIL" in report and "finite everywhere" in report
    for field in ("input:", "expected:", "received:", "hint:"):
        assert field in report


def test_a_mean_instead_of_per_example_losses_fails_on_shape(capsys):
    assert not ch3.ch3_two_forms(mean_instead_of_per_example, logistic_loss_margin_form).ok
    assert "wrong shape" in capsys.readouterr().out


def test_a_wrong_sign_in_the_margin_form_fails():
    result = ch3.ch3_two_forms(bce_probability_form, margin_form_with_wrong_sign)
    assert not result.ok
    assert result.passed == 4  # the probability form, and the margin 0 where the sign does not matter


def test_a_gradient_with_the_wrong_sign_fails():
    assert not ch3.ch3_bce_logit_grad(lambda s, y: -bce_logit_grad(s, y)).ok


def test_a_gradient_from_the_naive_sigmoid_passes_only_if_it_stays_finite():
    def naive_grad(s, y):
        return 1 / (1 + np.exp(-np.asarray(s, float))) - y
    assert ch3.ch3_bce_logit_grad(naive_grad).ok  # 1/(1 + inf) = 0 is the right limit


@pytest.mark.parametrize("wrong, failing", [
    (log_of_the_product, "the product itself underflows"),
    (log_likelihood_two_terms, "certain, right predictions"),
    (mean_log_likelihood, "four examples"),
    (minus_summed_clamped_bce, "a certain, wrong prediction"),
    (lambda p, y: -log_likelihood(p, y), "four examples"),
    (lambda p, y: np.log(np.where(np.asarray(y) == 1, p, 1 - np.asarray(p))), "four examples"),  # per example
])
def test_wrong_log_likelihoods_fail_where_expected(wrong, failing, capsys):
    result = ch3.ch3_log_likelihood(wrong)
    assert not result.ok and not result.not_implemented
    report = capsys.readouterr().out
    failed = [line for line in report.splitlines() if "[FAIL]" in line]
    assert any(failing in line for line in failed), failed
    for field in ("input:", "expected:", "received:", "hint:"):
        assert field in report


@pytest.mark.parametrize("zero_one, hinge, failing", [
    (zero_one_strict, hinge_loss, "a logit of exactly 0"),
    (zero_one_ignoring_the_label, hinge_loss, "0-1 loss: per-example values"),
    (zero_one_loss, perceptron_loss, "hinge loss: per-example values"),
    (zero_one_loss, mean_hinge_loss, "hinge loss: per-example values"),
    (zero_one_loss, lambda s, t: np.maximum(0.0, 1.0 - np.asarray(s, float)), "hinge loss: per-example values"),
])
def test_wrong_margin_losses_fail_where_expected(zero_one, hinge, failing, capsys):
    result = ch3.ch3_margin_losses(zero_one, hinge)
    assert not result.ok
    failed = [line for line in capsys.readouterr().out.splitlines() if "[FAIL]" in line]
    assert any(failing in line for line in failed), failed


def test_a_perceptron_loss_breaks_the_bound():
    result = ch3.ch3_margin_losses(zero_one_loss, perceptron_loss)
    bound = [o for o in result.outcomes if "bounds your 0-1 loss" in o.description]
    assert len(bound) == 1 and bound[0].status == "failed"


def test_one_margin_function_written_scores_its_own_tests(capsys):
    result = ch3.ch3_margin_losses(stub, hinge_loss)
    assert result.not_implemented and 0 < result.score < 1
    assert "not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize("run", [
    lambda: ch3.ch3_log_likelihood(stub),
    lambda: ch3.ch3_margin_losses(stub, stub),
    lambda: ch3.ch3_two_forms(stub, stub),
    lambda: ch3.ch3_stable_bce_with_logits(stub),
    lambda: ch3.ch3_naive_bce_failure(stub),
    lambda: ch3.ch3_bce_logit_grad(stub),
    lambda: ch3.ch3_smoothed_bce(stub),
])
def test_stubs_are_not_implemented_yet(run, capsys):
    result = run()
    assert result.not_implemented and not result.ok and result.score == 0
    assert "not implemented yet" in capsys.readouterr().out


def test_reports_never_show_the_solution(capsys):
    ch3.ch3_stable_bce_with_logits(naive_bce_with_logits)
    ch3.ch3_two_forms(mean_instead_of_per_example, margin_form_with_wrong_sign)
    ch3.ch3_bce_logit_grad(lambda s, y: 0 * s)
    ch3.ch3_naive_bce_failure(lambda: 0.0)
    ch3.ch3_log_likelihood(log_likelihood_two_terms)
    ch3.ch3_margin_losses(zero_one_strict, perceptron_loss)
    report = capsys.readouterr().out
    for solution_text in ("np.maximum(s, 0)", "log1p(np.exp(-np.abs", "return 50.0", "sigma - ",
                          "np.where(y == 1", "np.sum(np.log", "margin <= 0", "np.maximum(0.0, 1.0 - margin)"):
        assert solution_text not in report


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "1")
    with pytest.raises(CheckFailed):
        ch3.ch3_stable_bce_with_logits(naive_bce_with_logits)


def test_exercises_are_registered_and_in_the_chapter():
    exercises = exercises_for("ch3")
    labels = [e.label for e in exercises]
    assert len(labels) == len(set(labels)) >= 2
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells)
    for exercise in exercises:
        assert f":label: {exercise.label}" in text
        assert f"{{solution-start}} {exercise.label}" in text
        for name in exercise.functions:
            assert f"def {name}(" in text
        assert f"check.{exercise.check.__name__}(" in text


@pytest.mark.parametrize("wrong, failing", [
    (smoothed_towards_one, "hard labels"),
    (smoothed_without_the_half, "hard labels"),
    (smoothed_naive, "every finite logit"),
    (unsmoothed, "smallest at s*"),
])
def test_wrong_smoothed_bce_fails_where_expected(wrong, failing, capsys):
    result = ch3.ch3_smoothed_bce(wrong)
    out = capsys.readouterr().out
    assert not result.ok and not result.not_implemented
    failed = [line for line in out.splitlines() if "[FAIL]" in line]
    assert any(failing in line for line in failed), out
    assert "input:" in out and "hint:" in out
    assert ("expected:" in out and "received:" in out) or "raised:" in out     # a warning raises


def test_smoothed_bce_as_the_chapter_writes_it_passes():
    from course_lib.functional import softplus

    def from_chapter(s, y, eps):
        s, y = np.asarray(s, dtype=float), np.asarray(y, dtype=float)
        target = (1.0 - eps) * y + eps / 2.0
        return target * softplus(-s) + (1.0 - target) * softplus(s)

    assert ch3.ch3_smoothed_bce(from_chapter).ok


def test_the_cancelling_smoothed_bce_fails_only_on_the_tiny_losses_at_eps_0(capsys):
    # softplus(s) − ỹ·s is right to 1e-12 absolute everywhere, but at ε = 0, y = 1, s = 40 it
    # returns 0.0 for a loss of 4.2e-18 (and 1.3 % off at s = 30): only the relative check sees it.
    assert float(smoothed_cancelling(np.array([40.0]), np.array([1.0]), 0.0)[0]) == 0.0
    result = ch3.ch3_smoothed_bce(smoothed_cancelling)
    assert not result.ok
    failed = [o.description for o in result.outcomes if o.status == "failed"]
    assert len(failed) == 1 and "tiny losses" in failed[0], failed
    out = capsys.readouterr().out
    for field in ("input:", "expected:", "received:", "hint:"):
        assert field in out
