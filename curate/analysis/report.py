"""The run's report: one self-contained, offline HTML page (``curate report`` -> ``reports/index.html``).

Sections, in page order (each a ``<section id=...>``; every one but the provenance holds exactly
one Plotly chart, ``<div class="chart" data-chart=NAME>``):

``provenance``  the validated params (pretty-printed JSON; credentials in URLs masked, no
                environment variable is read), the git revision of the project root (``unknown``
                outside git, `` (dirty)`` with uncommitted changes) and the MD5 of every input
                file (``paths.raw_inputs``) and of the ingested and clean Parquet files
``funnel``      per input source and in total: records read -> quarantined (by reason) -> dropped
                (by check) -> normalised (records; changes by check) -> flagged for repair / for
                review (annotations, by check) -> kept; a stacked bar chart and a table whose
                total cells carry ``data-metric="<key>"`` with the number of ``metrics/clean.json``
``verbs``       self-instruct Figure 2 (Wang et al., 2022) for raw and clean: top 20 root verbs
                (inner ring), top 4 direct-object nouns of each (outer ring), share of
                instructions with a verb-noun pair, number of distinct pairs
``lengths``     words per instruction, input and output, raw against clean (overlaid histograms,
                percent of records)
``rouge``       ROUGE-L F1 of each instruction with its most similar seed task (self-instruct
                Figure 3), raw against clean
``detectors``   per check: findings by action, dev-set precision and recall with 95% Wilson
                intervals, five example findings (the first five by record id)
``clusters``    the 20 largest near-duplicate clusters with their members, scores and whether
                each member is in the clean set
``ablation``    each arm's TruthfulQA MC1/MC2 mean with its 95% interval (``reports/ablation.json``);
                a sentence when the ablation has not run

Plotly is imported inside functions (a heavy library). plotly.js is inlined once; the figures
are drawn as SVG (no WebGL trace types) and the page makes no request of any kind: no CDN, no
web fonts, no MathJax.

Where the numbers come from (``root`` = the project root, ``paths`` = the params' ``paths``):
``paths.database`` (tables ``raw``, ``clean``, ``annotations``, ``quarantine``, ``lengths``,
``clean_lengths``, ``clusters``; :mod:`curate.analysis.db`), ``paths.verb_noun``,
``paths.dropped``, ``paths.detect_annotations``, ``paths.seed_tasks``, ``root/metrics/clean.json``
(headline), ``root/reports/clean.json`` (detail), ``root/reports/detect_eval.json``
(:mod:`curate.detectors.deveval`) and, optional, ``root/reports/ablation.json``
(:mod:`curate.training.compare`).
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import random
import re
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

import pyarrow as pa

from curate.analysis.verbs import VERB_NOUN_SCHEMA, top_verb_nouns
from curate.core.annotations import DROPPED_SCHEMA
from curate.core.errors import CurateError
from curate.core.io import read_seed_tasks
from curate.core.rouge import RougePool
from curate.core.schema import ANNOTATION_SCHEMA, read_table

#: chart sections in page order (the provenance section has no chart)
CHART_SECTIONS = ("funnel", "verbs", "lengths", "rouge", "detectors", "clusters", "ablation")

#: above this many instructions per side the ROUGE-L histogram uses a seeded uniform sample of
#: this size (all 27.7K bundled records x 175 seed tasks take about 4 s on 2 cores)
ROUGE_MAX_RECORDS = 50_000

#: funnel rows that have a headline key in ``metrics/clean.json`` (the flat vocabulary of
#: :mod:`curate.stages.base`)
HEADLINE_ROWS = ("read", "quarantined", "dropped", "normalized", "repaired", "flagged", "kept")

CLIP_CHARS = 240
TOP_CLUSTERS = 20
EXAMPLES_PER_CHECK = 5


# ----------------------------------------------------------------------------- inputs

def read_json(path: str | Path, what: str) -> dict:
    """The JSON object in ``path``. Raises :class:`CurateError` naming the file (and ``what``
    wrote it) when it is missing, not JSON or not an object."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurateError(f"{path}: no such file; run {what} first") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise CurateError(f"{path}: cannot read: {' '.join(str(e).split())}") from None
    if not isinstance(obj, dict):
        raise CurateError(f"{path}: expected a JSON object")
    return obj


def require(path: str | Path | None, what: str) -> Path:
    """``path`` as a Path if it names an existing file; else :class:`CurateError` naming it and
    the stage (``what``) that writes it."""
    if not path:
        raise CurateError(f"the report needs {what}, but its path is not set in params")
    p = Path(path)
    if not p.is_file():
        raise CurateError(f"{p}: no such file; run {what} first")
    return p


