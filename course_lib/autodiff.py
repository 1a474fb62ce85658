"""A tiny scalar reverse-mode automatic differentiation engine.

Every number in a computation is wrapped in a :class:`Value`. Each operation creates a new
node that remembers three things:

- its value (``data``), computed in the forward pass;
- its parents, the nodes it was computed from;
- its **local derivatives**, one per parent: ∂(this node)/∂(parent), evaluated at the
  forward values.

That is all reverse mode needs. :meth:`Value.backward` visits the nodes in reverse
topological order (every node after all the nodes that use it) and applies the chain rule
as an accumulation: the *adjoint* of a node, ∂L/∂node, is the sum over its uses of
(adjoint of the user) × (local derivative). One backward pass therefore gives the
derivative of the output with respect to *every* node of the graph.

    >>> x = Value(0.5, label="x"); w = Value(0.2, label="w"); b = Value(0.1, label="b")
    >>> p = (w * x + b).sigmoid()
    >>> loss = -(0.7 * p.log() + 0.3 * (1 - p).log())
    >>> loss.backward()
    >>> round(w.grad, 6), round(b.grad, 6)          # (p - y)·x and p - y
    (-0.075083, -0.150166)

Conventions, and how they compare with PyTorch's:

- a node used twice receives the sum of both contributions (``x * x`` gives 2x), as in
  PyTorch;
- gradients **accumulate** in ``grad`` across calls, as PyTorch's leaf ``.grad`` does, so
  call :meth:`Value.zero_grad` on the output (it sets every node of its graph to 0) before a
  new pass. PyTorch's ``zero_grad()`` is called on the optimiser or the module, that is on the
  parameters, and by default (``set_to_none=True``) sets ``.grad`` to ``None`` rather than 0. Unlike PyTorch, the engine keeps its graph: ``backward()`` may be called twice on the
  same output, and the second call adds the same gradients again (``x * x`` at 3: 6, then 12).
  PyTorch frees the values saved for the backward pass after the first call, and a second
  ``backward()`` through a graph whose backward needs saved tensors (``x * x`` does; ``x + x``
  does not) raises ``RuntimeError`` ("Trying to backward through the graph a second time ...")
  unless the first call was ``backward(retain_graph=True)``. This also hits several losses
  from one shared forward pass, backpropagated one after another: sum them first, or pass
  ``retain_graph=True``;
- every node gets a ``grad``, constants and intermediate results included (PyTorch keeps
  ``.grad`` only for leaf tensors with ``requires_grad=True``, unless ``retain_grad()``);
- ``relu`` has derivative 0 at exactly 0, as in PyTorch;
- the engine works in Python floats (IEEE float64).

Errors are ``ValueError`` with a message that says what went wrong (the log of a number ≤ 0,
division by zero, a result that overflowed float64) and ``TypeError`` for operands that are not
real numbers.
"""

from __future__ import annotations

import math
import numbers

from .functional import sigmoid as _np_sigmoid
from .functional import sigmoid_grad as _np_sigmoid_grad

__all__ = ["Value", "topological_order"]


def _as_float(x, what: str) -> float:
    """A real number as a Python float, or a TypeError/ValueError saying what is wrong."""
    if isinstance(x, Value):
        raise TypeError(f"{what} is already a Value; use it directly instead of wrapping it again")
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a single real number (int or float), not "
                        f"{type(x).__name__}; a Value holds one scalar, use NumPy or torch for arrays")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{what} must be a finite number, not {x}")
    return x


def _fmt(x: float) -> str:
    """A short, rounded rendering of a float (reprs must not show 17 digits)."""
    return f"{x:.6g}"


