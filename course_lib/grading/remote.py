"""Calling a student's function across the sandbox: the proxy and the kernel-side server.

The grader's side is :class:`RemoteFunction`: calling it encodes the arguments as plain data
(:mod:`.wire`), asks the student's kernel, through a *channel*, to call the student's function of
that name, and decodes the reply strictly. What comes back is only ever "what the student's
function returned" (or raised), which the judge then compares in its own process: a forged
reply can at most claim a return value, never a score.

The kernel's side is :func:`serve`, run by the grader as a one-line cell
``__import__("course_lib.grading.remote", fromlist=["serve"]).serve("<request>")`` in the
student's kernel. It looks the function up in the notebook's namespace, calls it (directly, or
through a whitelisted probe of :mod:`course_lib.check.probes` that builds a non-plain argument such
as an autodiff ``Value`` or a torch model), and publishes the reply as a ``display_data`` message
with the MIME type :data:`MIME`, tagged with the call's random nonce. The server runs in the
student's process and may be tampered with; that changes only the student's own replies.

A request also carries the grader's ``np.geterr()`` and whether RuntimeWarnings raise, so that a
check's "no overflow, no warning" stays strict in the kernel. After the call the reply carries
the state of every ndarray or tensor argument the call changed, and the proxy copies it back into
the caller's arrays: "the inputs are left unchanged" tests work remotely too.
"""

from __future__ import annotations

import builtins
import secrets
import warnings
from typing import Any

import numpy as np

from . import wire

MIME = "application/x.course-lib.grader-reply"
#: the exceptions a proxy re-raises as themselves; any other becomes a StudentError
REPLAYED_EXCEPTIONS = ("ValueError", "TypeError", "NotImplementedError", "FloatingPointError",
                       "ZeroDivisionError", "IndexError", "KeyError", "AssertionError", "RuntimeError",
                       "OverflowError", "ArithmeticError", "AttributeError")
MESSAGE_CHARS = 500
_ERR_MODES = ("ignore", "warn", "raise", "print")


class StudentError(Exception):
    """The student's function raised an exception the grader does not replay as itself, or its
    reply could not be read."""


class CallTimeout(BaseException):
    """A call to the student's function ran out of time (the kernel was interrupted).

    A BaseException, so that the check stops and the judge scores the exercise as timed out."""


class KernelLost(BaseException):
    """The student's kernel died or stopped answering during a call."""


# ---------------------------------------------------------------------------------------------
# The kernel's side
# ---------------------------------------------------------------------------------------------

def _exception_info(exc: BaseException) -> dict:
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - an exception whose __str__ fails
        message = "<unprintable message>"
    info = {"type": type(exc).__name__[:80], "message": message[:2000], "function": ""}
    if isinstance(exc, NotImplementedError):
        from course_lib.check._core import _raiser

        try:
            info["function"] = _raiser(exc)[:200]
        except Exception:  # noqa: BLE001
            pass
    return info


def _after(value: Any) -> Any:
    """The state of an argument after the call, if it is an array or a tensor (else None)."""
    if type(value) is np.ndarray:
        return value
    if type(value).__module__ == "torch" and type(value).__name__ in ("Tensor", "Parameter"):
        return value
    return None


def _snapshot(value: Any) -> Any:
    """A copy of an array or tensor argument before the call (None for anything else)."""
    value = _after(value)
    if value is None:
        return None
    return value.copy() if type(value) is np.ndarray else value.detach().clone()


def _changed(value: Any, before: Any) -> Any:
    """The argument's state after the call if the call changed it, else None (nothing to send)."""
    if before is None:
        return None
    try:
        if type(value) is np.ndarray:
            same = value.shape == before.shape and value.dtype == before.dtype and \
                np.array_equal(value, before, equal_nan=value.dtype.kind in "fc")
        else:
            import torch

            same = tuple(value.shape) == tuple(before.shape) and value.dtype == before.dtype and \
                bool(torch.equal(value.detach(), before) or torch.allclose(value.detach(), before, rtol=0, atol=0,
                                                                           equal_nan=True))
    except Exception:  # noqa: BLE001 - when in doubt, send it
        same = False
    return None if same else value


def _errstate(requested: Any) -> dict:
    state = {}
    if type(requested) is dict:
        for key in ("divide", "over", "under", "invalid"):
            mode = requested.get(key)
            state[key] = mode if mode in _ERR_MODES else "warn"
    return state