def file_md5(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex MD5 of the bytes of ``path`` (read in 1 MiB chunks). Raises ``OSError``."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def git_revision(root: str | Path) -> str:
    """``git rev-parse HEAD`` in ``root``, plus ``" (dirty)"`` when ``git status --porcelain``
    lists anything; ``"unknown"`` when git is missing or ``root`` is not in a repository."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True,
                              timeout=60).stdout.strip()
    try:
        rev = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    try:
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        dirty = False
    return rev + (" (dirty)" if dirty else "")


_URL_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


def public_params(params: Any) -> Any:
    """A copy of ``params`` fit to print: user:password in any URL replaced by ``***``. (The
    params hold no secret by design, only the *names* of environment variables.)"""
    if isinstance(params, Mapping):
        return {str(k): public_params(v) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [public_params(v) for v in params]
    if isinstance(params, str):
        return _URL_CREDENTIALS.sub(r"\1***@", params)
    return params


def _display_path(path: str | Path, root: Path) -> str:
    p = Path(path)
    try:
        return str(p.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(p)


def provenance(params: Mapping, root: str | Path) -> dict:
    """``{"params": dict, "git": str, "hashes": [{"role", "path", "md5"}]}``: the params as
    :func:`public_params`, :func:`git_revision` of ``root`` and the MD5 of each local file in
    ``paths.raw_inputs`` (``hf:`` specs and URLs get ``md5`` None) and of ``paths.ingested`` and
    ``paths.clean``. Raises :class:`CurateError` naming a local input file that is missing."""
    root = Path(root)
    paths = params["paths"]
    hashes = []
    for spec in paths.get("raw_inputs") or []:
        spec = str(spec)
        if spec.startswith("hf:") or "://" in spec:
            hashes.append({"role": "raw input (remote, not hashed)", "path": spec, "md5": None})
            continue
        hashes.append({"role": "raw input", "path": _display_path(spec, root),
                       "md5": file_md5(require(spec, "the pipeline's input (paths.raw_inputs)"))})
    for key, role in (("ingested", "ingested records"), ("clean", "clean records")):
        p = require(paths.get(key), f"`curate {'ingest' if key == 'ingested' else 'clean'}` (paths.{key})")
        hashes.append({"role": role, "path": _display_path(p, root), "md5": file_md5(p)})
    return {"params": public_params(params), "git": git_revision(root), "hashes": hashes}


# ----------------------------------------------------------------------------- the funnel

def _headline_key(key: str, headline: Mapping) -> str | None:
    return key if key in HEADLINE_ROWS and key in headline else None


def funnel(con, clean_detail: Mapping, clean_headline: Mapping, dropped: pa.Table) -> dict:
    """The clean funnel per source and in total.

    ``con``: an open connection to the analysis database (tables ``raw``, ``clean``,
    ``annotations``, ``quarantine``); ``clean_detail``: clean's full metrics
    (:func:`curate.core.annotations.apply_annotations`: ``records_read``, ``quarantined``,
    ``dropped``, ``dropped_by_check``, ``records_normalized``, ``normalized_by_check``,
    ``flagged`` {``"action:check"``: n}, ``kept``); ``clean_headline``: ``metrics/clean.json``;
    ``dropped``: ``paths.dropped`` (columns ``source``, ``drop_check``).

    Returns ``{"sources": [source, ...], "rows": [row, ...], "warnings": [str, ...]}``, each row
    ``{"key", "label", "level" (0 step, 1 its breakdown), "by_source": {source: int},
    "total": int, "metric": headline key or None}``. Steps (level 0): ``read``, ``quarantined``,
    ``dropped``, ``normalized`` (records changed), ``repaired`` and ``flagged`` (review/repair
    annotations on kept records: a record can carry several), ``kept``. Totals are the headline's
    numbers where it has the key (``metric`` names it), else clean's detail; per-source numbers are
    counted in the database and ``paths.dropped``. A per-source sum that differs from its total
    (a database built from other files than the metrics) is reported in ``warnings``."""
    def rows(sql: str) -> list[tuple]:
        return con.execute(sql).fetchall()

    per: dict[str, Counter] = defaultdict(Counter)  # row key -> source -> n
    for src, n in rows("SELECT source, count(*) FROM raw GROUP BY ALL"):
        per["read"][src] += n
    for src, reason, n in rows("SELECT file, split_part(reason, ':', 1), count(*) FROM quarantine GROUP BY ALL"):
        per["read"][src] += n
        per["quarantined"][src] += n
        per[f"quarantined:{reason}"][src] += n
    for src, check in zip(dropped.column("source").to_pylist(), dropped.column("drop_check").to_pylist()):
        per["dropped"][src] += 1
        per[f"dropped:{check}"][src] += 1
    for src, check, n in rows("""SELECT c.source, a.check_name, count(*) FROM annotations a JOIN clean c USING (id)
                                 WHERE a.action = 'normalize' AND a.field IS NOT NULL GROUP BY ALL"""):
        per[f"normalized:{check}"][src] += n
    for src, n in rows("""SELECT c.source, count(DISTINCT a.id) FROM annotations a JOIN clean c USING (id)
                          WHERE a.action = 'normalize' AND a.field IS NOT NULL GROUP BY ALL"""):
        per["normalized"][src] += n
    for src, action, check, n in rows("""SELECT c.source, a.action, a.check_name, count(*)
                                         FROM annotations a JOIN clean c USING (id)
                                         WHERE a.action IN ('repair', 'review') GROUP BY ALL"""):
        step = "repaired" if action == "repair" else "flagged"
        per[step][src] += n
        per[f"{step}:{check}"][src] += n
    for src, n in rows("SELECT source, count(*) FROM clean GROUP BY ALL"):
        per["kept"][src] += n

    d = clean_detail
    flagged = d.get("flagged", {})
    repair = {k.split(":", 1)[1]: v for k, v in flagged.items() if k.startswith("repair:")}
    review = {k.split(":", 1)[1]: v for k, v in flagged.items() if k.startswith("review:")}
    quarantine_reasons = {k.split(":", 1)[1]: sum(per[k].values()) for k in per if k.startswith("quarantined:")}
    steps = [
        ("read", "records read", d["records_read"], {}),
        ("quarantined", "quarantined by ingest", d["quarantined"], quarantine_reasons),
        ("dropped", "dropped", d["dropped"], d.get("dropped_by_check", {})),
        ("normalized", "normalised (records)", d["records_normalized"], d.get("normalized_by_check", {})),
        ("repaired", "flagged for repair (annotations)", sum(repair.values()), repair),
        ("flagged", "flagged for review (annotations)", sum(review.values()), review),
        ("kept", "kept", d["kept"], {}),
    ]
    out_rows, warnings = [], []
    for key, label, total, parts in steps:
        metric = _headline_key(key, clean_headline)
        if metric is not None:
            if clean_headline[metric] != total:
                warnings.append(f"{key}: metrics/clean.json says {clean_headline[metric]}, reports/clean.json {total}")
            total = clean_headline[metric]
        out_rows.append({"key": key, "label": label, "level": 0, "by_source": dict(per[key]), "total": total,
                         "metric": metric})
        sub = "changes" if key == "normalized" else ""
        for name, n in sorted(parts.items(), key=lambda kv: (-kv[1], kv[0])):
            out_rows.append({"key": f"{key}:{name}", "label": f"{name}{' (' + sub + ')' if sub else ''}",
                             "level": 1, "by_source": dict(per[f"{key}:{name}"]), "total": n, "metric": None})
    sources = sorted({s for c in per.values() for s in c})
    for r in out_rows:
        got = sum(r["by_source"].values())
        if got != r["total"]:
            warnings.append(f"{r['key']}: the sources add up to {got}, the total is {r['total']}")
    return {"sources": sources, "rows": out_rows, "warnings": warnings}


# ----------------------------------------------------------------------------- verbs, lengths, ROUGE-L

def verb_noun_summary(verb_noun: pa.Table, ids: set[str] | None, top_verbs: int = 20, top_nouns: int = 4) -> dict:
    """Figure 2 data for the records whose id is in ``ids`` (``None``: all rows of ``verb_noun``,
    the ``id, verb, noun`` table of :func:`curate.analysis.verbs.verb_noun_table`).

    Returns ``{"rows": top_verb_nouns(...) rows, "records": int, "with_pair": int,
    "share_with_pair": float in [0, 1], "distinct_pairs": int}``."""
    t = verb_noun
    if ids is not None:
        t = t.filter(pa.array([i in ids for i in t.column("id").to_pylist()], type=pa.bool_()))
    pairs = [(v, n) for v, n in zip(t.column("verb").to_pylist(), t.column("noun").to_pylist())
             if v is not None and n is not None]
    return {"rows": top_verb_nouns(t, top_verbs, top_nouns), "records": t.num_rows, "with_pair": len(pairs),
            "share_with_pair": round(len(pairs) / t.num_rows, 4) if t.num_rows else 0.0,
            "distinct_pairs": len(set(pairs))}


def word_lengths(con) -> dict:
    """``{"raw"|"clean": {"instruction"|"input"|"output": [words per record, ...]}}`` from the
    database's ``lengths`` and ``clean_lengths`` tables (words = runs of non-whitespace)."""
    out = {}
    for name, table in (("raw", "lengths"), ("clean", "clean_lengths")):
        cols = con.execute(f"SELECT instruction_words, input_words, output_words FROM {table}").fetchall()
        out[name] = {f: [r[i] for r in cols] for i, f in enumerate(("instruction", "input", "output"))}
    return out


def nearest_seed_rouge(instructions: Sequence[str], seeds: Sequence[str], max_records: int = ROUGE_MAX_RECORDS,
                       seed: int = 0, cache: dict[str, float] | None = None) -> dict:
    """ROUGE-L F1 of each instruction with its most similar seed instruction (self-instruct
    Figure 3), with the project's exact scorer (:class:`curate.core.rouge.RougePool`; identical
    texts are scored once; pass the same ``cache`` dict, text -> score, to share the scores of
    one set of ``seeds`` between calls, e.g. raw then clean). Above ``max_records`` instructions a
    uniform sample of that many, drawn with ``random.Random(seed)``, is scored.

    Returns ``{"scores": [float in [0, 1], ...], "n": int (all instructions), "sampled": bool}``."""
    texts = list(instructions)
    sampled = len(texts) > max_records
    if sampled:
        texts = random.Random(seed).sample(texts, max_records)
    pool = RougePool(seeds)
    cache = {} if cache is None else cache
    scores = []
    for t in texts:
        if t not in cache:
            cache[t] = float(pool.scores(t).max()) if len(pool) else 0.0
        scores.append(cache[t])
    return {"scores": scores, "n": len(instructions), "sampled": sampled}


# ----------------------------------------------------------------------------- detectors, clusters, ablation

def detector_summary(con, detect: pa.Table, deveval: Mapping, examples: int = EXAMPLES_PER_CHECK) -> list[dict]:
    """Per detect check (sorted by name): ``{"check", "category", "by_action": {action: n},
    "findings": n (annotations other than keep), "dev": the check's entry of
    ``reports/detect_eval.json`` ``detectors`` (precision, precision_ci95, recall, recall_ci95,
    ...; ``{}`` if absent), "examples": [{"id", "action", "reason", "instruction", "output"}]}``,
    the first ``examples`` findings by record id. ``detect``: ``paths.detect_annotations``;
    ``con``: the analysis database (for the records' text, table ``raw``)."""
    con.register("_detect", detect.select(["id", "check_name", "category", "action", "reason"]))
    try:
        counts = con.execute("SELECT check_name, any_value(category), action, count(*) FROM _detect "
                             "GROUP BY check_name, action ORDER BY ALL").fetchall()
        ex = con.execute(
            """SELECT check_name, id, action, reason, instruction, output FROM (
                   SELECT d.check_name, d.id, d.action, d.reason, r.instruction, r.output,
                          row_number() OVER (PARTITION BY d.check_name ORDER BY d.id, d.reason) AS k
                   FROM _detect d LEFT JOIN raw r USING (id) WHERE d.action <> 'keep')
               WHERE k <= ? ORDER BY check_name, k""", [examples]).fetchall()
    finally:
        con.unregister("_detect")
    dev = deveval.get("detectors", {})
    out: dict[str, dict] = {}
    for check, cat, action, n in counts:
        e = out.setdefault(check, {"check": check, "category": cat, "by_action": {}, "findings": 0,
                                   "dev": dev.get(check, {}), "examples": []})
        e["by_action"][action] = n
        e["findings"] += n if action != "keep" else 0
    for check, rid, action, reason, instruction, output in ex:
        out[check]["examples"].append({"id": rid, "action": action, "reason": reason,
                                       "instruction": instruction, "output": output})
    for check, d in dev.items():  # enabled detectors that found nothing still have a dev-set row
        out.setdefault(check, {"check": check, "category": d.get("category"), "by_action": {}, "findings": 0,
                               "dev": d, "examples": []})
    return [out[k] for k in sorted(out)]


def largest_clusters(con, seeds: Mapping[str, str], top: int = TOP_CLUSTERS) -> list[dict]:
    """The ``top`` largest clusters of the database's ``clusters`` table (ties: cluster id):
    ``[{"cluster_id", "size", "members": [{"id", "method", "score", "representative": bool,
    "in_clean": bool, "instruction"}]}]``; a ``seed:<id>`` representative takes its text from
    ``seeds`` (seed id -> instruction)."""
    heads = con.execute("SELECT cluster_id, count(*) AS n FROM clusters GROUP BY cluster_id "
                        "ORDER BY n DESC, cluster_id LIMIT ?", [top]).fetchall()
    if not heads:
        return []
    ids = [h[0] for h in heads]
    rows = con.execute(
        """SELECT k.cluster_id, k.id, k.method, k.score, k.id = k.representative_id,
                  k.id IN (SELECT id FROM clean), r.instruction
           FROM clusters k LEFT JOIN raw r USING (id)
           WHERE k.cluster_id IN (SELECT unnest(?))
           ORDER BY k.cluster_id, k.id <> k.representative_id, k.score DESC NULLS FIRST, k.id""", [ids]).fetchall()
    members: dict[str, list] = defaultdict(list)
    for cid, rid, method, score, rep, in_clean, instruction in rows:
        if instruction is None and rid.startswith("seed:"):
            instruction = seeds.get(rid.removeprefix("seed:"))
        members[cid].append({"id": rid, "method": method, "score": score, "representative": bool(rep),
                             "in_clean": bool(in_clean), "instruction": instruction})
    return [{"cluster_id": cid, "size": n, "members": members[cid]} for cid, n in heads]


ABLATION_METRICS = ("truthfulqa_mc1", "truthfulqa_mc2")
#: arms shown first, in this order (compare writes its JSON with sorted keys)
ARM_ORDER = ("base", "raw", "clean")


def ablation_arms(ablation: Mapping | None) -> list[dict]:
    """The arms of ``reports/ablation.json`` (:func:`curate.training.compare.compare`; ``None``:
    not run -> ``[]``): every top-level entry that is an object with a numeric MC1 or MC2 and
    whose name does not start with ``delta``: :data:`ARM_ORDER` first, then the others in file order. Each ``{"arm", "metrics": {metric:
    {"mean", "lo", "hi"}}, "other": {key: number}}``; ``lo``/``hi`` come from the arm's ``ci95``
    (``{metric: [lo, hi]}``) or, failing that, mean ± 1.96·``<metric>_stderr``, else None (no
    interval available)."""
    arms = []
    for name, v in (ablation or {}).items():
        if not isinstance(v, Mapping) or name.startswith("delta"):
            continue
        if not any(isinstance(v.get(m), (int, float)) for m in ABLATION_METRICS):
            continue
        ms = {}
        for m in ABLATION_METRICS:
            mean = v.get(m)
            if not isinstance(mean, (int, float)):
                continue
            lo = hi = None
            ci = (v.get("ci95") or {}).get(m)
            if isinstance(ci, (list, tuple)) and len(ci) == 2 and all(isinstance(x, (int, float)) for x in ci):
                lo, hi = ci
            elif isinstance(v.get(f"{m}_stderr"), (int, float)):
                lo, hi = mean - 1.96 * v[f"{m}_stderr"], mean + 1.96 * v[f"{m}_stderr"]
            ms[m] = {"mean": mean, "lo": lo, "hi": hi}
        other = {k: x for k, x in v.items() if k not in ABLATION_METRICS and isinstance(x, (int, float))
                 and not isinstance(x, bool) and not k.endswith("_stderr")}
        arms.append({"arm": name, "metrics": ms, "other": other})
    order = {a: k for k, a in enumerate(ARM_ORDER)}
    return sorted(arms, key=lambda a: order.get(a["arm"], len(order)))  # stable: other arms in file order


# ----------------------------------------------------------------------------- gathering

def gather_report(params: Mapping, root: str | Path) -> dict:
    """Everything the page shows, as plain Python (see the module docstring for the sources).

    ``params``: the validated params (``paths`` resolved, ``seed``); ``root``: the project root.
    Returns ``{"provenance", "funnel", "verbs": {"raw", "clean"}, "lengths", "rouge": {"raw",
    "clean", "seeds"}, "detectors", "clusters", "ablation": [arms] or None, "ablation_path"}``.
    Raises :class:`CurateError` naming the first required input that is missing or unreadable;
    a missing ``reports/ablation.json`` gives ``ablation`` None."""
    import duckdb

    root = Path(root)
    paths = params["paths"]
    db = require(paths.get("database"), "`curate analyze` (paths.database)")
    verb_noun_path = require(paths.get("verb_noun"), "`curate analyze` (paths.verb_noun)")
    dropped_path = require(paths.get("dropped"), "`curate clean` (paths.dropped)")
    detect_path = require(paths.get("detect_annotations"), "`curate detect` (paths.detect_annotations)")
    headline = read_json(root / "metrics" / "clean.json", "`curate clean`")
    detail = read_json(root / "reports" / "clean.json", "`curate clean`")
    deveval = read_json(root / "reports" / "detect_eval.json", "`curate detect-eval`")
    seeds = read_seed_tasks(paths["seed_tasks"]) if paths.get("seed_tasks") else []
    ablation_path = root / "reports" / "ablation.json"
    ablation = read_json(ablation_path, "`curate compare`") if ablation_path.is_file() else None
    prov = provenance(params, root)

    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as e:
        raise CurateError(f"{db}: cannot open the analysis database: {' '.join(str(e).split())}") from None
    try:
        dropped = read_table(dropped_path, DROPPED_SCHEMA)
        detect = read_table(detect_path, ANNOTATION_SCHEMA)
        verb_noun = read_table(verb_noun_path, VERB_NOUN_SCHEMA)
        try:
            fun = funnel(con, detail, headline, dropped)
        except KeyError as e:
            raise CurateError(f"{detail_path}: clean's metrics lack {e}; re-run `curate clean`") from None
        clean_ids = {r[0] for r in con.execute("SELECT id FROM clean").fetchall()}
        raw_text = [r[0] for r in con.execute("SELECT instruction FROM raw ORDER BY id").fetchall()]
        clean_text = [r[0] for r in con.execute("SELECT instruction FROM clean ORDER BY id").fetchall()]
        seed = int(params.get("seed", 0))
        seed_texts = [s["instruction"] for s in seeds]
        scored: dict[str, float] = {}  # instruction -> ROUGE-L to the nearest seed, shared by raw and clean
        data = {
            "provenance": prov,
            "funnel": fun,
            "verbs": {"raw": verb_noun_summary(verb_noun, None), "clean": verb_noun_summary(verb_noun, clean_ids)},
            "lengths": word_lengths(con),
            "rouge": ({"raw": nearest_seed_rouge(raw_text, seed_texts, seed=seed, cache=scored),
                       "clean": nearest_seed_rouge(clean_text, seed_texts, seed=seed, cache=scored),
                       "seeds": len(seeds)} if seeds else None),
            "detectors": detector_summary(con, detect, deveval),
            "clusters": largest_clusters(con, {s["id"]: s["instruction"] for s in seeds}),
            "ablation": ablation_arms(ablation) if ablation is not None else None,
            "ablation_path": _display_path(ablation_path, root),
        }
    except duckdb.Error as e:
        raise CurateError(f"{db}: {' '.join(str(e).split())} (rebuild it with `curate analyze`)") from None
    finally:
        con.close()
    return data


# ----------------------------------------------------------------------------- figures

RAW_COLOUR, CLEAN_COLOUR = "#d62728", "#1f77b4"


#: one colour per verb, the same in the raw and the clean sunburst: D3's ten, then ColorBrewer Set3's ten
_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf", "#8dd3c7", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#bc80bd",
            "#ccebc5", "#ffed6f")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _layout(fig, title: str, height: int) -> None:
    fig.update_layout(title={"text": title, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top"},
                      height=height, template="plotly_white", margin={"l": 60, "r": 20, "t": 100, "b": 50},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.08, "x": 1, "xanchor": "right",
                              "traceorder": "normal"})


