"""Self-checks for chapter 4, "Initialising the output bias to the class prior".

Each check calls your function on chosen inputs and compares it with the course's reference
values (computed here, never shown as code): standardising with training statistics, the
expected loss of an untrained model, the prior bias, the bias-only loss and its gradient, the
output-bias initialisation of a torch model, class weights, the prior correction of a
pos_weight model, a threshold for a target recall, the focal loss's gradient, and the bias for a
ratio or a rate.
"""

from __future__ import annotations

import math

import numpy as np

from ._core import Check, CheckResult, probed
from .registry import Exercise

__all__ = ["ch4_standardise", "ch4_expected_initial_loss", "prior_bias_from_counts", "bias_only_loss",
           "init_output_bias", "class_weights", "corrected_probability", "threshold_for_recall",
           "focal_loss_grad", "ch4_bias_for_ratio_and_rate", "EXERCISES"]

FRAUD_POS, FRAUD_NEG = 492, 284_315


def _fraud_labels() -> np.ndarray:
    return np.r_[np.zeros(FRAUD_NEG), np.ones(FRAUD_POS)]


def _reference_bias_only(b: float, y: np.ndarray) -> tuple[float, float]:
    """Mean BCE of the constant logit b, computed stably, and its derivative in b."""
    softplus = max(b, 0.0) + math.log1p(math.exp(-abs(b)))
    sig = 1.0 / (1.0 + math.exp(-b)) if b >= 0 else math.exp(b) / (1.0 + math.exp(b))
    return softplus - float(np.mean(y)) * b, sig - float(np.mean(y))


def _softplus(s: float) -> float:
    return max(s, 0.0) + math.log1p(math.exp(-abs(s)))


def _sigmoid(s: float) -> float:
    return 1.0 / (1.0 + math.exp(-s)) if s >= 0 else math.exp(s) / (1.0 + math.exp(s))


# -- the task and the data: standardising with the training statistics --------------------------

def _reference_standardise(X_train, X_other, clip=5.0) -> np.ndarray:
    X_train, X_other = np.asarray(X_train, dtype=float), np.asarray(X_other, dtype=float)
    constant = X_train.max(axis=0) == X_train.min(axis=0)  # its computed std need not be exactly 0
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return np.clip((X_other - mean) / np.where(constant | (std == 0), 1.0, std), -clip, clip)


