"""The scalar reverse-mode engine against torch.autograd in float64 (1e-10 relative)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from course_lib.autodiff import Value, topological_order

RTOL = 1e-10

UNARY = ("neg", "exp", "log", "sigmoid", "relu", "tanh", "pow")
BINARY = ("add", "sub", "mul", "div")
WITH_CONSTANT = ("radd", "rsub", "rmul", "rdiv", "add_c", "mul_c", "sub_c", "div_c")


# Operations that read the same in both libraries: (a, b, c) -> result.
_SHARED_OPS = {
    "add": lambda a, b, c: a + b, "sub": lambda a, b, c: a - b,
    "mul": lambda a, b, c: a * b, "div": lambda a, b, c: a / b,
    "neg": lambda a, b, c: -a, "pow": lambda a, b, c: a ** c,
    "radd": lambda a, b, c: c + a, "rsub": lambda a, b, c: c - a,
    "rmul": lambda a, b, c: c * a, "rdiv": lambda a, b, c: c / a,
    "add_c": lambda a, b, c: a + c, "sub_c": lambda a, b, c: a - c,
    "mul_c": lambda a, b, c: a * c, "div_c": lambda a, b, c: a / c,
}


def _apply(kind: str, a, b, c: float, lib: str):
    """One operation on engine Values (lib="engine") or torch tensors (lib="torch")."""
    if kind in _SHARED_OPS:
        return _SHARED_OPS[kind](a, b, c)
    if lib == "engine":
        return getattr(a, kind)()   # exp, log, sigmoid, relu, tanh as methods
    return getattr(torch, kind)(a)


def _float_result(kind: str, a: float, b: float, c: float) -> float:
    """The same operation on plain floats (to choose safe operations while generating)."""
    return _apply(kind, Value(a), Value(b), c, "engine").data


def random_program(rng: np.random.Generator, n_leaves: int = 3, n_ops: int = 14):
    """A random expression: leaf values and a list of (kind, i, j, constant) instructions.

    Instruction k computes node n_leaves + k from nodes i and j (j unused by unary ops). The
    operations are kept in safe domains by looking at the operands' float values: log only of
    numbers > 0.1, division only by numbers with |v| > 0.1, non-integer powers only of positive
    numbers, exp only of numbers < 5, and no result larger than 1e3 in magnitude.
    """
    values = list(rng.uniform(-2.0, 2.0, size=n_leaves))
    program = []
    for _ in range(n_ops):
        i, j = (int(k) for k in rng.integers(len(values), size=2))
        a, b = values[i], values[j]
        kind = str(rng.choice(UNARY + BINARY + WITH_CONSTANT))
        c = float(rng.choice([-1.5, -0.7, 0.3, 2.0, 3.5]))
        if kind == "pow":
            c = float(rng.choice([0.5, 1.5, -1.0, 2.0, 3.0])) if a > 0.1 else float(rng.choice([2.0, 3.0]))
        if kind == "log" and a <= 0.1:
            kind = "sigmoid"
        if kind == "div" and abs(b) <= 0.1:
            kind = "mul"
        if kind == "rdiv" and abs(a) <= 0.1:
            kind = "rmul"
        if kind == "relu" and abs(a) < 1e-6:
            kind = "tanh"
        if kind == "exp" and a >= 5:
            kind = "tanh"
        if kind == "pow" and c < 0 and abs(a) <= 0.1:
            c = 2.0
        result = _float_result(kind, a, b, c)
        if abs(result) > 1e3:
            kind, result = "tanh", math.tanh(a)
        program.append((kind, i, j, c))
        values.append(result)
    return values[:n_leaves], program


def run_program(leaves, program, lib: str):
    """Build the expression (output = the sum of every node) in one library; return (out, leaves)."""
    if lib == "engine":
        nodes = [Value(v, label=f"x{k}") for k, v in enumerate(leaves)]
    else:
        nodes = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in leaves]
    inputs = list(nodes)
    for kind, i, j, c in program:
        nodes.append(_apply(kind, nodes[i], nodes[j], c, lib))
    out = nodes[0]
    for node in nodes[1:]:
        out = out + node
    return out, inputs


def _close(a: float, b: float, rtol: float = RTOL) -> bool:
    return abs(a - b) <= rtol * max(abs(a), abs(b), 1e-2)


@pytest.mark.parametrize("seed", range(200))
def test_random_expressions_match_torch(seed):
    rng = np.random.default_rng(seed)
    leaves, program = random_program(rng)
    out, inputs = run_program(leaves, program, "engine")
    out.backward()
    t_out, t_inputs = run_program(leaves, program, "torch")
    t_out.backward()
    assert _close(out.data, float(t_out.detach())), (out.data, float(t_out.detach()), program)
    for v, t in zip(inputs, t_inputs):
        t_grad = 0.0 if t.grad is None else float(t.grad)
        assert _close(v.grad, t_grad), (v.grad, t_grad, program)


def test_random_generator_is_seeded_and_varied():
    a = random_program(np.random.default_rng(1))
    b = random_program(np.random.default_rng(1))
    assert a == b
    kinds = {k for seed in range(200) for k, *_ in random_program(np.random.default_rng(seed))[1]}
    assert set(UNARY + BINARY + WITH_CONSTANT) <= kinds


def _bce_engine(x, w, b, y):
    xs, ws, bs = Value(x), Value(w), Value(b)
    p = (ws * xs + bs).sigmoid()
    loss = -(y * p.log() + (1 - y) * (1 - p).log())
    loss.backward()
    return loss, xs, ws, bs


@pytest.mark.parametrize("x, w, b, y", [(0.5, 0.2, 0.1, 0.7), (-1.3, 2.0, 0.4, 1.0),
                                        (2.0, -1.5, -0.3, 0.0), (0.1, 3.0, -2.0, 0.25)])
def test_bce_graph_matches_torch(x, w, b, y):
    loss, xs, ws, bs = _bce_engine(x, w, b, y)
    xt, wt, bt = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, w, b))
    lt = torch.nn.functional.binary_cross_entropy(torch.sigmoid(wt * xt + bt),
                                                  torch.tensor(y, dtype=torch.float64))
    lt.backward()
    assert _close(loss.data, float(lt.detach()))
    for v, t in ((xs, xt), (ws, wt), (bs, bt)):
        assert _close(v.grad, float(t.grad))
    p = 1 / (1 + math.exp(-(w * x + b)))
    assert _close(ws.grad, (p - y) * x) and _close(bs.grad, p - y)


def test_worked_example_values():
    loss, _, ws, bs = _bce_engine(0.5, 0.2, 0.1, 0.7)
    assert round(ws.grad, 6) == -0.075083 and round(bs.grad, 6) == -0.150166
    assert round(loss.data, 6) == 0.658139


def test_gradient_accumulates_over_uses():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    y = Value(3.0)
    (y + y).backward()
    assert y.grad == 2.0
    z = Value(2.0)
    (z * z * z + z).backward()  # 3z² + 1
    assert z.grad == 13.0


def test_gradient_accumulates_over_backward_calls_and_zero_grad():
    w = Value(2.0)
    u = w * w          # an intermediate node used twice below
    out = u * u + u    # w⁴ + w²: derivative 4w³ + 2w = 36
    out.backward()
    assert w.grad == 36.0
    out.backward()
    assert w.grad == 72.0 and out.grad == 2.0
    out.zero_grad()
    assert all(n.grad == 0.0 for n in topological_order(out))
    out.backward(seed=0.5)
    assert w.grad == 18.0


def test_second_backward_differs_from_pytorch_as_the_docstring_says():
    """The engine adds on a second backward(); PyTorch raises unless retain_graph=True."""
    x = Value(3.0)
    square = x * x
    square.backward()
    square.backward()
    assert x.grad == 12.0
    xt = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    square_t = xt * xt
    square_t.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        square_t.backward()
    assert float(xt.grad) == 6.0
    xt.grad = None
    square_t = xt * xt
    square_t.backward(retain_graph=True)
    square_t.backward()
    assert float(xt.grad) == 12.0                      # then it accumulates, like the engine
    # The engine keeps a grad on every node; torch only on leaves that require grad.
    assert square.grad == 2.0 and not square_t.is_leaf and xt.is_leaf
    with pytest.warns(UserWarning, match="not a leaf"):
        assert square_t.grad is None
    # PyTorch's zero_grad() works on the parameters and sets .grad to None by default.
    optimiser = torch.optim.SGD([xt], lr=0.1)
    optimiser.zero_grad()
    assert xt.grad is None
    square.zero_grad()
    assert x.grad == 0.0 and square.grad == 0.0


def test_deep_graph_has_no_recursion_limit():
    x = Value(1.0)
    out = x
    for _ in range(100_000):
        out = out * 1.0 + 0.0
    out.backward()
    assert x.grad == 1.0
    assert len(topological_order(out)) == 1 + 4 * 100_000


def test_topological_order_puts_parents_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    pos = {id(n): k for k, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            assert pos[id(parent)] < pos[id(node)]
    assert order[-1] is e and len(order) == 5


def test_sigmoid_is_stable_and_relu_kink():
    big = Value(800.0).sigmoid()
    small = Value(-800.0).sigmoid()
    assert big.data == 1.0 and small.data == 0.0
    s = Value(-40.0)
    s.sigmoid().backward()
    assert s.grad > 0 and _close(s.grad, math.exp(-40.0), 1e-12)
    r = Value(0.0)
    r.relu().backward()
    assert r.grad == 0.0


def test_custom_op_through_the_constructor():
    x = Value(0.3)
    cube = Value(x.data ** 3, (x,), (3 * x.data ** 2,), op="cube")
    cube.backward()
    assert _close(x.grad, 0.27)


def test_repr_is_short_and_has_no_address():
    v = Value(0.1 + 0.2, label="s")
    assert repr(v) == "Value(data=0.3, grad=0, label='s')"
    assert repr(v.sigmoid()) == "Value(data=0.574443, grad=0, op='sigmoid')"
    assert "0x" not in repr(v)


@pytest.mark.parametrize("make, message", [
    (lambda: Value(0.0).log(), "positive"),
    (lambda: Value(-1.0).log(), "positive"),
    (lambda: Value(1.0) / Value(0.0), "division by zero"),
    (lambda: 1.0 / Value(0.0), "division by zero"),
    (lambda: Value(-2.0) ** 0.5, "integer exponent"),
    (lambda: Value(0.0) ** -1, "infinite"),
    (lambda: Value(800.0).exp(), "overflow"),
    (lambda: Value(1e200) * Value(1e200), "finite"),
    (lambda: Value(float("nan")), "finite"),
    (lambda: Value(float("inf")), "finite"),
    (lambda: Value(1.0, (Value(2.0),), ()), "local derivative"),
])
def test_bad_input_raises_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda: Value("1.0"),
    lambda: Value([1.0, 2.0]),
    lambda: Value(np.zeros(3)),
    lambda: Value(Value(1.0)),
    lambda: Value(1.0) + "a",
    lambda: Value(2.0) ** Value(2.0),
    lambda: 2.0 ** Value(2.0),
    lambda: Value(1.0, (2.0,), (1.0,)),
])
def test_bad_types_raise_type_error(make):
    with pytest.raises(TypeError):
        make()


def test_numpy_scalars_are_accepted():
    v = Value(np.float32(0.5)) * np.float64(2.0) + np.int64(1)
    assert v.data == 2.0


def test_docstring_examples():
    from _reference import run_doctests

    import course_lib.autodiff

    run_doctests(course_lib.autodiff)
