"""Tests of chapter 5's self-checks: right answers pass, typical wrong answers fail with a useful
report (input, expected, received, hint, never the solution), stubs are "not implemented yet",
strict mode raises, and every registered exercise exists in the chapter."""

import json
from pathlib import Path

import numpy as np
import pytest

from course_lib import check
from course_lib.check import CheckFailed, ch5, exercises_for

NOTEBOOK = Path(__file__).resolve().parents[1] / "book" / "ch5_softmax.ipynb"


# ---------------------------------------------------------------- right answers (written here)

def stable_log_softmax(S):
    S = np.asarray(S, float)
    z = S - S.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def ce_logit_grad(S, y):
    S = np.asarray(S, float)
    p = np.exp(stable_log_softmax(S))
    p[np.arange(len(y)), np.asarray(y)] -= 1.0
    return p


def multiclass_prior_bias(counts):
    log_n = np.log(np.asarray(counts, float))
    return log_n - log_n.mean()


def class_entropy(counts):
    pi = np.asarray(counts, float) / np.sum(counts)
    return float(-np.sum(pi * np.log(pi)))


# ---------------------------------------------------------------- typical wrong answers

def naive_log_softmax(S):
    e = np.exp(np.asarray(S, float))
    return np.log(e / e.sum(axis=-1, keepdims=True))


def log_softmax_over_the_first_axis(S):
    S = np.asarray(S, float)
    z = S - S.max(axis=0, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=0, keepdims=True))


