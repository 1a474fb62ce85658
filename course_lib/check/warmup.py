"""Self-checks of the warm-up notebook (book/warmup.ipynb).

The check functions carry a ``warmup_`` prefix because every check is also reachable as
``course_lib.check.<name>``, and the chapters have exercises on the same functions.
The references come from :mod:`course_lib.functional` and :mod:`course_lib.losses`, imported
when a check runs.
"""

from __future__ import annotations

import numpy as np

from ._core import Check, format_value
from .registry import Exercise

# Logits where the textbook formula and a careless "stable" one both go wrong somewhere.
REFERENCE_S = np.array([-50.0, -20.0, -5.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 5.0, 20.0, 50.0])
EXTREME_S = np.array([-1e300, -1000.0, 1000.0, 1e300])


def _strictly(compute):
    """``compute`` with overflow and invalid operations (NaN) raising, so that a warning fails."""
    def run():
        with np.errstate(over="raise", invalid="raise"):
            return compute()
    return run


def warmup_sigmoid(stable_sigmoid):
    """Check ``stable_sigmoid(s)``: values, symmetry, extreme logits, shapes and scalars."""
    from course_lib.functional import sigmoid

    c = Check("ex-warmup-stable-sigmoid", "a numerically stable sigmoid")
    c.close("agrees with the reference on moderate logits",
            lambda: stable_sigmoid(REFERENCE_S.copy()), sigmoid(REFERENCE_S), rtol=1e-12, atol=1e-300,
            inputs=f"s = {format_value(REFERENCE_S)}",
            hint="σ(s) = 1 / (1 + e^(−s)); for negative s rewrite it so that exp never sees a large "
                 "positive argument, without losing the tiny values (σ(−50) ≈ 1.9e−22, not 0).")
    grid = np.linspace(-30.0, 30.0, 61)
    c.close("symmetry σ(−s) = 1 − σ(s), largest deviation",
            lambda: float(np.max(np.abs(stable_sigmoid(-grid) - (1.0 - stable_sigmoid(grid))))), 0.0,
            rtol=0.0, atol=1e-15, inputs="s = -30, -29, ..., 30",
            hint="Both branches of your formula must compute the same function.")
    c.close("no overflow, NaN or warning at s = ±1000 and ±1e300",
            _strictly(lambda: stable_sigmoid(EXTREME_S.copy())), np.array([0.0, 0.0, 1.0, 1.0]), rtol=0.0, atol=1e-300,
            inputs=f"s = {format_value(EXTREME_S)} (overflow and invalid operations raise here)",
            hint="exp(1000) overflows to inf. Only ever take exp of −|s|, which lies in (0, 1].")
    matrix = np.array([[-3.0, 0.0, 3.0], [-800.0, 2.5, 800.0]])
    c.close("keeps the shape of a 2-D array",
            lambda: stable_sigmoid(matrix.copy()), sigmoid(matrix), rtol=1e-12, atol=1e-300,
            inputs=f"s = {format_value(matrix)}",
            hint="Use element-wise NumPy operations (np.where, np.exp, np.abs) rather than a Python `if`.")
    c.close("works on a Python float", lambda: stable_sigmoid(0.0), 0.5, rtol=1e-15,
            inputs="s = 0.0", hint="Convert the input with np.asarray(s, dtype=float) first.")
    c.close("works on a Python int", lambda: stable_sigmoid(2), sigmoid(2.0), rtol=1e-12,
            inputs="s = 2", hint="Convert the input with np.asarray(s, dtype=float) first.")
    return c.done()


