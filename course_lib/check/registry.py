"""Which exercises each chapter has, so that the grader can find them by name.

Each chapter's checks live in their own module (``course_lib/check/<module>.py``) that defines
its check functions and a list ``EXERCISES`` of :class:`Exercise`. The notebook of a chapter is
``book/<notebook>.ipynb``; a chapter can be named by its notebook stem or its short key.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Exercise:
    """A self-checked exercise.

    label:      the sphinx-exercise label in the chapter (e.g. ``"ex-warmup-sigmoid"``)
    functions:  the names of the functions the student defines, in the order ``check`` takes them
    check:      the self-check, called as ``check(*student_functions)``; returns a CheckResult
    points:     the weight of the exercise in the grade
    """

    label: str
    functions: tuple[str, ...]
    check: Callable
    points: float = 1.0


@dataclass(frozen=True)
class Chapter:
    key: str        # short name, e.g. "ch1"
    notebook: str   # notebook stem under book/
    module: str     # the module of course_lib.check that holds its exercises


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("warmup", "warmup", "warmup"),
    Chapter("ch1", "ch1_logistic_regression", "ch1"),
    Chapter("ch2", "ch2_backprop", "ch2"),
    Chapter("ch3", "ch3_cross_entropy", "ch3"),
    Chapter("ch4", "ch4_prior_bias", "ch4"),
    Chapter("ch5", "ch5_softmax", "ch5"),
)


def find_chapter(name: str) -> Chapter:
    """The chapter called ``name`` (its key or its notebook stem, with or without .ipynb)."""
    stem = name[:-6] if name.endswith(".ipynb") else name
    for chapter in CHAPTERS:
        if stem in (chapter.key, chapter.notebook):
            return chapter
    known = ", ".join(f"{c.key} ({c.notebook})" for c in CHAPTERS)
    raise ValueError(f"unknown chapter {name!r}; known chapters: {known}")


def exercises_for(name: str) -> list[Exercise]:
    """The self-checked exercises of a chapter, in the order the chapter sets them."""
    module = importlib.import_module(f"course_lib.check.{find_chapter(name).module}")
    return list(module.EXERCISES)


def available_modules() -> list[str]:
    """The check modules that exist in this copy of course_lib."""
    found = []
    for chapter in CHAPTERS:
        try:
            importlib.import_module(f"course_lib.check.{chapter.module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"course_lib.check.{chapter.module}":
                raise
            continue
        found.append(chapter.module)
    return found