def ch4_standardise(standardise) -> CheckResult:
    """Check ``standardise(X_train, X_other, clip=5.0)``: X_other standardised with the mean and
    standard deviation (ddof 0) of X_train, a constant column only centred, clipped to ±clip."""
    from ..data import FEATURE_NAMES, Preprocessor

    c = Check("ex-ch4-standardise", "standardise with the training statistics only")
    run = lambda *args, **kw: np.asarray(standardise(*args, **kw), dtype=float)  # noqa: E731
    stats_hint = ("Take the mean and the standard deviation of each column of X_train (ddof = 0, "
                  "NumPy's default) and use them for X_other too, whatever X_other is.")
    X_train = np.array([[0.0, 2.0, 7.0], [2.0, 4.0, 7.0], [4.0, 0.0, 7.0], [6.0, 2.0, 7.0]])
    train_text = "X_train = [[0, 2, 7], [2, 4, 7], [4, 0, 7], [6, 2, 7]]"
    X_shifted = np.array([[9.0, 2.0, 7.0], [10.0, 3.0, 7.0], [11.0, 1.0, 7.0]])  # inside ±5: no clipping
    shifted_text = "X_other = [[9, 2, 7], [10, 3, 7], [11, 1, 7]]"

    c.close("the training rows themselves (standardise(X_train, X_train))",
            lambda: run(X_train, X_train, clip=5.0), _reference_standardise(X_train, X_train), rtol=1e-9,
            inputs=f"{train_text}, X_other = X_train, clip = 5.0",
            hint=stats_hint + " The third column is constant: centre it, and divide by 1 instead of 0.")
    c.close("other rows use the statistics of X_train, not their own",
            lambda: run(X_train, X_shifted, clip=5.0), _reference_standardise(X_train, X_shifted), rtol=1e-9,
            inputs=f"{train_text}, {shifted_text}, clip = 5.0", hint=stats_hint)

    def one_row_at_a_time():
        whole = run(X_train, X_shifted, clip=5.0)
        alone = np.vstack([run(X_train, X_shifted[k:k + 1], clip=5.0) for k in range(len(X_shifted))])
        return np.abs(whole - alone).max()

    c.that("a row's result does not depend on the other rows of X_other (no leakage)", one_row_at_a_time,
           lambda gap: np.isfinite(gap) and gap <= 1e-12,
           expected="the same rows whether X_other is passed whole or one row at a time (difference 0)",
           inputs=f"{train_text}, {shifted_text}, then each row of X_other alone",
           hint="Nothing computed from X_other may enter the transformation; only X_train is fitted.")
    X_far = np.array([[100.0, -1.0, 9.0], [-100.0, 2.0, 5.0]])
    for clip in (5.0, 2.0):
        c.close(f"values beyond ±clip become ±clip exactly (clip = {clip:g})",
                lambda clip=clip: run(X_train, X_far, clip=clip), _reference_standardise(X_train, X_far, clip),
                rtol=1e-9, inputs=f"{train_text}, X_other = [[100, -1, 9], [-100, 2, 5]], clip = {clip:g}",
                hint="Clip after standardising, to [-clip, clip] (np.clip), using the argument clip.")
    c.close("the default clip is 5", lambda: run(X_train, X_far), _reference_standardise(X_train, X_far, 5.0),
            rtol=1e-9, inputs=f"{train_text}, X_other = [[100, -1, 9], [-100, 2, 5]], clip not given",
            hint="Give clip the default value 5.0 in the def line.")

    X_tenths = np.column_stack([np.full(1000, 0.1), np.arange(1000.0)])  # np.std of column 0: 1.4e-17
    X_near = np.array([[0.1000001, 3.0], [0.0999999, 500.0]])
    c.close("a constant column whose computed std is not exactly 0 is only centred",
            lambda: run(X_tenths, X_near, clip=5.0), _reference_standardise(X_tenths, X_near), rtol=1e-6,
            atol=1e-12, inputs="X_train: 1000 rows, column 0 all 0.1, column 1 = 0, 1, ..., 999; "
                               "X_other = [[0.1000001, 3], [0.0999999, 500]], clip = 5.0",
            hint="np.std(np.full(1000, 0.1)) is about 1.4e-17, not 0: detect a constant column by "
                 "comparing its largest and smallest values, not by std > 0.")

    def inputs_kept():
        a, b = X_train.copy(), X_shifted.copy()
        standardise(a, b, clip=5.0)
        return bool(np.array_equal(a, X_train) and np.array_equal(b, X_shifted))

    c.that("X_train and X_other are not modified", inputs_kept, lambda same: same is True,
           expected="True (both arrays unchanged after the call)", inputs=f"{train_text}, {shifted_text}",
           hint="Compute new arrays (X - mean) / std instead of changing X in place (-=, /=).")

    rng = np.random.default_rng(4)
    X_raw = rng.standard_t(3, size=(300, len(FEATURE_NAMES)))
    X_raw[:, 0] = np.sort(rng.uniform(0, 172_792, size=300))  # Time
    X_raw[:, -1] = rng.lognormal(3.0, 1.5, size=300)  # Amount
    train, other = np.arange(240), np.arange(240, 300)
    prepared = np.delete(X_raw, 0, axis=1)  # Time dropped
    prepared[:, -1] = np.log(prepared[:, -1] + 0.001)
    expected = Preprocessor(FEATURE_NAMES).fit(X_raw[train]).transform(X_raw[other])
    c.close("agrees with course_lib.data.Preprocessor on fraud-like data",
            lambda: run(prepared[train], prepared[other], clip=5.0), expected, rtol=1e-9, atol=1e-9,
            inputs="300 rows of heavy-tailed fake transactions (Time dropped, Amount logged): "
                   "rows 0-239 as X_train, rows 240-299 as X_other, clip = 5.0",
            hint="Preprocessor standardises each column with the training mean and std (ddof 0), "
                 "then clips to [-5, 5]. " + stats_hint)
    return c.done()


# -- the untrained model: the expected initial loss ---------------------------------------------

def _reference_initial_loss(mu: float, tau: float, pi: float, delta: float = 0.0) -> float:
    sig = _sigmoid(mu)
    return (pi * _softplus(-mu) + (1 - pi) * _softplus(mu) + 0.5 * tau**2 * sig * (1 - sig)
            - pi * (1 - pi) * delta)


