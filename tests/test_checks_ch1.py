"""Tests of chapter 1's self-checks: right answers pass, typical mistakes fail with a useful
report, stubs are "not implemented yet", and the grader can find every exercise."""

import json
from pathlib import Path

import numpy as np
import pytest

from course_lib import check
from course_lib.check import ch1
from course_lib.check.registry import exercises_for
from course_lib.functional import sigmoid
from course_lib.models import logistic_gradient, logistic_hessian as reference_hessian

NOTEBOOK = Path(__file__).resolve().parents[1] / "book" / "ch1_logistic_regression.ipynb"


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    """Checks return their result instead of raising (the notebooks run them strictly)."""
    monkeypatch.setenv(check.STRICT_ENV, "0")


# -- implementations a student might write -------------------------------------------------------

def good_least_squares(X, y, X_new):
    theta = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0]
    return X_new @ theta[:-1] + theta[-1]


def normal_equations_least_squares(X, y, X_new):   # solves X̃ᵀX̃θ = X̃ᵀy: also right here
    X1 = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.solve(X1.T @ X1, X1.T @ y)
    return np.column_stack([X_new, np.ones(len(X_new))]) @ theta


def good_predict_proba(X, w, b):
    return sigmoid(X @ w + b)


def naive_predict_proba(X, w, b):       # the textbook formula: right values, overflow warnings
    return 1.0 / (1.0 + np.exp(-(X @ w + b)))


def good_gd_step(X, y, w, b, lr):
    g_w, g_b = logistic_gradient(X, y, w, b)
    return w - lr * g_w, b - lr * g_b


def good_hessian(X, w, b):
    return reference_hessian(X, w, b)


def good_irls(X, y, tol=1e-8, max_iter=50):
    """Newton as IRLS: a weighted least-squares solve per step."""
    X1 = np.column_stack([X, np.ones(len(X))])
    theta = np.zeros(X1.shape[1])
    for k in range(max_iter + 1):
        p = sigmoid(X1 @ theta)
        if np.linalg.norm(X1.T @ (p - y) / len(y)) <= tol or k == max_iter:
            return theta[:-1], theta[-1], k
        s = p * (1 - p)
        z = X1 @ theta - (p - y) / s
        root = np.sqrt(s)
        theta = np.linalg.lstsq(root[:, None] * X1, root * z, rcond=None)[0]


def newton_solve_irls(X, y, tol=1e-8, max_iter=50):
    """The same iteration through the normal equations of the weighted problem: also right."""
    X1 = np.column_stack([X, np.ones(len(X))])
    theta, k = np.zeros(X1.shape[1]), 0
    while True:
        p = sigmoid(X1 @ theta)
        g = X1.T @ (p - y) / len(y)
        if np.linalg.norm(g) <= tol or k == max_iter:
            return theta[:-1], float(theta[-1]), k
        S = p * (1 - p)
        z = X1 @ theta - (p - y) / S
        theta = np.linalg.solve(X1.T @ (S[:, None] * X1), X1.T @ (S * z))
        k += 1


def stub(*args, **kwargs):
    raise NotImplementedError("replace this line with your code")


# -- passing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("checker, implementation", [
    (ch1.ch1_least_squares_scores, good_least_squares),
    (ch1.ch1_least_squares_scores, normal_equations_least_squares),
    (ch1.predict_proba, good_predict_proba),
    (ch1.predict_proba, naive_predict_proba),
    (ch1.gd_step, good_gd_step),
    (ch1.logistic_hessian, good_hessian),
    (ch1.irls, good_irls),
    (ch1.irls, newton_solve_irls),
])
def test_right_answers_pass(checker, implementation, capsys):
    result = checker(implementation)
    assert result.ok, result.report()
    assert "all" in capsys.readouterr().out


def test_hand_written_hessian_passes():
    def hessian(X, w, b):
        p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
        X1 = np.hstack([X, np.ones((len(X), 1))])
        return X1.T @ np.diag(p * (1 - p)) @ X1 / len(X)
    assert ch1.logistic_hessian(hessian).ok


# -- failing ------------------------------------------------------------------------------------

def failed(result):
    return [o.description for o in result.outcomes if o.status == "failed"]


