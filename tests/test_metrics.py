"""Tests of course_lib.metrics against hand-computed cases and known identities."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import metrics as m


def test_confusion_counts_by_hand():
    y = [0, 1, 1, 0, 1]
    s = [0.2, 0.7, 0.4, 0.9, 0.5]
    assert m.confusion_counts(y, s) == m.Counts(tp=2, fp=1, tn=1, fn=1)  # 0.5 >= 0.5 is positive
    assert m.confusion_counts(y, s, threshold=0.8) == m.Counts(tp=0, fp=1, tn=1, fn=3)
    assert m.accuracy(y, s) == pytest.approx(3 / 5)
    assert m.precision(y, s) == pytest.approx(2 / 3)
    assert m.recall(y, s) == pytest.approx(2 / 3)
    assert m.f1_score(y, s) == pytest.approx(2 / 3)
    assert m.precision(y, s, threshold=2.0) == 0.0  # nothing flagged: zero_division
    assert np.isnan(m.precision(y, s, threshold=2.0, zero_division=np.nan))


def test_all_negative_classifier_on_the_fraud_counts():
    y = np.r_[np.zeros(284_315), np.ones(492)]
    scores = np.zeros_like(y)
    assert round(100 * m.accuracy(y, scores), 2) == 99.83
    assert m.recall(y, scores) == 0.0 and m.precision(y, scores) == 0.0


def test_roc_curve_and_auc_by_hand():
    y = [0, 0, 1, 1]
    s = [0.1, 0.4, 0.35, 0.8]
    fpr, tpr, thr = m.roc_curve(y, s)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])
    assert m.roc_auc(y, s) == pytest.approx(0.75)


def test_roc_auc_counts_ties_as_one_half():
    # pairs (pos, neg): (0.5, 0.5) tie -> 1/2, (0.5, 0.2) -> 1, (0.9, both) -> 1, 1
    assert m.roc_auc([1, 0, 0, 1], [0.5, 0.5, 0.2, 0.9]) == pytest.approx(3.5 / 4)
    assert m.roc_auc([0, 1], [0.3, 0.3]) == pytest.approx(0.5)


def test_average_precision_by_hand():
    # ranking: 0.9 (1), 0.8 (0), 0.7 (1), 0.1 (0): AP = 1/2·1 + 1/2·2/3
    y, s = [1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]
    assert m.average_precision(y, s) == pytest.approx(0.5 + 1 / 3)
    prec, rec, thr = m.precision_recall_curve(y, s)
    np.testing.assert_allclose(prec, [1, 0.5, 2 / 3, 0.5])
    np.testing.assert_allclose(rec, [0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thr, [0.9, 0.8, 0.7, 0.1])


def test_average_precision_groups_ties():
    # the top two tie (one positive, one negative): one step to recall 1/2 at precision 1/2,
    # then the next positive at precision 2/3.
    assert m.average_precision([1, 0, 1], [0.9, 0.9, 0.5]) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)
    # all scores equal: AP is the base rate
    assert m.average_precision([1, 0, 0, 0], [0.3] * 4) == pytest.approx(0.25)


def test_perfect_and_random_scores():
    rng = np.random.default_rng(0)
    y = (rng.random(200_000) < 0.01).astype(float)
    assert m.roc_auc(y, y) == 1.0 and m.average_precision(y, y) == 1.0
    assert m.roc_auc(y, 2 * y - 5) == 1.0  # logits work too: only the order matters
    scores = rng.random(y.size)
    assert m.roc_auc(y, scores) == pytest.approx(0.5, abs=0.02)
    assert m.average_precision(y, scores) == pytest.approx(y.mean(), abs=0.003)
    assert m.roc_auc(y, -y) == 0.0


def test_curves_agree_with_threshold_metrics():
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.2).astype(float)
    s = np.round(rng.random(300) + 0.5 * y, 2)  # with ties
    prec, rec, thr = m.precision_recall_curve(y, s)
    fpr, tpr, thr_roc = m.roc_curve(y, s)
    for k in (0, 10, 50, len(thr) - 1):
        assert prec[k] == pytest.approx(m.precision(y, s, thr[k]))
        assert rec[k] == pytest.approx(m.recall(y, s, thr[k]))
        assert tpr[k + 1] == pytest.approx(m.recall(y, s, thr_roc[k + 1]))
    # ROC-AUC equals the Mann-Whitney probability with ties as one half
    pos, neg = s[y == 1], s[y == 0]
    mw = np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :]))
    assert m.roc_auc(y, s) == pytest.approx(mw)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: m.confusion_counts([0, 2], [0.1, 0.2]), ValueError, "only the values"),
    (lambda: m.confusion_counts([0, 1], [0.1, 0.2, 0.3]), ValueError, "shape"),
    (lambda: m.confusion_counts([0, 1], [[0.1], [0.2]]), ValueError, "ravel"),
    (lambda: m.confusion_counts([0, 1], [0.1, np.nan]), ValueError, "NaN"),
    (lambda: m.confusion_counts([], []), ValueError, "empty"),
    (lambda: m.confusion_counts([0, 1], ["a", "b"]), TypeError, "text"),
    (lambda: m.confusion_counts([0, 1], [0.1, 0.2], threshold=[0.5, 0.6]), ValueError, "single number"),
    (lambda: m.roc_curve([1, 1], [0.1, 0.2]), ValueError, "both classes"),
    (lambda: m.average_precision([0, 0], [0.1, 0.2]), ValueError, "at least one positive"),
])
def test_bad_input_is_explained(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("inf", [np.inf, -np.inf])
def test_tied_infinite_scores_are_one_threshold(inf):
    """inf − inf is NaN, so grouping ties by np.diff(scores) != 0 split tied ±inf scores."""
    for y in ([1, 0], [0, 1]):  # the answer must not depend on the order
        assert m.roc_auc(y, [inf, inf]) == 0.5
        assert m.average_precision(y, [inf, inf]) == 0.5
    y, scores = [1, 0, 1, 0, 1], [np.inf, np.inf, 0.0, -np.inf, -np.inf]
    fpr, tpr, thresholds = m.roc_curve(y, scores)
    np.testing.assert_array_equal(thresholds, [np.inf, np.inf, 0.0, -np.inf])
    np.testing.assert_array_equal(fpr, [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(tpr, [0.0, 1 / 3, 2 / 3, 1.0])
    # by hand, over the 6 (positive, negative) pairs: 1 + 1 right, 2 ties at ±inf count 1/2 each
    assert m.roc_auc(y, scores) == pytest.approx(3 / 6, rel=1e-15, abs=0)
    finite = [1e300, 1e300, 0.0, -1e300, -1e300]
    assert m.roc_auc(y, scores) == m.roc_auc(y, finite)
    assert m.average_precision(y, scores) == m.average_precision(y, finite)
