"""Self-checks of chapter 5, "Beyond two classes: softmax regression and categorical
cross-entropy" (book/ch5_softmax.ipynb).

Each check calls the student's function with plain NumPy arrays and compares what comes back
with references computed here (:mod:`course_lib.functional`, :mod:`course_lib.losses`,
:mod:`course_lib.gradcheck`), never showing the solution. The check functions carry a ``ch5_``
prefix because every check is also reachable as ``course_lib.check.<name>``.
"""

from __future__ import annotations

import numpy as np

from ._core import Check, CheckResult, format_value
from ._core import without_warnings as _without_warnings
from .registry import Exercise

__all__ = ["ch5_stable_log_softmax", "ch5_cross_entropy_grad", "ch5_prior_bias", "EXERCISES"]

# Rows where the textbook formula overflows (e^1000 = inf) or underflows (e^-1000 = 0).
_EXTREME_S = np.array([[1000.0, 0.0, -1000.0],
                       [-1e300, 1e300, 0.0],
                       [800.0, 799.0, 0.0],
                       [-800.0, -801.0, -1e5]])


def _as_array(value) -> np.ndarray:
    return np.asarray(value, dtype=float)


def ch5_stable_log_softmax(stable_log_softmax) -> CheckResult:
    """Check ``stable_log_softmax(S)``: log softmax along the last axis, finite for extreme logits,
    the shape of S, for one example (K,) and for N examples (N, K)."""
    from course_lib.functional import log_softmax

    c = Check("ex-ch5-stable-log-softmax", "a stable log-softmax")
    rng = np.random.default_rng(5)
    S = rng.normal(0.0, 4.0, size=(6, 4))
    c.close("agrees with the reference on 6 examples with 4 classes", lambda: stable_log_softmax(S.copy()),
            log_softmax(S), rtol=1e-10, atol=1e-12, inputs="S ~ Normal(0, 4²), shape (6, 4) (seed 5)",
            hint="log p_k = s_k − log Σ_j e^(s_j), for each row (the classes are along the last axis).")
    c.close("one example of shape (K,)", lambda: stable_log_softmax(np.array([1.0, 2.0, 3.0])),
            log_softmax([1.0, 2.0, 3.0]), rtol=1e-10, atol=1e-12, inputs="S = [1, 2, 3]",
            hint="Reduce over the last axis (axis=-1) with keepdims=True, so that one row works too.")
    c.close("equal logits give log(1/K)", lambda: stable_log_softmax(np.zeros((2, 5))),
            np.full((2, 5), -np.log(5.0)), rtol=1e-12, atol=1e-12, inputs="S = zeros((2, 5))",
            hint="With K equal logits every class has probability 1/K.")
    S_square = rng.normal(0.0, 2.0, size=(3, 3))
    c.close("the classes are the last axis, not the first", lambda: stable_log_softmax(S_square.copy()),
            log_softmax(S_square), rtol=1e-10, atol=1e-12, inputs="S ~ Normal(0, 2²), shape (3, 3) (seed 5)",
            hint="Each row is one example; the sum runs over the columns (axis=-1), not down a column.")
    c.close("extreme logits: the reference values", lambda: stable_log_softmax(_EXTREME_S.copy()),
            log_softmax(_EXTREME_S), rtol=1e-12, atol=1e-12, inputs=f"S = {format_value(_EXTREME_S)}",
            hint="Subtract the largest logit of each row first: then every exponent is <= 0.")
    c.that("extreme logits: finite, with no overflow, NaN or warning",
           _without_warnings(lambda: stable_log_softmax(_EXTREME_S.copy())),
           lambda got: _as_array(got).shape == _EXTREME_S.shape and bool(np.all(np.isfinite(_as_array(got)))),
           expected="12 finite log-probabilities, and no warning",
           inputs="the extreme rows above (overflow, division by zero and invalid operations raise here)",
           hint="Never take exp of a positive number, and never take log of a probability that "
                "may have rounded to 0: work with s − max(s).")
    shifted = S + 1e4

    def shift_gap():
        return float(np.max(np.abs(_as_array(stable_log_softmax(shifted.copy())) - log_softmax(S))))

    c.close("adding 10 000 to every logit changes nothing", shift_gap, 0.0, rtol=0.0, atol=1e-8,
            inputs="S above + 10000 (largest difference from the log-softmax of S)",
            hint="The softmax ignores a common shift of the logits; e^(10000) overflows, so shift first.")
    return c.done()


