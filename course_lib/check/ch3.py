"""Self-checks of chapter 3, "Binary cross-entropy, derived twice" (book/ch3_cross_entropy.ipynb).

The check functions carry a ``ch3_`` prefix because every check is also reachable as
``course_lib.check.<name>`` and other chapters have exercises on similar functions. The
references are :mod:`course_lib.losses`, :mod:`course_lib.numerics` and
:mod:`course_lib.gradcheck`, imported when a check runs. Every exercise function on losses returns
the *per-example* losses or derivatives (no mean), so that a failure can point at one entry; the
log-likelihood of a data set is the one exception, a single number by definition.
"""

from __future__ import annotations

import numpy as np

from ._core import Check, format_value
from ._core import without_warnings as _without_warnings
from .registry import Exercise

_P = np.array([0.9, 0.2, 0.5, 0.999, 0.01, 0.7])
_Y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
_MODERATE_S = np.linspace(-30.0, 30.0, 13)
# Logits where the textbook formulas break: σ rounds to 0 or 1, e^{±s} overflows.
_EXTREME_S = np.array([-1e5, -1000.0, -800.0, -40.0, 40.0, 800.0, 1000.0, 1e5])


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


def ch3_log_likelihood(log_likelihood):
    """Check ``log_likelihood(p, y)``: the log of the likelihood of a whole data set (one number),
    against the log of the product on small data, against the summed BCE of course_lib where the
    product underflows, additivity over data sets, and certain predictions (p = 0 or 1)."""
    from course_lib.losses import bce

    c = Check("ex-ch3-log-likelihood", "the log-likelihood of a data set")
    p4, y4 = np.array([0.9, 0.2, 0.6, 0.05]), np.array([1.0, 0.0, 0.0, 1.0])
    c.close("four examples: the log of the product of P(y | x), one number",
            lambda: log_likelihood(p4.copy(), y4.copy()), float(np.log(0.9 * 0.8 * 0.4 * 0.05)),
            rtol=1e-12, atol=1e-12, inputs=f"p = {format_value(p4)}, y = {format_value(y4)}",
            hint="log ∏ p^y (1 − p)^(1−y) for the whole data set: a single float (no mean, no array).")
    rng = np.random.default_rng(11)
    p_big = rng.uniform(0.05, 0.95, size=2000)
    y_big = (rng.uniform(size=2000) < p_big).astype(float)
    c.close("2000 examples, where the product itself underflows to 0.0",
            lambda: log_likelihood(p_big.copy(), y_big.copy()), -float(bce(p_big, y_big, reduction="sum")),
            rtol=1e-10, atol=1e-9, inputs="p ~ Uniform(0.05, 0.95), y ~ Bernoulli(p), 2000 examples (seed 11)",
            hint="The product of 2000 probabilities is below the smallest float64; "
                 "the log of a product is the sum of the logs.")

    def additivity():
        whole = log_likelihood(p_big.copy(), y_big.copy())
        parts = log_likelihood(p_big[:500].copy(), y_big[:500].copy()) + log_likelihood(p_big[500:].copy(),
                                                                                        y_big[500:].copy())
        return float(whole) - float(parts)

    c.close("two data sets together: the log-likelihoods add (whole minus the sum of the parts)",
            additivity, 0.0, rtol=0.0, atol=1e-8,
            inputs="the 2000 examples above, split into the first 500 and the other 1500",
            hint="Independent labels multiply their probabilities, so their logs add: a sum, not a mean.")
    p_sure, y_sure = np.array([1.0, 0.0, 0.7]), np.array([1.0, 0.0, 1.0])
    c.close("certain, right predictions (p = 1 for y = 1, p = 0 for y = 0) contribute log 1 = 0",
            lambda: log_likelihood(p_sure.copy(), y_sure.copy()), float(np.log(0.7)), rtol=1e-12, atol=1e-12,
            inputs=f"p = {format_value(p_sure)}, y = {format_value(y_sure)}",
            hint="Only one of the two factors is active for each example; in floating point 0·log 0 is nan, "
                 "so never evaluate the inactive one.")
    p_wrong, y_wrong = np.array([0.0, 0.5]), np.array([1.0, 0.0])
    c.that("a certain, wrong prediction (p = 0 for y = 1) gives −inf: the data are impossible under the model",
           lambda: log_likelihood(p_wrong.copy(), y_wrong.copy()),
           lambda got: np.asarray(got, dtype=float).shape == () and float(got) == -np.inf,
           expected="-inf (a single float)", inputs=f"p = {format_value(p_wrong)}, y = {format_value(y_wrong)}",
           hint="The likelihood is 0, so its log is −inf; a clamped loss such as BCELoss's (−100) is not the "
                "log-likelihood.")
    return c.done()


