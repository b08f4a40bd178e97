"""Detectors on sentence embeddings (all-MiniLM-L6-v2 through :mod:`curate.models.embedder`).

* :class:`OutputMismatch` — the output is about something else than the prompt: cosine
  similarity of all-MiniLM-L6-v2 embeddings of prompt and output is low.
* :class:`InputIgnored` — the record has an input but the output does not use it: little
  content-word overlap and low embedding similarity between input and output, judged against
  what the instruction's task type leads one to expect.

Both compute their batch signal in :meth:`~curate.detectors.registry.Detector.prepare` and
look it up by record ``id`` in ``check``. Embeddings go through
:func:`curate.models.embedder.embed` and its content-hash cache (``paths.embedding_cache``,
shared with dedupe).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.schema import text_hash
from curate.core.text import quote
from curate.detectors.hygiene import PLACEHOLDER_INPUT
from curate.detectors.registry import Detector, Finding, register
from curate.models import embedder

#: all-MiniLM-L6-v2's own ``max_seq_length`` (word pieces); longer texts are truncated.
MODEL_MAX_SEQ_LENGTH = 256


def cache_for(cache_path: str | Path | None, max_seq_length: int | None) -> Path | None:
    """The embedding cache file for texts embedded with ``max_seq_length`` word pieces.

    The cache in :mod:`curate.models.embedder` is keyed by the text's SHA-256 only, so vectors of
    a text truncated at 128 pieces must not land in the file that holds full-length (256)
    vectors of the same text: any other length gets a sibling file
    ``<stem>.msl<N><suffix>`` (``embeddings.parquet`` -> ``embeddings.msl128.parquet``).
    ``None`` in, ``None`` out (no cache)."""
    if cache_path is None:
        return None
    p = Path(cache_path)
    if max_seq_length is None or max_seq_length == MODEL_MAX_SEQ_LENGTH:
        return p
    return p.with_name(f"{p.stem}.msl{int(max_seq_length)}{p.suffix}")


def _all_cached(texts: Sequence[str], path: Path | None) -> bool:
    """Whether every text's vector is in the cache file ``path`` (its ``hash`` column)."""
    if path is None or not path.is_file():
        return not texts
    have = set(pq.read_table(path, columns=["hash"]).column("hash").to_pylist())
    return all(text_hash(t) in have for t in texts)


def embed_texts(texts: Sequence[str], cache_path: str | Path | None, batch_size: int = 128,
                max_seq_length: int | None = None) -> np.ndarray:
    """:func:`curate.models.embedder.embed` with the model truncating at ``max_seq_length``
    word pieces (``None``: the model's 256), cached in :func:`cache_for` ``(cache_path,
    max_seq_length)``. Returns float32 ``(len(texts), 384)``, rows L2-normalised. The model is
    loaded only on a cache miss; for a shorter length its ``max_seq_length`` is set for the
    call and restored afterwards (not thread-safe: the model is shared). Raises ``ValueError`` if
    ``max_seq_length`` is not in 1..512 (BERT's position table)."""
    if max_seq_length is not None and not 1 <= int(max_seq_length) <= 512:
        raise ValueError(f"max_seq_length must be in 1..512, got {max_seq_length}")
    if max_seq_length is None or max_seq_length == MODEL_MAX_SEQ_LENGTH:
        return embedder.embed(texts, cache_for(cache_path, None), batch_size=batch_size)
    path = cache_for(cache_path, max_seq_length)
    if _all_cached(texts, path):  # embed() will not load the model
        return embedder.embed(texts, path, batch_size=batch_size)
    model = embedder.load_model()
    old = model.max_seq_length
    model.max_seq_length = int(max_seq_length)
    try:
        return embedder.embed(texts, path, batch_size=batch_size)
    finally:
        model.max_seq_length = old


