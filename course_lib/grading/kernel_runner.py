"""Runs a notebook's cells in a (sandboxed) kernel, on jupyter_client directly.

Nothing the kernel sends is accumulated: the reader counts the bytes of each cell's output and
stores none of it; it keeps only the first error of the notebook (name and message, truncated)
and, for a call from the grader, the first reply that carries the call's nonce
(:data:`course_lib.grading.remote.MIME`, same parent message). The client's zmq sockets have a
maximum message size and a receive high-water mark, so a giant message or a flood of them cannot
exhaust the grader's memory (a message over the size limit is dropped by zmq unread, so output
that comes in such giant messages is not counted: the cell then ends at its timeout).

Per cell: a timeout, then an interrupt (an ``interrupt_request`` on the control channel); a
kernel that does not answer within a grace period is killed. A cell that prints more than the
output cap is interrupted too. Per notebook: a wall-time budget; once it is spent every
remaining cell is skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq

from .remote import MIME, CallTimeout, KernelLost, call_code, call_file_code

MAX_MESSAGE_BYTES = 24 * 2**20   # a message above this is dropped by zmq, unread
RECEIVE_HWM = 16                 # messages queued per socket: at most ~400 MB in all
INTERRUPT_GRACE_S = 5
IDLE_GRACE_S = 10
INLINE_REQUEST_BYTES = 64 * 2**10   # larger requests go through the inbox (a file), not the cell


@dataclass
class CellOutcome:
    #: "ok", "error" (the cell raised), "timeout" (interrupted; the kernel answers again),
    #: "output" (printed past the cap; interrupted), "stuck" (no answer to the interrupt: killed),
    #: "dead" (the kernel died)
    status: str
    ename: str = ""
    evalue: str = ""
    output_bytes: int = 0
    reply: str | None = None


def clean_error(text: str) -> str:
    """An error message without the kernel's temporary file names, on one line, truncated."""
    text = re.sub(r"\((?:[^()]*ipykernel_\d+/)?\d+\.py, line (\d+)\)", r"(line \1)", str(text))
    text = re.sub(r"\s+", " ", text).strip()
    return text[:200]


def _size(content: dict) -> int:
    size = 0
    for key in ("text", "evalue", "ename"):
        value = content.get(key)
        if isinstance(value, str):
            size += len(value)
    data = content.get("data")
    if isinstance(data, dict):
        size += sum(len(v) if isinstance(v, str) else 64 for v in data.values())
    traceback = content.get("traceback")
    if isinstance(traceback, list):
        size += sum(len(v) for v in traceback if isinstance(v, str))
    return size


