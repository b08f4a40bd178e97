"""Record-level diff of two dataset versions: added, removed and changed records (per field), and
for every removed or changed record the check, action and reason that did it.

A version is a file (any format :func:`curate.core.io.iter_raw` reads, or a stage's Parquet output) or
``REV:path`` — a git revision and a path in the repository, read through ``dvc.api.open`` so
DVC-tracked outputs of an earlier commit work too.

Explanations come from annotation tables (``ANNOTATION_SCHEMA``: dedupe, detect, repair) and clean's
dropped table (``DROPPED_SCHEMA``: the record plus ``drop_check``/``drop_reason``/``drop_matched_id``,
read as stage ``clean``, action ``drop``), and, for a changed record none of them explains, from the
``meta.changes`` history that clean writes into B's records (the entries B has and A has not). Of
several explanations of one record the one that decided is shown — for a removed record the first
``drop`` in pipeline order (dedupe → detect → repair → clean, then file and row order: what clean
applies), for a changed record the first ``normalize`` of a changed field — and the others are
listed as *also*. A record nothing explains is reported as *reason unknown* and counted, never left
out: every removed and changed record is in exactly one group of the summary by reason.
"""

from __future__ import annotations

import csv
import difflib
import html
import io
import json
import os
import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Sequence

from curate.core.errors import CurateError
from curate.core.text import clip
from curate.core.schema import TEXT_FIELDS

_REV = re.compile(r"^(?P<rev>[^:/\\][^:]*):(?P<path>[^:].*)$")

#: pipeline order of the stages that write explanations; others sort after them
STAGE_ORDER = ("dedupe", "detect", "repair", "clean")
FORMATS = ("text", "json", "csv", "html")
UNKNOWN = "reason unknown"
CSV_COLUMNS = ("kind", "id", "stage", "check", "action", "reason", "matched_id", "fields_changed", "also",
               "instruction")


def _split_rev(spec: str) -> tuple[str, str] | None:
    """``(rev, path)`` when ``spec`` is ``REV:path`` (not an existing file, URL or ``hf:`` spec)."""
    m = _REV.match(spec)
    if m is None or Path(spec).exists() or "://" in spec or spec.startswith("hf:"):
        return None
    return m.group("rev"), m.group("path")


def _fetch(path: str, rev: str, spec: str) -> str:
    """``path`` at git revision ``rev`` (through ``dvc.api.open``) copied to a temporary file."""
    import dvc.api

    tmp = Path(tempfile.mkdtemp(prefix="curate-diff-")) / Path(path).name
    try:
        with dvc.api.open(path, rev=rev, mode="rb") as src:
            tmp.write_bytes(src.read())
    except Exception as e:  # dvc raises many types: missing rev, path, cache
        raise CurateError(f"{spec}: cannot read {path!r} at revision {rev!r}: {' '.join(str(e).split())}") from None
    return str(tmp)


def _materialise(spec: str) -> tuple[str, str]:
    """Return (local path, label); a ``REV:path`` spec is fetched through ``dvc.api``."""
    rp = _split_rev(spec)
    if rp is None:
        return spec, spec
    return _fetch(rp[1], rp[0], spec), spec


def load_version(spec: str) -> tuple[dict[tuple, dict], int]:
    """Load a version as ``{key: record}`` keyed by ``id``; returns it and the number of items
    that could not be read as records (quarantined by ingest's rules). Reads through
    :func:`curate.core.ingest.ingest`, so bad input is a one-line :class:`CurateError` or a
    quarantined item, never another exception."""
    from curate.core.ingest import ingest

    path, _ = _materialise(spec)
    records, quarantine, _ = ingest([path])
    return {r["id"]: r for r in records.to_pylist()}, quarantine.num_rows