def ch3_margin_losses(zero_one_loss, hinge_loss):
    """Check ``zero_one_loss(s, t)`` and ``hinge_loss(s, t)`` (per example, labels ±1) against
    reference values, the convention that a logit of 0 is a mistake, the shape of 2-D input, and
    that the hinge loss bounds the 0-1 loss."""
    c = Check("ex-ch3-margin-losses", "the 0-1 loss and the hinge loss of the margin")
    s = np.array([2.0, -0.5, 3.0, -1.0, 0.5, 1.0, -0.2])
    t = np.array([1.0, 1.0, -1.0, -1.0, 1.0, 1.0, -1.0])
    shown = f"s = {format_value(s)}, t = {format_value(t)} (margins t·s = {format_value(t * s)})"
    c.close("0-1 loss: per-example values", lambda: zero_one_loss(s.copy(), t.copy()),
            (t * s <= 0).astype(float), rtol=0.0, atol=0.0, inputs=shown,
            hint="1 for a wrong sign of the margin m = t·s, 0 for a right one; one value per example.")
    c.close("0-1 loss: a logit of exactly 0 decides nothing, so it counts as a mistake for both labels",
            lambda: zero_one_loss(np.array([0.0, 0.0]), np.array([1.0, -1.0])), [1.0, 1.0], rtol=0.0, atol=0.0,
            inputs="s = [0, 0], t = [1, -1]",
            hint="The 0-1 loss of this chapter is 1[m ≤ 0], with m ≤ 0, not m < 0.")
    c.close("hinge loss: per-example values, including margins between 0 and 1",
            lambda: hinge_loss(s.copy(), t.copy()), np.maximum(0.0, 1.0 - t * s), rtol=1e-12, atol=1e-12,
            inputs=shown,
            hint="max(0, 1 − m) with m = t·s: zero only once the margin reaches 1, and a right sign with "
                 "a margin below 1 still costs.")
    rng = np.random.default_rng(5)
    s2 = rng.normal(0.0, 2.0, size=(3, 4))
    t2 = np.where(rng.uniform(size=(3, 4)) < 0.5, -1.0, 1.0)
    c.close("0-1 loss: keeps the shape of a 2-D array", lambda: zero_one_loss(s2.copy(), t2.copy()),
            (t2 * s2 <= 0).astype(float), rtol=0.0, atol=0.0,
            inputs="s ~ Normal(0, 2²) and t = ±1, both of shape (3, 4) (seed 5)",
            hint="Use elementwise NumPy operations and no reduction (no mean, no Python loop over a flat list).")
    c.close("hinge loss: keeps the shape of a 2-D array", lambda: hinge_loss(s2.copy(), t2.copy()),
            np.maximum(0.0, 1.0 - t2 * s2), rtol=1e-12, atol=1e-12,
            inputs="the same s and t of shape (3, 4)",
            hint="Use elementwise NumPy operations and no reduction.")
    s_many = rng.normal(0.0, 2.0, size=1000)
    t_many = np.where(rng.uniform(size=1000) < 0.5, -1.0, 1.0)
    s_many[:10] = 0.0

    def smallest_gap():
        gap = (np.asarray(hinge_loss(s_many.copy(), t_many.copy()), dtype=float)
               - np.asarray(zero_one_loss(s_many.copy(), t_many.copy()), dtype=float))
        return float(np.min(gap))

    c.that("your hinge loss bounds your 0-1 loss: hinge − 0-1 ≥ 0 on every example", smallest_gap,
           lambda got: got >= 0.0, expected="a smallest difference ≥ 0 (it is 0 at m = 0 and for m ≥ 1)",
           inputs="1000 logits s ~ Normal(0, 2²), the first 10 exactly 0, random t = ±1 (seed 5)",
           hint="For m ≤ 0 the hinge is 1 − m ≥ 1; check the sign convention of both functions.")
    return c.done()


def _smoothed_reference(s, y, eps):
    """ỹ·softplus(−s) + (1 − ỹ)·softplus(s) with ỹ = (1 − ε)·y + ε/2: the BCE on the logit against
    smoothed targets, as a sum of non-negative terms, so that it keeps its relative accuracy where
    the loss is tiny (the equal softplus(s) − ỹ·s cancels to 0 for y = 1, ε = 0, s = 40)."""
    from course_lib.functional import softplus

    s, y = np.asarray(s, dtype=float), np.asarray(y, dtype=float)
    target = (1.0 - eps) * y + eps / 2.0
    return target * softplus(-s) + (1.0 - target) * softplus(s)


