"""Write the course bundle: what a reader of the website needs to run the chapters.

    python -m course_lib bundle logistic-regression-bce-course.zip            # instructor notebooks
    python -m course_lib bundle logistic-regression-bce-course-student.zip --student

The zip holds one folder with

- the chapter notebooks and the warm-up (the book's, with their outputs; or, with ``--student``,
  the student edition that ``python -m course_lib release`` writes); the results chapter 4 reads
  are package data inside the wheel (``course_lib/results/``);
- ``wheels/course_lib-<version>-py3-none-any.whl``, built from this working copy;
- ``requirements.txt``: the exact pins of the packages the notebooks import (taken from the
  repository's requirements.txt, plus myst-nb for ``glue`` and JupyterLab to open them) and the
  wheel, so that ``pip install -r requirements.txt`` from inside the unpacked folder installs
  everything;
- ``README.md``: how to install and open it.

Every HTML build of the book writes it into the site's ``downloads/`` (``book/_ext/course_editions.py``).
The zip is deterministic apart from the wheel's own build (fixed timestamps, sorted names).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDER = "logistic-regression-bce-course"
# The packages the notebooks import (and the kernel and the notebook interface), by their
# requirements.txt names; their pins come from the repository's requirements.txt.
RUNTIME = ("torch", "numpy", "matplotlib", "scikit-learn", "scipy", "threadpoolctl",
           "jupyterlab", "ipykernel", "nbformat", "nbclient")
# Imported by the notebooks but not pinned at the top level of requirements.txt (it comes with
# jupyter-book there): pinned here at the installed version.
EXTRA = ("myst-nb",)
ZIP_DATE = (2026, 1, 1, 0, 0, 0)

README = """# {title}: the notebooks, ready to run

This folder holds the {what} of the course, the library they import (`course_lib`, as a wheel
in `wheels/`) and the exact package versions they were run with.

## Install (once)

With Python 3.11, from inside this folder:

```bash
python3.11 -m venv .venv
source .venv/bin/activate            # Windows: .venv\\Scripts\\activate
pip install -r requirements.txt
```

PyTorch is pinned to `torch=={torch}`. On Linux without a GPU, install its CPU build first so
that pip does not fetch several GB of CUDA libraries:
`pip install torch=={torch} --index-url https://download.pytorch.org/whl/cpu`.

## Run

```bash
jupyter lab
```

Start with `warmup.ipynb`, then the chapters in order. Each notebook runs top to bottom in under
a minute on a laptop. {student_note}
"""
STUDENT_NOTE = ("This is the student edition: each exercise's solution is a stub to fill in, and "
                "the self-check cell after it says PASS or FAIL.")
INSTRUCTOR_NOTE = ("These are the book's notebooks with their solutions and stored outputs; the "
                   "course website offers a student edition without solutions.")


def pins(requirements: Path, names=RUNTIME) -> list[str]:
    """The ``name==version`` lines of ``requirements`` for ``names``, in that order."""
    found = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\s*([A-Za-z0-9_.-]+)\s*==\s*([^\s#;]+)", line)
        if match:
            found[match.group(1).lower()] = f"{match.group(1)}=={match.group(2)}"
    missing = [name for name in names if name.lower() not in found]
    if missing:
        raise ValueError(f"{requirements} pins no version of {', '.join(missing)}")
    return [found[name.lower()] for name in names]


def build_wheel(root: Path, out_dir: Path) -> Path:
    """A wheel of course_lib built from a clean copy of the working tree (nothing written there)."""
    with tempfile.TemporaryDirectory(prefix="course-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copyfile(root / name, src / name)
        shutil.copytree(root / "course_lib", src / "course_lib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
             "--no-index", "--wheel-dir", str(out_dir), str(src)],
            capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"building the course_lib wheel failed:\n{result.stderr[-2000:]}")
    wheels = sorted(out_dir.glob("course_lib-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip wrote no course_lib wheel to {out_dir}")
    return wheels[-1]


def student_notebooks(book_dir: Path, out_dir: Path) -> Path:
    """The student edition of the book's notebooks (``release``), written to ``out_dir``."""
    from course_lib.tools.release import release
    release(book_dir, out_dir)
    return out_dir


def chapter_notebooks(folder: Path) -> list[Path]:
    """The warm-up and chapter notebooks in ``folder`` that the course registry lists."""
    from course_lib.check.registry import CHAPTERS
    return [folder / f"{c.notebook}.ipynb" for c in CHAPTERS if (folder / f"{c.notebook}.ipynb").exists()]


def requirements_text(root: Path, wheel_name: str) -> str:
    lines = ["# Exact versions the notebooks were run with. From inside this folder:",
             "#   pip install -r requirements.txt",
             *pins(root / "requirements.txt")]
    for name in EXTRA:
        lines.append(f"{name}=={metadata.version(name)}")
    lines += ["# course_lib, the library the notebooks import", f"./wheels/{wheel_name}"]
    return "\n".join(lines) + "\n"


def write_bundle(target: Path, *, root: Path = ROOT, edition: str = "instructor",
                 notebooks: Path | None = None) -> Path:
    """Write the bundle zip to ``target``; ``notebooks`` is the folder to take them from
    (default: the book's, or for the student edition a fresh release of it)."""
    root, target = Path(root), Path(target)
    book = root / "book"
    with tempfile.TemporaryDirectory(prefix="course-bundle-") as tmp:
        tmp = Path(tmp)
        if notebooks is None:
            notebooks = student_notebooks(book, tmp / "student") if edition == "student" else book
        files: dict[str, Path | str] = {}
        for path in chapter_notebooks(Path(notebooks)):
            files[path.name] = path
        if not files:
            raise ValueError(f"no chapter notebooks in {notebooks}")
        wheel = build_wheel(root, tmp / "wheels")
        files[f"wheels/{wheel.name}"] = wheel
        files["requirements.txt"] = requirements_text(root, wheel.name)
        torch = pins(root / "requirements.txt", ("torch",))[0].split("==")[1]
        files["README.md"] = README.format(
            title="Logistic regression and binary cross-entropy",
            what="student notebooks" if edition == "student" else "notebooks",
            torch=torch, student_note=STUDENT_NOTE if edition == "student" else INSTRUCTOR_NOTE)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(files):
                info = zipfile.ZipInfo(f"{FOLDER}/{name}", ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                content = files[name]
                data = content.encode("utf-8") if isinstance(content, str) else Path(content).read_bytes()
                zf.writestr(info, data)
        partial.replace(target)
    return target


def add_arguments(parser) -> None:
    parser.add_argument("target", type=Path, help="the zip file to write")
    parser.add_argument("--student", action="store_true",
                        help="bundle the student edition (release) instead of the book's notebooks")


def main(args) -> int:
    path = write_bundle(args.target, edition="student" if args.student else "instructor")
    print(path)
    return 0
