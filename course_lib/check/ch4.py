"""Self-checks for chapter 4, "Initialising the output bias to the class prior".

Each check calls your function on chosen inputs and compares it with the course's reference
values (computed here, never shown as code): the prior bias, the bias-only loss and its
gradient, the output-bias initialisation of a torch model, and class weights.
"""

from __future__ import annotations

import math

import numpy as np

from ._core import Check, CheckResult
from .registry import Exercise

__all__ = ["prior_bias_from_counts", "bias_only_loss", "init_output_bias", "class_weights", "EXERCISES"]

FRAUD_POS, FRAUD_NEG = 492, 284_315


def _fraud_labels() -> np.ndarray:
    return np.r_[np.zeros(FRAUD_NEG), np.ones(FRAUD_POS)]


def _reference_bias_only(b: float, y: np.ndarray) -> tuple[float, float]:
    """Mean BCE of the constant logit b, computed stably, and its derivative in b."""
    softplus = max(b, 0.0) + math.log1p(math.exp(-abs(b)))
    sig = 1.0 / (1.0 + math.exp(-b)) if b >= 0 else math.exp(b) / (1.0 + math.exp(b))
    return softplus - float(np.mean(y)) * b, sig - float(np.mean(y))


def prior_bias_from_counts(prior_bias_from_counts) -> CheckResult:
    """Check ``prior_bias_from_counts(pos, neg)`` = log(pos/neg)."""
    c = Check("ex-ch4-prior-bias", "the prior bias from the class counts")
    hint = "σ(b₀) must equal pos/(pos + neg); solve for b₀ (the log-odds of the base rate)."
    for pos, neg in ((FRAUD_POS, FRAUD_NEG), (1, 1), (10, 100), (99, 1), (3, 7)):
        c.close(f"prior_bias_from_counts({pos}, {neg})", lambda: float(prior_bias_from_counts(pos, neg)),
                math.log(pos / neg), rtol=1e-9, inputs=f"pos = {pos}, neg = {neg}", hint=hint)
    c.that("σ(b₀) equals the base rate 492/284,807",
           lambda: float(prior_bias_from_counts(FRAUD_POS, FRAUD_NEG)),
           lambda b: abs(1 / (1 + math.exp(-b)) - FRAUD_POS / (FRAUD_POS + FRAUD_NEG)) < 1e-12,
           expected=f"a b with σ(b) = {FRAUD_POS / (FRAUD_POS + FRAUD_NEG):.10f}",
           inputs="pos = 492, neg = 284315", hint=hint)
    c.close("large counts (no overflow)", lambda: float(prior_bias_from_counts(10**12, 10**15)),
            math.log(1e-3), rtol=1e-9, inputs="pos = 10**12, neg = 10**15",
            hint="Work with the ratio or the difference of logs, not with huge intermediate values.")
    return c.done()


def bias_only_loss(bias_only_loss) -> CheckResult:
    """Check ``bias_only_loss(b, y)`` -> (mean BCE of the constant logit b, d loss / d b)."""
    c = Check("ex-ch4-bias-only-loss", "the loss and gradient of a bias-only model")
    y_fraud = _fraud_labels()
    b0 = math.log(FRAUD_POS / FRAUD_NEG)
    y_small = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    loss_hint = "The loss is the mean of −[y log σ(b) + (1 − y) log(1 − σ(b))] over the labels."
    grad_hint = "d loss / d b = mean(σ(b) − y)."
    cases = ((0.0, y_small, "b = 0.0, y = [0, 1, 0, 0, 1, 0, 0, 0]"),
             (1.5, y_small, "b = 1.5, y = [0, 1, 0, 0, 1, 0, 0, 0]"),
             (b0, y_fraud, "b = log(492/284315), y = 284315 zeros and 492 ones"))
    for b, y, shown in cases:
        loss, grad = _reference_bias_only(b, y)
        c.close(f"loss at {shown.split(',')[0]}", lambda: float(bias_only_loss(b, y)[0]), loss,
                rtol=1e-8, inputs=shown, hint=loss_hint)
        c.close(f"gradient at {shown.split(',')[0]}", lambda: float(bias_only_loss(b, y)[1]), grad,
                rtol=1e-7, atol=1e-12, inputs=shown, hint=grad_hint)
    pi = FRAUD_POS / (FRAUD_POS + FRAUD_NEG)
    entropy = -pi * math.log(pi) - (1 - pi) * math.log(1 - pi)
    c.close("at b₀ the loss is the base-rate entropy H(π)", lambda: float(bias_only_loss(b0, y_fraud)[0]),
            entropy, rtol=1e-8, inputs="b = log(492/284315), fraud labels",
            hint="With a constant prediction p = π, the mean BCE is −π log π − (1 − π) log(1 − π).")
    c.close("stable for b = −800 (loss = 800·mean(y))", lambda: float(bias_only_loss(-800.0, y_small)[0]),
            800.0 * y_small.mean(), rtol=1e-9, inputs="b = -800.0, y = [0, 1, 0, 0, 1, 0, 0, 0]",
            hint="σ(−800) rounds to 0 and log 0 = −inf: write log σ(b) as −softplus(−b) "
                 "(course_lib.functional has log_sigmoid and softplus), as in chapter 3.")

    def gradient_and_difference(b, h=1e-6):
        up, down = float(bias_only_loss(b + h, y_small)[0]), float(bias_only_loss(b - h, y_small)[0])
        return np.array([float(bias_only_loss(b, y_small)[1]), (up - down) / (2 * h)])

    for b in (-3.0, 0.7):
        c.that(f"gradient matches central differences of your loss at b = {b}",
               lambda: gradient_and_difference(b),
               lambda pair: abs(pair[0] - pair[1]) <= 1e-9 + 1e-5 * abs(pair[1]),
               expected="[your gradient, (loss(b + h) − loss(b − h)) / 2h] equal within rtol 1e-5",
               inputs=f"b = {b}, h = 1e-6, y = [0, 1, 0, 0, 1, 0, 0, 0]",
               hint="Your gradient and your loss disagree: differentiate the loss you wrote.")
    return c.done()


