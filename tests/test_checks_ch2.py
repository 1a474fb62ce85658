"""The chapter 2 self-checks: right answers pass, stubs are 'not implemented', wrong answers fail
with input/expected/received/hint, and strict mode raises."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_lib import check
from course_lib.autodiff import Value
from course_lib.check import CheckFailed, exercises_for
from course_lib.check import ch2
from course_lib.functional import sigmoid, sigmoid_grad, softplus


@pytest.fixture(autouse=True)
def not_strict(monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "0")


# -- right answers ------------------------------------------------------------------------

def good_chain_rule(x, w, b, y):
    s = w * x + b
    p = 1.0 / (1.0 + np.exp(-s))
    dL_dp = -y / p + (1 - y) / (1 - p)
    dp_ds = p * (1 - p)
    return {"s": s, "p": p, "loss": -(y * np.log(p) + (1 - y) * np.log(1 - p)), "dL_dp": dL_dp,
            "dp_ds": dp_ds, "dL_ds": dL_dp * dp_ds, "dL_dw": dL_dp * dp_ds * x, "dL_db": dL_dp * dp_ds}


def good_unit_backward(X, y, w, b):
    p = sigmoid(X @ w + b)
    return X.T @ (p - y) / len(y), float(np.mean(p - y))


def good_softplus(v):
    return Value(float(softplus(v.data)), (v,), (float(sigmoid(v.data)),), op="softplus")


def good_gradient_check(f, grad_f, x, h=1e-5):
    x = np.array(x, dtype=float)
    analytic = np.asarray(grad_f(x.copy()), dtype=float)
    numeric = np.zeros_like(x)
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        numeric[i] = (f(plus) - f(minus)) / (2 * h)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    return float(np.max(np.where(scale == 0, 0.0, np.abs(analytic - numeric) / np.where(scale == 0, 1, scale))))


def good_se_logit_grad(s, y):
    s, y = np.asarray(s, dtype=float), np.asarray(y, dtype=float)
    p, q = sigmoid(s), sigmoid(-s)            # σ(s) and 1 − σ(s), each computed directly
    return (p - y) * p * q


def hidden_grads(X, y, W1, b1, w2, b2, *, mask=lambda A: A > 0, per_example=True, residual=None,
                 db2_reduce=np.sum, transpose_W1=False):
    """The hidden-layer backward pass, right by default; the keywords make typical mistakes."""
    A = X @ W1.T + b1
    H = np.maximum(A, 0.0)
    s = H @ w2 + b2
    ds = sigmoid(s) - y if residual is None else residual(s, y)
    if per_example:
        ds = ds / len(y)
    dA = np.outer(ds, w2) * mask(A)
    dW1 = X.T @ dA if transpose_W1 else dA.T @ X
    return dW1, dA.sum(axis=0), H.T @ ds, float(db2_reduce(ds))


def good_hidden_grads(X, y, W1, b1, w2, b2):
    return hidden_grads(X, y, W1, b1, w2, b2)


def chain_grad(x, w, b, *, local=lambda w_k, a, h: w_k * float(sigmoid(a) * (1 - sigmoid(a))), skip_last=False):
    """The derivative through a sigmoid chain, right by default; the keywords make typical mistakes."""
    h, grad = float(x), 1.0
    layers = list(zip(w, b))
    for k, (w_k, b_k) in enumerate(layers):
        a = w_k * h + b_k
        h_next = float(sigmoid(a))
        if not (skip_last and k == len(layers) - 1):
            grad *= local(w_k, a, h_next)
        h = h_next
    return grad


def good_chain_input_grad(x, w, b):
    return chain_grad(x, w, b)


GOOD = {"chain_rule_by_hand": good_chain_rule, "squared_error_logit_grad": good_se_logit_grad,
        "sigmoid_unit_backward": good_unit_backward, "value_softplus": good_softplus,
        "hidden_layer_grads": good_hidden_grads, "chain_input_grad": good_chain_input_grad,
        "gradient_check": good_gradient_check}


def stub(*args, **kwargs):
    raise NotImplementedError("write your code here")


def test_exercises_are_registered():
    labels = [e.label for e in exercises_for("ch2")]
    assert labels == ["ex-ch2-chain-rule", "ex-ch2-se-logit-grad", "ex-ch2-unit-backward",
                      "ex-ch2-softplus-op", "ex-ch2-hidden-layer", "ex-ch2-chain-depth",
                      "ex-ch2-gradient-check"]
    for exercise in exercises_for("ch2_backprop"):
        assert exercise.functions[0] in GOOD
        assert getattr(check, exercise.check.__name__) is exercise.check
    assert check.ch2_squared_error_logit_grad is ch2.ch2_squared_error_logit_grad
    assert check.ch2_hidden_layer_grads is ch2.ch2_hidden_layer_grads


@pytest.mark.parametrize("exercise", exercises_for("ch2"), ids=lambda e: e.label)
def test_right_answers_pass(exercise, capsys):
    result = exercise.check(GOOD[exercise.functions[0]])
    out = capsys.readouterr().out
    assert result.ok, out
    assert result.total >= 5
    assert "all" in out and "tests passed" in out


@pytest.mark.parametrize("exercise", exercises_for("ch2"), ids=lambda e: e.label)
def test_stubs_are_not_implemented(exercise, capsys):
    result = exercise.check(stub)
    out = capsys.readouterr().out
    assert result.not_implemented and result.score == 0
    assert "not implemented yet" in out and "Traceback" not in out


@pytest.mark.parametrize("exercise", exercises_for("ch2"), ids=lambda e: e.label)
def test_strict_mode_raises(exercise, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "1")
    with pytest.raises(CheckFailed):
        exercise.check(stub)


def _failure_report(check_fn, wrong, capsys):
    result = check_fn(wrong)
    out = capsys.readouterr().out
    assert not result.ok and not result.not_implemented
    for field in ("input:", "expected:", "received:", "hint:"):
        assert field in out, out
    return out


def test_chain_rule_with_forgotten_input_fails(capsys):
    def forgot_x(x, w, b, y):
        out = good_chain_rule(x, w, b, y)
        out["dL_dw"] = out["dL_ds"]
        return out
    out = _failure_report(ch2.chain_rule_by_hand, forgot_x, capsys)
    assert "[FAIL] dL_dw at" in out and "[PASS] dL_db at" in out


def test_chain_rule_with_missing_keys_fails(capsys):
    out = _failure_report(ch2.chain_rule_by_hand, lambda x, w, b, y: {"s": w * x + b}, capsys)
    assert "[FAIL] returns a dict with all eight keys" in out


def test_unit_backward_without_division_by_n_fails(capsys):
    def no_mean(X, y, w, b):
        p = sigmoid(X @ w + b)
        return X.T @ (p - y), float(np.sum(p - y))
    out = _failure_report(ch2.sigmoid_unit_backward, no_mean, capsys)
    assert "[PASS] the worked example: grad_w" in out   # N = 1 there
    assert "[FAIL] a batch of 6" in out and "Did you divide by N?" in out


def test_unit_backward_through_dl_dp_fails_when_confidently_wrong(capsys):
    def through_p(X, y, w, b):
        with np.errstate(all="ignore"):
            p = sigmoid(X @ w + b)
            dp = -y / p + (1 - y) / (1 - p)
            ds = dp * p * (1 - p)
        return X.T @ ds / len(y), float(np.mean(ds))
    out = _failure_report(ch2.sigmoid_unit_backward, through_p, capsys)
    assert "[FAIL] confidently wrong" in out


def test_softplus_with_wrong_local_derivative_fails(capsys):
    def wrong(v):
        return Value(float(softplus(v.data)), (v,), (float(sigmoid(-v.data)),), op="softplus")
    out = _failure_report(ch2.value_softplus, wrong, capsys)
    assert "[FAIL] gradient at x = 0.7" in out


def test_softplus_without_parent_fails(capsys):
    def orphan(v):
        return Value(float(softplus(v.data)))
    out = _failure_report(ch2.value_softplus, orphan, capsys)
    assert "bigger graph" in out


def test_gradient_check_with_wrong_denominator_fails(capsys):
    def by_numeric(f, grad_f, x, h=1e-5):
        x = np.array(x, dtype=float)
        a = grad_f(x)
        n = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])
        with np.errstate(all="ignore"):
            return float(np.max(np.abs(a - n) / np.abs(n)))
    out = _failure_report(ch2.gradient_check, by_numeric, capsys)
    assert "[FAIL] a gradient 10 % too large" in out


def test_gradient_check_that_moves_x_fails(capsys):
    def in_place(f, grad_f, x, h=1e-5):
        result = good_gradient_check(f, grad_f, x, h)
        x += 1.0
        return result
    out = _failure_report(ch2.gradient_check, in_place, capsys)
    assert "[FAIL] x is left unchanged" in out


def test_se_logit_grad_without_the_sigmoid_factor_fails(capsys):
    """Cross-entropy's gradient σ(s) − y is the answer to a different question."""
    out = _failure_report(ch2.ch2_squared_error_logit_grad, lambda s, y: sigmoid(s) - y, capsys)
    assert "[FAIL] moderate logits" in out and "[FAIL] never more than a quarter" in out
    assert "one factor more than cross-entropy" in out


