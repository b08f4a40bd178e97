"""Detect stage: find the problems AlpacaDataCleaned fixed by hand, one small detector each.

Problem classes from gururise/AlpacaDataCleaned's README: placeholder inputs (``<noinput>``,
"No input", ...), empty and N/A outputs, merged instructions (``\\n##\\n18. Instruction:`` glued into
an output), hallucinated answers to content a text model cannot see (URLs, attached pictures),
requests to produce images/audio/video, and "cannot be completed by a GPT model" non-answers;
plus control characters. Each detector is a :class:`Detector` whose ``check`` returns a
:class:`Finding` with a human-readable reason naming the evidence, or None (datatrove's filter
style). What to do with a finding is policy (``detect.policy`` in params.yaml), not code.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

import pyarrow as pa

from curate.errors import CurateError
from curate.schema import ACTIONS, annotations_table


@dataclass
class Finding:
    """What a detector found: its score (the raw signal; in [0, 1] unless the detector's
    docstring says otherwise), the reason, for a normalising fix the field and its new full
    value, and optionally a per-finding confidence in [0, 1] overriding the detector's."""

    score: float
    reason: str
    field: str | None = None
    value: str | None = None
    confidence: float | None = None


class Detector:
    """One check over one record (a dict with id/instruction/input/output). Subclasses set
    ``name``, ``category`` (the problem class it finds, docs/detectors.md), ``default_action``,
    ``confidence`` (how sure a finding is, e.g. its precision on the labelled dev set) and
    implement ``check``. Detectors that need a batch signal (embeddings, model losses)
    compute it in ``prepare``, which sees the whole table before any ``check``."""

    name = "detector"
    category = "other"
    default_action = "review"
    confidence = 0.5

    def prepare(self, records: pa.Table) -> None:
        """Compute batch signals for ``records`` (RECORD_SCHEMA); the default does nothing."""

    def check(self, rec: Mapping[str, str]) -> Finding | None:  # pragma: no cover - abstract
        raise NotImplementedError


def _q(text: str, n: int = 60) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return repr(text if len(text) <= n else text[: n - 1] + "…")


# ---------------------------------------------------------------- mechanical patterns

_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class ControlChars(Detector):
    """C0/C1 control characters (other than tab and newline) and CRLF line ends: removed and
    normalised to ``\\n``. NUL bytes never get here: ingest quarantines them."""

    name = "control_chars"
    category = "control_chars"
    default_action = "normalize"

    def check(self, rec):
        for field in ("instruction", "input", "output"):
            v = rec[field]
            if "\r" in v or _CONTROL.search(v):
                found = sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(v)} | ({"CR"} if "\r" in v else set()))
                fixed = _CONTROL.sub("", v.replace("\r\n", "\n").replace("\r", "\n"))
                return Finding(1.0, f"control characters {', '.join(found)} in {field}", field, fixed)
        return None


# "<noinput>", "No input.", "`<noinput>`", "N/A", "<none>", "No input required" ...
_PLACEHOLDER_INPUT = re.compile(
    r"""^[\s"'`<\[(]*(?:no[\s_-]*input(?:\s+(?:is\s+)?(?:required|needed|necessary|provided|given))?
        |none|n/?a|null|nil|empty|not\s+applicable)[\s.:"'`>\])]*$""",
    re.IGNORECASE | re.VERBOSE,
)


class PlaceholderInput(Detector):
    """An input that is a placeholder for "no input" (``<noinput>``, "No input", "N/A", ...):
    normalised to the empty string, as Alpaca's generator does for ``<noinput>``."""

    name = "placeholder_input"
    category = "placeholder_input"
    default_action = "normalize"

    def check(self, rec):
        v = rec["input"]
        if v.strip() and _PLACEHOLDER_INPUT.match(v):
            return Finding(1.0, f"input is a placeholder {_q(v)}; means no input", "input", "")
        return None


_EMPTY_OUTPUT = re.compile(
    r"""^[\s"'`<\[(]*(?:no[\s_-]*output|no[\s_-]*input|none|n/?a|null|empty)?[\s.:"'`>\])]*$""",
    re.IGNORECASE | re.VERBOSE,
)


class EmptyOutput(Detector):
    """An output that is empty, whitespace, or a placeholder (``<nooutput>``, ``<noinput>``, "N/A").

    A bare "None" is left alone: it can be a correct answer."""

    name = "empty_output"
    category = "empty_output"
    default_action = "drop"

    def check(self, rec):
        v = rec["output"]
        if not v.strip():
            return Finding(1.0, "output is empty")
        if v.strip().lower() != "none" and _EMPTY_OUTPUT.match(v):
            return Finding(1.0, f"output is a placeholder {_q(v)}")
        return None


