"""Measure, on this machine, how long the course takes to run and build, and how big the site is.

    python -m course_lib bench                    # chapters, two builds, site size
    python -m course_lib bench --with-tests       # also the whole test suite (minutes)
    python -m course_lib bench --json bench.json  # also write the figures as JSON
    python -m course_lib bench --record           # also update book/_data/execution.csv
    python -m course_lib bench --grading          # only the grader's throughput (see below)
    python -m course_lib bench --fits             # only the fits against scikit-learn (below)

What is measured:

- each notebook's cold execution: a copy in a temporary folder, run top to bottom in a fresh
  kernel by the course's executor (the committed notebooks are not touched);
- the book build from the stored outputs (what readers and CI get), into a temporary folder;
- the book build with execution forced (a temporary copy of ``_config.yml`` with
  ``execute_notebooks: force``), into a temporary folder;
- the size of the built site (MB and number of files);
- the student website's build and each PDF's (instructor, student), from stored outputs (the
  PDFs only where XeLaTeX is installed);
- with ``--with-tests``, the test suite (``python -m pytest -q``);
- the fits: :class:`course_lib.models.LogisticRegression` against scikit-learn's
  ``LogisticRegression(solver="lbfgs")`` side by side, in this one process, at the fraud data's
  shape (284,807 × 29: ``load_fraud_data`` — the real CSV when it is present, otherwise its
  synthetic stand-in — through ``Preprocessor``), on the same objective (mean BCE, unpenalised
  and with scikit-learn's default C = 1, i.e. λ = 1/(C·N)) and the same gradient tolerance
  1e-8 (ours on the Euclidean norm, scikit-learn's on the largest entry, which is weaker).
  Each fit runs ``--fit-repeats`` times (3), the two alternating, and the median time counts.
  Reported: seconds, iterations, the final objective (both evaluated by
  :func:`course_lib.models.logistic_objective`), and the ratio of the times; also what one
  iteration of gradient descent costs next to one product Xw and one Xᵀr. Ratios, not
  absolute limits: the figures depend on the machine and on its load.

With ``--grading`` it measures only the grader: ``--copies`` filled-in submissions (the
instructor's solutions put back into the student edition) of the warm-up and of chapter 4, graded
with 2 workers (``--workers``), once with the sandbox and once with ``--no-sandbox``, and reports
submissions per minute and the sandbox's cost (target: at most 20 % slower).

Targets on the 2-core course machines: all chapters together under 120 s, and a build from stored
outputs under 30 s. The command reports; it never fails because a target is missed.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from course_lib.tools import execute, site_check

ROOT = site_check.ROOT
TARGETS = {"chapters_total_s": 120.0, "build_stored_s": 30.0}


def _timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def execute_cold(notebooks: list[Path], timeout: int) -> dict[Path, tuple[float, object]]:
    """Execute a copy of each notebook in its own temporary folder; {path: (seconds, notebook)}."""
    results = {}
    for path in notebooks:
        with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
            copy = Path(tmp) / path.name
            shutil.copy2(path, copy)
            results[path] = _timed(execute.execute_notebook, copy, timeout=timeout)
    return results


def site_size(html_dir: Path) -> tuple[float, int]:
    """(megabytes, number of files) of a built site."""
    files = [p for p in html_dir.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1e6, len(files)


def forced_config(tmp: Path) -> Path:
    """A copy of ``_config.yml`` that makes the build execute every notebook."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("execute", {}).update(execute_notebooks="force", timeout=600)
    path = tmp / "_config_force.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def run_bench(args) -> dict:
    notebooks = execute.find_notebooks([ROOT / "book"])
    figures: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                 "platform": platform.platform(terse=True)}}

    print(f"executing {len(notebooks)} notebooks cold (copies, fresh kernels) ...", flush=True)
    cold = execute_cold(notebooks, args.timeout)
    figures["chapters_s"] = {path.name: round(seconds, 2) for path, (seconds, _) in cold.items()}
    figures["chapters_total_s"] = round(sum(figures["chapters_s"].values()), 2)
    if args.record:
        rows = {path: execute.record_row(path, seconds, nb) for path, (seconds, nb) in cold.items()}
        execute.update_record(execute.RECORD, rows)

    with tempfile.TemporaryDirectory(prefix="course-bench-build-") as tmp:
        tmp = Path(tmp)
        print("building the book from stored outputs ...", flush=True)
        figures["build_stored_s"], html = _timed(site_check.build_book, tmp / "stored")
        figures["build_stored_s"] = round(figures["build_stored_s"], 2)
        megabytes, count = site_size(html)
        figures["site_mb"], figures["site_files"] = round(megabytes, 2), count
        print("building the book with every notebook executed ...", flush=True)
        with execute.execution_environment():
            seconds, _ = _timed(site_check.build_book, tmp / "forced", config=forced_config(tmp))
        figures["build_executed_s"] = round(seconds, 2)
        figures.update(editions_bench(tmp))

    if args.with_tests:
        print("running the test suite ...", flush=True)
        seconds, result = _timed(subprocess.run, [sys.executable, "-m", "pytest", "-q"], cwd=ROOT,
                                 capture_output=True, text=True)
        figures["tests_s"] = round(seconds, 2)
        figures["tests_exit_code"] = result.returncode
        lines = result.stdout.strip().splitlines()
        figures["tests_summary"] = lines[-1] if lines else ""
    print("fitting logistic regression, ours against scikit-learn's ...", flush=True)
    figures["fits"] = fits_bench(args.fit_repeats)
    figures["targets"] = {key: {"limit_s": limit, "met": figures[key] < limit}
                          for key, limit in TARGETS.items()}
    return figures