def test_se_logit_grad_with_the_wrong_sign_fails(capsys):
    out = _failure_report(ch2.ch2_squared_error_logit_grad, lambda s, y: -good_se_logit_grad(s, y),
                          capsys)
    assert "[FAIL] agrees with central differences" in out and "Check the sign too" in out


def test_se_logit_grad_through_one_minus_sigmoid_fails_when_saturated(capsys):
    """p·(1 − p) is exactly 0 once σ(s) rounds to 1: right at moderate s, wrong at s = 40."""
    def naive(s, y):
        p = sigmoid(s)
        return (p - y) * p * (1 - p)
    out = _failure_report(ch2.ch2_squared_error_logit_grad, naive, capsys)
    assert "[PASS] moderate logits" in out and "[PASS] agrees with central differences" in out
    assert "[FAIL] confidently wrong, y = 0 and s = 40" in out and "[FAIL] symmetry" in out
    assert "σ(40) rounds to exactly 1" in out


def test_se_logit_grad_returning_the_loss_fails(capsys):
    out = _failure_report(ch2.ch2_squared_error_logit_grad, lambda s, y: 0.5 * (sigmoid(s) - y) ** 2,
                          capsys)
    assert "4 of 6" not in out and "[FAIL] agrees with central differences" in out


@pytest.mark.parametrize("mistake, failing", [
    ({"mask": lambda A: 1.0}, ["a unit inactive on every example", "at the kink"]),
    ({"mask": lambda A: A >= 0}, ["at the kink"]),
    ({"per_example": False}, ["a batch of 7: dW1", "a batch of 7: db2"]),
    ({"db2_reduce": np.mean}, ["a batch of 7: db2", "agrees with central differences"]),
    ({"transpose_W1": True}, ["shapes:", "a batch of 7: dW1"]),
], ids=["no ReLU mask", "mask a >= 0", "no 1/N", "db2 divided by N twice", "dW1 transposed"])
def test_hidden_layer_typical_mistakes_fail(mistake, failing, capsys):
    out = _failure_report(ch2.ch2_hidden_layer_grads,
                          lambda *args: hidden_grads(*args, **mistake), capsys)
    for description in failing:
        assert f"[FAIL] {description}" in out, out


