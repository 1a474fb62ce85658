"""Classification metrics written with NumPy: what to look at when positives are rare.

- :func:`confusion_counts`: true/false positives/negatives at a threshold
- :func:`accuracy`, :func:`precision`, :func:`recall`, :func:`f1_score` at a threshold
- :func:`roc_curve`, :func:`roc_auc`: the ROC curve and the area under it
- :func:`precision_recall_curve`, :func:`average_precision`: the PR curve and PR-AUC

Conventions (the same as scikit-learn's): an example is predicted positive when its score is
``>= threshold``; scores may be probabilities or logits (only their order matters for the
curves); a ratio with a zero denominator (precision when nothing is predicted positive) is
``zero_division`` (0.0 by default). Equal scores are one threshold: the curves move through a
group of tied examples in one step.

Average precision is the PR-AUC used throughout the course::

    AP = Σ_n (R_n − R_{n−1}) · P_n

over the distinct thresholds n in decreasing order, with R_0 = 0: each gain in recall is
weighted by the precision at which it is reached (no interpolation between points).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_float_array, check_in_set, check_same_shape

__all__ = ["Counts", "confusion_counts", "accuracy", "precision", "recall", "f1_score",
           "roc_curve", "roc_auc", "precision_recall_curve", "average_precision"]


class Counts(NamedTuple):
    """The four cells of the confusion matrix."""

    tp: int
    fp: int
    tn: int
    fn: int


def _labels_scores(y, scores) -> tuple[np.ndarray, np.ndarray]:
    y = as_float_array(y, "y")
    scores = as_float_array(scores, "scores")
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional (one label per example), but has shape {y.shape}")
    if scores.ndim != 1:
        raise ValueError(f"scores must be one-dimensional (one score per example), but has shape "
                         f"{scores.shape}; for a model output of shape (N, 1) use .ravel()")
    if y.shape != scores.shape:
        check_same_shape(y=y, scores=scores)  # raises the standard message
        raise ValueError(f"y has shape {y.shape} and scores has shape {scores.shape}; they must match")
    check_in_set(y, "y", (0.0, 1.0), hint="labels are 0 (negative) or 1 (positive)")
    return y, scores


def _check_threshold(threshold) -> float:
    t = as_float_array(threshold, "threshold")
    if t.ndim != 0:
        raise ValueError(f"threshold must be a single number, not an array of shape {t.shape}")
    return float(t)


def _ratio(num: float, den: float, zero_division: float) -> float:
    return float(num / den) if den > 0 else float(zero_division)


def confusion_counts(y, scores, threshold: float = 0.5) -> Counts:
    """Counts of (tp, fp, tn, fn) when ``scores >= threshold`` is predicted positive.

    >>> confusion_counts([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.9])
    Counts(tp=1, fp=1, tn=1, fn=1)
    """
    y, scores = _labels_scores(y, scores)
    t = _check_threshold(threshold)
    pred = scores >= t
    pos = y == 1
    return Counts(tp=int(np.sum(pred & pos)), fp=int(np.sum(pred & ~pos)),
                  tn=int(np.sum(~pred & ~pos)), fn=int(np.sum(~pred & pos)))


def accuracy(y, scores, threshold: float = 0.5) -> float:
    """The fraction of examples classified correctly: (tp + tn) / N."""
    c = confusion_counts(y, scores, threshold)
    return (c.tp + c.tn) / (c.tp + c.fp + c.tn + c.fn)


def precision(y, scores, threshold: float = 0.5, zero_division: float = 0.0) -> float:
    """tp / (tp + fp): of the examples flagged, the fraction that are positive."""
    c = confusion_counts(y, scores, threshold)
    return _ratio(c.tp, c.tp + c.fp, zero_division)


def recall(y, scores, threshold: float = 0.5, zero_division: float = 0.0) -> float:
    """tp / (tp + fn): of the positives, the fraction that are flagged."""
    c = confusion_counts(y, scores, threshold)
    return _ratio(c.tp, c.tp + c.fn, zero_division)


def f1_score(y, scores, threshold: float = 0.5, zero_division: float = 0.0) -> float:
    """The harmonic mean of precision and recall, 2·tp / (2·tp + fp + fn)."""
    c = confusion_counts(y, scores, threshold)
    return _ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, zero_division)


def _cumulative_counts(y: np.ndarray, scores: np.ndarray):
    """Thresholds (distinct scores, decreasing) and the tp, fp counts at each of them."""
    order = np.argsort(-scores, kind="stable")
    s, yy = scores[order], y[order]
    # s[1:] != s[:-1] rather than np.diff(s) != 0: tied ±inf scores give inf − inf = NaN
    last_of_group = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1]
    tp = np.cumsum(yy)[last_of_group]
    fp = (last_of_group + 1) - tp
    return s[last_of_group], tp, fp


def roc_curve(y, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ROC curve: (fpr, tpr, thresholds), starting at (0, 0) with threshold +inf.

    ``fpr[k]`` and ``tpr[k]`` are the false- and true-positive rates when ``scores >=
    thresholds[k]`` is predicted positive. Needs at least one example of each class.
    """
    y, scores = _labels_scores(y, scores)
    n_pos, n_neg = int(np.sum(y == 1)), int(np.sum(y == 0))
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"the ROC curve needs both classes in y, but it has {n_pos} positive(s) "
                         f"and {n_neg} negative(s)")
    thresholds, tp, fp = _cumulative_counts(y, scores)
    return (np.r_[0.0, fp / n_neg], np.r_[0.0, tp / n_pos], np.r_[np.inf, thresholds])


def roc_auc(y, scores) -> float:
    """The area under the ROC curve (trapezoids): the probability that a random positive
    scores higher than a random negative, ties counting one half."""
    fpr, tpr, _ = roc_curve(y, scores)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def precision_recall_curve(y, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The PR curve: (precision, recall, thresholds), thresholds decreasing, recall increasing.

    One point per distinct score; ``precision[k]`` and ``recall[k]`` are those of ``scores >=
    thresholds[k]``. Needs at least one positive.
    """
    y, scores = _labels_scores(y, scores)
    n_pos = int(np.sum(y == 1))
    if n_pos == 0:
        raise ValueError("the precision-recall curve needs at least one positive example in y")
    thresholds, tp, fp = _cumulative_counts(y, scores)
    return tp / (tp + fp), tp / n_pos, thresholds


def average_precision(y, scores) -> float:
    """PR-AUC as average precision, AP = Σ (R_n − R_{n−1}) P_n (R_0 = 0), ties as one step.

    A perfect ranking gives 1; random scores give about the base rate (the fraction of
    positives), which is the number to compare with on imbalanced data.
    """
    prec, rec, _ = precision_recall_curve(y, scores)
    return float(np.sum(np.diff(np.r_[0.0, rec]) * prec))