def funnel_figure(f: Mapping):
    """Horizontal stacked bars: one bar per funnel row (steps and their breakdowns, top to
    bottom), one colour per source; x = records (annotations for the flagged rows)."""
    import plotly.graph_objects as go

    rows = f["rows"]
    labels = [r["label"] if r["level"] == 0 else f"    {r['key'].split(':', 1)[0]}: {r['label']}" for r in rows]
    fig = go.Figure()
    for src in f["sources"]:
        fig.add_trace(go.Bar(y=labels, x=[r["by_source"].get(src, 0) for r in rows], name=src, orientation="h",
                             hovertemplate="%{y}: %{x}<extra>" + html.escape(src) + "</extra>"))
    fig.update_layout(barmode="stack", yaxis={"autorange": "reversed", "automargin": True},
                      xaxis={"title": {"text": "records (annotations for flagged rows)"}})
    _layout(fig, "Clean funnel by input source", max(320, 26 * len(rows) + 120))
    return fig


def verbs_figure(v: Mapping):
    """Two sunbursts (raw, clean) drawn as in the paper: only the shown pairs, so a top verb's
    wedge (inside) is the sum of its top nouns' wedges (outside), each sized by the pair's
    records; the hover gives the verb's records with any noun."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    titles = [f"{name}: {s['share_with_pair']:.1%} of {s['records']} instructions have a verb-noun pair, "
              f"{s['distinct_pairs']} distinct pairs" for name, s in (("raw", v["raw"]), ("clean", v["clean"]))]
    fig = make_subplots(rows=1, cols=2, specs=[[{"type": "domain"}, {"type": "domain"}]], subplot_titles=titles)
    verbs = list(dict.fromkeys(r["verb"] for name in ("raw", "clean") for r in v[name]["rows"]))
    colour = {verb: _PALETTE[k % len(_PALETTE)] for k, verb in enumerate(verbs)}
    for col, name in ((1, "raw"), (2, "clean")):
        ids, labels, parents, values, colours, hover = [], [], [], [], [], []
        shown: dict[str, int] = {}
        for r in v[name]["rows"]:
            shown[r["verb"]] = shown.get(r["verb"], 0) + r["count"]
        for verb, n in shown.items():
            first = next(r for r in v[name]["rows"] if r["verb"] == verb)
            ids.append(f"{name}/{verb}")
            labels.append(verb)
            parents.append("")
            values.append(n)
            colours.append(_rgba(colour[verb], 0.95))
            hover.append(f"{verb}: {first['verb_count']} records with a noun object, {n} with a noun shown")
        for r in v[name]["rows"]:
            ids.append(f"{name}/{r['verb']}/{r['noun']}")
            labels.append(r["noun"])
            parents.append(f"{name}/{r['verb']}")
            values.append(r["count"])
            colours.append(_rgba(colour[r["verb"]], 0.5))
            hover.append(f"{r['verb']} {r['noun']}: {r['count']} records")
        fig.add_trace(go.Sunburst(ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
                                  name=name, insidetextorientation="radial", marker={"colors": colours},
                                  hovertext=hover, hovertemplate="%{hovertext}<extra>" + name + "</extra>"),
                      row=1, col=col)
    _layout(fig, "Root verbs and their direct-object nouns (top 20 verbs, top 4 nouns each; "
                 "self-instruct Figure 2)", 620)
    fig.update_annotations(font_size=12, yshift=10)
    return fig


def _hist(values: Sequence[float], edges: Sequence[float]) -> list[float]:
    import numpy as np

    if not len(values):
        return [0.0] * (len(edges) - 1)
    counts, _ = np.histogram(np.clip(np.asarray(values, dtype=float), edges[0], edges[-1]), bins=edges)
    return [round(100.0 * c / len(values), 3) for c in counts]


def lengths_figure(lengths: Mapping):
    """Overlaid histograms (percent of records) of words per instruction, input and output,
    raw against clean, on shared bins; the last bin holds everything from the raw set's 99th
    percentile up."""
    import numpy as np
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fields = ("instruction", "input", "output")
    fig = make_subplots(rows=1, cols=3, subplot_titles=[f"{f} (words)" for f in fields])
    for col, field in enumerate(fields, start=1):
        raw = lengths["raw"][field]
        top = max(1, int(np.percentile(raw, 99))) if raw else 1
        width = max(1, math.ceil((top + 1) / 40))
        edges = list(range(0, top + width + 1, width))
        edges[-1] = max(edges[-1], top + 1)
        centres = [(a + b) / 2 for a, b in zip(edges, edges[1:])]
        for name, colour in (("raw", RAW_COLOUR), ("clean", CLEAN_COLOUR)):
            fig.add_trace(go.Bar(x=centres, y=_hist(lengths[name][field], edges), width=width * 0.95, name=name,
                                 marker_color=colour, opacity=0.55, legendgroup=name, showlegend=col == 1,
                                 hovertemplate=f"{name}: %{{y:.2f}}% of records at ~%{{x}} words<extra></extra>"),
                          row=1, col=col)
        fig.update_xaxes(title_text=f"words (last bin: ≥ {edges[-2]})", row=1, col=col)
    fig.update_yaxes(title_text="% of records", row=1, col=1)
    fig.update_layout(barmode="overlay")
    n_raw, n_clean = len(lengths["raw"]["instruction"]), len(lengths["clean"]["instruction"])
    _layout(fig, f"Length distributions, raw ({n_raw} records) against clean ({n_clean})", 420)
    return fig


def rouge_figure(rouge: Mapping | None):
    """Overlaid histograms (percent of instructions, bins of 0.05) of the ROUGE-L F1 to the most
    similar seed task, raw against clean; the title says when a sample was scored. ``None``
    (no seed tasks configured): an empty chart saying so."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if rouge is None:
        fig.add_trace(go.Bar(x=[0], y=[0], name="no seed tasks"))
        _layout(fig, "ROUGE-L to the nearest seed task: paths.seed_tasks is not set", 320)
        return fig
    edges = [i / 20 for i in range(21)]
    parts = []
    for name, colour in (("raw", RAW_COLOUR), ("clean", CLEAN_COLOUR)):
        r = rouge[name]
        fig.add_trace(go.Bar(x=[e + 0.025 for e in edges[:-1]], y=_hist(r["scores"], edges), width=0.05 * 0.95,
                             name=name, marker_color=colour, opacity=0.55,
                             hovertemplate=f"{name}: %{{y:.2f}}% at ROUGE-L ~%{{x:.3f}}<extra></extra>"))
        parts.append(f"{name}: uniform sample of {len(r['scores'])} of {r['n']} (seeded)" if r["sampled"]
                     else f"{name}: all {r['n']}")
    fig.update_layout(barmode="overlay", xaxis={"title": {"text": "ROUGE-L F1 with the most similar seed task"},
                                                "range": [0, 1]},
                      yaxis={"title": {"text": "% of instructions"}})
    _layout(fig, f"ROUGE-L to the nearest of {rouge['seeds']} seed tasks (self-instruct Figure 3; "
                 f"{'; '.join(parts)} instructions)", 420)
    return fig


