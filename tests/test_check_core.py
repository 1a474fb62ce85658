"""The self-check machinery: outcomes, report format, strict mode, and the registry."""

import inspect

import numpy as np
import pytest

from course_lib import check
from course_lib.check import STRICT_ENV, Check, CheckFailed
from course_lib.check.registry import CHAPTERS, available_modules, exercises_for, find_chapter


@pytest.fixture
def lenient(monkeypatch):
    """The notebook and test environments set strict mode; these tests choose it explicitly."""
    monkeypatch.setenv(STRICT_ENV, "0")


def todo(*args):
    raise NotImplementedError("ex-test: replace this line with your code")


def test_all_passing(lenient, capsys):
    c = Check("ex-test-square", "a square")
    assert c.close("2² = 4", lambda: 2.0 ** 2, 4.0)
    assert c.that("positive", lambda: 9.0, lambda got: got > 0, expected="a positive number")
    result = c.done()
    out = capsys.readouterr().out
    assert result.ok and result.score == 1.0 and (result.passed, result.total) == (2, 2)
    assert out.splitlines() == ["Self-check for exercise ex-test-square: a square",
                                "  [PASS] 2² = 4", "  [PASS] positive", "  -> all 2 tests passed."]


def test_failure_shows_input_expected_received_tolerance_hint(lenient, capsys):
    c = Check("ex-test-half", "halving")
    assert not c.close("half of 3", lambda: 1.4, 1.5, rtol=1e-9, atol=0.0, inputs="x = 3",
                       hint="Divide by two.")
    result = c.done()
    out = capsys.readouterr().out
    assert not result.ok and result.score == 0.0
    assert "  [FAIL] half of 3" in out
    for line in ("input:     x = 3", "expected:  1.5", "received:  1.4", "tolerance: rtol=1e-09, atol=0",
                 "hint:      Divide by two.", "-> 0 of 1 tests passed."):
        assert line in out, line


def test_relative_tolerance_is_relative_to_the_expected_value(lenient):
    # |got − expected| <= atol + rtol·|expected|: with atol = 0 only rtol can pass a value, and it
    # scales with the expected value (large and tiny), not with the value received.
    c = Check("ex-test-rtol", "relative tolerance")
    assert c.close("large, inside rtol", lambda: 1e6 + 0.5, 1e6, rtol=1e-6, atol=0.0)
    assert not c.close("large, outside rtol", lambda: 1e6 + 2.0, 1e6, rtol=1e-6, atol=0.0)
    assert c.close("tiny, inside rtol", lambda: 1.0000005e-9, 1e-9, rtol=1e-6, atol=0.0)
    assert not c.close("tiny, outside rtol", lambda: 1.000002e-9, 1e-9, rtol=1e-6, atol=0.0)
    assert not c.close("relative to expected, not received", lambda: 2.0, 1.0, rtol=0.6, atol=0.0)
    assert c.close("elementwise", lambda: [100.5, -0.0101], [100.0, -0.01], rtol=0.011, atol=0.0)
    assert not c.close("elementwise, one outside", lambda: [100.5, -0.0102], [100.0, -0.01],
                       rtol=0.011, atol=0.0)
    assert c.close("the default rtol 1e-7", lambda: 1e3 * (1 + 5e-8), 1e3)
    assert not c.close("the default rtol 1e-7", lambda: 1e3 * (1 + 5e-7), 1e3)
    failed = [o.detail for o in c.done(quiet=True).outcomes if "outside" in o.description]
    assert all("tolerance: rtol=1e-06, atol=0" in d or "rtol=0.011" in d for d in failed)


def test_wrong_shape_fails(lenient):
    c = Check("ex-test-shape", "shapes")
    assert not c.close("shape kept", lambda: np.zeros(3), np.zeros((3, 1)))
    assert "wrong shape" in c.done(quiet=True).outcomes[0].detail


def test_nan_never_matches(lenient):
    c = Check("ex-test-nan", "nan")
    assert not c.close("nan", lambda: np.nan, 0.0, atol=1.0)


