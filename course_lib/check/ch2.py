"""Self-checks for chapter 2, the chain rule and backpropagation through a sigmoid unit.

Each check calls the student's function on chosen inputs and compares the result with reference
values, with central finite differences of a loss, or with a property the answer must have. A
failure shows the input, the expected and the received value, the tolerance and a hint; the
solution itself is never shown.
"""

from __future__ import annotations

import math

import numpy as np

from ..autodiff import Value
from ..backprop import sigmoid_unit_forward_backward
from ..functional import sigmoid, sigmoid_grad, softplus
from ..gradcheck import max_relative_error, numerical_gradient
from ._core import Check
from .registry import Exercise

__all__ = ["chain_rule_by_hand", "sigmoid_unit_backward", "value_softplus", "gradient_check",
           "EXERCISES"]


# ------------------------------------------------------------------------------ chain rule by hand

CHAIN_KEYS = ("s", "p", "loss", "dL_dp", "dp_ds", "dL_ds", "dL_dw", "dL_db")


def _chain_reference(x: float, w: float, b: float, y: float) -> dict:
    """The forward values and chain-rule factors of one sigmoid unit with BCE (float64)."""
    s = w * x + b
    p = float(sigmoid(s))
    dL_ds = p - y
    return {"s": s, "p": p, "loss": float(-(y * math.log(p) + (1 - y) * math.log(1 - p))),
            "dL_dp": -y / p + (1 - y) / (1 - p), "dp_ds": float(sigmoid_grad(s)),
            "dL_ds": dL_ds, "dL_dw": dL_ds * x, "dL_db": dL_ds}


def chain_rule_by_hand(student_fn):
    """Check ``chain_rule_by_hand(x, w, b, y)``: a dict with the forward values and every factor
    of the chain rule for one example (scalars x, w, b and a label y in [0, 1])."""
    c = Check("ex-ch2-chain-rule", "the chain rule through a sigmoid unit, factor by factor")
    hints = {
        "s": "s = w·x + b.",
        "p": "p = σ(s).",
        "loss": "L = −[y log p + (1 − y) log(1 − p)].",
        "dL_dp": "Differentiate L with respect to p, holding y fixed (both logs contribute).",
        "dp_ds": "The local derivative of the sigmoid; see the table of local derivatives.",
        "dL_ds": "Multiply the two factors above (the chain rule).",
        "dL_dw": "∂L/∂w = ∂L/∂s · ∂s/∂w, and ∂s/∂w is the input that w multiplies.",
        "dL_db": "∂L/∂b = ∂L/∂s · ∂s/∂b.",
    }

    def answer(x, w, b, y):
        out = student_fn(x, w, b, y)
        if not isinstance(out, dict):
            raise TypeError(f"return a dict with the keys {', '.join(CHAIN_KEYS)}, not "
                            f"{type(out).__name__}")
        return out

    c.that("returns a dict with all eight keys", lambda: sorted(answer(0.5, 0.2, 0.1, 0.7)),
           lambda got: set(got) >= set(CHAIN_KEYS), expected=", ".join(CHAIN_KEYS),
           inputs="x = 0.5, w = 0.2, b = 0.1, y = 0.7", hint="Use exactly these key names.")
    for args in ((0.5, 0.2, 0.1, 0.7), (-1.5, 0.8, 0.3, 1.0)):
        ref = _chain_reference(*args)
        shown = "x = {}, w = {}, b = {}, y = {}".format(*args)
        for key in CHAIN_KEYS:
            c.close(f"{key} at ({shown})", lambda key=key, args=args: float(answer(*args)[key]),
                    ref[key], rtol=1e-9, inputs=shown, hint=hints[key])
    x, w, b, y = 2.0, -0.4, 0.25, 0.0
    numeric = float(numerical_gradient(lambda v: _chain_reference(x, float(v), b, y)["loss"], w))
    c.close("dL_dw agrees with a central difference of the loss", lambda: float(answer(x, w, b, y)["dL_dw"]),
            numeric, rtol=1e-7, inputs="x = 2.0, w = -0.4, b = 0.25, y = 0.0", hint=hints["dL_dw"])
    return c.done()


# ------------------------------------------------------------------------------ backward of a unit