def detectors_figure(detectors: Sequence[Mapping]):
    """Dev-set precision and recall of each check with its 95% Wilson interval (points with
    error bars; a check without a number on the dev set has no point)."""
    import plotly.graph_objects as go

    names = [d["check"] for d in detectors]
    fig = go.Figure()
    for metric, colour, dy in (("precision", "#2ca02c", -0.15), ("recall", "#9467bd", 0.15)):
        ys, xs, plus, minus = [], [], [], []
        for i, d in enumerate(detectors):
            v = d["dev"].get(metric)
            if v is None:
                continue
            lo, hi = (d["dev"].get(f"{metric}_ci95") or [None, None])[:2]
            ys.append(i + dy)
            xs.append(v)
            plus.append((hi - v) if hi is not None else 0)
            minus.append((v - lo) if lo is not None else 0)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=metric, marker={"color": colour, "size": 8},
                                 error_x={"type": "data", "array": plus, "arrayminus": minus, "visible": True},
                                 text=[names[round(y - dy)] for y in ys],
                                 hovertemplate="%{text}: " + metric + " %{x:.2f}<extra></extra>"))
    fig.update_layout(xaxis={"title": {"text": "on the labelled dev set (95% Wilson interval)"}, "range": [-0.02, 1.02]},
                      yaxis={"tickmode": "array", "tickvals": list(range(len(names))), "ticktext": names,
                             "autorange": "reversed", "automargin": True})
    _layout(fig, "Detectors: precision and recall on the dev set", max(320, 24 * len(names) + 140))
    return fig


