"""Python child processes of the tests, forked from a process that has already imported the big libraries.

A test that needs its own process (a Celery worker, a gunicorn server, `manage.py …`, `python -c` under
other settings) used to start a new interpreter, which imported Django, Celery, kombu, psycopg, openai and
the rest again before doing anything: ~1-1.4 s of CPU per process on this 2-core machine, ~80 such processes
per run. Here each pytest process starts one **zygote** (the name Android and Chromium give the same trick):
`python -m tests.support.zygote`, which imports those libraries once, settings-free, and then forks a child
for each request. The child becomes exactly what the command line asked for (its environment, working
directory, standard streams, a session of its own, `sys.argv`), then runs the module, script or code as the
interpreter would (`runpy`), so Django reads *its* settings and the project's code is imported fresh in it.

What it is not: a shortcut around the code under test. The child is a real, separate process running the real
command; only the interpreter's start and the third-party imports are shared, as gunicorn's `--preload` shares
an application's. Rules that keep it so:

- The zygote imports nothing of the project and never configures Django (checked before it answers).
  prometheus_client stays out: a Celery worker node picks its multiprocess directory before importing it
  (config/worker_metrics.py).
- A request whose interpreter options differ from the zygote's (any `PYTHON*` variable but
  `PYTHONUNBUFFERED` and `PYTHONDONTWRITEBYTECODE`, or interpreter flags in the command) is started the
  ordinary way; so is everything on a machine without `fork`.
- `ZYGOTE=0` turns it off for a run (every child is a fresh interpreter, as before).

The client side is `popen(argv, …)` and `run(argv, …)`: `subprocess.Popen`/`subprocess.run` for a command
that starts with `sys.executable`. `popen` returns a `ForkedProcess` with `pid`, `poll()`, `wait()`,
`returncode`, `send_signal()`, `terminate()` and `kill()`; the zygote is its parent, so it reaps the child and
keeps its exit status for the client to ask for.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

PROJECT_DIR = Path(__file__).resolve().parents[2]

# Imported once by the zygote: settings-free modules (none reads Django's settings or the environment that a
# test changes at import). Those that fail to import are left out, never half-imported into the children.
PRELOAD = (
    "django",
    "django.db.models",
    "django.http",
    "django.urls",
    "django.forms",
    "django.template",
    "django.core.handlers.wsgi",
    "django.core.management",
    "django.core.serializers.json",
    "django.contrib.auth.hashers",
    "django.test",
    "asgiref.sync",
    "celery",
    "celery.app",
    "celery.bin.celery",
    "celery.apps.worker",
    "celery.worker.consumer",
    "celery.concurrency.prefork",
    "kombu",
    "kombu.transport.redis",
    "billiard",
    "redis",
    "psycopg",
    "psycopg_pool",
    "requests",
    "urllib3",
    "openai",
    "jsonschema",
    "yaml",
    "gunicorn.app.wsgiapp",
    "gunicorn.workers.gthread",
    "whitenoise",
)

# Interpreter options that a child may set differently from the zygote: both only change what Python does after
# start-up, and the child applies them itself.
_CHILD_SETTABLE = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


def _interpreter_env(env: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if key.startswith("PYTHON") and key not in _CHILD_SETTABLE}


# -- the zygote ---------------------------------------------------------------------------------


def _preload() -> list[str]:
    loaded = []
    for name in PRELOAD:
        before = set(sys.modules)
        try:
            __import__(name)
        except Exception:
            for module in set(sys.modules) - before:
                sys.modules.pop(module, None)
            continue
        loaded.append(name)
    from django.conf import settings

    if settings.configured:
        raise RuntimeError("a preloaded module configured Django's settings; the zygote cannot share it")
    leaked = [name for name in ("prometheus_client", "config") if name in sys.modules]
    if leaked:
        raise RuntimeError(f"the zygote must not import {leaked}: children choose their own")
    return loaded


def _serve(channel: socket.socket) -> dict[str, Any]:
    """Answer requests until the client closes the channel. Returns only in a forked child, with its spec."""
    statuses: dict[int, int] = {}
    children: set[int] = set()

    def reap() -> None:
        while children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            children.discard(pid)
            statuses[pid] = os.waitstatus_to_exitcode(status)

    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(channel, 1 << 20, 8)
        except OSError:
            message, fds = b"", []
        if not message:
            for pid in children:  # the client is gone: so are the children it did not stop
                for kill in (os.killpg, os.kill):
                    with contextlib.suppress(OSError):
                        kill(pid, signal.SIGKILL)
            os._exit(0)
        request = json.loads(message)
        reap()
        if request["op"] == "status":
            for fd in fds:
                os.close(fd)
            channel.sendall(json.dumps({"returncode": statuses.get(request["pid"])}).encode() + b"\n")
            continue
        pid = os.fork()
        if pid == 0:
            channel.close()
            request["fds"] = fds
            return request
        for fd in fds:
            os.close(fd)
        children.add(pid)
        channel.sendall(json.dumps({"pid": pid}).encode() + b"\n")


def _std_streams(unbuffered: bool) -> None:
    """The child's sys.stdin/stdout/stderr on fds 0-2, buffered as a new interpreter would buffer them."""
    import io

    sys.stdin = io.TextIOWrapper(open(0, "rb", closefd=False), encoding="utf-8", errors="strict")  # noqa: SIM115
    for fd, name in ((1, "stdout"), (2, "stderr")):
        interactive = os.isatty(fd)
        raw = open(fd, "wb", buffering=0, closefd=False)  # noqa: SIM115
        binary: IO[bytes] = raw if unbuffered else io.BufferedWriter(raw)
        stream = io.TextIOWrapper(
            binary,  # type: ignore[arg-type]
            encoding="utf-8",
            errors="backslashreplace" if name == "stderr" else "strict",
            line_buffering=interactive or name == "stderr",
            write_through=unbuffered,
        )
        setattr(sys, name, stream)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr


