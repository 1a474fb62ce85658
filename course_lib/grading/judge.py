"""The judge: runs a chapter's checks in the grader's own process and scores them.

For each self-checked exercise the judge calls the very check function a student runs in
Jupyter (``course_lib.check.<chapter>``), passing :class:`~.remote.RemoteFunction` proxies
instead of the student's functions. Every comparison, tolerance, expected value and the score
stay here; the student's kernel only ever sees the inputs of a call.

Everything the grader records goes through :func:`validate_submission`: a known exercise label,
``0 <= passed <= total``, ``0 <= points <= max``, known statuses. The same validation runs when
a stored result is read back (resume), so a result file cannot carry a score above its maximum.

It also flags the obvious shortcut (a function that is, or only calls, a course_lib reference):
statically from the notebook's code (:func:`find_shortcuts`) and from what the kernel says about
the function (its module, identity with a course_lib function). The score is unchanged; the CSV
note and the feedback say which reference is used.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import warnings
from dataclasses import asdict, dataclass, field, replace

from course_lib.check import STRICT_ENV
from course_lib.check.registry import Exercise, exercises_for, find_chapter

from .remote import CallTimeout, KernelLost, RemoteFunction, StudentError

# Statuses of one exercise.
SCORED, MISSING, TIMEOUT, NOT_RUN, CHECK_ERROR = "scored", "missing", "timeout", "not run", "check error"
EXERCISE_STATUSES = (SCORED, MISSING, TIMEOUT, NOT_RUN, CHECK_ERROR)
OUTCOME_STATUSES = ("passed", "failed", "not implemented", "skipped")
#: statuses of a whole submission
SUBMISSION_STATUSES = ("ok", "error", "timeout", "unreadable", "hung", "kernel died", "grader error",
                       "notebook time limit")
MAX_TESTS = 1000
TEXT_CHARS = 4000
#: a note of the submission (the first error, a time-out, ...): they return to the student
NOTE_CHARS = 400


class InvalidResult(ValueError):
    """A result that the grader refuses to record."""


@dataclass
class ExerciseScore:
    label: str
    max_points: float
    status: str = NOT_RUN
    passed: int = 0
    total: int = 0
    not_implemented: bool = False
    waiting: int = 0                      # tests waiting for a function that is not implemented
    missing_functions: list = field(default_factory=list)
    outcomes: list = field(default_factory=list)   # [description, status, detail]
    detail: str = ""

    @property
    def points(self) -> float:
        if self.status != SCORED or not self.total:
            return 0.0
        return round(self.max_points * self.passed / self.total, 2)


@dataclass
class Submission:
    student: str
    scores: list[ExerciseScore]
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    #: function name -> the course_lib reference it is or only calls (the shortcut flag)
    shortcuts: dict = field(default_factory=dict)
    #: the scores of the instructor's own tests (label ``instructor/<name>``), in the plan's order
    extra: list = field(default_factory=list)
    #: the prose answers, ``[key, text, how]`` per prose part of the scheme (see scheme.collect_answers)
    answers: list = field(default_factory=list)

    @property
    def total(self) -> float:
        """Automatic points: the chapter's checks and the instructor's tests (prose is added by the
        reports from the manual scores)."""
        return round(sum(s.points for s in self.scores) + sum(s.points for s in self.extra), 2)

    @property
    def max_total(self) -> float:
        return round(sum(s.max_points for s in self.scores) + sum(s.max_points for s in self.extra), 2)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Plan:
    """What one grading run scores: the chapter, its scheme (code points, prose parts) and the
    instructor's tests (with their functions in the grader, as specs when read back)."""

    chapter: str
    scheme: object = None     # course_lib.grading.scheme.Scheme (None: the registry's points, no prose)
    tests: list = field(default_factory=list)   # [InstructorTest]

    def __post_init__(self):
        self.chapter = find_chapter(self.chapter).key


def _plan(chapter, plan: Plan | None) -> Plan:
    return plan if plan is not None else Plan(chapter)


def chapter_exercises(chapter: str, plan: Plan | None = None) -> list[Exercise]:
    """The chapter's self-checked exercises, with the points the plan's scheme gives them."""
    exercises = exercises_for(chapter)
    points = getattr(getattr(plan, "scheme", None), "code_points", None) or {}
    return [replace(e, points=float(points.get(e.label, e.points))) for e in exercises]


def instructor_exercises(plan: Plan | None) -> list[Exercise]:
    return [Exercise(t.label, tuple(t.functions), t.check, float(t.points)) for t in (plan.tests if plan else [])]