def clusters_figure(clusters: Sequence[Mapping]):
    """Stacked horizontal bars, one per cluster (largest first): the kept representative and
    the dropped members by dedupe method."""
    import plotly.graph_objects as go

    labels = [f"{c['cluster_id'][:18]} ({c['size']})" for c in clusters]
    methods = sorted({m["method"] for c in clusters for m in c["members"] if m["method"]})
    fig = go.Figure()
    fig.add_trace(go.Bar(y=labels, x=[sum(m["representative"] for m in c["members"]) for c in clusters],
                         name="representative", orientation="h", marker_color="#7f7f7f"))
    for method in methods:
        fig.add_trace(go.Bar(y=labels, x=[sum(m["method"] == method for m in c["members"]) for c in clusters],
                             name=f"dropped by {method}", orientation="h"))
    if not clusters:
        fig.add_trace(go.Bar(y=["no clusters"], x=[0], orientation="h", name="none"))
    fig.update_layout(barmode="stack", yaxis={"autorange": "reversed", "automargin": True},
                      xaxis={"title": {"text": "members"}})
    _layout(fig, f"The {len(clusters)} largest near-duplicate clusters", max(320, 24 * len(clusters) + 140))
    return fig


def ablation_figure(arms: Sequence[Mapping] | None):
    """Each arm's MC1 and MC2 with its 95% interval (points; an arm without an interval has no
    bar). ``None`` (not run): an empty chart saying so."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if not arms:
        fig.add_trace(go.Bar(x=["not run"], y=[0], name="ablation"))
        _layout(fig, "Ablation: not run", 320)
        return fig
    for metric, colour in zip(ABLATION_METRICS, ("#1f77b4", "#ff7f0e")):
        xs, ys, plus, minus = [], [], [], []
        for a in arms:
            m = a["metrics"].get(metric)
            if m is None:
                continue
            xs.append(a["arm"])
            ys.append(m["mean"])
            plus.append(m["hi"] - m["mean"] if m["hi"] is not None else float("nan"))
            minus.append(m["mean"] - m["lo"] if m["lo"] is not None else float("nan"))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=metric.removeprefix("truthfulqa_").upper(),
                                 marker={"color": colour, "size": 10},
                                 error_y={"type": "data", "array": [0 if math.isnan(p) else p for p in plus],
                                          "arrayminus": [0 if math.isnan(m) else m for m in minus], "visible": True}))
    fig.update_layout(yaxis={"title": {"text": "TruthfulQA score (95% interval)"}},
                      xaxis={"title": {"text": "arm"}, "type": "category"}, scattermode="group")
    _layout(fig, "Ablation: TruthfulQA MC1 / MC2 by arm", 400)
    return fig


def build_figures(data: Mapping) -> dict:
    """``{section: plotly Figure}`` for each of :data:`CHART_SECTIONS` from :func:`gather_report`'s data."""
    return {"funnel": funnel_figure(data["funnel"]), "verbs": verbs_figure(data["verbs"]),
            "lengths": lengths_figure(data["lengths"]), "rouge": rouge_figure(data["rouge"]),
            "detectors": detectors_figure(data["detectors"]), "clusters": clusters_figure(data["clusters"]),
            "ablation": ablation_figure(data["ablation"])}