def ch4_expected_initial_loss(expected_initial_loss) -> CheckResult:
    """Check ``expected_initial_loss(mu, tau, pi, delta)`` = π·softplus(−μ) + (1 − π)·softplus(μ)
    + τ²·σ(μ)(1 − σ(μ))/2 − π(1 − π)·Δ, where Δ is the mean logit of the positives minus that of
    the negatives."""
    c = Check("ex-ch4-initial-loss", "the initial loss of an untrained model")
    f = lambda mu, tau, pi, delta=0.0: float(expected_initial_loss(mu, tau, pi, delta))  # noqa: E731
    pi_fraud = FRAUD_POS / (FRAUD_POS + FRAUD_NEG)
    entropy = -pi_fraud * math.log(pi_fraud) - (1 - pi_fraud) * math.log(1 - pi_fraud)
    base_hint = ("With every logit equal to μ the loss is π·(−log σ(μ)) + (1 − π)·(−log(1 − σ(μ))) "
                 "= π·softplus(−μ) + (1 − π)·softplus(μ).")
    for pi in (0.5, pi_fraud, 0.9):
        c.close(f"μ = 0, τ = 0: the loss is ln 2 whatever the base rate (π = {pi:.6g})",
                lambda pi=pi: f(0.0, 0.0, pi), math.log(2), rtol=1e-12,
                inputs=f"mu = 0.0, tau = 0.0, pi = {pi!r}, delta = 0.0", hint=base_hint)
    c.close("μ = logit(π), τ = 0: the loss is H(π), the entropy of the base rate",
            lambda: f(math.log(FRAUD_POS / FRAUD_NEG), 0.0, pi_fraud), entropy, rtol=1e-9,
            inputs="mu = log(492/284315), tau = 0.0, pi = 492/284807, delta = 0.0", hint=base_hint)
    spread_hint = ("Expand softplus(s) and softplus(−s) to second order around μ: both have second "
                   "derivative σ(μ)(1 − σ(μ)), and E[(s − μ)²] = τ² while E[s − μ] = 0.")
    for mu, tau, pi in ((-0.2, 0.17, 0.0017), (1.5, 0.5, 0.3), (-3.0, 1.0, 0.05)):
        c.close(f"with spread: μ = {mu}, τ = {tau}, π = {pi}", lambda mu=mu, tau=tau, pi=pi: f(mu, tau, pi),
                _reference_initial_loss(mu, tau, pi), rtol=1e-9,
                inputs=f"mu = {mu}, tau = {tau}, pi = {pi}, delta = 0.0", hint=spread_hint)
    label_hint = ("The loss of one example is g(s) − (y − π)·s with g(s) = π·softplus(−s) + "
                  "(1 − π)·softplus(s); averaged, (1/N)Σ(yᵢ − π)sᵢ = π(1 − π)Δ.")
    for mu, tau, pi, delta in ((-0.2, 0.17, 0.0017, -0.1), (-6.3, 0.18, 0.0017, 0.19), (1.5, 0.5, 0.3, 0.4)):
        c.close(f"logits correlated with the labels: μ = {mu}, τ = {tau}, π = {pi}, Δ = {delta}",
                lambda mu=mu, tau=tau, pi=pi, delta=delta: f(mu, tau, pi, delta),
                _reference_initial_loss(mu, tau, pi, delta), rtol=1e-9,
                inputs=f"mu = {mu}, tau = {tau}, pi = {pi}, delta = {delta}", hint=label_hint)

    def delta_slope(pi, h=1e-3):
        return np.array([-pi * (1 - pi), (f(-1.0, 0.3, pi, h) - f(-1.0, 0.3, pi, -h)) / (2 * h)])

    c.that("its slope in Δ (central differences of your function) is −π(1 − π)",
           lambda: delta_slope(0.2), lambda pair: abs(pair[0] - pair[1]) <= 1e-9,
           expected="[−π(1 − π), (f(Δ = h) − f(Δ = −h)) / 2h] equal within 1e-9",
           inputs="mu = -1.0, tau = 0.3, pi = 0.2, h = 1e-3", hint=label_hint)

    def slope_and_difference(mu, pi, h=1e-6):
        return np.array([_sigmoid(mu) - pi, (f(mu + h, 0.0, pi) - f(mu - h, 0.0, pi)) / (2 * h)])

    c.that("its slope in μ (τ = 0, central differences of your function) is σ(μ) − π",
           lambda: slope_and_difference(-1.0, 0.2),
           lambda pair: abs(pair[0] - pair[1]) <= 1e-7,
           expected="[σ(μ) − π, (f(μ + h) − f(μ − h)) / 2h] equal within 1e-7",
           inputs="mu = -1.0, tau = 0.0, pi = 0.2, delta = 0.0, h = 1e-6", hint=base_hint)

    nodes, weights = np.polynomial.hermite_e.hermegauss(60)

    def exact_expectation(mu, tau, pi):
        s = mu + tau * nodes
        sp = np.maximum(s, 0) + np.log1p(np.exp(-np.abs(s)))
        sp_neg = sp - s
        return float(np.sum(weights * (pi * sp_neg + (1 - pi) * sp)) / np.sqrt(2 * np.pi))

    c.close("close to the exact mean over normally distributed logits when τ is small",
            lambda: f(0.4, 0.1, 0.1), exact_expectation(0.4, 0.1, 0.1), rtol=0.0, atol=1e-5,
            inputs="mu = 0.4, tau = 0.1, pi = 0.1, delta = 0.0 (exact value by Gauss–Hermite quadrature)",
            hint=spread_hint)
    for mu, pi in ((1000.0, 0.25), (-1000.0, 0.25)):
        want = (1 - pi) * mu if mu > 0 else pi * -mu
        c.close(f"finite for μ = {mu:g} (no overflow)", lambda mu=mu, pi=pi: f(mu, 1.0, pi), want, rtol=1e-12,
                inputs=f"mu = {mu}, tau = 1.0, pi = {pi}, delta = 0.0",
                hint="e^{1000} overflows: use a stable softplus (max(s, 0) + log1p(e^{−|s|}), or "
                     "course_lib.functional.softplus) and a stable σ(μ)(1 − σ(μ)) (course_lib.functional"
                     ".sigmoid_grad).")
    return c.done()