# A numbered "N. Instruction:" block glued into an output by the teacher's continuation.
_MERGED = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,3}\.[ \t]*)?Instruction[ \t]*:", re.IGNORECASE)
_TRAILING_JUNK = re.compile(r"(?:\n[\s#/*_`\-<>!0-9]*)+$")


class MergedInstruction(Detector):
    """Another task (``N. Instruction: ... N. Input: ... N. Output: ...``) merged into the output.
    The fix keeps the text before the merge marker, minus separator lines like ``##`` or ``///``."""

    name = "merged_instruction"
    category = "merged_instruction"
    default_action = "normalize"

    def check(self, rec):
        v = rec["output"]
        m = _MERGED.search(v)
        if not m or not re.search(r"\d+\.[ \t]*Instruction|^\s*Instruction", m.group(0), re.IGNORECASE):
            return None
        head = _TRAILING_JUNK.sub("", v[: m.start()]).rstrip()
        marker = v[m.start(): m.start() + 40].strip()
        return Finding(1.0, f"output contains a merged instruction at character {m.start()}: {_q(marker, 40)}",
                       "output", head)


# ---------------------------------------------------------------- content a text model cannot see

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_ATTACHMENT = re.compile(
    r"""<\s*(?:photo|picture|image|img|video|audio|file|attachment)[^>]{0,20}>   # <Photo>, <Picture Attached>
      |[\[(]\s*(?:attached\s+)?(?:photo|picture|image|video|audio|file|painting)[^\])]{0,20}[\])]  # [Image], (attached image)
      |!\[[^\]]*\]\(                                            # markdown image
      |\battached\s+(?:photo|picture|image|file|document|video|audio|painting)
      |\b(?:photo|picture|image|file|document|video|audio)\s+(?:is\s+)?attached""",
    re.IGNORECASE | re.VERBOSE,
)
# Instruction words that ask about what is *at* a link, not about the link text itself.
_CONTENT_WORDS = re.compile(
    r"\b(?:article|page|web\s*page|website|site|blog|post|video|clip|song|music|audio|podcast|photo|"
    r"picture|image|painting|paper|document|news|content|homepage|summar\w*|review|describe|watch|listen|read)\b",
    re.IGNORECASE,
)
_MEDIA_NOUN = r"(?:photo|photograph|picture|image|video|clip|audio|recording|painting|drawing|chart|graph|diagram|screenshot|figure)"
_FOLLOWING_MEDIA = re.compile(rf"\b(?:following|given|provided|attached|this|above|below)\s+{_MEDIA_NOUN}s?\b", re.IGNORECASE)
# The output admits it cannot see the content: then the record is honest, not hallucinated.
_ADMITS = re.compile(
    r"\b(?:I\s+(?:am\s+)?(?:cannot|can't|can\s+not|am\s+unable|am\s+not\s+able|do\s+not\s+have\s+access|don't\s+have\s+access)"
    r"|(?:unable|not\s+able)\s+to\s+(?:access|view|see|open|watch|listen|browse)|as\s+an\s+AI|language\s+model|"
    r"cannot\s+be\s+(?:completed|fulfilled|performed)|no\s+(?:image|photo|picture|link|url|video)\s+(?:was|is)\s+(?:provided|given|attached))",
    re.IGNORECASE,
)


class UnseeableContent(Detector):
    """The instruction/input points at content a text model cannot see (a URL whose page the
    task is about, an attachment placeholder, "the following photo" with nothing following) and
    the output describes it anyway: a hallucinated answer."""

    name = "unseeable_content"
    category = "unseeable_content"
    default_action = "drop"

    def check(self, rec):
        inst, inp, out = rec["instruction"], rec["input"], rec["output"]
        if _ADMITS.search(out):
            return None
        evidence = None
        url = _URL.search(inp) or _URL.search(inst)
        if url and _CONTENT_WORDS.search(inst):
            where = "input" if _URL.search(inp) else "instruction"
            evidence = f"{where} points at a URL {_q(url.group(0), 50)} and the task is about its content"
        elif _ATTACHMENT.search(inp) or _ATTACHMENT.search(inst):
            m = _ATTACHMENT.search(inp) or _ATTACHMENT.search(inst)
            evidence = f"refers to an attachment {_q(m.group(0), 40)} that a text model cannot see"
        elif _FOLLOWING_MEDIA.search(inst) and not inp.strip():
            m = _FOLLOWING_MEDIA.search(inst)
            evidence = f"instruction refers to {_q(m.group(0), 40)} but no input is given"
        if evidence:
            return Finding(0.9, f"{evidence}; output {_q(out, 50)} describes it as if seen")
        return None


# ---------------------------------------------------------------- non-text requests and non-answers

