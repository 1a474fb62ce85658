"""Tests of course_lib.plotting: the shared style and chapter 1's drawing helpers.

The helpers are tested by what they put on the axes (artists, data, limits), drawn on a
matplotlib ``Figure`` created without pyplot, so no window or backend is involved.
"""

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from course_lib import plotting
from course_lib.functional import logit
from course_lib.toy_data import make_two_blobs


def axes(xlim=(-3.0, 3.0), ylim=(-2.0, 2.0)):
    ax = Figure().subplots()
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return ax


def test_use_course_style_sets_the_rcparams():
    with mpl.rc_context():
        plotting.use_course_style()
        assert mpl.rcParams["figure.facecolor"] == "white"
        assert mpl.rcParams["axes.grid"] is True


def test_new_axes_titles_and_labels():
    import matplotlib.pyplot as plt
    fig, ax = plotting.new_axes("A title", "x label", "y label")
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("A title", "x label", "y label")
    plt.close(fig)
    fig, ax = plotting.new_axes("Two", "x", "y", ncols=2)
    assert len(ax) == 2 and fig._suptitle.get_text() == "Two"
    plt.close(fig)


def test_scatter_classes_draws_each_class_with_its_colour_and_marker():
    X, y = make_two_blobs(30, 2.0, seed=0)
    ax = axes()
    negatives, positives = plotting.scatter_classes(ax, X, y, labels=("no", "yes"))
    assert isinstance(negatives, PathCollection) and isinstance(positives, PathCollection)
    np.testing.assert_array_equal(negatives.get_offsets(), X[y == 0])
    np.testing.assert_array_equal(positives.get_offsets(), X[y == 1])
    assert (negatives.get_label(), positives.get_label()) == ("no", "yes")
    assert mpl.colors.to_hex(negatives.get_facecolor()[0]) == plotting.COLORS["negative"].lower()
    assert mpl.colors.to_hex(positives.get_facecolor()[0]) == plotting.COLORS["positive"].lower()


def test_probability_contours_lie_where_the_logit_says():
    w, b = np.array([2.0, -1.0]), 0.5
    ax = axes()
    lines = plotting.plot_probability_contours(ax, w, b, levels=(0.25, 0.5, 0.9))
    np.testing.assert_allclose(lines.levels, [0.25, 0.5, 0.9])
    # Every vertex of the contour p = q satisfies w·x + b = logit(q) (up to the grid's resolution).
    for level, segments in zip(lines.levels, lines.allsegs):
        assert segments, f"no contour drawn for p = {level}"
        points = np.concatenate(segments)
        np.testing.assert_allclose(points @ w + b, logit(level), atol=1e-3)   # p is interpolated linearly
    assert ax.get_xlim() == (-3.0, 3.0) and ax.get_ylim() == (-2.0, 2.0)   # limits kept


def test_decision_boundary_is_the_zero_logit_line_and_has_a_legend_entry():
    w, b = np.array([1.0, 1.0]), -0.5
    ax = axes()
    handle = plotting.plot_decision_boundary(ax, w, b, label="boundary", linestyle="--")
    assert handle.get_label() == "boundary" and handle.get_linestyle() == "--"
    contour = ax.collections[-1] if hasattr(ax.collections[-1], "allsegs") else None
    assert contour is not None
    points = np.concatenate(contour.allsegs[0])
    np.testing.assert_allclose(points @ w + b, 0.0, atol=1e-9)
    assert "boundary" in [h.get_label() for h in ax.get_legend_handles_labels()[0]]


def test_vertical_boundary_and_boundary_outside_the_view():
    ax = axes()
    plotting.plot_decision_boundary(ax, np.array([1.0, 0.0]), -1.0)        # the line x1 = 1
    points = np.concatenate(ax.collections[-1].allsegs[0])
    np.testing.assert_allclose(points[:, 0], 1.0, atol=1e-9)
    ax2 = axes()
    handle = plotting.plot_decision_boundary(ax2, np.array([1.0, 0.0]), -10.0)   # x1 = 10: off view
    assert not ax2.collections and handle.get_label().startswith("decision boundary")


def test_learning_curve_drops_non_positive_values_on_a_log_axis():
    ax = axes()
    line = plotting.plot_learning_curve(ax, [1.0, 0.1, 0.0, -1e-17, 1e-3], label="gap", start=5)
    assert ax.get_yscale() == "log" and line.get_label() == "gap"
    np.testing.assert_array_equal(line.get_xdata(), [5, 6, 7, 8, 9])
    ydata = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(ydata[2]) and np.isnan(ydata[3]) and ydata[4] == 1e-3
    ax2 = axes()
    line2 = plotting.plot_learning_curve(ax2, [0.5, 0.4], label="loss", log=False, color="#000000")
    assert ax2.get_yscale() == "linear" and line2.get_color() == "#000000"


@pytest.mark.parametrize("call, message", [
    (lambda ax: plotting.scatter_classes(ax, np.zeros((4, 3)), np.zeros(4)), r"shape \(N, 2\)"),
    (lambda ax: plotting.scatter_classes(ax, np.zeros((4, 2)), np.zeros(3)), "one label per row"),
    (lambda ax: plotting.scatter_classes(ax, np.zeros((2, 2)), [0.0, 2.0]), "only the values"),
    (lambda ax: plotting.plot_probability_contours(ax, [1.0, 2.0, 3.0], 0.0), "two weights"),
    (lambda ax: plotting.plot_probability_contours(ax, [1.0, 2.0], 0.0, levels=(0.5, 1.0)),
     "strictly between 0 and 1"),
    (lambda ax: plotting.plot_decision_boundary(ax, [1.0, np.nan], 0.0), "NaN"),
    (lambda ax: plotting.plot_learning_curve(ax, [[1.0, 2.0]], label="x"), "1-D"),
])
def test_bad_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(axes())
