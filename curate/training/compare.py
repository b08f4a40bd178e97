"""The ablation's statistics: every arm against every other, paired on questions and seeds.

Inputs, per model (``base`` and ``ARM-sSEED`` for each arm and seed of the grid), in
``eval_dir/MODEL/``: ``truthfulqa.parquet`` (:func:`curate.training.evaluate.write_per_question`),
``summary.json`` (the evaluation metrics) and, when probes ran, ``generations.parquet`` (one row
per greedy answer with the behaviour flags of :mod:`curate.detectors.behaviour`).

For each arm: MC1 and MC2 means over seeds and questions with 95% two-level bootstrap
intervals (:func:`curate.training.stats.bootstrap_means`; the base model, one checkpoint, over
questions only) and the spread of per-seed means (:func:`curate.training.stats.seed_spread`).
For each pair of arms A, B (and each arm against base): the paired difference A - B of MC1 and
MC2 with its 95% bootstrap interval over seeds and questions, the question-only interval, and
McNemar's exact test of MC1 (:func:`curate.training.stats.mcnemar_exact`, pairs pooled over
seeds). Probe and user-oriented rates per arm (pooled over seeds) with 95% Wilson intervals, and
paired bootstrap intervals of their differences (:func:`curate.training.stats.paired_rate_bootstraps`,
resampling probe items and seeds).

A difference is called an effect only when its two-level interval excludes zero; otherwise the
report says "no detectable difference". Intervals are per comparison, not adjusted for the
number of comparisons (10 pairs of 5 arms x 2 metrics): with that many, about one interval in
twenty excludes zero by chance alone.
"""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from curate.core.errors import CurateError
from curate.training.probes import rate_summary
from curate.training.stats import bootstrap_means, mcnemar_exact, paired_rate_bootstraps, seed_spread

METRICS = ("mc1", "mc2")
#: the behaviour flags compared (``curate.detectors.behaviour.FLAGS``; repeated here because
#: training may not import detectors: columns missing from a file are skipped)
RATE_FLAGS = ("hallucinated_unseen", "empty_or_na", "merged_fragment", "truncated", "wrong_computable",
              "non_text_placeholder")


def _read_model(eval_dir: Path, name: str) -> dict:
    import pyarrow.parquet as pq

    d = eval_dir / name
    tq = d / "truthfulqa.parquet"
    if not tq.is_file():
        raise CurateError(f"{tq}: no such file; run `curate evaluate {name}` first")
    t = pq.read_table(tq, columns=["question_index", "mc1_correct", "mc2"])
    order = np.argsort(t.column("question_index").to_numpy(), kind="stable")
    out = {"q": t.column("question_index").to_numpy()[order],
           "mc1": t.column("mc1_correct").to_numpy().astype(np.float64)[order],
           "mc2": t.column("mc2").to_numpy().astype(np.float64)[order]}
    s = d / "summary.json"
    out["summary"] = json.loads(s.read_text(encoding="utf-8")) if s.is_file() else {}
    g = d / "generations.parquet"
    out["gen"] = pq.read_table(g).to_pylist() if g.is_file() else None
    return out


def _generation_settings(eval_dir: Path, data: Mapping[str, list], names: Mapping[str, list]) -> dict | None:
    """The one ``{"max_new_tokens", "precision"}`` every model's answers were generated with
    (None when no model has answers); a summary without ``precision`` predates it and was fp32.
    Raises :class:`CurateError` when two models differ: their behaviour rates would not be paired."""
    seen: dict[str, dict] = {}
    for a, ds in data.items():
        for d, nm in zip(ds, names.get(a, [a])):
            if d["gen"] is not None:
                g = d["summary"].get("generation", {})
                seen[nm] = {"max_new_tokens": g.get("max_new_tokens"), "precision": g.get("precision", "fp32")}
    kinds = {tuple(v.values()) for v in seen.values()}
    if len(kinds) > 1:
        (n1, v1), (n2, v2) = next(((x, seen[x]), (y, seen[y])) for x in seen for y in seen if seen[x] != seen[y])
        raise CurateError(f"{eval_dir / n1}: answers generated with {v1}, {n2} with {v2}; refusing to compare "
                          "their behaviour rates (rerun `curate evaluate` with the same probes params)")
    return next(iter(seen.values()), None)


