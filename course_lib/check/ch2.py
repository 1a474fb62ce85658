"""Self-checks for chapter 2, the chain rule and backpropagation through a sigmoid unit.

Each check calls the student's function on chosen inputs and compares the result with reference
values, with central finite differences of a loss, or with a property the answer must have. A
failure shows the input, the expected and the received value, the tolerance and a hint; the
solution itself is never shown.
"""

from __future__ import annotations

import math

import numpy as np

from ..backprop import mlp_loss_and_grads, sigmoid_unit_forward_backward
from ..functional import sigmoid, sigmoid_grad, softplus
from ..gradcheck import max_relative_error, numerical_gradient
from . import probes
from ._core import Check, probed
from .registry import Exercise

__all__ = ["chain_rule_by_hand", "ch2_squared_error_logit_grad", "sigmoid_unit_backward",
           "value_softplus", "ch2_hidden_layer_grads", "chain_input_grad", "gradient_check",
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


# ------------------------------------------------------------------------------ squared error at the logit

def _se_logit_grad_reference(s, y) -> np.ndarray:
    """∂/∂s ½(σ(s) − y)² = (σ(s) − y)·σ'(s), with σ(s) − y as (1 − y)σ(s) − yσ(−s) and the stable
    σ'(s), so that both factors keep their relative accuracy however large |s| is."""
    s, y = np.asarray(s, dtype=float), np.asarray(y, dtype=float)
    return ((1.0 - y) * sigmoid(s) - y * sigmoid(-s)) * sigmoid_grad(s)


def ch2_squared_error_logit_grad(student_fn):
    """Check ``squared_error_logit_grad(s, y)``: ∂/∂s of ½(σ(s) − y)², elementwise for arrays."""
    c = Check("ex-ch2-se-logit-grad", "the squared-error gradient at the logit")
    hint = ("Chain rule: ∂/∂p ½(p − y)² = p − y, times ∂p/∂s = σ'(s); so (σ(s) − y)·σ'(s), "
            "one factor more than cross-entropy's σ(s) − y.")

    def grad(s, y):
        return student_fn(np.array(s, dtype=float), np.array(y, dtype=float))

    s0 = np.array([-3.0, -0.5, 0.0, 0.2, 1.5, 4.0])
    y0 = np.array([1.0, 0.0, 1.0, 0.7, 0.3, 0.0])
    shown = "s = [-3, -0.5, 0, 0.2, 1.5, 4], y = [1, 0, 1, 0.7, 0.3, 0] (arrays of shape (6,))"
    c.close("moderate logits, hard and soft labels (elementwise, shape (6,))", lambda: grad(s0, y0),
            _se_logit_grad_reference(s0, y0), rtol=1e-9, atol=1e-15, inputs=shown, hint=hint)

    def squared_error(s, y):
        return 0.5 * float((sigmoid(s) - y) ** 2)

    points = ((-10.0, 1.0), (-2.0, 1.0), (0.2, 0.7), (1.0, 0.0), (6.0, 0.0))
    c.that("agrees with central differences of ½(σ(s) − y)²",
           lambda: np.array([float(np.ravel(grad([s], [y]))[0]) for s, y in points]),
           lambda got: max_relative_error(got, np.array([float(numerical_gradient(
               lambda v, y=y: squared_error(float(v), y), s)) for s, y in points])) < 1e-6,
           expected="relative error < 1e-6 against central differences at every point",
           inputs="(s, y) = " + ", ".join(f"({s:g}, {y:g})" for s, y in points), hint=hint)

    s_grid = np.linspace(-40.0, 40.0, 161)
    c.that("never more than a quarter of cross-entropy's |σ(s) − y| (y = 1, s from −40 to 40)",
           lambda: grad(s_grid, np.ones_like(s_grid)),
           lambda got: np.shape(got) == s_grid.shape and bool(np.all(
               np.abs(got) <= 0.25 * sigmoid(-s_grid) * (1 + 1e-12)))   # |σ(s) − 1| = σ(−s)
           and bool(np.all(np.asarray(got) <= 0)),
           expected="an array of shape (161,), ≤ 0 everywhere (y = 1 pulls s up), with "
                    "|g| ≤ ¼·|σ(s) − 1|",
           inputs="s = 161 points from -40 to 40, y = 1", hint=hint + " Check the sign too.")
    c.close("confidently wrong, y = 1 and s = −40: tiny, not zero", lambda: grad(-40.0, 1.0),
            _se_logit_grad_reference(-40.0, 1.0), rtol=1e-9, atol=0.0, inputs="s = -40.0, y = 1.0",
            hint=hint)
    c.close("confidently wrong, y = 0 and s = 40: tiny, not zero", lambda: grad(40.0, 0.0),
            _se_logit_grad_reference(40.0, 0.0), rtol=1e-9, atol=0.0, inputs="s = 40.0, y = 0.0",
            hint="σ(40) rounds to exactly 1 in float64, so 1 − σ(40) is 0; σ'(s) = σ(s)·σ(−s), or "
                 "course_lib.functional.sigmoid_grad, keeps it.")
    s_sym = np.array([-40.0, -12.0, -1.0, 0.5, 3.0, 25.0, 40.0])
    y_sym = np.array([1.0, 0.0, 0.7, 0.2, 1.0, 0.0, 0.0])
    c.that("symmetry: g(−s, 1 − y) = −g(s, y) (swapping the classes flips the sign)",
           lambda: (grad(s_sym, y_sym), grad(-s_sym, 1.0 - y_sym)),
           lambda got: np.shape(got[0]) == s_sym.shape
           and max_relative_error(np.asarray(got[1]), -np.asarray(got[0])) < 1e-9,
           expected="g(−s, 1 − y) equal to −g(s, y) to a relative 1e-9 at every point",
           inputs="s = [-40, -12, -1, 0.5, 3, 25, 40], y = [1, 0, 0.7, 0.2, 1, 0, 0]",
           hint="Both factors must keep their accuracy on either side of 0; 1 − σ(s) does not "
                "once σ(s) rounds to 1.")
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

    on_value = probed(student_fn, probes.value_op)  # (out.data, v.grad) after out.backward()

    def forward_backward(x):
        return on_value(x)

    c.close("value at x = 0 is log 2", lambda: forward_backward(0.0)[0], math.log(2.0),
            rtol=1e-12, inputs="x = 0.0", hint="softplus(x) = log(1 + e^x).")
    for x in (-2.0, 0.7, 3.0):
        c.close(f"gradient at x = {x} (the exact derivative)", lambda x=x: forward_backward(x)[1],
                float(sigmoid(x)), rtol=1e-12, inputs=f"x = {x}", hint=hint)

    in_graph = probed(student_fn, probes.value_op_in_graph)  # d/dx [2 softplus(x²)] = 4x σ(x²)
    c.close("works inside a bigger graph: d/dx 2·softplus(x²) at x = 1.5", lambda: in_graph(1.5),
            4 * 1.5 * float(sigmoid(2.25)), rtol=1e-12, inputs="x = 1.5",
            hint="The new node's parent must be the Value you were given, so that backward reaches it.")
    c.close("no overflow: softplus(800) = 800 with gradient 1", lambda: forward_backward(800.0),
            (800.0, 1.0), rtol=1e-12, inputs="x = 800.0",
            hint="log(1 + e^800) overflows; use course_lib.functional.softplus and sigmoid.")
    c.close("tiny values keep their accuracy: softplus(−40) ≈ e^(−40)",
            lambda: forward_backward(-40.0)[0], float(softplus(-40.0)), rtol=1e-9, atol=0.0,
            inputs="x = -40.0", hint="log(1 + tiny) loses the tiny part; log1p keeps it.")
    return c.done()


# ------------------------------------------------------------------------------ a hidden layer

def _hidden_reference(X, y, W1, b1, w2, b2):
    loss, g = mlp_loss_and_grads(X, y, {"W1": W1, "b1": b1, "w2": w2, "b2": b2})
    return loss, (g["W1"], g["b1"], g["w2"], g["b2"])


def _hidden_batch(seed: int, n: int, d: int, m: int):
    """A batch and parameters with every pre-activation at least 0.05 away from ReLU's kink."""
    rng = np.random.default_rng(seed)
    while True:
        X = rng.normal(size=(n, d))
        W1, b1 = rng.normal(size=(m, d)), rng.normal(scale=0.5, size=m)
        if np.min(np.abs(X @ W1.T + b1)) > 0.05:
            break
    y = (rng.uniform(size=n) < 0.5).astype(float)
    return X, y, W1, b1, rng.normal(size=m), 0.3


def ch2_hidden_layer_grads(student_fn):
    """Check ``hidden_layer_grads(X, y, W1, b1, w2, b2)`` -> (dW1, db1, dw2, db2) of the mean BCE
    of the one-hidden-layer ReLU network."""
    c = Check("ex-ch2-hidden-layer", "backpropagation through a hidden ReLU layer")
    names = ("dW1", "db1", "dw2", "db2")
    hint = ("Backwards: ds = (p − y)/N, dw2 = Hᵀds, db2 = Σ ds, dH = ds w2ᵀ, dA = dH ⊙ 1[A > 0], "
            "dW1 = dAᵀX, db1 = the column sums of dA.")

    def grads(X, y, W1, b1, w2, b2):
        out = student_fn(np.array(X, dtype=float), np.array(y, dtype=float), np.array(W1, dtype=float),
                         np.array(b1, dtype=float), np.array(w2, dtype=float), float(b2))
        if not isinstance(out, tuple) or len(out) != 4:
            raise TypeError(f"return a tuple (dW1, db1, dw2, db2), not {type(out).__name__}"
                            + (f" of length {len(out)}" if isinstance(out, tuple) else ""))
        return out

    batch = _hidden_batch(5, n=7, d=3, m=4)
    shown = "X of shape (7, 3), m = 4 hidden units, y of shape (7,) (seed 5)"
    c.that("shapes: dW1 (m, d), db1 (m,), dw2 (m,), db2 a number", lambda: grads(*batch),
           lambda got: [np.shape(g) for g in got] == [(4, 3), (4,), (4,), ()],
           expected="shapes [(4, 3), (4,), (4,), ()]", inputs=shown,
           hint="Every gradient has the shape of its parameter; dW1 = dAᵀX, not XᵀdA.")
    _, ref = _hidden_reference(*batch)
    extra = {"dW1": "", "db1": "", "dw2": "", "db2": " Did you divide by N (once)?"}
    for k, name in enumerate(names):
        c.close(f"a batch of 7: {name}", lambda k=k: grads(*batch)[k], ref[k], rtol=1e-9,
                inputs=shown, hint=hint + extra[name])

    one = _hidden_batch(11, n=1, d=2, m=3)
    _, ref_one = _hidden_reference(*one)
    c.close("a single example (N = 1): all four gradients, flattened",
            lambda: np.concatenate([np.ravel(g) for g in grads(*one)]),
            np.concatenate([np.ravel(g) for g in ref_one]), rtol=1e-9,
            inputs="X of shape (1, 2), m = 3 (seed 11)", hint=hint)

    fd = _hidden_batch(8, n=6, d=2, m=5)
    X, y, W1, b1, w2, b2 = fd

    def loss(W1_=W1, b1_=b1, w2_=w2, b2_=b2):
        return _hidden_reference(X, y, W1_, b1_, w2_, b2_)[0]

    numeric = (numerical_gradient(lambda v: loss(W1_=v), W1), numerical_gradient(lambda v: loss(b1_=v), b1),
               numerical_gradient(lambda v: loss(w2_=v), w2), numerical_gradient(lambda v: loss(b2_=v), b2))
    c.that("agrees with central differences of the mean BCE (no pre-activation near 0)",
           lambda: grads(*fd),
           lambda got: max(float(max_relative_error(g, n)) for g, n in zip(got, numeric)) < 1e-6,
           expected="relative error < 1e-6 for every entry of all four gradients",
           inputs="X of shape (6, 2), m = 5 (seed 8), every |a| > 0.05", hint=hint)

    X, y, W1, b1, w2, b2 = batch
    dead_b1 = b1.copy()
    dead_b1[1] = -100.0                       # unit 1 is inactive on every example
    c.that("a unit inactive on every example (a < 0) gets no gradient in W1, b1 and w2",
           lambda: grads(X, y, W1, dead_b1, w2, b2),
           lambda got: np.all(np.asarray(got[0])[1] == 0) and np.asarray(got[1])[1] == 0
           and np.asarray(got[2])[1] == 0,
           expected="row 1 of dW1, entry 1 of db1 and of dw2 exactly 0",
           inputs=shown + ", with b1[1] = -100", hint="ReLU passes the gradient only where a > 0.")
    flat_W1, flat_b1 = W1.copy(), b1.copy()
    flat_W1[2], flat_b1[2] = 0.0, 0.0         # a = 0 exactly for unit 2, on every example
    _, ref_kink = _hidden_reference(X, y, flat_W1, flat_b1, w2, b2)
    c.close("at the kink a = 0, ReLU's derivative is taken as 0 (as in PyTorch): db1",
            lambda: grads(X, y, flat_W1, flat_b1, w2, b2)[1], ref_kink[1], rtol=1e-9,
            inputs=shown + ", with row 2 of W1 and b1[2] set to 0, so a = 0 for unit 2",
            hint="The mask is 1[a > 0], strictly.")
    # Both examples reach s = −900: p is exactly 0, which example 0 (label 1) is very wrong about.
    wrong = (np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([1.0, 0.0]), np.ones((3, 2)), np.zeros(3),
             np.full(3, -100.0), 0.0)
    _, ref_wrong = _hidden_reference(*wrong)
    c.close("a confidently wrong network (s = −900 for a label 1): all four gradients finite and right",
            lambda: np.concatenate([np.ravel(g) for g in grads(*wrong)]),
            np.concatenate([np.ravel(g) for g in ref_wrong]), rtol=1e-9,
            inputs="X = [[1, 2], [2, 1]], y = [1, 0], W1 = ones((3, 2)), b1 = 0, w2 = [-100, -100, -100], "
                   "b2 = 0",
            hint="Use p − y with a stable sigmoid; −y/p + (1 − y)/(1 − p) is not finite when p rounds "
                 "to 0 or 1.")
    return c.done()


# ------------------------------------------------------------------------------ gradient check

def gradient_check(student_fn):
    """Check ``gradient_check(f, grad_f, x)``: the max relative error of grad_f against
    central differences of f at x."""
    c = Check("ex-ch2-gradient-check", "a gradient check")
    hint = ("Estimate each ∂f/∂xᵢ by (f(x + h eᵢ) − f(x − h eᵢ)) / (2h) with h ≈ 1e-5, then return "
            "max |a − n| / max(|a|, |n|) over the entries.")

    # The functions f and grad_f are built in the student's process by a probe, named here
    # (course_lib.check.probes.GRADIENT_CHECK_FUNCTIONS): sin_x2 is f(x) = Σ sin(xᵢ)·xᵢ².
    run = probed(student_fn, probes.gradient_check_named)
    x0 = np.array([0.3, -1.2, 2.0, 0.9])
    shown = "f(x) = Σ sin(xᵢ)·xᵢ², x = [0.3, -1.2, 2.0, 0.9]"
    c.that("a correct gradient: relative error below 1e-7", lambda: run("sin_x2", "sin_x2_grad", x0.copy()),
           lambda got: 0 <= float(got) < 1e-7, expected="a number in [0, 1e-7)", inputs=shown, hint=hint)
    c.that("a wrong gradient (cos(x)·x² only): relative error above 1e-2",
           lambda: run("sin_x2", "sin_x2_grad_missing_term", x0.copy()),
           lambda got: float(got) > 1e-2, expected="a number > 1e-2", inputs=shown, hint=hint)
    c.close("a gradient 10 % too large: relative error 0.1/1.1 at every entry (scale-free)",
            lambda: run("sin_x2", "sin_x2_grad_10pc_large", x0.copy()), 0.1 / 1.1, rtol=1e-4,
            inputs=shown + ", grad_f returning 1.1 × the true gradient",
            hint="Divide |a − n| by max(|a|, |n|), not by |n| or by |a| + |n|.")
    big = x0 * 1e3
    # The one wrong entry (entry 2, 10 % too large) also catches an answer that reports the first
    # entry's error, or the mean.
    c.close("tiny gradients are judged on their own scale",
            lambda: run("tiny", "tiny_grad_one_entry_off", big.copy()), 0.1 / 1.1, rtol=1e-4,
            inputs="f(x) = 1e-12·Σxᵢ², x of size ~1e3, a gradient right except in entry 2, "
                   "which is 10 % too large",
            hint="A relative error does not depend on how large the gradient is; report the largest "
                 "error over all entries, not the first entry's or the mean.")
    c.close("both gradients exactly 0 count as agreement (no 0/0)",
            lambda: run("constant_5", "zeros", x0.copy()), 0.0, atol=1e-12,
            inputs="f(x) = 5 (constant), grad_f(x) = 0", hint="Where both are 0, the error is 0.")

    def leaves_x_alone():
        x = x0.copy()
        run("sin_x2", "sin_x2_grad", x)
        return x

    c.close("x is left unchanged", leaves_x_alone, x0, rtol=0, atol=0, inputs=shown,
            hint="Work on copies of x (x.copy()), or put each entry back after moving it.")
    return c.done()


# ------------------------------------------------------------------------------ a deep sigmoid chain

def _depth_reference(x: float, w, b) -> float:
    """dh_L/dx for h_0 = x, h_k = σ(w_k·h_(k−1) + b_k): the product of w_k·σ'(a_k) over the layers."""
    h, grad = float(x), 1.0
    for wk, bk in zip(np.asarray(w, dtype=float), np.asarray(b, dtype=float)):
        a = wk * h + bk
        grad *= wk * float(sigmoid_grad(a))
        h = float(sigmoid(a))
    return grad


def chain_input_grad(student_fn):
    """Check ``chain_input_grad(x, w, b)``: the derivative dh_L/dx of a chain of L sigmoid layers
    h_k = σ(w_k·h_(k−1) + b_k), h_0 = x, for a number x and arrays w, b of length L."""
    c = Check("ex-ch2-chain-depth", "the gradient through a deep chain of sigmoids")
    hint = ("Run the chain forward, keeping each pre-activation a_k = w_k·h_(k−1) + b_k; by the chain "
            "rule dh_L/dx is the product over the layers of the local derivatives dh_k/dh_(k−1).")

    def grad(x, w, b):
        return float(student_fn(float(x), np.array(w, dtype=float), np.array(b, dtype=float)))

    cases = (("one layer", 0.5, [2.0], [-0.3]),
             ("three layers, a negative weight", -1.2, [1.5, -0.8, 2.5], [0.1, 0.4, -1.0]),
             ("five layers", 0.3, [3.0, -2.0, 0.5, 4.0, -1.5], [-1.0, 0.5, 0.0, -2.0, 1.0]))
    for name, x, w, b in cases:
        shown = f"x = {x}, w = {w}, b = {b}"
        c.close(f"{name}: equals the product of the local derivatives", lambda x=x, w=w, b=b: grad(x, w, b),
                _depth_reference(x, w, b), rtol=1e-9, atol=0.0, inputs=shown, hint=hint)

    x, w, b = 0.3, [3.0, -2.0, 0.5, 4.0, -1.5], [-1.0, 0.5, 0.0, -2.0, 1.0]

    def chain_out(v):
        h = float(v)
        for wk, bk in zip(w, b):
            h = float(sigmoid(wk * h + bk))
        return h

    c.close("agrees with a central difference of h_L (five layers)", lambda: grad(x, w, b),
            float(numerical_gradient(chain_out, x)), rtol=1e-6, atol=0.0,
            inputs=f"x = {x}, w = {w}, b = {b}", hint=hint)
    deep_w, deep_b = np.ones(60), np.zeros(60)
    c.close("sixty layers (w = 1, b = 0): a tiny number, to its full relative accuracy",
            lambda: grad(0.5, deep_w, deep_b), _depth_reference(0.5, deep_w, deep_b), rtol=1e-9,
            atol=0.0, inputs="x = 0.5, w = 60 ones, b = 60 zeros",
            hint="A finite difference cannot resolve a derivative of order 1e-39; multiply the exact "
                 "local derivatives. Compute σ'(a) from a, not from the layer's output.")
    rng = np.random.default_rng(7)
    chains = [(float(rng.normal()), rng.normal(0.0, 3.0, size=12), rng.normal(0.0, 1.0, size=12))
              for _ in range(5)]
    c.that("never larger than the bound ∏|w_k| / 4^L (five random chains of 12 layers)",
           lambda: [grad(*chain) for chain in chains],
           lambda got: all(math.isfinite(g) and abs(g) <= np.prod(np.abs(cw)) / 4.0 ** len(cw) * (1 + 1e-12)
                           and math.isclose(g, _depth_reference(cx, cw, cb), rel_tol=1e-9)
                           for g, (cx, cw, cb) in zip(got, chains)),
           expected="each value equal to the exact derivative and within the bound",
           inputs="5 chains, x ~ N(0, 1), w ~ N(0, 3²), b ~ N(0, 1), 12 layers each", hint=hint)
    return c.done()


EXERCISES = [
    Exercise("ex-ch2-chain-rule", ("chain_rule_by_hand",), chain_rule_by_hand),
    Exercise("ex-ch2-se-logit-grad", ("squared_error_logit_grad",), ch2_squared_error_logit_grad),
    Exercise("ex-ch2-unit-backward", ("sigmoid_unit_backward",), sigmoid_unit_backward),
    Exercise("ex-ch2-softplus-op", ("value_softplus",), value_softplus),
    Exercise("ex-ch2-hidden-layer", ("hidden_layer_grads",), ch2_hidden_layer_grads),
    Exercise("ex-ch2-chain-depth", ("chain_input_grad",), chain_input_grad),
    Exercise("ex-ch2-gradient-check", ("gradient_check",), gradient_check),
]