def diff_records(a: dict, b: dict, fields: Sequence[str] = TEXT_FIELDS) -> dict:
    """Compare two ``{id: record}`` maps. Returns counts (``added``, ``removed``, ``changed``,
    ``unchanged``, ``changed_by_field``) and the lists of ids (``added_ids`` ... sorted)."""
    added = sorted(set(b) - set(a))
    removed = sorted(set(a) - set(b))
    changed, by_field = [], Counter()
    for k in sorted(set(a) & set(b)):
        diff_fields = [f for f in fields if a[k][f] != b[k][f]]
        if diff_fields:
            changed.append((k, diff_fields))
            by_field.update(diff_fields)
    return {"added": len(added), "removed": len(removed), "changed": len(changed),
            "unchanged": len(set(a) & set(b)) - len(changed),
            "changed_by_field": dict(sorted(by_field.items())),
            "added_ids": added, "removed_ids": removed, "changed_ids": changed}


# ------------------------------------------------------------------------------ explanations

def _stage_rank(stage: str | None) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


def read_explanations(local: str, label: str, ids: set[str], order: int = 0) -> tuple[str, int, list[dict]]:
    """The rows of one annotations or dropped Parquet file (``local``; ``label`` names it in errors
    and in the report) about the records ``ids``, as explanation dicts (``stage, check, action,
    reason, field, matched_id, source`` and a sort ``key``). Returns ``(kind, rows in the file,
    explanations)``; ``kind`` is ``annotations`` or ``dropped`` (a table with ``drop_check``).
    Raises :class:`CurateError` naming ``label`` for a file that is missing or no such table."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from curate.core.annotations import DROPPED_SCHEMA
    from curate.core.schema import ANNOTATION_SCHEMA, read_table

    if not Path(local).is_file():
        raise CurateError(f"{label}: no such annotations file")
    try:
        names = pq.read_schema(local).names
    except Exception as e:  # pyarrow raises several types for a file that is not Parquet
        raise CurateError(f"{label}: cannot read as an annotations or dropped Parquet table: "
                          f"{' '.join(str(e).split())}") from None
    kind = "dropped" if "drop_check" in names else "annotations"
    try:
        table = read_table(local, DROPPED_SCHEMA if kind == "dropped" else ANNOTATION_SCHEMA)
    except CurateError as e:
        raise CurateError(str(e).replace(str(local), label)) from None
    n = table.num_rows
    if not ids or n == 0:
        return kind, n, []
    mask = pc.is_in(table.column("id"), value_set=pa.array(sorted(ids), pa.string()))
    rows = table.filter(mask)
    out = []
    if kind == "dropped":
        cols = rows.select(["id", "drop_check", "drop_reason", "drop_matched_id"]).to_pylist()
        for i, r in enumerate(cols):
            out.append({"id": r["id"], "stage": "clean", "check": r["drop_check"], "action": "drop",
                        "reason": r["drop_reason"], "field": None, "matched_id": r["drop_matched_id"],
                        "source": label, "key": (_stage_rank("clean"), order, i)})
    else:
        cols = rows.select(["id", "stage", "check_name", "action", "reason", "field", "matched_id"]).to_pylist()
        for i, r in enumerate(cols):
            out.append({"id": r["id"], "stage": r["stage"], "check": r["check_name"], "action": r["action"],
                        "reason": r["reason"], "field": r["field"], "matched_id": r["matched_id"],
                        "source": label, "key": (_stage_rank(r["stage"]), order, i)})
    return kind, n, out


def _relative(path: str) -> str:
    """``path`` as dvc.api wants it (relative to the repository root, taken to be the cwd)."""
    p = Path(path)
    if p.is_absolute():
        try:
            return str(p.relative_to(Path.cwd()))
        except ValueError:
            return path
    return path


def collect_explanations(spec_b: str, ids: set[str], annotations: Sequence[str] = (),
                         default_annotations: Sequence[str] = ()) -> tuple[dict[str, list[dict]], list[dict], list[str]]:
    """Every explanation of the records ``ids``, grouped by id and sorted in pipeline order.

    ``annotations``: files given explicitly (each must be readable; ``REV:path`` works).
    ``default_annotations``: files found through the params (``paths.dropped`` and the annotation
    files), used when they exist; when ``spec_b`` is ``REV:path`` they are read at that revision,
    and from the workspace, with a note, when that fails. Returns ``(by id, sources, notes)``;
    ``sources`` has ``file, kind, rows, read_at`` for every file used."""
    by_id: dict[str, list[dict]] = {}
    sources, notes, seen = [], [], set()
    rp = _split_rev(spec_b)
    jobs: list[tuple[str, str, str]] = []  # (local path, label, read_at)
    def first(spec: str) -> bool:  # one file given twice (params and --annotations) is read once
        key = spec if _split_rev(spec) else str(Path(spec).resolve())
        if key in seen:
            return False
        seen.add(key)
        return True

    for path in default_annotations:
        if path is None or not first(str(path)):
            continue
        path = str(path)
        if rp is not None:
            rev = rp[0]
            try:
                jobs.append((_fetch(_relative(path), rev, path), path, rev))
                continue
            except CurateError as e:
                if Path(path).is_file():
                    notes.append(f"{path}: not readable at revision {rev!r} ({clip(str(e), 160)}); "
                                 "used the workspace file instead")
                else:
                    continue
        if Path(path).is_file():
            jobs.append((path, path, "workspace"))
    for spec in annotations:
        if not first(spec):
            continue
        local, label = _materialise(spec)
        at = _split_rev(spec)
        jobs.append((local, label, at[0] if at else "workspace"))
    for order, (local, label, at) in enumerate(jobs):
        kind, n, rows = read_explanations(local, label, ids, order)
        sources.append({"file": label, "kind": kind, "rows": n, "read_at": at})
        for r in rows:
            by_id.setdefault(r["id"], []).append(r)
    for rows in by_id.values():
        rows.sort(key=lambda r: r["key"])
    return by_id, sources, notes


def _same(x: dict, y: dict) -> bool:
    return (x["check"], x["action"], x["reason"], x.get("field")) == (y["check"], y["action"], y["reason"], y.get("field"))


def _public(e: dict | None) -> dict | None:
    if e is None:
        return None
    return {k: e.get(k) for k in ("stage", "check", "action", "reason", "field", "matched_id", "source")}


def _others(decider: dict | None, matches: list[dict]) -> list[dict]:
    """``matches`` but ``decider`` and its repeats (clean's dropped row restates dedupe's drop)."""
    if decider is None:
        return list(matches)
    return [m for m in matches if m is not decider and not (_same(m, decider) and m["action"] == "drop")]


def explain_removed(anns: list[dict]) -> tuple[dict | None, list[dict]]:
    """The explanation that removed a record (the first ``drop`` in pipeline order) and the others."""
    decider = next((a for a in anns if a["action"] == "drop"), None)
    return decider, _others(decider, anns)


def _meta(record: dict) -> dict:
    try:
        m = json.loads(record.get("meta") or "{}")
    except (TypeError, ValueError):
        return {}
    return m if isinstance(m, dict) else {}


def _new_changes(a_rec: dict, b_rec: dict) -> list[dict]:
    """The ``meta.changes`` entries of B's record that A's has not (clean appends to the history)."""
    old, new = _meta(a_rec).get("changes"), _meta(b_rec).get("changes")
    if not isinstance(new, list):
        return []
    old = old if isinstance(old, list) else []
    fresh = new[len(old):] if new[:len(old)] == old else [c for c in new if c not in old]
    return [c for c in fresh if isinstance(c, dict)]


def explain_changed(fields: Sequence[str], anns: list[dict], a_rec: dict, b_rec: dict
                    ) -> tuple[dict | None, list[dict], dict[str, dict | None]]:
    """For a record whose ``fields`` changed: the explanation that decided (the first ``normalize``
    of a changed field in pipeline order; else the first new ``meta.changes`` entry of one), the
    other matching ones, and the first explanation of each changed field (None: unknown)."""
    cands = [a for a in anns if a["action"] == "normalize" and a["field"] in fields]
    if not cands:
        cands = [{"stage": None, "check": c.get("check_name"), "action": "normalize", "reason": c.get("reason"),
                  "field": c.get("field"), "matched_id": None, "source": "meta.changes"}
                 for c in _new_changes(a_rec, b_rec) if c.get("field") in fields]
    per_field = {f: next((c for c in cands if c["field"] == f), None) for f in fields}
    decider = cands[0] if cands else None
    return decider, [c for c in cands if c is not decider], per_field


# ------------------------------------------------------------------------------ the report

def _group(entries: list[dict], second: str) -> list[dict]:
    """Summary rows ``{check, <second>, count, also, ids, example_reason}`` of ``entries``
    (one row per (check, second)), largest first, *reason unknown* last."""
    groups: dict[tuple, dict] = {}
    for e in entries:
        key = (e["check"], e[second])
        g = groups.setdefault(key, {"check": e["check"], second: e[second], "count": 0, "also": 0, "ids": [],
                                    "example_reason": e["reason"] if e["explained"] else UNKNOWN})
        g["count"] += 1
        g["also"] += len(e["also"])
        g["ids"].append(e["id"])
    return sorted(groups.values(), key=lambda g: (g["check"] is None, -g["count"], str(g["check"]), str(g[second])))


def diff_report(spec_a: str, spec_b: str, examples: int = 3, annotations: Sequence[str] = (),
                default_annotations: Sequence[str] = ()) -> dict:
    """The full diff of A and B as a dict: counts, the summary by reason, every added, removed and
    changed record with its explanation, the explanation sources and notes, and ``examples``
    (the first ``examples`` records of each kind). See :func:`collect_explanations` for the
    annotation arguments. Raises :class:`CurateError` (one line) for unreadable input."""
    if examples < 0:
        raise CurateError(f"--examples must be 0 or more, not {examples}")
    a, qa = load_version(spec_a)
    b, qb = load_version(spec_b)
    d = diff_records(a, b)
    wanted = set(d["removed_ids"]) | {k for k, _ in d["changed_ids"]}
    by_id, sources, notes = collect_explanations(spec_b, wanted, annotations, default_annotations)

    removed = []
    for k in d["removed_ids"]:
        decider, also = explain_removed(by_id.get(k, []))
        e = _public(decider) or {"stage": None, "check": None, "action": None, "reason": UNKNOWN,
                                 "field": None, "matched_id": None, "source": None}
        e.pop("field")
        removed.append({"id": k, **{f: a[k][f] for f in TEXT_FIELDS}, "explained": decider is not None, **e,
                        "also": [_public(x) for x in also]})
    changed = []
    for k, fs in d["changed_ids"]:
        decider, also, per_field = explain_changed(fs, by_id.get(k, []), a[k], b[k])
        e = _public(decider) or {"stage": None, "check": None, "action": None, "reason": UNKNOWN,
                                 "field": None, "matched_id": None, "source": None}
        e.pop("matched_id")
        changed.append({"id": k, "instruction": b[k]["instruction"],
                        "fields": {f: {"before": a[k][f], "after": b[k][f]} for f in fs},
                        "field_reasons": {f: _public(x) for f, x in per_field.items()},
                        "explained": decider is not None, **e, "also": [_public(x) for x in also]})
    for c in changed:  # an unexplained change is grouped under the fields that changed
        if not c["explained"]:
            c["field"] = "+".join(c["fields"])
    added = [{"id": k, **{f: b[k][f] for f in TEXT_FIELDS}} for k in d["added_ids"]]
    return {"a": spec_a, "b": spec_b, "records_a": len(a), "records_b": len(b),
            "unreadable_a": qa, "unreadable_b": qb,
            **{k: d[k] for k in ("added", "removed", "changed", "unchanged", "changed_by_field")},
            "reason_unknown": {"removed": sum(not r["explained"] for r in removed),
                               "changed": sum(not c["explained"] for c in changed)},
            "by_reason": {"removed": _group(removed, "action"), "changed": _group(changed, "field")},
            "explained_by": sources, "notes": notes,
            "records": {"added": added, "removed": removed, "changed": changed},
            "examples": {"added": added[:examples], "removed": removed[:examples], "changed": changed[:examples]}}


# ------------------------------------------------------------------------------ rendering

def _one_line(text: str, n: int = 160, start: int = 0) -> str:
    """``text`` from character ``start`` (``…`` marking a cut start) on one line (newlines shown
    as ``\\n``), clipped to ``n`` characters."""
    head = "…" if start > 0 else ""
    return head + clip(text[start:].replace("\n", "\\n"), n - len(head), collapse=False)


def _focus(before: str, after: str, n: int = 160, context: int = 40) -> int:
    """Where to start showing ``before`` and ``after`` so that their first difference is in the
    first ``n`` characters shown: 0, or ``context`` characters before it."""
    k = len(os.path.commonprefix([before, after]))
    return 0 if k < n - context else k - context


def _label(e: dict) -> str:
    """``stage/check action[ field]: reason`` of a removed or changed entry (or *reason unknown*)."""
    if not e["explained"]:
        return UNKNOWN
    where = f"{e['stage']}/{e['check']}" if e.get("stage") else f"{e['check']} ({e['source']})"
    field = f" {e['field']}" if e.get("field") else ""
    return f"{where} {e['action']}{field}: {_one_line(e['reason'] or '', 120)}"


def _sources_line(report: dict) -> str:
    if not report["explained_by"]:
        return "explained by: no annotation or dropped file (meta.changes of B only)"
    parts = []
    for s in report["explained_by"]:
        what = "dropped records" if s["kind"] == "dropped" else "annotations"
        at = "" if s["read_at"] == "workspace" else f" at {s['read_at']}"
        parts.append(f"{s['file']}{at} ({s['rows']} {what})")
    return "explained by: " + ", ".join(parts)


def _table(header: list[str], rows: list[list[str]], right: int) -> list[str]:
    """Plain-text table; the first ``right`` columns right-aligned."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    out = []
    for row in [header, *rows]:
        cells = [str(x).rjust(w) if i < right else str(x).ljust(w) for i, (x, w) in enumerate(zip(row, widths))]
        out.append("  " + "  ".join(cells).rstrip())
    return out


