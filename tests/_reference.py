"""Independent references for the numerical tests: PyTorch in float64 and exact arithmetic.

- ``torch64`` wraps PyTorch's functions so that they take and return float64 NumPy arrays.
- The ``exact_*`` functions evaluate the definitions with Python's ``decimal`` module at 60
  significant digits and round once to float64. They are written from the mathematical
  definitions, not from course_lib's code, and serve where PyTorch itself overflows, returns
  NaN, or loses accuracy (its softplus switches to s at s > 20; its BCE-with-logits cancels for
  y = 0, s ≪ 0). Decimal's exponent range is huge, so e^{−1e308} is simply 0 there, but e^{x}
  for large positive x overflows: the references only ever exponentiate x ≤ 0.
- ``PROPERTY`` is the hypothesis configuration of every property test (applied per test, so that
  importing this module changes no global hypothesis profile).
"""

from __future__ import annotations

import doctest
from decimal import Decimal, localcontext

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import settings

PROPERTY = settings(max_examples=200, deadline=None)

#: Tolerances for comparing with PyTorch: 1e-10 relative or 1e-12 absolute.
RTOL, ATOL = 1e-10, 1e-12

#: Logit magnitudes where the textbook formulas break, with both signs and 0.
EXTREME_MAGNITUDES = [0.0, 1e-300, 1.0, 20.0, 40.0, 700.0, 800.0, 1e4, 1e300]
EXTREME_LOGITS = sorted({sign * m for m in EXTREME_MAGNITUDES for sign in (-1.0, 1.0)})
#: The functional module must also survive the largest floats.
EXTREME_LOGITS_FUNCTIONAL = sorted(EXTREME_LOGITS + [-1e308, 1e308])

_DIGITS = 60


