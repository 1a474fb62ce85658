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

- a call that raises ``NotImplementedError`` is a test "waiting" for a function that is not
  implemented yet (no traceback); the other tests still run, so that in an exercise with several
  functions the ones already written are tested and scored. The report lists the outcomes of
  the tests that ran, then one ``[TODO]`` line naming the functions not implemented yet and the
  number of tests waiting for them;
- any other exception is a failed test whose message is shown;
- ``done()`` prints one line per test and returns a :class:`CheckResult`; it raises
  :class:`CheckFailed` only when the environment variable ``COURSE_CHECK_STRICT`` is ``1``
  (set by the notebook executor, the notebook tests and the grader).
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig
import warnings
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
    #: for a test waiting on a stub: the name of the function that raised NotImplementedError
    #: ("" when it could not be told)
    function: str = ""


@dataclass
class CheckResult:
    """What a self-check found: one outcome per test.

    ``score`` is the fraction of tests passed: tests waiting for a function that is not
    implemented yet count as not passed, so a stub scores 0 and an exercise with one of its
    functions written scores the tests that function passed. ``not_implemented`` is true when
    any test is waiting; ``waiting`` counts them and ``missing_functions`` names the functions
    that raised ``NotImplementedError``.
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
    def waiting(self) -> int:
        """How many tests are waiting for a function that is not implemented yet."""
        return sum(o.status == NOT_IMPLEMENTED for o in self.outcomes)

    @property
    def not_implemented(self) -> bool:
        return self.waiting > 0

    @property
    def missing_functions(self) -> tuple[str, ...]:
        """The functions that raised NotImplementedError, in the order the tests met them."""
        names = (o.function for o in self.outcomes if o.status == NOT_IMPLEMENTED and o.function)
        return tuple(dict.fromkeys(names))

    def todo_line(self) -> str:
        """The ``[TODO]`` line of the report ("" when no test is waiting)."""
        if not self.not_implemented:
            return ""
        names = ", ".join(f"`{name}`" for name in self.missing_functions)
        waiting = f"{self.waiting} test{'s' if self.waiting != 1 else ''} waiting"
        return (f"[TODO] not implemented yet{': ' + names if names else ''} ({waiting}): replace the "
                "`raise NotImplementedError(...)` line with your code, then run this cell again.")

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
        for o in self.outcomes:
            if o.status == NOT_IMPLEMENTED:  # summed up in the TODO line below
                continue
            mark = {PASSED: "PASS", FAILED: "FAIL", SKIPPED: "SKIP"}[o.status]
            lines.append(f"  [{mark}] {o.description}")
            if o.detail:
                lines.extend("         " + d for d in o.detail.splitlines())
        if self.not_implemented:
            lines.append("  " + self.todo_line())
            if self.waiting == self.total:  # nothing ran: the TODO line says it all
                return "\n".join(lines)
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

    # -- running one call safely ------------------------------------------------------
    def _waiting(self, description: str, exc: NotImplementedError) -> None:
        self.result.outcomes.append(TestOutcome(description, NOT_IMPLEMENTED, function=_raiser(exc)))

    def _call(self, description: str, compute: Callable[[], Any], *, inputs: str = "", hint: str = ""):
        """Run ``compute``; return (ok, value). Records not-implemented and errors."""
        try:
            with np.errstate(all="ignore"):
                return True, compute()
        except NotImplementedError as exc:
            self._waiting(description, exc)
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
        unreadable = ""
        try:
            got_arr = np.asarray(got, dtype=float)
            same_shape = got_arr.shape == expected_arr.shape
            ok = bool(same_shape and np.all(np.abs(got_arr - expected_arr) <= atol + rtol * np.abs(expected_arr)))
        except Exception as exc:  # noqa: BLE001 - a dict, a ragged list, a tensor that requires grad ...
            ok, same_shape = False, True
            unreadable = _unreadable(got, exc)
        received = format_value(got)
        if not same_shape:
            received += f"  <- wrong shape, expected {expected_arr.shape}"
        if unreadable:
            received += f"  <- {unreadable}"
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
        try:
            got = compute()
        except NotImplementedError as exc:
            if exception is not NotImplementedError:
                self._waiting(description, exc)
                return False
            self.result.outcomes.append(TestOutcome(description, PASSED))
            return True
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


def _unreadable(value: Any, exc: Exception) -> str:
    """Why ``value`` could not be compared as numbers, with the likely fix."""
    if callable(getattr(value, "detach", None)):  # a torch tensor (e.g. one that requires grad)
        return ("not a NumPy array: return a NumPy array or a float, e.g. "
                "tensor.detach().numpy() or tensor.item()")
    return f"could not be read as numbers ({type(exc).__name__}: {exc})"


def _library_folders() -> tuple[str, ...]:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # course_lib/
    paths = sysconfig.get_paths()
    return tuple(os.path.abspath(p) + os.sep for p in
                 {here, paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"]})


def probed(student_fn: Callable, probe: Callable) -> Callable:
    """``student_fn`` called through a probe of :mod:`course_lib.check.probes`: in-process
    ``partial(probe, student_fn)``; for a grader's remote function, the same probe run by name in
    the student's kernel (see that module)."""
    from course_lib.grading.remote import RemoteFunction

    if isinstance(student_fn, RemoteFunction):
        return student_fn.via_probe(probe.__name__)
    return functools.partial(probe, student_fn)


def _raiser(exc: BaseException) -> str:
    """The name of the function that raised ``exc``: the innermost frame of code outside
    course_lib, the standard library and installed packages (the student's stub), or "".
    An exception replayed by the grader's proxy carries that name from the kernel."""
    remote = getattr(exc, "course_function", None)
    if isinstance(remote, str):
        return remote
    skip = _library_folders()
    name, tb = "", exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if not os.path.abspath(code.co_filename).startswith(skip):
            name = code.co_name
        tb = tb.tb_next
    return "" if name.startswith("<") else name


def without_warnings(compute: Callable[[], Any]) -> Callable[[], Any]:
    """``compute`` with overflow, division by zero, invalid operations and RuntimeWarnings raising
    (underflow allowed), so that a test of "no warning at extreme inputs" fails on a warning.

    Under the grader the NumPy part travels with the call: the proxy sends ``np.geterr()`` and
    the student's kernel applies it around the student's function."""
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                return compute()
    return run