def _fmt_ci(ci) -> str:
    return f"[{ci[0]:+.4f}, {ci[1]:+.4f}]"


def verdict(a: str, b: str, ci: Sequence[float], n_seeds: int = 2) -> str:
    """``"no detectable difference"`` when the interval ``ci`` contains 0, else which is higher;
    with one seed (``n_seeds < 2``) the interval holds only the question sample, not training
    noise, and the verdict says so."""
    if ci[0] <= 0.0 <= ci[1] or any(x != x for x in ci):
        return "no detectable difference"
    side = f"{a} > {b}" if ci[0] > 0 else f"{a} < {b}"
    return side if n_seeds >= 2 else f"{side} (one seed: training noise not in the interval)"


def _rate_counts(gens: Sequence[Sequence[Mapping]], flag: str, which: str, ids: Sequence[str]):
    """k, n arrays [S, I] of ``flag`` over items ``ids`` of set ``which`` for each seed's rows."""
    k = np.zeros((len(gens), len(ids)))
    n = np.zeros((len(gens), len(ids)))
    pos = {i: j for j, i in enumerate(ids)}
    for s, rows in enumerate(gens):
        for r in rows:
            if r["set"] != which or r["id"] not in pos or r.get(flag) is None:
                continue
            n[s, pos[r["id"]]] += 1
            k[s, pos[r["id"]]] += bool(r[flag])
    return k, n


