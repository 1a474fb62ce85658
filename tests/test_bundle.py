"""The course bundle works on its own: unpacked in an empty folder, installed into a fresh virtual
environment with ``pip install -r requirements.txt`` from inside it (nothing from the repository),
it runs the warm-up and a chapter top to bottom.

pip finds the pinned packages where the machine's pip configuration says (here a local index and
wheel folder, elsewhere PyPI) and reuses its wheel cache, so the install takes about a minute on
an idle machine (about 2.5 min on a loaded 2-core one). The student bundle is checked for its
contents (its notebooks stop at the first stub by design).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from course_lib.tools import bundle

RUN = ("warmup.ipynb", "ch5_softmax.ipynb")  # the warm-up and the quickest chapter


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles")
    return {"instructor": bundle.write_bundle(out / "course.zip"),
            "student": bundle.write_bundle(out / "student.zip", edition="student")}


def _clean_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env["MPLBACKEND"] = "Agg"
    env["JUPYTER_DATA_DIR"] = str(home / "jupyter-data")
    env["PIP_NO_COMPILE"] = "1"  # faster; Python compiles on first import instead
    return env


@pytest.mark.parametrize("edition", ["instructor", "student"])
def test_bundle_holds_what_running_needs(zips, edition):
    with zipfile.ZipFile(zips[edition]) as zf:
        names = zf.namelist()
        top = {name.split("/")[0] for name in names}
        assert top == {bundle.FOLDER}, top
        files = {name.split("/", 1)[1] for name in names}
        assert {"README.md", "requirements.txt", *RUN} <= files
        assert any(f.startswith("wheels/course_lib-") and f.endswith(".whl") for f in files)
        assert {c for c in files if c.endswith(".ipynb")} == {p.name for p in bundle.chapter_notebooks(bundle.ROOT / "book")}
        requirements = zf.read(f"{bundle.FOLDER}/requirements.txt").decode()
        assert "./wheels/course_lib-" in requirements and "-e" not in requirements.split()
        assert "torch==" in requirements and "jupyterlab==" in requirements
        notebook = json.loads(zf.read(f"{bundle.FOLDER}/ch1_logistic_regression.ipynb"))
        text = json.dumps(notebook)
        if edition == "student":
            assert "Student edition" in text and "### BEGIN SOLUTION" not in text
            assert "solution-start" not in text
        else:
            assert "### BEGIN SOLUTION" in text


def test_bundle_installs_and_runs_in_a_fresh_environment(zips, tmp_path):
    with zipfile.ZipFile(zips["instructor"]) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / bundle.FOLDER
    env = _clean_env(tmp_path)
    python = os.environ.get("COURSE_BUNDLE_PYTHON") or sys._base_executable  # the system's Python 3.11
    subprocess.run([python, "-m", "venv", ".venv"], cwd=folder, env=env, check=True)
    venv_python = folder / ".venv" / "bin" / "python"
    install = subprocess.run([str(venv_python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
                             cwd=folder, env=env, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-3000:]
    where = subprocess.run([str(venv_python), "-c", "import course_lib; print(course_lib.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout
    assert str(folder / ".venv") in where, f"course_lib came from {where}, not the bundle's wheel"
    run = subprocess.run([str(folder / ".venv" / "bin" / "jupyter"), "execute", *RUN],
                         cwd=folder, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