def _become(spec: dict[str, Any]) -> None:
    """In the forked child: take the requested environment, then run the command as `python …` would."""
    import runpy
    import types

    stdin, stdout, stderr = spec["fds"]
    if spec["new_session"]:
        os.setsid()
    for target, fd in ((0, stdin), (1, stdout), (2, stderr)):
        os.dup2(fd, target)
    for fd in set(spec["fds"]):
        if fd > 2:
            os.close(fd)
    os.chdir(spec["cwd"])
    os.environ.clear()
    os.environ.update(spec["env"])
    sys.dont_write_bytecode = bool(spec["env"].get("PYTHONDONTWRITEBYTECODE"))
    _std_streams(unbuffered=bool(spec["env"].get("PYTHONUNBUFFERED")))
    signal.signal(signal.SIGINT, signal.default_int_handler)

    # A new, empty __main__, as a new interpreter has (the zygote's own module stays what its functions see).
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = main
    args = spec["argv"][1:]
    if args[0] == "-c":
        sys.argv = ["-c", *args[2:]]
        sys.path[0] = ""
        exec(compile(args[1], "<string>", "exec"), main.__dict__)
    elif args[0] == "-m":
        sys.argv = [args[1], *args[2:]]
        sys.path[0] = os.getcwd()
        runpy._run_module_as_main(args[1], alter_argv=True)  # type: ignore[attr-defined]  # what `python -m` runs
    else:
        script = os.path.abspath(args[0])
        sys.argv = [args[0], *args[1:]]
        sys.path[0] = os.path.dirname(script)
        main.__dict__["__file__"] = script
        with open(script, "rb") as source:
            code = compile(source.read(), script, "exec")
        exec(code, main.__dict__)


def _main() -> None:
    _preload()
    channel = socket.socket(fileno=int(os.environ["ZYGOTE_CHANNEL_FD"]))
    os.environ.pop("ZYGOTE_CHANNEL_FD")
    channel.sendall(b'{"ready": true}\n')
    spec = _serve(channel)
    _become(spec)  # a SystemExit or an exception from here ends the child as it would end `python …`


# -- the client ---------------------------------------------------------------------------------