def compare(eval_dir: str | Path, arms: Sequence[str], seeds: Sequence[int], *, n_boot: int = 10_000,
            boot_seed: int = 0, report_path: str | Path | None = None, plot_path: str | Path | None = None,
            base: str | None = "base") -> dict:
    """Compare ``arms`` (each trained with every seed of ``seeds``) and ``base`` (skipped when None).

    Reads ``eval_dir/MODEL/`` (module docstring) for ``base`` and every ``ARM-sSEED``. Returns
    ``{"n_questions", "seeds", "n_boot", "bootstrap_seed", ARM: {"truthfulqa_mc1", "truthfulqa_mc2"
    (means), "ci95": {metric: [lo, hi]}, "seed_spread": {metric: ...}, "user_oriented_loss",
    "probe_rates": {flag: {k, n, rate, ci95}} ...}, "pairs": [{"a", "b", "metric", "estimate",
    "ci95", "ci95_questions", "verdict", "mcnemar" (mc1: b, c, n, p)}], "rate_pairs": [...]}``
    (the arm entries are what :func:`curate.analysis.report.ablation_arms` draws). Writes the
    Markdown report to ``report_path`` and, given ``plot_path``, the ``dvc plots`` CSV ``arm,
    metric, mean, lo, hi``. Raises :class:`CurateError` for a missing file or models scored on
    different questions."""
    eval_dir = Path(eval_dir)
    if not arms or not seeds:
        raise CurateError("compare: no arms or no seeds to compare")
    names = {a: [f"{a}-s{s}" for s in seeds] for a in arms}
    missing = [n for n in [*(x for ns in names.values() for x in ns), *([base] if base else [])]
               if not (eval_dir / n / "truthfulqa.parquet").is_file()]
    if missing:
        raise CurateError(f"{eval_dir}: no per-question results for {', '.join(missing)}; run "
                          + "; ".join(f"`curate evaluate {n}`" for n in missing) + " first")
    data = {a: [_read_model(eval_dir, n) for n in ns] for a, ns in names.items()}
    if base is not None:
        data[base] = [_read_model(eval_dir, base)]
    ref_name, ref = next((a, d[0]) for a, d in data.items())
    for a, ds in data.items():
        for d, nm in zip(ds, names.get(a, [a])):
            if not np.array_equal(d["q"], ref["q"]):
                raise CurateError(f"{eval_dir / nm}: scored on other TruthfulQA questions than {ref_name} "
                                  f"({len(d['q'])} vs {len(ref['q'])}); refusing to compare")
    out_gen = _generation_settings(eval_dir, data, names)
    q_n, s_n = len(ref["q"]), len(seeds)
    order = list(arms) + ([base] if base is not None else [])
    mats = {a: {m: np.stack([d[m] for d in ds]) for m in METRICS} for a, ds in data.items()}  # [S, Q]

    def full(a, m):  # base broadcast to the seeds' shape, for paired differences
        x = mats[a][m]
        return np.broadcast_to(x, (s_n, q_n)) if x.shape[0] == 1 else x

    out: dict[str, Any] = {"n_questions": q_n, "seeds": list(seeds), "n_boot": n_boot, "bootstrap_seed": boot_seed,
                           "arms": order, "generation": out_gen}
    plot_rows = []
    for a in order:
        res = bootstrap_means(np.stack([mats[a][m] for m in METRICS]), n_boot, boot_seed)
        entry: dict[str, Any] = {"n_models": len(data[a])}
        entry["ci95"] = {}
        entry["seed_spread"] = {}
        for m, r in zip(METRICS, res):
            entry[f"truthfulqa_{m}"] = r.estimate
            entry["ci95"][f"truthfulqa_{m}"] = list(r.ci)
            entry["seed_spread"][m] = seed_spread(mats[a][m].mean(axis=1))
            plot_rows.append({"arm": a, "metric": m, "mean": round(r.estimate, 6), "lo": round(r.ci[0], 6),
                              "hi": round(r.ci[1], 6)})
        losses = [d["summary"].get("user_oriented_loss") for d in data[a]]
        if all(isinstance(x, (int, float)) for x in losses):
            entry["user_oriented_loss"] = float(np.mean(losses))
        if all(d["gen"] is not None for d in data[a]):
            for which in ("probe", "user_oriented"):  # pooled over seeds
                rows = [{f: r.get(f) for f in RATE_FLAGS} for d in data[a] for r in d["gen"] if r["set"] == which]
                rates = rate_summary(rows)
                entry[f"{which}_rates"] = {f: rates.get(f, {"k": 0, "n": 0, "rate": None, "ci95": [None, None]})
                                           for f in RATE_FLAGS}
            tps = [d["summary"].get("generation", {}).get("tokens_per_s") for d in data[a]]
            entry["generation_tokens_per_s"] = float(np.mean([t for t in tps if t is not None])) if any(tps) else None
        out[a] = entry

    pairs = list(itertools.combinations(arms, 2)) + ([(a, base) for a in arms] if base is not None else [])
    out["pairs"] = []
    for a, b in pairs:
        diffs = np.stack([full(a, m) - full(b, m) for m in METRICS])
        res = bootstrap_means(diffs, n_boot, boot_seed)
        mc = mcnemar_exact(full(a, "mc1").ravel().astype(int), full(b, "mc1").ravel().astype(int))
        for m, r in zip(METRICS, res):
            row = {"a": a, "b": b, "metric": m, "estimate": r.estimate, "ci95": list(r.ci),
                   "ci95_questions": list(r.ci_questions), "verdict": verdict(a, b, r.ci, s_n)}
            if m == "mc1":
                row["mcnemar"] = mc.as_dict()
            out["pairs"].append(row)

    out["rate_pairs"] = []
    if all(d["gen"] is not None for a in arms for d in data[a]):
        ids = sorted({r["id"] for d in data[arms[0]] for r in d["gen"] if r["set"] == "probe"})
        for a, b in itertools.combinations(arms, 2):
            counts = {}
            for f in RATE_FLAGS:
                ka, na = _rate_counts([d["gen"] for d in data[a]], f, "probe", ids)
                kb, nb = _rate_counts([d["gen"] for d in data[b]], f, "probe", ids)
                if na.sum() and nb.sum():
                    counts[f] = (ka, na, kb, nb)
            if not counts:
                continue
            res = paired_rate_bootstraps(*(np.stack([c[i] for c in counts.values()]) for i in range(4)),
                                         n_boot=n_boot, seed=boot_seed)
            for f, r in zip(counts, res):
                out["rate_pairs"].append({"a": a, "b": b, "flag": f, "estimate": r.estimate, "ci95": list(r.ci),
                                          "verdict": verdict(a, b, r.ci, s_n)})

    if plot_path is not None:
        Path(plot_path).parent.mkdir(parents=True, exist_ok=True)
        with open(plot_path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["arm", "metric", "mean", "lo", "hi"])
            w.writeheader()
            w.writerows(plot_rows)
    if report_path is not None:
        Path(report_path).parent.mkdir(parents=True, exist_ok=True)
        Path(report_path).write_text(render_markdown(out), encoding="utf-8")
    return out