def test_hidden_layer_through_dl_dp_fails_when_confidently_wrong(capsys):
    def product_form(s, y):
        with np.errstate(all="ignore"):
            p = sigmoid(s)
            return (-y / p + (1 - y) / (1 - p)) * p * (1 - p)
    out = _failure_report(ch2.ch2_hidden_layer_grads,
                          lambda *args: hidden_grads(*args, residual=product_form), capsys)
    assert "[PASS] a batch of 7: dW1" in out
    assert "[FAIL] a confidently wrong network" in out and "9 of 10 tests passed" in out


def test_hidden_layer_with_a_wrong_return_type_fails(capsys):
    result = ch2.ch2_hidden_layer_grads(
        lambda *args: dict(zip(("W1", "b1", "w2", "b2"), good_hidden_grads(*args))))
    out = capsys.readouterr().out
    assert not result.ok and not result.not_implemented and result.passed == 0
    assert "raised:    TypeError: return a tuple (dW1, db1, dw2, db2), not dict" in out
    assert "Traceback" not in out


def test_reports_never_show_reference_code(capsys):
    ch2.sigmoid_unit_backward(lambda X, y, w, b: (np.zeros(X.shape[1]), 0.0))
    out = capsys.readouterr().out
    assert "def " not in out and "return" not in out