# --- the other builds (issue 17): student website, PDFs -----------------------------------------
def editions_bench(tmp: Path) -> dict:
    """Seconds of the student website's build, the Chinese website's and each English PDF's
    (``bash scripts/build.sh student``, ``... zh`` and ``... pdf`` do the same), from stored
    outputs, into ``tmp``; a PDF is ``None`` when XeLaTeX is not installed."""
    figures = {}
    print("building the student website ...", flush=True)
    try:
        seconds, _ = _timed(site_check.build_book, tmp / "student", edition="student", strict=True)
        figures["build_student_s"] = round(seconds, 2)
    except RuntimeError as exc:  # reported, not raised: the bench measures, it does not judge
        print(f"the student website did not build: {str(exc)[-500:]}", flush=True)
        figures["build_student_s"] = None
    print("building the Chinese website ...", flush=True)
    try:
        from course_lib.tools import translations
        config = translations.edition_config(tmp / "zh-config" / "_config.yml")
        seconds, _ = _timed(site_check.build_book, tmp / "zh", config=config, strict=True)
        figures["build_chinese_s"] = round(seconds, 2)
    except RuntimeError as exc:
        print(f"the Chinese website did not build: {str(exc)[-500:]}", flush=True)
        figures["build_chinese_s"] = None
    for edition in ("instructor", "student"):
        key = f"build_pdf_{edition}_s"
        if shutil.which("xelatex") is None or shutil.which("latexmk") is None:
            figures[key] = None
            continue
        print(f"building the {edition} PDF ...", flush=True)
        command = [*site_check.jupyter_book_command(), "build", str(ROOT), "--builder", "pdflatex",
                   "--path-output", str(tmp / f"pdf-{edition}"), "-n", "--keep-going"]
        seconds, result = _timed(subprocess.run, command, cwd=ROOT, capture_output=True, text=True,
                                 env={**os.environ, "COURSE_EDITION": edition})
        figures[key] = round(seconds, 2) if result.returncode == 0 else None
    return figures