def _summary_text(report: dict, kind: str) -> list[str]:
    second = "action" if kind == "removed" else "field"
    groups = report["by_reason"][kind]
    if not groups:
        return []
    lines = [f"{kind} by reason ({report[kind]}; {report['reason_unknown'][kind]} {UNKNOWN}):"]
    rows = [[g["count"], g["also"], g["check"] if g["check"] is not None else UNKNOWN, g[second] or "-",
             f"{g['ids'][0]}: {_one_line(g['example_reason'] or '', 80)}"] for g in groups]
    return lines + _table(["count", "also", "check", second, "e.g."], rows, right=2)


def render_text(report: dict, examples: int = 3) -> str:
    r = report
    lines = [f"A: {r['a']} ({r['records_a']} records)", f"B: {r['b']} ({r['records_b']} records)",
             f"added {r['added']}, removed {r['removed']}, changed {r['changed']}, unchanged {r['unchanged']}"]
    if r["changed_by_field"]:
        lines.append("changed fields: " + ", ".join(f"{k} {v}" for k, v in r["changed_by_field"].items()))
    if r["removed"] or r["changed"]:
        lines.append(_sources_line(r))
    lines += [f"note: {n}" for n in r["notes"]]
    lines += _summary_text(r, "removed") + _summary_text(r, "changed")
    recs = r["records"]
    for e in recs["added"][:examples]:
        lines.append(f"+ {e['id']}: {_one_line(e['instruction'], 100)}")
    for e in recs["removed"][:examples]:
        also = f" (also {len(e['also'])})" if e["also"] else ""
        lines.append(f"- {e['id']}: {_one_line(e['instruction'], 100)}  [{_label(e)}]{also}")
    for e in recs["changed"][:examples]:
        also = f" (also {len(e['also'])})" if e["also"] else ""
        lines.append(f"~ {e['id']}  [{_label(e)}]{also}")
        for f, ba in e["fields"].items():
            before, after = ba["before"], ba["after"]
            if before.split() == after.split():  # only whitespace differs: show it
                before, after = json.dumps(before, ensure_ascii=False), json.dumps(after, ensure_ascii=False)
            start = _focus(before, after)
            lines.append(f"    {f}: {_one_line(before, start=start)}")
            lines.append(f"    {' ' * len(f)}→ {_one_line(after, start=start)}")
    return "\n".join(lines)