# ----------------------------------------------------------------------------- HTML

def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def clip(text: str | None, n: int = CLIP_CHARS) -> str:
    """``text`` cut to ``n`` characters with an ellipsis when longer (``""`` for None)."""
    text = text or ""
    return text if len(text) <= n else text[: n - 1] + "…"


def _num(x: float | None, fmt: str = ".2f") -> str:
    return "–" if x is None else format(x, fmt)


def _ci(ci: Sequence | None) -> str:
    if not ci or ci[0] is None:
        return ""
    return f" [{ci[0]:.2f}, {ci[1]:.2f}]"


def _chart(name: str, fig) -> str:
    height = int(fig.layout.height or 400)
    div = fig.to_html(full_html=False, include_plotlyjs=False, include_mathjax=False, div_id=f"chart-{name}",
                      default_height=f"{height}px", config={"displaylogo": False, "responsive": True})
    return f'<div class="chart" data-chart="{name}">{div}</div>'


def _provenance_html(p: Mapping) -> str:
    hashes = "".join(f"<tr><td>{_e(h['role'])}</td><td><code>{_e(h['path'])}</code></td>"
                     f"<td><code>{_e(h['md5'] or '–')}</code></td></tr>" for h in p["hashes"])
    params = json.dumps(p["params"], indent=2, ensure_ascii=False, sort_keys=False, default=str)
    return (f'<p>git revision: <code data-provenance="git">{_e(p["git"])}</code></p>'
            f"<table><thead><tr><th>file</th><th>path</th><th>md5</th></tr></thead><tbody>{hashes}</tbody></table>"
            f"<details><summary>params (validated, defaults filled in)</summary><pre>{_e(params)}</pre></details>")