def empty_submission(student: str, chapter: str, status: str = "ok", notes=(), plan: Plan | None = None) -> Submission:
    return Submission(student, [ExerciseScore(e.label, float(e.points)) for e in chapter_exercises(chapter, plan)],
                      status=status, notes=list(notes),
                      extra=[ExerciseScore(e.label, float(e.points)) for e in instructor_exercises(plan)])


def _text(value, limit: int = TEXT_CHARS) -> str:
    """``value`` cut to ``limit`` characters (callers store what it returns); not text: refused."""
    if not isinstance(value, str):
        raise InvalidResult(f"expected text, got {type(value).__name__}")
    return value[:limit]


#: a course_lib module or function name as the shortcut flag may name it (the kernel's answer is
#: the student's to choose: anything else is dropped, never shown)
REFERENCE = re.compile(r"course_lib(\.[A-Za-z_]\w*)+")
REFERENCE_CHARS = 200


def reference_ok(value) -> bool:
    return isinstance(value, str) and len(value) <= REFERENCE_CHARS and REFERENCE.fullmatch(value) is not None


def clean_shortcuts(shortcuts: dict) -> dict:
    """Only the flags whose function name is an identifier and whose reference is a course_lib
    name (``course_lib.x.y`` or ``a function of course_lib.x``)."""
    kept = {}
    for name, reference in (shortcuts or {}).items():
        if not (isinstance(name, str) and name.isidentifier() and len(name) <= REFERENCE_CHARS):
            continue
        bare = reference[len("a function of "):] if isinstance(reference, str) and \
            reference.startswith("a function of ") else reference
        if reference_ok(bare):
            kept[name] = reference
    return kept


def validate_score(score: ExerciseScore, exercise: Exercise) -> ExerciseScore:
    """Raise InvalidResult unless ``score`` is a sane result of ``exercise``; returns it."""
    if score.label != exercise.label:
        raise InvalidResult(f"unknown exercise {score.label!r}")
    if float(score.max_points) != float(exercise.points):
        raise InvalidResult(f"{score.label}: maximum {score.max_points} is not {exercise.points}")
    if score.status not in EXERCISE_STATUSES:
        raise InvalidResult(f"{score.label}: unknown status {score.status!r}")
    for name in ("passed", "total", "waiting"):
        if type(getattr(score, name)) is not int:
            raise InvalidResult(f"{score.label}: {name} is not an integer")
    if not (0 <= score.passed <= score.total <= MAX_TESTS and 0 <= score.waiting <= score.total):
        raise InvalidResult(f"{score.label}: passed {score.passed}, waiting {score.waiting} of {score.total}")
    if score.status == SCORED and len(score.outcomes) != score.total:
        raise InvalidResult(f"{score.label}: {len(score.outcomes)} outcomes for {score.total} tests")
    passed, outcomes = 0, []
    for outcome in score.outcomes:
        if not (isinstance(outcome, (list, tuple)) and len(outcome) == 3):
            raise InvalidResult(f"{score.label}: malformed outcome")
        description, status, detail = outcome
        if status not in OUTCOME_STATUSES:
            raise InvalidResult(f"{score.label}: unknown test status {status!r}")
        outcomes.append([_text(description), status, _text(detail)])
        passed += status == "passed"
    score.outcomes = outcomes
    if score.status == SCORED and passed != score.passed:
        raise InvalidResult(f"{score.label}: {passed} outcomes passed, {score.passed} claimed")
    if not 0.0 <= score.points <= score.max_points:
        raise InvalidResult(f"{score.label}: {score.points} points of {score.max_points}")
    score.detail = _text(score.detail)
    if not isinstance(score.not_implemented, bool) or not isinstance(score.missing_functions, list):
        raise InvalidResult(f"{score.label}: malformed not-implemented fields")
    score.missing_functions = [_text(name, 200) for name in score.missing_functions]
    return score


ANSWER_HOWS = ("found", "found by cell id (its metadata was removed)", "no answer cell found")
SEVERAL_CLAIM = r"found, but \d{1,6} cells claim this part \(the first one is used\)"