def warmup_bce(bce_from_probabilities):
    """Check ``bce_from_probabilities(p, y)``: the mean BCE with logs clamped at −100."""
    from course_lib.losses import bce

    c = Check("ex-warmup-bce", "binary cross-entropy from probabilities")
    rng = np.random.default_rng(2024)
    p = rng.uniform(0.01, 0.99, size=50)
    y = (rng.uniform(size=50) < p).astype(float)
    c.close("agrees with the reference on 50 random examples", lambda: bce_from_probabilities(p.copy(), y.copy()),
            bce(p, y), rtol=1e-10, inputs="p uniform in (0.01, 0.99), y in {0, 1}, 50 examples (seed 2024)",
            hint="L = −mean(y·log p + (1 − y)·log(1 − p)); the mean, not the sum.")
    c.close("one example at p = 1/2 costs ln 2", lambda: bce_from_probabilities(np.array([0.5]), np.array([1.0])),
            np.log(2.0), rtol=1e-12, inputs="p = [0.5], y = [1]", hint="−log(1/2) = ln 2 ≈ 0.693147.")
    exact = np.array([0.0, 1.0, 1.0, 0.0])
    c.close("p equal to the labels (exactly 0 and 1) costs 0, not NaN",
            _strictly(lambda: bce_from_probabilities(exact.copy(), exact.copy())), 0.0, rtol=0.0, atol=1e-15,
            inputs="p = [0, 1, 1, 0], y = [0, 1, 1, 0] (invalid operations raise here)",
            hint="0 · log 0 is NaN in floating point: clamp each log at −100 before multiplying.")
    c.close("a confident wrong answer costs 100 per example (the clamp)",
            _strictly(lambda: bce_from_probabilities(np.array([0.0, 1.0]), np.array([1.0, 0.0]))), 100.0, rtol=1e-12,
            inputs="p = [0, 1], y = [1, 0]",
            hint="Clamp log p and log(1 − p) at −100, like PyTorch's BCELoss: np.maximum(np.log(p), -100).")
    tiny = np.array([1e-30, 1e-50, 0.3, 1.0 - 1e-12])
    labels = np.array([1.0, 1.0, 0.0, 0.0])
    c.close("agrees with the reference near 0 and 1", lambda: bce_from_probabilities(tiny.copy(), labels.copy()),
            bce(tiny, labels), rtol=1e-10, inputs=f"p = {format_value(tiny)}, y = {format_value(labels)}",
            hint="Only log p = log(1e−50) ≈ −115 is clamped to −100 here; log(1e−30) ≈ −69 is not.")
    c.that("returns a single number (a 0-d value), not an array", lambda: bce_from_probabilities(p.copy(), y.copy()),
           lambda got: np.ndim(got) == 0, expected="a float (np.ndim(result) == 0)", inputs="p, y of shape (50,)",
           hint="Reduce with the mean over all examples.")
    return c.done()


def warmup_sigmoid_grad(sigmoid_grad, stable_sigmoid):
    """Check ``sigmoid_grad(s)`` against central differences of the student's own sigmoid."""
    from course_lib.functional import sigmoid_grad as reference

    c = Check("ex-warmup-sigmoid-grad", "the derivative of the sigmoid")
    s = np.linspace(-6.0, 6.0, 25)
    h = 1e-5

    def central_differences():
        return (np.asarray(stable_sigmoid(s + h)) - np.asarray(stable_sigmoid(s - h))) / (2 * h)

    ran, numeric = c._call("central differences of your stable_sigmoid can be taken", central_differences)
    if ran:
        c.close("matches central differences of your stable_sigmoid (h = 1e-5)", lambda: sigmoid_grad(s.copy()),
                numeric, rtol=1e-6, atol=1e-10, inputs="s = -6, -5.5, ..., 6",
                hint="σ'(s) = σ(s)·(1 − σ(s)): differentiate 1 / (1 + e^(−s)) with the chain rule.")
    c.close("σ'(0) = 1/4", lambda: sigmoid_grad(0.0), 0.25, rtol=1e-12, inputs="s = 0.0",
            hint="At s = 0, σ = 1/2, so σ(1 − σ) = 1/4.")
    c.close("finite and tiny at s = ±1000", _strictly(lambda: sigmoid_grad(np.array([-1000.0, 1000.0]))),
            reference(np.array([-1000.0, 1000.0])), rtol=1e-12, atol=1e-300,
            inputs="s = [-1000, 1000] (overflow and invalid operations raise here)",
            hint="Build σ'(s) on your stable_sigmoid rather than on exp(−s).")
    c.close("symmetric: σ'(−s) = σ'(s), largest deviation",
            lambda: float(np.max(np.abs(np.asarray(sigmoid_grad(-s)) - np.asarray(sigmoid_grad(s))))), 0.0,
            rtol=0.0, atol=1e-15, inputs="s = -6, -5.5, ..., 6", hint="σ(−s)(1 − σ(−s)) = (1 − σ(s))σ(s).")
    return c.done()


EXERCISES = [
    Exercise("ex-warmup-stable-sigmoid", ("stable_sigmoid",), warmup_sigmoid, points=2.0),
    Exercise("ex-warmup-bce", ("bce_from_probabilities",), warmup_bce, points=2.0),
    Exercise("ex-warmup-sigmoid-grad", ("sigmoid_grad", "stable_sigmoid"), warmup_sigmoid_grad, points=1.0),
]
