"""Are the probabilities right, and what to decide with them? Calibration and decisions for a rare class.

Chapter 4, §Calibration and §Decisions, derive and use these:

- :func:`mean_predicted` and :func:`base_rate`: calibration in the large. A model fitted by
  maximum likelihood with an intercept has mean σ(s) equal to the training base rate at its
  optimum (the bias's gradient is mean(σ(s) − y) = 0), for the predictions it was trained on: a
  network trained with dropout satisfies it in training mode, and scored without dropout its mean
  prediction can fall well below the rate (chapter 4 measures by how much); a ``pos_weight``
  model does not satisfy it at all.
- :func:`nll_from_logits`, :func:`nll`: the mean negative log-likelihood (BCE), a proper scoring
  rule (Gneiting & Raftery 2007); :func:`brier_score`: the mean of (p − y)², another one.
- :func:`reliability_curve`: observed fraud rate against mean predicted probability in bins.
  For a rare class use ``strategy="log"`` (bins of equal width in log p) and plot on log axes:
  with 0.17 % positives, bins of equal width in p put almost everything in the first bin, and
  the default bins of equal counts (quantiles of p, scikit-learn's ``calibration_curve``'s
  binning) put nearly all positives in the top bin, leaving one informative point (chapter 4).
  Each observed rate carries a Wilson score interval (a binomial interval that stays inside
  [0, 1] and is sensible for 0 or few positives in a bin).
- :func:`prior_correction`: the post-hoc prior correction of a model trained with ``pos_weight``
  w. Chapter 3 derives that weighting the positive terms by w moves the loss-minimising
  probability from p to w·p / (w·p + 1 − p), i.e. multiplies the odds by w, so its logit is
  logit(p) + log w, pointwise for every x. Subtracting log w gives back the unweighted model's
  probabilities exactly at the population minimiser of a model flexible enough to reach it (and
  for a well-specified linear model, where only the intercept moves); a trained network is not
  at that minimiser, so check the corrected probabilities on held-out data. This is the post-hoc
  prior correction of Saerens, Latinne & Decaestecker (2002); Menon et al.'s (2021) post-hoc
  logit adjustment is the same shift by the log prior ratio in the opposite direction, applied
  to an unweighted model to minimise the balanced error. It changes no ranking.
- :func:`cost_threshold`: with calibrated probabilities, and correct decisions costing 0,
  flagging an example costs c_FP·(1 − p) in expectation and letting it pass costs c_FN·p, so
  flag when p ≥ c_FP / (c_FP + c_FN) (Elkan 2001, whose general threshold with costs c_TN, c_TP
  of correct decisions is (c_FP − c_TN) / (c_FP − c_TN + c_FN − c_TP)).
- :func:`paired_bootstrap_ap`: an interval for the difference in average precision (PR-AUC)
  between two models on the same test examples, resampling positives and negatives separately
  (so that every replicate has the test set's class counts) and using the same resample for both
  models (paired), from a seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ._validation import as_float_array, check_in_set, check_in_unit_interval
from .functional import _sigmoid, _softplus

__all__ = ["base_rate", "mean_predicted", "nll", "nll_from_logits", "brier_score", "wilson_interval",
           "ReliabilityCurve", "reliability_curve", "prior_correction", "cost_threshold",
           "BootstrapResult", "paired_bootstrap_ap", "calibration_summary"]


def _labels(y, name: str = "y") -> np.ndarray:
    y = as_float_array(y, name)
    if y.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one label per example), but has shape {y.shape}")
    check_in_set(y, name, (0.0, 1.0), hint="labels are 0 (negative) or 1 (positive)")
    return y


def _matching(values, name: str, y: np.ndarray, *, allow_inf: bool) -> np.ndarray:
    values = as_float_array(values, name, allow_inf=allow_inf)
    if values.shape != y.shape:
        raise ValueError(f"{name} must have the shape of y, {y.shape} (one value per example), but has "
                         f"shape {values.shape}")
    return values


def _probabilities(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = _labels(y)
    p = _matching(p, "p", y, allow_inf=False)
    check_in_unit_interval(p, "p", hint="p must be probabilities; for logits use σ(s) or nll_from_logits")
    return y, p


def base_rate(y) -> float:
    """The fraction of positive labels, mean(y)."""
    return float(np.mean(_labels(y)))


def mean_predicted(p) -> float:
    """The mean predicted probability, mean(p): compare it with :func:`base_rate`."""
    p = as_float_array(p, "p", allow_inf=False)
    check_in_unit_interval(p, "p")
    return float(np.mean(p))


def nll(y, p) -> float:
    """Mean negative log-likelihood of probabilities: −mean(y log p + (1 − y) log(1 − p)).

    A certain wrong prediction (p = 0 for a positive or p = 1 for a negative) costs +inf, as it
    should; no clipping. For logits use :func:`nll_from_logits`, which is accurate near 0 and 1.
    """
    y, p = _probabilities(y, p)
    with np.errstate(divide="ignore"):
        terms = np.where(y == 1, -np.log(p), -np.log1p(-p))
    return float(np.mean(terms))


def nll_from_logits(y, s) -> float:
    """Mean negative log-likelihood of logits s, mean(softplus(s) − y·s), stable for any finite s."""
    y = _labels(y)
    s = _matching(s, "s", y, allow_inf=False)
    return float(np.mean(np.where(y == 1, _softplus(-s), _softplus(s))))


def brier_score(y, p) -> float:
    """The Brier score mean((p − y)²): 0 is perfect; a constant p = π scores π(1 − π).

    In the book: Chapter 3, §Proper scoring rules (the binary form used here; Brier's original
    sums over both outcomes and is twice this), and Chapter 4.
    """
    y, p = _probabilities(y, p)
    return float(np.mean((p - y) ** 2))


def wilson_interval(k, n, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion with k successes in n trials.

    With z = Φ⁻¹(1 − α/2): centre (k + z²/2) / (n + z²), half-width
    z / (n + z²) · √(k (n − k) / n + z²/4). Works for k = 0 and k = n (the bounds are then 0 or 1
    on one side). k and n may be arrays; returns (lower, upper).
    """
    k = as_float_array(k, "k", allow_inf=False, allow_empty=True)
    n = as_float_array(n, "n", allow_inf=False, allow_empty=True)
    if k.shape != n.shape:
        raise ValueError(f"k and n must have the same shape, not {k.shape} and {n.shape}")
    if np.any(n <= 0) or np.any(n != np.round(n)):
        raise ValueError("n must hold whole numbers of trials >= 1")
    if np.any(k < 0) or np.any(k > n) or np.any(k != np.round(k)):
        raise ValueError("k must hold whole numbers of successes between 0 and n")
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, not {alpha!r}")
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    centre = (k + z * z / 2.0) / (n + z * z)
    half = z / (n + z * z) * np.sqrt(k * (n - k) / n + z * z / 4.0)
    lower = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))  # exact ends, not rounding residue
    upper = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lower, upper