def validate_submission(sub: Submission, chapter: str, plan: Plan | None = None) -> Submission:
    """Raise InvalidResult unless every score belongs to the chapter's exercises (and the plan's
    instructor tests), in order, the answers to its prose parts, and the total lies in
    [0, maximum]; returns ``sub``."""
    exercises = chapter_exercises(chapter, plan)
    if [s.label for s in sub.scores] != [e.label for e in exercises]:
        raise InvalidResult("the exercises do not match the chapter's")
    for score, exercise in zip(sub.scores, exercises):
        validate_score(score, exercise)
    extra = instructor_exercises(plan)
    if not isinstance(sub.extra, list) or [s.label for s in sub.extra] != [e.label for e in extra]:
        raise InvalidResult("the instructor tests do not match the plan's")
    for score, exercise in zip(sub.extra, extra):
        validate_score(score, exercise)
    prose = [p.key for p in getattr(getattr(plan, "scheme", None), "prose", None) or []]
    if not isinstance(sub.answers, list) or (sub.answers and [a[0] for a in sub.answers] != prose):
        raise InvalidResult("the prose answers do not match the chapter's prose parts")
    for answer in sub.answers:
        if not (isinstance(answer, list) and len(answer) == 3 and isinstance(answer[2], str)
                and (answer[2] in ANSWER_HOWS or re.fullmatch(SEVERAL_CLAIM, answer[2]))):
            raise InvalidResult("malformed prose answer")
        answer[1] = _text(answer[1], 20000)
    if sub.status not in SUBMISSION_STATUSES:
        raise InvalidResult(f"unknown submission status {sub.status!r}")
    if not 0.0 <= sub.total <= sub.max_total:
        raise InvalidResult(f"total {sub.total} of {sub.max_total}")
    _text(sub.student)
    if not isinstance(sub.notes, list):
        raise InvalidResult("malformed notes")
    sub.notes = [_text(note, NOTE_CHARS) for note in sub.notes]
    if not isinstance(sub.shortcuts, dict):
        raise InvalidResult("malformed shortcut flags")
    if clean_shortcuts(sub.shortcuts) != sub.shortcuts:
        raise InvalidResult("a shortcut flag that names no course_lib reference")
    return sub


def submission_from_dict(data: dict, chapter: str, plan: Plan | None = None) -> Submission:
    """A stored result read back, validated (raises InvalidResult for anything else)."""
    try:
        scores = [ExerciseScore(**s) for s in data["scores"]]
        extra = [ExerciseScore(**s) for s in data.get("extra", [])]
        answers = [list(a) for a in data.get("answers", [])]
        sub = Submission(data["student"], scores, data["status"], list(data["notes"]), dict(data["shortcuts"]),
                         extra, answers)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidResult(f"malformed result ({type(exc).__name__}: {exc})") from None
    return validate_submission(sub, chapter, plan)


# ---------------------------------------------------------------------------------------------
# Judging
# ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet_check():
    """What a check prints is its report for Jupyter: swallowed here; never strict."""
    saved = os.environ.get(STRICT_ENV)
    os.environ[STRICT_ENV] = "0"
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if saved is None:
            os.environ.pop(STRICT_ENV, None)
        else:
            os.environ[STRICT_ENV] = saved