def _relative_errors(f, grad_f, x, h=1e-5):
    x = np.array(x, dtype=float)
    a = np.asarray(grad_f(x.copy()), dtype=float)
    n = np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    scale = np.maximum(np.abs(a), np.abs(n))
    return np.where(scale == 0, 0.0, np.abs(a - n) / np.where(scale == 0, 1, scale))


@pytest.mark.parametrize("reduce", [lambda e: e[0], lambda e: e[-1], np.mean],
                         ids=["first entry", "last entry", "mean"])
def test_gradient_check_that_is_not_the_largest_over_entries_fails(reduce, capsys):
    """Review item 4: the error of one entry (or the mean) passed every test before."""
    out = _failure_report(ch2.gradient_check, lambda f, g, x: float(reduce(_relative_errors(f, g, x))),
                          capsys)
    assert "[FAIL] tiny gradients are judged on their own scale" in out
    assert "entry 2" in out and "largest" in out


def test_gradient_check_returning_a_tensor_that_requires_grad_fails_cleanly(capsys):
    """Review item 5: np.asarray of such a tensor raises RuntimeError; that is a FAIL line with
    the fix, not a traceback out of the self-check."""
    torch = pytest.importorskip("torch")

    def as_tensor(f, grad_f, x):
        return torch.tensor(good_gradient_check(f, grad_f, x), requires_grad=True) * 1.0

    with warnings.catch_warnings():  # float(tensor) in a predicate: torch may warn
        warnings.simplefilter("ignore")
        result = ch2.gradient_check(as_tensor)
    out = capsys.readouterr().out
    assert not result.ok and "[FAIL] a gradient 10 % too large" in out
    assert "tensor.detach().numpy()" in out and "Traceback" not in out


# -- the gradient through a deep sigmoid chain ---------------------------------------------------

@pytest.mark.parametrize("mistake", [
    {"local": lambda w_k, a, h: float(sigmoid(a) * (1 - sigmoid(a)))},          # forgot the weight
    {"local": lambda w_k, a, h: w_k * float(sigmoid_grad(h))},                 # σ' of the output h, not of a
    {"local": lambda w_k, a, h: w_k * h},                                        # σ instead of σ'
    {"local": lambda w_k, a, h: abs(w_k) * float(sigmoid(a) * (1 - sigmoid(a)))},  # lost the sign
    {"skip_last": True},                                                         # one layer short
], ids=["no-weight", "sigma-prime-of-output", "sigma-not-sigma-prime", "abs-weight", "one-layer-short"])
def test_chain_input_grad_typical_mistakes_fail(mistake, capsys):
    _failure_report(ch2.chain_input_grad, lambda x, w, b: chain_grad(x, w, b, **mistake), capsys)


def test_chain_input_grad_by_finite_differences_fails(capsys):
    def by_differences(x, w, b, h=1e-5):
        def out(v):
            for w_k, b_k in zip(w, b):
                v = float(sigmoid(w_k * v + b_k))
            return v
        return (out(x + h) - out(x - h)) / (2 * h)

    out = _failure_report(ch2.chain_input_grad, by_differences, capsys)
    assert "sixty layers" in out


def test_chain_input_grad_as_the_chapter_writes_it_passes(capsys):
    def from_chapter(x, w, b):
        h, grad = float(x), 1.0
        for w_k, b_k in zip(w, b):
            a = w_k * h + b_k
            grad *= w_k * float(sigmoid_grad(a))
            h = float(sigmoid(a))
        return float(grad)

    assert ch2.chain_input_grad(from_chapter).ok