@dataclass(frozen=True)
class ReliabilityCurve:
    """A reliability diagram's data, one entry per non-empty bin.

    edges:          the bin edges (n_bins + 1 before empty bins are dropped); bin j holds
                    edges[j] < p ≤ edges[j+1] (the first bin also holds p = edges[0])
    mean_predicted: mean p in each non-empty bin
    observed_rate:  fraction of positives in it
    counts, positives: examples and positives in it
    lower, upper:   the Wilson interval of observed_rate at level 1 − alpha
    """

    edges: np.ndarray
    mean_predicted: np.ndarray
    observed_rate: np.ndarray
    counts: np.ndarray
    positives: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def reliability_curve(y, p, n_bins: int = 10, strategy: str = "quantile", alpha: float = 0.05,
                      p_min: float | None = None) -> ReliabilityCurve:
    """Observed rate against mean predicted probability per bin, with Wilson intervals.

    strategy ``"quantile"`` (default): edges at the quantiles of p, so bins hold (nearly) equal
    numbers of examples (tied p can make bins empty; those are dropped); ``"uniform"``: equal
    widths on [0, 1]. The binning is scikit-learn's ``calibration_curve``'s, so its
    ``prob_true`` and ``prob_pred`` are ``observed_rate`` and ``mean_predicted`` here.
    ``"log"``: equal widths in log p, from the smallest positive p (or ``p_min`` if given) to 1;
    for a rare class, where equal-count bins put nearly all positives in the top bin, this
    resolves the high-p end where the positives are (each bin's Wilson interval shows how few
    examples it holds). Every p at or below the first inner edge goes into the first bin: with
    ``p_min`` given, that includes every p below ``p_min`` (and p = 0), so the first bin's mean
    can lie below ``p_min``.
    """
    y, p = _probabilities(y, p)
    if isinstance(n_bins, bool) or int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a positive whole number, not {n_bins!r}")
    n_bins = int(n_bins)
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0.0, 100.0, n_bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "log":
        if p_min is None:
            positive = p[p > 0]
            p_min = float(positive.min()) if positive.size else 1e-12
        if not 0.0 < float(p_min) < 1.0:
            raise ValueError(f"p_min must lie strictly between 0 and 1, not {p_min!r}")
        edges = np.geomspace(float(p_min), 1.0, n_bins + 1)
    else:
        raise ValueError(f"strategy must be 'quantile', 'uniform' or 'log', not {strategy!r}")
    ids = np.searchsorted(edges[1:-1], p)  # side="left": a p on an inner edge goes to the lower bin
    counts = np.bincount(ids, minlength=n_bins)
    sums = np.bincount(ids, weights=p, minlength=n_bins)
    positives = np.bincount(ids, weights=y, minlength=n_bins)
    keep = counts > 0
    counts, sums, positives = counts[keep], sums[keep], positives[keep]
    lower, upper = wilson_interval(positives, counts.astype(float), alpha)
    return ReliabilityCurve(edges=edges, mean_predicted=sums / counts, observed_rate=positives / counts,
                            counts=counts.astype(np.int64), positives=positives.astype(np.int64),
                            lower=lower, upper=upper)