def sigmoid_unit_backward(student_fn):
    """Check ``sigmoid_unit_backward(X, y, w, b)`` -> (grad_w, grad_b) of the mean BCE."""
    c = Check("ex-ch2-unit-backward", "the backward pass of a sigmoid unit (batch form)")
    hint = "With p = σ(Xw + b): ∇w = Xᵀ(p − y)/N and ∂L/∂b = mean(p − y)."

    def grads(X, y, w, b):
        out = student_fn(np.array(X, dtype=float), np.array(y, dtype=float),
                         np.array(w, dtype=float), float(b))
        if not isinstance(out, tuple) or len(out) != 2:
            raise TypeError(f"return a tuple (grad_w, grad_b), not {type(out).__name__}")
        return out

    def reference(X, y, w, b):
        ref = sigmoid_unit_forward_backward(X, y, w, b)
        return ref.grad_w, ref.grad_b

    example = ([[0.5]], [0.7], [0.2], 0.1)
    c.close("the worked example: grad_w", lambda: grads(*example)[0], reference(*example)[0],
            rtol=1e-9, inputs="X = [[0.5]], y = [0.7], w = [0.2], b = 0.1", hint=hint)
    c.close("the worked example: grad_b", lambda: grads(*example)[1], reference(*example)[1],
            rtol=1e-9, inputs="X = [[0.5]], y = [0.7], w = [0.2], b = 0.1", hint=hint)

    rng = np.random.default_rng(2)
    X, w, b = rng.normal(size=(6, 3)), rng.normal(size=3), 0.4
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    ref_w, ref_b = reference(X, y, w, b)
    shown = "X of shape (6, 3), y = [0, 1, 1, 0, 1, 0], w of shape (3,), b = 0.4 (seed 2)"
    c.close("a batch of 6: grad_w (shape (3,))", lambda: grads(X, y, w, b)[0], ref_w, rtol=1e-9,
            inputs=shown, hint=hint + " Did you divide by N?")
    c.close("a batch of 6: grad_b", lambda: grads(X, y, w, b)[1], ref_b, rtol=1e-9,
            inputs=shown, hint=hint)

    def loss(w_, b_):
        return sigmoid_unit_forward_backward(X, y, w_, b_).loss

    c.that("agrees with central differences of the mean BCE",
           lambda: grads(X, y, w, b),
           lambda got: max_relative_error(got[0], numerical_gradient(lambda v: loss(v, b), w)) < 1e-6
           and max_relative_error(got[1], numerical_gradient(lambda v: loss(w, v), b)) < 1e-6,
           expected="relative error < 1e-6 against finite differences", inputs=shown, hint=hint)
    c.that("confidently wrong (s = −1000, y = 1): the gradient is not vanishing",
           lambda: grads([[1.0]], [1.0], [-1000.0], 0.0),
           lambda got: abs(float(np.ravel(got[0])[0]) + 1.0) < 1e-9 and abs(float(got[1]) + 1.0) < 1e-9,
           expected="grad_w = [-1.0], grad_b = -1.0", inputs="X = [[1.0]], y = [1.0], w = [-1000.0], b = 0",
           hint="Do not go through dL/dp = −y/p + (1−y)/(1−p): p rounds to 0 here. Use p − y.")
    return c.done()


# ------------------------------------------------------------------------------ a new engine op

def value_softplus(student_fn):
    """Check ``value_softplus(v)``: a new engine operation softplus with local derivative σ(x)."""
    c = Check("ex-ch2-softplus-op", "softplus as an operation of the autodiff engine")
    hint = ("The new node holds softplus(x) for x = v.data, has v as its only parent, and that "
            "parent's local derivative is d softplus(x)/dx, evaluated at x.")

    def forward_backward(x):
        v = Value(x)
        out = student_fn(v)
        if not isinstance(out, Value):
            raise TypeError(f"return a Value, not {type(out).__name__}")
        out.backward()
        return out.data, v.grad

    c.close("value at x = 0 is log 2", lambda: forward_backward(0.0)[0], math.log(2.0),
            rtol=1e-12, inputs="x = 0.0", hint="softplus(x) = log(1 + e^x).")
    for x in (-2.0, 0.7, 3.0):
        c.close(f"gradient at x = {x} (the exact derivative)", lambda x=x: forward_backward(x)[1],
                float(sigmoid(x)), rtol=1e-12, inputs=f"x = {x}", hint=hint)

    def inside_a_graph():
        x = Value(1.5)
        out = student_fn(x * x) * 2.0   # d/dx [2 softplus(x²)] = 4x σ(x²)
        out.backward()
        return x.grad

    c.close("works inside a bigger graph: d/dx 2·softplus(x²) at x = 1.5", inside_a_graph,
            4 * 1.5 * float(sigmoid(2.25)), rtol=1e-12, inputs="x = 1.5",
            hint="The new node's parent must be the Value you were given, so that backward reaches it.")
    c.close("no overflow: softplus(800) = 800 with gradient 1", lambda: forward_backward(800.0),
            (800.0, 1.0), rtol=1e-12, inputs="x = 800.0",
            hint="log(1 + e^800) overflows; use course_lib.functional.softplus and sigmoid.")
    c.close("tiny values keep their accuracy: softplus(−40) ≈ e^(−40)",
            lambda: forward_backward(-40.0)[0], float(softplus(-40.0)), rtol=1e-9, atol=0.0,
            inputs="x = -40.0", hint="log(1 + tiny) loses the tiny part; log1p keeps it.")
    return c.done()


