"""Tests of course_lib.toy_data: shapes, dtypes, determinism, class counts, and the geometric
property each generator promises (overlap, separability, agreement with the true model)."""

import math

import numpy as np
import pytest

from course_lib.functional import sigmoid
from course_lib.toy_data import make_logistic, make_separable, make_two_blobs


@pytest.mark.parametrize("make", [
    lambda n, seed: make_two_blobs(n, 2.0, seed),
    lambda n, seed: make_separable(n, seed),
])
@pytest.mark.parametrize("n", [2, 3, 50, 201])
def test_shapes_dtypes_and_class_counts(make, n):
    X, y = make(n, 0)
    assert X.shape == (n, 2) and y.shape == (n,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert set(np.unique(y)) <= {0.0, 1.0}
    assert y.sum() == n - n // 2                      # positives: the larger half
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make", [make_two_blobs, make_separable])
def test_same_seed_same_data_other_seed_other_data(make):
    X1, y1 = make(40, seed=3)
    X2, y2 = make(40, seed=3)
    X3, _ = make(40, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_classes_are_shuffled_together():
    _, y = make_two_blobs(100, 2.0, seed=0)
    assert 0.0 < y[:50].mean() < 1.0                  # not all of one class first


def test_two_blobs_means_covariance_and_center():
    X, y = make_two_blobs(20_000, separation=3.0, seed=1, correlation=0.6, center=(2.0, -1.0))
    for value, sign in ((0.0, -1.0), (1.0, 1.0)):
        part = X[y == value]
        np.testing.assert_allclose(part.mean(axis=0), [2.0 + sign * 1.5, -1.0], atol=0.05)
        np.testing.assert_allclose(np.cov(part.T), [[1.0, 0.6], [0.6, 1.0]], atol=0.05)


def test_two_blobs_overlap_so_no_line_separates_them():
    # The best a line can do on overlapping Gaussians: some examples on the wrong side of the
    # Bayes boundary x1 = 0 (the means are symmetric about it).
    X, y = make_two_blobs(200, separation=2.0, seed=0)
    wrong = np.mean((X[:, 0] > 0) != (y == 1))
    assert 0.05 < wrong < 0.3


def test_separable_has_the_promised_margin():
    for seed in range(5):
        X, y = make_separable(60, seed=seed, margin=0.7)
        u = np.array([1.0, 1.0]) / np.sqrt(2.0)
        assert np.all((2 * y - 1) * (X @ u) >= 0.7 - 1e-12)


def test_logistic_labels_follow_the_model():
    w, b = np.array([1.5, -0.5]), 0.3
    X, y = make_logistic(50_000, w, b, seed=2)
    p = sigmoid(X @ w + b)
    # Calibration: within bins of the true p, the label frequency matches p.
    bins = np.digitize(p, [0.2, 0.4, 0.6, 0.8])
    for k in range(5):
        inside = bins == k
        assert abs(y[inside].mean() - p[inside].mean()) < 0.02
    X2, y2 = make_logistic(10, [1.0, 2.0, 3.0], 0.0, seed=0, scale=2.0)
    assert X2.shape == (10, 3) and y2.shape == (10,)


@pytest.mark.parametrize("call, message", [
    (lambda: make_two_blobs(1), "at least 2"),
    (lambda: make_two_blobs(10.5), "whole number"),
    (lambda: make_two_blobs(True), "whole number"),
    (lambda: make_two_blobs(10, separation=-1.0), "separation must be >= 0"),
    (lambda: make_two_blobs(10, separation=np.inf), "separation must be finite"),
    (lambda: make_two_blobs(10, correlation=1.0), "strictly between -1 and 1"),
    (lambda: make_two_blobs(10, center=(0.0, 1.0, 2.0)), "center must be two numbers"),
    (lambda: make_two_blobs(10, seed=-1), "seed"),
    (lambda: make_two_blobs(10, seed=None), "seed"),
    (lambda: make_separable(10, margin=0.0), "margin must be > 0"),
    (lambda: make_separable(0), "at least 2"),
    (lambda: make_logistic(10, [[1.0, 2.0]]), "1-D array"),
    (lambda: make_logistic(10, [1.0], scale=0.0), "scale must be > 0"),
    (lambda: make_logistic(10, [np.nan]), "NaN"),
])
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# -- two_blobs_truth: the true posterior of make_two_blobs data ----------------------------------

def _log_density(X, mean, cov):
    """log N(x; mean, cov), row by row, written out independently of two_blobs_truth."""
    diff = X - mean
    inv = np.linalg.inv(cov)
    return -0.5 * np.einsum("ij,jk,ik->i", diff, inv, diff) - 0.5 * np.log(np.linalg.det(2 * np.pi * cov))


@pytest.mark.parametrize("separation, rho, center, prior", [
    (2.0, 0.0, (2.0, 1.0), 0.5),
    (1.0, 0.6, (0.0, 0.0), 0.5),
    (3.0, -0.4, (-1.0, 2.5), 0.2),
])
def test_two_blobs_truth_is_the_posterior_of_the_two_gaussians(separation, rho, center, prior):
    from course_lib.toy_data import two_blobs_truth
    w, b, _ = two_blobs_truth(separation, correlation=rho, center=center, prior=prior)
    c, m = np.array(center), np.array([separation / 2, 0.0])
    cov = np.array([[1.0, rho], [rho, 1.0]])
    X = np.random.default_rng(0).normal(size=(200, 2)) * 3 + c
    log_ratio = (np.log(prior) + _log_density(X, c + m, cov)) - (np.log(1 - prior) + _log_density(X, c - m, cov))
    assert np.allclose(X @ w + b, log_ratio, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("separation, rho", [(2.0, 0.0), (1.0, 0.6), (3.0, -0.4)])
def test_two_blobs_truth_bayes_accuracy_matches_monte_carlo(separation, rho):
    from course_lib.toy_data import two_blobs_truth
    center = (2.0, 1.0)
    w, b, accuracy = two_blobs_truth(separation, correlation=rho, center=center)
    X, y = make_two_blobs(200_000, separation, seed=3, correlation=rho, center=center)
    mc = np.mean((X @ w + b >= 0) == (y == 1.0))
    assert abs(mc - accuracy) < 4 * np.sqrt(accuracy * (1 - accuracy) / len(y))
    # No other rule does better: shifting or turning the boundary loses accuracy.
    for w2, b2 in ((w, b + 0.3), (w, b - 0.3), (w + np.array([0.0, 0.5]), b)):
        assert np.mean((X @ w2 + b2 >= 0) == (y == 1.0)) < mc


def test_two_blobs_truth_unequal_prior_accuracy_by_monte_carlo():
    from course_lib.toy_data import two_blobs_truth
    w, b, accuracy = two_blobs_truth(1.5, correlation=0.3, prior=0.2)
    rng = np.random.default_rng(5)
    n = 400_000
    y = (rng.random(n) < 0.2).astype(float)
    cov = np.array([[1.0, 0.3], [0.3, 1.0]])
    X = rng.multivariate_normal([0.0, 0.0], cov, size=n) + np.where(y[:, None] == 1, 0.75, -0.75) * np.array([1.0, 0.0])
    mc = np.mean((X @ w + b >= 0) == (y == 1.0))
    assert abs(mc - accuracy) < 4 * np.sqrt(accuracy * (1 - accuracy) / n)
    assert accuracy > 0.8                     # better than always predicting class 0


def test_two_blobs_truth_examples_and_bad_arguments():
    from course_lib.toy_data import two_blobs_truth
    w, b, accuracy = two_blobs_truth(2.0, center=(2.0, 1.0))
    assert w.tolist() == [2.0, 0.0] and b == -4.0
    assert abs(accuracy - 0.5 * (1 + math.erf(1 / math.sqrt(2)))) < 1e-15
    for kwargs, message in (({"separation": 0.0}, "separation must be > 0"),
                            ({"correlation": -1.0}, "strictly between -1 and 1"),
                            ({"center": (1.0,)}, "center must be two numbers"),
                            ({"prior": 1.0}, "prior must lie strictly between 0 and 1"),
                            ({"separation": np.nan}, "NaN")):
        with pytest.raises(ValueError, match=message):
            two_blobs_truth(**kwargs)