def prior_correction(s, pos_weight):
    """Logits of a model trained with ``pos_weight`` w, corrected back to the data's prior: s − log w.

    Weighting the positive terms of BCE by w makes the loss-minimising logit logit(p) + log w
    (the odds are multiplied by w; chapter 3), so subtracting log w undoes it (Saerens et al. 2002)
    exactly at the weighted loss's population minimiser; a trained network is not there, so check
    the corrected probabilities on held-out data. (Menon et al. 2021's post-hoc logit adjustment
    shifts an unweighted model's logits the other way, by + log w, for the balanced error.) The
    order of the examples, hence every ROC or PR curve, is unchanged.
    """
    s = as_float_array(s, "s", allow_empty=True)
    w = as_float_array(pos_weight, "pos_weight", allow_inf=False)
    if w.ndim != 0:
        raise ValueError(f"pos_weight must be a single number, not an array of shape {w.shape}")
    if not float(w) > 0:
        raise ValueError(f"pos_weight must be > 0, not {float(w)!r}")
    out = s - math.log(float(w))
    return float(out) if out.ndim == 0 else out


def cost_threshold(c_fp, c_fn) -> float:
    """The probability above which flagging costs less in expectation: c_FP / (c_FP + c_FN).

    Flag when c_FP·(1 − p) ≤ c_FN·p (Elkan 2001), with correct decisions costing 0; with costs
    c_TN and c_TP for them, pass c_FP − c_TN and c_FN − c_TP. Needs calibrated probabilities:
    with a ``pos_weight`` model, apply :func:`prior_correction` first.
    """
    values = []
    for name, value in (("c_fp", c_fp), ("c_fn", c_fn)):
        v = as_float_array(value, name, allow_inf=False)
        if v.ndim != 0:
            raise ValueError(f"{name} must be a single number, not an array of shape {v.shape}")
        if not float(v) > 0:
            raise ValueError(f"{name} must be a cost > 0, not {float(v)!r}")
        values.append(float(v))
    return values[0] / (values[0] + values[1])