# ------------------------------------------------------------------------------ gradient check

def gradient_check(student_fn):
    """Check ``gradient_check(f, grad_f, x)``: the max relative error of grad_f against
    central differences of f at x."""
    c = Check("ex-ch2-gradient-check", "a gradient check")
    hint = ("Estimate each ∂f/∂xᵢ by (f(x + h eᵢ) − f(x − h eᵢ)) / (2h) with h ≈ 1e-5, then return "
            "max |a − n| / max(|a|, |n|) over the entries.")

    def f(x):
        return float(np.sum(np.sin(x) * x ** 2))

    def grad_f(x):
        return np.cos(x) * x ** 2 + 2 * x * np.sin(x)

    x0 = np.array([0.3, -1.2, 2.0, 0.9])
    shown = "f(x) = Σ sin(xᵢ)·xᵢ², x = [0.3, -1.2, 2.0, 0.9]"
    c.that("a correct gradient: relative error below 1e-7", lambda: student_fn(f, grad_f, x0.copy()),
           lambda got: 0 <= float(got) < 1e-7, expected="a number in [0, 1e-7)", inputs=shown, hint=hint)
    c.that("a wrong gradient (cos(x)·x² only): relative error above 1e-2",
           lambda: student_fn(f, lambda x: np.cos(x) * x ** 2, x0.copy()),
           lambda got: float(got) > 1e-2, expected="a number > 1e-2", inputs=shown, hint=hint)
    c.close("a gradient 10 % too large: relative error 0.1/1.1 at every entry (scale-free)",
            lambda: student_fn(f, lambda x: 1.1 * grad_f(x), x0.copy()), 0.1 / 1.1, rtol=1e-4,
            inputs=shown + ", grad_f returning 1.1 × the true gradient",
            hint="Divide |a − n| by max(|a|, |n|), not by |n| or by |a| + |n|.")
    big = x0 * 1e3

    def f_scaled(x):
        return 1e-6 * float(np.sum(x ** 2))

    def tiny_grad_one_entry_off(x):  # right except entry 2 (not the first, not the last): 10 % too large
        g = 2e-6 * x / 1e6
        g[2] *= 1.1
        return g

    # The one wrong entry also catches an answer that reports the first entry's error, or the mean.
    c.close("tiny gradients are judged on their own scale", lambda: student_fn(
        lambda x: f_scaled(x / 1e3), tiny_grad_one_entry_off, big.copy()), 0.1 / 1.1, rtol=1e-4,
            inputs="f(x) = 1e-12·Σxᵢ², x of size ~1e3, a gradient right except in entry 2, "
                   "which is 10 % too large",
            hint="A relative error does not depend on how large the gradient is; report the largest "
                 "error over all entries, not the first entry's or the mean.")
    c.close("both gradients exactly 0 count as agreement (no 0/0)",
            lambda: student_fn(lambda x: 5.0, lambda x: np.zeros_like(x), x0.copy()), 0.0, atol=1e-12,
            inputs="f(x) = 5 (constant), grad_f(x) = 0", hint="Where both are 0, the error is 0.")

    def leaves_x_alone():
        x = x0.copy()
        student_fn(f, grad_f, x)
        return x

    c.close("x is left unchanged", leaves_x_alone, x0, rtol=0, atol=0, inputs=shown,
            hint="Work on copies of x (x.copy()), or put each entry back after moving it.")
    return c.done()


EXERCISES = [
    Exercise("ex-ch2-chain-rule", ("chain_rule_by_hand",), chain_rule_by_hand),
    Exercise("ex-ch2-unit-backward", ("sigmoid_unit_backward",), sigmoid_unit_backward),
    Exercise("ex-ch2-softplus-op", ("value_softplus",), value_softplus),
    Exercise("ex-ch2-gradient-check", ("gradient_check",), gradient_check),
]
