"""The judge and the remote proxy, without a kernel: the same check run in-process and through
RemoteFunction proxies over a LocalChannel (which round-trips every call through the wire format
and the kernel-side server) gives the same outcomes; mutating, raising and odd answers are judged
remotely as they are in-process; results are validated; the shortcut flag."""

import math

import numpy as np
import pytest

import test_checks_ch1 as t1
import test_checks_ch2 as t2
import test_checks_ch4 as t4
from course_lib.check import ch1, ch2, ch4, warmup
from course_lib.check.registry import exercises_for
from course_lib.functional import sigmoid
from course_lib.grading import judge
from course_lib.grading.remote import LocalChannel, RemoteFunction, StudentError


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_STRICT", "0")


def stable_sigmoid(s):
    s = np.asarray(s, dtype=float)
    e = np.exp(-np.abs(s))
    return np.where(s >= 0, 1 / (1 + e), e / (1 + e))


def naive_sigmoid(s):
    return 1 / (1 + np.exp(-np.asarray(s, dtype=float)))


def in_place_sigmoid(s):
    if isinstance(s, np.ndarray):
        s[...] = stable_sigmoid(s)
        return s
    return stable_sigmoid(s)


def bce_from_probabilities(p, y):
    return float(-np.mean(y * np.maximum(np.log(p), -100) + (1 - y) * np.maximum(np.log1p(-p), -100)))


def sigmoid_grad(s):
    p = stable_sigmoid(s)
    return p * (1 - p)


def stub(*args):
    raise NotImplementedError("replace this line with your code")


def remote(fns):
    names = [f"f{i}" for i in range(len(fns))]
    channel = LocalChannel(dict(zip(names, fns)))
    return [RemoteFunction(channel, n) for n in names], channel


def outcomes(result):
    return [(o.description, o.status) for o in result.outcomes]


CASES = [
    (warmup.warmup_sigmoid, (stable_sigmoid,)), (warmup.warmup_sigmoid, (naive_sigmoid,)),
    (warmup.warmup_sigmoid, (in_place_sigmoid,)), (warmup.warmup_bce, (bce_from_probabilities,)),
    (warmup.warmup_sigmoid_grad, (sigmoid_grad, stable_sigmoid)), (warmup.warmup_sigmoid_grad, (stub, stable_sigmoid)),
    (ch1.ch1_least_squares_scores, (t1.good_least_squares,)), (ch1.predict_proba, (t1.naive_predict_proba,)),
    (ch1.gd_step, (t1.good_gd_step,)), (ch1.logistic_hessian, (t1.good_hessian,)),
    (ch2.chain_rule_by_hand, (t2.good_chain_rule,)), (ch2.sigmoid_unit_backward, (t2.good_unit_backward,)),
    (ch2.value_softplus, (t2.good_softplus,)), (ch2.gradient_check, (t2.good_gradient_check,)),
    (ch2.ch2_hidden_layer_grads, (t2.good_hidden_grads,)), (ch2.ch2_squared_error_logit_grad, (t2.good_se_logit_grad,)),
    (ch4.init_output_bias, (t4.good_init,)), (ch4.bias_only_loss, (t4.good_loss,)),
    (ch4.class_weights, (t4.good_weights,)), (ch4.init_output_bias, (t4.stub,)),
]


@pytest.mark.parametrize("check, fns", CASES, ids=lambda v: getattr(v, "__name__", ""))
def test_remote_and_in_process_give_the_same_outcomes(check, fns):
    local = check(*fns)
    proxies, channel = remote(fns)
    far = check(*proxies)
    assert outcomes(far) == outcomes(local)
    assert far.missing_functions == local.missing_functions
    assert channel.calls > 0


def test_the_good_answers_pass_remotely():
    for check, fns in CASES:
        if check in (warmup.warmup_sigmoid,) and fns[0] is not stable_sigmoid or stub in fns or t4.stub in fns:
            continue
        if fns[0] is t1.naive_predict_proba:
            continue
        proxies, _ = remote(fns)
        assert check(*proxies).ok, check.__name__


def test_a_mutating_function_fails_the_unchanged_test_remotely():
    def mutating_predict_proba(X, w, b):
        p = sigmoid(X @ w + b)
        w *= 1.0 + 1e-9
        return p

    proxies, _ = remote([mutating_predict_proba])
    result = ch1.predict_proba(*proxies)
    failed = [o.description for o in result.outcomes if o.status == "failed"]
    assert failed == ["X and w are not modified"]


def test_errstate_of_the_grader_travels_with_the_call():
    proxies, _ = remote([naive_sigmoid])
    result = warmup.warmup_sigmoid(*proxies)
    status = dict(outcomes(result))
    assert status["no overflow, NaN or warning at s = ±1000 and ±1e300"] == "failed"
    assert "FloatingPointError" in result.outcomes[2].detail


def test_exceptions_are_replayed_from_a_whitelist_and_stubs_are_named():
    class Odd(Exception):
        pass

    def odd(s):
        raise Odd("x" * 5000)

    proxies, _ = remote([odd])
    with pytest.raises(StudentError) as info:
        proxies[0](1.0)
    assert str(info.value).startswith("Odd: xxx") and len(str(info.value)) < 600
    proxies, _ = remote([stub])
    with pytest.raises(NotImplementedError) as info:
        proxies[0](1.0)
    assert info.value.course_function == "stub"


