"""Small, seeded 2-D data sets for chapter 1 (logistic regression).

Every generator takes a ``seed`` and returns the same arrays for the same arguments on every
machine: ``X`` of shape (N, 2) and labels ``y`` of shape (N,), both float64, with y in {0, 1}.
The examples come in a random order (the classes are shuffled together), and each class has
a fixed number of examples (``n // 2`` negatives, ``n - n // 2`` positives), so that a plot or
a fitted number never depends on how many examples of a class a draw happened to give.

- :func:`make_two_blobs`   two overlapping Gaussian classes (not separable): the usual case
- :func:`make_separable`   two classes with an empty strip between them (linearly separable):
                           the case where the maximum-likelihood weights do not exist
- :func:`make_logistic`    features drawn at random, labels drawn from a known logistic
                           model p(y = 1 | x) = σ(w·x + b): a fit can be compared with the truth
- :func:`two_blobs_truth`  the true (w, b) of :func:`make_two_blobs` data and the accuracy of
                           the best possible (Bayes) rule, in closed form (chapter 1, §Where the
                           model comes from)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validation import as_float_array, check_nonnegative
from .functional import sigmoid

__all__ = ["make_two_blobs", "make_separable", "make_logistic", "two_blobs_truth"]


def _check_n(n) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"n must be a whole number of examples, not {n!r}")
    if n < 2:
        raise ValueError(f"n must be at least 2 (one example of each class), not {n}")
    return int(n)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number (the data are always seeded), "
                         f"not {seed!r}")
    return int(seed)


def _check_scalar(value, name: str, *, nonnegative: bool = True) -> float:
    arr = as_float_array(value, name, allow_inf=False)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number, not an array of shape {arr.shape}")
    if nonnegative:
        check_nonnegative(arr, name)
    return float(arr)


def _class_sizes(n: int) -> tuple[int, int]:
    """(negatives, positives): n // 2 and the rest."""
    return n // 2, n - n // 2


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return np.ascontiguousarray(X[order]), np.ascontiguousarray(y[order])


def _check_shape_of_blobs(correlation, center) -> tuple[float, np.ndarray]:
    """The blobs' noise correlation ρ (strictly inside (−1, 1)) and their centre (a point)."""
    rho = _check_scalar(correlation, "correlation", nonnegative=False)
    if not -1.0 < rho < 1.0:
        raise ValueError(f"correlation must lie strictly between -1 and 1, not {rho!r}")
    c = as_float_array(center, "center", allow_inf=False)
    if c.shape != (2,):
        raise ValueError(f"center must be two numbers (a point in the plane), not shape {c.shape}")
    return rho, c


def make_two_blobs(n: int = 200, separation: float = 2.0, seed: int = 0, *,
                   correlation: float = 0.0, center=(0.0, 0.0)):
    """Two Gaussian classes in the plane that overlap: no line separates them.

    Class 0 is drawn from N(c − m, Σ) and class 1 from N(c + m, Σ), where c is ``center``,
    m = (separation / 2, 0) and Σ = [[1, ρ], [ρ, 1]] with ρ = ``correlation``: the class means
    are ``separation`` apart along the first feature and each feature has variance 1. For such
    data the Bayes-optimal p(y = 1 | x) is exactly a logistic function of a linear score (two
    Gaussians with a shared covariance), so logistic regression is the right model, and the
    overlap grows as the separation shrinks.

    Parameters
    ----------
    n : int, default 200
        Number of examples (at least 2): ``n // 2`` of class 0, the rest of class 1.
    separation : float, default 2.0
        Distance between the two class means (>= 0), in units of the features' standard
        deviation.
    seed : int, default 0
        Seed of the random generator (``numpy.random.default_rng``).
    correlation : float, default 0.0
        Correlation ρ of the two features within each class, in (−1, 1).
    center : pair of floats, default (0, 0)
        The midpoint between the class means. Moving it away from the origin changes nothing
        about the classes' shapes; it only makes the features non-centred.

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), float64, values 0.0 and 1.0

    Raises
    ------
    ValueError
        If n < 2 or not a whole number, separation is negative or not finite, correlation is
        not in (−1, 1), center is not two finite numbers, or seed is not a non-negative integer.

    Examples
    --------
    >>> X, y = make_two_blobs(6, separation=3.0, seed=1)
    >>> X.shape, y.shape, float(y.sum())
    ((6, 2), (6,), 3.0)
    """
    n, seed = _check_n(n), _check_seed(seed)
    separation = _check_scalar(separation, "separation")
    rho, c = _check_shape_of_blobs(correlation, center)

    rng = np.random.default_rng(seed)
    n_neg, n_pos = _class_sizes(n)
    # Correlated unit-variance noise: z1, and ρ·z1 + sqrt(1 − ρ²)·z2.
    z = rng.standard_normal((n, 2))
    noise = np.column_stack([z[:, 0], rho * z[:, 0] + np.sqrt(1.0 - rho**2) * z[:, 1]])
    y = np.concatenate([np.zeros(n_neg), np.ones(n_pos)])
    half = np.array([separation / 2.0, 0.0])
    X = c + noise + np.where(y[:, None] == 1.0, half, -half)
    return _shuffled(X, y, rng)