def pair_table(out: Mapping) -> str:
    """The paired differences as a Markdown table (what ``curate compare`` prints)."""
    lines = ["| A − B | metric | difference | 95% CI (seeds × questions) | 95% CI (questions) | McNemar b/c, p | verdict |",
             "|---|---|---|---|---|---|---|"]
    for p in out["pairs"]:
        mc = p.get("mcnemar")
        mcs = f"{mc['b']}/{mc['c']}, p={mc['p']:.3g}" if mc else ""
        lines.append(f"| {p['a']} − {p['b']} | {p['metric'].upper()} | {p['estimate']:+.4f} | {_fmt_ci(p['ci95'])} "
                     f"| {_fmt_ci(p['ci95_questions'])} | {mcs} | {p['verdict']} |")
    return "\n".join(lines)


def render_markdown(out: Mapping) -> str:
    """``reports/ablation.md``: arms, paired differences, probe rates, and what they say."""
    arms = out["arms"]
    lines = [f"# Ablation: {len(arms)} models, seeds {out['seeds']}, TruthfulQA v1 ({out['n_questions']} questions)",
             "",
             "Means over seeds and questions with 95% bootstrap intervals (seeds and questions resampled, "
             f"{out['n_boot']} replicates; base: questions only). Seed spread: range of the per-seed means.",
             "",
             "| arm | MC1 [95% CI] | MC2 [95% CI] | MC1 seed range | user-oriented loss |",
             "|---|---|---|---|---|"]
    for a in arms:
        e = out[a]
        c1, c2 = e["ci95"]["truthfulqa_mc1"], e["ci95"]["truthfulqa_mc2"]
        sp = e["seed_spread"]["mc1"]
        loss = e.get("user_oriented_loss")
        lines.append(f"| {a} | {e['truthfulqa_mc1']:.4f} [{c1[0]:.4f}, {c1[1]:.4f}] | {e['truthfulqa_mc2']:.4f} "
                     f"[{c2[0]:.4f}, {c2[1]:.4f}] | {sp['min']:.4f}–{sp['max']:.4f} | "
                     f"{'–' if loss is None else f'{loss:.4f}'} |")
    effects = [p for p in out["pairs"] if p["verdict"] != "no detectable difference"]
    lines += ["", "## Paired differences", "", pair_table(out), "",
              (f"{len(effects)} of {len(out['pairs'])} intervals exclude zero: "
               + "; ".join(f"{p['a']} − {p['b']} {p['metric'].upper()} {p['estimate']:+.4f}" for p in effects)
               if effects else
               f"No interval of the {len(out['pairs'])} excludes zero: no detectable difference between any two arms "
               "at this size."),
              "Intervals are not adjusted for the number of comparisons."
              + (" With one seed per arm the intervals resample questions only: they leave out seed-to-seed "
                 "training noise, so an interval that excludes zero is not yet an effect of the data "
                 "(params-ablation.yaml runs three seeds)." if len(out["seeds"]) < 2 else "")]
    rate_arms = [a for a in arms if "probe_rates" in out[a]]
    if rate_arms:
        for which, title in (("probe", "Behavioural probes (held-out instructions)"),
                             ("user_oriented", "User-oriented instructions (252)")):
            lines += ["", f"## {title}", "", "Share of answers flagged by the project's detectors (k/n, 95% Wilson "
                      "interval; n: answers the flag applies to, pooled over seeds).", "",
                      "| arm | " + " | ".join(RATE_FLAGS) + " |", "|---|" + "---|" * len(RATE_FLAGS)]
            for a in rate_arms:
                cells = []
                for f in RATE_FLAGS:
                    r = out[a][f"{which}_rates"][f]
                    cells.append("–" if not r["n"] else f"{r['rate']:.3f} ({r['k']}/{r['n']}) "
                                 f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]")
                lines.append(f"| {a} | " + " | ".join(cells) + " |")
        if out["rate_pairs"]:
            lines += ["", "Paired differences of probe rates (bootstrap over probes and seeds):", "",
                      "| A − B | flag | difference | 95% CI | verdict |", "|---|---|---|---|---|"]
            for p in out["rate_pairs"]:
                lines.append(f"| {p['a']} − {p['b']} | {p['flag']} | {p['estimate']:+.4f} | {_fmt_ci(p['ci95'])} "
                             f"| {p['verdict']} |")
    return "\n".join(lines) + "\n"
