"""`python -m course_lib execute` is deterministic and records how long each notebook took."""

from __future__ import annotations

import csv
import json
from argparse import Namespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course_lib.check import STRICT_ENV
from course_lib.tools import execute

CELLS = [
    "import os\nprint(os.environ.get(%r), os.environ.get('PYTHONHASHSEED'))" % STRICT_ENV,
    "print(hash('cross-entropy') % 1000)  # stable only with a fixed PYTHONHASHSEED",
    "import matplotlib.pyplot as plt\nplt.plot([0, 1], [0, 1])\nplt.show()",
    # The kernel flushes stdout on a 0.2 s timer: without merging, these would be stored as
    # two stream outputs on one run and one on another.
    "import time\nprint('before the pause')\ntime.sleep(0.5)\nprint('after the pause')",
]


def write_notebook(path, timed=False):
    nb = new_notebook(cells=[new_markdown_cell("# A tiny notebook")]
                      + [new_code_cell(source) for source in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if timed:  # what `jupyter execute` leaves behind
        nb.cells[1].metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00Z"}
    nbformat.write(nb, path)
    return path


def run(paths, record):
    args = Namespace(paths=paths, timeout=120, record=record, no_record=False)
    assert execute.main(args) == 0


@pytest.fixture(scope="module")
def executed_twice(tmp_path_factory):
    """A notebook executed once, its bytes, then executed again: (path, first bytes, record)."""
    book = tmp_path_factory.mktemp("book")
    path = write_notebook(book / "tiny.ipynb", timed=True)
    record = book / "_data" / "execution.csv"
    run([path], record)
    first = path.read_bytes()
    run([path], record)
    return path, first, record


def test_second_run_is_byte_identical(executed_twice):
    path, first, _ = executed_twice
    assert path.read_bytes() == first


def test_prints_of_one_cell_are_stored_as_one_stream(executed_twice):
    path, _, _ = executed_twice
    outputs = nbformat.read(path, as_version=4).cells[-1].outputs
    assert [o.output_type for o in outputs] == ["stream"]
    assert outputs[0].text == "before the pause\nafter the pause\n"


def test_no_timing_metadata_is_left(executed_twice):
    path, _, _ = executed_twice
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        assert "execution" not in cell["metadata"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_kernel_runs_in_the_strict_environment(executed_twice):
    path, _, _ = executed_twice
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].outputs[0]["text"] == "1 0\n"
    assert any("image/png" in output.get("data", {}) for output in nb.cells[3].outputs)


def test_record_has_one_row_per_notebook_with_versions(executed_twice):
    _, _, record = executed_twice
    with record.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["Notebook"] for row in rows] == ["tiny.ipynb"]
    row = rows[0]
    assert tuple(row) == execute.RECORD_COLUMNS
    assert float(row["Wall time (s)"]) > 0
    assert row["Code cells"] == str(len(CELLS))
    assert row["Python"].startswith("3.") and row["NumPy"][0].isdigit()


def test_record_keeps_other_rows_and_drops_deleted_notebooks(tmp_path):
    book = tmp_path / "book"
    book.mkdir()
    record = book / "_data" / "execution.csv"
    a, b = write_notebook(book / "a.ipynb"), write_notebook(book / "b.ipynb")
    outside = write_notebook(tmp_path / "outside.ipynb")
    rows = {path: {"Notebook": path.name, "Wall time (s)": "1.0"} for path in (a, b, outside)}
    assert execute.update_record(record, rows) == [a, b]
    b.unlink()
    execute.update_record(record, {a: {"Notebook": "a.ipynb", "Wall time (s)": "2.0"}})
    with record.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["Notebook"], row["Wall time (s)"]) for row in rows] == [("a.ipynb", "2.0")]


def test_no_record_leaves_the_record_alone(tmp_path):
    path = write_notebook(tmp_path / "n.ipynb")
    record = tmp_path / "record.csv"
    args = Namespace(paths=[path], timeout=120, record=record, no_record=True)
    assert execute.main(args) == 0
    assert not record.exists()


def test_bad_path_is_refused(tmp_path):
    with pytest.raises(ValueError, match="neither a folder nor an existing .ipynb"):
        execute.find_notebooks([tmp_path / "missing.ipynb"])
