"""Prose answers graded by hand: review pages, the manual-scores CSV, and merging it.

``grade`` writes, next to grades.csv,

- ``review/<label>.html``: one page per exercise with prose parts: its title, for each part the
  instructor's model answer, the rubric line and the points, then every student's answer one
  after another. Student text is hostile: it is HTML-escaped and shown as preformatted text,
  and the page forbids scripts, images and any other fetch (Content-Security-Policy);
- ``manual_scores_template.csv``: ``student, part, max_points, score, comment``, one row per
  student and prose part (``part`` is ``<label>/prose<n>``), scores already merged filled in.

``grade ... --manual scores.csv`` reads such a file (any column order; extra columns ignored;
an empty score means "not graded yet"), validates every row (a known student and part, a number
between 0 and the part's points, no row twice) and stops at the first bad row with its line
number, changing nothing. A valid file is stored as ``manual_scores.csv`` next to grades.csv
(atomically), and every later ``grade`` run of that folder merges it into grades.csv and the
feedback pages.
"""

from __future__ import annotations

import csv
import html
import io
import math
from pathlib import Path

from .reports import neutral, write_atomic

STORED = "manual_scores.csv"
COLUMNS = ("student", "part", "max_points", "score", "comment")
COMMENT_CHARS = 4000


class ManualScoresError(ValueError):
    """A manual-scores file that cannot be merged (the message names the row)."""


def _parts(plan) -> list:
    return list(getattr(getattr(plan, "scheme", None), "prose", None) or [])


def read_manual(path: Path, students, plan) -> dict:
    """``{(student, part key): (score or None, comment)}`` from a manual-scores CSV, validated."""
    parts = {p.key: p for p in _parts(plan)}
    students = set(students)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManualScoresError(f"{path}: cannot read it ({type(exc).__name__}: {exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("student", "part", "score") if c not in header]
    if missing:
        raise ManualScoresError(f"{path}: the header lacks the column(s) {', '.join(missing)} "
                                f"(expected {', '.join(COLUMNS)})")
    reader.fieldnames = header
    scores: dict = {}
    for row in reader:
        line = reader.line_num
        student = _cell(row.get("student")).lstrip("'")
        key = _cell(row.get("part"))
        raw = _cell(row.get("score"))
        where = f"{path}, line {line} ({student or '?'}, {key or '?'})"
        if None in row:
            raise ManualScoresError(f"{where}: more cells than columns")
        if student not in students:
            raise ManualScoresError(f"{where}: unknown student {student!r} (not among the graded notebooks)")
        if key not in parts:
            raise ManualScoresError(f"{where}: unknown part {key!r}; the chapter's prose parts are "
                                    + ", ".join(parts))
        if (student, key) in scores:
            raise ManualScoresError(f"{where}: a second row for this student and part")
        comment = _cell(row.get("comment"))[:COMMENT_CHARS]
        if raw == "":
            scores[(student, key)] = (None, comment)
            continue
        try:
            value = float(raw.replace(",", ".")) if raw.count(",") == 1 and "." not in raw else float(raw)
        except ValueError:
            raise ManualScoresError(f"{where}: the score {raw!r} is not a number") from None
        if not math.isfinite(value) or not 0 <= value <= parts[key].points:
            raise ManualScoresError(f"{where}: the score {raw} is outside 0 ... {parts[key].points:g}")
        scores[(student, key)] = (round(value, 2), comment)
    return scores


def _cell(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def manual_csv_text(scores: dict, students, plan) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for student in sorted(students):
        for part in _parts(plan):
            score, comment = scores.get((student, part.key), (None, ""))
            writer.writerow([neutral(student), part.key, f"{part.points:g}", "" if score is None else f"{score:g}",
                             neutral(comment) if comment else ""])
    return buffer.getvalue()


def write_template(subs, plan, path: Path, scores: dict | None = None) -> None:
    write_atomic(path, manual_csv_text(scores or {}, [s.student for s in subs], plan))


def load_stored(out_csv: Path, students, plan) -> dict:
    """The manual scores stored next to grades.csv ({} if none; a stored file that no longer
    fits, e.g. after a student was removed, raises ManualScoresError)."""
    path = Path(out_csv).parent / STORED
    return read_manual(path, students, plan) if path.exists() else {}


def store(scores: dict, students, plan, out_csv: Path) -> Path:
    path = Path(out_csv).parent / STORED
    write_atomic(path, manual_csv_text(scores, students, plan))
    return path


# ---------------------------------------------------------------------------------------------
# Review pages
# ---------------------------------------------------------------------------------------------

STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}"
         "pre{white-space:pre-wrap;word-wrap:break-word;background:#f6f6f6;padding:.6em;border:1px solid #ddd}"
         ".solution pre{background:#eef6ee}.rubric{background:#fff8e0;padding:.4em}"
         ".student{border-top:2px solid #999;margin-top:1.5em}.missing{color:#a00}")
CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def review_page(label: str, parts: list, subs, scores: dict | None = None) -> str:
    scores = scores or {}
    e = html.escape
    title = parts[0].title or label
    body = [f"<h1>{e(title)}</h1>", f"<p>Exercise <code>{e(label)}</code>: {len(subs)} submissions. "
            "Enter scores in manual_scores_template.csv (column <code>part</code> below), then run "
            "<code>python -m course_lib grade ... --manual that.csv</code>.</p>"]
    for part in parts:
        body += [f"<h2>Part <code>{e(part.key)}</code> ({part.points:g} points)</h2>",
                 f"<p class=\"rubric\"><b>Rubric:</b> {e(part.rubric)}</p>",
                 "<div class=\"solution\"><b>Instructor's solution:</b>"
                 f"<pre>{e(part.solution)}</pre></div>"]
    for sub in sorted(subs, key=lambda s: s.student):
        answers = {a[0]: a for a in sub.answers}
        body.append(f"<div class=\"student\" id=\"{e(sub.student)}\"><h3>{e(sub.student)}</h3>")
        for part in parts:
            answer = answers.get(part.key, [part.key, "", "no answer cell found"])
            score, comment = scores.get((sub.student, part.key), (None, ""))
            mark = f"{score:g} / {part.points:g}" if score is not None else f"not graded yet (/ {part.points:g})"
            body.append(f"<h4>{e(part.key)}: {e(mark)}</h4>")
            if answer[2] != "found":
                body.append(f"<p class=\"missing\">{e(answer[2])}</p>")
            body.append(f"<pre>{e(answer[1])}</pre>" if answer[1].strip() else "<p class=\"missing\">(empty)</p>")
            if comment:
                body.append(f"<p><b>Comment:</b> {e(comment)}</p>")
        body.append("</div>")
    return _page(title, body)


def write_review_pages(subs, plan, folder: Path, scores: dict | None = None) -> list[Path]:
    by_label: dict[str, list] = {}
    for part in _parts(plan):
        by_label.setdefault(part.label, []).append(part)
    written = []
    for label, parts in by_label.items():
        path = Path(folder) / f"{label}.html"
        write_atomic(path, review_page(label, parts, subs, scores))
        written.append(path)
    index = [f"<li><a href=\"{html.escape(p.name)}\">{html.escape(by_label[p.stem][0].title or p.stem)}</a></li>"
             for p in written]
    write_atomic(Path(folder) / "index.html", _page("Prose answers to review",
                                                    ["<h1>Prose answers to review</h1>", "<ul>", *index, "</ul>"]))
    return written