class KernelRunner:
    """One kernel for one submission: start, run cells, answer the judge's calls, shut down.

    Also the *channel* of :class:`~.remote.RemoteFunction` (:meth:`request`)."""

    def __init__(self, box: Path, kernel_name: str, spec_dir: Path, *, output_cap: int = 4 * 2**20,
                 call_timeout: float = 60, startup_timeout: float = 60):
        self.box, self.kernel_name, self.spec_dir = Path(box), kernel_name, Path(spec_dir)
        self.output_cap, self.call_timeout, self.startup_timeout = output_cap, call_timeout, startup_timeout
        self.km = self.kc = None
        self.lost = ""           # why the kernel is gone ("" while it is usable)
        self.call_deadline = None  # monotonic time after which calls time out at once
        self.inbox = None          # a folder the kernel reads and cannot write (sandbox.seal_box)

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, uid: int | None = None) -> None:
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        specs = KernelSpecManager(kernel_dirs=[str(self.spec_dir / "kernels")])
        self.km = KernelManager(kernel_name=self.kernel_name, kernel_spec_manager=specs, transport="ipc",
                                ip=str(self.box / "kernel"), connection_file=str(self.box / "connection.json"))
        self.km.write_connection_file()
        if uid is not None:
            os.chown(self.km.connection_file, uid, uid)
        self.km.start_kernel(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=str(self.box))
        context = zmq.Context()
        context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        context.setsockopt(zmq.RCVHWM, RECEIVE_HWM)
        context.setsockopt(zmq.LINGER, 0)
        self.context = context
        self.kc = self.km.client(context=context)
        self.kc.start_channels(shell=True, iopub=True, stdin=False, hb=False, control=False)
        self.kc.wait_for_ready(timeout=self.startup_timeout)

    def shutdown(self) -> None:
        """Kill the kernel (and with it the sandbox and everything in it); close the sockets."""
        if self.kc is not None:
            try:
                self.kc.stop_channels()
            except Exception:  # noqa: BLE001
                pass
        if self.km is not None:
            try:
                if self.km.has_kernel:
                    self.km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001
                try:
                    self.km.provisioner and self.km.provisioner.process and self.km.provisioner.process.kill()
                except Exception:  # noqa: BLE001
                    pass
            try:
                self.km.cleanup_resources()
            except Exception:  # noqa: BLE001
                pass
        if getattr(self, "context", None) is not None:
            self.context.destroy(linger=0)
            self.context = None

    def kernel_pid(self) -> int | None:
        provisioner = getattr(self.km, "provisioner", None)
        return getattr(provisioner, "pid", None)

    def alive(self) -> bool:
        try:
            return bool(self.km is not None and self.km.is_alive())
        except Exception:  # noqa: BLE001
            return False

    # -- reading ------------------------------------------------------------------------------
    def _get(self, channel):
        try:
            return channel.get_msg(timeout=0)
        except Exception:  # noqa: BLE001 - empty, malformed or unsigned: nothing to read
            return None

    def _wait_reply(self, msg_id: str, deadline: float, outcome: CellOutcome, nonce: str | None):
        """Read until the execute_reply of ``msg_id`` and its idle status arrive, or the deadline;
        returns (reply content or None, reason) with reason "", "deadline", "output" or "dead"."""
        shell, iopub = self.kc.shell_channel, self.kc.iopub_channel
        poller = zmq.Poller()
        poller.register(shell.socket, zmq.POLLIN)
        poller.register(iopub.socket, zmq.POLLIN)
        reply, idle, idle_deadline = None, False, None
        while True:
            now = time.monotonic()
            if reply is not None and (idle or now >= idle_deadline):
                return reply, ""
            limit = deadline if reply is None else idle_deadline
            if now >= limit:
                return None, "deadline"
            events = dict(poller.poll(max(1, min(1000, int((limit - now) * 1000)))))
            if not events:
                if not self.alive():
                    return None, "dead"
                continue
            if shell.socket in events:
                msg = self._get(shell)
                if msg and msg.get("parent_header", {}).get("msg_id") == msg_id and \
                        msg.get("msg_type") == "execute_reply":
                    reply = msg.get("content", {}) if isinstance(msg.get("content"), dict) else {}
                    idle_deadline = time.monotonic() + IDLE_GRACE_S
            if iopub.socket in events:
                msg = self._get(iopub)
                if not msg or msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                content = msg.get("content") if isinstance(msg.get("content"), dict) else {}
                kind = msg.get("msg_type")
                if kind == "status" and content.get("execution_state") == "idle":
                    idle = True
                    continue
                outcome.output_bytes += _size(content)
                if nonce and outcome.reply is None and kind == "display_data":
                    data = content.get("data")
                    text = data.get(MIME) if isinstance(data, dict) else None
                    if isinstance(text, str) and f'"{nonce}"' in text[:400]:
                        outcome.reply = text
                if outcome.output_bytes > self.output_cap and reply is None:
                    return None, "output"

    def run(self, code: str, timeout: float, nonce: str | None = None) -> CellOutcome:
        """Execute ``code``; see :class:`CellOutcome` for what comes back."""
        outcome = CellOutcome("ok")
        if self.lost:
            outcome.status = "dead"
            return outcome
        msg_id = self.kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
        reply, reason = self._wait_reply(msg_id, time.monotonic() + timeout, outcome, nonce)
        if reason == "dead":
            self.lost, outcome.status = "the kernel died", "dead"
            return outcome
        if reason:  # out of time or printing too much: interrupt
            try:
                self.km.interrupt_kernel()
            except Exception:  # noqa: BLE001
                pass
            reply, again = self._wait_reply(msg_id, time.monotonic() + INTERRUPT_GRACE_S, CellOutcome("ok"), None)
            if reply is None:
                self.lost = ("the kernel died" if again == "dead" or not self.alive()
                             else "the kernel did not answer after an interrupt")
                outcome.status = "dead" if "died" in self.lost else "stuck"
                self.shutdown()
                return outcome
            outcome.status = "timeout" if reason == "deadline" else "output"
            return outcome
        if reply.get("status") == "error":
            outcome.status = "error"
            outcome.ename = str(reply.get("ename", "Error"))[:100]
            outcome.evalue = str(reply.get("evalue", ""))[:300]
        elif reply.get("status") != "ok":
            outcome.status = "error"
            outcome.ename = str(reply.get("status", "aborted"))[:100]
        return outcome

    # -- the judge's channel --------------------------------------------------------------------
    def request(self, text: str, nonce: str) -> str | None:
        if self.lost:
            raise KernelLost(self.lost)
        timeout = self.call_timeout
        if self.call_deadline is not None:
            timeout = min(timeout, self.call_deadline - time.monotonic())
            if timeout <= 0:
                raise CallTimeout("the time for the self-checks is spent")
        code, staged = call_code(text), None
        if self.inbox is not None and len(text) > INLINE_REQUEST_BYTES:
            path = Path(self.inbox) / f"{nonce}.json"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                code, staged = call_file_code(str(path)), path
            except OSError:
                pass   # the request then travels in the cell itself
        try:
            outcome = self.run(code, timeout, nonce=nonce)
        finally:
            if staged is not None:
                try:
                    staged.unlink()
                except OSError:
                    pass
        if outcome.status in ("timeout", "output"):
            raise CallTimeout("the call ran out of time" if outcome.status == "timeout" else
                              "the call printed more than the output cap")
        if outcome.status in ("dead", "stuck"):
            raise KernelLost(self.lost)
        return outcome.reply


