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
from course_lib.functional import log_sigmoid, sigmoid


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


# -- correct solutions -------------------------------------------------------------------------

def good_prior(pos, neg):
    return math.log(pos) - math.log(neg)


def good_loss(b, y):
    y = np.asarray(y, dtype=float)
    return (-np.mean(y * log_sigmoid(b) + (1 - y) * log_sigmoid(-b)), float(np.mean(sigmoid(b) - y)))


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

def naive_loss(b, y):  # the textbook formula: breaks at b = -800
    y = np.asarray(y, dtype=float)
    p = 1 / (1 + np.exp(-b))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), float(np.mean(p - y))


def wrong_sign_grad(b, y):
    loss, grad = good_loss(b, y)
    return loss, -grad


def init_touching_weights(model, pos, neg):
    good_init(model, pos, neg)
    with torch.no_grad():
        [m for m in model.modules() if isinstance(m, nn.Linear)][-1].weight.zero_()


def init_by_attribute(model, pos, neg):
    with torch.no_grad():
        model.output.bias.fill_(math.log(pos / neg))


CASES = [
    (ch4.prior_bias_from_counts, good_prior, [lambda pos, neg: math.log(neg / pos),
                                             lambda pos, neg: math.log(pos / (pos + neg))]),
    (ch4.bias_only_loss, good_loss, [naive_loss, wrong_sign_grad]),
    (ch4.init_output_bias, good_init, [init_touching_weights, init_by_attribute]),
    (ch4.class_weights, good_weights, [lambda y: (1.0, len(y) / np.sum(y)),
                                       lambda y: good_weights(y)[::-1]]),
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


def test_failures_name_input_and_tolerance_but_never_the_solution(capsys):
    ch4.bias_only_loss(naive_loss)
    out = capsys.readouterr().out
    assert "input:" in out and "tolerance:" in out and "b = -800.0" in out
    for solution_text in ("np.log(pos) - np.log(neg)", "fill_(", "log_sigmoid(b)", "n / (2"):
        assert solution_text not in out


def test_stable_loss_is_required_and_hinted(capsys):
    result = ch4.bias_only_loss(naive_loss)
    out = capsys.readouterr().out
    failed = [o.description for o in result.outcomes if o.status == "failed"]
    assert failed == ["stable for b = −800 (loss = 800·mean(y))"]
    assert "softplus" in out


def test_strict_mode_raises(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "1")
    with pytest.raises(check.CheckFailed):
        ch4.class_weights(lambda y: (1.0, 1.0))
    ch4.class_weights(good_weights)  # a pass does not raise


def test_registry_and_lookup_by_name():
    labels = [e.label for e in check.exercises_for("ch4")]
    assert labels == ["ex-ch4-prior-bias", "ex-ch4-bias-only-loss", "ex-ch4-init-output-bias",
                      "ex-ch4-class-weights"]
    for exercise in check.exercises_for("ch4_prior_bias"):
        assert getattr(check, exercise.functions[0]) is exercise.check
