"""Execute notebooks in place, deterministically.

Each notebook runs in a fresh ``python3`` kernel, top to bottom, in its own folder, with
``COURSE_CHECK_STRICT=1`` so that a failing self-check stops it. No timing metadata is written
and stale ``metadata.execution`` entries are dropped, so running it twice leaves the files
byte-identical (PNG figures included): the stored outputs are exactly what nbval compares.

    python -m course_lib execute book/                  # every notebook under book/
    python -m course_lib execute book/ch1_logistic_regression.ipynb
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_lib.check import STRICT_ENV

KERNEL = "python3"
# Variables every execution gets, so that outputs do not depend on the caller's shell.
EXECUTION_ENV = {STRICT_ENV: "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                 "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


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
    return nb


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks or folders of notebooks")
    parser.add_argument("--timeout", type=int, default=600, help="seconds allowed per cell (default 600)")


def main(args) -> int:
    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    for path in notebooks:
        start = time.perf_counter()
        nb = execute_notebook(path, timeout=args.timeout)
        nbformat.write(nb, path)
        print(f"executed {path} in {time.perf_counter() - start:.1f} s")
    return 0