def _funnel_html(f: Mapping) -> str:
    head = "".join(f"<th>{_e(s)}</th>" for s in f["sources"]) + "<th>total</th>"
    body = []
    for r in f["rows"]:
        cls = "step" if r["level"] == 0 else "sub"
        label = _e(r["label"]) if r["level"] == 0 else "&nbsp;&nbsp;" + _e(r["label"])
        cells = "".join(f"<td>{r['by_source'].get(s, 0)}</td>" for s in f["sources"])
        attr = f' data-metric="{_e(r["metric"])}"' if r["metric"] else ""
        body.append(f'<tr class="{cls}"><td>{label}</td>{cells}<td class="total"{attr}>{r["total"]}</td></tr>')
    warn = "".join(f'<p class="warning">inconsistent inputs: {_e(w)}</p>' for w in f["warnings"])
    return (f"{warn}<table class=\"funnel\"><thead><tr><th>step</th>{head}</tr></thead><tbody>{''.join(body)}"
            "</tbody></table><p class=\"note\">Totals from <code>metrics/clean.json</code> (breakdowns from "
            "<code>reports/clean.json</code>); per source from the analysis database and the dropped records. "
            "Normalised counts records (a record can have several changes); the flagged rows count annotations "
            "on kept records.</p>")


def _detectors_html(ds: Sequence[Mapping]) -> str:
    rows, examples = [], []
    for d in ds:
        dev = d["dev"]
        actions = ", ".join(f"{a} {n}" for a, n in sorted(d["by_action"].items())) or "–"
        rows.append(f"<tr><td>{_e(d['check'])}</td><td>{_e(d['category'])}</td><td>{d['findings']}</td>"
                    f"<td>{_e(actions)}</td><td>{_num(dev.get('precision'))}{_ci(dev.get('precision_ci95'))}</td>"
                    f"<td>{_num(dev.get('recall'))}{_ci(dev.get('recall_ci95'))}</td></tr>")
        if d["examples"]:
            items = "".join(
                f"<li><code>{_e(x['id'])}</code> ({_e(x['action'])}): <em>{_e(x['reason'])}</em>"
                f"<div class=\"rec\"><b>instruction</b> {_e(clip(x['instruction']))}<br><b>output</b> "
                f"{_e(clip(x['output']))}</div></li>" for x in d["examples"])
            examples.append(f"<details><summary>{_e(d['check'])}: {len(d['examples'])} of {d['findings']} "
                            f"findings (first by id)</summary><ol>{items}</ol></details>")
    return ("<table><thead><tr><th>check</th><th>category</th><th>findings</th><th>by action</th>"
            "<th>precision [95% CI]</th><th>recall [95% CI]</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table><p class=\"note\">Findings: detect annotations other than <code>keep</code>. "
            "Precision and recall on the labelled dev set (<code>reports/detect_eval.json</code>).</p>"
            + "".join(examples))