def render_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2)


def render_csv(report: dict) -> str:
    """One row per removed, added and changed record (:data:`CSV_COLUMNS`)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    w.writeheader()
    recs = report["records"]
    for e in recs["removed"]:
        w.writerow({"kind": "removed", "id": e["id"], "stage": e["stage"] or "", "check": e["check"] or "",
                    "action": e["action"] or "", "reason": e["reason"] or "", "matched_id": e["matched_id"] or "",
                    "fields_changed": "", "also": len(e["also"]), "instruction": _one_line(e["instruction"], 100)})
    for e in recs["added"]:
        w.writerow({"kind": "added", "id": e["id"], "stage": "", "check": "", "action": "", "reason": "",
                    "matched_id": "", "fields_changed": "", "also": 0, "instruction": _one_line(e["instruction"], 100)})
    for e in recs["changed"]:
        w.writerow({"kind": "changed", "id": e["id"], "stage": e["stage"] or "", "check": e["check"] or "",
                    "action": e["action"] or "", "reason": e["reason"] or "", "matched_id": "",
                    "fields_changed": ";".join(e["fields"]), "also": len(e["also"]),
                    "instruction": _one_line(e["instruction"], 100)})
    return buf.getvalue()


_TOKEN = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(before: str, after: str) -> tuple[str, str]:
    """HTML of ``before`` and ``after`` (escaped) with the differing words in ``<del>``/``<ins>``
    (difflib over word, space and punctuation tokens)."""
    x, y = _TOKEN.findall(before), _TOKEN.findall(after)
    sm = difflib.SequenceMatcher(None, x, y, autojunk=len(x) + len(y) > 20_000)
    left, right = [], []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        lt, rt = html.escape("".join(x[i1:i2])), html.escape("".join(y[j1:j2]))
        if tag == "equal":
            left.append(lt)
            right.append(rt)
            continue
        if lt:
            left.append(f"<del>{lt}</del>")
        if rt:
            right.append(f"<ins>{rt}</ins>")
    return "".join(left), "".join(right)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#222;max-width:110em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .5em;vertical-align:top;text-align:left}
th{background:#f4f4f4}td.n{text-align:right}.unknown{color:#a00;font-weight:bold}
.rec{margin:1em 0;padding:.5em;border:1px solid #e2e2e2;border-radius:4px}
.side{width:100%;table-layout:fixed}.side td{white-space:pre-wrap;word-break:break-word;font-family:ui-monospace,monospace;font-size:.9em}
del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}
.meta{color:#555;font-size:.9em}code{font-size:.95em}
"""