@dataclass(frozen=True)
class BootstrapResult:
    """The paired, stratified bootstrap of AP(a) − AP(b).

    difference: AP(a) − AP(b) on the test set itself
    replicates: the n_boot resampled differences
    lower, upper: the percentile interval at level 1 − alpha
    fraction_nonpositive: share of replicates with AP(a) − AP(b) ≤ 0
    """

    difference: float
    replicates: np.ndarray
    lower: float
    upper: float
    fraction_nonpositive: float


def _sorted_groups(y: np.ndarray, scores: np.ndarray):
    """Order by decreasing score and the index of the last example of each group of tied scores."""
    order = np.argsort(-scores, kind="stable")
    s = scores[order]
    ends = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]
    return order, ends


def _weighted_ap(y_sorted: np.ndarray, w_sorted: np.ndarray, ends: np.ndarray) -> float:
    """AP when example i appears w_i times (a bootstrap resample), examples sorted by score."""
    tp = np.cumsum(w_sorted * y_sorted)[ends]
    seen = np.cumsum(w_sorted)[ends]
    n_pos = tp[-1]
    recall_gain = np.diff(np.r_[0.0, tp]) / n_pos
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(seen > 0, tp / np.where(seen > 0, seen, 1.0), 0.0)
    return float(np.sum(recall_gain * precision))


def paired_bootstrap_ap(y, scores_a, scores_b, n_boot: int = 1000, seed: int = 0,
                        alpha: float = 0.05) -> BootstrapResult:
    """Bootstrap interval for AP(scores_a) − AP(scores_b) on the same examples.

    Each replicate draws n_pos positives from the positives and n_neg negatives from the
    negatives, with replacement (``np.random.default_rng(seed)``), and scores both models on that
    same resample. AP is ``course_lib.metrics.average_precision`` (ties as one step), computed on
    the resample through example multiplicities (equal to building the resampled arrays).
    """
    y = _labels(y)
    a = _matching(scores_a, "scores_a", y, allow_inf=True)
    b = _matching(scores_b, "scores_b", y, allow_inf=True)
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive whole number, not {n_boot!r}")
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, not {alpha!r}")
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if pos.size == 0:
        raise ValueError("y must contain at least one positive: average precision needs positives")
    rng = np.random.default_rng(seed)
    order_a, ends_a = _sorted_groups(y, a)
    order_b, ends_b = _sorted_groups(y, b)
    ones = np.ones_like(y)
    difference = _weighted_ap(y[order_a], ones, ends_a) - _weighted_ap(y[order_b], ones, ends_b)
    replicates = np.empty(int(n_boot))
    for r in range(int(n_boot)):
        drawn = np.concatenate([rng.choice(pos, size=pos.size, replace=True),
                                rng.choice(neg, size=neg.size, replace=True)]) if neg.size else \
            rng.choice(pos, size=pos.size, replace=True)
        w = np.bincount(drawn, minlength=y.size).astype(np.float64)
        replicates[r] = (_weighted_ap(y[order_a], w[order_a], ends_a)
                         - _weighted_ap(y[order_b], w[order_b], ends_b))
    lower, upper = np.quantile(replicates, [alpha / 2.0, 1.0 - alpha / 2.0])
    return BootstrapResult(difference=float(difference), replicates=replicates, lower=float(lower),
                           upper=float(upper), fraction_nonpositive=float(np.mean(replicates <= 0)))


def calibration_summary(y, s) -> dict:
    """For logits s: mean predicted probability, base rate, their ratio, NLL and Brier score."""
    y = _labels(y)
    s = _matching(s, "s", y, allow_inf=False)
    p = _sigmoid(s)
    mean_p, rate = float(np.mean(p)), float(np.mean(y))
    return {"mean_predicted": mean_p, "base_rate": rate,
            "ratio": mean_p / rate if rate > 0 else math.inf,
            "nll": nll_from_logits(y, s), "brier": float(np.mean((p - y) ** 2))}
