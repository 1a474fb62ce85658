"""How one submission's kernel is confined: bubblewrap, an unprivileged uid, limits.

Each submission gets a *box*: a fresh private folder for the kernel's ipc sockets and connection
file, bound at the same path inside the sandbox; once the kernel is up it goes back to the
grader (root-owned, 0700), so the student's code can no longer write there. The kernel is started through a kernel spec (in a grader-owned
folder, never the student's) whose argv is::

    bwrap --unshare-net --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try
          --die-with-parent --new-session --clearenv  <read-only binds>  --proc /proc --dev /dev
          --tmpfs /tmp  --bind BOX BOX  --chdir BOX  <whitelisted environment>
      -- prlimit --as=... --nproc=... --cpu=... --fsize=... --core=0 --nofile=...
      -- setpriv --reuid U --regid U --clear-groups --inh-caps=-all --bounding-set=-all   (root only)
      -- python -m ipykernel_launcher -f {connection_file}

What that gives the student's code:

- no network (a network namespace with only its own loopback; the grader talks to the kernel
  over ipc sockets in the box);
- one writable folder, ``/home/student`` (HOME, TMPDIR, the working folder): a tmpfs of
  ``Limits.disk_mb`` (default 512 MB), so that no submission can fill the grader's disk;
- a read-only view of the system (/usr, /bin, /lib*, /sbin, a few /etc files), of Python's base
  prefix, of the virtual environment and of course_lib's source folder; nothing else of the
  machine: not the submissions, not the output folder, not other boxes, not the repository;
- its own PID namespace: it sees only its own processes, and every process it starts dies with
  the kernel (bwrap's init is PID 1; when it goes, the kernel tears the namespace down);
- run by the grader as root: an unprivileged uid per worker slot (``61000 + slot``), no
  capabilities, so root-only files stay unreadable and RLIMIT_NPROC counts that submission's
  processes only. Run by an ordinary user: an unprivileged user namespace (``--unshare-user``)
  instead, and RLIMIT_NPROC is that user's current process count plus a headroom (the limit is
  per real uid, so it also counts the grader's own processes);
- limits: address space (``--memory``, default 4 GB), processes, CPU seconds, size of a written
  file, no core dumps, open files;
- an environment of a few whitelisted variables only (never the grader's).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install -y bubblewrap`), or pass "
                "--no-sandbox to grade trusted notebooks without it")
BASE_UID = 61000
#: the student's working folder inside the sandbox (a size-limited tmpfs)
WORK = Path("/home/student")
ETC_FILES = ("ld.so.cache", "ld.so.conf", "localtime", "nsswitch.conf", "hosts", "mime.types")


# The kernel's address-space limit. Chapter 4 run in full (no grade-skip) needs more than 2 GB of
# address space (torch and NumPy reserve much more than they touch); 4 GB leaves room for it while a
# memory bomb still stops far below the machine's memory (two workers: 8 GB).
DEFAULT_MEMORY_MB = 4096


class SandboxUnavailable(RuntimeError):
    """bwrap (or prlimit) is missing."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int = DEFAULT_MEMORY_MB  # RLIMIT_AS of the kernel
    processes: int = 64          # RLIMIT_NPROC (per uid; see the module docstring)
    cpu_s: int = 900             # RLIMIT_CPU of the kernel, in CPU seconds
    file_mb: int = 256           # RLIMIT_FSIZE: the largest file it may write
    open_files: int = 512        # RLIMIT_NOFILE
    disk_mb: int = 512           # size of the student's writable tmpfs (memory-backed)


def bwrap_path() -> str | None:
    return shutil.which("bwrap") or (("/usr/bin/bwrap") if os.path.exists("/usr/bin/bwrap") else None)


def require_sandbox() -> None:
    """Raise SandboxUnavailable with the install command when bwrap or prlimit is missing."""
    if bwrap_path() is None:
        raise SandboxUnavailable(f"the grader's sandbox needs bwrap, which is not installed: {INSTALL_HINT}")
    if shutil.which("prlimit") is None:
        raise SandboxUnavailable("the grader's sandbox needs prlimit (util-linux), which is not installed")
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        raise SandboxUnavailable("the grader's sandbox needs setpriv (util-linux), which is not installed")


def is_root() -> bool:
    return os.geteuid() == 0


def slot_uid(slot: int, base: int = BASE_UID) -> int | None:
    """The uid the kernel of worker slot ``slot`` runs as (None when the grader is not root);
    ``base`` is the first uid of the block the supervisor reserved (:func:`reserve_uids`)."""
    return int(base) + int(slot) if is_root() else None