def render_html(report: dict) -> str:
    """A self-contained page (inline CSS, no scripts, no external resources): counts, sources,
    the summary by reason, every changed record side by side (before | after, differing words
    highlighted), every removed record with its reason, and the added records."""
    r, e = report, html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>curate diff: {e(r['a'])} → {e(r['b'])}</title>", f"<style>{_CSS}</style></head><body>",
           f"<h1>curate diff</h1><p>A: <code>{e(r['a'])}</code> ({r['records_a']} records)<br>"
           f"B: <code>{e(r['b'])}</code> ({r['records_b']} records)</p>",
           f"<p>added {r['added']}, removed {r['removed']}, changed {r['changed']}, unchanged {r['unchanged']}"
           + (f"; {UNKNOWN}: {r['reason_unknown']['removed']} removed, {r['reason_unknown']['changed']} changed"
              if r["removed"] or r["changed"] else "") + "</p>",
           f"<p class=\"meta\">{e(_sources_line(r))}</p>"]
    out += [f"<p class=\"meta\">note: {e(n)}</p>" for n in r["notes"]]

    def check_cell(g):
        return f"<td>{e(g['check'])}</td>" if g["check"] is not None else f'<td class="unknown">{UNKNOWN}</td>'

    for kind, second in (("removed", "action"), ("changed", "field")):
        groups = r["by_reason"][kind]
        if not groups:
            continue
        out.append(f"<h2>{kind.capitalize()} by reason ({r[kind]})</h2><table><tr><th>count</th><th>also</th>"
                   f"<th>check</th><th>{second}</th><th>example</th></tr>")
        for g in groups:
            out.append(f'<tr><td class="n">{g["count"]}</td><td class="n">{g["also"]}</td>{check_cell(g)}'
                       f"<td>{e(g[second] or '-')}</td><td><code>{e(g['ids'][0])}</code>: "
                       f"{e(clip(g['example_reason'] or '', 200))}</td></tr>")
        out.append("</table>")

    def reason_html(x):
        if not x["explained"]:
            return f'<span class="unknown">{UNKNOWN}</span>'
        return e(_label(x))

    def also_html(x):
        if not x["also"]:
            return ""
        items = "".join(f"<li>{e(str(o.get('stage') or o.get('source')))}/{e(str(o['check']))} {e(str(o['action']))}"
                        f"{' ' + e(o['field']) if o.get('field') else ''}: {e(clip(o['reason'] or '', 200))}</li>"
                        for o in x["also"])
        return f'<div class="meta">also:<ul>{items}</ul></div>'

    recs = r["records"]
    if recs["changed"]:
        out.append(f"<h2>Changed records ({len(recs['changed'])})</h2>")
        for c in recs["changed"]:
            out.append(f'<div class="rec" id="c-{e(c["id"])}"><div><code>{e(c["id"])}</code> — {reason_html(c)}</div>'
                       f'<div class="meta">{e(clip(c["instruction"], 200))}</div>{also_html(c)}'
                       '<table class="side"><tr><th style="width:7em">field</th><th>before (A)</th><th>after (B)</th></tr>')
            for f, ba in c["fields"].items():
                left, right = word_diff(ba["before"], ba["after"])
                fr = c["field_reasons"].get(f)
                why = f'<div class="meta">{e(fr["check"] or "")}: {e(clip(fr["reason"] or "", 160))}</div>' if fr else ""
                out.append(f"<tr><th>{e(f)}{why}</th><td>{left}</td><td>{right}</td></tr>")
            out.append("</table></div>")
    if recs["removed"]:
        out.append(f"<h2>Removed records ({len(recs['removed'])})</h2><table><tr><th>id</th><th>stage</th><th>check</th>"
                   "<th>action</th><th>reason</th><th>instruction</th><th>output</th></tr>")
        for x in recs["removed"]:
            check = e(x["check"]) if x["explained"] else f'<span class="unknown">{UNKNOWN}</span>'
            reason = e(x["reason"] or "") + (f' <span class="meta">(duplicates <code>{e(x["matched_id"])}</code>)</span>'
                                             if x.get("matched_id") else "")
            out.append(f'<tr id="r-{e(x["id"])}"><td><code>{e(x["id"])}</code></td><td>{e(x["stage"] or "")}</td>'
                       f"<td>{check}</td><td>{e(x['action'] or '')}</td><td>{reason}{also_html(x)}</td>"
                       f"<td>{e(clip(x['instruction'], 300))}</td><td>{e(clip(x['output'], 300))}</td></tr>")
        out.append("</table>")
    if recs["added"]:
        out.append(f"<h2>Added records ({len(recs['added'])})</h2><table><tr><th>id</th><th>instruction</th></tr>")
        for x in recs["added"]:
            out.append(f"<tr><td><code>{e(x['id'])}</code></td><td>{e(clip(x['instruction'], 300))}</td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def render(report: dict, fmt: str = "text", examples: int = 3) -> str:
    """``report`` (:func:`diff_report`) as ``fmt``: text (``examples`` of each kind), or json, csv,
    html (every record)."""
    if fmt == "text":
        return render_text(report, examples)
    if fmt == "json":
        return render_json(report)
    if fmt == "csv":
        return render_csv(report)
    if fmt == "html":
        return render_html(report)
    raise CurateError(f"unknown diff format {fmt!r}; expected one of {', '.join(FORMATS)}")


def diff_versions(spec_a: str, spec_b: str, examples: int = 3, fmt: str = "text",
                  annotations: Sequence[str] = (), default_annotations: Sequence[str] = ()) -> str:
    """``curate diff A B``: a report of the record-level differences from A to B and why, as
    ``fmt`` (text, json, csv, html; see :func:`diff_report` and :func:`render`)."""
    if fmt not in FORMATS:
        raise CurateError(f"unknown diff format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return render(diff_report(spec_a, spec_b, examples, annotations, default_annotations), fmt, examples)