class _Zygote:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: socket.socket | None = None
        self.env: dict[str, str] = {}
        self.failed = False

    def _start(self) -> socket.socket | None:
        if self.failed:
            return None
        if self.channel is not None and self.process is not None and self.process.poll() is None:
            return self.channel
        ours, theirs = socket.socketpair()
        self.env = dict(os.environ, ZYGOTE_CHANNEL_FD=str(theirs.fileno()))
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.zygote"],
            cwd=PROJECT_DIR,
            env=self.env,
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        theirs.close()
        ours.settimeout(120)
        if not self._answer(ours).get("ready"):
            self.failed = True
            ours.close()
            return None
        ours.settimeout(None)
        self.channel = ours
        atexit.register(self.stop)
        return ours

    @staticmethod
    def _answer(channel: socket.socket) -> dict[str, Any]:
        data = b""
        while not data.endswith(b"\n"):
            chunk = channel.recv(4096)
            if not chunk:
                return {}
            data += chunk
        answer: dict[str, Any] = json.loads(data)
        return answer

    def accepts(self, argv: list[str], env: dict[str, str]) -> bool:
        if os.environ.get("ZYGOTE", "1") == "0" or not hasattr(os, "fork") or self.failed:
            return False
        if len(argv) < 2 or argv[0] != sys.executable:
            return False
        if argv[1] not in ("-c", "-m") and argv[1].startswith("-"):
            return False  # interpreter flags (-u, -X, -W …): a new interpreter honours them, a fork would not
        if argv[1] in ("-c", "-m") and len(argv) < 3:
            return False
        base = os.environ if self.channel is None else self.env
        return _interpreter_env(dict(env)) == _interpreter_env(
            {k: v for k, v in base.items() if k != "ZYGOTE_CHANNEL_FD"}
        )

    def fork(
        self, argv: list[str], *, env: dict[str, str], cwd: str, fds: tuple[int, int, int], new_session: bool
    ) -> int:
        with self.lock:
            channel = self._start()
            if channel is None:
                raise OSError("the zygote did not start")
            request = {"op": "fork", "argv": argv, "env": env, "cwd": cwd, "new_session": new_session}
            socket.send_fds(channel, [json.dumps(request).encode()], list(fds))
            pid: int = self._answer(channel)["pid"]
            return pid

    def status(self, pid: int) -> int | None:
        with self.lock:
            channel = self.channel
            if channel is None:
                return -signal.SIGKILL
            channel.sendall(json.dumps({"op": "status", "pid": pid}).encode())
            code: int | None = self._answer(channel).get("returncode")
            return code

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.close()  # the zygote kills what is left of its children and exits
            self.channel = None
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


_ZYGOTE = _Zygote()


class ForkedProcess:
    """The part of subprocess.Popen that tests use, for a child of the zygote."""

    def __init__(self, pid: int, args: list[str]) -> None:
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = _ZYGOTE.status(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.005
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _fd_for(target: Any, default: int, opened: list[int], mode: int) -> int:
    if target is None:
        return default
    if target == subprocess.DEVNULL:
        fd = os.open(os.devnull, mode)
        opened.append(fd)
        return fd
    if target == subprocess.STDOUT:
        return -1  # resolved by the caller to stdout's fd
    if isinstance(target, int):
        return target
    return int(target.fileno())


def popen(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    stdin: Any = None,
    stdout: Any = None,
    stderr: Any = None,
    start_new_session: bool = False,
) -> ForkedProcess | subprocess.Popen[bytes]:
    """subprocess.Popen(argv, …) for `[sys.executable, …]`, forked from the zygote when it can be."""
    argv = [str(part) for part in argv]
    env = dict(os.environ if env is None else env)
    cwd = str(cwd if cwd is not None else os.getcwd())

    def exec_it() -> subprocess.Popen[bytes]:  # a new interpreter, as before the zygote
        return subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr, start_new_session=start_new_session
        )

    if not _ZYGOTE.accepts(argv, env) or subprocess.PIPE in (stdin, stdout, stderr):
        return exec_it()
    opened: list[int] = []
    try:
        in_fd = _fd_for(stdin if stdin is not None else subprocess.DEVNULL, 0, opened, os.O_RDONLY)
        out_fd = _fd_for(stdout, 1, opened, os.O_WRONLY)
        err_fd = _fd_for(stderr, 2, opened, os.O_WRONLY)
        if err_fd == -1:
            err_fd = out_fd
        pid = _ZYGOTE.fork(argv, env=env, cwd=cwd, fds=(in_fd, out_fd, err_fd), new_session=start_new_session)
    except OSError:
        return exec_it()
    finally:
        for fd in opened:
            os.close(fd)
    return ForkedProcess(pid, argv)


def run(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    capture_output: bool = False,
    text: bool = False,
    timeout: float | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[Any]:
    """subprocess.run(argv, …) for `[sys.executable, …]`; output is captured through pipes the child inherits."""
    argv = [str(part) for part in argv]
    if not capture_output:
        process = popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        result: subprocess.CompletedProcess[Any] = subprocess.CompletedProcess(argv, code)
    else:
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            process = popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out_write, stderr=err_write)
        finally:
            os.close(out_write)
            os.close(err_write)
        chunks: dict[int, list[bytes]] = {out_read: [], err_read: []}

        def drain(fd: int) -> None:
            with os.fdopen(fd, "rb") as stream:
                chunks[fd].append(stream.read())

        readers = [threading.Thread(target=drain, args=(fd,), daemon=True) for fd in (out_read, err_read)]
        for reader in readers:
            reader.start()
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        for reader in readers:
            reader.join(timeout=30)
        out, err = b"".join(chunks[out_read]), b"".join(chunks[err_read])
        if text:
            result = subprocess.CompletedProcess(argv, code, out.decode(errors="replace"), err.decode(errors="replace"))
        else:
            result = subprocess.CompletedProcess(argv, code, out, err)
    if check:
        result.check_returncode()
    return result


if __name__ == "__main__":
    _main()