def init_output_bias(init_output_bias) -> CheckResult:
    """Check ``init_output_bias(model, pos, neg)``: last Linear's bias = log(pos/neg), nothing else."""
    import torch
    from torch import nn

    from ..fraud_model import make_model

    c = Check("ex-ch4-init-output-bias", "set a torch model's output bias to the prior")
    b0 = math.log(FRAUD_POS / FRAUD_NEG)

    def run_on(model, pos, neg):
        before = {k: v.detach().clone() for k, v in model.named_parameters()}
        init_output_bias(model, pos, neg)
        return model, before

    def last_linear(model):
        return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]

    ran = {}

    def fraudnet():
        ran["fraudnet"] = run_on(make_model(29, None, seed=0), FRAUD_POS, FRAUD_NEG)
        return float(last_linear(ran["fraudnet"][0]).bias.item())

    c.close("FraudNet: the output bias becomes log(492/284315)", fraudnet, b0, rtol=1e-6,
            inputs="make_model(29, seed=0), pos = 492, neg = 284315",
            hint="Find the last nn.Linear of the model and fill its bias with log(pos/neg) "
                 "inside torch.no_grad().")

    def unchanged():
        model, before = ran["fraudnet"]
        return [k for k, v in model.named_parameters()
                if not k.endswith("output.bias") and not torch.equal(v.detach(), before[k])]

    c.that("every other parameter is unchanged", unchanged, lambda changed: changed == [],
           expected="no parameter other than the output bias changed",
           inputs="make_model(29, seed=0)",
           hint="Only the bias of the last layer should change; leave the weights alone.")
    c.that("the bias is still a trainable parameter",
           lambda: (lambda b: bool(isinstance(b, nn.Parameter) and b.requires_grad))(
               last_linear(ran["fraudnet"][0]).bias),
           lambda ok: ok is True, expected="True (an nn.Parameter with requires_grad)",
           inputs="make_model(29, seed=0)",
           hint="Change the values in place (bias.fill_(...) under torch.no_grad()), do not "
                "replace the Parameter by a plain tensor.")

    def sequential():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
        model, _ = run_on(model, 1, 9)
        return float(model[2].bias.item())

    c.close("any model ending in a Linear layer (nn.Sequential)", sequential,
            math.log(1 / 9), rtol=1e-6, inputs="nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 1)), pos = 1, neg = 9",
            hint="Do not rely on an attribute name such as model.output: look for the last nn.Linear.")
    return c.done()


def class_weights(class_weights) -> CheckResult:
    """Check ``class_weights(y)`` -> (w0, w1) = (N / (2·neg), N / (2·pos))."""
    c = Check("ex-ch4-class-weights", "balanced class weights")
    hint = "Each class gets total weight N/2: w_c = N / (2 · count of class c)."
    y_fraud = _fraud_labels()
    n = FRAUD_POS + FRAUD_NEG
    c.close("y = [0, 0, 0, 1]", lambda: np.asarray(class_weights(np.array([0.0, 0.0, 0.0, 1.0])), dtype=float),
            [4 / 6, 4 / 2], rtol=1e-9, inputs="y = [0, 0, 0, 1]", hint=hint)
    c.close("the fraud labels", lambda: np.asarray(class_weights(y_fraud), dtype=float),
            [n / (2 * FRAUD_NEG), n / (2 * FRAUD_POS)], rtol=1e-9,
            inputs="y = 284315 zeros and 492 ones", hint=hint)
    c.that("both classes then weigh N/2", lambda: np.asarray(class_weights(y_fraud), dtype=float),
           lambda w: abs(w[0] * FRAUD_NEG - n / 2) < 1e-6 and abs(w[1] * FRAUD_POS - n / 2) < 1e-6,
           expected=f"w0·neg = w1·pos = {n / 2}", inputs="the fraud labels", hint=hint)
    c.close("a balanced data set gets weights (1, 1)",
            lambda: np.asarray(class_weights(np.array([1.0, 0.0, 1.0, 0.0])), dtype=float), [1.0, 1.0],
            rtol=1e-12, inputs="y = [1, 0, 1, 0]", hint=hint)
    return c.done()


EXERCISES = [
    Exercise("ex-ch4-prior-bias", ("prior_bias_from_counts",), prior_bias_from_counts),
    Exercise("ex-ch4-bias-only-loss", ("bias_only_loss",), bias_only_loss),
    Exercise("ex-ch4-init-output-bias", ("init_output_bias",), init_output_bias),
    Exercise("ex-ch4-class-weights", ("class_weights",), class_weights),
]