def ch3_smoothed_bce(smoothed_bce_with_logits):
    """Check ``smoothed_bce_with_logits(s, y, eps)``: per-example BCE on logits against the
    label-smoothed targets (1 − ε)·y + ε/2, stable for every finite logit."""
    from course_lib.functional import sigmoid
    from course_lib.gradcheck import max_relative_error, numerical_gradient

    c = Check("ex-ch3-smoothed-bce", "BCE on the logit with label smoothing")
    hint = ("Smooth the target first, ỹ = (1 − ε)·y + ε/2 (a hard 1 becomes 1 − ε/2, a hard 0 becomes "
            "ε/2), then use the stable loss on the logit with ỹ in place of y.")

    def loss(s, y, eps):
        return smoothed_bce_with_logits(np.array(s, dtype=float), np.array(y, dtype=float), float(eps))

    s0 = np.array([-4.0, -1.0, 0.0, 0.5, 2.0, 6.0])
    y0 = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    shown = f"s = {format_value(s0)}, y = {format_value(y0)}"
    for eps in (0.1, 0.25):
        c.close(f"per-example losses, hard labels, ε = {eps}", lambda eps=eps: loss(s0, y0, eps),
                _smoothed_reference(s0, y0, eps), rtol=1e-9, atol=1e-12, inputs=f"{shown}, eps = {eps}",
                hint=hint)
    c.close("ε = 0 is the ordinary BCE on the logit", lambda: loss(s0, y0, 0.0),
            _smoothed_reference(s0, y0, 0.0), rtol=1e-9, atol=1e-12, inputs=f"{shown}, eps = 0",
            hint="With ε = 0 the targets are the labels themselves.")
    soft = np.array([0.3, 0.8, 0.5])
    c.close("soft labels are smoothed too", lambda: loss(np.array([1.0, -2.0, 3.0]), soft, 0.2),
            _smoothed_reference(np.array([1.0, -2.0, 3.0]), soft, 0.2), rtol=1e-9, atol=1e-12,
            inputs="s = [1, -2, 3], y = [0.3, 0.8, 0.5], eps = 0.2", hint=hint)
    s_ext, y_ext = _both_labels(_EXTREME_S)
    c.close("every finite logit, both labels: finite, accurate, no warning (ε = 0.1)",
            _without_warnings(lambda: loss(s_ext, y_ext, 0.1)), _smoothed_reference(s_ext, y_ext, 0.1),
            rtol=1e-9, atol=1e-12, inputs=f"s = {format_value(_EXTREME_S)} with y = 0 and with y = 1",
            hint="Do not form σ(s) and take its log: σ rounds to 0 or 1 for large |s|. softplus(s) "
                 "= max(s, 0) + log1p(exp(−|s|)) never overflows.")
    s_tiny = np.array([-40.0, -30.0, 30.0, 40.0])
    y_tiny = np.array([0.0, 0.0, 1.0, 1.0])
    exact_tiny = _smoothed_reference(s_tiny, y_tiny, 0.0)
    c.close("ε = 0, confident right predictions: the tiny losses ≈ e^(−|s|) keep their digits "
            "(relative tolerance)", lambda: loss(s_tiny, y_tiny, 0.0), exact_tiny, rtol=1e-9, atol=0.0,
            inputs=f"s = {format_value(s_tiny)}, y = {format_value(y_tiny)}, eps = 0",
            hint="The loss is about e^(−|s|) here (4.2e-18 at |s| = 40). A form that subtracts two numbers "
                 "near s rounds it to 0 or keeps only a few digits; write the loss as a sum of "
                 "non-negative terms.")
    points = np.array([-3.0, -0.5, 0.7, 2.5])
    labels = np.array([1.0, 0.0, 1.0, 0.0])

    def derivative():
        return np.array([float(numerical_gradient(
            lambda v, y=y: float(np.sum(loss(np.array([float(v)]), np.array([y]), 0.1))), s))
            for s, y in zip(points, labels)])

    c.that("its derivative in s is σ(s) − ỹ (central differences of your loss)", derivative,
           lambda got: max_relative_error(np.asarray(got), sigmoid(points) - (0.9 * labels + 0.05)) < 1e-6,
           expected=f"σ(s) − ỹ = {format_value(sigmoid(points) - (0.9 * labels + 0.05))}",
           inputs=f"s = {format_value(points)}, y = {format_value(labels)}, eps = 0.1", hint=hint)
    grid = np.linspace(-10.0, 10.0, 20001)
    s_star = float(np.log((1 - 0.05) / 0.05))
    c.close("for y = 1 and ε = 0.1 the loss is smallest at s* = log(0.95/0.05) ≈ 2.944 (grid of step 0.001)",
            lambda: float(grid[int(np.argmin(loss(grid, np.ones_like(grid), 0.1)))]), s_star, rtol=0,
            atol=1e-3, inputs="s = 20001 points from -10 to 10, y = 1, eps = 0.1",
            hint="The optimum of the smoothed loss is where σ(s) equals the smoothed target 1 − ε/2.")
    return c.done()


EXERCISES = [
    Exercise("ex-ch3-log-likelihood", ("log_likelihood",), ch3_log_likelihood, points=1.0),
    Exercise("ex-ch3-two-forms", ("bce_probability_form", "logistic_loss_margin_form"), ch3_two_forms, points=2.0),
    Exercise("ex-ch3-margin-losses", ("zero_one_loss", "hinge_loss"), ch3_margin_losses, points=1.0),
    Exercise("ex-ch3-logit-grad", ("bce_logit_grad",), ch3_bce_logit_grad, points=1.0),
    Exercise("ex-ch3-smoothed-bce", ("smoothed_bce_with_logits",), ch3_smoothed_bce, points=1.0),
    Exercise("ex-ch3-stable-bce", ("stable_bce_with_logits",), ch3_stable_bce_with_logits, points=2.0),
    Exercise("ex-ch3-naive-failure", ("find_naive_failure",), ch3_naive_bce_failure, points=1.0),
]
