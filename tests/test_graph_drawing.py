"""The computational-graph drawing: structure only (number of boxes and arrows), never pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course_lib.autodiff import Value  # noqa: E402
from course_lib.graph_drawing import draw_graph, graph_layout  # noqa: E402


def _bce_graph():
    x, w, b = Value(0.5, label="x"), Value(0.2, label="w"), Value(0.1, label="b")
    s = w * x + b
    p = s.sigmoid()
    loss = -(0.7 * p.log() + 0.3 * (1 - p).log())
    return loss


def test_draw_graph_has_one_box_per_node_and_one_arrow_per_edge():
    loss = _bce_graph()
    loss.backward()
    fig, ax = draw_graph(loss, title="BCE of a sigmoid unit")
    n_nodes = len(loss.topological_order())
    n_edges = sum(len(n.parents) for n in loss.topological_order())
    assert n_nodes == 16 and n_edges == 16
    assert len(ax.texts) == n_nodes
    assert len(ax.patches) == n_edges
    assert ax.get_title() == "BCE of a sigmoid unit"
    assert any("grad" in t.get_text() for t in ax.texts)
    plt.close(fig)


def test_draw_graph_without_grads_and_on_given_axes():
    loss = _bce_graph()
    fig, ax = plt.subplots()
    fig2, ax2 = draw_graph(loss, show_grad=False, ax=ax)
    assert fig2 is fig and ax2 is ax
    assert not any("grad" in t.get_text() for t in ax.texts)
    plt.close(fig)


def test_constant_grads_can_be_hidden():
    loss = _bce_graph()
    loss.backward()
    fig, ax = draw_graph(loss, show_constant_grad=False)
    texts = [t.get_text() for t in ax.texts]
    constants = [t for t in texts if t.startswith("constant")]
    assert constants and not any("grad" in t for t in constants)
    others = [t for t in texts if not t.startswith("constant")]
    assert others and all("grad" in t for t in others)             # x, w, b, ... keep theirs
    assert len(texts) == len(loss.topological_order())
    plt.close(fig)
    fig, ax = draw_graph(loss)                                      # the default shows them all
    assert all("grad" in t.get_text() for t in ax.texts)
    assert ax.get_xlabel().startswith("forward pass")
    plt.close(fig)
    fig, ax = draw_graph(loss, xlabel="backward pass: read right to left")
    assert ax.get_xlabel() == "backward pass: read right to left"
    plt.close(fig)


def test_layout_layers_follow_the_forward_pass():
    loss = _bce_graph()
    layout = graph_layout(loss)
    x_of = {id(n): pos[0] for n, pos in zip(layout.nodes, layout.positions)}
    for node in layout.nodes:
        for parent in node.parents:
            assert x_of[id(parent)] < x_of[id(node)]
    assert x_of[id(loss)] == max(x_of.values())
    # no two nodes share a position
    assert len(set(layout.positions)) == len(layout.positions)


def test_single_node_and_bad_input():
    fig, ax = draw_graph(Value(1.0, label="x"))
    assert len(ax.texts) == 1 and len(ax.patches) == 0
    plt.close(fig)
    with pytest.raises(TypeError):
        draw_graph(1.0)