def reserve_uids(blocks: int = 50, size: int = 100):
    """A block of ``size`` sandbox uids no other grader on this machine uses now: (lock file
    descriptor to keep open while grading, first uid). Two graders at once (two instructors, two
    test runs) would otherwise share uids and process limits."""
    import fcntl
    import tempfile

    folder = "/run/lock" if os.path.isdir("/run/lock") and os.access("/run/lock", os.W_OK) else tempfile.gettempdir()
    for block in range(blocks):
        fd = os.open(os.path.join(folder, f"course-grade-uids-{block}.lock"), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        return fd, BASE_UID + block * size
    raise SandboxUnavailable(f"{blocks} graders are already running on this machine")


def course_lib_folder() -> Path:
    return Path(__file__).resolve().parents[1]


def _user_process_count() -> int:
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def read_only_paths() -> list[Path]:
    """What the sandbox may read: the system, Python, the venv, course_lib's source."""
    paths = [Path(p) for p in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin")]
    paths += [Path("/etc") / name for name in ETC_FILES]
    paths += [Path(sys.base_prefix), Path(sys.prefix), course_lib_folder()]
    real = Path(sys.executable).resolve().parent.parent
    paths.append(real)
    seen, result = set(), []
    for path in paths:
        if path in seen or not os.path.lexists(path):
            continue
        seen.add(path)
        result.append(path)
    return result


def _parents(path: Path) -> list[Path]:
    return [p for p in reversed(path.parents) if str(p) != "/"]


def bwrap_argv(box: Path, limits: Limits, uid: int | None, python: str | None = None,
               font_cache: Path | None = None) -> list[str]:
    """The kernel spec's argv (with ``{connection_file}`` for jupyter_client to fill in)."""
    box = Path(box)
    argv = [bwrap_path() or "bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
            "--hostname", "grading"]
    if uid is None:
        argv += ["--unshare-user"]
    # /tmp first, so that read-only paths below it (a venv in /tmp) and the box are bound on top
    argv += ["--tmpfs", "/tmp"]
    made = {Path("/tmp")}

    def parents(path: Path) -> None:
        for parent in _parents(path):
            if parent not in made and not os.path.islink(parent) and parent.parts[1] not in ("usr", "proc", "dev"):
                argv.extend(["--perms", "0755", "--dir", str(parent)])
                made.add(parent)

    system = {Path(p) for p in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin")}
    for path in read_only_paths():
        if path in system and os.path.islink(path):
            argv += ["--symlink", os.readlink(path), str(path)]
            continue
        if path not in system:
            parents(path)
        argv += ["--ro-bind", str(path), str(path)]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    parents(box)
    argv += ["--bind", str(box), str(box)]
    # The student's writable folder: a tmpfs of limited size (the box only holds the sockets
    # and the connection file, and the grader takes it back once the kernel is up).
    argv += ["--perms", "0755", "--dir", "/home", "--perms", "1777", "--size", str(limits.disk_mb * 2**20),
             "--tmpfs", str(WORK)]
    for sub in ("tmp", "mpl", "ipython", "runtime", "jupyter"):
        argv += ["--perms", "1777", "--dir", str(WORK / sub)]
    if font_cache is not None:
        argv += ["--ro-bind", str(font_cache), str(WORK / "mpl" / Path(font_cache).name)]
    argv += ["--chdir", str(WORK)]
    for key, value in kernel_env(WORK, WORK).items():
        argv += ["--setenv", key, value]
    return argv + ["--", *limited_kernel(limits, uid, python)]


def kernel_env(home: Path, scratch: Path) -> dict[str, str]:
    """The whole environment of a grading kernel (nothing inherited from the grader): its home,
    and its temporary and configuration folders under ``scratch``; one BLAS thread."""
    home, scratch = Path(home), Path(scratch)
    return {
        "HOME": str(home), "TMPDIR": str(scratch / "tmp"), "MPLCONFIGDIR": str(scratch / "mpl"),
        "IPYTHONDIR": str(scratch / "ipython"), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
        "JUPYTER_CONFIG_DIR": str(scratch / "jupyter"), "JUPYTER_DATA_DIR": str(scratch / "jupyter"),
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
        "USER": "student", "LOGNAME": "student", "MPLBACKEND": "Agg", "COURSE_CHECK_STRICT": "0",
        "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONDONTWRITEBYTECODE": "1",
    }


def limited_kernel(limits: Limits, uid: int | None, python: str | None = None) -> list[str]:
    """The end of every kernel argv: prlimit with :class:`Limits`, then (when the grader is root)
    setpriv to the unprivileged ``uid`` without capabilities, then the kernel itself."""
    processes = limits.processes if uid is not None else _user_process_count() + limits.processes
    argv = [shutil.which("prlimit") or "/usr/bin/prlimit",
            f"--as={limits.memory_mb * 2**20}", f"--nproc={processes}", f"--cpu={limits.cpu_s}",
            f"--fsize={limits.file_mb * 2**20}", "--core=0", f"--nofile={limits.open_files}", "--"]
    if uid is not None:
        argv += [shutil.which("setpriv") or "/usr/bin/setpriv", "--reuid", str(uid), "--regid", str(uid),
                 "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return argv + [python or sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def _can_unshare_net() -> bool:
    tool = shutil.which("unshare")
    if tool is None:
        return False
    try:
        import subprocess

        return subprocess.run([tool, "--net", "true"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def container_argv(box: Path, limits: Limits, uid: int | None, python: str | None = None) -> list[str]:
    """The kernel argv where bubblewrap is not available (a Gradescope container, one submission
    per container): a cleared environment, its own network namespace where ``unshare --net``
    works (no network), the limits of :class:`Limits`, and, when the grader is root, an
    unprivileged uid without capabilities. The file system is not confined: the caller makes the
    grader's files unreadable to that uid (see course_lib.tools.autograder)."""
    box = Path(box)
    env = kernel_env(box / "tmp", box)
    argv = [shutil.which("env") or "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items())]
    if _can_unshare_net():
        argv += [shutil.which("unshare"), "--net", "--"]
    return argv + limited_kernel(limits, uid, python)


def plain_argv(python: str | None = None) -> list[str]:
    """The kernel argv without a sandbox (``--no-sandbox``)."""
    return [python or sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def unsandboxed_env(box: Path) -> dict[str, str]:
    """The kernel spec's env without a sandbox: the grader's own, plus the grading settings."""
    return {"HOME": str(box), "MPLCONFIGDIR": str(box / "mpl"), "MPLBACKEND": "Agg", "COURSE_CHECK_STRICT": "0",
            "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "IPYTHONDIR": str(box / "ipython"), "TMPDIR": str(box / "tmp")}


def make_box(root: Path, name: str, uid: int | None) -> Path:
    """A fresh private folder under the grader-owned ``root`` for the kernel's sockets and
    connection file, owned by ``uid`` until the kernel is up (see :func:`seal_box`)."""
    box = Path(root) / name
    if box.exists():
        remove_box(box)
    box.mkdir(mode=0o700)
    for sub in ("tmp", "mpl", "ipython", "runtime", "jupyter"):   # used without a sandbox only
        (box / sub).mkdir(mode=0o700)
    if uid is not None:
        os.chown(box, uid, uid)
        for sub in ("tmp", "mpl", "ipython", "runtime", "jupyter"):   # the container mode's folders
            os.chown(box / sub, uid, uid)
    return box


def seal_box(box: Path, uid: int | None) -> Path:
    """Once the kernel has bound its sockets: the box belongs to the grader again, so the
    student's code cannot write there (its only writable folder is the size-limited tmpfs).
    Returns the box's *inbox*, a folder the kernel can read but not write, where the grader puts
    large requests (see :meth:`~.kernel_runner.KernelRunner.request`)."""
    if uid is not None:
        os.chown(box, 0, 0)
        os.chmod(box, 0o711)
    inbox = Path(box) / "inbox"
    inbox.mkdir(mode=0o755, exist_ok=True)
    os.chmod(inbox, 0o755)
    return inbox


def remove_box(box: Path) -> None:
    """Delete a box (never following the student's symlinks out of it)."""
    shutil.rmtree(box, ignore_errors=True)


def write_kernel_spec(spec_root: Path, name: str, argv: list[str], env: dict | None = None) -> str:
    """A kernel spec ``<spec_root>/kernels/<name>/kernel.json``; returns the kernel name."""
    folder = Path(spec_root) / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": argv, "display_name": "grading sandbox", "language": "python",
            "interrupt_mode": "message", "env": env or {}, "metadata": {"debugger": False}}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return name


def processes_of_uid(uid: int) -> list[int]:
    """PIDs of the live processes (not zombies) owned by ``uid`` (to check that nothing is left)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as handle:
                status = handle.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [str(uid)] and not fields.get("State", "").strip().startswith("Z"):
            pids.append(int(entry))
    return pids


def kill_uid(uid: int, timeout: float = 10.0) -> list[int]:
    """SIGKILL every process of ``uid`` (a slot uid no one else uses) until none is left or
    ``timeout`` seconds have passed; returns the PIDs still alive (empty when all are gone)."""
    import signal
    import time

    if uid is None or uid == 0 or uid == os.getuid():
        raise ValueError(f"refusing to kill the processes of uid {uid}")
    deadline = time.monotonic() + timeout
    while True:
        pids = processes_of_uid(uid)
        if not pids or time.monotonic() > deadline:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.05)