def prompt_text(rec: Mapping[str, str]) -> str:
    """The prompt view of a record: ``instruction``, plus ``"\\n" + input`` when the input is
    non-empty (the same text as dedupe's ``prompt`` view, so its cached vectors are reused)."""
    return "\n".join(x for x in (rec["instruction"], rec["input"]) if x)


# ---------------------------------------------------------------- short / label answers

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_NUMBER = re.compile(r"^[\s$€£(+-]*\d[\d,.\s/:%x×*^+()=-]*[a-zA-Z%°]{0,3}[\s.)]*$")
_EDGE = re.compile(r"^[\s\"'`*“‘(\[]+|[\s\"'`*”’.!?:;,)\]]+$")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", _EDGE.sub("", text)).strip().lower()


def short_or_label_answer(rec: Mapping[str, str], min_words: int) -> str | None:
    """Why the output is a short answer that need not resemble its prompt, or None.

    ``"short"``: fewer than ``min_words`` words; ``"number"``: a number or arithmetic result;
    ``"label"``: the output (up to 8 words, quotes and final punctuation stripped) is a phrase
    named in the instruction or input, i.e. one of the offered labels/options ("Positive",
    "True", "Option B")."""
    out = rec["output"]
    words = _WORD.findall(out)
    if len(words) < min_words:
        return "short"
    if _NUMBER.match(out):
        return "number"
    norm = _norm(out)
    if len(words) <= 8 and norm:
        hay = " " + _norm(rec["instruction"] + " \n " + rec["input"]).replace("\n", " ") + " "
        if re.search(r"(?<![a-z0-9])" + re.escape(norm) + r"(?![a-z0-9])", hay):
            return "label"
    return None


_STOP = frozenset("""
a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having
he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
nor not now of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up very
was we were what when where which while who whom why will with would you your yours yourself yourselves
one two may might must shall us let get got make made many much every
""".split())


def content_words(text: str) -> set[str]:
    """Lowercased content words of ``text`` (alphanumeric tokens minus English stopwords and
    one-letter tokens), each cut to its first 6 characters as a cheap stem ("summarized" and
    "summary" both become "summar")."""
    return {w[:6] for w in (t.lower() for t in _WORD.findall(text)) if len(w) > 1 and w not in _STOP}


# ---------------------------------------------------------------- output vs prompt

# all-MiniLM-L6-v2 is an English model: similarity across languages or to a cipher means nothing.
_FOREIGN = re.compile(
    r"\b(?:translat\w*|locali[sz]\w*|french|spanish|german|italian|chinese|mandarin|japanese|korean|"
    r"russian|portuguese|arabic|hindi|dutch|latin|greek|swedish|turkish|polish|hebrew|cipher|encode|"
    r"encrypt|decode|decipher|decrypt|secret\s+code|phonetic\w*|nato|morse|binary|reverse|backwards?)\b",
    re.IGNORECASE)
# Open-ended generation: the instruction fixes a form ("Write a haiku", "Generate a sentence
# using alliteration"), not a topic, so any on-form output is dissimilar to it.
_GENERATE = re.compile(
    r"^\s*(?:please\s+)?(?:(?:have|let|ask)\s+the\s+(?:gpt\s+)?(?:assistant|model)\s+(?:to\s+)?)?"
    r"(?:generate|create|write|compose|construct|come\s+up|make|give|provide|tell|think|invent|"
    r"design|produce|craft|build|develop|brainstorm|show|suggest|imagine|formulate|form|draft|devise|"
    r"propose|select|choose|pick|name|list|recommend|share|offer|output|say|use|complete|continue|"
    r"finish|predict|guess|"
    r"describe\s+(?:a|an|your)\s+(?:time|situation|moment|day|place|person|experience|challenging)|"
    r"(?:identify|find|state)\s+(?:a|an)\b)", re.IGNORECASE)


