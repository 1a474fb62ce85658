"""Self-checks of chapter 3, "Binary cross-entropy, derived twice" (book/ch3_cross_entropy.ipynb).

The check functions carry a ``ch3_`` prefix because every check is also reachable as
``course_lib.check.<name>`` and other chapters have exercises on similar functions. The
references are :mod:`course_lib.losses`, :mod:`course_lib.numerics` and
:mod:`course_lib.gradcheck`, imported when a check runs. Every exercise function returns the
*per-example* losses or derivatives (no mean), so that a failure can point at one entry.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._core import Check, format_value
from .registry import Exercise

_P = np.array([0.9, 0.2, 0.5, 0.999, 0.01, 0.7])
_Y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
_MODERATE_S = np.linspace(-30.0, 30.0, 13)
# Logits where the textbook formulas break: σ rounds to 0 or 1, e^{±s} overflows.
_EXTREME_S = np.array([-1e5, -1000.0, -800.0, -40.0, 40.0, 800.0, 1000.0, 1e5])


def _without_warnings(compute):
    """``compute`` with overflow, division by zero, invalid operations and warnings raising."""
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                return compute()
    return run


def _both_labels(s: np.ndarray):
    """Every logit in ``s`` paired with y = 0 and with y = 1."""
    return np.concatenate([s, s]), np.concatenate([np.zeros_like(s), np.ones_like(s)])


def ch3_two_forms(bce_probability_form, logistic_loss_margin_form):
    """Check the two forms of the loss: per example, on probabilities with 0/1 labels and on
    logits with ±1 labels, against course_lib.losses and against each other."""
    from course_lib.functional import sigmoid
    from course_lib.losses import bce, logistic_loss

    c = Check("ex-ch3-two-forms", "the probability form and the margin form of the loss")
    c.close("probability form: per-example losses on moderate p",
            lambda: bce_probability_form(_P.copy(), _Y.copy()), bce(_P, _Y, reduction="none"),
            rtol=1e-9, atol=1e-12, inputs=f"p = {format_value(_P)}, y = {format_value(_Y)}",
            hint="ℓ = −[y·log p + (1 − y)·log(1 − p)], one value per example (no mean).")
    c.close("probability form: one example at p = 1/2 costs log 2",
            lambda: bce_probability_form(np.array([0.5]), np.array([0.0])), [np.log(2.0)], rtol=1e-12,
            inputs="p = [0.5], y = [0]", hint="−log(1 − 1/2) = log 2 ≈ 0.693147.")
    c.close("probability form: keeps the shape of a 2-D array",
            lambda: bce_probability_form(_P.reshape(2, 3).copy(), _Y.reshape(2, 3).copy()),
            bce(_P.reshape(2, 3), _Y.reshape(2, 3), reduction="none"), rtol=1e-9, atol=1e-12,
            inputs="p and y of shape (2, 3)", hint="Use elementwise NumPy operations and no reduction.")
    t = np.where(np.arange(_MODERATE_S.size) % 2 == 0, 1.0, -1.0)
    c.close("margin form: per-example losses on logits in [−30, 30]",
            lambda: logistic_loss_margin_form(_MODERATE_S.copy(), t.copy()),
            logistic_loss(_MODERATE_S, t, reduction="none"), rtol=1e-9, atol=1e-12,
            inputs=f"s = -30, -25, ..., 30, t = {format_value(t)}",
            hint="ℓ = log(1 + e^(−t·s)), one value per example; labels are −1 and +1 here.")
    c.close("margin form: a margin of 0 costs log 2",
            lambda: logistic_loss_margin_form(np.array([0.0, 0.0]), np.array([1.0, -1.0])),
            [np.log(2.0)] * 2, rtol=1e-12, inputs="s = [0, 0], t = [1, -1]", hint="log(1 + e^0) = log 2.")
    s = np.linspace(-10.0, 10.0, 21)
    y = (np.arange(s.size) % 3 == 0).astype(float)

    def difference():
        first = np.asarray(bce_probability_form(sigmoid(s), y.copy()), dtype=float)
        second = np.asarray(logistic_loss_margin_form(s.copy(), 2 * y - 1), dtype=float)
        return float(np.max(np.abs(first - second)))

    c.close("the two forms agree for p = σ(s), t = 2y − 1 (largest difference)", difference, 0.0,
            rtol=0.0, atol=1e-10, inputs="s = -10, -9, ..., 10, y = 1 for every third s, 0 otherwise",
            hint="Both functions must compute the same loss; check each one alone first.")
    return c.done()


def ch3_stable_bce_with_logits(stable_bce_with_logits):
    """Check ``stable_bce_with_logits(s, y)`` (per example) against course_lib.losses.bce_with_logits,
    on random and on extreme logits, with warnings turned into failures."""
    from course_lib.losses import bce_with_logits

    c = Check("ex-ch3-stable-bce", "BCE on logits, stable for every finite logit")
    rng = np.random.default_rng(3)
    s = rng.normal(0.0, 8.0, size=200)
    y = (rng.uniform(size=200) < 0.5).astype(float)
    c.close("agrees with the reference on 200 random logits",
            lambda: stable_bce_with_logits(s.copy(), y.copy()), bce_with_logits(s, y, reduction="none"),
            rtol=1e-10, atol=1e-12, inputs="s ~ Normal(0, 8²), y in {0, 1}, 200 examples (seed 3)",
            hint="ℓ = max(s, 0) − s·y + log(1 + e^(−|s|)), one value per example (no mean).")
    s_ext, y_ext = _both_labels(_EXTREME_S)
    c.close("agrees with the reference at |s| = 40, 800, 1000 and 1e5, both labels",
            lambda: stable_bce_with_logits(s_ext.copy(), y_ext.copy()), bce_with_logits(s_ext, y_ext, reduction="none"),
            rtol=1e-12, atol=1e-12, inputs=f"s = {format_value(s_ext)}, y = 0 for the first 8, 1 for the rest",
            hint="A wrong, confident prediction costs about |s| (e.g. 1000), a right one about 0.")
    c.that("finite everywhere, with no overflow, NaN or warning",
           _without_warnings(lambda: stable_bce_with_logits(s_ext.copy(), y_ext.copy())),
           lambda got: bool(np.all(np.isfinite(np.asarray(got, dtype=float)))),
           expected="16 finite losses, and no warning",
           inputs="the extreme logits above (overflow, division by zero and invalid operations raise here)",
           hint="Never take exp of a positive number: e^(−|s|) lies in (0, 1]; never compute σ(s) first.")
    c.close("a margin of 0 costs log 2", lambda: stable_bce_with_logits(np.array([0.0]), np.array([1.0])),
            [np.log(2.0)], rtol=1e-12, inputs="s = [0], y = [1]", hint="At s = 0, σ(s) = 1/2.")
    return c.done()


def ch3_naive_bce_failure(find_naive_failure):
    """Check ``find_naive_failure()``: a finite logit where the textbook BCE (in float64) gives inf
    or NaN for y = 0 or y = 1, while the true loss is finite."""
    from course_lib.losses import bce_with_logits
    from course_lib.numerics import naive_bce

    c = Check("ex-ch3-naive-failure", "a logit where the textbook formula fails")
    ran, found = c._call("find_naive_failure() returns a value", find_naive_failure)
    if not ran:
        return c.done()

    def as_logit():
        value = np.asarray(found, dtype=float)
        if value.ndim != 0 or not np.isfinite(value):
            raise ValueError("not a single finite number")
        return float(value)

    ok = c.that("returns a single finite number", as_logit, lambda got: np.isfinite(got),
                expected="one finite float s", inputs="find_naive_failure()",
                hint="Return one logit, e.g. a Python float, not a list or a pair.")
    if not ok:
        return c.done()
    s = as_logit()

    def naive_losses():
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return np.array([naive_bce(s, 0.0), naive_bce(s, 1.0)], dtype=float)

    c.that("course_lib.numerics.naive_bce(s, y) in float64 is inf or NaN for y = 0 or y = 1",
           naive_losses, lambda got: not np.all(np.isfinite(got)),
           expected="at least one of [naive_bce(s, 0), naive_bce(s, 1)] inf or nan", inputs=f"s = {s!r}",
           hint="The naive formula computes p = σ(s) first: where does p round to exactly 0 or 1?")
    c.that("the true loss bce_with_logits(s, y) is finite for both labels",
           lambda: np.array([bce_with_logits(s, 0.0), bce_with_logits(s, 1.0)]),
           lambda got: bool(np.all(np.isfinite(got))), expected="two finite losses", inputs=f"s = {s!r}",
           hint="Pick a logit that a float64 can hold and whose loss, about |s|, is below 1.8e308.")
    return c.done()


def ch3_bce_logit_grad(bce_logit_grad):
    """Check ``bce_logit_grad(s, y)`` (per example) against central differences of the reference
    loss, and its values where the sigmoid saturates."""
    from course_lib.gradcheck import numerical_gradient
    from course_lib.losses import bce_with_logits, bce_with_logits_grad

    c = Check("ex-ch3-logit-grad", "the derivative of BCE with respect to the logit")
    s = np.linspace(-8.0, 8.0, 17)
    y = (np.arange(s.size) % 2).astype(float)
    numeric = numerical_gradient(lambda v: bce_with_logits(v, y, reduction="sum"), s)
    c.close("matches central differences of the loss (h = 1e-5)", lambda: bce_logit_grad(s.copy(), y.copy()),
            numeric, rtol=1e-6, atol=1e-9, inputs="s = -8, -7, ..., 8, y alternating 0, 1",
            hint="Differentiate ℓ = −[y·log σ(s) + (1 − y)·log(1 − σ(s))] using σ'(s) = σ(s)(1 − σ(s)).")
    c.close("a margin of 0: the derivative is 1/2 − y",
            lambda: bce_logit_grad(np.array([0.0, 0.0]), np.array([0.0, 1.0])), [0.5, -0.5], rtol=1e-12,
            inputs="s = [0, 0], y = [0, 1]", hint="σ(0) = 1/2.")
    s_ext, y_ext = _both_labels(_EXTREME_S)
    c.close("saturated logits: about −1, 0 or +1, finite",
            lambda: bce_logit_grad(s_ext.copy(), y_ext.copy()),
            bce_with_logits_grad(s_ext, y_ext, reduction="none"), rtol=1e-9, atol=1e-12,
            inputs=f"s = {format_value(s_ext)}, y = 0 for the first 8, 1 for the rest",
            hint="A confidently wrong prediction must still get a gradient of size 1; use a stable sigmoid.")
    return c.done()


EXERCISES = [
    Exercise("ex-ch3-two-forms", ("bce_probability_form", "logistic_loss_margin_form"), ch3_two_forms, points=2.0),
    Exercise("ex-ch3-logit-grad", ("bce_logit_grad",), ch3_bce_logit_grad, points=1.0),
    Exercise("ex-ch3-stable-bce", ("stable_bce_with_logits",), ch3_stable_bce_with_logits, points=2.0),
    Exercise("ex-ch3-naive-failure", ("find_naive_failure",), ch3_naive_bce_failure, points=1.0),
]
