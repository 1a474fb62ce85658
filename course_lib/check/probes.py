"""Probes: small functions that call a student's function on arguments that are not plain data.

Most self-checks pass arrays and numbers to the student's function, which can cross to a
sandboxed kernel as plain data (:mod:`course_lib.grading.wire`). A few exercises take something
else: an autodiff ``Value``, a function to differentiate, a torch model changed in place. For
those a check calls ``probed(student_fn, probes.<probe>)``: the probe builds the object from plain
data, calls the student's function with it and returns plain data (values, gradients, the
model's parameters after the call).

In Jupyter the probe runs in the student's process with the student's function, as any check
does. Under the grader it runs in the student's *kernel*, which the grader asks for it by its
name in :data:`PROBES`; the comparisons with expected values stay in the grader's process. A
student can tamper with a probe in their own kernel; that only changes what their own function
appears to return, which is then judged like any other return value.
"""

from __future__ import annotations

import numpy as np

#: the probes a grader may ask a kernel to run, by name
PROBES = ("value_op", "value_op_in_graph", "gradient_check_named", "init_output_bias_on")


def value_op(fn, x):
    """``fn(Value(x))``, then backward: (the output's data, the input's grad)."""
    from course_lib.autodiff import Value

    v = Value(x)
    out = fn(v)
    if not isinstance(out, Value):
        raise TypeError(f"return a Value, not {type(out).__name__}")
    out.backward()
    return out.data, v.grad


def value_op_in_graph(fn, x):
    """d/dx of 2·fn(x·x) by backward from the output (fn used inside a bigger graph)."""
    from course_lib.autodiff import Value

    v = Value(x)
    out = fn(v * v) * 2.0
    out.backward()
    return v.grad


# -- the functions a gradient check is tried on (chapter 2) --------------------------------------

def _sin_x2(x):
    return float(np.sum(np.sin(x) * x ** 2))


def _sin_x2_grad(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


def _tiny_grad_one_entry_off(x):
    """The gradient of 1e-12·Σxᵢ², right except entry 2 (not the first, not the last): 10 % too
    large."""
    g = 2e-6 * x / 1e6
    g[2] *= 1.1
    return g


GRADIENT_CHECK_FUNCTIONS = {
    "sin_x2": _sin_x2,
    "sin_x2_grad": _sin_x2_grad,
    "sin_x2_grad_missing_term": lambda x: np.cos(x) * x ** 2,
    "sin_x2_grad_10pc_large": lambda x: 1.1 * _sin_x2_grad(x),
    "tiny": lambda x: 1e-6 * float(np.sum((x / 1e3) ** 2)),
    "tiny_grad_one_entry_off": _tiny_grad_one_entry_off,
    "constant_5": lambda x: 5.0,
    "zeros": lambda x: np.zeros_like(x),
}


def gradient_check_named(fn, f_name, grad_name, x):
    """``fn(f, grad_f, x)`` with f and grad_f named in :data:`GRADIENT_CHECK_FUNCTIONS`."""
    return fn(GRADIENT_CHECK_FUNCTIONS[f_name], GRADIENT_CHECK_FUNCTIONS[grad_name], x)


# -- a torch model changed in place (chapter 4) ---------------------------------------------------

def make_probe_model(name: str):
    """The models ``init_output_bias`` is tried on: "fraudnet" (make_model(29, seed=0)) or
    "sequential" (Linear(4, 8), ReLU, Linear(8, 1), torch seed 0)."""
    import torch
    from torch import nn

    if name == "fraudnet":
        from course_lib.fraud_model import make_model

        return make_model(29, None, seed=0)
    if name == "sequential":
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    raise ValueError(f"unknown probe model {name!r}")


def init_output_bias_on(fn, model_name, pos, neg):
    """Build the model, call ``fn(model, pos, neg)``; return what became of it: the parameters
    after the call (name -> array), the last Linear layer's bias value, and whether that bias is
    still a trainable ``nn.Parameter``."""
    from torch import nn

    model = make_probe_model(model_name)
    fn(model, pos, neg)
    bias = [m for m in model.modules() if isinstance(m, nn.Linear)][-1].bias
    return {"after": {k: v.detach().numpy().copy() for k, v in model.named_parameters()},
            "last_bias": float(bias.item()),
            "trainable": bool(isinstance(bias, nn.Parameter) and bias.requires_grad)}