def _describe(namespace: dict, name: str) -> dict:
    fn = namespace.get(name)
    info = {"defined": name in namespace, "callable": callable(fn), "module": "", "reference": ""}
    if callable(fn):
        module = getattr(fn, "__module__", "")
        info["module"] = module[:200] if isinstance(module, str) else ""
        import sys

        for module_name, module in list(sys.modules.items()):
            if not module_name.startswith("course_lib.") or module_name.startswith("course_lib.check") \
                    or module_name.startswith("course_lib.grading"):
                continue
            for attr, value in list(vars(module).items()):
                if value is fn:
                    info["reference"] = f"{module_name}.{attr}"[:200]
                    break
            if info["reference"]:
                break
    return info


def handle(namespace: dict, request_text: str) -> str:
    """Answer one request (JSON text) with a reply (JSON text); never raises."""
    nonce = ""
    try:
        request = wire.loads(request_text)
        if type(request) is not dict:
            raise wire.WireError("a request is a dict")
        nonce = str(request.get("nonce", ""))[:64]
        name = request.get("function")
        if type(name) is not str:
            raise wire.WireError("no function named")
        if request.get("op") == "describe":
            return wire.dumps({"nonce": nonce, "status": "described", "value": _describe(namespace, name)})
        fn = namespace.get(name)
        if not callable(fn):
            raise NameError(f"{name} is not defined as a function in the notebook")
        args = request.get("args", [])
        kwargs = request.get("kwargs", {})
        if type(args) is not list or type(kwargs) is not dict:
            raise wire.WireError("args must be a list and kwargs a dict")
        probe = request.get("probe")
        target = fn
        if probe is not None:
            from course_lib.check import probes

            if probe not in probes.PROBES:
                raise wire.WireError(f"unknown probe {probe!r}")
            target, args = getattr(probes, probe), [fn, *args]
        offset = 1 if probe is not None else 0
        before = [_snapshot(a) for a in args[offset:]]
        kw_before = {k: _snapshot(v) for k, v in kwargs.items()}
        try:
            with np.errstate(**_errstate(request.get("errstate"))), warnings.catch_warnings():
                if request.get("warnings_error") is True:
                    warnings.simplefilter("error", RuntimeWarning)
                value = target(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the student's exception is the answer
            return wire.dumps({"nonce": nonce, "status": "raised", "exception": _exception_info(exc),
                               "args_after": [_changed(a, b) for a, b in zip(args[offset:], before)],
                               "kwargs_after": {k: _changed(v, kw_before[k]) for k, v in kwargs.items()}})
        try:
            return wire.dumps({"nonce": nonce, "status": "returned", "value": value,
                               "args_after": [_changed(a, b) for a, b in zip(args[offset:], before)],
                               "kwargs_after": {k: _changed(v, kw_before[k]) for k, v in kwargs.items()}})
        except wire.WireError as exc:
            return wire.dumps({"nonce": nonce, "status": "error",
                               "message": f"the value returned cannot be sent to the grader: {exc}"})
    except BaseException as exc:  # noqa: BLE001 - a malformed request, a NameError, SystemExit ...
        if isinstance(exc, KeyboardInterrupt):
            raise
        try:
            return wire.dumps({"nonce": nonce, "status": "error",
                               "message": f"{type(exc).__name__}: {exc}"[:MESSAGE_CHARS]})
        except BaseException:  # noqa: BLE001
            return '{"dict":[["status","error"]]}'


def serve_file(path: str) -> None:
    """Kernel side: answer the request stored in ``path`` (the grader's read-only inbox, used for
    large requests: a cell holding megabytes of text is slow to run)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read(wire.DEFAULT_CAPS.text_bytes + 1)
    serve(text)


def serve(request_text: str) -> None:
    """Kernel side: answer a request from the grader on iopub (see the module docstring)."""
    from IPython import get_ipython
    from IPython.display import publish_display_data

    shell = get_ipython()
    namespace = shell.user_ns if shell is not None else {}
    publish_display_data({MIME: handle(namespace, request_text)})


# ---------------------------------------------------------------------------------------------
# The grader's side
# ---------------------------------------------------------------------------------------------

def _warnings_raise() -> bool:
    """Whether a RuntimeWarning raises in the grader right now (the first matching filter)."""
    for action, message, category, module, _lineno in warnings.filters:
        if issubclass(RuntimeWarning, category) and (message is None or message.match("")) \
                and (module is None or module.match("")):
            return action == "error"
    return False


def _replay(info: Any) -> Exception:
    if type(info) is not dict:
        return StudentError("raised an exception the grader could not read")
    kind = str(info.get("type", "Exception"))[:80]
    message = str(info.get("message", ""))
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS] + " ..."
    if kind in REPLAYED_EXCEPTIONS:
        cls = getattr(builtins, kind)
        exc = cls(message) if kind != "KeyError" else KeyError(message)
    else:
        exc = StudentError(f"{kind}: {message}")
    if kind == "NotImplementedError":
        exc.course_function = str(info.get("function", ""))[:200]
    return exc


def _copy_back(target: Any, after: Any) -> None:
    if after is None:
        return
    try:
        if isinstance(target, np.ndarray) and isinstance(after, np.ndarray) and after.shape == target.shape \
                and target.flags.writeable:
            np.copyto(target, after, casting="unsafe")
        elif type(target).__module__ == "torch" and type(after).__module__ == "torch" \
                and tuple(after.shape) == tuple(target.shape):
            import torch

            with torch.no_grad():
                target.copy_(after.detach())
    except Exception:  # noqa: BLE001 - an argument that cannot take the values back stays as it is
        pass


class RemoteFunction:
    """Stands for the student's function ``name`` in the kernel behind ``channel``.

    ``channel.request(text, nonce)`` sends a request and returns the reply text (or None when
    there was none); it raises :class:`CallTimeout` or :class:`KernelLost`.
    """

    def __init__(self, channel, name: str, probe: str | None = None):
        self.channel, self.name, self.probe = channel, name, probe
        self.__name__ = name

    def via_probe(self, probe: str) -> "RemoteFunction":
        """The same function, called through the kernel-side probe of that name."""
        return RemoteFunction(self.channel, self.name, probe)

    def __repr__(self) -> str:
        return f"<student function {self.name}>"

    def _request(self, op: str, args=(), kwargs=None) -> dict:
        nonce = secrets.token_hex(16)
        request = {"nonce": nonce, "op": op, "function": self.name, "probe": self.probe,
                   "args": list(args), "kwargs": dict(kwargs or {}),
                   "errstate": dict(np.geterr()), "warnings_error": _warnings_raise()}
        text = self.channel.request(wire.dumps(request), nonce)
        if text is None:
            raise StudentError("the kernel sent no answer to this call (did the notebook replace the "
                               "grader's server, or print over it?)")
        try:
            reply = wire.loads(text)
        except wire.WireError as exc:
            raise StudentError(f"the reply could not be read: {exc}") from None
        if type(reply) is not dict or reply.get("nonce") != nonce:
            raise StudentError("the reply does not belong to this call")
        return reply

    def describe(self) -> dict:
        """What the kernel says about the function: defined, callable, module, reference."""
        reply = self._request("describe")
        value = reply.get("value")
        if reply.get("status") != "described" or type(value) is not dict:
            raise StudentError("the kernel did not describe the function")
        return value

    def __call__(self, *args, **kwargs):
        reply = self._request("call", args, kwargs)
        status = reply.get("status")
        after = reply.get("args_after")
        if type(after) is list and len(after) == len(args):
            for target, state in zip(args, after):
                _copy_back(target, state)
        kw_after = reply.get("kwargs_after")
        if type(kw_after) is dict:
            for key, target in kwargs.items():
                _copy_back(target, kw_after.get(key))
        if status == "returned" and "value" in reply:
            return reply["value"]
        if status == "raised":
            raise _replay(reply.get("exception"))
        message = str(reply.get("message", "no readable reply"))[:MESSAGE_CHARS]
        raise StudentError(message)


class LocalChannel:
    """A channel to a namespace in this process (tests and a trusted, kernel-less judge)."""

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.calls = 0

    def request(self, text: str, nonce: str) -> str:
        self.calls += 1
        return handle(self.namespace, text)


def call_code(request_text: str) -> str:
    """The cell the grader runs in the kernel for one request."""
    return f'__import__("course_lib.grading.remote", fromlist=["serve"]).serve({request_text!r})'


def call_file_code(path: str) -> str:
    """The cell the grader runs for a request stored in its inbox."""
    return f'__import__("course_lib.grading.remote", fromlist=["serve_file"]).serve_file({path!r})'