def make_separable(n: int = 60, seed: int = 0, *, margin: float = 0.5):
    """Two classes that a straight line separates, with an empty strip between them.

    Points are drawn from a standard Gaussian in the plane; along the direction
    u = (1, 1)/√2 each point is then pushed to its class's side, so that every example of
    class 1 has u·x >= margin and every example of class 0 has u·x <= −margin. The line
    u·x = 0 therefore separates the classes with room ``margin`` on each side, and so do many
    other lines.

    Parameters
    ----------
    n : int, default 60
        Number of examples (at least 2): ``n // 2`` of class 0, the rest of class 1.
    seed : int, default 0
        Seed of the random generator.
    margin : float, default 0.5
        Half the width of the empty strip around the line u·x = 0 (> 0).

    Returns
    -------
    X : numpy.ndarray, shape (n, 2), float64
    y : numpy.ndarray, shape (n,), float64, values 0.0 and 1.0

    Raises
    ------
    ValueError
        If n < 2 or not a whole number, margin is not a positive finite number, or seed is
        not a non-negative integer.

    Examples
    --------
    >>> X, y = make_separable(8, seed=0, margin=1.0)
    >>> u = np.array([1.0, 1.0]) / np.sqrt(2.0)
    >>> bool(np.all((2 * y - 1) * (X @ u) >= 1.0 - 1e-12))
    True
    """
    n, seed = _check_n(n), _check_seed(seed)
    margin = _check_scalar(margin, "margin")
    if margin <= 0.0:
        raise ValueError(f"margin must be > 0 (with margin 0 the classes may touch), not {margin!r}")

    rng = np.random.default_rng(seed)
    n_neg, n_pos = _class_sizes(n)
    y = np.concatenate([np.zeros(n_neg), np.ones(n_pos)])
    t = 2.0 * y - 1.0
    u = np.array([1.0, 1.0]) / np.sqrt(2.0)
    v = np.array([-1.0, 1.0]) / np.sqrt(2.0)
    along = margin + np.abs(rng.standard_normal(n))      # distance from the line, >= margin
    across = rng.standard_normal(n)                      # position along the line
    X = (t * along)[:, None] * u + across[:, None] * v
    return _shuffled(X, y, rng)


def make_logistic(n: int, w, b: float = 0.0, seed: int = 0, *, scale: float = 1.0):
    """Features from a Gaussian, labels drawn from a known logistic model.

    Each row of X is drawn from N(0, scale²·I); each label is then a coin flip with
    P(y = 1 | x) = σ(w·x + b). The fitted weights of a logistic regression approach ``w`` and
    ``b`` as n grows, which makes this the data set on which to check that a fit recovers the
    truth.

    Parameters
    ----------
    n : int
        Number of examples (at least 2). Unlike the other generators the class counts are
        random here (they follow from the model), and a class may be missing for tiny n.
    w : array_like, shape (d,)
        The true weights (finite); d is the number of features.
    b : float, default 0.0
        The true bias.
    seed : int, default 0
        Seed of the random generator.
    scale : float, default 1.0
        Standard deviation of each feature (> 0).

    Returns
    -------
    X : numpy.ndarray, shape (n, d), float64
    y : numpy.ndarray, shape (n,), float64, values 0.0 and 1.0

    Raises
    ------
    ValueError
        If n < 2, w is not a non-empty 1-D array of finite numbers, b or scale is not finite,
        scale <= 0, or seed is not a non-negative integer.

    Examples
    --------
    >>> X, y = make_logistic(5, w=[1.0, -2.0, 0.5], b=0.3, seed=0)
    >>> X.shape, y.shape
    ((5, 3), (5,))
    """
    n, seed = _check_n(n), _check_seed(seed)
    w = as_float_array(w, "w", allow_inf=False)
    if w.ndim != 1:
        raise ValueError(f"w must be a 1-D array of weights (one per feature), not shape {w.shape}")
    b = _check_scalar(b, "b", nonnegative=False)
    scale = _check_scalar(scale, "scale")
    if scale <= 0.0:
        raise ValueError(f"scale must be > 0, not {scale!r}")
    rng = np.random.default_rng(seed)
    X = scale * rng.standard_normal((n, w.size))
    p = sigmoid(X @ w + b)
    y = (rng.random(n) < p).astype(np.float64)
    return X, y


