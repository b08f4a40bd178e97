"""``curate diff A B``: record-level diff of two dataset versions (files or ``REV:path``), with the
check, action and reason behind every removed and changed record."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from curate.analysis.diff import diff_report, render
from curate.core.errors import CurateError

#: the ``paths`` keys whose files explain removed and changed records (clean's dropped table and
#: the annotations it applied), found through the params file when it exists
EXPLAINING_PATHS = ("dedupe_annotations", "detect_annotations", "repair_annotations", "dropped")


def default_annotations(params: str | Path | None) -> list[str]:
    """The explaining files named by the params file ``params`` (``paths``: dedupe, detect and
    repair annotations, clean's dropped table), relative ones resolved against its directory;
    ``[]`` when there is no such file. Bad params are a :class:`CurateError` naming the file."""
    if not params or not Path(params).is_file():
        return []
    from curate.core.config import load_params

    paths = load_params(params)["paths"]
    return [paths[k] for k in EXPLAINING_PATHS if paths.get(k)]


def run(a: str, b: str, examples: int = 3, fmt: str = "text", annotations: Sequence[str] | None = None,
        out: str | None = None, params: str | Path | None = "params.yaml") -> str:
    """The diff as text, json, csv or html (see :func:`curate.analysis.diff.diff_report`), with
    explanations from ``annotations`` (files) and from the files the params name. With ``out``
    the diff goes to that file and a one-line summary is returned instead."""
    report = diff_report(a, b, examples=examples, annotations=list(annotations or []),
                         default_annotations=default_annotations(params))
    text = render(report, fmt, examples)
    if out is None:
        return text
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as e:
        raise CurateError(f"{out}: cannot write the diff: {e.strerror or e}") from None
    unknown = report["reason_unknown"]
    return (f"diff: wrote {out} ({fmt}): added {report['added']}, removed {report['removed']}, "
            f"changed {report['changed']}; reason unknown: {unknown['removed']} removed, {unknown['changed']} changed")