def _clusters_html(cs: Sequence[Mapping]) -> str:
    if not cs:
        return "<p>No near-duplicate clusters (dedupe dropped nothing as a duplicate).</p>"
    out = []
    for c in cs:
        rows = "".join(
            f"<tr><td><code>{_e(m['id'])}</code></td><td>{'representative' if m['representative'] else _e(m['method'])}"
            f"</td><td>{_num(m['score'], '.3f')}</td><td>{'kept' if m['in_clean'] else ('seed task' if m['id'].startswith('seed:') else 'dropped')}"
            f"</td><td>{_e(clip(m['instruction'], 160))}</td></tr>" for m in c["members"])
        out.append(f"<details><summary><code>{_e(c['cluster_id'])}</code>: {c['size']} members</summary>"
                   "<table><thead><tr><th>id</th><th>method</th><th>score</th><th>in clean</th><th>instruction</th>"
                   f"</tr></thead><tbody>{rows}</tbody></table></details>")
    return ("<p class=\"note\">The representative is the record the others duplicate (a kept record, or a seed "
            "task); <em>kept</em> means the member is in the clean set.</p>" + "".join(out))


def _ablation_html(arms: Sequence[Mapping] | None, path: str) -> str:
    if arms is None:
        return f'<p class="missing">The ablation has not run (no <code>{_e(path)}</code>): run <code>curate compare</code>.</p>'
    if not arms:
        return f"<p class=\"missing\"><code>{_e(path)}</code> holds no arm with TruthfulQA scores.</p>"
    others = sorted({k for a in arms for k in a["other"]})
    head = "".join(f"<th>{_e(m.removeprefix('truthfulqa_').upper())} [95% CI]</th>" for m in ABLATION_METRICS)
    head += "".join(f"<th>{_e(k)}</th>" for k in others)
    rows = []
    for a in arms:
        cells = ""
        for m in ABLATION_METRICS:
            v = a["metrics"].get(m)
            if v is None:
                cells += "<td>–</td>"
            elif v["lo"] is None:
                cells += f"<td>{v['mean']:.4f} (no interval available)</td>"
            else:
                cells += f"<td>{v['mean']:.4f} [{v['lo']:.4f}, {v['hi']:.4f}]</td>"
        cells += "".join(f"<td>{_num(a['other'].get(k), '.4f')}</td>" for k in others)
        rows.append(f"<tr><td>{_e(a['arm'])}</td>{cells}</tr>")
    return (f"<table><thead><tr><th>arm</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f"<p class=\"note\">From <code>{_e(path)}</code>; 95% bootstrap intervals over seeds and questions "
            "(<code>reports/ablation.md</code> has the paired differences).</p>")


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0 auto;max-width:1280px;
padding:0 1.5em 3em;color:#222}
h1{margin-top:1em}section{margin:2em 0;border-top:1px solid #ddd;padding-top:.5em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ddd;padding:.25em .5em;
text-align:left;vertical-align:top}td.total{font-weight:bold}tr.sub td{color:#555;font-size:.95em}
tr.step td{background:#f6f6f6}pre{background:#f6f6f6;padding:1em;overflow:auto;max-height:30em;font-size:.8em}
.note{color:#555;font-size:.85em}.warning{color:#b00;font-weight:bold}.missing{font-style:italic}
.rec{font-size:.85em;color:#333;margin:.2em 0 .6em}details{margin:.3em 0}.chart{min-height:200px}
code{font-size:.9em}
"""

_SECTIONS = (("provenance", "Provenance"), ("funnel", "The clean funnel"),
             ("verbs", "Verb–noun structure of the instructions"), ("lengths", "Length distributions"),
             ("rouge", "Similarity to the seed tasks"), ("detectors", "Detectors"),
             ("clusters", "Duplicate clusters"), ("ablation", "The ablation"))


def render_html(data: Mapping, figures: Mapping, plotly_js: str | None = None) -> str:
    """The whole page as one string: plotly.js inlined once (``plotly_js``; default
    ``plotly.offline.get_plotlyjs()``), then the sections of the module docstring in order, each
    chart section with its one figure from ``figures`` (:func:`build_figures`)."""
    if plotly_js is None:
        from plotly.offline import get_plotlyjs

        plotly_js = get_plotlyjs()
    v = data["verbs"]
    text = {
        "provenance": _provenance_html(data["provenance"]),
        "funnel": _funnel_html(data["funnel"]),
        "verbs": (f"<p>Share of instructions with a verb–noun pair: raw {v['raw']['share_with_pair']:.1%} "
                  f"({v['raw']['with_pair']} of {v['raw']['records']}), clean {v['clean']['share_with_pair']:.1%} "
                  f"({v['clean']['with_pair']} of {v['clean']['records']}); distinct pairs: raw "
                  f"<span data-stat=\"raw-distinct-pairs\">{v['raw']['distinct_pairs']}</span>, clean "
                  f"<span data-stat=\"clean-distinct-pairs\">{v['clean']['distinct_pairs']}</span>. Root verb and first "
                  "direct-object noun of the first sentence (spaCy; <code>curate/analysis/verbs.py</code>); the clean "
                  "side uses the parse of the ingested text.</p>"),
        "lengths": "<p class=\"note\">Words are runs of non-whitespace (the database's <code>lengths</code> tables).</p>",
        "rouge": ("<p class=\"note\">ROUGE-L F1 as rouge-score computes it (no stemming), against the seed tasks' "
                  "instructions (<code>curate/core/rouge.py</code>).</p>"),
        "detectors": _detectors_html(data["detectors"]),
        "clusters": _clusters_html(data["clusters"]),
        "ablation": _ablation_html(data["ablation"], data["ablation_path"]),
    }
    parts = []
    for sid, title in _SECTIONS:
        chart = _chart(sid, figures[sid]) if sid in figures else ""
        if sid in ("detectors", "clusters", "ablation"):  # the chart first, then the long tables
            body = chart + text[sid]
        else:
            body = text[sid] + chart
        parts.append(f'<section id="{sid}"><h2>{_e(title)}</h2>{body}</section>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>curate report</title>"
            f"<style>{_CSS}</style><script type=\"text/javascript\">{plotly_js}</script></head><body>"
            "<h1>curate: report of the run</h1>" + "".join(parts) + "</body></html>\n")


def render_report(params: Mapping, root: str | Path) -> tuple[str, int]:
    """``(html, charts)``: the page of :func:`render_html` for the run of ``params`` in
    ``root``, and the number of charts in it. Raises :class:`CurateError` as :func:`gather_report`."""
    data = gather_report(params, root)
    figures = build_figures(data)
    return render_html(data, figures), len(figures)