def prior_bias_from_counts(prior_bias_from_counts) -> CheckResult:
    """Check ``prior_bias_from_counts(pos, neg)`` = log(pos/neg), to full relative accuracy also
    when pos ≈ neg (where b₀ is tiny and log(pos/neg) keeps only a few correct digits)."""
    c = Check("ex-ch4-prior-bias", "the prior bias from the class counts")
    hint = "σ(b₀) must equal pos/(pos + neg); solve for b₀ (the log-odds of the base rate)."
    f = lambda pos, neg: float(prior_bias_from_counts(pos, neg))  # noqa: E731
    for pos, neg in ((FRAUD_POS, FRAUD_NEG), (1, 1), (10, 100), (99, 1), (3, 7), (1, 10**15)):
        c.close(f"prior_bias_from_counts({pos}, {neg})", lambda pos=pos, neg=neg: f(pos, neg),
                math.log(pos / neg),
                rtol=1e-9, inputs=f"pos = {pos}, neg = {neg}",
                hint=hint + (" For counts this far apart, (pos − neg)/neg lies so close to −1 that "
                             "log1p of it has lost most of its digits: use log1p only when pos ≈ neg."
                             if neg == 10**15 else ""))
    c.that("σ(b₀) equals the base rate 492/284,807", lambda: f(FRAUD_POS, FRAUD_NEG),
           lambda b: abs(1 / (1 + math.exp(-b)) - FRAUD_POS / (FRAUD_POS + FRAUD_NEG)) < 1e-12,
           expected=f"a b with σ(b) = {FRAUD_POS / (FRAUD_POS + FRAUD_NEG):.10f}",
           inputs="pos = 492, neg = 284315", hint=hint)
    near_hint = ("When pos ≈ neg, pos/neg rounds to a float next to 1 and its log keeps only a few "
                 "correct digits (log(pos) − log(neg) keeps none). Python integers subtract exactly: "
                 "b₀ = log(1 + (pos − neg)/neg), and math.log1p computes log(1 + x) accurately for tiny x.")
    for pos, neg in ((10**15, 10**15 + 1), (10**12 + 3, 10**12)):
        want = math.log1p((pos - neg) / neg)
        c.close(f"full relative accuracy when pos ≈ neg: prior_bias_from_counts({pos}, {neg})",
                lambda pos=pos, neg=neg: f(pos, neg), want, rtol=1e-6, atol=0.0,
                inputs=f"pos = {pos}, neg = {neg} (b₀ = {want:.6e})", hint=near_hint)
    return c.done()


def _reference_weighted_bias_only(b: float, y: np.ndarray, w: float) -> tuple[float, float]:
    """Mean over the N labels of −[w·y·log σ(b) + (1 − y)·log(1 − σ(b))], and its derivative in b."""
    pi = float(np.mean(y))
    loss = w * pi * _softplus(-b) + (1 - pi) * _softplus(b)
    return loss, (1 - pi) * _sigmoid(b) - w * pi * _sigmoid(-b)