def _clip(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[:limit] + " ..."


def judge_exercise(exercise: Exercise, channel, *, describe: bool = True) -> tuple[ExerciseScore, dict]:
    """Score one exercise on the functions behind ``channel``; returns (score, shortcut flags).

    Raises :class:`KernelLost` when the kernel dies or hangs (the caller stops there)."""
    score = ExerciseScore(exercise.label, float(exercise.points))
    functions = [RemoteFunction(channel, name) for name in exercise.functions]
    flags = {}
    if describe:
        missing = []
        for fn in functions:
            try:
                info = fn.describe()
            except StudentError:
                info = {"callable": True}  # the calls will tell
            except CallTimeout:
                score.status, score.detail = TIMEOUT, "the kernel did not answer in time"
                return score, flags
            if info.get("callable") is not True:
                missing.append(fn.name)
            reference = info.get("reference")     # both are the kernel's (the student's) to choose
            module = info.get("module")
            if reference_ok(reference):
                flags[fn.name] = reference
            elif reference_ok(module):
                flags[fn.name] = f"a function of {module}"
        if missing:
            score.status, score.detail = MISSING, "not defined: " + ", ".join(missing)
            return score, flags
    try:
        with _quiet_check():
            result = exercise.check(*functions)
    except CallTimeout:
        score.status, score.detail = TIMEOUT, "a call to your function ran out of time"
        return score, flags
    except KernelLost:
        raise
    except Exception as exc:  # noqa: BLE001 - a check that broke on an exotic return value
        score.status, score.detail = CHECK_ERROR, _clip(f"{type(exc).__name__}: {exc}")
        return score, flags
    if isinstance(result, bool):   # an instructor test may answer pass/fail
        from course_lib.check._core import CheckResult, TestOutcome

        result = CheckResult(exercise.label, exercise.label,
                             [TestOutcome(exercise.label, "passed" if result else "failed")])
    if not all(hasattr(result, name) for name in ("passed", "total", "not_implemented", "waiting",
                                                   "missing_functions", "outcomes")):
        score.status, score.detail = CHECK_ERROR, f"the check returned {type(result).__name__}, not a CheckResult"
        return score, flags
    score.status = SCORED
    score.passed, score.total = int(result.passed), int(result.total)
    score.not_implemented, score.waiting = bool(result.not_implemented), int(result.waiting)
    score.missing_functions = [str(n)[:200] for n in result.missing_functions]
    score.outcomes = [[_text(o.description), o.status, _text(o.detail)] for o in result.outcomes]
    try:
        validate_score(score, exercise)
    except InvalidResult as exc:
        return ExerciseScore(exercise.label, float(exercise.points), CHECK_ERROR, detail=str(exc)), flags
    return score, flags


def judge_chapter(chapter: str, channel, sub: Submission, *, describe: bool = True,
                  plan: Plan | None = None) -> Submission:
    """Score every exercise of ``chapter`` into ``sub`` (whose scores are in chapter order), then
    the plan's instructor tests into ``sub.extra``, the same way (proxies, judged here)."""
    key = find_chapter(chapter).key
    jobs = [(sub.scores, i, e) for i, e in enumerate(chapter_exercises(key, plan))]
    jobs += [(sub.extra, i, e) for i, e in enumerate(instructor_exercises(plan))]
    for target, index, exercise in jobs:
        try:
            score, flags = judge_exercise(exercise, channel, describe=describe)
        except KernelLost as exc:
            sub.status = "hung" if "answer" in str(exc) else "kernel died"
            sub.notes.append(f"{exercise.label}: {exc}; score 0")
            for s in sub.scores + sub.extra:
                s.status = NOT_RUN
            return sub
        target[index] = score
        if score.status == TIMEOUT:
            sub.notes.append(f"{exercise.label}: self-check timed out")
        for name, reference in flags.items():
            sub.shortcuts.setdefault(name, reference)
    return sub


# ---------------------------------------------------------------------------------------------
# The shortcut flag, from the notebook's code
# ---------------------------------------------------------------------------------------------

_MAGIC = re.compile(r"^\s*[%!]")


def _parse(source: str):
    code = "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _dotted(node, aliases: dict) -> str | None:
    """The course_lib path an expression names (``L.bce`` with ``import course_lib.losses as L``)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def _only_calls(fn_node, aliases: dict) -> str | None:
    """The course_lib function a def or lambda only returns a call of, else None."""
    if isinstance(fn_node, ast.Lambda):
        body = fn_node.body
    else:
        statements = list(fn_node.body)
        if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
            statements = statements[1:]  # the docstring
        if len(statements) != 1 or not isinstance(statements[0], ast.Return):
            return None
        body = statements[0].value
    if isinstance(body, ast.Call):
        return _dotted(body.func, aliases)
    return None


def find_shortcuts(sources: list[str], names) -> dict[str, str]:
    """``{function name: course_lib reference}`` for the names (of functions the student must
    write) that the code cells, read top to bottom, last bind to a course_lib function: by
    import, by assignment of a course_lib name or of an imported reference, or by a def/lambda
    that only returns a call of one. A later honest definition clears the flag."""
    names = set(names)
    aliases: dict[str, str] = {}   # local name -> course_lib dotted path
    found: dict[str, str] = {}

    def bind(name: str, reference: str | None) -> None:
        if reference is not None and reference.split(".")[0] == "course_lib":
            aliases[name] = reference
            if name in names:
                found[name] = reference
            return
        aliases.pop(name, None)
        if name in names:
            found.pop(name, None)

    for source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bind(alias.asname, alias.name)
                    else:
                        top = alias.name.split(".")[0]
                        bind(top, top)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    bind(alias.asname or alias.name, f"{node.module}.{alias.name}")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                reference = _only_calls(node, aliases)
                if node.name in names:
                    if reference and reference.split(".")[0] == "course_lib":
                        found[node.name] = reference
                    else:
                        found.pop(node.name, None)
                aliases.pop(node.name, None)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = node.value
                if value is None:
                    continue
                reference = (_only_calls(value, aliases) if isinstance(value, ast.Lambda)
                             else _dotted(value, aliases))
                for target in targets:
                    if isinstance(target, ast.Name):
                        bind(target.id, reference)
    return found


def shortcut_note(shortcuts: dict) -> str:
    """The CSV note for the shortcut flags ("" when there are none)."""
    if not shortcuts:
        return ""
    return "uses the course_lib reference: " + ", ".join(f"{n} = {r}" for n, r in sorted(shortcuts.items()))
