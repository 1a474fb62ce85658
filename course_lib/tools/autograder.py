"""Write a Gradescope autograder bundle for one chapter.

    python -m course_lib autograder --chapter ch1 --out ch1-autograder.zip [--instructor-tests t.py]

The zip follows Gradescope's public autograder specification: at its top level

- ``setup.sh``: run once when Gradescope builds the image: installs the pinned requirements
  (PyTorch's CPU build first) and this course_lib from the bundle (``pip install .``);
- ``run_autograder``: run per submission, as root: grades the notebook in
  ``$AUTOGRADER_ROOT/submission`` (default ``/autograder``) and writes
  ``$AUTOGRADER_ROOT/results/results.json`` (:mod:`course_lib.grading.gradescope`);
- ``requirements.txt``: the course's exact pins, without the book-building and test tools;
- ``pyproject.toml`` and ``course_lib/``: the library's source, as this repository has it;
- ``autograder.json``: the chapter, the time and memory limits, and the grading scheme (points,
  prose parts and rubric lines; the model answers are left out);
- ``instructor_tests.py``: the instructor's tests, if given.

Upload the zip as the assignment's autograder ("Configure Autograder" > "Zip file upload"); add
the prose parts as manually graded questions (their keys are listed in each results.json).
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

from course_lib.grading.sandbox import DEFAULT_MEMORY_MB

ROOT = Path(__file__).resolve().parents[2]
#: requirements that the grader does not need in the container (the book and its tests)
NOT_IN_CONTAINER = ("jupyter-book", "sphinx-exercise", "sphinx-mathjax-offline", "jupyterlab", "pytest", "nbval",
                    "hypothesis")

SETUP_SH = """#!/usr/bin/env bash
# Gradescope image setup: Python 3.11+, the pinned requirements, this course_lib.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v python3 >/dev/null || ! python3 -c 'import sys; assert sys.version_info >= (3, 11)'; then
    apt-get update && apt-get install -y python3 python3-pip python3-venv
fi
apt-get install -y util-linux || true   # prlimit, setpriv, unshare
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install torch=={torch} --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -r requirements.txt
/autograder/venv/bin/pip install .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Grades /autograder/submission into /autograder/results/results.json (AUTOGRADER_ROOT moves /autograder).
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
mkdir -p "$ROOT/results"
# -I: neither the working directory nor PYTHON* variables reach the import path of this root
# process; and the working directory becomes one that only root can write
cd "$ROOT/results" || exit 1
AUTOGRADER_ROOT="$ROOT" exec "$PYTHON" -I -m course_lib.grading.gradescope
"""


def pinned_requirements(path: Path = ROOT / "requirements.txt") -> tuple[str, str]:
    """(requirements.txt for the container, torch's version)."""
    lines, torch = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text or text.startswith("#") or text.startswith("-e"):
            continue
        name = text.split("==")[0].strip().lower()
        if name == "torch":
            torch = text.split("==")[1].strip()
        if name in NOT_IN_CONTAINER:
            continue
        lines.append(text)
    for needed in ("ipykernel", "jupyter_client", "nbformat", "pyzmq"):
        if not any(line.lower().replace("-", "_").startswith(needed) for line in lines):
            try:
                from importlib.metadata import version

                lines.append(f"{needed.replace('_', '-')}=={version(needed)}")
            except Exception:  # noqa: BLE001 - a dependency of the others then
                pass
    return "\n".join(lines) + "\n", torch


def build_bundle(chapter: str, out: Path, *, instructor_tests: Path | None = None, book: Path | None = None,
                 cell_timeout: float = 60, notebook_timeout: float = 600, memory_mb: int = DEFAULT_MEMORY_MB) -> Path:
    from course_lib.check.registry import find_chapter
    from course_lib.grading.instructor import load_tests
    from course_lib.grading.scheme import scheme_for

    key = find_chapter(chapter).key
    scheme = scheme_for(key, book)
    if instructor_tests is not None:
        load_tests(instructor_tests, key)   # refuse a file that cannot be used, now rather than on Gradescope
    requirements, torch = pinned_requirements()
    config = {"chapter": key, "cell_timeout": cell_timeout, "notebook_timeout": notebook_timeout,
              "memory_mb": memory_mb, "scheme": scheme.to_dict(solutions=False)}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")

    def add(zf, name: str, data: bytes, mode: int = 0o644) -> None:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, data)

    with zipfile.ZipFile(tmp, "w") as zf:
        add(zf, "setup.sh", SETUP_SH.replace("{torch}", torch or "2.13.0").encode(), 0o755)
        add(zf, "run_autograder", RUN_AUTOGRADER.encode(), 0o755)
        add(zf, "requirements.txt", requirements.encode())
        add(zf, "autograder.json", (json.dumps(config, indent=1, sort_keys=True) + "\n").encode())
        add(zf, "pyproject.toml", (ROOT / "pyproject.toml").read_bytes())
        for path in sorted((ROOT / "course_lib").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                add(zf, str(path.relative_to(ROOT)), path.read_bytes())
        if (ROOT / "README.md").exists():
            add(zf, "README.md", (ROOT / "README.md").read_bytes())
        if instructor_tests is not None:
            add(zf, "instructor_tests.py", Path(instructor_tests).read_bytes())
    tmp.replace(out)
    return out


def unpack(bundle: Path, source: Path) -> None:
    """Unzip a bundle as Gradescope does (into /autograder/source), keeping the modes."""
    with zipfile.ZipFile(bundle) as zf:
        for info in zf.infolist():
            target = Path(source) / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zf.read(info))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)


def add_arguments(parser) -> None:
    parser.add_argument("--chapter", required=True, help="chapter key or notebook stem, e.g. ch1")
    parser.add_argument("--out", type=Path, required=True, help="the zip to write, e.g. ch1-autograder.zip")
    parser.add_argument("--instructor-tests", type=Path, default=None, metavar="PATH.py",
                        help="a file of your own tests (@instructor_test) to include")
    parser.add_argument("--book", type=Path, default=None, help="folder of the instructor notebooks (default book/)")
    parser.add_argument("--timeout", type=float, default=60, help="seconds per cell (default 60)")
    parser.add_argument("--notebook-timeout", type=float, default=600, help="seconds per notebook (default 600)")
    parser.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                        help=f"kernel memory limit (default {DEFAULT_MEMORY_MB})")


def main(args) -> int:
    try:
        out = build_bundle(args.chapter, args.out, instructor_tests=args.instructor_tests, book=args.book,
                           cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout, memory_mb=args.memory)
    except (ValueError, OSError) as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it in Gradescope under Configure Autograder > Zip file upload")
    return 0
