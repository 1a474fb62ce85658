"""Self-checks for the exercises.

In a chapter, after the cell where you wrote your function::

    from course_lib import check
    check.stable_sigmoid(stable_sigmoid)

Each check prints one line per test, and for a failure the input, the expected value, the value
your function returned, the tolerance and a hint. It returns a :class:`CheckResult` and does not
raise, so "Run all" carries on; set ``COURSE_CHECK_STRICT=1`` to make a failure raise.

The checks of each chapter live in a module of this package (``warmup``, ``ch1`` ... ``ch4``);
every check function is also reachable here by name.
"""

from __future__ import annotations

import importlib

from ._core import STRICT_ENV, Check, CheckFailed, CheckResult, TestOutcome
from .registry import CHAPTERS, Chapter, Exercise, available_modules, exercises_for, find_chapter

__all__ = ["Check", "CheckFailed", "CheckResult", "TestOutcome", "STRICT_ENV", "CHAPTERS", "Chapter",
           "Exercise", "exercises_for", "find_chapter"]


def __getattr__(name: str):
    """Find a check function by name in the chapters' check modules."""
    if not name.startswith("_"):
        for module_name in available_modules():
            module = importlib.import_module(f"course_lib.check.{module_name}")
            if hasattr(module, name):
                return getattr(module, name)
    raise AttributeError(f"course_lib.check has no self-check called {name!r}")