# ---------------------------------------------------------------------------------------------
# A whole notebook
# ---------------------------------------------------------------------------------------------

@dataclass
class NotebookRun:
    status: str = "ok"           # "ok", "error", "timeout", "hung", "kernel died", "notebook time limit"
    notes: list[str] = field(default_factory=list)
    ended: bool = False          # the kernel is gone: nothing can be checked


def run_cells(runner: KernelRunner, sources: list[tuple[int, str]], *, cell_timeout: float,
              notebook_timeout: float) -> NotebookRun:
    """Run the code cells ``(index, source)`` in order; record the first error, time-outs and the
    notebook's time limit (after which the remaining cells are skipped)."""
    run = NotebookRun()
    deadline = time.monotonic() + notebook_timeout
    for position, (index, source) in enumerate(sources):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            skipped = len(sources) - position
            run.notes.append(f"the notebook's time limit of {notebook_timeout:g} s was reached at cell index "
                             f"{index}; {skipped} code cell{'s' if skipped != 1 else ''} skipped")
            if run.status == "ok":
                run.status = "notebook time limit"
            break
        limit = min(cell_timeout, remaining)
        outcome = runner.run(source, limit)
        if outcome.status == "ok":
            continue
        if outcome.status == "error":
            if run.status == "ok":
                run.status = "error"
                error = clean_error(f"{outcome.ename}: {outcome.evalue}").rstrip(": ")
                run.notes.append(f"first error in cell index {index}: {error}")
            continue
        if outcome.status in ("timeout", "output"):
            if outcome.status == "output":
                run.notes.append(f"cell index {index} printed more than {runner.output_cap // 2**20} MB "
                                 "and was interrupted")
            elif limit < cell_timeout:
                run.notes.append(f"cell index {index} was interrupted at the notebook's time limit of "
                                 f"{notebook_timeout:g} s")
            else:
                run.notes.append(f"cell index {index} timed out after {cell_timeout:g} s and was interrupted")
            if run.status in ("ok", "error"):
                run.status = "timeout"
            continue
        run.ended = True
        run.status = "kernel died" if outcome.status == "dead" else "hung"
        run.notes.append(f"cell index {index}: " + ("the kernel died" if outcome.status == "dead" else
                         f"timed out after {limit:g} s and the kernel did not respond to the interrupt")
                         + "; score 0")
        break
    return run