def test_not_implemented_reads_not_implemented_yet(lenient, capsys):
    c = Check("ex-test-todo", "a stub")
    c.close("first", lambda: todo(1.0), 1.0)
    c.close("second", lambda: todo(2.0), 1.0)
    c.raises("third", lambda: todo(), ValueError)
    result = c.done()
    out = capsys.readouterr().out
    assert result.not_implemented and result.passed == 0 and result.total == 3 and not result.ok
    assert result.waiting == 3 and result.score == 0.0 and result.missing_functions == ("todo",)
    assert out.splitlines() == [
        "Self-check for exercise ex-test-todo: a stub",
        "  [TODO] not implemented yet: `todo` (3 tests waiting): replace the "
        "`raise NotImplementedError(...)` line with your code, then run this cell again."]
    assert [o.status for o in result.outcomes] == ["not implemented"] * 3


def written(x):
    return 2.0 * x


def wrong(x):
    return 3.0 * x


def test_two_functions_one_a_stub_reports_what_ran(lenient, capsys):
    """Review item 9: the tests of the written function run, are reported (PASS/FAIL lines before
    the TODO line) and scored; the TODO line names the stub and counts only the tests waiting."""
    c = Check("ex-test-two", "two functions")
    c.close("written: 2·1", lambda: written(1.0), 2.0)
    c.close("wrong: 3·1 should be 2", lambda: wrong(1.0), 2.0, inputs="x = 1", hint="Double it.")
    c.close("stub: first", lambda: todo(1.0), 1.0)
    c.close("written: 2·2", lambda: written(2.0), 4.0)
    c.close("both", lambda: written(todo(1.0)), 2.0)
    result = c.done()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Self-check for exercise ex-test-two: two functions"
    assert out[1] == "  [PASS] written: 2·1"
    assert out[2] == "  [FAIL] wrong: 3·1 should be 2"
    assert "received:  3" in "\n".join(out[3:8]) and "hint:      Double it." in "\n".join(out[3:8])
    assert out[-3] == "  [PASS] written: 2·2"
    assert out[-2] == ("  [TODO] not implemented yet: `todo` (2 tests waiting): replace the "
                       "`raise NotImplementedError(...)` line with your code, then run this cell again.")
    assert out[-1] == "  -> 2 of 5 tests passed."
    assert (result.passed, result.total, result.waiting) == (2, 5, 2)
    assert result.not_implemented and result.score == pytest.approx(2 / 5) and not result.ok
    assert [o.status for o in result.outcomes] == ["passed", "failed", "not implemented", "passed",
                                                   "not implemented"]


def test_raises_expecting_not_implemented_error_passes(lenient):
    c = Check("ex-test-nie", "a function that must refuse")
    assert c.raises("refuses", lambda: todo(), NotImplementedError)
    assert c.done(quiet=True).ok


def test_a_tensor_that_requires_grad_is_a_failure_not_a_crash(lenient):
    """Review item 5: np.asarray(tensor) raises RuntimeError for a tensor that requires grad."""
    torch = pytest.importorskip("torch")
    c = Check("ex-test-tensor", "tensors")
    assert not c.close("a tensor", lambda: torch.ones(2, requires_grad=True) * 1.0, [1.0, 1.0])
    assert not c.close("a dict", lambda: {"p": 1.0}, 1.0)
    result = c.done(quiet=True)
    assert [o.status for o in result.outcomes] == ["failed", "failed"]
    assert "tensor.detach().numpy()" in result.outcomes[0].detail
    assert "could not be read as numbers" in result.outcomes[1].detail


def test_exception_is_a_failure_with_its_message(lenient):
    c = Check("ex-test-raise", "raising")

    def broken(x):
        raise ValueError("bad x")

    assert not c.close("call", lambda: broken(1), 1.0, inputs="x = 1", hint="Do not raise.")
    assert c.close("later tests still run", lambda: 2.0, 2.0)
    result = c.done(quiet=True)
    detail = result.outcomes[0].detail
    assert "raised:    ValueError: bad x" in detail and "input:     x = 1" in detail and "Do not raise." in detail
    assert (result.passed, result.total) == (1, 2)


def test_that_with_a_predicate_that_raises_fails(lenient):
    c = Check("ex-test-that", "that")
    assert not c.that("odd predicate", lambda: "text", lambda got: got > 0, expected="a number")
    assert c.done(quiet=True).outcomes[0].status == "failed"


