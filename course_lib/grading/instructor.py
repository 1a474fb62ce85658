"""Instructor-only tests: a Python file of the instructor's own, run by the judge.

    python -m course_lib grade submissions/ --chapter ch1 --instructor-tests my_tests.py

The file lives wherever the instructor keeps it (never in ``course_lib``, never in the student
edition). It is imported **in the grader's process** (the worker, or Gradescope's
run_autograder), never in the student's kernel, and its tests are called exactly like the
chapter's self-checks: with :class:`~course_lib.grading.remote.RemoteFunction` proxies for the
student's functions, so the student's code receives the inputs of each call and nothing else
(no expected value, no tolerance, no score, not the file). A file inside a folder the sandbox
can read (the course's environment, course_lib, the system) is refused.

A test is a function decorated with :func:`instructor_test`; it takes the student's functions
(proxies) in the order given and returns a :class:`course_lib.check.CheckResult` (write it with
:class:`course_lib.check.Check`, ``done(quiet=True)``) or a bool (one test)::

    import numpy as np
    from course_lib.check import Check
    from course_lib.grading.instructor import instructor_test

    @instructor_test("ex-ch1-predict-proba", functions=("predict_proba",), points=1, visibility="hidden")
    def predict_proba_far_from_the_data(predict_proba):
        c = Check("predict_proba_far_from_the_data", "probabilities at a point far from the data")
        c.close("s = 40", lambda: predict_proba(np.array([[40.0]]), np.array([1.0]), 0.0), [1.0])
        return c.done(quiet=True)

``visibility`` is Gradescope's: ``visible`` (the feedback shows what passed and failed with the
inputs, expected and received values), ``hidden`` (the feedback names the test and its points,
nothing else), ``after_due_date`` (as hidden until the instructor regrades with
``--after-due-date``, then as visible; on Gradescope the details appear after the due date),
``after_published`` (as ``after_due_date``; on Gradescope once grades are published).
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from course_lib.check.registry import exercises_for, find_chapter

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
ATTRIBUTE = "__course_instructor_test__"
NAME_CHARS = 100


@dataclass(frozen=True)
class InstructorTest:
    name: str
    exercise: str                 # the exercise label it belongs to ("" for none)
    functions: tuple[str, ...]    # the student's functions it takes, in order
    points: float
    visibility: str
    check: object = None          # the test function (not part of the plan's JSON)

    def spec(self) -> dict:
        return {"name": self.name, "exercise": self.exercise, "functions": list(self.functions),
                "points": self.points, "visibility": self.visibility}

    @property
    def label(self) -> str:
        """The column of grades.csv: ``instructor/<name>``."""
        return f"instructor/{self.name}"


def instructor_test(exercise: str = "", *, functions=None, points: float = 1.0, visibility: str = "hidden",
                    name: str | None = None):
    """Mark a function of an instructor-tests file as a test (see the module docstring)."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility {visibility!r} is not one of {', '.join(VISIBILITIES)}")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points) or points < 0:
        raise ValueError(f"points {points!r} is not a finite number >= 0")

    def mark(fn):
        setattr(fn, ATTRIBUTE, {"exercise": exercise, "functions": None if functions is None else tuple(functions),
                                "points": float(points), "visibility": visibility, "name": name or fn.__name__})
        return fn
    return mark


def _readable_by_kernel(path: Path) -> bool:
    from .sandbox import read_only_paths

    real = path.resolve()
    return any(real.is_relative_to(Path(p).resolve()) for p in read_only_paths())


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_tests(path: Path, chapter: str) -> list[InstructorTest]:
    """The tests of an instructor-tests file, in the order they are defined; ValueError with a
    clear message for a file that cannot be used."""
    path = Path(path)
    key = find_chapter(chapter).key
    if not path.is_file() or path.suffix != ".py":
        raise ValueError(f"instructor tests {path}: not a .py file")
    if _readable_by_kernel(path):
        raise ValueError(f"instructor tests {path}: the file lies in a folder the students' sandboxed kernels "
                         "can read (the course's environment, course_lib or the system); keep it elsewhere")
    spec = importlib.util.spec_from_file_location(f"course_instructor_tests_{file_sha256(path)[:12]}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the instructor's file: say what is wrong with it
        raise ValueError(f"instructor tests {path}: importing it raised {type(exc).__name__}: {exc}") from None
    sys.modules.pop(spec.name, None)
    by_label = {e.label: e for e in exercises_for(key)}
    tests, names = [], set()
    for value in vars(module).values():
        meta = getattr(value, ATTRIBUTE, None)
        if not isinstance(meta, dict) or not callable(value):
            continue
        name = str(meta["name"])[:NAME_CHARS]
        if name in names:
            raise ValueError(f"instructor tests {path}: two tests are named {name!r}")
        names.add(name)
        exercise = str(meta["exercise"] or "")
        functions = meta["functions"]
        if functions is None:
            if exercise not in by_label:
                raise ValueError(f"instructor tests {path}: {name} names no functions and {exercise!r} is not a "
                                 f"self-checked exercise of {key}; pass functions=(...)")
            functions = by_label[exercise].functions
        tests.append(InstructorTest(name, exercise, tuple(str(f) for f in functions), meta["points"],
                                    meta["visibility"], value))
    if not tests:
        raise ValueError(f"instructor tests {path}: no function is marked with @instructor_test")
    return tests


def specs_of(tests) -> list[dict]:
    return [t.spec() for t in tests]


def from_specs(specs) -> list[InstructorTest]:
    """Tests without their functions (to validate and report stored results)."""
    return [InstructorTest(str(s["name"]), str(s["exercise"]), tuple(s["functions"]), float(s["points"]),
                           str(s["visibility"])) for s in specs or []]