def mismatch_exemption(rec: Mapping[str, str], min_words: int) -> str | None:
    """Why a low prompt/output similarity says nothing about ``rec``, or None:
    :func:`short_or_label_answer`; ``"foreign"`` (a translation, cipher or other-notation task);
    ``"open_ended"`` (no input, or a placeholder such as "<noinput>", and the instruction
    starts with a generation verb: "Write a poem", "Generate a sentence using alliteration");
    ``"reuses_input"`` (half or more of the output's content words come from the input: a
    transformation of it)."""
    why = short_or_label_answer(rec, min_words)
    if why:
        return why
    if _FOREIGN.search(rec["instruction"]) or _FOREIGN.search(rec["input"][:200]):
        return "foreign"
    if not rec["input"].strip() or PLACEHOLDER_INPUT.match(rec["input"]):
        return "open_ended" if _GENERATE.match(rec["instruction"]) else None
    out = content_words(rec["output"])
    if out and len(out & content_words(rec["input"])) >= 0.5 * len(out):
        return "reuses_input"
    return None


@register("output_mismatch", category="mismatch", order=200, score="cosine", opt_in=True,
          summary=("MiniLM cosine(instruction+input, output) < 0.1, exempting short answers, labels named in "
                   "the prompt, translation/cipher tasks, open-ended writing"))
class OutputMismatch(Detector):
    """The output does not answer its prompt: cosine similarity of all-MiniLM-L6-v2 embeddings
    of the prompt (``instruction + "\\n" + input``) and of the output is below ``threshold``.

    A low similarity is only evidence where the prompt fixes the output's topic, so records
    exempted by :func:`mismatch_exemption` are never flagged: short answers (fewer than
    ``min_output_words`` words), numbers and offered labels ("Positive", "True", "Option B"),
    translation tasks, open-ended generation without input, and outputs built from the input.

    Constructor: ``cache_path`` (Parquet embedding cache, None = no cache), ``threshold``
    (cosine in [-1, 1]; default 0.1, calibrated by reading hits on the 27,738 real records),
    ``batch_size`` (texts per MiniLM forward pass), ``max_seq_length`` (word pieces kept of
    each *output*, default 128: about a third cheaper than the model's 256 and it changes the
    flags of 1 in 27,738 real records at 0.1; prompts always use 256 so dedupe's cached prompt
    vectors are reused), ``min_output_words``.

    ``prepare`` embeds the whole table (two float32 ``(N, 384)`` arrays); ``check`` returns
    ``Finding(score=similarity, ...)`` — the score is a cosine in [-1, 1], not [0, 1].
    ``check`` of a record that ``prepare`` did not see raises ``KeyError``.
    """

    files = {"cache_path": "embedding_cache"}  # shares dedupe's content-hash cache
    confidence = 0.03  # 95% Wilson lower bound of its dev-set precision (2/22), docs/detectors.md

    def __init__(self, cache_path: str | Path | None = None, threshold: float = 0.1,
                 batch_size: int = 128, max_seq_length: int | None = 128,
                 min_output_words: int = 4) -> None:
        self.cache_path = cache_path
        self.threshold = float(threshold)
        self.batch_size = int(batch_size)
        self.max_seq_length = max_seq_length
        self.min_output_words = int(min_output_words)
        self.similarity: dict[str, float] = {}

    def prepare(self, records: pa.Table) -> None:
        rows = records.select(["id", "instruction", "input", "output"]).to_pylist()
        p = embed_texts([prompt_text(r) for r in rows], self.cache_path, self.batch_size)
        o = embed_texts([r["output"] for r in rows], self.cache_path, self.batch_size, self.max_seq_length)
        sims = np.einsum("ij,ij->i", p, o) if rows else np.zeros(0, dtype=np.float32)
        self.similarity = {r["id"]: float(s) for r, s in zip(rows, sims)}

    def check(self, rec):
        sim = self.similarity[rec["id"]]
        if sim >= self.threshold or not rec["output"].strip():
            return None
        if mismatch_exemption(rec, self.min_output_words):
            return None
        return Finding(sim, f"prompt/output cosine {sim:.3f} < {self.threshold} (all-MiniLM-L6-v2): "
                            f"prompt {quote(prompt_text(rec))} vs output {quote(rec['output'])}")