def ch5_cross_entropy_grad(ce_logit_grad) -> CheckResult:
    """Check ``ce_logit_grad(S, y)``: the per-example gradients ∂ℓ_i/∂s_i of
    ℓ_i = −log softmax(s_i)_{y_i} (rows of shape (N, K), no mean), against central differences
    of the reference loss, its values at equal logits, row sums and extreme logits."""
    from course_lib.gradcheck import numerical_gradient
    from course_lib.losses import cross_entropy, cross_entropy_grad

    c = Check("ex-ch5-cross-entropy-grad", "the gradient of cross-entropy with respect to the logits")
    rng = np.random.default_rng(6)
    S = rng.normal(0.0, 2.0, size=(5, 3))
    y = np.array([0, 2, 1, 1, 0])
    numeric = numerical_gradient(lambda v: cross_entropy(v, y, reduction="sum"), S.copy())
    shown = f"S ~ Normal(0, 2²), shape (5, 3) (seed 6), y = {format_value(y)}"
    c.close("matches central differences of the summed loss (h = 1e-5)", lambda: ce_logit_grad(S.copy(), y.copy()),
            numeric, rtol=1e-6, atol=1e-9, inputs=shown,
            hint="Differentiate ℓ = log Σ_j e^(s_j) − s_y: the first term gives softmax(s), the second "
                 "−1 at the label. One row per example, no division by N.")
    c.close("equal logits: 1/K everywhere, minus 1 at the label",
            lambda: ce_logit_grad(np.zeros((2, 4)), np.array([3, 0])),
            np.array([[0.25, 0.25, 0.25, -0.75], [-0.75, 0.25, 0.25, 0.25]]), rtol=1e-12, atol=1e-12,
            inputs="S = zeros((2, 4)), y = [3, 0]", hint="softmax(0) = 1/K; the label's entry is p_y − 1.")

    def largest_row_sum():
        return float(np.max(np.abs(_as_array(ce_logit_grad(S.copy(), y.copy())).sum(axis=-1))))

    c.close("every row sums to 0", largest_row_sum, 0.0, rtol=0.0, atol=1e-12, inputs=shown,
            hint="Σ_k (p_k − onehot_k) = 1 − 1 = 0: the loss does not change when a row is shifted.")
    y_ext = np.array([2, 0, 1, 2])
    c.close("extreme logits: finite and equal to the reference (a confident mistake gets a push of size 1)",
            lambda: ce_logit_grad(_EXTREME_S.copy(), y_ext.copy()),
            cross_entropy_grad(_EXTREME_S, y_ext, reduction="none"), rtol=1e-9, atol=1e-12,
            inputs=f"S = {format_value(_EXTREME_S)}, y = {format_value(y_ext)}",
            hint="Compute the softmax stably (subtract each row's largest logit): e^1000 overflows "
                 "to inf and inf/inf is nan.")
    return c.done()


def ch5_prior_bias(multiclass_prior_bias, class_entropy) -> CheckResult:
    """Check ``multiclass_prior_bias(counts)`` (b_k = log n_k − mean_j log n_j: softmax(b) = the
    class shares, mean 0) and ``class_entropy(counts)`` (−Σ π_k log π_k in nats)."""
    from course_lib.functional import softmax

    c = Check("ex-ch5-prior-bias", "the prior bias for K classes and the entropy it costs")
    counts = np.array([500.0, 200.0, 80.0, 20.0])
    shares = counts / counts.sum()
    reference = np.log(counts) - np.log(counts).mean()
    shown = f"counts = {format_value(counts)}"
    c.close("the biases for four classes", lambda: multiclass_prior_bias(counts.copy()), reference,
            rtol=1e-10, atol=1e-12, inputs=shown,
            hint="softmax(b) must equal n_k / N; b_k = log n_k + c for any c; pick c for a mean of 0.")
    c.close("softmax of the biases gives the class shares", lambda: softmax(_as_array(multiclass_prior_bias(counts.copy()))),
            shares, rtol=1e-10, atol=1e-12, inputs=shown, hint="Use logs of the counts, not the counts.")
    c.close("the biases have mean 0", lambda: float(np.mean(_as_array(multiclass_prior_bias(counts.copy())))),
            0.0, rtol=0.0, atol=1e-12, inputs=shown, hint="Subtract the mean of the logs.")
    c.close("only the shares matter: ten times the counts give the same biases",
            lambda: multiclass_prior_bias(10 * counts.copy()), reference, rtol=1e-10, atol=1e-12,
            inputs="counts = 10 × the counts above", hint="The total N must cancel.")
    c.close("two classes: b₁ − b₀ = log(pos/neg), the prior bias of chapter 4",
            lambda: float(np.diff(_as_array(multiclass_prior_bias(np.array([284315.0, 492.0]))))[0]),
            float(np.log(492 / 284315)), rtol=1e-10, atol=1e-12, inputs="counts = [284315, 492]",
            hint="b₁ − b₀ = log n₁ − log n₀.")
    c.close("entropy of the four classes (nats)", lambda: float(class_entropy(counts.copy())),
            float(-np.sum(shares * np.log(shares))), rtol=1e-10, atol=1e-12, inputs=shown,
            hint="H = −Σ π_k log π_k with π_k = n_k / N and the natural log.")
    c.close("K equal classes: the entropy is log K", lambda: float(class_entropy(np.full(10, 7.0))),
            float(np.log(10)), rtol=1e-12, atol=1e-12, inputs="counts = [7, 7, ..., 7] (10 classes)",
            hint="π_k = 1/K for every class.")
    return c.done()


EXERCISES = [
    Exercise("ex-ch5-stable-log-softmax", ("stable_log_softmax",), ch5_stable_log_softmax, points=2.0),
    Exercise("ex-ch5-cross-entropy-grad", ("ce_logit_grad",), ch5_cross_entropy_grad, points=1.0),
    Exercise("ex-ch5-prior-bias", ("multiclass_prior_bias", "class_entropy"), ch5_prior_bias, points=1.0),
]