class Value:
    """A scalar node of a computational graph: a value, its parents and local derivatives.

    In the book: Chapter 2, §Reverse-mode automatic differentiation (§A tiny engine); trained in
    §Training a small network with the engine.

    Parameters
    ----------
    data : int or float
        The number this node holds (finite).
    parents : tuple of Value, optional
        The nodes this one was computed from (empty for an input, a parameter or a constant).
    local_grads : tuple of float, optional
        ∂(this node)/∂(parent) for each parent, at the current values; same length as
        ``parents``. This is how a new operation is added to the engine: compute the value and
        the local derivatives, and return ``Value(value, (x,), (dvalue_dx,), op="name")``.
    op : str, optional
        The name of the operation that made the node ("+", "*", "sigmoid", ...); "" for leaves.
    label : str, optional
        A name for display (``"w"``, ``"s"``, ``"p"``), used by ``repr`` and the graph drawing.

    Attributes
    ----------
    data : float
        The forward value.
    grad : float
        ∂(output)/∂(this node), accumulated by :meth:`backward`; 0.0 until then.
    """

    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label")

    def __init__(self, data, parents=(), local_grads=(), op: str = "", label: str = ""):
        self.data = _as_float(data, "data")
        parents = tuple(parents)
        local_grads = tuple(local_grads)
        for parent in parents:
            if not isinstance(parent, Value):
                raise TypeError(f"parents must be Value nodes, not {type(parent).__name__}")
        if len(parents) != len(local_grads):
            raise ValueError(f"each parent needs one local derivative: got {len(parents)} "
                             f"parents and {len(local_grads)} local derivatives")
        self.parents = parents
        self.local_grads = tuple(_as_float(g, "a local derivative") for g in local_grads)
        self.op = str(op)
        self.label = str(label)
        self.grad = 0.0

    # -- display ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        parts = [f"data={_fmt(self.data)}", f"grad={_fmt(self.grad)}"]
        if self.op:
            parts.append(f"op={self.op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        return f"Value({', '.join(parts)})"

    # -- building nodes -------------------------------------------------------------------------
    @staticmethod
    def _wrap(other) -> "Value":
        """A Value stays itself; a real number becomes a constant leaf."""
        if isinstance(other, Value):
            return other
        value = _as_float(other, "the other operand")
        return Value(value, label=_fmt(value))

    @staticmethod
    def _result(data: float, parents, local_grads, op: str) -> "Value":
        """The node for an operation's result, refusing a result that overflowed."""
        if not math.isfinite(data) or not all(math.isfinite(g) for g in local_grads):
            shown = ", ".join(_fmt(p.data) for p in parents)
            raise ValueError(f"{op}({shown}) does not give a finite float64 number (overflow); "
                             "rescale the inputs or rearrange the computation")
        return Value(data, parents, local_grads, op=op)

    # -- arithmetic -----------------------------------------------------------------------------
    def __add__(self, other) -> "Value":
        other = Value._wrap(other)
        return Value._result(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __radd__(self, other) -> "Value":  # other + self
        return Value._wrap(other) + self

    def __sub__(self, other) -> "Value":
        other = Value._wrap(other)
        return Value._result(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __rsub__(self, other) -> "Value":  # other - self
        return Value._wrap(other) - self

    def __mul__(self, other) -> "Value":
        other = Value._wrap(other)
        # ∂(uv)/∂u = v and ∂(uv)/∂v = u
        return Value._result(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __rmul__(self, other) -> "Value":  # other * self
        return Value._wrap(other) * self

    def __truediv__(self, other) -> "Value":
        other = Value._wrap(other)
        if other.data == 0.0:
            raise ValueError(f"division by zero: {_fmt(self.data)} / 0 (the denominator's value is 0)")
        u, v = self.data, other.data
        # ∂(u/v)/∂u = 1/v and ∂(u/v)/∂v = −u/v²
        return Value._result(u / v, (self, other), (1.0 / v, -u / (v * v)), "/")

    def __rtruediv__(self, other) -> "Value":  # other / self
        return Value._wrap(other) / self

    def __neg__(self) -> "Value":
        return Value._result(-self.data, (self,), (-1.0,), "neg")

    def __pos__(self) -> "Value":
        return self

    def __pow__(self, exponent) -> "Value":
        """``x ** k`` for a constant real exponent k (not a Value): d(x^k)/dx = k·x^(k−1)."""
        if isinstance(exponent, Value):
            raise TypeError("the exponent must be a constant number, not a Value; for a variable "
                            "exponent write exp(k * log(x))")
        k = _as_float(exponent, "the exponent")
        x = self.data
        if x < 0 and not k.is_integer():
            raise ValueError(f"{_fmt(x)} ** {_fmt(k)} is not a real number: a negative base needs "
                             "an integer exponent")
        if x == 0 and k < 1 and k != 0:
            raise ValueError(f"0 ** {_fmt(k)}: the derivative k·x^(k−1) is infinite at x = 0")
        try:
            value = x ** k
            local = k * x ** (k - 1) if k != 0 else 0.0
        except OverflowError:
            raise ValueError(f"{_fmt(x)} ** {_fmt(k)} overflows float64") from None
        return Value._result(value, (self,), (local,), f"**{_fmt(k)}")

    def __rpow__(self, other):
        raise TypeError("number ** Value is not supported; write exp(log(number) * value)")

    # -- functions ------------------------------------------------------------------------------
    def exp(self) -> "Value":
        """e^x, with local derivative e^x."""
        if self.data > 709.78:
            raise ValueError(f"exp({_fmt(self.data)}) overflows float64 (the limit is about 709.78)")
        e = math.exp(self.data)
        return Value._result(e, (self,), (e,), "exp")

    def log(self) -> "Value":
        """The natural log, with local derivative 1/x; defined for x > 0 only."""
        x = self.data
        if x <= 0:
            raise ValueError(f"log is defined only for positive numbers, but its input is {_fmt(x)}. "
                             "If this is log(p) or log(1 − p) of a probability that rounded to 0 or "
                             "1, compute the loss from the logit instead")
        return Value._result(math.log(x), (self,), (1.0 / x,), "log")

    def sigmoid(self) -> "Value":
        """σ(x) = 1/(1 + e^(−x)), computed stably; local derivative σ(x)·(1 − σ(x))."""
        p = float(_np_sigmoid(self.data))
        return Value._result(p, (self,), (float(_np_sigmoid_grad(self.data)),), "sigmoid")

    def relu(self) -> "Value":
        """max(x, 0); local derivative 1 for x > 0 and 0 otherwise (0 at the kink, as in torch)."""
        return Value._result(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

    def tanh(self) -> "Value":
        """tanh(x); local derivative 1 − tanh(x)²."""
        t = math.tanh(self.data)
        return Value._result(t, (self,), (1.0 - t * t,), "tanh")

    # -- reverse mode ---------------------------------------------------------------------------
    def topological_order(self) -> list["Value"]:
        """Every node this one depends on, itself last, each after all of its parents."""
        return topological_order(self)

    def backward(self, seed: float = 1.0) -> None:
        """Add ∂(self)/∂(node) · seed to ``node.grad`` for every node of the graph.

        The algorithm (reverse-mode accumulation):

        1. order the nodes topologically (parents before children);
        2. set the adjoint of this node to ``seed`` (1.0: ∂L/∂L = 1) and of all others to 0;
        3. walk the order backwards; for each node ``n`` and each parent ``q`` of it,
           ``adjoint[q] += local_grad(n, q) * adjoint[n]`` (the chain rule, summed over uses);
        4. add each adjoint to that node's ``grad``.

        The adjoints of one call are computed afresh and only then added to ``grad``, so two
        calls give exactly twice the gradient (PyTorch's accumulation), never a mixture.
        """
        seed = _as_float(seed, "seed")
        order = topological_order(self)
        adjoint = {id(self): seed}
        for node in reversed(order):
            g = adjoint.get(id(node), 0.0)
            node.grad += g
            if g == 0.0:
                continue
            for parent, local in zip(node.parents, node.local_grads):
                adjoint[id(parent)] = adjoint.get(id(parent), 0.0) + local * g

    def zero_grad(self) -> None:
        """Set ``grad`` to 0.0 for this node and every node it depends on."""
        for node in topological_order(self):
            node.grad = 0.0


def topological_order(root: Value) -> list[Value]:
    """The nodes ``root`` depends on, in an order where every node comes after its parents.

    In the book: Chapter 2, §A tiny engine.

    An iterative depth-first search (no recursion, so graphs millions of nodes deep are fine):
    a node is appended once all of its parents have been appended. ``root`` is last.
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, not {type(root).__name__}")
    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in reversed(node.parents):
            if id(parent) not in visited:
                stack.append((parent, False))
    return order
