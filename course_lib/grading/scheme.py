"""What a chapter's grade is made of: code points, prose parts, rubric lines, cells to skip.

Everything here is read from the **instructor notebook** (``book/<notebook>.ipynb``), with
defaults, so that an instructor sets the grading where the exercises are written:

- *Prose parts.* Every markdown cell of a solution gate ({solution-start} ... {solution-end}) is
  the model answer of one part of the exercise that asks for prose; consecutive markdown cells
  form one part. A markdown cell of a gate that only explains the code solution (no prose is
  asked for) is marked ``{"course": {"answer": false}}`` in its cell metadata and is no part.
  The student edition (``release``) gives each part an answer cell marked
  ``{"course": {"answer": "<label>", "part": <n>}}`` (``n`` from 1, in notebook order).
- *Points and rubric of a part*: in the metadata of the part's first solution cell,
  ``{"course": {"points": 2, "rubric": "Full marks for ..."}}``; defaults: the notebook's
  ``course.grading.prose_points`` and ``course.grading.rubric``, else :data:`DEFAULT_PROSE_POINTS`
  and :data:`DEFAULT_RUBRIC`.
- *Code points*: the registry's points (``EXERCISES`` of the check module), overridden per
  exercise by the notebook metadata ``{"course": {"grading": {"points": {"<label>": 3}}}}``.
- *Skipped cells*: code cells tagged :data:`SKIP_TAG` (``grade-skip``) are not run by the grader
  (long experiments no exercise depends on). The tag is read from the **submission** too, where
  it came from the student edition; a student who adds it to a cell only skips their own cell.

A :class:`Scheme` is plain data (JSON) so that a Gradescope bundle carries it without the
instructor notebook (:meth:`Scheme.to_dict` with ``solutions=False`` leaves the model answers out).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from course_lib.check.registry import exercises_for, find_chapter

SKIP_TAG = "grade-skip"
META = "course"
DEFAULT_PROSE_POINTS = 1.0
DEFAULT_RUBRIC = ("Full points for a correct and complete explanation in the student's own words, half for "
                  "a partly correct one, none for a wrong or missing one.")
#: where the instructor notebooks are by default (the repository's book/)
BOOK_DIR = Path(__file__).resolve().parents[2] / "book"


@dataclass(frozen=True)
class ProsePart:
    label: str
    part: int
    points: float
    rubric: str
    solution: str = ""          # the instructor's model answer (never in a student's feedback)
    title: str = ""             # "Exercise 3.5: The 0-1 loss and the hinge loss"
    answer_id: str = ""         # the id of its answer cell in the student edition

    @property
    def key(self) -> str:
        """The column of grades.csv and of the manual-scores CSV: ``<label>/prose<part>``."""
        return f"{self.label}/prose{self.part}"


@dataclass
class Scheme:
    chapter: str
    code_points: dict = field(default_factory=dict)   # label -> points
    prose: list = field(default_factory=list)          # [ProsePart]
    edition_ids: list = field(default_factory=list)    # cell ids of the student edition

    def part(self, key: str) -> ProsePart | None:
        return next((p for p in self.prose if p.key == key), None)

    def to_dict(self, solutions: bool = True) -> dict:
        data = asdict(self)
        if not solutions:
            for part in data["prose"]:
                part["solution"] = ""
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Scheme":
        try:
            scheme = cls(str(data["chapter"]), {str(k): _points(v, f"points of {k}") for k, v in
                                                dict(data.get("code_points", {})).items()},
                         [ProsePart(str(p["label"]), int(p["part"]), _points(p["points"], "prose points"),
                                    str(p.get("rubric", DEFAULT_RUBRIC)), str(p.get("solution", "")),
                                    str(p.get("title", "")), str(p.get("answer_id", "")))
                          for p in data.get("prose", [])],
                         [str(i) for i in data.get("edition_ids", [])])
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed grading scheme ({type(exc).__name__}: {exc})") from None
        find_chapter(scheme.chapter)
        return scheme

    def max_prose(self) -> float:
        return round(sum(p.points for p in self.prose), 2)


def _points(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: {value!r} is not a number of points (a finite number >= 0)")
    return float(value)


def course_meta(cell_or_nb) -> dict:
    meta = cell_or_nb.get("metadata", {}).get(META, {})
    return meta if isinstance(meta, dict) else {}


def is_skipped(cell) -> bool:
    tags = cell.get("metadata", {}).get("tags", [])
    return isinstance(tags, list) and SKIP_TAG in tags


def prose_runs(nb, structure) -> list[tuple]:
    """``(gate, part, cell indices)`` of every prose part of the instructor notebook, in order."""
    from course_lib.tools import _notebook_format as fmt

    found = []
    for gate in structure.gates:
        part, run = 0, []
        for index in gate.cells + [None]:
            is_prose = (index is not None and structure.roles[index] == fmt.GATE_MARKDOWN
                        and nb.cells[index].cell_type == "markdown"
                        and course_meta(nb.cells[index]).get("answer", True) is not False)
            if is_prose:
                run.append(index)
                continue
            if run:
                part += 1
                found.append((gate, part, run))
                run = []
    return found


def scheme_from_notebook(nb, chapter: str, name: str = "notebook", edition_ids=(), prefix: str = "") -> Scheme:
    """The grading scheme of ``chapter`` from its instructor notebook (see the module docstring)."""
    from course_lib.tools import _notebook_format as fmt

    key = find_chapter(chapter).key
    structure = fmt.parse_notebook(nb, name)
    grading = course_meta(nb).get("grading", {})
    if not isinstance(grading, dict):
        raise ValueError(f"{name}: notebook metadata course.grading must be a mapping")
    labels = [e.label for e in exercises_for(key)]
    code_points = {e.label: float(e.points) for e in exercises_for(key)}
    for label, value in dict(grading.get("points", {})).items():
        if label not in code_points:
            raise ValueError(f"{name}: course.grading.points names {label!r}, which is not a self-checked "
                             f"exercise of {key} ({', '.join(labels)})")
        code_points[label] = _points(value, f"{name}: course.grading.points[{label!r}]")
    default_points = _points(grading.get("prose_points", DEFAULT_PROSE_POINTS), f"{name}: course.grading.prose_points")
    default_rubric = str(grading.get("rubric", DEFAULT_RUBRIC))
    titles = {label: fmt.source_of(nb.cells[index]) for label, index in structure.exercises if label}
    numbers = {label: f"{prefix}{n}" for n, (label, _) in enumerate(structure.exercises, start=1)}
    prose = []
    for gate, part, cells in prose_runs(nb, structure):
        label = gate.label
        answer_id = answer_cell_id(nb.cells[gate.start].get("id") or f"cell{gate.start}", part)
        meta = course_meta(nb.cells[cells[0]])
        where = f"{name}, cell index {cells[0]}"
        points = _points(meta.get("points", default_points), f"{where}: course.points")
        rubric = str(meta.get("rubric", default_rubric))
        solution = "\n\n".join(fmt.source_of(nb.cells[i]) for i in cells)
        prose.append(ProsePart(label, part, points, rubric, solution, _title(titles.get(label, ""), label,
                                                                              numbers.get(label)),
                               answer_id))
    return Scheme(key, code_points, prose, list(edition_ids))


def _title(statement: str, label: str, number) -> str:
    first = next((line for line in statement.splitlines() if line.lstrip("`~:").startswith("{exercise")), "")
    title = first.split("}", 1)[1].strip() if "}" in first else ""
    return f"Exercise {number}: {title}" if number and title else label


def scheme_for(chapter: str, book_dir: Path | None = None) -> Scheme:
    """The scheme of ``chapter`` from ``book_dir/<notebook>.ipynb`` (default: the repository's
    book/), with the ids of its student edition; the registry's defaults (no prose parts) when
    the notebook is not there (an installed course_lib)."""
    from course_lib.tools import _notebook_format as fmt
    from course_lib.tools.release import chapter_numbers, student_edition

    ch = find_chapter(chapter)
    path = Path(book_dir or BOOK_DIR) / f"{ch.notebook}.ipynb"
    if not path.exists():
        return Scheme(ch.key, {e.label: float(e.points) for e in exercises_for(ch.key)}, [], [])
    nb = fmt.read_notebook(path)
    edition = student_edition(nb, str(path), strict=False, warnings=[])
    number = chapter_numbers(path.parent).get(ch.notebook)
    return scheme_from_notebook(nb, ch.key, str(path), [c.get("id") for c in edition.cells if c.get("id")],
                                f"{number}." if number else "")


# ---------------------------------------------------------------------------------------------
# A submission's prose answers (read in the grader's process, as data: never run)
# ---------------------------------------------------------------------------------------------

FOUND, BY_ID, MISSING_ANSWER = "found", "found by cell id (its metadata was removed)", "no answer cell found"


def several_claim(n: int) -> str:
    """How an answer was found when ``n`` > 1 cells claim its part (the first is used)."""
    return f"found, but {n} cells claim this part (the first one is used)"
ANSWER_CHARS = 20000


def answer_cell_id(gate_start_id: str, part: int) -> str:
    """The id release gives the answer cell of ``part`` of the gate whose first cell has this id."""
    suffix = "answer" if part == 1 else f"answer-{part}"
    return f"{gate_start_id}-{suffix}"[:64]


def collect_answers(nb, scheme: Scheme) -> list[list]:
    """``[[key, text, how], ...]`` for every prose part of ``scheme`` in the submission ``nb``.

    An answer cell is found by its metadata (wherever the student moved it), else by the id the
    release gave it, else it is missing. Markdown cells the student
    added right after it (ids the student edition does not have) belong to the answer. The
    placeholder alone counts as no answer. Texts are cut at :data:`ANSWER_CHARS` characters."""
    from course_lib.tools.release import ANSWER_PLACEHOLDERS

    known = set(scheme.edition_ids)
    cells = list(getattr(nb, "cells", []) or [])
    where: dict[str, int] = {}
    claims: dict[str, int] = {}
    for index, cell in enumerate(cells):
        meta = course_meta(cell) if isinstance(cell, dict) else {}
        label, part = meta.get("answer"), meta.get("part")
        if isinstance(label, str) and isinstance(part, int):
            where.setdefault(f"{label}/prose{part}", index)
            claims[f"{label}/prose{part}"] = claims.get(f"{label}/prose{part}", 0) + 1
    by_id = {cell.get("id"): index for index, cell in enumerate(cells) if isinstance(cell, dict)}
    found = []
    for prose in scheme.prose:
        index, how = where.get(prose.key), FOUND
        if claims.get(prose.key, 0) > 1:   # a cell added above the real one could stand in for it
            how = several_claim(claims[prose.key])
        if index is None and prose.answer_id in by_id:
            index, how = by_id[prose.answer_id], BY_ID
        if index is None:
            found.append([prose.key, "", MISSING_ANSWER])
            continue
        texts = [_text_of(cells[index])]
        for cell in cells[index + 1:]:
            if cell.get("cell_type") != "markdown" or cell.get("id") in known or course_meta(cell).get("answer"):
                break
            texts.append(_text_of(cell))
        text = "\n\n".join(t for t in texts if t.strip())
        if text.strip() in ANSWER_PLACEHOLDERS:
            text = ""
        found.append([prose.key, text[:ANSWER_CHARS], how])
    return found


def _text_of(cell) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""