# ---------------------------------------------------------------- input vs output

# Tasks whose output is the input rewritten: it should keep much of the input's wording or meaning.
_TRANSFORM = re.compile(
    r"\b(?:re-?write|rephrase|paraphrase|re-?word|edit|proof-?read|correct|revise|fix|improve|polish|"
    r"summari[sz]e|shorten|condense|simplify|convert|transform|rearrange|reorder|reorganize|sort|"
    r"replace|remove|delete|capitali[sz]e|punctuate|format|restructure|combine|merge|split)\b",
    re.IGNORECASE)
# Another language, notation or character-level form: little word overlap or meaning is expected.
_RECODE = re.compile(
    r"\b(?:translat\w*|locali[sz]\w*|into\s+(?:code|python|java|sql|binary|hex|morse|emoji)|"
    r"french|spanish|german|italian|chinese|japanese|korean|russian|portuguese|arabic|hindi|dutch|"
    r"pig\s+latin|passive|active|past|future|tense|plural|singular|question|negative|abbreviat\w*|"
    r"acronym|title|haiku|poem|rhyme|tweet|headline|slogan|hashtag|cipher|encode|encrypt|decode|"
    r"decipher|decrypt|secret|phonetic\w*|spell\w*|nato|vowels?|consonants?|"
    r"every\s+(?:\w+\s+){0,2}(?:character|letter)s?|(?:characters?|letters?)\s+(?:in|of|from)\s+(?:the|this|each)|"
    r"reverse|backwards?|feature\s+vector|tokeni[sz]e|emojis?)\b",
    re.IGNORECASE)
# Tasks whose output is a label, an extracted piece or a short judgement about the input.
_CLASSIFY = re.compile(
    r"\b(?:classify|categori[sz]e|label|identify|determine|detect|decide|tell|is\s+(?:it|this|the)|"
    r"are\s+(?:the|these|they)|state\s+(?:if|whether)|does|which|whether|true\s+or\s+false|"
    r"yes\s+or\s+no|sentiment|rate|score|evaluate|count|measure|calculate|compute|find|extract|"
    r"name|pick|choose|select|guess|estimate|match|compare|check|verify|assess|analy[sz]e|explain|"
    r"judge|judgment|judgement)\b",
    re.IGNORECASE)


def task_type(instruction: str) -> str:
    """What the instruction asks of the input: ``"recode"`` (translate, encode, change
    tense/voice or letters: little word overlap is expected), ``"transform"`` (rewrite, edit,
    summarize, convert ...: the output should reuse the input's words or meaning),
    ``"classify"`` (a label, extraction or judgement about the input), or ``"other"``
    (answer, continue or build on the input). Recode wins anywhere in the instruction; otherwise
    the first transform or classify verb among the first 12 words decides."""
    if _RECODE.search(instruction):
        return "recode"
    head = " ".join(instruction.split()[:12])
    t = _TRANSFORM.search(head)
    c = _CLASSIFY.search(head)
    if t and (not c or t.start() < c.start()):
        return "transform"
    if c:
        return "classify"
    return "other"


@register("input_ignored", category="input_ignored", order=210, score="cosine", opt_in=True,
          summary=("rewrite-type task whose output shares < 10 % of the input's content words and has cosine "
                   "< 0.2 with it (other tasks: < 5 %, < 0.1)"))