def two_blobs_truth(separation: float = 2.0, *, correlation: float = 0.0, center=(0.0, 0.0),
                    prior: float = 0.5):
    """The true posterior of :func:`make_two_blobs` data: weights, bias and Bayes accuracy.

    Chapter 1, §Where the model comes from, derives that two Gaussian classes N(μ₀, Σ) and
    N(μ₁, Σ) with a shared covariance Σ and class shares π₀ = 1 − π₁, π₁ give the posterior
    p(y = 1 | x) = σ(w·x + b) with

        w = Σ⁻¹(μ₁ − μ₀),    b = −½(μ₁ᵀΣ⁻¹μ₁ − μ₀ᵀΣ⁻¹μ₀) + log(π₁/π₀).

    For :func:`make_two_blobs` μ₀ = c − m, μ₁ = c + m with m = (separation/2, 0) and
    Σ = [[1, ρ], [ρ, 1]], so w = Σ⁻¹·(separation, 0) = separation/(1 − ρ²)·(1, −ρ) and
    b = −w·c + log(π₁/π₀). The generator does not draw the labels: each data set has exactly
    ``n // 2`` examples of class 0 and the rest of class 1, so the ``prior`` that describes a
    data set is its share of class 1, ``(n - n // 2) / n`` (1/2 for an even n, the default).

    The rule "predict 1 when w·x + b >= 0" is then the best possible (Bayes) classifier. With
    Δ² = (μ₁ − μ₀)ᵀΣ⁻¹(μ₁ − μ₀) = separation²/(1 − ρ²) (the squared Mahalanobis distance
    between the means) and L = log(π₁/π₀), the score w·x + b is Gaussian with variance Δ² and
    mean ±Δ²/2 + L in each class, so the rule's accuracy is

        π₁·Φ((Δ²/2 + L)/Δ) + π₀·Φ((Δ²/2 − L)/Δ),

    Φ the standard normal distribution function: Φ(Δ/2) for equal shares.

    Parameters
    ----------
    separation : float, default 2.0
        Distance between the class means (> 0: with 0 the classes coincide).
    correlation : float, default 0.0
        Correlation ρ of the two features within each class, in (−1, 1).
    center : pair of floats, default (0, 0)
        The midpoint c between the class means.
    prior : float, default 0.5
        The share π₁ of class 1, in (0, 1).

    Returns
    -------
    w : numpy.ndarray, shape (2,)
    b : float
    bayes_accuracy : float
        The probability that the Bayes rule classifies a new example correctly.

    Raises
    ------
    ValueError
        If separation is not a positive finite number, correlation is not in (−1, 1), center
        is not two finite numbers, or prior is not in (0, 1).

    Examples
    --------
    >>> w, b, accuracy = two_blobs_truth(2.0, center=(2.0, 1.0))
    >>> w.tolist(), b, round(accuracy, 4)
    ([2.0, 0.0], -4.0, 0.8413)
    """
    separation = _check_scalar(separation, "separation")
    if separation <= 0.0:
        raise ValueError(f"separation must be > 0 (with 0 the classes coincide), not {separation!r}")
    rho, c = _check_shape_of_blobs(correlation, center)
    pi1 = _check_scalar(prior, "prior")
    if not 0.0 < pi1 < 1.0:
        raise ValueError(f"prior must lie strictly between 0 and 1, not {pi1!r}")

    w = separation / (1.0 - rho**2) * np.array([1.0, -rho]) + 0.0   # + 0.0: no −0.0 when ρ = 0
    log_odds = math.log(pi1 / (1.0 - pi1))
    b = float(-(w @ c) + log_odds)
    delta = separation / math.sqrt(1.0 - rho**2)

    def phi(z: float) -> float:
        return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))

    accuracy = pi1 * phi(delta / 2 + log_odds / delta) + (1 - pi1) * phi(delta / 2 - log_odds / delta)
    return w, b, float(accuracy)
