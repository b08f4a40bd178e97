"""The local teacher's server process (llama-cpp-python on loopback): it serves on loopback only,
stops with its client (even a SIGKILLed one), and says how it died (exit code or signal, pid,
log tail) at startup."""

import json
import socket
import sys
import urllib.request

import pytest

from curate.core.errors import CurateError
from curate.models.local_teacher import LOCAL_HOST, LocalTeacher, local_gguf
from tests.conftest import ROOT


def test_local_teacher_serves_on_loopback_and_stops(tmp_path):
    pytest.importorskip("llama_cpp")
    assert local_gguf().name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    with LocalTeacher(n_ctx=512, n_threads=1, log_path=tmp_path / "server.log") as t:
        assert t.base_url.startswith(f"http://{LOCAL_HOST}:")
        with urllib.request.urlopen(f"{t.base_url}/models", timeout=10) as r:
            assert json.load(r)["data"][0]["id"] == "smollm2-135m-instruct"
        req = urllib.request.Request(f"{t.base_url}/completions", method="POST",
                                     headers={"content-type": "application/json"},
                                     data=json.dumps({"prompt": "1. Instruction: Name a colour.\n1. Output:",
                                                      "max_tokens": 8, "temperature": 0}).encode())
        with urllib.request.urlopen(req, timeout=60) as r:
            body = json.load(r)
        assert body["usage"]["completion_tokens"] >= 1
        # bound to loopback only: connecting via another local address is refused
        addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1", "127.0.1.1"}
        for addr in addrs:
            with pytest.raises(OSError):
                socket.create_connection((addr, t.port), timeout=2).close()
        port, proc = t.port, t.proc
    assert proc.poll() is not None  # stopped on exit
    with pytest.raises(OSError):
        socket.create_connection((LOCAL_HOST, port), timeout=2).close()


def test_describe_exit():
    from curate.models.local_teacher import describe_exit

    assert describe_exit(-11) == "killed by SIGSEGV (exit -11)"
    assert describe_exit(139) == "exited with code 139 (128 + SIGSEGV)"
    assert describe_exit(1) == "exited with code 1"
    assert describe_exit(-200) == "exited with code -200"


def test_local_teacher_dying_at_startup_names_exit_code_and_log(tmp_path, monkeypatch):
    from curate.models import local_teacher as local

    monkeypatch.setattr(local.LocalTeacher, "command", lambda self: [
        sys.executable, "-c", "import sys; print('cannot load model', flush=True); sys.exit(3)"])
    t = local.LocalTeacher(model_path=tmp_path / "fake.gguf", log_path=tmp_path / "s.log",
                           startup_timeout_s=20)
    with pytest.raises(CurateError) as ei:
        t.start()
    assert str(ei.value).startswith(f"local teacher (pid {t.proc.pid}) exited with code 3 during startup")
    assert str(ei.value).endswith("cannot load model")


def test_killed_client_takes_the_server_down(tmp_path):
    """kill -9 of the process that started the teacher stops the teacher too (no orphan)."""
    pytest.importorskip("llama_cpp")
    import os
    import signal
    import subprocess
    import sys
    import time

    code = ("import sys, time; from curate.models.local_teacher import LocalTeacher; "
            f"t = LocalTeacher(n_ctx=256, n_threads=1, log_path={str(tmp_path / 's.log')!r}).start(); "
            "print(t.proc.pid, flush=True); time.sleep(600)")
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    server_pid = int(p.stdout.readline())
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    for _ in range(100):
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            break
        try:  # reap it if it became our zombie (it is not our child; normally init reaps it)
            if open(f"/proc/{server_pid}/stat").read().split()[2] == "Z":
                break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        os.kill(server_pid, signal.SIGKILL)
        raise AssertionError("the local teacher outlived the process that started it")