def run_doctests(module) -> None:
    """Run the examples in a module's docstrings and fail if any of them fails."""
    result = doctest.testmod(module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{module.__name__} has no examples"
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {module.__name__}"


# ------------------------------------------------------------------------------ PyTorch, float64

def _tensor(x, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(x, dtype=np.float64), dtype=torch.float64,
                        requires_grad=requires_grad)


def torch_value(fn, *args, **kwargs) -> np.ndarray:
    """Call a torch function on float64 copies of the NumPy arguments; return float64 NumPy."""
    with torch.no_grad():
        return fn(*(_tensor(a) for a in args), **kwargs).numpy()


def torch_grad(fn, x, *args, **kwargs) -> np.ndarray:
    """The gradient, by torch.autograd, of fn(x, *args, **kwargs) with respect to x.

    If fn returns a non-scalar (reduction="none"), the gradient of its sum is returned, which
    for an elementwise loss is the vector of elementwise derivatives.
    """
    xt = _tensor(x, requires_grad=True)
    out = fn(xt, *(_tensor(a) for a in args), **kwargs)
    (grad,) = torch.autograd.grad(out.sum(), xt)
    return grad.numpy()


def torch_bce_with_logits(s, y, pos_weight=None, reduction="mean") -> np.ndarray:
    pw = None if pos_weight is None else _tensor(pos_weight)
    return torch_value(F.binary_cross_entropy_with_logits, s, y, pos_weight=pw,
                       reduction=reduction)


def torch_bce_with_logits_grad(s, y, pos_weight=None, reduction="mean") -> np.ndarray:
    pw = None if pos_weight is None else _tensor(pos_weight)
    return torch_grad(F.binary_cross_entropy_with_logits, s, y, pos_weight=pw,
                      reduction=reduction)


# ------------------------------------------------------------------------ exact (Decimal) values

def _d(x) -> Decimal:
    return Decimal(float(x))  # exact: every float64 is a finite decimal fraction


def _log1p(x: Decimal) -> Decimal:
    """log(1 + x) for 0 <= x <= 1, accurate to the context precision even for tiny x."""
    if x < Decimal("1e-25"):
        return x - x * x / 2  # the next term, x³/3, is below 1e-75 relative
    return (1 + x).ln()


def _softplus(x: Decimal) -> Decimal:
    """log(1 + e^x), exponentiating only a non-positive number."""
    if x > 0:
        return x + _log1p((-x).exp())
    return _log1p(x.exp())


def exact_softplus(s: float) -> float:
    with localcontext() as ctx:
        ctx.prec = _DIGITS
        return float(_softplus(_d(s)))


def exact_log_sigmoid(s: float) -> float:
    # log σ(s) = −log(1 + e^{−s})
    with localcontext() as ctx:
        ctx.prec = _DIGITS
        return float(-_softplus(-_d(s)))


def exact_sigmoid(s: float) -> float:
    with localcontext() as ctx:
        ctx.prec = _DIGITS
        x = _d(s)
        if x >= 0:
            return float(1 / (1 + (-x).exp()))
        e = x.exp()
        return float(e / (1 + e))


def exact_sigmoid_grad(s: float) -> float:
    # σ(s)(1 − σ(s)) = e^{−|s|} / (1 + e^{−|s|})²
    with localcontext() as ctx:
        ctx.prec = _DIGITS
        e = (-abs(_d(s))).exp()
        return float(e / (1 + e) ** 2)


def exact_bce_with_logits(s: float, y: float, pos_weight: float = 1.0) -> float:
    """−[w·y·log σ(s) + (1 − y)·log(1 − σ(s))], with log σ(s) = −log(1 + e^{−s})."""
    with localcontext() as ctx:
        ctx.prec = _DIGITS
        x, yd, w = _d(s), _d(y), _d(pos_weight)
        log_p = -_softplus(-x)       # log σ(s)
        log_1mp = -_softplus(x)      # log(1 − σ(s)) = log σ(−s)
        return float(-(w * yd * log_p + (1 - yd) * log_1mp))


def exact_logit(p: float) -> float:
    with localcontext() as ctx:
        ctx.prec = _DIGITS
        x = _d(p)
        return float((x / (1 - x)).ln())


def _log1m(x: Decimal) -> Decimal:
    """log(1 − x) for 0 <= x < 1, accurate to the context precision even for tiny x.

    (At 60 digits 1 − 1e−300 rounds to 1, and ln(1) = 0 would drop the −x term.)
    """
    if x < Decimal("1e-25"):
        return -x - x * x / 2 - x * x * x / 3  # the next term, x⁴/4, is below 1e-75 relative
    return (1 - x).ln()


def exact_entropy(p: float) -> float:
    """−p log p − (1 − p) log(1 − p), with 0·log 0 = 0."""
    with localcontext() as ctx:
        ctx.prec = _DIGITS
        x = _d(p)
        if x == 0 or x == 1:
            return 0.0
        return float(-(x * x.ln()) - (1 - x) * _log1m(x))


#: Working precision of exact_kl: enough for 1 − 1e−300 to differ from 1 and for the two terms
#: of the definition to cancel down to a KL of 1e−100 of their size, with 60 digits to spare.
_KL_DIGITS = 500


def exact_kl(p: float, q: float) -> float:
    """KL(p‖q) = p log(p/q) + (1 − p) log((1 − p)/(1 − q)) from the definition, in decimal.

    The two terms nearly cancel when q is close to p, and 1 − p needs 300 digits for p = 1e−300,
    so the definition is evaluated at 500 significant digits (much more than the 60 correct
    digits wanted) and rounded once to float64. 0·log 0 = 0; +inf where the KL is infinite.
    """
    with localcontext() as ctx:
        ctx.prec = _KL_DIGITS
        a, b = _d(p), _d(q)
        total = Decimal(0)
        for weight, other in ((a, b), (1 - a, 1 - b)):
            if weight == 0:
                continue
            if other == 0:
                return float("inf")
            total += weight * (weight / other).ln()
        return float(total)
