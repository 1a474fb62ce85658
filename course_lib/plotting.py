"""One consistent figure style for every chapter.

Figures are PNG on a white background (readable in the website's light and dark themes), with
a title, labelled axes and a legend where there is more than one line. Colours are fixed per
role so that, for example, "prior bias" is the same colour in every chapter.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.lines import Line2D

from ._validation import as_float_array, check_in_set
from .functional import sigmoid

# Colour per role (colour-blind-safe Okabe-Ito palette).
COLORS = {
    "positive": "#D55E00",   # class 1 / fraud / "prior bias" runs
    "negative": "#0072B2",   # class 0 / legitimate / "default bias" runs
    "model": "#000000",
    "gd": "#0072B2",         # gradient descent
    "newton": "#D55E00",     # Newton / IRLS
    "torch": "#009E73",
    "accent": "#CC79A7",
    "muted": "#999999",
    "yellow": "#E69F00",
    "sky": "#56B4E9",
}
CYCLE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.framealpha": 0.9,
    "lines.linewidth": 2.0,
    "axes.prop_cycle": mpl.cycler(color=CYCLE),
    "figure.constrained_layout.use": True,
    "svg.hashsalt": "course",  # in case anyone saves SVG: stable ids
}


def use_course_style() -> None:
    """Apply the course's matplotlib style (call once at the top of a chapter)."""
    mpl.rcParams.update(STYLE)


def new_axes(title: str, xlabel: str, ylabel: str, *, ncols: int = 1, figsize=None, **subplot_kw):
    """A figure with ``ncols`` axes, the first titled and labelled; returns ``(fig, ax)``.

    With ``ncols > 1`` ``ax`` is an array and only the figure gets the title (as suptitle); label
    each axis yourself.
    """
    if figsize is None:
        width, height = STYLE["figure.figsize"]
        figsize = (width * (1 if ncols == 1 else 0.75 * ncols), height)
    fig, ax = plt.subplots(1, ncols, figsize=figsize, **subplot_kw)
    if ncols == 1:
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    else:
        fig.suptitle(title)
        ax[0].set_xlabel(xlabel)
        ax[0].set_ylabel(ylabel)
    return fig, ax


# ---------------------------------------------------------------------------------------------
# Chapter 1: two-class data in the plane, linear decision boundaries, learning curves
# ---------------------------------------------------------------------------------------------

def _as_2d_problem(X, y=None):
    """Check X (N, 2) and, if given, y (N,) with 0/1 entries; return float64 arrays."""
    X = as_float_array(X, "X", allow_inf=False)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (N, 2) (two features, to draw in the plane), "
                         f"but it has shape {X.shape}")
    if y is None:
        return X, None
    y = as_float_array(y, "y")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), one label per row of X, "
                         f"but it has shape {y.shape}")
    check_in_set(y, "y", (0.0, 1.0))
    return X, y


def scatter_classes(ax, X, y, *, labels=("y = 0", "y = 1"), size: float = 22, alpha: float = 0.85):
    """Scatter 2-D examples, class 0 as blue circles and class 1 as orange triangles.

    The two classes differ in colour *and* marker, so the plot reads in greyscale and for
    colour-blind readers. Returns the two PathCollections (class 0, class 1).
    """
    X, y = _as_2d_problem(X, y)
    artists = []
    for value, label, color, marker in ((0.0, labels[0], COLORS["negative"], "o"),
                                        (1.0, labels[1], COLORS["positive"], "^")):
        part = X[y == value]
        artists.append(ax.scatter(part[:, 0], part[:, 1], s=size, c=color, marker=marker,
                                  alpha=alpha, edgecolors="white", linewidths=0.5, label=label,
                                  zorder=3))
    return tuple(artists)


