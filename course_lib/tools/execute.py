"""Execute notebooks in place, deterministically.

Each notebook runs in a fresh ``python3`` kernel, top to bottom, in its own folder, with
``COURSE_CHECK_STRICT=1`` so that a failing self-check stops it. No timing metadata is written
and stale ``metadata.execution`` entries are dropped, so running it twice leaves the files
byte-identical (PNG figures included): the stored outputs are exactly what nbval compares.

    python -m course_lib execute book/                  # every notebook under book/
    python -m course_lib execute book/ch1_logistic_regression.ipynb

Each run also updates the execution record, ``book/_data/execution.csv`` (one row per notebook:
wall time, number of code cells, and the versions of Python and of the main packages it ran
with), which the book's execution page shows. The record is a separate file, so the notebooks
stay byte-identical; only notebooks inside the book folder are recorded (``--no-record`` skips it).
"""

from __future__ import annotations

import csv
import os
import platform
import sys
import time
from importlib import metadata
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_lib.check import STRICT_ENV

KERNEL = "python3"
# Variables every execution gets, so that outputs do not depend on the caller's shell.
EXECUTION_ENV = {STRICT_ENV: "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                 "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "book" / "_data" / "execution.csv"
# Packages whose versions a chapter's outputs depend on, as (column, distribution name).
RECORDED_PACKAGES = (("NumPy", "numpy"), ("PyTorch", "torch"), ("Matplotlib", "matplotlib"),
                     ("Jupyter Book", "jupyter-book"))
RECORD_COLUMNS = ("Notebook", "Wall time (s)", "Code cells", "Python",
                  *(column for column, _ in RECORDED_PACKAGES), "CPUs")


def find_notebooks(paths: list[Path]) -> list[Path]:
    """Every ``.ipynb`` named or found under the given paths (build and checkpoint copies skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.ipynb"))
                         if not {"_build", ".ipynb_checkpoints"} & set(p.parts))
        elif path.suffix == ".ipynb" and path.exists():
            found.append(path)
        else:
            raise ValueError(f"{path} is neither a folder nor an existing .ipynb file")
    return found


@contextmanager
def execution_environment():
    """Set :data:`EXECUTION_ENV` for the kernels started inside the block."""
    saved = {k: os.environ.get(k) for k in EXECUTION_ENV}
    os.environ.update(EXECUTION_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def strip_execution_metadata(nb: nbformat.NotebookNode) -> None:
    """Remove per-cell timing metadata that an earlier ``jupyter execute`` may have left."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.metadata.pop("collapsed", None)


def merge_streams(nb: nbformat.NotebookNode) -> None:
    """Join consecutive ``stream`` outputs of the same name (stdout, stderr) in each cell.

    The kernel flushes printed text on a timer, so one cell's prints may arrive as one chunk
    or as several depending on how busy the machine is. Joining them makes the stored outputs
    the same on every run, which is what keeps re-execution byte-identical.
    """
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.get("outputs", []):
            if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == out.name):
                merged[-1].text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


def execute_notebook(path: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Run one notebook in a fresh kernel in its own folder and return the executed copy."""
    nb = nbformat.read(path, as_version=4)
    strip_execution_metadata(nb)
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "Python 3", "language": "python"}
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, record_timing=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    with execution_environment():
        client.execute()
    strip_execution_metadata(nb)
    merge_streams(nb)
    return nb


def environment() -> dict[str, str]:
    """The versions a notebook runs with (no dates, no host names): Python, packages, CPU count."""
    env = {"Python": platform.python_version()}
    for column, distribution in RECORDED_PACKAGES:
        try:
            env[column] = metadata.version(distribution)
        except metadata.PackageNotFoundError:
            env[column] = "not installed"
    env["CPUs"] = str(os.cpu_count() or 1)
    return env


def record_row(path: Path, seconds: float, nb: nbformat.NotebookNode) -> dict[str, str]:
    """One row of the execution record for the notebook at ``path``."""
    code_cells = sum(cell.cell_type == "code" for cell in nb.cells)
    return {"Notebook": path.name, "Wall time (s)": f"{seconds:.1f}", "Code cells": str(code_cells),
            **environment()}


def update_record(record: Path, rows: dict[Path, dict[str, str]]) -> list[Path]:
    """Merge ``rows`` (keyed by notebook path) into the CSV ``record``; return the paths recorded.

    Only notebooks in the book folder the record belongs to (the record's grandparent) are
    recorded; rows of notebooks that no longer exist are dropped; rows are sorted by name.
    """
    book = record.resolve().parent.parent
    existing: dict[str, dict[str, str]] = {}
    if record.exists():
        with record.open(newline="", encoding="utf-8") as handle:
            existing = {row["Notebook"]: row for row in csv.DictReader(handle)}
    recorded = [path for path in rows if path.resolve().parent == book]
    for path in recorded:
        existing[path.name] = rows[path]
    kept = [existing[name] for name in sorted(existing) if (book / name).exists()]
    record.parent.mkdir(parents=True, exist_ok=True)
    with record.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RECORD_COLUMNS, lineterminator="\n",
                                extrasaction="ignore", restval="")
        writer.writeheader()
        writer.writerows(kept)
    return recorded


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")
    parser.add_argument("--record", type=Path, default=RECORD,
                        help=f"execution record to update (default {RECORD.relative_to(ROOT)})")
    parser.add_argument("--no-record", action="store_true", help="do not update the execution record")


def main(args) -> int:
    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    rows = {}
    for path in notebooks:
        start = time.perf_counter()
        nb = execute_notebook(path, timeout=args.timeout)
        seconds = time.perf_counter() - start
        nbformat.write(nb, path)
        rows[path] = record_row(path, seconds, nb)
        print(f"executed {path} in {seconds:.1f} s")
    if not args.no_record:
        recorded = update_record(args.record, rows)
        if recorded:
            print(f"recorded {len(recorded)} notebook(s) in {args.record}")
    return 0