def log_softmax_shifted_by_the_mean(S):
    S = np.asarray(S, float)
    z = S - S.mean(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def log_of_the_stable_softmax(S):
    S = np.asarray(S, float)
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    return np.log(e / e.sum(axis=-1, keepdims=True))     # log 0 = −inf for e^(−2000)


def onehot_minus_p(S, y):
    return -ce_logit_grad(S, y)


def mean_gradient(S, y):
    return ce_logit_grad(S, y) / len(y)


def logits_minus_onehot(S, y):
    g = np.asarray(S, float).copy()
    g[np.arange(len(y)), np.asarray(y)] -= 1.0
    return g


def naive_softmax_grad(S, y):
    e = np.exp(np.asarray(S, float))
    p = e / e.sum(axis=-1, keepdims=True)
    p[np.arange(len(y)), np.asarray(y)] -= 1.0
    return p


def uncentred_log_counts(counts):
    return np.log(np.asarray(counts, float))


def log_shares(counts):
    return np.log(np.asarray(counts, float) / np.sum(counts))


def shares(counts):
    return np.asarray(counts, float) / np.sum(counts)


def entropy_in_bits(counts):
    return class_entropy(counts) / np.log(2)


def entropy_of_counts(counts):
    n = np.asarray(counts, float)
    return float(-np.sum(n * np.log(n)))


def stub(*args):
    raise NotImplementedError("write your code here")


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def test_right_answers_pass(capsys):
    assert check.ch5_stable_log_softmax(stable_log_softmax).ok
    assert check.ch5_cross_entropy_grad(ce_logit_grad).ok
    assert check.ch5_prior_bias(multiclass_prior_bias, class_entropy).ok
    assert "FAIL" not in capsys.readouterr().out


def test_the_course_lib_functions_pass():
    from course_lib.functional import log_softmax
    from course_lib.init import prior_bias_multiclass
    from course_lib.losses import cross_entropy_grad
    assert ch5.ch5_stable_log_softmax(log_softmax).ok
    assert ch5.ch5_cross_entropy_grad(lambda S, y: cross_entropy_grad(S, y, reduction="none")).ok
    assert ch5.ch5_prior_bias(prior_bias_multiclass, class_entropy).ok


@pytest.mark.parametrize("wrong, failing", [
    (naive_log_softmax, "extreme logits: finite"),
    (log_softmax_over_the_first_axis, "agrees with the reference"),
    (log_softmax_shifted_by_the_mean, "extreme logits: finite"),
    (log_of_the_stable_softmax, "extreme logits: the reference values"),
    (lambda S: np.exp(stable_log_softmax(S)), "agrees with the reference"),      # the softmax itself
])
def test_wrong_log_softmax_fails_where_expected(wrong, failing, capsys):
    result = ch5.ch5_stable_log_softmax(wrong)
    assert not result.ok and not result.not_implemented
    report = capsys.readouterr().out
    failed = [line for line in report.splitlines() if "[FAIL]" in line]
    assert any(failing in line for line in failed), failed
    for field in ("input:", "hint:"):
        assert field in report


def test_a_log_softmax_of_square_arrays_over_the_wrong_axis_is_caught():
    result = ch5.ch5_stable_log_softmax(log_softmax_over_the_first_axis)
    wrong_axis = [o for o in result.outcomes if "last axis" in o.description]
    assert wrong_axis and wrong_axis[0].status == "failed"


@pytest.mark.parametrize("wrong, failing", [
    (onehot_minus_p, "central differences"),
    (mean_gradient, "central differences"),
    (logits_minus_onehot, "central differences"),
    (naive_softmax_grad, "extreme logits"),
])
def test_wrong_gradients_fail_where_expected(wrong, failing, capsys):
    result = ch5.ch5_cross_entropy_grad(wrong)
    assert not result.ok
    failed = [line for line in capsys.readouterr().out.splitlines() if "[FAIL]" in line]
    assert any(failing in line for line in failed), failed


def test_a_right_gradient_that_warns_on_the_way_still_passes():
    def warns_but_right(S, y):
        np.exp(np.asarray(S, float))          # an unused overflow: a RuntimeWarning, not a mistake
        return ce_logit_grad(S, y)
    assert ch5.ch5_cross_entropy_grad(warns_but_right).ok


@pytest.mark.parametrize("bias, entropy, failing", [
    (uncentred_log_counts, class_entropy, "mean 0"),
    (log_shares, class_entropy, "mean 0"),
    (shares, class_entropy, "the biases for four classes"),
    (lambda n: -multiclass_prior_bias(n), class_entropy, "class shares"),
    (multiclass_prior_bias, entropy_in_bits, "entropy of the four classes"),
    (multiclass_prior_bias, entropy_of_counts, "entropy of the four classes"),
])
def test_wrong_prior_biases_and_entropies_fail(bias, entropy, failing, capsys):
    result = ch5.ch5_prior_bias(bias, entropy)
    assert not result.ok
    failed = [line for line in capsys.readouterr().out.splitlines() if "[FAIL]" in line]
    assert any(failing in line for line in failed), failed


def test_the_prior_bias_written_and_the_entropy_a_stub_scores_part(capsys):
    result = ch5.ch5_prior_bias(multiclass_prior_bias, stub)
    assert result.not_implemented and 0 < result.score < 1
    assert "class_entropy" in result.missing_functions or "stub" in result.missing_functions


@pytest.mark.parametrize("run", [
    lambda: ch5.ch5_stable_log_softmax(stub),
    lambda: ch5.ch5_cross_entropy_grad(stub),
    lambda: ch5.ch5_prior_bias(stub, stub),
])
def test_stubs_are_not_implemented_yet(run, capsys):
    result = run()
    assert result.not_implemented and not result.ok and result.score == 0
    assert "not implemented yet" in capsys.readouterr().out


def test_reports_never_show_the_solution(capsys):
    ch5.ch5_stable_log_softmax(naive_log_softmax)
    ch5.ch5_cross_entropy_grad(onehot_minus_p)
    ch5.ch5_prior_bias(uncentred_log_counts, entropy_in_bits)
    report = capsys.readouterr().out
    for solution_text in ("S.max(axis=-1", "keepdims=True)", "log_n - log_n.mean()", "np.exp(z).sum",
                          "-= 1.0", "pi * np.log(pi)"):
        assert solution_text not in report


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "1")
    with pytest.raises(CheckFailed):
        ch5.ch5_stable_log_softmax(naive_log_softmax)


def test_exercises_are_registered_and_in_the_chapter():
    exercises = exercises_for("ch5")
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