def format_editions(figures: dict) -> list[tuple[str, str]]:
    rows = []
    for key, name in (("build_student_s", "build the student website"),
                      ("build_chinese_s", "build the Chinese website (zh/)"),
                      ("build_pdf_instructor_s", "build the PDF (solutions appendix)"),
                      ("build_pdf_student_s", "build the student PDF")):
        if key in figures:
            value = figures[key]
            rows.append((name, "not built (failed, or no XeLaTeX)" if value is None else f"{value:.1f} s"))
    return rows


FIT_TOL = 1e-8


def fits_bench(repeats: int = 3) -> dict:
    """Our Newton/IRLS against scikit-learn's lbfgs at the fraud data's shape (see the docstring)."""
    import warnings

    import numpy as np
    from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression

    from course_lib.data import Preprocessor, load_fraud_data
    from course_lib.models import LogisticRegression, logistic_objective

    data = load_fraud_data(seed=0)
    X = Preprocessor(data.feature_names).fit_transform(data.X)
    y = data.y
    n = X.shape[0]
    figures: dict = {"data": {"source": data.source, "N": int(n), "d": int(X.shape[1]),
                              "positives": int(y.sum())},
                     "tol": FIT_TOL, "repeats": repeats, "objectives": {}}
    for name, C in (("unpenalised", np.inf), ("C=1", 1.0)):
        l2 = 0.0 if np.isinf(C) else 1.0 / (C * n)
        times = {"ours_newton": [], "sklearn_lbfgs": []}
        for _ in range(max(1, repeats)):
            seconds, ours = _timed(LogisticRegression(l2=l2).fit, X, y, method="newton", tol=FIT_TOL)
            times["ours_newton"].append(seconds)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")     # a ConvergenceWarning is recorded below
                seconds, theirs = _timed(SklearnLogisticRegression(C=C, solver="lbfgs", tol=FIT_TOL,
                                                                   max_iter=10_000).fit, X, y)
            times["sklearn_lbfgs"].append(seconds)
        ours_objective = logistic_objective(X, y, ours.w, ours.b, l2)
        theirs_objective = logistic_objective(X, y, theirs.coef_[0], theirs.intercept_[0], l2)
        row = {"l2": l2,
               "ours_newton": {"seconds": round(float(np.median(times["ours_newton"])), 3),
                               "iterations": ours.n_iter, "objective": ours_objective,
                               "converged": ours.converged},
               "sklearn_lbfgs": {"seconds": round(float(np.median(times["sklearn_lbfgs"])), 3),
                                 "iterations": int(theirs.n_iter_[0]), "objective": theirs_objective}}
        row["time_ratio"] = round(row["ours_newton"]["seconds"] / row["sklearn_lbfgs"]["seconds"], 3)
        row["objective_difference"] = ours_objective - theirs_objective   # < 0: ours is lower
        figures["objectives"][name] = row

    # One iteration of gradient descent (default step 1/M) against one Xw and one Xᵀr.
    steps = 20
    w, r = np.zeros(X.shape[1]), np.full(n, 0.5)
    pass_times = []
    for _ in range(steps):
        start = time.perf_counter()
        _ = X @ w
        _ = X.T @ r
        pass_times.append(time.perf_counter() - start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, gd = _timed(LogisticRegression().fit, X, y, method="gd", max_iter=steps, tol=0.0,
                             warn=False)
    figures["gd"] = {"iterations": steps, "lr": gd.fit_info_["lr"],
                     "seconds_per_iteration": round(seconds / steps, 5),
                     "seconds_per_Xw_and_XTr": round(float(np.median(pass_times)), 5)}
    return figures


def format_fits(figures: dict) -> str:
    data = figures["data"]
    lines = [f"fits at {data['N']:,} × {data['d']} ({data['source']} fraud data, {data['positives']} "
             f"positives), tol {figures['tol']:g}, median of {figures['repeats']} runs each:"]
    for name, row in figures["objectives"].items():
        ours, theirs = row["ours_newton"], row["sklearn_lbfgs"]
        lines.append(f"  {name:<11} ours newton {ours['seconds']:6.3f} s ({ours['iterations']} it, "
                     f"L = {ours['objective']:.12f})   sklearn lbfgs {theirs['seconds']:6.3f} s "
                     f"({theirs['iterations']} it, L = {theirs['objective']:.12f})   time ratio "
                     f"{row['time_ratio']:.2f}, L difference {row['objective_difference']:+.1e}")
    gd = figures["gd"]
    lines.append(f"  gradient descent (lr = 1/M = {gd['lr']:.3f}): {1e3 * gd['seconds_per_iteration']:.1f} ms "
                 f"per iteration; one Xw and one Xᵀr: {1e3 * gd['seconds_per_Xw_and_XTr']:.1f} ms")
    return "\n".join(lines)


GRADING_CHAPTERS = ("warmup", "ch4")
SANDBOX_COST_TARGET = 0.20


GRADING_RATIO_TARGET = 0.25   # wall time per submission / one cold execution of the chapter (issue 15)


def _cold_in_copy(book: Path, name: str) -> float:
    """Seconds of one cold execution of ``book/name`` in a temporary copy (chapter 4's sweep
    results are package data, so nothing else needs copying)."""
    with tempfile.TemporaryDirectory(prefix="course-bench-cold-") as tmp:
        shutil.copy2(book / name, Path(tmp) / name)
        seconds, _ = _timed(execute.execute_notebook, Path(tmp) / name, timeout=600)
    return seconds


def grading_bench(copies: int = 4, workers: int = 2, chapters=GRADING_CHAPTERS, book: Path | None = None) -> dict:
    """Submissions per minute of the grader with and without the sandbox (see the docstring), and
    the wall time per sandboxed submission over one cold execution of the chapter in the same run
    (``book``: the instructor notebooks, default the repository's; cells tagged grade-skip there
    are skipped by the grader)."""
    import nbformat

    from course_lib.check.registry import find_chapter
    from course_lib.grading.supervisor import grade_folder
    from course_lib.tools import _notebook_format as fmt
    from course_lib.tools.release import release

    book = Path(book or ROOT / "book")
    figures: dict = {"copies": copies, "workers": workers, "chapters": {}}
    with tempfile.TemporaryDirectory(prefix="course-bench-grading-") as tmp:
        tmp = Path(tmp)
        release(book, tmp / "student")
        for key in chapters:
            name = find_chapter(key).notebook + ".ipynb"
            solutions = fmt.solutions_by_label(nbformat.read(book / name, as_version=4))
            filled = fmt.fill_stubs(nbformat.read(tmp / "student" / name, as_version=4), solutions)
            folder = tmp / f"submissions-{key}"
            folder.mkdir()
            for n in range(copies):
                nbformat.write(filled, folder / f"student{n:03d}.ipynb")
            row = {}
            for label, use_sandbox in (("sandbox", True), ("no_sandbox", False)):
                print(f"grading {copies} copies of {name} with {workers} workers, "
                      f"{'with' if use_sandbox else 'without'} the sandbox ...", flush=True)
                out = tmp / f"grades-{key}-{label}" / "grades.csv"
                seconds, subs = _timed(grade_folder, folder, key, out, workers=workers, use_sandbox=use_sandbox,
                                       resume=False)
                row[label] = {"seconds": round(seconds, 2), "per_minute": round(60 * copies / seconds, 2),
                              "full_marks": sum(s.total == s.max_total for s in subs)}
            row["sandbox_cost"] = round(row["sandbox"]["seconds"] / row["no_sandbox"]["seconds"] - 1, 3)
            row["target_met"] = row["sandbox_cost"] <= SANDBOX_COST_TARGET
            print(f"one cold execution of {name} ...", flush=True)
            cold = _cold_in_copy(book, name)
            row["cold_s"] = round(cold, 2)
            row["ratio"] = round(row["sandbox"]["seconds"] / copies / cold, 3)
            row["ratio_target_met"] = row["ratio"] <= GRADING_RATIO_TARGET
            figures["chapters"][key] = row
    return figures


def format_grading(figures: dict) -> str:
    lines = [f"grading throughput, {figures['copies']} submissions per run, {figures['workers']} workers:"]
    for key, row in figures["chapters"].items():
        on, off = row["sandbox"], row["no_sandbox"]
        lines.append(f"  {key:<7} sandbox {on['per_minute']:6.2f}/min ({on['seconds']:.1f} s, {on['full_marks']} full marks)"
                     f"   no sandbox {off['per_minute']:6.2f}/min ({off['seconds']:.1f} s)"
                     f"   cost {100 * row['sandbox_cost']:+.1f} % (target <= {100 * SANDBOX_COST_TARGET:.0f} %: "
                     f"{'met' if row['target_met'] else 'MISSED'})")
        if "ratio" in row:
            lines.append(f"  {'':<7} per sandboxed submission / one cold execution ({row['cold_s']:.1f} s): "
                         f"{row['ratio']:.3f} (target <= {GRADING_RATIO_TARGET}: "
                         f"{'met' if row['ratio_target_met'] else 'MISSED'})")
    return "\n".join(lines)


def format_table(figures: dict) -> str:
    """The figures as an aligned text table."""
    rows = [(f"execute {name} (cold)", f"{seconds:.1f} s")
            for name, seconds in figures["chapters_s"].items()]
    target = figures["targets"]
    rows += [
        ("execute all notebooks", f"{figures['chapters_total_s']:.1f} s"
         f"  (target < {target['chapters_total_s']['limit_s']:.0f} s: "
         f"{'met' if target['chapters_total_s']['met'] else 'MISSED'})"),
        ("build from stored outputs", f"{figures['build_stored_s']:.1f} s"
         f"  (target < {target['build_stored_s']['limit_s']:.0f} s: "
         f"{'met' if target['build_stored_s']['met'] else 'MISSED'})"),
        ("build with execution forced", f"{figures['build_executed_s']:.1f} s"),
        ("built site", f"{figures['site_mb']:.1f} MB in {figures['site_files']} files"),
        *format_editions(figures),
    ]
    if "tests_s" in figures:
        rows.append(("test suite", f"{figures['tests_s']:.1f} s, exit {figures['tests_exit_code']}"
                                   f" ({figures['tests_summary']})"))
    machine = figures["machine"]
    width = max(len(name) for name, _ in rows)
    lines = [f"machine: Python {machine['python']}, {machine['cpus']} CPUs, {machine['platform']}"]
    lines += [f"{name:<{width}}  {value}" for name, value in rows]
    if "fits" in figures:
        lines.append(format_fits(figures["fits"]))
    return "\n".join(lines)


def add_arguments(parser) -> None:
    parser.add_argument("--with-tests", action="store_true", help="also time the whole test suite")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON")
    parser.add_argument("--record", action="store_true",
                        help="also update the execution record from the cold runs")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--grading", action="store_true",
                        help="only measure the grader's throughput, with and without the sandbox")
    parser.add_argument("--copies", type=int, default=4, help="submissions per grading run (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="grading workers (default 2)")
    parser.add_argument("--book", type=Path, default=None,
                        help="with --grading: the folder of instructor notebooks to grade (default book/)")
    parser.add_argument("--fits", action="store_true",
                        help="only compare our logistic-regression fits with scikit-learn's")
    parser.add_argument("--fit-repeats", type=int, default=3,
                        help="runs of each fit in the comparison; the median counts (default 3)")


def main(args) -> int:
    if args.grading:
        figures, formatter = grading_bench(copies=max(1, args.copies), workers=max(1, args.workers), book=args.book), format_grading
    elif args.fits:
        figures, formatter = fits_bench(max(1, args.fit_repeats)), format_fits
    else:
        figures, formatter = run_bench(args), format_table
    print()
    print(formatter(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0
