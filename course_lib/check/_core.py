"""The machinery every self-check uses.

A self-check calls the student's function on chosen inputs and compares what comes back with
what should come back. It never shows solution code: for a failure it prints the input, the
expected value, the received value, the tolerance and a hint.

Writing a check for a new exercise::

    def check_sigmoid(sigmoid):
        c = Check("ex-warmup-sigmoid", "a numerically stable sigmoid")
        c.close("σ(0) = 1/2", lambda: sigmoid(0.0), 0.5, inputs="s = 0.0",
                hint="σ(s) = 1 / (1 + exp(-s)).")
        c.that("σ(-800) is finite and equals 0", lambda: sigmoid(-800.0),
               lambda got: np.isfinite(got) and got == 0.0, expected="0.0",
               inputs="s = -800.0", hint="Avoid exp of a large positive number.")
        return c.done()

Rules the machinery enforces:

- a call that raises ``NotImplementedError`` marks the whole exercise "not implemented yet"
  (the remaining tests are skipped, there is no traceback);
- any other exception is a failed test whose message is shown;
- ``done()`` prints one line per test and returns a :class:`CheckResult`; it raises
  :class:`CheckFailed` only when the environment variable ``COURSE_CHECK_STRICT`` is ``1``
  (set by the notebook executor, the notebook tests and the grader).
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

STRICT_ENV = "COURSE_CHECK_STRICT"

PASSED, FAILED, NOT_IMPLEMENTED, SKIPPED = "passed", "failed", "not implemented", "skipped"


class CheckFailed(AssertionError):
    """Raised by :meth:`Check.done` in strict mode when a test did not pass."""


@dataclass
class TestOutcome:
    """The result of one test of one exercise."""

    description: str
    status: str
    detail: str = ""


@dataclass
class CheckResult:
    """What a self-check found: one outcome per test.

    ``score`` is the fraction of tests passed (0 when the function is not implemented).
    """

    label: str
    title: str
    outcomes: list[TestOutcome] = field(default_factory=list)
    _reported: bool = field(default=False, repr=False, compare=False)

    @property
    def passed(self) -> int:
        return sum(o.status == PASSED for o in self.outcomes)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def not_implemented(self) -> bool:
        return any(o.status == NOT_IMPLEMENTED for o in self.outcomes)

    @property
    def ok(self) -> bool:
        return self.total > 0 and self.passed == self.total

    @property
    def score(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def __bool__(self) -> bool:
        return self.ok

    def report(self) -> str:
        """The text a student sees: a header, one line per test, then a summary."""
        lines = [f"Self-check for exercise {self.label}: {self.title}"]
        if self.not_implemented:
            lines.append(f"  [TODO] not implemented yet ({self.total} tests waiting): replace the "
                         "`raise NotImplementedError(...)` line with your code, then run this cell again.")
            return "\n".join(lines)
        for o in self.outcomes:
            mark = {PASSED: "PASS", FAILED: "FAIL", NOT_IMPLEMENTED: "TODO", SKIPPED: "SKIP"}[o.status]
            lines.append(f"  [{mark}] {o.description}")
            if o.detail:
                lines.extend("         " + d for d in o.detail.splitlines())
        if self.ok:
            lines.append(f"  -> all {self.total} tests passed.")
        else:
            lines.append(f"  -> {self.passed} of {self.total} tests passed.")
        return "\n".join(lines)

    def _ipython_display_(self) -> None:
        """In Jupyter, a check cell shows the report once: printed by ``done()``, or here when
        the check ran quietly. (Without this the cell would also echo ``CheckResult(...)``.)"""
        if not self._reported:
            print(self.report())

    def __repr__(self) -> str:  # a plain, deterministic repr (no addresses)
        return f"CheckResult({self.label!r}, passed={self.passed}, total={self.total})"


def format_value(value: Any, digits: int = 10) -> str:
    """A short, deterministic rendering of a value for a failure message."""
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything unprintable is shown by its type
        return f"<{type(value).__name__}>"
    if arr.dtype.kind in "fc" or arr.dtype.kind in "iub":
        with np.printoptions(precision=digits, threshold=12, edgeitems=3, suppress=False):
            text = np.array2string(arr, separator=", ") if arr.ndim else f"{arr.item():.{digits}g}"
        return text + (f"  (shape {arr.shape})" if arr.ndim else "")
    return repr(value) if len(repr(value)) < 200 else repr(value)[:200] + "..."


class Check:
    """Collects the tests of one exercise; see the module docstring."""

    def __init__(self, label: str, title: str):
        self.result = CheckResult(label, title)
        self._stopped = False

    # -- running one call safely ------------------------------------------------------
    def _call(self, description: str, compute: Callable[[], Any], *, inputs: str = "", hint: str = ""):
        """Run ``compute``; return (ok, value). Records not-implemented and errors."""
        if self._stopped:
            self.result.outcomes.append(TestOutcome(description, SKIPPED))
            return False, None
        try:
            with np.errstate(all="ignore"):
                return True, compute()
        except NotImplementedError:
            self.result.outcomes.append(TestOutcome(description, NOT_IMPLEMENTED))
            self._stopped = True
            return False, None
        except Exception as exc:  # noqa: BLE001 - the student's error becomes a failure
            detail = [f"input:     {inputs}"] if inputs else []
            detail.append(f"raised:    {type(exc).__name__}: {exc}")
            if hint:
                detail.append(f"hint:      {hint}")
            self.result.outcomes.append(TestOutcome(description, FAILED, "\n".join(detail)))
            return False, None

    def _record(self, description, ok, *, inputs, expected, received, tolerance, hint):
        if ok:
            self.result.outcomes.append(TestOutcome(description, PASSED))
            return
        detail = []
        if inputs:
            detail.append(f"input:     {inputs}")
        detail.append(f"expected:  {expected}")
        detail.append(f"received:  {received}")
        if tolerance:
            detail.append(f"tolerance: {tolerance}")
        if hint:
            detail.append(f"hint:      {hint}")
        self.result.outcomes.append(TestOutcome(description, FAILED, "\n".join(detail)))

    # -- the kinds of test --------------------------------------------------------------
    def close(self, description: str, compute: Callable[[], Any], expected: Any, *,
              rtol: float = 1e-7, atol: float = 1e-12, inputs: str = "", hint: str = "") -> bool:
        """Pass when ``compute()`` has the shape of ``expected`` and matches it within
        ``|got - expected| <= atol + rtol * |expected|`` elementwise (NaN never matches)."""
        ran, got = self._call(description, compute, inputs=inputs, hint=hint)
        if not ran:
            return False
        expected_arr = np.asarray(expected, dtype=float)
        try:
            got_arr = np.asarray(got, dtype=float)
            same_shape = got_arr.shape == expected_arr.shape
            ok = bool(same_shape and np.all(np.abs(got_arr - expected_arr) <= atol + rtol * np.abs(expected_arr)))
        except (TypeError, ValueError):
            ok, same_shape = False, True
        received = format_value(got)
        if not same_shape:
            received += f"  <- wrong shape, expected {expected_arr.shape}"
        self._record(description, ok, inputs=inputs, expected=format_value(expected),
                     received=received, tolerance=f"rtol={rtol:g}, atol={atol:g}", hint=hint)
        return ok

    def that(self, description: str, compute: Callable[[], Any], predicate: Callable[[Any], bool], *,
             expected: str, inputs: str = "", hint: str = "") -> bool:
        """Pass when ``predicate(compute())`` is true; ``expected`` says in words what should hold."""
        ran, got = self._call(description, compute, inputs=inputs, hint=hint)
        if not ran:
            return False
        try:
            with np.errstate(all="ignore"):
                ok = bool(predicate(got))
        except Exception:  # noqa: BLE001 - a value the predicate cannot handle fails
            ok = False
        self._record(description, ok, inputs=inputs, expected=expected,
                     received=format_value(got), tolerance="", hint=hint)
        return ok

    def raises(self, description: str, compute: Callable[[], Any], exception: type[BaseException], *,
               inputs: str = "", hint: str = "") -> bool:
        """Pass when ``compute()`` raises ``exception`` (NotImplementedError still means TODO)."""
        if self._stopped:
            self.result.outcomes.append(TestOutcome(description, SKIPPED))
            return False
        try:
            got = compute()
        except NotImplementedError:
            if exception is not NotImplementedError:
                self.result.outcomes.append(TestOutcome(description, NOT_IMPLEMENTED))
                self._stopped = True
                return False
            got, ok = None, True
        except exception:
            self.result.outcomes.append(TestOutcome(description, PASSED))
            return True
        except Exception as exc:  # noqa: BLE001
            self._record(description, False, inputs=inputs, expected=f"{exception.__name__} raised",
                         received=f"{type(exc).__name__}: {exc}", tolerance="", hint=hint)
            return False
        self._record(description, False, inputs=inputs, expected=f"{exception.__name__} raised",
                     received=f"returned {format_value(got)}", tolerance="", hint=hint)
        return False

    # -- finishing ------------------------------------------------------------------------
    def done(self, *, quiet: bool = False) -> CheckResult:
        """Print the report (unless ``quiet``), raise in strict mode, return the result."""
        if not quiet:
            print(self.result.report())
            # Flush now, so the report is stored as one output in the order it was printed.
            sys.stdout.flush()
        self.result._reported = not quiet
        if os.environ.get(STRICT_ENV) == "1" and not self.result.ok:
            raise CheckFailed(f"self-check {self.result.label} did not pass "
                              f"({self.result.passed}/{self.result.total}); see the report above")
        return self.result


def finite_or_nan(x) -> bool:
    """True when every entry of ``x`` is a finite number."""
    return bool(np.all(np.isfinite(np.asarray(x, dtype=float))))


def is_close_scalar(a: float, b: float, rtol: float = 1e-7, atol: float = 1e-12) -> bool:
    return math.isfinite(a) and abs(a - b) <= atol + rtol * abs(b)