class InputIgnored(Detector):
    """The record has a non-empty input but the output ignores it.

    Signals, per record with an input: ``overlap`` = share of the input's content words
    (:func:`content_words`) that occur in the output; ``similarity`` = cosine of the
    all-MiniLM-L6-v2 embeddings of input and output; ``task`` = :func:`task_type` of the
    instruction. A finding needs all of:

    * an input with at least ``min_input_words`` content words, and an output with at least
      ``min_output_words`` content words that is not a short/label answer
      (:func:`short_or_label_answer`);
    * for ``transform`` tasks (rewrite, edit, summarize ...): ``overlap < transform_overlap`` and
      ``similarity < transform_similarity`` — a rewrite keeps the input's words or meaning;
    * for ``other`` tasks: ``overlap < other_overlap`` and ``similarity < other_similarity``
      (stricter: a continuation or a story "about the given character" may share few words);
    * ``classify`` and ``recode`` tasks are never flagged (a label, a translation or a cipher
      need not share words or meaning with the input).

    In practice the hits are outputs that never engage with the input: non-answers ("the task
    requires a visual output"), answers about a URL or image the model could not see, and
    outputs about another text. ``score`` = similarity (cosine in [-1, 1]); the reason names the
    task type, overlap and similarity and quotes both texts. Constructor as
    :class:`OutputMismatch` plus the thresholds above, whose defaults were calibrated by
    reading hits on the 27,738 real records.
    """

    files = {"cache_path": "embedding_cache"}  # shares dedupe's content-hash cache
    confidence = 0.01  # 95% Wilson lower bound of its dev-set precision (1/16), docs/detectors.md

    def __init__(self, cache_path: str | Path | None = None, batch_size: int = 128,
                 max_seq_length: int | None = 128, transform_overlap: float = 0.1,
                 transform_similarity: float = 0.2, other_overlap: float = 0.05,
                 other_similarity: float = 0.1, min_input_words: int = 3,
                 min_output_words: int = 5) -> None:
        self.cache_path = cache_path
        self.batch_size = int(batch_size)
        self.max_seq_length = max_seq_length
        self.transform_overlap = float(transform_overlap)
        self.transform_similarity = float(transform_similarity)
        self.other_overlap = float(other_overlap)
        self.other_similarity = float(other_similarity)
        self.min_input_words = int(min_input_words)
        self.min_output_words = int(min_output_words)
        self.similarity: dict[str, float] = {}

    def prepare(self, records: pa.Table) -> None:
        rows = [r for r in records.select(["id", "input", "output"]).to_pylist() if r["input"].strip()]
        if not rows:
            self.similarity = {}
            return
        i = embed_texts([r["input"] for r in rows], self.cache_path, self.batch_size, self.max_seq_length)
        o = embed_texts([r["output"] for r in rows], self.cache_path, self.batch_size, self.max_seq_length)
        self.similarity = {r["id"]: float(s) for r, s in zip(rows, np.einsum("ij,ij->i", i, o))}

    def signals(self, rec: Mapping[str, str]) -> dict | None:
        """``{"task", "overlap", "similarity", "input_words", "output_words"}`` for a record
        with an input that ``prepare`` saw, else None (an input emptied by a normalising
        finding, or no input)."""
        if not rec["input"].strip() or rec["id"] not in self.similarity:
            return None
        inp = content_words(rec["input"])
        out = content_words(rec["output"])
        return {"task": task_type(rec["instruction"]), "overlap": len(inp & out) / len(inp) if inp else 1.0,
                "similarity": self.similarity[rec["id"]], "input_words": len(inp), "output_words": len(out)}

    def check(self, rec):
        s = self.signals(rec)
        if s is None or s["task"] in ("classify", "recode"):
            return None
        if s["input_words"] < self.min_input_words or s["output_words"] < self.min_output_words:
            return None
        if short_or_label_answer(rec, 4):
            return None
        if s["task"] == "transform":
            lim_o, lim_s = self.transform_overlap, self.transform_similarity
        else:
            lim_o, lim_s = self.other_overlap, self.other_similarity
        if s["overlap"] >= lim_o or s["similarity"] >= lim_s:
            return None
        return Finding(s["similarity"],
                       f"{s['task']} task but the output shares {s['overlap']:.0%} of the input's content words "
                       f"(< {lim_o:.0%}) and input/output cosine is {s['similarity']:.3f} (< {lim_s}): "
                       f"input {quote(rec['input'])} vs output {quote(rec['output'])}")

