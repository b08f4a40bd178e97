"""``curate evaluate MODEL``: one student (``base`` or an arm's ``ARM-sSEED``) on TruthfulQA,
the user-oriented response loss and the behavioural probes.

* TruthfulQA MC1/MC2 (:mod:`curate.training.evaluate`), every question's result in
  ``paths.eval``/MODEL/truthfulqa.parquet, so arms are compared question by question;
* the mean response loss of the 252 user-oriented tasks, as before;
* with ``probes.enabled``: greedy answers (:func:`curate.training.probes.generate_greedy`) to
  the held-out probes of ``paths.probes`` and to the 252 user-oriented instructions, scored with
  the project's own detectors (:func:`curate.detectors.behaviour.score_generations`), one row
  per answer in ``paths.eval``/MODEL/generations.parquet, and rates with 95% Wilson intervals
  per set in the metrics (``probe_rates``, ``user_oriented_rates``). The answers are generated
  in ``probes.precision`` (:func:`curate.training.probes.generation_precision`: bf16 where the
  hardware has it natively); TruthfulQA and the loss are scored in fp32.

Metrics ``eval_MODEL`` (headline: mc1, mc2, loss).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.errors import CurateError
from curate.detectors.behaviour import FLAGS, score_generations
from curate.stages.base import Context, timed
from curate.stages.probes import read_probes
from curate.training.evaluate import evaluate, load_user_oriented
from curate.training.probes import for_generation, generate_greedy, rate_summary

_NAME = re.compile(r"^(base|[a-z_]+-s\d+)$")


def generations_table(rows: list[dict], scored: list[dict]) -> pa.Table:
    """One row per answer: ``set`` (probe | user_oriented), ``id``, ``kind``, ``instruction``,
    ``input``, ``generation``, ``new_tokens``, ``hit_max_new_tokens``, one nullable bool column
    per flag of :data:`curate.detectors.behaviour.FLAGS` and ``checks`` (JSON list of the
    detectors that fired)."""
    cols = {
        "set": [r["set"] for r in rows], "id": [str(r["id"]) for r in rows], "kind": [r["kind"] for r in rows],
        "instruction": [r["instruction"] for r in rows], "input": [r["input"] for r in rows],
        "generation": [r["output"] for r in rows],
        "new_tokens": pa.array([r["new_tokens"] for r in rows], pa.int32()),
        "hit_max_new_tokens": [bool(r["hit_max_new_tokens"]) for r in rows],
    }
    for f in FLAGS:
        cols[f] = pa.array([s[f] for s in scored], pa.bool_())
    cols["checks"] = [json.dumps(s["checks"]) for s in scored]
    return pa.table(cols)


def _generate(ctx: Context, model_dir: Path, out_dir: Path) -> dict:
    from curate.models.lm import load_causal_lm

    p = ctx.params["probes"]
    probes = [{**r, "set": "probe"} for r in read_probes(ctx.paths["probes"])]
    items = list(probes)
    if p["user_oriented"]:
        items += [{**r, "set": "user_oriented", "kind": "user_oriented"}
                  for r in load_user_oriented(ctx.paths["user_oriented"])]
    model, tokenizer = load_causal_lm(model_dir, torch_threads=ctx.params["evaluate"]["torch_threads"])
    model, prec = for_generation(model, p["precision"])
    gens, stats = generate_greedy(model, tokenizer, items, p["max_new_tokens"], p["batch_size"],
                                  segment=p["segment"], desc="probes")
    rows = [{**it, "output": g["generation"], "new_tokens": g["new_tokens"],
             "hit_max_new_tokens": g["hit_max_new_tokens"]} for it, g in zip(items, gens)]
    scored = score_generations(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(generations_table(rows, scored), out_dir / "generations.parquet")
    out = {"generation": {**stats, "max_new_tokens": p["max_new_tokens"], "batch_size": p["batch_size"],
                          "segment": p["segment"], **prec}}
    for name in ("probe", "user_oriented"):
        sel = [{f: s[f] for f in FLAGS} for r, s in zip(rows, scored) if r["set"] == name]
        if sel:
            out[f"{name}_rates"] = rate_summary(sel)
            out[f"{name}_n"] = len(sel)
    out["probe_rates_by_kind"] = {
        k: rate_summary([{f: s[f] for f in FLAGS} for r, s in zip(rows, scored) if r["set"] == "probe" and r["kind"] == k])
        for k in sorted({r["kind"] for r in probes})}
    return out


def run(ctx: Context, model: str) -> dict:
    """Evaluate ``paths.models``/``model``; per-question and per-answer Parquet in
    ``paths.eval``/``model``; metrics ``eval_<model>``. Raises :class:`CurateError` for a
    malformed name or a missing checkpoint."""
    if not _NAME.match(model):
        raise CurateError(f"curate evaluate: {model!r} is not base or ARM-sSEED (e.g. clean-s1)")
    paths = ctx.paths
    model_dir = Path(paths["models"]) / model
    if not model_dir.is_dir():
        raise CurateError(f"{model_dir}: no such model; run `curate prepare-student` / `curate train` first")
    out_dir = Path(paths["eval"]) / model
    cfg = {**ctx.params["evaluate"], "seed": ctx.params["seed"],
           "truthfulqa_path": paths["truthfulqa"], "user_oriented_path": paths["user_oriented"]}

    def work() -> dict:
        m = evaluate(model_dir, cfg, None, name=model, per_question_path=out_dir / "truthfulqa.parquet")
        if ctx.params["probes"]["enabled"]:
            m.update(_generate(ctx, model_dir, out_dir))
        # compare reads only paths.eval (one DVC dependency for the whole grid)
        (out_dir / "summary.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return m

    return timed(ctx, f"eval_{model}", work,
                 {"mc1": "truthfulqa_mc1", "mc2": "truthfulqa_mc2", "loss": "user_oriented_loss"})