_MEDIA_OUT = r"(?:image|picture|photo|photograph|drawing|painting|illustration|video|animation|audio|sound\s*clip|recording|logo|graphic|collage|meme|gif|icon|(?<!character\s)sketch)s?"
_NON_TEXT = re.compile(
    rf"""^\s*(?:please\s+)?(?:
          (?:draw|paint|sketch|photograph|film|animate)\b
        | illustrate\b(?![^.]{{0,40}}\bwith\s+an?\s+example)(?!\s+(?:how|why|what|when|where|the\s+(?:concept|importance|difference|idea|process|use|way|effect|impact)|with|using|an?\s+example))
        | (?:create|generate|design|produce|make|take|record|render|build|shoot)\s+
          (?:(?:a|an|the|some|one|two|three|\d+|your|me)\s+)?
          (?:(?!for\b|of\b|about\b|to\b|that\b|with\b|describing\b|caption|title|description|name|slogan|phrase|story|poem|text|script|tagline|lyrics|concept|idea|list|plan|prompt)[\w'-]+\s+){{0,3}}?
          {_MEDIA_OUT}\b)""",
    re.IGNORECASE | re.VERBOSE,
)


class NonTextRequest(Detector):
    """The instruction asks for an image, logo, drawing, audio or video: not something a text
    model can produce (AlpacaDataCleaned: "instructions to generate images")."""

    name = "non_text_request"
    category = "non_text_request"
    default_action = "drop"

    def check(self, rec):
        m = _NON_TEXT.match(rec["instruction"])
        if m:
            return Finding(0.8, f"instruction asks for non-text output: {_q(m.group(0).strip(), 50)}")
        return None


_CANNOT = re.compile(
    r"(?:this|the)\s+(?:type\s+of\s+)?(?:instruction|task|request)\s+cannot\s+be\s+(?:fulfilled|completed|performed|done)"
    r"|cannot\s+be\s+(?:fulfilled|completed|performed)\s+by\s+(?:a|the)\s+(?:GPT|language|text)"
    r"|(?:task|instruction)\s+cannot\s+be\s+completed\s+by\s+the\s+model",
    re.IGNORECASE,
)


class CannotFulfil(Detector):
    """The output says the task cannot be done by the model ("This type of instruction cannot
    be fulfilled by a GPT model"): a non-answer, useless as a demonstration."""

    name = "cannot_fulfil"
    category = "refusal"
    default_action = "drop"

    def check(self, rec):
        m = _CANNOT.search(rec["output"])
        if m:
            return Finding(1.0, f"output is a non-answer: {_q(m.group(0), 70)}")
        return None


#: Detectors in the order they run. Normalising ones come first so that later ones see the
#: normalised text (a ``<noinput>`` input counts as empty for UnseeableContent).
DETECTORS: tuple[Detector, ...] = (
    ControlChars(), PlaceholderInput(), MergedInstruction(), EmptyOutput(),
    CannotFulfil(), UnseeableContent(), NonTextRequest(),
)


def detect(records: pa.Table, policy: Mapping[str, str] | None = None,
           detectors: Sequence[Detector] = DETECTORS) -> tuple[pa.Table, dict]:
    """Run ``detectors`` over every record. ``policy`` maps detector name -> action (one of
    :data:`curate.schema.ACTIONS`), overriding each detector's ``default_action``.

    Detectors see the record as normalised by earlier findings, so a ``normalize`` annotation's
    ``value`` is the field's full new text and annotations apply in order. Returns
    ``(annotations, metrics)``. Raises :class:`CurateError` for an unknown action or detector.
    """
    policy = dict(policy or {})
    names = {d.name for d in detectors}
    for name, action in policy.items():
        if name not in names:
            raise CurateError(f"params.yaml detect.policy: unknown detector {name!r}; known: {sorted(names)}")
        if action not in ACTIONS:
            raise CurateError(f"params.yaml detect.policy.{name}: unknown action {action!r}; expected one of {ACTIONS}")
    for d in detectors:
        d.prepare(records)
    ann, hits = [], Counter()
    for rec in records.select(["id", "instruction", "input", "output"]).to_pylist():
        for d in detectors:
            f = d.check(rec)
            if f is None:
                continue
            action = policy.get(d.name, d.default_action)
            hits[d.name] += 1
            ann.append({"id": rec["id"], "stage": "detect", "check_name": d.name, "score": f.score,
                        "action": action, "reason": f.reason, "field": f.field, "value": f.value,
                        "category": d.category,
                        "confidence": d.confidence if f.confidence is None else f.confidence})
            if action == "normalize" and f.field is not None:
                rec = dict(rec, **{f.field: f.value})
    actions = Counter(a["action"] for a in ann)
    metrics = {"records_in": records.num_rows, "annotations": len(ann),
               "flagged_by_check": {d.name: hits.get(d.name, 0) for d in detectors},
               "annotations_by_action": dict(sorted(actions.items())),
               "records_flagged": len({a["id"] for a in ann})}
    return annotations_table(ann), metrics
