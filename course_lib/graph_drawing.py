"""Drawing a small computational graph of :class:`course_lib.autodiff.Value` nodes.

The layout is layered, left to right, in the order the forward pass runs:

- an operation sits one layer to the right of its right-most parent (its longest path from the
  inputs);
- an input or a constant sits just left of the first node that uses it, so constants appear
  next to the operation they feed rather than all in the first column;
- within a layer, nodes are stacked in topological order.

Each node is a box with its name (label and/or operation), its value and, optionally, its
gradient; each edge is an arrow from a parent to the node computed from it. Only matplotlib is
used. Meant for graphs of a few dozen nodes: larger ones draw, but do not read well.
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch

from .autodiff import Value, topological_order

__all__ = ["GraphLayout", "graph_layout", "draw_graph"]

_OP_NAMES = {"sigmoid": "σ", "neg": "−(·)", "*": "×", "-": "−", "/": "÷", "relu": "ReLU"}


class GraphLayout(NamedTuple):
    """Where each node goes: ``nodes`` in topological order, their ``positions`` (x = layer,
    y = slot within the layer, same order) and ``edges`` as (parent index, child index)."""

    nodes: list
    positions: list
    edges: list


def graph_layout(root: Value) -> GraphLayout:
    """The layered layout of the graph that ``root`` depends on (see the module docstring)."""
    nodes = topological_order(root)
    index = {id(n): i for i, n in enumerate(nodes)}
    layer = [0] * len(nodes)
    for i, node in enumerate(nodes):
        if node.parents:
            layer[i] = 1 + max(layer[index[id(q)]] for q in node.parents)
    # pull each leaf next to its first user
    children: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
    edges = []
    for i, node in enumerate(nodes):
        for q in node.parents:
            children[index[id(q)]].append(i)
            edges.append((index[id(q)], i))
    for i, node in enumerate(nodes):
        if not node.parents and children[i]:
            layer[i] = max(0, min(layer[c] for c in children[i]) - 1)
    # stack nodes of a layer, centred on 0
    by_layer: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        by_layer.setdefault(layer[i], []).append(i)
    positions = [(0.0, 0.0)] * len(nodes)
    for lay, members in by_layer.items():
        for slot, i in enumerate(members):
            positions[i] = (float(lay), (len(members) - 1) / 2.0 - slot)
    return GraphLayout(nodes, positions, edges)


def _is_constant(node: Value) -> bool:
    """A leaf the engine made from a plain number (its label is the number itself)."""
    return not node.parents and node.label == f"{node.data:.6g}"


def _edge_point(centre, half_size, towards):
    """Where the segment from ``centre`` to ``towards`` leaves a box of the given half size."""
    (cx, cy), (hw, hh), (tx, ty) = centre, half_size, towards
    dx, dy = tx - cx, ty - cy
    scale = min(hw / abs(dx) if dx else float("inf"), hh / abs(dy) if dy else float("inf"))
    scale = min(scale, 0.5)
    return cx + scale * dx, cy + scale * dy


def _node_text(node: Value, show_grad: bool, show_constant_grad: bool = True) -> str:
    op = _OP_NAMES.get(node.op, node.op)
    if _is_constant(node):
        name = "constant"
    elif node.label and op:
        name = f"{node.label}  [{op}]"
    else:
        name = node.label or (f"[{op}]" if op else "input")
    lines = [name, f"{node.data:.4g}"]
    if show_grad and (show_constant_grad or not _is_constant(node)):
        lines.append(f"grad {node.grad:.4g}")
    return "\n".join(lines)


def draw_graph(root: Value, *, show_grad: bool = True, show_constant_grad: bool = True,
               title: str = "Computational graph",
               xlabel: str = "forward pass: inputs on the left, the output on the right",
               ax=None, figsize=None):
    """Draw the graph of ``root`` and return ``(fig, ax)``.

    Parameters
    ----------
    root : Value
        The output node (usually the loss).
    show_grad : bool, default True
        Also print each node's ``grad`` (run ``root.backward()`` first).
    show_constant_grad : bool, default True
        With ``show_grad``, also print the ``grad`` of the constants (leaves the engine made
        from plain numbers, such as a label). ``backward()`` computes an adjoint for every
        node, constants included, but training never uses theirs; False leaves them out.
    title : str
        The axes title.
    xlabel : str
        The text under the graph (by default it says how to read the forward pass; a
        drawing of gradients may say how to read the backward pass instead).
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made if None.
    figsize : (float, float), optional
        The size of the new figure; by default it grows with the number of layers.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        One text box per node (``len(ax.texts)``) and one arrow patch per edge
        (``len(ax.patches)``).
    """
    layout = graph_layout(root)
    n_layers = 1 + int(max(x for x, _ in layout.positions))
    height = 1 + max(sum(1 for x, _ in layout.positions if x == lay) for lay in range(n_layers))
    if ax is None:
        if figsize is None:
            figsize = (max(4.0, 1.3 * n_layers), max(2.5, 0.85 * height + 0.6))
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    texts = []
    for node, (x, y) in zip(layout.nodes, layout.positions):
        is_const = _is_constant(node)
        is_root = node is root
        face = "#FDE9D9" if is_root else ("#F2F2F2" if is_const else
                                          ("#DCEBF7" if not node.parents else "white"))
        texts.append(ax.text(x, y, _node_text(node, show_grad, show_constant_grad),
                             ha="center", va="center",
                             fontsize=8, zorder=3,
                             bbox={"boxstyle": "round,pad=0.35", "facecolor": face,
                                   "edgecolor": "#444444", "linewidth": 0.8}))
    xs = [x for x, _ in layout.positions]
    ys = [y for _, y in layout.positions]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    # Measure the boxes (in data units) so that each arrow starts and ends at a box's edge.
    fig.draw_without_rendering()
    to_data = ax.transData.inverted()
    half = []
    for text in texts:
        (x0, y0), (x1, y1) = to_data.transform(text.get_bbox_patch().get_window_extent())
        half.append((abs(x1 - x0) / 2, abs(y1 - y0) / 2))
    for parent, child in layout.edges:
        start = _edge_point(layout.positions[parent], half[parent], layout.positions[child])
        end = _edge_point(layout.positions[child], half[child], layout.positions[parent])
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=9,
                                     color="#666666", linewidth=0.9, zorder=1,
                                     shrinkA=1, shrinkB=1))
    return fig, ax
