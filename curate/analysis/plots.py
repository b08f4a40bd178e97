"""Verb-noun plot (self-instruct Figure 2): a CSV for ``dvc plots`` and an optional PNG.

Figure 2 of Wang et al. 2022 (and Alpaca's ``parse_analysis.png``) is a two-ring sunburst:
the top 20 root verbs (inner ring) and their top 4 direct-object nouns (outer ring). DVC
renders data-series plots with Vega-Lite, which has no sunburst, so the CSV is drawn as a
horizontal bar chart of ``label`` ("verb: noun") against ``count``; the PNG (matplotlib, if
installed) draws the two-ring figure itself.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

PLOT_COLUMNS = ("verb_rank", "verb", "noun", "label", "count", "verb_count")


def write_plot_csv(rows: Sequence[dict], path: str | Path) -> Path:
    """Write the rows of :func:`curate.analysis.verbs.top_verb_nouns` as CSV at ``path``.

    Columns: ``verb_rank`` (1 = commonest verb), ``verb``, ``noun``, ``label`` ("verb: noun"),
    ``count`` (records with that verb-noun pair), ``verb_count`` (records with that verb and any
    noun). Creates parent folders; written via a temporary file and renamed. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=PLOT_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
    return path


def render_png(rows: Sequence[dict], path: str | Path, title: str = "") -> Path | None:
    """Draw the two-ring verb/noun figure of ``rows`` to a PNG at ``path``.

    As in the paper's sunburst only the shown pairs are drawn: the outer ring has one wedge per
    (verb, noun) row sized by ``count``, the inner ring one wedge per verb sized by the sum of its
    shown nouns' counts. Labels of wedges under 0.6 % of the total are left out. Returns ``path``, or
    ``None`` when matplotlib is not installed (the PNG is optional) or ``rows`` is empty.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    if not rows:
        return None
    verbs: list[str] = []
    nouns: dict[str, list[tuple[str, int]]] = {}
    for r in rows:
        if r["verb"] not in nouns:
            verbs.append(r["verb"])
            nouns[r["verb"]] = []
        nouns[r["verb"]].append((r["noun"], int(r["count"])))

    cmap = plt.get_cmap("tab20")
    inner_sizes = [sum(c for _, c in nouns[v]) for v in verbs]  # as in the paper: shown pairs only
    inner_colors = [cmap(i % 20) for i in range(len(verbs))]
    outer_sizes, outer_labels, outer_colors = [], [], []
    for i, v in enumerate(verbs):
        for noun, count in nouns[v]:
            outer_sizes.append(count)
            outer_labels.append(noun)
            outer_colors.append((*cmap(i % 20)[:3], 0.6))

    fig, ax = plt.subplots(figsize=(12, 12))
    total = sum(inner_sizes)
    tiny = 0.006 * total  # labels of slivers would overprint their neighbours
    ax.pie(
        inner_sizes,
        radius=0.62,
        colors=inner_colors,
        labels=verbs,
        labeldistance=0.6,
        rotatelabels=True,
        textprops={"fontsize": 9, "ha": "center", "va": "center"},
        wedgeprops={"width": 0.4, "edgecolor": "white"},
        startangle=90,
        counterclock=False,
    )
    ax.pie(
        outer_sizes,
        radius=1.0,
        colors=outer_colors,
        labels=[label if size >= tiny else "" for label, size in zip(outer_labels, outer_sizes)],
        labeldistance=0.82,
        rotatelabels=True,
        textprops={"fontsize": 7, "ha": "center", "va": "center"},
        wedgeprops={"width": 0.38, "edgecolor": "white"},
        startangle=90,
        counterclock=False,
    )
    ax.set(aspect="equal")
    ax.set_title(
        (title + "\n" if title else "")
        + f"top {len(verbs)} root verbs and their top direct-object nouns ({total} records shown)"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