def test_unsupported_return_values_fail_the_test_without_crashing():
    proxies, _ = remote([lambda s: (lambda: 0)])
    result = warmup.warmup_sigmoid(*proxies)
    assert result.total == 6 and result.passed == 0
    assert "unsupported value of type function" in result.outcomes[0].detail


def test_a_tensor_that_requires_grad_keeps_its_hint_remotely():
    import torch

    proxies, _ = remote([lambda s: torch.tensor(stable_sigmoid(s), requires_grad=True) * 1.0])
    result = warmup.warmup_sigmoid(*proxies)
    assert "tensor.detach().numpy()" in result.outcomes[0].detail


def test_judge_scores_validates_and_flags_missing_functions():
    sub = judge.empty_submission("zoe", "warmup")
    channel = LocalChannel({"stable_sigmoid": stable_sigmoid, "bce_from_probabilities": stub})
    judge.judge_chapter("warmup", channel, sub)
    assert [s.status for s in sub.scores] == ["scored", "scored", "missing"]
    assert [s.points for s in sub.scores] == [2.0, 0.0, 0.0]
    assert sub.scores[2].detail == "not defined: sigmoid_grad"
    judge.validate_submission(sub, "warmup")
    again = judge.submission_from_dict(sub.to_dict(), "warmup")
    assert again.total == sub.total == 2.0


@pytest.mark.parametrize("tamper", [
    lambda d: d["scores"][0].update(passed=99),
    lambda d: d["scores"][0].update(max_points=200.0, passed=6),
    lambda d: d["scores"][0].update(label="ex-made-up"),
    lambda d: d["scores"].append(dict(d["scores"][0])),
    lambda d: d["scores"][0].update(status="bonus"),
    lambda d: d["scores"][1].update(passed=-1),
    lambda d: d["scores"][0]["outcomes"].append(["extra", "passed", ""]),
    lambda d: d.update(status="perfect"),
])
def test_results_outside_the_rules_are_refused(tamper):
    sub = judge.empty_submission("zoe", "warmup")
    judge.judge_chapter("warmup", LocalChannel({"stable_sigmoid": stable_sigmoid,
                                                "bce_from_probabilities": bce_from_probabilities,
                                                "sigmoid_grad": sigmoid_grad}), sub)
    data = sub.to_dict()
    tamper(data)
    with pytest.raises(judge.InvalidResult):
        judge.submission_from_dict(data, "warmup")


def test_a_forged_reply_is_only_a_return_value():
    class Forger:
        """A channel whose replies claim more than a return value."""

        def request(self, text, nonce):
            from course_lib.grading import wire
            return wire.dumps({"nonce": nonce, "status": "returned", "value": 0.5,
                               "score": 1e9, "passed": 1000})

    proxies = [RemoteFunction(Forger(), "stable_sigmoid")]
    result = warmup.warmup_sigmoid(*proxies)
    assert result.total == 6 and result.passed == 2  # σ(0) = 0.5 and the symmetry of a constant


def test_replies_with_a_wrong_nonce_or_garbage_are_failed_calls():
    for reply in (None, "", "[", '{"dict": []}', "x" * 100, '{"float": "0x1p+99999"}'):
        class Channel:
            def request(self, text, nonce, reply=reply):
                return reply

        with pytest.raises(StudentError):
            RemoteFunction(Channel(), "f")(1.0)


SOURCES = [
    "import numpy as np\nfrom course_lib import check",
    "import course_lib.functional as F\nstable_sigmoid = F.sigmoid",
    "from course_lib.losses import bce as bce_from_probabilities",
    "def sigmoid_grad(s):\n    '''doc'''\n    return course_lib.functional.sigmoid_grad(s)\nimport course_lib",
]


def test_shortcuts_found_in_the_code():
    found = judge.find_shortcuts(SOURCES, ["stable_sigmoid", "bce_from_probabilities", "sigmoid_grad"])
    assert found == {"stable_sigmoid": "course_lib.functional.sigmoid",
                     "bce_from_probabilities": "course_lib.losses.bce"}
    found = judge.find_shortcuts(SOURCES[:3] + ["import course_lib\ndef sigmoid_grad(s):\n"
                                               "    return course_lib.functional.sigmoid_grad(s)",
                                               "def stable_sigmoid(s):\n    return 1 / (1 + np.exp(-s))"],
                                 ["stable_sigmoid", "sigmoid_grad"])
    assert found == {"sigmoid_grad": "course_lib.functional.sigmoid_grad"}
    assert judge.find_shortcuts(["from course_lib.functional import sigmoid\nref = sigmoid\n"
                                 "stable_sigmoid = ref", "x = (", "%time 1"], ["stable_sigmoid"]) == \
        {"stable_sigmoid": "course_lib.functional.sigmoid"}


def test_kernel_side_describe_flags_a_reference():
    from course_lib import functional

    sub = judge.empty_submission("zoe", "warmup")
    judge.judge_chapter("warmup", LocalChannel({"stable_sigmoid": functional.sigmoid}), sub)
    assert sub.shortcuts == {"stable_sigmoid": "course_lib.functional.sigmoid"}
    assert sub.scores[0].points == 2.0
    assert math.isclose(sub.total, 2.0)


def test_every_exercise_is_listed():
    assert [e.label for e in exercises_for("warmup")][0] == "ex-warmup-stable-sigmoid"