def _logit_grid(ax, w, b, grid_points: int):
    """The grid (x1, x2) covering the axes' current limits and s = w1·x1 + w2·x2 + b on it."""
    w = as_float_array(w, "w", allow_inf=False)
    if w.shape != (2,):
        raise ValueError(f"w must hold two weights (one per feature), but it has shape {w.shape}")
    b = float(as_float_array(b, "b", allow_inf=False))
    x1 = np.linspace(*ax.get_xlim(), grid_points)
    x2 = np.linspace(*ax.get_ylim(), grid_points)
    g1, g2 = np.meshgrid(x1, x2)
    return g1, g2, w[0] * g1 + w[1] * g2 + b


def plot_probability_contours(ax, w, b, *, levels=(0.1, 0.25, 0.5, 0.75, 0.9), fill: bool = True,
                              grid_points: int = 200, label_contours: bool = True):
    """Draw the contours of p = σ(w·x + b) over the axes' current limits (set them first).

    The filled background shades from blue (p near 0) to orange (p near 1); the contour lines
    at ``levels`` are labelled with their probability. For a linear logit every contour is a
    straight line parallel to the decision boundary (the level 0.5), and the lines for the
    logits s₁ and s₂ = logit(level) lie |s₁ − s₂|/‖w‖ apart: evenly spaced in logit, and all of
    them close together (the probability climbs from 0.1 to 0.9 over a short distance) when
    ‖w‖ is large, that is for a confident model; far apart when ‖w‖ is small.

    Returns the ``QuadContourSet`` of the lines.
    """
    levels = sorted(float(v) for v in levels)
    if not levels or levels[0] <= 0.0 or levels[-1] >= 1.0:
        raise ValueError(f"levels must be probabilities strictly between 0 and 1, not {levels}")
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    g1, g2, s = _logit_grid(ax, w, b, grid_points)
    p = sigmoid(s)
    if fill:
        cmap = LinearSegmentedColormap.from_list("course_p", ["#cfe3f1", "#ffffff", "#f6d5c0"])
        ax.contourf(g1, g2, p, levels=np.linspace(0.0, 1.0, 11), cmap=cmap, zorder=0)
    lines = ax.contour(g1, g2, p, levels=levels, colors=COLORS["muted"], linewidths=1.0, zorder=1)
    if label_contours:
        ax.clabel(lines, fmt=lambda v: f"p = {v:g}", fontsize=8)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    return lines


def plot_decision_boundary(ax, w, b, *, label: str = "decision boundary (p = 0.5)",
                           color: str | None = None, linestyle: str = "-", grid_points: int = 200):
    """Draw the line w·x + b = 0 (where p = 1/2) across the axes' current limits.

    Drawn as the zero contour of the logit, so a vertical or horizontal boundary works too.
    Returns the line's handle (a ``Line2D`` proxy carrying ``label`` for the legend).
    """
    color = COLORS["model"] if color is None else color
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    g1, g2, s = _logit_grid(ax, w, b, grid_points)
    if s.min() < 0.0 < s.max():
        ax.contour(g1, g2, s, levels=[0.0], colors=[color], linestyles=[linestyle],
                   linewidths=STYLE["lines.linewidth"], zorder=2)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    handle = Line2D([], [], color=color, linestyle=linestyle, label=label)
    ax.add_line(handle)
    return handle


def plot_learning_curve(ax, values, *, label: str, color: str | None = None, linestyle: str = "-",
                        log: bool = True, start: int = 0):
    """Plot one learning curve (a loss, a loss gap or a gradient norm) against the iteration.

    ``values[k]`` is drawn at iteration ``start + k``. With ``log=True`` the y axis is
    logarithmic, which turns the straight-line (linear) convergence of gradient descent into a
    straight line and shows quadratic convergence as a curve that plunges; zeros and negative
    values cannot be drawn on a log axis and are left out. Returns the ``Line2D``.
    """
    values = as_float_array(values, "values")
    if values.ndim != 1:
        raise ValueError(f"values must be a 1-D sequence, one value per iteration, "
                         f"not shape {values.shape}")
    iterations = start + np.arange(values.size)
    if log:
        values = np.where(values > 0.0, values, np.nan)
        ax.set_yscale("log")
    (line,) = ax.plot(iterations, values, label=label, color=color, linestyle=linestyle)
    return line