def test_raises(lenient):
    c = Check("ex-test-raises", "raises")

    def picky(x):
        if x < 0:
            raise ValueError("negative")
        return x

    assert c.raises("refuses negatives", lambda: picky(-1), ValueError)
    assert not c.raises("accepts positives (so this test fails)", lambda: picky(1), ValueError)
    assert not c.raises("wrong exception", lambda: picky("a"), KeyError)
    result = c.done(quiet=True)
    assert [o.status for o in result.outcomes] == ["passed", "failed", "failed"]
    assert "returned 1" in result.outcomes[1].detail and "TypeError" in result.outcomes[2].detail


def test_strict_mode_raises_and_lenient_mode_returns(monkeypatch, capsys):
    monkeypatch.setenv(STRICT_ENV, "1")
    c = Check("ex-test-strict", "strict")
    c.close("wrong", lambda: 0.0, 1.0)
    with pytest.raises(CheckFailed, match="ex-test-strict"):
        c.done()
    monkeypatch.setenv(STRICT_ENV, "0")
    c = Check("ex-test-strict", "strict")
    c.close("wrong", lambda: 0.0, 1.0)
    assert not c.done()
    monkeypatch.setenv(STRICT_ENV, "1")
    c = Check("ex-test-strict", "strict")
    c.close("right", lambda: 1.0, 1.0)
    assert c.done().ok


def test_quiet_prints_nothing(lenient, capsys):
    c = Check("ex-test-quiet", "quiet")
    c.close("right", lambda: 1.0, 1.0)
    c.done(quiet=True)
    assert capsys.readouterr().out == ""


def test_repr_is_deterministic():
    c = Check("ex-test-repr", "repr")
    c.close("right", lambda: 1.0, 1.0)
    assert repr(c.done(quiet=True)) == "CheckResult('ex-test-repr', passed=1, total=1)"


# --- the registry --------------------------------------------------------------------------

def test_chapters_by_key_and_stem():
    assert find_chapter("warmup").notebook == "warmup"
    assert find_chapter("ch1_logistic_regression.ipynb").key == "ch1"
    with pytest.raises(ValueError, match="unknown chapter"):
        find_chapter("ch9")


def test_warmup_has_self_checked_exercises():
    assert len(exercises_for("warmup")) >= 3


def test_every_check_is_found_by_name_and_names_are_unique():
    """``course_lib.check.<name>`` must find each chapter's check, so names may not repeat."""
    seen = {}
    for module in available_modules():
        key = next(c.key for c in CHAPTERS if c.module == module)
        for ex in exercises_for(key):
            name = ex.check.__name__
            assert name not in seen, f"check {name} is defined by both {seen[name]} and {module}"
            seen[name] = module
            assert getattr(check, name) is ex.check
            assert len(inspect.signature(ex.check).parameters) == len(ex.functions), ex.label
            assert ex.label.startswith(f"ex-{key}-"), ex.label


@pytest.mark.parametrize("name", ["sigmoid", "np", "Value", "numerical_gradient", "Exercise_",
                                  "no_such_check"])
def test_only_listed_checks_resolve_by_name(name):
    """Review item 10: names the check modules import or define as helpers are not checks."""
    with pytest.raises(AttributeError, match=rf"no self-check called '{name}'; the self-checks are: .*"
                                             r"gradient_check"):
        getattr(check, name)
    assert not hasattr(check, name)


def test_check_modules_and_listed_checks_are_in_dir():
    assert check.ch2.gradient_check is check.gradient_check
    names = dir(check)
    assert "gradient_check" in names and "Check" in names and "sigmoid" not in names


def test_labels_are_unique_across_chapters():
    labels = [ex.label for module in available_modules()
              for ex in exercises_for(next(c.key for c in CHAPTERS if c.module == module))]
    assert len(labels) == len(set(labels))


def test_a_check_cell_shows_the_report_once_in_jupyter(capsys):
    """done() prints the report; displaying the result afterwards adds nothing, while a quiet
    check shows its report when displayed."""
    c = Check("ex-demo", "demo")
    c.close("one equals one", lambda: 1.0, 1.0)
    result = c.done()
    printed = capsys.readouterr().out
    assert "ex-demo" in printed
    result._ipython_display_()
    assert capsys.readouterr().out == ""

    quiet = Check("ex-demo", "demo")
    quiet.close("one equals one", lambda: 1.0, 1.0)
    quiet_result = quiet.done(quiet=True)
    assert capsys.readouterr().out == ""
    quiet_result._ipython_display_()
    assert capsys.readouterr().out == quiet_result.report() + "\n"