def bias_only_loss(bias_only_loss) -> CheckResult:
    """Check ``bias_only_loss(b, y, pos_weight=1.0)`` -> (mean weighted BCE of the constant logit
    b over the N labels, as ``BCEWithLogitsLoss(pos_weight=...)`` with reduction "mean", and its
    derivative in b)."""
    c = Check("ex-ch4-bias-only-loss", "the (weighted) loss and gradient of a bias-only model")
    y_fraud = _fraud_labels()
    b0 = math.log(FRAUD_POS / FRAUD_NEG)
    w_fraud = FRAUD_NEG / FRAUD_POS
    y_small = np.array([0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    loss_hint = ("The loss is the mean over the N labels of −[w·y·log σ(b) + (1 − y)·log(1 − σ(b))], "
                 "w = pos_weight multiplying the positive terms only, divided by N (not by the total weight).")
    grad_hint = "d loss / d b = mean((1 − y)·σ(b) − w·y·(1 − σ(b))); for w = 1 that is mean(σ(b) − y)."
    small = "y = [0, 1, 0, 0, 1, 0, 0, 0]"
    cases = ((0.0, y_small, None, f"b = 0.0, {small}, pos_weight not given"),
             (1.5, y_small, None, f"b = 1.5, {small}, pos_weight not given"),
             (b0, y_fraud, None, "b = log(492/284315), y = 284315 zeros and 492 ones, pos_weight not given"),
             (0.5, y_small, 3.0, f"b = 0.5, {small}, pos_weight = 3.0"),
             (-2.0, y_fraud, w_fraud, "b = -2.0, the fraud labels, pos_weight = 284315/492"))

    def call(b, y, w):
        return bias_only_loss(b, y) if w is None else bias_only_loss(b, y, w)

    for b, y, w, shown in cases:
        loss, grad = _reference_weighted_bias_only(b, y, 1.0 if w is None else w)
        name = shown.split(",")[0] + ("" if w is None else f", pos_weight = {w:.4g}")
        c.close(f"loss at {name}", lambda b=b, y=y, w=w: float(call(b, y, w)[0]), loss,
                rtol=1e-8, inputs=shown, hint=loss_hint)
        c.close(f"gradient at {name}", lambda b=b, y=y, w=w: float(call(b, y, w)[1]), grad,
                rtol=1e-7, atol=1e-12, inputs=shown, hint=grad_hint)
    pi = FRAUD_POS / (FRAUD_POS + FRAUD_NEG)
    entropy = -pi * math.log(pi) - (1 - pi) * math.log(1 - pi)
    c.close("unweighted, at b₀ the loss is the base-rate entropy H(π)",
            lambda: float(bias_only_loss(b0, y_fraud)[0]), entropy, rtol=1e-8,
            inputs="b = log(492/284315), fraud labels",
            hint="With a constant prediction p = π, the mean BCE is −π log π − (1 − π) log(1 − π).")
    c.close("with pos_weight = neg/pos the gradient vanishes at b = 0 (the weighted prior is 1/2)",
            lambda: float(bias_only_loss(0.0, y_fraud, w_fraud)[1]), 0.0, rtol=0.0, atol=1e-12,
            inputs="b = 0.0, the fraud labels, pos_weight = 284315/492", hint=grad_hint)
    c.close("stable for b = −800 (loss = 800·w·mean(y))", lambda: float(bias_only_loss(-800.0, y_small, 2.0)[0]),
            800.0 * 2.0 * y_small.mean(), rtol=1e-9, inputs=f"b = -800.0, {small}, pos_weight = 2.0",
            hint="σ(−800) rounds to 0 and log 0 = −inf: write log σ(b) as −softplus(−b) "
                 "(course_lib.functional has log_sigmoid and softplus), as in chapter 3.")

    def gradient_and_difference(b, w, h=1e-6):
        up, down = float(bias_only_loss(b + h, y_small, w)[0]), float(bias_only_loss(b - h, y_small, w)[0])
        return np.array([float(bias_only_loss(b, y_small, w)[1]), (up - down) / (2 * h)])

    for b, w in ((-3.0, 1.0), (0.7, 5.0)):
        c.that(f"gradient matches central differences of your loss at b = {b}, pos_weight = {w}",
               lambda b=b, w=w: gradient_and_difference(b, w),
               lambda pair: abs(pair[0] - pair[1]) <= 1e-9 + 1e-5 * abs(pair[1]),
               expected="[your gradient, (loss(b + h) − loss(b − h)) / 2h] equal within rtol 1e-5",
               inputs=f"b = {b}, h = 1e-6, {small}, pos_weight = {w}",
               hint="Your gradient and your loss disagree: differentiate the loss you wrote.")
    return c.done()


def init_output_bias(init_output_bias) -> CheckResult:
    """Check ``init_output_bias(model, pos, neg)``: last Linear's bias = log(pos/neg), nothing else."""
    import torch

    from . import probes

    c = Check("ex-ch4-init-output-bias", "set a torch model's output bias to the prior")
    b0 = math.log(FRAUD_POS / FRAUD_NEG)
    # The model is built and changed by a probe (in the student's process); what comes back is
    # its parameters after the call, the last Linear's bias and whether it is still trainable.
    on_model = probed(init_output_bias, probes.init_output_bias_on)
    ran = {}

    def fraudnet():
        ran["fraudnet"] = on_model("fraudnet", FRAUD_POS, FRAUD_NEG)
        return float(ran["fraudnet"]["last_bias"])

    c.close("FraudNet: the output bias becomes log(492/284315)", fraudnet, b0, rtol=1e-6,
            inputs="make_model(29, seed=0), pos = 492, neg = 284315",
            hint="Find the last nn.Linear of the model and fill its bias with log(pos/neg) "
                 "inside torch.no_grad().")

    def unchanged():
        before = {k: v.detach() for k, v in probes.make_probe_model("fraudnet").named_parameters()}
        after = ran["fraudnet"]["after"]
        return [k for k in before if not k.endswith("output.bias")
                and not (k in after and torch.equal(torch.as_tensor(np.asarray(after[k])), before[k]))]

    c.that("every other parameter is unchanged", unchanged, lambda changed: changed == [],
           expected="no parameter other than the output bias changed",
           inputs="make_model(29, seed=0)",
           hint="Only the bias of the last layer should change; leave the weights alone.")
    c.that("the bias is still a trainable parameter", lambda: ran["fraudnet"]["trainable"],
           lambda ok: ok is True, expected="True (an nn.Parameter with requires_grad)",
           inputs="make_model(29, seed=0)",
           hint="Change the values in place (bias.fill_(...) under torch.no_grad()), do not "
                "replace the Parameter by a plain tensor.")
    c.close("any model ending in a Linear layer (nn.Sequential)",
            lambda: float(on_model("sequential", 1, 9)["last_bias"]),
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


# -- decisions: a threshold for a target recall --------------------------------------------------

def _reference_threshold(y: np.ndarray, p: np.ndarray, target: float) -> float:
    scores = np.sort(np.asarray(p, dtype=float)[np.asarray(y) == 1])[::-1]
    k = max(1, math.ceil(target * scores.size - 1e-9))  # the k highest-scored positives must be caught
    return float(scores[k - 1])


def threshold_for_recall(threshold_for_recall) -> CheckResult:
    """Check ``threshold_for_recall(y, p, target)``: the highest threshold t whose recall
    (fraction of positives with p ≥ t) is at least ``target``."""
    c = Check("ex-ch4-threshold", "a threshold for a target recall")
    f = lambda y, p, target: float(threshold_for_recall(np.asarray(y, dtype=float), np.asarray(p, dtype=float), target))  # noqa: E731
    hint = ("Flag p ≥ t. Recall only depends on the positives' scores: to reach the target you must "
            "catch the k = ⌈target · n_pos⌉ highest-scored positives, and the highest such t is the "
            "k-th highest positive score (not a negative's score, not the lowest threshold).")
    y = np.array([0, 1, 0, 1, 1, 0, 1, 0, 1, 0], dtype=float)
    p = np.array([0.05, 0.9, 0.7, 0.4, 0.65, 0.3, 0.2, 0.95, 0.1, 0.6])
    shown = "y = [0, 1, 0, 1, 1, 0, 1, 0, 1, 0], p = [0.05, 0.9, 0.7, 0.4, 0.65, 0.3, 0.2, 0.95, 0.1, 0.6]"
    for target in (0.2, 0.5, 0.6, 0.8, 1.0):
        c.close(f"target recall {target} on ten examples", lambda target=target: f(y, p, target),
                _reference_threshold(y, p, target), rtol=0.0, atol=1e-12,
                inputs=f"{shown}, target = {target}", hint=hint)
    y_tied = np.array([1, 1, 0, 1, 0, 1], dtype=float)
    p_tied = np.array([0.8, 0.5, 0.5, 0.5, 0.9, 0.2])
    c.close("tied scores count together", lambda: f(y_tied, p_tied, 0.5), 0.5, rtol=0.0, atol=1e-12,
            inputs="y = [1, 1, 0, 1, 0, 1], p = [0.8, 0.5, 0.5, 0.5, 0.9, 0.2], target = 0.5", hint=hint)
    rng = np.random.default_rng(7)
    y_big = (rng.random(5000) < 0.01).astype(float)
    y_big[:3] = 1.0
    p_big = 1.0 / (1.0 + np.exp(-(rng.normal(size=5000) + 2.5 * y_big - 4.0)))

    def reached_and_highest():
        t = f(y_big, p_big, 0.8)
        pos_scores = p_big[y_big == 1]
        higher = pos_scores[pos_scores > t]
        next_up = higher.min() if higher.size else np.inf
        return np.array([np.mean(pos_scores >= t), np.mean(pos_scores >= next_up)])

    c.that("its recall reaches the target, and the next higher positive score's does not",
           reached_and_highest, lambda r: r[0] >= 0.8 and r[1] < 0.8,
           expected="[recall at t ≥ 0.8, recall at the next higher positive score < 0.8]",
           inputs="5000 random examples, about 1 % positive (seed 7), target = 0.8", hint=hint)
    return c.done()


# -- calibration: correcting a pos_weight model back to the data's prior ------------------------

def _reference_corrected(s, w: float) -> np.ndarray:
    z = np.asarray(s, dtype=float) - math.log(w)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def corrected_probability(corrected_probability) -> CheckResult:
    """Check ``corrected_probability(s, pos_weight)`` = σ(s − log pos_weight), elementwise, stable."""
    c = Check("ex-ch4-logit-adjustment", "the prior correction of a pos_weight model")
    f = lambda s, w: np.asarray(corrected_probability(np.asarray(s, dtype=float), w), dtype=float)  # noqa: E731
    hint = ("Training with pos_weight w multiplies the odds the model predicts by w (chapter 3). Divide "
            "the odds by w again: the corrected logit is s − log w, and its probability σ(s − log w).")
    s = np.array([-8.0, -3.0, 0.0, 2.5, 6.0])
    shown = "s = [-8, -3, 0, 2.5, 6]"
    w_fraud = FRAUD_NEG / FRAUD_POS
    for w in (1.0, 4.0, w_fraud):
        c.close(f"pos_weight = {w:.6g}", lambda w=w: f(s, w), _reference_corrected(s, w), rtol=1e-9,
                atol=1e-300, inputs=f"{shown}, pos_weight = {w!r}", hint=hint)
    c.close("the weighted bias-only optimum (logit 0 for pos_weight = neg/pos) maps back to the base rate",
            lambda: float(f(np.array([0.0]), w_fraud)[0]), FRAUD_POS / (FRAUD_POS + FRAUD_NEG), rtol=1e-12,
            inputs="s = [0.0], pos_weight = 284315/492", hint=hint)
    extreme = np.array([-800.0, -40.0, 40.0, 800.0])
    # Finite and accurate is what the statement asks; floating-point warnings on the way are allowed
    # (np.where evaluates both branches of a "stable" sigmoid, and 1/(1 + exp(813.8)) is exactly 0).
    c.close("finite and accurate for extreme logits", lambda: f(extreme, 1e6),
            _reference_corrected(extreme, 1e6), rtol=1e-9, atol=1e-300,
            inputs="s = [-800, -40, 40, 800], pos_weight = 1e6",
            hint="Probabilities lose the information: σ(800) rounds to 1, so odds p/(1 − p) become 1/0 and "
                 "the result nan. Subtract log w from the logit itself and take the sigmoid of that "
                 "(course_lib.functional.sigmoid is stable for every finite logit).")
    rng = np.random.default_rng(3)
    s_many = rng.normal(-2.0, 3.0, size=200)
    c.that("the ranking of the examples is unchanged",
           lambda: np.argsort(f(s_many, 50.0), kind="stable"),
           lambda order: np.array_equal(order, np.argsort(s_many, kind="stable")),
           expected="the same order as the logits", inputs="200 random logits, pos_weight = 50", hint=hint)
    return c.done()


# -- focal loss: its gradient at the logit ------------------------------------------------------

def _reference_focal_grad(s, y, gamma: float) -> np.ndarray:
    from ..losses import focal_loss_with_logits_grad

    return np.asarray(focal_loss_with_logits_grad(np.asarray(s, dtype=float), np.asarray(y, dtype=float),
                                                  gamma=gamma, reduction="none"), dtype=float)


def focal_loss_grad(focal_loss_grad) -> CheckResult:
    """Check ``focal_loss_grad(s, y, gamma=2.0)``: d FL / d s per example (no α), FL = −(1 − p_t)^γ log p_t."""
    from ..losses import focal_loss_with_logits

    c = Check("ex-ch4-focal-grad", "the focal loss's gradient at the logit")
    f = lambda s, y, gamma: np.asarray(focal_loss_grad(np.asarray(s, dtype=float), np.asarray(y, dtype=float), gamma), dtype=float)  # noqa: E731
    hint = ("With t = 2y − 1, m = t·s, p_t = σ(m), q = 1 − p_t and u = −log p_t: both q^γ and u depend "
            "on s. dq/dm = −p_t·q and du/dm = −q, so d(q^γ u)/dm = −q^γ(γ·p_t·u + q), and d/ds = t·d/dm.")
    s = np.array([-4.0, -1.0, 0.0, 0.5, 3.0])
    for y_value in (1.0, 0.0):
        y = np.full(s.shape, y_value)
        c.close(f"γ = 0 is BCE's gradient σ(s) − y (y = {y_value:g})", lambda y=y: f(s, y, 0.0), _reference_focal_grad(s, y, 0.0),
                rtol=1e-9, atol=1e-12, inputs=f"s = [-4, -1, 0, 0.5, 3], y = {y_value:g}, gamma = 0", hint=hint)
        for gamma in (2.0, 0.5):
            c.close(f"γ = {gamma:g}, y = {y_value:g}", lambda y=y, gamma=gamma: f(s, y, gamma),
                    _reference_focal_grad(s, y, gamma), rtol=1e-9, atol=1e-12,
                    inputs=f"s = [-4, -1, 0, 0.5, 3], y = {y_value:g}, gamma = {gamma:g}", hint=hint)

    def against_differences(h=1e-6):
        s_mixed, y_mixed = np.array([-2.0, -0.3, 1.2, 2.0]), np.array([1.0, 0.0, 1.0, 0.0])
        up = np.asarray(focal_loss_with_logits(s_mixed + h, y_mixed, gamma=2.0, reduction="none"))
        down = np.asarray(focal_loss_with_logits(s_mixed - h, y_mixed, gamma=2.0, reduction="none"))
        return np.abs(f(s_mixed, y_mixed, 2.0) - (up - down) / (2 * h)).max()

    c.that("matches central differences of the focal loss (course_lib.losses.focal_loss_with_logits)",
           against_differences, lambda gap: np.isfinite(gap) and gap <= 1e-7,
           expected="largest difference ≤ 1e-7", inputs="s = [-2, -0.3, 1.2, 2], y = [1, 0, 1, 0], gamma = 2, h = 1e-6",
           hint=hint)
    s_far, y_far = np.array([-500.0, -40.0, 40.0, 500.0, -500.0, 500.0]), np.array([0.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    # Finite and accurate to a relative 1e-9, tiny gradients included (s = 40, y = 1: about −2.3e-52);
    # floating-point warnings on the way are allowed, as the statement does not forbid them.
    c.close("finite and accurate (relative 1e-9, tiny gradients included) for |s| up to 500",
            lambda: f(s_far, y_far, 2.0),
            _reference_focal_grad(s_far, y_far, 2.0), rtol=1e-9, atol=1e-300,
            inputs="s = [-500, -40, 40, 500, -500, 500], y = [0, 0, 1, 1, 1, 0], gamma = 2",
            hint="Out there 1 − σ(m) rounds to exactly 0 (for m = 40 the true value is about 4e-18, so the "
                 "gradient is about −2e-52, not 0), and σ(m) rounds to 0 for m = −500, whose log is −inf. "
                 "Compute q = 1 − p_t as σ(−m), q^γ as exp(−γ·softplus(m)) and u = −log p_t as softplus(−m) "
                 "(course_lib.functional), never through p = σ(s).")
    return c.done()


# -- the same idea elsewhere: a ratio is not a rate ---------------------------------------------

def ch4_bias_for_ratio_and_rate(bias_for_ratio, bias_for_rate) -> CheckResult:
    """Check ``bias_for_ratio(pos_per_neg)`` = log(pos_per_neg) and ``bias_for_rate(rate)`` =
    logit(rate)."""
    from ..init import prior_bias

    c = Check("ex-ch4-ratio-or-rate", "the bias for a class ratio and for a target rate")
    ratio_hint = ("pos_per_neg is the odds pos/neg: the prior bias is the log of the odds "
                  "(σ(b) = pos/(pos + neg)).")
    rate_hint = "σ(b) must equal the rate r: solve 1/(1 + e^{−b}) = r for b (the log-odds of r)."
    ratio = lambda x: float(bias_for_ratio(x))  # noqa: E731
    rate = lambda x: float(bias_for_rate(x))  # noqa: E731

    c.close("RetinaNet: rate 0.01", lambda: rate(0.01), -math.log(99.0), rtol=1e-9,
            inputs="bias_for_rate(0.01)", hint=rate_hint)
    c.close("a 1:10 ratio", lambda: ratio(0.1), math.log(0.1), rtol=1e-9, inputs="bias_for_ratio(0.1)",
            hint=ratio_hint)
    c.close("a rate of 0.1 (one in ten, a 1:9 ratio)", lambda: rate(0.1), math.log(1 / 9), rtol=1e-9,
            inputs="bias_for_rate(0.1)", hint=rate_hint)
    c.close("the fraud counts: agrees with course_lib.init.prior_bias(492, 284315)",
            lambda: ratio(FRAUD_POS / FRAUD_NEG), float(prior_bias(FRAUD_POS, FRAUD_NEG)), rtol=1e-9,
            inputs="bias_for_ratio(492 / 284315)", hint=ratio_hint)
    for r in (1e-6, FRAUD_POS / (FRAUD_POS + FRAUD_NEG), 0.3, 0.5, 0.9):
        c.that(f"σ(bias_for_rate(r)) = r for r = {r:.6g}", lambda r=r: rate(r),
               lambda b, r=r: abs(_sigmoid(b) - r) <= 1e-12 * min(r, 1 - r),
               expected=f"a b with σ(b) = {r!r}", inputs=f"bias_for_rate({r!r})", hint=rate_hint)
    c.that("σ(bias_for_ratio(0.1)) = 1/11 (one positive for ten negatives)", lambda: ratio(0.1),
           lambda b: abs(_sigmoid(b) - 1 / 11) <= 1e-13, expected=f"a b with σ(b) = 1/11 = {1 / 11!r}",
           inputs="bias_for_ratio(0.1)", hint=ratio_hint)

    def both(r):
        return np.array([ratio(r / (1 - r)), rate(r)])

    for r in (0.02, 0.75):
        c.that(f"a rate r and its ratio r/(1 − r) give the same bias (r = {r})", lambda r=r: both(r),
               lambda pair: abs(pair[0] - pair[1]) <= 1e-12 * max(1.0, abs(pair[1])),
               expected="[bias_for_ratio(r / (1 − r)), bias_for_rate(r)] equal",
               inputs=f"r = {r}", hint="A rate r means r positives for 1 − r negatives.")
    return c.done()


EXERCISES = [
    Exercise("ex-ch4-standardise", ("standardise",), ch4_standardise),
    Exercise("ex-ch4-initial-loss", ("expected_initial_loss",), ch4_expected_initial_loss),
    Exercise("ex-ch4-prior-bias", ("prior_bias_from_counts",), prior_bias_from_counts),
    Exercise("ex-ch4-bias-only-loss", ("bias_only_loss",), bias_only_loss),
    Exercise("ex-ch4-init-output-bias", ("init_output_bias",), init_output_bias),
    Exercise("ex-ch4-class-weights", ("class_weights",), class_weights),
    Exercise("ex-ch4-logit-adjustment", ("corrected_probability",), corrected_probability),
    Exercise("ex-ch4-threshold", ("threshold_for_recall",), threshold_for_recall),
    Exercise("ex-ch4-focal-grad", ("focal_loss_grad",), focal_loss_grad),
    Exercise("ex-ch4-ratio-or-rate", ("bias_for_ratio", "bias_for_rate"), ch4_bias_for_ratio_and_rate),
]