def test_least_squares_mistakes_fail(capsys):
    def no_intercept(X, y, X_new):
        return X_new @ np.linalg.lstsq(X, y, rcond=None)[0]

    def clipped(X, y, X_new):               # "probabilities" forced into [0, 1]
        return np.clip(good_least_squares(X, y, X_new), 0.0, 1.0)

    def squashed(X, y, X_new):              # a sigmoid on top of the line
        return sigmoid(good_least_squares(X, y, X_new))

    def on_training_rows(X, y, X_new):      # the fitted values on X instead of the scores at X_new
        return good_least_squares(X, y, X)

    def thresholded(X, y, X_new):
        return (good_least_squares(X, y, X_new) >= 0.5).astype(float)

    def in_place(X, y, X_new):              # centres the features in place: right scores, but
        mean = X.mean(axis=0)               # the caller's arrays are changed
        X -= mean
        X_new -= mean
        return good_least_squares(X, y, X_new)

    first = "one feature: the line through four labels, at three new points"
    mean = "on the training data the scores average to the share of positives, mean(y) = 0.5"
    flip = "relabelling y → 1 − y turns every score ŷ into 1 − ŷ (the two add up to 1)"
    far = "far from the data the scores leave [0, 1]"
    result = ch1.ch1_least_squares_scores(no_intercept)
    assert {first, mean, flip, far} <= set(failed(result))
    for implementation in (clipped, squashed, thresholded):
        result = ch1.ch1_least_squares_scores(implementation)
        assert far in failed(result) and first in failed(result)
    assert flip in failed(ch1.ch1_least_squares_scores(squashed))
    wrong_rows = failed(ch1.ch1_least_squares_scores(on_training_rows))
    assert "two features, 4 training rows, 3 new rows (shape (3,))" in wrong_rows
    assert mean not in wrong_rows             # right values, wrong rows: only the shapes give it away
    assert failed(ch1.ch1_least_squares_scores(in_place)) == ["X, y and X_new are not modified"]
    out = capsys.readouterr().out
    for line in ("input:", "expected:", "received:", "tolerance:", "hint:", "wrong shape"):
        assert line in out
    assert "theta" not in out and "lstsq(" not in out    # no solution code in the report


def test_predict_proba_mistakes_fail():
    returns_logits = ch1.predict_proba(lambda X, w, b: X @ w + b)
    assert not returns_logits.ok and "the probabilities of a small example" in failed(returns_logits)
    scalar = ch1.predict_proba(lambda X, w, b: float(sigmoid(X @ w + b)[0]))
    assert not scalar.ok

    def in_place(X, w, b):
        X *= 1.0
        w += 0.0
        w[0] = 9.0
        return sigmoid(X @ w + b)
    assert "X and w are not modified" in failed(ch1.predict_proba(in_place))


def test_gd_step_mistakes_fail(capsys):
    def no_mean(X, y, w, b, lr):            # forgot the 1/N
        p = sigmoid(X @ w + b)
        return w - lr * X.T @ (p - y), b - lr * np.sum(p - y)

    def wrong_sign(X, y, w, b, lr):
        g_w, g_b = logistic_gradient(X, y, w, b)
        return w + lr * g_w, b + lr * g_b

    def squared_error(X, y, w, b, lr):      # the gradient of the wrong loss
        p = sigmoid(X @ w + b)
        r = (p - y) * p * (1 - p)
        return w - lr * X.T @ r / len(y), b - lr * r.mean()

    def in_place(X, y, w, b, lr):
        g_w, g_b = logistic_gradient(X, y, w, b)
        w -= lr * g_w
        return w, b - lr * g_b

    for implementation in (no_mean, wrong_sign, squared_error):
        result = ch1.gd_step(implementation)
        assert "(θ − θ_new)/lr equals finite differences of the mean BCE" in failed(result)
    assert "the step lowers the loss" in failed(ch1.gd_step(wrong_sign))
    assert failed(ch1.gd_step(in_place)) == ["w is not modified in place"]
    out = capsys.readouterr().out
    for line in ("input:", "expected:", "received:", "tolerance:", "hint:"):
        assert line in out


def test_hessian_mistakes_fail():
    def without_bias(X, w, b):
        return reference_hessian(X, w, b)[:-1, :-1]

    def no_mean(X, w, b):
        return reference_hessian(X, w, b) * len(X)

    def weights_p(X, w, b):                 # S = diag(p) instead of diag(p(1 − p))
        p = sigmoid(X @ w + b)
        X1 = np.hstack([X, np.ones((len(X), 1))])
        return (X1.T * p) @ X1 / len(X)

    assert "shape (d + 1, d + 1) = (3, 3)" in failed(ch1.logistic_hessian(without_bias))
    assert "equals finite differences of the gradient" in failed(ch1.logistic_hessian(no_mean))
    assert "equals finite differences of the gradient" in failed(ch1.logistic_hessian(weights_p))


