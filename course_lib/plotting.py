"""One consistent figure style for every chapter.

Figures are PNG on a white background (readable in the website's light and dark themes), with
a title, labelled axes and a legend where there is more than one line. Colours are fixed per
role so that, for example, "prior bias" is the same colour in every chapter.
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt

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
