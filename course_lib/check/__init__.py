"""Self-checks for the exercises.

In a chapter, after the cell where you wrote your function::

    from course_lib import check
    check.warmup_sigmoid(stable_sigmoid)

Each check prints one line per test, and for a failure the input, the expected value, the value
your function returned, the tolerance and a hint. It returns a :class:`CheckResult` and does not
raise, so "Run all" carries on; set ``COURSE_CHECK_STRICT=1`` to make a failure raise.

The checks of each chapter live in a module of this package (``warmup``, ``ch1`` ... ``ch4``);
every check function listed in a module's ``EXERCISES`` is also reachable here by name (and
only those: a misspelt name raises ``AttributeError`` listing the self-checks there are).
"""

from __future__ import annotations

import importlib

from ._core import STRICT_ENV, Check, CheckFailed, CheckResult, TestOutcome
from .registry import CHAPTERS, Chapter, Exercise, available_modules, exercises_for, find_chapter

__all__ = ["Check", "CheckFailed", "CheckResult", "TestOutcome", "STRICT_ENV", "CHAPTERS", "Chapter",
           "Exercise", "exercises_for", "find_chapter"]


def _check_functions() -> dict:
    """The self-check functions, by name: those listed in the chapters' ``EXERCISES``."""
    found = {}
    for module_name in available_modules():
        module = importlib.import_module(f"course_lib.check.{module_name}")
        for exercise in getattr(module, "EXERCISES", ()):
            found.setdefault(exercise.check.__name__, exercise.check)
    return found


def __getattr__(name: str):
    """Find a self-check by name among the check functions listed in the chapters' EXERCISES
    (helpers and names the check modules import, such as ``sigmoid`` or ``np``, are not checks)."""
    if name.startswith("_"):
        raise AttributeError(f"module 'course_lib.check' has no attribute {name!r}")
    if name in available_modules():  # a chapter's check module, e.g. check.ch2
        return importlib.import_module(f"course_lib.check.{name}")
    checks = _check_functions()
    if name in checks:
        return checks[name]
    available = ", ".join(sorted(checks))
    raise AttributeError(f"course_lib.check has no self-check called {name!r}; the self-checks are: "
                         f"{available}")


def __dir__():
    return sorted(set(globals()) | set(_check_functions()))