def test_irls_mistakes_fail(capsys):
    def no_intercept(X, y, tol=1e-8, max_iter=50):      # forgets the column of ones
        theta = np.zeros(X.shape[1])
        for k in range(max_iter + 1):
            p = sigmoid(X @ theta)
            if np.linalg.norm(X.T @ (p - y) / len(y)) <= tol or k == max_iter:
                return theta, 0.0, k
            s = p * (1 - p)
            theta = np.linalg.solve(X.T @ (s[:, None] * X), X.T @ (s * (X @ theta - (p - y) / s)))

    def weights_p(X, y, tol=1e-8, max_iter=50):         # S = diag(p) instead of diag(p(1 − p))
        X1 = np.column_stack([X, np.ones(len(X))])
        theta = np.zeros(3)
        for k in range(max_iter + 1):
            p = sigmoid(X1 @ theta)
            if np.linalg.norm(X1.T @ (p - y) / len(y)) <= tol or k == max_iter:
                return theta[:-1], theta[-1], k
            z = X1 @ theta - (p - y) / p
            theta = np.linalg.solve(X1.T @ (p[:, None] * X1), X1.T @ (p * z))

    def counts_one_extra(X, y, tol=1e-8, max_iter=50):  # off by one in the count
        w, b, k = good_irls(X, y, tol, max_iter)
        return w, b, k + 1

    def ignores_tol(X, y, tol=1e-8, max_iter=50):       # always runs max_iter steps
        return good_irls(X, y, 0.0, max_iter)

    def gradient_descent(X, y, tol=1e-8, max_iter=50):  # not Newton: first-order steps
        w, b = np.zeros(X.shape[1]), 0.0
        for k in range(max_iter + 1):
            g_w, g_b = logistic_gradient(X, y, w, b)
            if np.hypot(np.linalg.norm(g_w), g_b) <= tol or k == max_iter:
                return w, b, k
            w, b = w - 1.0 * g_w, b - 1.0 * g_b

    fit = "the fitted weights and bias, (w1, w2, b)"
    grad = "the gradient of the mean BCE at your (w, b) is below tol"
    two = "after exactly max_iter = 2 steps: two full Newton steps from (0, 0)"
    count = [d for d in (o.description for o in ch1.irls(good_irls).outcomes) if d.startswith("the number")]
    assert len(count) == 2
    assert {fit, grad, two} <= set(failed(ch1.irls(no_intercept)))
    assert two in failed(ch1.irls(weights_p)) and set(count) & set(failed(ch1.irls(weights_p)))
    assert set(failed(ch1.irls(counts_one_extra))) == set(count)
    assert set(count) <= set(failed(ch1.irls(ignores_tol)))
    assert {fit, grad, two} <= set(failed(ch1.irls(gradient_descent)))
    out = capsys.readouterr().out
    for line in ("input:", "expected:", "received:", "hint:"):
        assert line in out
    assert "lstsq" not in out and "np.linalg.solve" not in out


def test_exceptions_become_failures_not_crashes():
    result = ch1.gd_step(lambda X, y, w, b, lr: 1 / 0)
    assert not result.ok and any("ZeroDivisionError" in o.detail for o in result.outcomes)


# -- not implemented, strict mode, registry --------------------------------------------------------

@pytest.mark.parametrize("checker", [ch1.ch1_least_squares_scores, ch1.predict_proba, ch1.gd_step,
                                     ch1.logistic_hessian, ch1.irls])
def test_stubs_are_not_implemented_yet(checker, capsys):
    result = checker(stub)
    assert result.not_implemented and result.passed == 0
    assert "not implemented yet" in capsys.readouterr().out


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv(check.STRICT_ENV, "1")
    with pytest.raises(check.CheckFailed):
        ch1.gd_step(stub)


def test_checks_are_reachable_by_name_and_registered():
    assert check.gd_step is ch1.gd_step
    assert check.ch1_least_squares_scores is ch1.ch1_least_squares_scores
    exercises = exercises_for("ch1")
    assert [e.label for e in exercises] == ["ex-ch1-least-squares", "ex-ch1-predict-proba",
                                            "ex-ch1-gd-step", "ex-ch1-hessian", "ex-ch1-irls"]
    for exercise in exercises:
        assert exercise.check is getattr(ch1, exercise.check.__name__)
        assert getattr(check, exercise.check.__name__) is exercise.check


def test_every_checked_exercise_is_in_the_notebook_with_its_check_call():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells)
    for exercise in exercises_for("ch1"):
        assert f":label: {exercise.label}" in text
        assert f"```{{solution-start}} {exercise.label}" in text
        name = exercise.functions[0]
        assert f"check.{exercise.check.__name__}({name})" in text
        assert f"def {name}(" in text
