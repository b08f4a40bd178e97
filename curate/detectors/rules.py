"""Detect stage: find the problems AlpacaDataCleaned fixed by hand, one small detector each.

Problem classes from gururise/AlpacaDataCleaned's README: placeholder inputs (``<noinput>``,
"No input", ...), empty and N/A outputs, merged instructions (``\\n##\\n18. Instruction:`` glued into
an output), hallucinated answers to content a text model cannot see (URLs, attached pictures),
requests to produce images/audio/video, and "cannot be completed by a GPT model" non-answers;
plus control characters, outputs cut by Alpaca's stop sequences or mid-sentence, refusals,
non-English text, wrong arithmetic and code requests answered without code. Each detector is a
:class:`Detector` whose ``check`` returns a :class:`Finding` with a human-readable reason naming
the evidence, or None (datatrove's filter style). What to do with a finding is policy
(``detect.policy`` in params.yaml), not code.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

import pyarrow as pa

from curate.core.errors import CurateError
from curate.core.text import quote
from curate.core.schema import ACTIONS, annotations_table


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


_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class ControlChars(Detector):
    """C0/C1 control characters (other than tab and newline) and CRLF line ends: removed and
    normalised to ``\\n``. NUL bytes never get here: ingest quarantines them."""

    name = "control_chars"
    category = "control_chars"
    default_action = "normalize"
    confidence = 0.34  # 95% Wilson lower bound of its dev-set precision (2/2), docs/detectors.md

    def check(self, rec):
        for field in ("instruction", "input", "output"):
            v = rec[field]
            if "\r" in v or _CONTROL.search(v):
                found = sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(v)} | ({"CR"} if "\r" in v else set()))
                fixed = _CONTROL.sub("", v.replace("\r\n", "\n").replace("\r", "\n"))
                return Finding(1.0, f"control characters {', '.join(found)} in {field}", field, fixed)
        return None


# "<noinput>", "No input.", "`<noinput>`", "N/A", "<none>", "No input required" ...
PLACEHOLDER_INPUT = re.compile(
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
    confidence = 0.9  # 95% Wilson lower bound of its dev-set precision (35/35), docs/detectors.md

    def check(self, rec):
        v = rec["input"]
        if v.strip() and PLACEHOLDER_INPUT.match(v):
            return Finding(1.0, f"input is a placeholder {quote(v)}; means no input", "input", "")
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
    confidence = 0.86  # 95% Wilson lower bound of its dev-set precision (24/24), docs/detectors.md

    def check(self, rec):
        v = rec["output"]
        if not v.strip():
            return Finding(1.0, "output is empty")
        if v.strip().lower() != "none" and _EMPTY_OUTPUT.match(v):
            return Finding(1.0, f"output is a placeholder {quote(v)}")
        return None


# A numbered "N. Instruction:" block glued into an output by the teacher's continuation.
_MERGED = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,3}\.[ \t]*)?Instruction[ \t]*:", re.IGNORECASE)
_TRAILING_JUNK = re.compile(r"(?:\n[\s#/*_`\-<>!0-9]*)+$")


class MergedInstruction(Detector):
    """Another task (``N. Instruction: ... N. Input: ... N. Output: ...``) merged into the output.
    The fix keeps the text before the merge marker, minus separator lines like ``##`` or ``///``.
    An output that *starts* with an instruction block is left alone: there is no answer before
    it to keep, and tasks like "Create a task that a GPT model can complete" ask for exactly
    that (a false positive found on the dev set)."""

    name = "merged_instruction"
    category = "merged_instruction"
    default_action = "normalize"
    confidence = 0.85  # 95% Wilson lower bound of its dev-set precision (21/21), docs/detectors.md

    def check(self, rec):
        v = rec["output"]
        m = _MERGED.search(v)
        if not m or not re.search(r"\d+\.[ \t]*Instruction|^\s*Instruction", m.group(0), re.IGNORECASE):
            return None
        head = _TRAILING_JUNK.sub("", v[: m.start()]).rstrip()
        if not head:
            return None
        marker = v[m.start(): m.start() + 40].strip()
        return Finding(1.0, f"output contains a merged instruction at character {m.start()}: {quote(marker, 40)}",
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
    confidence = 0.64  # 95% Wilson lower bound of its dev-set precision (25/31), docs/detectors.md

    def check(self, rec):
        inst, inp, out = rec["instruction"], rec["input"], rec["output"]
        if _ADMITS.search(out):
            return None
        evidence = None
        url = _URL.search(inp) or _URL.search(inst)
        if url and _CONTENT_WORDS.search(inst):
            where = "input" if _URL.search(inp) else "instruction"
            evidence = f"{where} points at a URL {quote(url.group(0), 50)} and the task is about its content"
        elif _ATTACHMENT.search(inp) or _ATTACHMENT.search(inst):
            m = _ATTACHMENT.search(inp) or _ATTACHMENT.search(inst)
            evidence = f"refers to an attachment {quote(m.group(0), 40)} that a text model cannot see"
        elif _FOLLOWING_MEDIA.search(inst) and not inp.strip():
            m = _FOLLOWING_MEDIA.search(inst)
            evidence = f"instruction refers to {quote(m.group(0), 40)} but no input is given"
        if evidence:
            return Finding(0.9, f"{evidence}; output {quote(out, 50)} describes it as if seen")
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
          {_MEDIA_OUT}\b(?!\s+(?:caption|title|description|name|prompt|idea|concept|slogan)s?\b))""",
    re.IGNORECASE | re.VERBOSE,
)


class NonTextRequest(Detector):
    """The instruction asks for an image, logo, drawing, audio or video: not something a text
    model can produce (AlpacaDataCleaned: "instructions to generate images")."""

    name = "non_text_request"
    category = "non_text_request"
    default_action = "drop"
    confidence = 0.89  # 95% Wilson lower bound of its dev-set precision (30/30), docs/detectors.md

    def check(self, rec):
        m = _NON_TEXT.match(rec["instruction"])
        if m:
            return Finding(0.8, f"instruction asks for non-text output: {quote(m.group(0).strip(), 50)}")
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
    confidence = 0.3  # 95% Wilson lower bound of its dev-set precision (3/4), docs/detectors.md

    def check(self, rec):
        m = _CANNOT.search(rec["output"])
        if m:
            return Finding(1.0, f"output is a non-answer: {quote(m.group(0), 70)}")
        return None


# ---------------------------------------------------------------- refusals

_AS_AI = re.compile(
    r"\bas\s+an?\s+(?:AI(?:\s+(?:language\s+)?(?:model|assistant|system))?|artificial\s+intelligence|"
    r"(?:large\s+)?language\s+model|text-based\s+(?:AI|model|assistant)|virtual\s+assistant|chatbot)\b",
    re.IGNORECASE)
_INABILITY = (r"(?:cannot|can't|can\s+not|could\s+not|couldn't|(?:am|are|is|'m|'re)\s+(?:unable|not\s+able|not\s+capable|not\s+designed|not\s+programmed)"
              r"|unable\s+to|not\s+able\s+to|not\s+(?:possible|feasible|suitable|capable)|beyond\s+(?:the|my|its)\s+(?:scope|capabilit\w*|abilit\w*)"
              r"|outside\s+(?:the|my|its)\s+(?:scope|capabilit\w*)|does\s+not\s+meet\s+the\s+requirements|no\s+output"
              r"|(?:do|does)\s+not\s+have\s+(?:the\s+)?(?:ability|capabilit\w*|access)|(?:don't|doesn't)\s+have\s+(?:the\s+)?(?:ability|capabilit\w*|access))")
_MODEL_REF = (r"(?:\bGPT\b|\b(?:AI|language|text|computer|ai\s+language)[\s-]+(?:model|program|assistant|system)s?\b"
              r"|\b(?:the|this|a|our)\s+model\b)")
# How a non-answer opens; an explanation that merely says "the model cannot generalise" does not.
_REFUSAL_OPENER = re.compile(
    r"^\W*(?:sorry|no\s*output|unable|unfortunately|I\b|we\b|this\s+(?:task|instruction|request|type)|"
    r"the\s+(?:task|instruction|request)|you\s+are\s+(?:requesting|asking)|due\s+to|as\s+an?\b|"
    r"(?:it|that)\s+is\s+not\s+possible)", re.IGNORECASE)
_MODEL_NONANSWER = re.compile(rf"{_INABILITY}[^.!?\n]*?{_MODEL_REF}|{_MODEL_REF}[^.!?\n]*?{_INABILITY}", re.IGNORECASE)
_SORRY_START = re.compile(r"^\W*(?:(?:I'm|I\s+am|we're|we\s+are)\s+)?(?:very\s+|so\s+|truly\s+)?(?:sorry|afraid)\b"
                          r"|^\W*(?:unfortunately|apologies|I\s+apologi[sz]e)\b", re.IGNORECASE)
_FIRST_PERSON_REFUSAL = re.compile(
    r"\b(?:I|we)\s+(?:cannot|can't|can\s+not|am\s+unable\s+to|are\s+unable\s+to|'m\s+unable\s+to|am\s+not\s+able\s+to|"
    r"'m\s+not\s+able\s+to|won't\s+be\s+able\s+to|do\s+not\s+have\s+(?:the\s+)?(?:ability|capability|means|access)\s+to|"
    r"don't\s+have\s+(?:the\s+)?(?:ability|capability|means|access)\s+to)\s+"
    r"(?P<verb>answer|complete|perform|do|provide|create|generate|produce|draw|paint|design|set|make|access|browse|view|"
    r"see|open|watch|listen|play|send|book|call|fulfil+|assist|process|retrieve|display|show|give|write|compose|predict|"
    r"tell|determine|know|find|search|look|upload|download|record|sing|edit|render|build|run|execute|take)\b"
    r"(?P<rest>[^.!?\n]{0,120})", re.IGNORECASE)
_UNABLE_START = re.compile(r"^\W*(?:unable|not\s+able|impossible)\s+to\s+(?:perform|complete|do|fulfil+|answer|process|"
                           r"carry\s+out|execute|generate|create|provide|produce)\b", re.IGNORECASE)
# The refused thing is the task itself, not something in a requested text ("I can't believe ...").
_TASK_OBJECT = re.compile(r"\b(?:this|that|these|the\s+(?:task|request|question|instruction|query)|it|such|your\s+request)\b",
                          re.IGNORECASE)
# Instructions whose requested text may itself contain an apology or "I can't": letters, replies,
# dialogue, rewrites, example sentences, an AI assistant's answer.
_PERSONA_TASK = re.compile(
    r"\b(?:apolog\w*|sorry|sympath\w*|condolence\w*|customer|client|complain\w*|dialog\w*|conversation|respon\w*|reply|"
    r"replies|rewrite|rephrase|paraphrase|reword|sentence|phrase|tone|formal|informal|casual|polite|letter|e-?mail|"
    r"message|note|memo|script|story|poem|song|rap|lyrics|tweet|post|speech|character|role|pretend|imagine|"
    r"chatbot|assistant|bot|translate|edit|correct|negative|negation|contraction|example|dialogue|quote|"
    r"idiom|proverb|transition\w*|connect\w*|convert|change|transform|make\s+up|compose|write)\b", re.IGNORECASE)
_ABOUT_AI = re.compile(r"\b(?:GPT|AI|artificial\s+intelligence|language\s+models?|chatbot|virtual\s+assistant|assistant|bot|"
                       r"model'?s?\s+(?:limitations?|capabilit\w*))\b", re.IGNORECASE)
_TASK_INABILITY = re.compile(
    r"\b(?:this|it|that|the\s+(?:task|request|instruction))\s+(?:cannot|can't|can\s+not|could\s+not)\s+be\s+"
    r"(?:done|completed|performed|fulfil+ed|carried\s+out|generated|created|produced|provided)\b"
    r"|\b(?:I|we)\s+(?:am\s+|are\s+|'m\s+|'re\s+)?(?:cannot|can't|can\s+not|unable\s+to|not\s+able\s+to)\s+"
    r"(?:complete|perform|do|fulfil+|carry\s+out|answer)\s+(?:this|that|the\s+(?:task|request|question|instruction))\b"
    r"|^\W*sorry\W+(?:but\s+)?(?:the|this)\s+task\s+(?:involves|requires)\b", re.IGNORECASE)
# Cheap gate: a refusal's first sentences contain one of these (lowercase) substrings.
_REFUSAL_WORDS = ("cannot", "can't", "can not", "could not", "couldn't", "unable", "not able", "not possible",
                  "not suitable", "not feasible", "not capable", "not designed", "not programmed", "beyond",
                  "outside", "no output", "not have", "n't have", "sorry", "afraid", "unfortunately", "apolog",
                  "as a", "as an", "requirements", "impossible", "won't be able")
_FIRST_SENTENCES = re.compile(r"^\s*(?:[^.!?\n]+(?:[.!?]+|\n|$)\s*){1,2}")


class Refusal(Detector):
    """The output refuses or disclaims instead of answering: "As an AI language model ...",
    "Sorry, the task involves creating a visual output ...", "I cannot set up a reminder",
    "Unable to perform this task as it requires visual creative output".

    Signals (in the first two sentences of the output, where a non-answer states itself):
    "As an AI/language model"; an inability ("cannot", "unable to", "not possible", "beyond the
    capabilities", "no output") in the same sentence as a mention of the model ("GPT", "the model",
    "language model", "AI"); an output that opens with "Sorry"/"Unfortunately" and refuses in its
    first sentence; a short output whose first sentence is "I/We cannot|am unable to|don't have the
    ability to ..." aimed at the task ("this", "that", "the request", or the instruction's own verb).
    Source: AlpacaDataCleaned's "cannot be completed by a GPT model" class, generalised to the
    refusal phrasings that instruction-data cleaning filters look for ("As an AI language model",
    "I'm sorry, but I cannot", "I am unable to").

    Not flagged: records the existing ``cannot_fulfil`` detector already flags; customer-service
    or sympathy replies ("I'm sorry to hear that ..."), apology letters and dialogue where the
    apology or "I can't" is part of the requested text (instructions about letters, replies,
    dialogue, rewrites, examples, or an AI assistant's answer); answers that explain what a
    language model cannot do when the instruction asks about models. False-positive risk: a short
    requested first-person text that refuses something ("Say no to the invitation").
    """

    name = "refusal"
    category = "refusal"
    default_action = "drop"
    confidence = 0.86  # 95% Wilson lower bound of its dev-set precision (23/23), docs/detectors.md

    def check(self, rec):
        out = rec["output"]
        head = _FIRST_SENTENCES.match(out)
        head = (head.group(0) if head else out[:300]).replace("’", "'")
        low = head.lower()
        if not any(w in low for w in _REFUSAL_WORDS) or _CANNOT.search(out):
            return None  # nothing refusal-like, or cannot_fulfil's case
        task = rec["instruction"] + "\n" + rec["input"]
        about_ai = _ABOUT_AI.search(task)
        m = _AS_AI.search(head)
        if m and not about_ai:
            return Finding(1.0, f"output disclaims as an AI: {quote(head, 70)}")
        m = _MODEL_NONANSWER.search(head)
        if m and not about_ai and len(out) < 600 and _REFUSAL_OPENER.match(head):
            return Finding(1.0, f"output is a refusal citing the model's limits: {quote(head, 80)}")
        if _UNABLE_START.match(out) and _TASK_OBJECT.search(head) and len(out) < 400:
            return Finding(0.9, f"output refuses the task: {quote(head, 70)}")
        m = _TASK_INABILITY.search(head)
        if m and not about_ai and len(out) < 400 and m.group(0).lower() not in task.lower():
            return Finding(0.9, f"output refuses the task: {quote(head, 70)}")
        persona = _PERSONA_TASK.search(rec["instruction"])
        if persona or len(out) > 400:
            return None
        m = _FIRST_PERSON_REFUSAL.search(head)
        if m and m.start() < 100:
            rest = " ".join(m.group("rest").split()[:4])
            inst_words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", rec["instruction"])}
            shared = inst_words & {w.lower() for w in re.findall(r"[A-Za-z]{4,}", rest)}
            if _TASK_OBJECT.search(rest) or shared:
                return Finding(0.9, f"output refuses the task: {quote(head, 70)}")
        if _SORRY_START.match(out) and re.search(_INABILITY, head, re.IGNORECASE):
            return Finding(0.9, f"output opens with an apology and refuses: {quote(head, 70)}")
        return None


# ---------------------------------------------------------------- truncated outputs

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
# What Alpaca's stop sequence "20." leaves of a year: "in 2020." -> "in 20", "August 18, 1920." -> "August 18, 19".
_DANGLING_YEAR = re.compile(
    rf"""(?:\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+                        # October 31, 20
          |\b(?:in|as\s+of|since|until|till|from|circa|during|by\s+the\s+end\s+of)\s+(?:{_MONTH}\s+)?  # in 20, as of April 20
          |\b(?:1[5-9]|20)\d\d\s*(?:-|–|to|until|through)\s*                   # 1990-20, 2015 to 20
          |\bpp?\.\s*\d+\s*[-–]\s*\d+,\s+)                                     # pp. 147-166, 20
        (?:19|20)$""",
    re.IGNORECASE | re.VERBOSE,
)
_RESULTS_IN = re.compile(r"\b(?:results?|resulted|resulting|ends?|ended|comes?|totals?)\s+in\s+\d+$", re.IGNORECASE)
_DANGLING_CURRENCY = re.compile(r"(?:^|[\s(])[$€£]$")
_DANGLING_RANGE = re.compile(r"\b(?:between|from)\s+[$€£]?\d[\d,.]*\s*[-–]$", re.IGNORECASE)
# Words after which an English sentence cannot end. Copulas only count after a noun ("what it is"
# ends fine); prepositions that strand legitimately ("struggling with") are not listed.
_DANGLING_WORDS = {"the", "a", "an", "of", "and", "or", "nor", "but", "than", "is", "are", "was", "were",
                   "its", "their", "our", "my", "your"}
_STRANDING = {  # previous words that make the final word fine: "what it is", "all but", "made of"
    "is": {"it", "he", "she", "this", "that", "there", "who", "what", "which", "where", "how", "here", "one",
           "thing", "everything", "anything", "something", "nothing", "whoever", "whatever", "is", "be"},
    "of": {"made", "afraid", "consist", "consists", "think", "thought", "sort", "kind", "proud", "aware",
           "capable", "fond", "full", "out", "instead", "because", "all", "ashamed", "rid", "dreamed", "dreamt",
           "heard", "speak", "spoke", "composed", "capable", "certain", "sure", "tired", "scared"},
    "but": {"all", "anything", "nothing", "last", "everything"},
}
_STRANDING["are"] = _STRANDING["was"] = _STRANDING["were"] = _STRANDING["is"] | {"you", "we", "they", "i", "things"}
_WORD_GAME = re.compile(
    r"\b(?:revers\w*|invert\w*|sort\w*|arrang\w*|rearrang\w*|scrambl\w*|unscrambl\w*|shuffl\w*|jumbl\w*|"
    r"alphabeti\w*|backwards?|word\s+order|order\s+of\s+(?:the\s+)?words|last\s+word|missing\s+word|next\s+word|"
    r"fill\s+in|blank|complete\s+the\s+(?:sentence|phrase|idiom|proverb))\b", re.IGNORECASE)
_CLOSINGS = re.compile(r"^\s*(?:dear\b|sincerely|regards|best|yours|thanks|thank\s+you|cheers|love|with\b|warm|"
                       r"respectfully|cordially|kind|all\s+the\s+best|hello|hi\b|greetings|to\s+whom)", re.IGNORECASE)
_INTRO_COLON = re.compile(r"\b(?:following|as\s+follows|below|here\s+(?:are|is)|include|includes|including|are|steps)\s*:$",
                          re.IGNORECASE)
_LIST_ITEM = re.compile(r"^\s*(\d{1,3})[.)]\s+\S")
_EMPTY_ITEM = re.compile(r"^\s*(\d{1,3})[.)]\s*$")
_LABEL_N = re.compile(r"^\s*([A-Za-z][\w ]{0,30}?)\s+(\d{1,3})\s*:\s*(.*)$")
_NUM_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100}
_ASKED_COUNT = re.compile(r"\b([2-9]\d|1\d\d|twenty|thirty|forty|fifty|hundred)\s+(?![a-z]*(?:th|st|nd|rd)\b)"
                          r"(?:[a-z'-]+\s+){0,3}?[a-z'-]*s\b", re.IGNORECASE)
_CODEISH = re.compile(r"```|[{};]\s*$|^\s*(?:def|return|for|while|if|else|SELECT|FROM|WHERE)\b|</?\w+>", re.MULTILINE)


def _is_verse(lines: list[str]) -> bool:
    """Three or more short lines, most without final punctuation: a poem, song or plain list."""
    lines = [ln.strip() for ln in lines if ln.strip()]
    if len(lines) < 3:
        return False
    bare = sum(1 for ln in lines if len(ln) < 70 and ln[-1] not in ".!?")
    return bare >= 0.6 * len(lines)


class TruncatedOutput(Detector):
    """An output cut off mid-sentence, mid-number or mid-list.

    Signals, each precise on its own (checked on the real data, where ~14% of outputs lack final
    punctuation legitimately: short answers, lists, code, titles, poems):

    * a dangling year or date (``"... as of 20"``, ``"October 31, 20"``, ``"August 18, 19"``) and a
      bare currency sign (``"... is $"``): what Alpaca's stop sequences leave. Alpaca's
      ``generate_instruction.py`` (tatsu-lab/stanford_alpaca) decodes with
      ``stop=["\\n20", "20.", "20."]``, so an output that would say "in 2020." or "$20.00" is cut at
      the first ``20.``;
    * a numbered list that stops at item 19 when the instruction asks for 20 or more items: the
      ``"\\n20"`` stop sequence removes item 20 and everything after (no list in the real data goes
      past 19);
    * an empty last list item (``"14."``, ``"Category 4:"`` after filled ``Category 1-3``), a range cut
      after its dash (``"between 1-"``), an open bracket or quote as the last character, an intro
      colon with nothing after it (``"... as follows:"``);
    * a last sentence (at least four words, in a prose last line) that ends on an article,
      conjunction, ``of``, ``than``, a possessive, or a copula after a noun (``"... the numerical
      value of the equation is"``), or on a comma that is not a letter's salutation or closing.

    Not flagged: word games whose answer is a word salad (reverse/sort/arrange the words), short
    answers, verse and list-like outputs, code. False-positive risks: a title or poem line ending in
    "of"/"and", a date answer that really is "in 20" something; the repair is to regenerate the output.
    """

    name = "truncated_output"
    category = "truncated_output"
    default_action = "repair"
    confidence = 0.85  # 95% Wilson lower bound of its dev-set precision (21/21), docs/detectors.md

    def check(self, rec):
        out = rec["output"].rstrip()
        if not out:
            return None
        end, c = out[-120:], out[-1]  # the end-anchored patterns only need the end
        if c.isdigit() and _DANGLING_YEAR.search(end) and not _RESULTS_IN.search(end):
            return Finding(1.0, f"output ends mid-date {quote_end(out)}: a year cut by Alpaca's stop sequence '20.'")
        if c in "$€£" and _DANGLING_CURRENCY.search(end):
            return Finding(1.0, f"output ends on a bare currency sign {quote_end(out)}: the amount was cut")
        if c in "-–" and _DANGLING_RANGE.search(end):
            return Finding(0.9, f"output ends mid-range {quote_end(out)}")
        lines = out.split("\n")
        last = lines[-1].strip()
        prev = [ln.strip() for ln in lines[:-1] if ln.strip()]
        found = self._list_cut(rec["instruction"], last, prev)
        if found:
            return found
        if not (c.isalpha() or c in ",:([{“‘") or _CODEISH.search(out):
            return None
        if c in "([{“‘":
            return Finding(0.9, f"output ends on an open bracket or quote {quote_end(out)}")
        if _is_verse(lines) or _WORD_GAME.search(rec["instruction"]):
            return None
        if c == ":":
            if _INTRO_COLON.search(last) and len(last.split()) >= 3:
                return Finding(0.9, f"output ends on an introduction with nothing after it {quote_end(out)}")
            return None
        if c == ",":
            if len(last.split()) >= 4 and not _CLOSINGS.match(last):
                return Finding(0.7, f"output ends mid-sentence on a comma: {quote_end(out)}")
            return None
        clause = re.split(r"[.!?;:,]\s", last)[-1]
        words = re.findall(r"[A-Za-z']+|[^\sA-Za-z']+", clause)
        if len(last.split()) >= 4 and len(clause.split()) >= 3 and words and words[-1] in _DANGLING_WORDS:
            w, before = words[-1], (words[-2].lower() if len(words) > 1 else "")
            if not (w in _STRANDING and before in _STRANDING[w]) and re.match(r"[A-Za-z']+$", before):
                return Finding(0.9, f"output ends mid-sentence on {w!r}: {quote_end(out)}")
        return None

    @staticmethod
    def _list_cut(instruction, last, prev):
        if _EMPTY_ITEM.match(last) and prev:
            return Finding(1.0, f"output ends on an empty list item {quote(last, 20)} after {quote_end(prev[-1], 40)}")
        m = _LABEL_N.match(last)
        if m and not m.group(3).strip() and prev:
            label, n = m.group(1).lower(), int(m.group(2))
            filled = [_LABEL_N.match(ln) for ln in prev]
            filled = [f for f in filled if f and f.group(1).lower() == label]
            if len(filled) >= 2 and all(f.group(3).strip() for f in filled) and int(filled[-1].group(2)) == n - 1:
                return Finding(1.0, f"output ends on an empty list item {quote(last, 30)} after filled ones")
        if _LIST_ITEM.match(last) and _LIST_ITEM.match(last).group(1) == "19":
            asked = [int(_NUM_WORDS.get(a.lower(), a)) for a in _ASKED_COUNT.findall(instruction)]
            if asked and max(asked) >= 20:
                return Finding(1.0, f"numbered list stops at item 19 of the {max(asked)} asked for: "
                                    f"Alpaca's stop sequence '\\n20' cut the rest")
        return None


# ---------------------------------------------------------------- code requests without code

_PL = (r"(?:python|javascript|js|java|c\+\+|c\#|c|php|ruby|golang|go|rust|swift|kotlin|typescript|perl|bash|shell|"
       r"powershell|sql|mysql|postgresql|sqlite|t-sql|html5?|css3?|jquery|react|node(?:\.?js)?|r|matlab|scala|haskell|"
       r"lua|vba|julia|dart|objective-c|assembly|latex|regex)")
_CODE_VERB = (r"^\s*(?:please\s+)?(?:write|create|generate|construct|implement|build|compose|produce|provide|give|"
              r"code|program|make|output|rewrite)\s+(?:me\s+|us\s+)?")
_WEAK_CODE_VERB = r"^\s*(?:please\s+)?(?:develop|design|suggest|come\s+up\s+with)\s+(?:me\s+|us\s+)?"  # prose can answer these
_ARTICLE = r"(?:an?\s+|the\s+|some\s+|one\s+|two\s+|three\s+|\d+\s+)?"
_QUALIFIER = r"(?:(?!of\b|about\b|for\b|on\b|to\b|that\b|which\b|with\b|in\b|from\b|describing\b|explaining\b)[\w+#.'-]+\s+){0,4}?"
_LANG_OBJECT = rf"""{_PL}\s+(?:\w+\s+)?(?:code|function|program|script|snippet|query|statement|class|method|page|document|
                 table|command|loop|expression|pattern|stylesheet|rule|selector|tag|element|form|array|list|dictionary|
                 object|routine|procedure|module|api|endpoint|template|markup)\b
               |(?:program|script|algorithm|class|method|query|function|code)\s+(?:in|using|written\s+in)\s+{_PL}\b"""
_CODE_ASK = re.compile(
    _CODE_VERB + _ARTICLE + _QUALIFIER +
    rf"""(?:{_LANG_OBJECT}
           |(?:code|source\s+code|function|snippet|regex|regular\s+expression|(?:sql|database|db)\s+(?:query|statement|command)|
              computer\s+program|software\s+program|shell\s+command|lambda\s+function|sql)\b)""",
    re.IGNORECASE | re.VERBOSE)
_WEAK_CODE_ASK = re.compile(_WEAK_CODE_VERB + _ARTICLE + _QUALIFIER + rf"(?:{_LANG_OBJECT})", re.IGNORECASE | re.VERBOSE)
# Prose is a fine answer to these, or "code" means something else.
_NOT_CODE_ASK = re.compile(
    r"\bpseudo-?\s?code\b|\bflow\s?chart\b|\boutline\b|\bexplain\w*\b|\bdescri\w+\b|\bcomment\w*\b|\bdocumentation\b|"
    r"\btest\s+cases?\b|\bcode\s+of\s+(?:conduct|ethics)\b|\bfunction\s+of\b|\b(?:mathematical|linear|quadratic|"
    r"exponential|polynomial|trigonometric|objective|cost|loss|probability|density|utility)\s+functions?\b|"
    r"\bfunctions?\s+(?:as|in)\s+(?:a|an)\b|\b\d+[- ]?(?:digit|character|letter|word|number|symbol)s?\s+(?:[\w-]+\s+)?codes?\b|"
    r"\b(?:pin|digit|character|numerical|numeric|number|secret|access|promo\w*|discount|coupon|zip|postal|area|country|"
    r"dress|colou?r|hex(?:adecimal)?|rgb|qr|bar|morse|binary|ascii|unicode|emoji|verification|security|password|"
    r"passcode|activation|referral|gift|reference|tracking|product|error|status|airport|currency|language|"
    r"genetic|moral|ethical|honor|honour|building|penal|civil|tax|cheat)\s+(?:[\w-]+\s+)?codes?\b",
    re.IGNORECASE)
_HAS_CODE = re.compile(
    r"""```[^\n]*\n\s*\S                                       # fenced block with content
      |[{};]\s*$                                              # statement/block ends
      |^\s*(?:def|class|function|return|import|from\s+\S+\s+import|for|while|if|elif|else|let|var|const|public|private|
             static|int|void|float|double|char|string|bool|print|printf|echo|SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|
             WITH|\#include|package|using|begin|end|do|fn|func|sub|my|puts|System\.out|console\.)\b
      |\bSELECT\s+.+?\s+FROM\s+\w+                             # inline SQL
      |</?[a-zA-Z][\w-]*(?:\s[^<>\n]*)?/?>                     # an HTML/XML tag
      |\w+\s*\([^()\n]*\)\s*(?:[;:{]|=>|$)                     # a call or signature
      |[=!<>]=|=>|->|\+=|-=|\+\+|&&|\|\|                          # operators
      |^\s*[\w.\[\]]+\s*=\s*\S                                  # an assignment
      |\\[dDwWsSbB.]|\[\^?[\w-]+\][*+?{]?|\^[^\s$]*\$|^/.+/[gimsuy]*$  # regex syntax
      |\([^()\s]*\|[^()\s]*\)|\.[*+?]|(?:^|[\s"'])\^[\w\[(\\]        # regex alternation, wildcards, anchors
      |^\s*[$>]\s*\w+                                           # a shell prompt
    """, re.MULTILINE | re.VERBOSE)
_EMPTY_FENCE = re.compile(r"```[\w+#-]*\s*```|```[\w+#-]*\s*\n(?:\s*(?:#|//|/\*|<!--|--)[^\n]*\n)*\s*```")
_PLACEHOLDER_CODE = re.compile(r"^\W*(?:#|//|/\*|<!--)?\s*(?:your|insert|add|put|write)\s+(?:your\s+)?code\s+here\W*$|"
                               r"^\W*(?:code|todo|\.\.\.|pass|no\s+output|n/?a|none)\W*$", re.IGNORECASE)


class EmptyCode(Detector):
    """The instruction asks for code and the output has none: only prose, a placeholder, or an
    empty code block.

    Signal: the instruction opens with a request verb (write, create, generate, construct,
    implement, ...) whose object is code: "a function", "code", "a snippet", "a regex", "a SQL
    query", "a Python program", "an HTML page", "a program in Java" (a bare "program", "script",
    "algorithm", "class" or "query" is not enough: training programs, film scripts, search queries
    and school classes are common in Alpaca); the output has no code sign at all (no fenced block,
    no statement ends ``;{}``, no keyword line, HTML tag, call, assignment, operator or regex
    syntax). Source: AlpacaDataCleaned lists code requests answered with descriptions among its
    fixes; the check is a syntactic one, like the code filters of The Stack/StarCoder data.

    Not flagged: "explain/describe this code", pseudocode, flowcharts, outlines, comments,
    documentation, "zip code", "dress code", "function of the heart", math functions; an output
    with even one code-like line. False-positive risk: an answer in a language whose code looks
    like prose (SQL written in lowercase words only, a one-word shell command).
    """

    name = "empty_code"
    category = "empty_code"
    default_action = "review"
    confidence = 0.7  # 95% Wilson lower bound of its dev-set precision (9/9), docs/detectors.md

    def check(self, rec):
        inst = rec["instruction"]
        m = _CODE_ASK.search(inst) or _WEAK_CODE_ASK.search(inst)
        if not m or _NOT_CODE_ASK.search(inst):
            return None
        out = rec["output"].strip()
        if not out:
            return None  # empty_output's case
        asked = quote(m.group(0).strip(), 50)
        if _EMPTY_FENCE.search(out) and not re.search(r"```[^\n]*\n\s*(?![#/<`-])\S", out):
            return Finding(1.0, f"instruction asks for code ({asked}); output's code block is empty: {quote(out, 50)}")
        if _PLACEHOLDER_CODE.match(out):
            return Finding(1.0, f"instruction asks for code ({asked}); output is a placeholder {quote(out, 40)}")
        if not _HAS_CODE.search(out):
            return Finding(0.8, f"instruction asks for code ({asked}); output is prose with no code: {quote(out, 60)}")
        return None


# ---------------------------------------------------------------- arithmetic answers

_N = r"[-−]?\d+(?:,\d{3})*(?:\.\d+)?"
_NUM_LIST = rf"{_N}(?:\s*(?:,|and|&|\+)\s*(?:and\s+)?{_N})+"
_MATH_TASK = re.compile(
    r"\b(?:calculate|compute|evaluate|what\s+is|what's|solve|add|subtract|multiply|divide|sum|product|difference|"
    r"quotient|result|value|answer|how\s+much|simplify|root|power|percent|average|mean|factorial|squared|cubed|plus|"
    r"minus|times|divided|multiplied)\b|%", re.IGNORECASE)
# Tasks that are not a bare question with one numeric answer.
_NOT_MATH_QUESTION = re.compile(
    r"\b(?:code|program|function|script|python|java|javascript|sql|algorithm|write|create|generate|design|construct|"
    r"explain|describe|why|how\s+(?:to|do|does|can|would|should)|steps?|formula|equations?\s+(?:to|for|that)|"
    r"word\s+problem|story|example|list|table|chart|graph|significant|"
    r"binary|hexadecimal|octal|base\s+\d|roman|percentage\s+change|probability|odds|matrix|vector|"
    r"derivative|integral|limit|mod|modulo|interest|tax|tip|discount|speed|distance|area|volume|"
    r"perimeter|circumference|temperature|celsius|fahrenheit|convert|units?|degrees|radians|sin|cos|tan|log|ln|"
    r"digits?|decimal\s+places|scientific\s+notation|express|rewrite|format|bits?|bytes?|highest|lowest|largest|"
    r"smallest|maximum|minimum|max|min|median|mode|weighted|standard\s+deviation|variance|range|squares|cubes|"
    r"groups?|sort\w*|order|even|odd|prime|missing|next|sequence|series|pattern|each|every|all\s+(?:the\s+)?(?:odd|even|numbers)|"
    r"larger|smaller|greater|less|bigger|compare|percentage|ratio|as\s+an?\s+(?:decimal|percent\w*|fraction|mixed|whole))\b",
    re.IGNORECASE)
_VERBAL = [  # (pattern, kind); kinds are turned into an expression by _verbal_expr
    (re.compile(rf"\b(square|cube)\s+root\s+of\s+({_N})\b", re.I), "root"),
    (re.compile(rf"\b({_N})\s*(?:%|percent)\s+of\s+\$?({_N})\b", re.I), "percent"),
    (re.compile(rf"\b({_N})\s+(?:raised\s+)?to\s+the\s+(?:power\s+of\s+({_N})|({_N})(?:st|nd|rd|th)\s+power)\b", re.I), "power"),
    (re.compile(rf"\b({_N})(?:st|nd|rd|th)\s+power\s+of\s+({_N})\b", re.I), "power_rev"),
    (re.compile(rf"\b({_N})\s+(squared|cubed)\b", re.I), "sqcube"),
    (re.compile(rf"\bfactorial\s+of\s+(1?\d|2[0-5])\b", re.I), "factorial"),
    (re.compile(rf"\b(?:sum|total)\s+of\s+(?:the\s+(?:numbers?|values?|following)\s+)?({_NUM_LIST})\b", re.I), "sum"),
    (re.compile(rf"^\s*(?:please\s+)?add\s+(?:up\s+)?(?:the\s+numbers\s+)?({_NUM_LIST})\b", re.I), "sum"),
    (re.compile(rf"\badd\s+({_N})\s+to\s+({_N})\b", re.I), "sum2"),
    (re.compile(rf"\bproduct\s+of\s+(?:the\s+numbers\s+)?({_NUM_LIST})\b", re.I), "product"),
    (re.compile(rf"^\s*(?:please\s+)?multiply\s+(?:the\s+numbers\s+)?({_N})\s+(?:and|by|with|times)\s+({_N})\b", re.I), "mul"),
    (re.compile(rf"\b({_N})\s+(?:multiplied\s+by|times)\s+({_N})\b", re.I), "mul"),
    (re.compile(rf"\b({_N})\s+divided\s+by\s+({_N})\b", re.I), "div"),
    (re.compile(rf"^\s*(?:please\s+)?divide\s+({_N})\s+by\s+({_N})\b", re.I), "div"),
    (re.compile(rf"\b({_N})\s+plus\s+({_N})\b", re.I), "add"),
    (re.compile(rf"\b({_N})\s+minus\s+({_N})\b", re.I), "sub"),
    (re.compile(rf"\bsubtract\s+({_N})\s+from\s+({_N})\b", re.I), "subfrom"),
    (re.compile(rf"\bdifference\s+between\s+({_N})\s+and\s+({_N})\b", re.I), "absdiff"),
    (re.compile(rf"\b(?:average|mean)\s+of\s+(?:the\s+(?:numbers?|values?|following)\s+)?({_NUM_LIST})\b", re.I), "mean"),
]
# An arithmetic expression: numbers joined by operators, with brackets; "x" only between numbers.
_EXPR = re.compile(r"(?<![\w.])[(\[]*\s*[-−]?\d[\d.,]*(?:\s*(?:[-+*/×÷^−]|\*\*|(?<=[\d)\s])[xX](?=\s*[\d(]))\s*[(\[]*\s*[-−]?\d[\d.,]*\s*[)\]]*)+"
                   r"|(?<![\w.])\d[\d.]*\s*\(\s*\d[\d.]*\s*[-+*/×÷x]\s*\d[\d.]*\s*\)")
_EQUATION = re.compile(r"(?<![\w^])([-−+\d(][\d\s.+\-−*/×÷()a-z]*?=[\d\s.+\-−*/×÷()a-z]*[\da-z)])(?![\w^])", re.I)
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_ANSWER_CUE = re.compile(
    rf"(?:=|≈|\bis\b|\bare\b|\bequals?\b|\bequal\s+to\b|\bevaluates\s+to\b|\bgives\b|\bresults?\s+in\b|\bget\b|:)"
    rf"\s*(?:approximately\s+|about\s+|roughly\s+|around\s+|~\s*)?\$?\s*({_N}(?:\s*/\s*\d+)?)(?!\s*[-+*/×x^(]\s*[\d(])(?![\d,.]*\d)",
    re.IGNORECASE)
_REMAINDER = re.compile(rf"({_N})\s*(?:,\s*)?(?:with\s+)?(?:a\s+)?(?:remainder|r)\s*(?:of\s+)?({_N})\b", re.IGNORECASE)
_APPROXIMATE = re.compile(r"\b(?:approximat\w*|estimat\w*|round\w*|nearest|about|roughly)\b", re.IGNORECASE)
_BARE_NUMBER = re.compile(rf"^\s*\$?\s*({_N}(?:\s*/\s*\d+)?)\s*(?:[a-z%°²³]{{0,12}})?\s*\.?\s*$", re.IGNORECASE)


def quote_end(text: str, n: int = 50) -> str:
    """:func:`curate.core.text.quote` keeping the end of ``text`` (where a truncation shows)."""
    return quote(text, n, keep="end")


def _num(s: str):
    """A number string as an exact sympy Rational (None if it is not one)."""
    import sympy

    s = s.replace("−", "-").replace(" ", "")
    if "," in s:
        if not _THOUSANDS.match(s.lstrip("-")):
            return None
        s = s.replace(",", "")
    try:
        if "/" in s:
            a, b = s.split("/")
            return sympy.Rational(a) / sympy.Rational(b) if float(b) else None
        return sympy.Rational(s)
    except (ValueError, TypeError, ZeroDivisionError):
        return None


def _decimals(s: str) -> int:
    s = s.split("/")[0]
    return len(s.split(".")[1]) if "." in s else 0


class MathCheck(Detector):
    """A wrong answer to a plain arithmetic question.

    Questions understood (from instruction + input, everything else is skipped): an arithmetic
    expression ("What is 3 + 4 * 2?", "Evaluate 8 x (5 + 7)", "4(2+3)"), parsed with sympy's
    ``parse_expr`` after whitelisting the characters; verbal arithmetic ("Add 5 and 7", "the product
    of 5 and 3", "651 divided by 13", "15% of 200", "the square root of 64", "3 to the power of 5",
    "the average of 4, 7 and 12", "the difference between 876 and 953", "factorial of 10"); and a
    linear equation in one variable ("Solve for x: 2x - 5 = 15", solved with ``sympy.solve``). The
    claimed answer is the output itself when it is a bare number, else the number after the last
    answer cue ("= ", "is", "equals", "evaluates to") that is not the start of more arithmetic, or
    ``x = N`` for equations. Source: AlpacaDataCleaned's finding that many of Alpaca's math answers
    are wrong; the check recomputes them.

    Flagged only when the claimed answer differs from the exact value by more than the rounding of
    the claimed number's own decimals (8.67 for 26/3 is right; 12.48664 for sqrt(156) = 12.48999 is
    not). Score: relative error |claimed - expected| / |expected|, capped at 1. Skipped: word
    problems, units, rounding/estimation requests, code, ambiguous forms (``8/2(2+2)``), outputs
    longer than 400 characters. False-positive risk: an output whose last cue number is an
    intermediate step.
    """

    name = "math_check"
    category = "wrong_math"
    default_action = "review"
    confidence = 0.85  # 95% Wilson lower bound of its dev-set precision (22/22), docs/detectors.md

    def check(self, rec):
        inst, inp, out = rec["instruction"], rec["input"].strip(), rec["output"].strip()
        if not out or len(out) > 400 or len(inst) > 200 or len(inp) > 120:
            return None
        if not _MATH_TASK.search(inst) or _NOT_MATH_QUESTION.search(inst) or _NOT_MATH_QUESTION.search(inp):
            return None
        if re.match(r"(?:no\s*input|<no\s*input>|n/?a|none)\W*$", inp, re.I):
            inp = ""
        q = _question(inst, inp)
        if q is None:
            return None
        shown, expected, var = q
        claimed = _claimed(out, var)
        division = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", shown)
        if claimed is None and division and (m := _REMAINDER.search(out)):
            # "68669 divided by 7 equals 9824 with a remainder of 5": compare quotient + remainder/divisor
            quotient, remainder = _num(m.group(1)), _num(m.group(2))
            if quotient is None or remainder is None:
                return None
            claimed = (f"{m.group(1)} remainder {m.group(2)}", quotient + remainder / int(division.group(2)))
        if claimed is None:
            return None
        text, value = claimed
        try:
            diff = abs(float(value - expected))
            float(expected)
        except (OverflowError, TypeError, ValueError):
            return None
        d = _decimals(text) if "remainder" not in text else 9
        if _APPROXIMATE.search(inst):
            tol = max(0.5 * 10.0 ** -d, 0.01 * abs(float(expected)))
        elif expected.is_Rational and (expected * 100).is_Integer:
            tol = 1e-9 * max(1.0, abs(float(expected)))  # a short exact value (5.5) must be given exactly, not as "6"
        else:  # the claimed number's own rounding (0.5 for an integer), or truncation at its last decimal
            tol = max(0.5 if d == 0 else 10.0 ** -d, 1e-9 * abs(float(expected)))
        if diff <= tol * (1 + 1e-9):
            return None
        rel = diff / abs(float(expected)) if expected != 0 else 1.0
        exp_s = _fmt(expected)
        if "remainder" in text:
            exp_s = "{} remainder {}".format(*divmod(int(division.group(1)), int(division.group(2))))
        return Finding(min(1.0, rel), f"instruction asks {shown}; output says {text.strip()}, expected {exp_s}")


def _fmt(v) -> str:
    import sympy

    if v.is_Integer:
        return str(int(v))
    if v.is_Rational:
        return f"{v} = {float(v):.10g}"
    return f"{float(sympy.N(v, 15)):.10g}"


def _question(inst: str, inp: str):
    """``(shown question, exact expected value, variable or None)`` or None."""
    if inp and inp.strip(" .") in inst:
        inp = ""  # the input repeats the instruction's numbers
    text = inst if not inp else f"{inst}\n{inp}"
    # a linear equation in one variable
    if re.search(r"\bsolve\b|\bfind\s+(?:the\s+value\s+of\s+)?[a-z]\b|\bvalue\s+of\s+[a-z]\b", inst, re.I):
        eqs = [e for e in _EQUATION.findall(text) if re.search(r"[a-z]", e, re.I)]
        if len(eqs) == 1:
            return _linear(eqs[0])
        if eqs:
            return None
    if not re.search(r"\d", inst) and re.fullmatch(rf"\s*{_NUM_LIST}\s*\.?", inp):
        op = re.search(r"\b(sum|add|total|product|multiply|average|mean|difference|subtract)\b", inst, re.I)
        kind = {"sum": "sum", "add": "sum", "total": "sum", "product": "product", "multiply": "product",
                "average": "mean", "mean": "mean"}.get(op.group(1).lower()) if op else None
        if kind:
            got = _verbal(kind, [inp])
            return (got[0], got[1], None) if got else None
        return None
    for pat, kind in _VERBAL:
        m = pat.search(text)
        if m:
            if re.search(r"\d", text[: m.start()] + " " + text[m.end():]):
                return None  # more numbers than the operation uses: a word problem or a compound expression
            args = [g for g in m.groups() if g is not None]
            got = _verbal(kind, args)
            if got is not None:
                shown, expr = got
                return shown, expr, None
            return None
    exprs = [e.strip() for e in _EXPR.findall(text)]
    exprs = [e for e in exprs if re.search(r"\d\s*[-+*/×÷xX^−]|\)\s*[-+*/×÷xX^]|\d\s*\(", e)]
    if len(exprs) != 1 or re.search(r"\d{1,2}/\d{1,2}/\d{2,4}|\d+-\d+-\d+", exprs[0]):
        return None  # several expressions, or a date
    if inp and inp not in exprs[0] and not re.fullmatch(r"[\s\d.,+\-−*/×÷xX^()=?]*(?:expression|equation)?[:\s\d.,+\-−*/×÷xX^()=?]*", inp, re.I):
        return None
    # no other numbers in the question than the expression's
    rest = text.replace(exprs[0], " ")
    if re.search(r"\d", rest):
        return None
    return _expression(exprs[0])


def _verbal(kind, args):
    import sympy

    if kind not in ("sum", "product", "mean"):
        nums = [_num(a) for a in args if not a.isalpha()]
        if any(n is None for n in nums) or not nums:
            return None
    if kind == "root":
        root, n = args[0].lower(), nums[0]
        if n < 0:
            return None
        return (f"the {root} root of {args[1]}", sympy.sqrt(n) if root == "square" else sympy.real_root(n, 3))
    if kind == "percent":
        return f"{args[0]}% of {args[1]}", nums[0] * nums[1] / 100
    if kind == "power":
        if nums[1] > 100:
            return None
        return f"{args[0]}^{args[1]}", nums[0] ** nums[1]
    if kind == "power_rev":
        if nums[0] > 100:
            return None
        return f"{args[1]}^{args[0]}", nums[1] ** nums[0]
    if kind == "sqcube":
        return f"{args[0]} {args[1].lower()}", nums[0] ** (2 if args[1].lower() == "squared" else 3)
    if kind == "factorial":
        return f"{args[0]}!", sympy.factorial(nums[0])
    if kind in ("sum", "product", "mean"):
        items = [_num(x) for x in re.findall(_N, args[0])]
        if len(items) < 2 or any(x is None for x in items):
            return None
        listed = ", ".join(re.findall(_N, args[0]))
        if kind == "sum":
            return f"the sum of {listed}", sum(items)
        if kind == "product":
            return f"the product of {listed}", sympy.prod(items)
        return f"the mean of {listed}", sum(items) / len(items)
    a, b = nums[0], nums[1]
    if kind in ("sum2", "add"):
        return f"{args[0]} + {args[1]}", a + b
    if kind == "mul":
        return f"{args[0]} * {args[1]}", a * b
    if kind == "div":
        return (f"{args[0]} / {args[1]}", a / b) if b != 0 else None
    if kind == "sub":
        return f"{args[0]} - {args[1]}", a - b
    if kind == "subfrom":
        return f"{args[1]} - {args[0]}", b - a
    if kind == "absdiff":
        return f"the difference between {args[0]} and {args[1]}", abs(a - b)
    return None


def _clean_expr(e: str) -> str | None:
    e = e.replace("−", "-").replace("×", "*").replace("÷", "/").replace("[", "(").replace("]", ")")
    e = re.sub(r"(?<=[\d)\s])[xX](?=\s*[\d(])", "*", e).replace("^", "**")
    e = re.sub(r"(?<=\d),(?=\d{3}\b)", "", e)
    if "," in e or not re.fullmatch(r"[\d\s.+\-*/()]+", e):
        return None
    if re.search(r"/\s*[\d.]+\s*\(", e):
        return None  # 8/2(2+2): implicit multiplication after a division is ambiguous
    e = re.sub(r"(?<=[\d)])\s*\(", "*(", e)  # 4(2+3) -> 4*(2+3)
    e = re.sub(r"\)\s*(?=[\d(])", ")*", e)
    return e


def _expression(raw: str):
    from sympy.parsing.sympy_parser import parse_expr

    e = _clean_expr(raw)
    if e is None or e.count("(") != e.count(")") or len(e) > 80:
        return None
    if re.search(r"\*\*\s*[\d(]*\s*\d{3,}", e) or e.count("**") > 2 or re.search(r"\*\*\s*(?:[\d.]+\s*\*\*|\([^)]*\*\*)", e):
        return None  # huge or towering powers
    try:
        value = parse_expr(re.sub(r"(\d+\.\d+|\d+)", r"Rational('\1')", e), evaluate=True)
    except Exception:  # noqa: BLE001 - anything unparseable is skipped
        return None
    if not value.is_number or not value.is_real:
        return None
    return re.sub(r"\s+", " ", raw.strip()), value, None


def _linear(eq: str):
    import sympy
    from sympy.parsing.sympy_parser import (implicit_multiplication_application, parse_expr,
                                            standard_transformations)

    eq = eq.replace("−", "-").replace("×", "*").replace("÷", "/").strip()
    letters = set(re.findall(r"[a-z]", eq, re.I))
    if len(letters) != 1 or eq.count("=") != 1 or re.search(r"[a-z]{2,}", eq, re.I):
        return None
    (var,) = letters
    lhs, rhs = eq.split("=")
    tr = standard_transformations + (implicit_multiplication_application,)
    try:
        sym = sympy.Symbol(var)
        loc = {var: sym}
        expr = parse_expr(lhs, local_dict=loc, transformations=tr) - parse_expr(rhs, local_dict=loc, transformations=tr)
        expr = sympy.nsimplify(sympy.expand(expr), rational=True)
        if sympy.degree(expr, sym) != 1:
            return None
        (sol,) = sympy.solve(expr, sym)
    except Exception:  # noqa: BLE001
        return None
    shown = re.sub(r"\s+", " ", eq)
    return f"{shown} for {var}", sol, var


def _claimed(out: str, var: str | None):
    """``(number text, exact value)`` the output gives as its final answer, or None."""
    if var is not None:
        found = re.findall(rf"(?<![\w^]){var}\s*=\s*({_N}(?:\s*/\s*\d+)?)(?![\d.,]*\d)(?!\s*[-+*/×x^(]\s*[\d(a-z])", out)
        if not found:
            m = _BARE_NUMBER.match(out)
            found = [m.group(1)] if m else []
        text = found[-1] if found else None
    else:
        m = _BARE_NUMBER.match(out)
        if m:
            text = m.group(1)
        else:
            first = out.split("\n\n")[0]
            cues = _ANSWER_CUE.findall(first)
            if not cues or re.search(r"\bremainder\b|\bapprox|\bround", first, re.I):
                return None
            text = cues[-1]
    if text is None:
        return None
    value = _num(text)
    return (text, value) if value is not None else None


# ---------------------------------------------------------------- non-English text

# Asking for another language, a translation, foreign words or symbols: then foreign text is the answer.
_LANGUAGE_TASK = re.compile(
    r"\b(?:translat\w*|languages?|lingual|multilingual|bilingual|foreign|native|english|spanish|french|german|"
    r"italian|portuguese|chinese|mandarin|cantonese|japanese|korean|russian|arabic|hindi|greek|latin|hebrew|dutch|"
    r"swedish|norwegian|danish|finnish|polish|turkish|vietnamese|thai|indonesian|malay|swahili|bengali|urdu|"
    r"persian|farsi|tagalog|filipino|ukrainian|czech|hungarian|romanian|irish|gaelic|welsh|sanskrit|esperanto|"
    r"phonetic\w*|ipa|pronunciation|pronounce|transcri\w*|transliterat\w*|romaji|pinyin|alphabet|kanji|hiragana|"
    r"katakana|hangul|cyrillic|characters?|unicode|emoji\w*|symbols?|proverb|idiom|saying|motto|loanword|"
    r"equivalent|lorem|ipsum|cipher|encod\w*|decod\w*|encrypt\w*)\b",
    re.IGNORECASE)
# Letters of these scripts in an English record are non-English text (Latin and Greek are
# handled separately: accented Latin loanwords and single Greek math symbols are fine).
_FOREIGN_SCRIPTS = frozenset({
    "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "CYRILLIC", "ARABIC", "HEBREW", "DEVANAGARI", "BENGALI", "GURMUKHI",
    "GUJARATI", "TAMIL", "TELUGU", "KANNADA", "MALAYALAM", "THAI", "LAO", "KHMER", "MYANMAR", "GEORGIAN",
    "ARMENIAN", "ETHIOPIC", "SINHALA", "TIBETAN", "MONGOLIAN", "SYRIAC", "THAANA", "BOPOMOFO", "YI", "ORIYA"})
_GREEK_WORD = re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]{3,}")
_SCRIPT_CACHE: dict[str, str] = {}


def _script(ch: str) -> str:
    s = _SCRIPT_CACHE.get(ch)
    if s is None:
        s = unicodedata.name(ch, "").split(" ")[0]
        if s == "HANGUL" or s.startswith("HANGUL"):
            s = "HANGUL"
        _SCRIPT_CACHE[ch] = s
    return s


def _foreign_letters(text: str) -> Counter:
    """Letters of non-Latin, non-Greek scripts in ``text``, counted by script."""
    if text.isascii():
        return Counter()
    return Counter(s for ch in text if ord(ch) > 0x2FF and ch.isalpha() and (s := _script(ch)) in _FOREIGN_SCRIPTS)


# Function words that tell a Latin-script language apart; words that are also English ("a", "in",
# "die", "no", "son", "come", "is") are left out.
_FUNCTION_WORDS = {
    "Spanish": {"el", "los", "las", "del", "que", "y", "es", "por", "para", "con", "una", "sus", "pero", "como", "está",
                "muy", "también", "esta", "este", "hay", "más", "fue", "ser", "yo", "tu", "mi", "al", "lo", "ella"},
    "French": {"le", "les", "des", "du", "et", "est", "une", "pour", "avec", "dans", "sur", "qui", "que", "pas", "ne",
               "vous", "nous", "je", "il", "elle", "ce", "cette", "sont", "mais", "ou", "au", "aux", "très", "être"},
    "German": {"der", "das", "und", "ist", "nicht", "ein", "eine", "mit", "von", "zu", "den", "dem", "des", "sich",
               "auf", "für", "ich", "sie", "wir", "es", "auch", "wie", "noch", "oder", "sind", "werden", "ihr"},
    "Italian": {"il", "gli", "della", "che", "di", "è", "per", "con", "non", "una", "sono", "del", "nel", "alla",
                "anche", "ma", "questo", "molto", "le", "lo", "della", "degli", "si"},
    "Portuguese": {"os", "da", "do", "das", "dos", "que", "é", "em", "um", "uma", "para", "com", "não", "por", "mais",
                   "se", "na", "no", "ao", "você", "eu", "ele", "ela", "muito"},
    "Dutch": {"de", "het", "een", "en", "van", "niet", "op", "te", "dat", "voor", "met", "zijn", "ook", "maar", "wij",
              "ik", "er", "naar", "wordt"},
    "Latin": {"et", "est", "non", "ad", "cum", "sed", "ut", "quod", "qui", "quae", "enim", "sit", "esse", "amet",
              "dolor", "ipsum", "lorem", "consectetur", "adipiscing", "elit", "eget", "nec", "vel"},
}
_ENGLISH_WORDS = frozenset(
    "the a an and or but of to in on at for with by from as is are was were be been it its this that these those "
    "i you he she we they my your our their his her not do does did have has had will would can could should "
    "there what which who when where why how all any some more most very so than then if about into".split())
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def _latin_language(text: str) -> tuple[str, list[str]] | None:
    """The non-English Latin-script language ``text`` is mostly written in, with the function
    words that show it, or None."""
    words = [w.lower() for w in _WORD_RE.findall(text)]
    if len(words) < 6:
        return None
    english = sum(w in _ENGLISH_WORDS for w in words)
    best = None
    for lang, vocab in _FUNCTION_WORDS.items():
        hits = [w for w in words if w in vocab]
        if len(set(hits)) >= 3 and len(hits) >= max(4, 0.2 * len(words)) and len(hits) > 3 * english:
            if best is None or len(hits) > len(best[1]):
                best = (lang, hits)
    return best


class NonEnglish(Detector):
    """Non-English or mixed-script text in a record whose task does not call for it.

    Signal: letters of a non-Latin script (CJK, kana, Hangul, Cyrillic, Arabic, Devanagari, ...;
    from ``unicodedata`` character names) or a Greek word of three or more letters in any field; or
    a field of six or more words that is mostly function words of one Latin-script language
    (Spanish, French, German, Italian, Portuguese, Dutch, Latin/lorem ipsum) and almost no English
    ones. No language-identification library: py3langid was tried and calls name lists
    ("Hydrogen, Helium, Lithium") Latin with p=0.999, and the function words it would weigh are
    the evidence a reviewer needs anyway.

    Not flagged: when the instruction or input mentions a language, translation, foreign words,
    characters, symbols, phonetics, a proverb, an equivalent, a cipher (then foreign text is the
    answer); script that the input already contains (the task works on given text); accented
    loanwords and names (café, naïve, Brontë: Latin script), math symbols (π, Σ), emoji and currency
    signs (not letters). False-positive risk: a foreign name written in its own script in an
    otherwise English answer.
    """

    name = "non_english"
    category = "non_english"
    default_action = "review"
    confidence = 0.21  # 95% Wilson lower bound of its dev-set precision (1/1), docs/detectors.md

    def check(self, rec):
        found = self._evidence(rec)
        if found is None or _LANGUAGE_TASK.search(rec["instruction"] + "\n" + rec["input"]):
            return None
        return found

    @staticmethod
    def _evidence(rec):
        given = None
        for field in ("instruction", "input", "output"):
            text = rec[field]
            if not text.strip():
                continue
            if not text.isascii():
                letters = _foreign_letters(text)
                if letters and field == "output":
                    given = _foreign_letters(rec["input"]) if given is None else given
                    letters = Counter({s: n for s, n in letters.items() if s not in given})
                if letters:
                    chars = "".join(ch for ch in text if ord(ch) > 0x2FF and ch.isalpha() and _script(ch) in letters)
                    share = sum(letters.values()) / max(1, sum(ch.isalpha() for ch in text))
                    return Finding(min(1.0, 0.5 + share), f"{field} contains {'/'.join(letters)} letters {quote(chars, 20)}"
                                   f" ({share:.0%} of its letters) in a task that asks for no other language")
                m = _GREEK_WORD.search(text)
                if m and (field != "output" or m.group(0) not in rec["input"]):
                    return Finding(0.7, f"{field} contains Greek text {quote(m.group(0), 20)} in a task that asks for "
                                        f"no other language")
            if field != "input":
                words = text.lower().split()  # cheap gate: English text is full of English function words
                if len(words) >= 6 and sum(w in _ENGLISH_WORDS for w in words) < 0.25 * len(words):
                    lang = _latin_language(text)
                    if lang:
                        ex = ", ".join(repr(w) for w in sorted(set(lang[1]), key=lang[1].index)[:5])
                        return Finding(0.8, f"{field} looks {lang[0]}: function words {ex} in {quote(text, 50)}")
        return None


#: Detectors in the order they run. Normalising ones come first so that later ones see the
#: normalised text (a ``<noinput>`` input counts as empty for UnseeableContent).
DETECTORS: tuple[Detector, ...] = (
    ControlChars(), PlaceholderInput(), MergedInstruction(), EmptyOutput(),
    CannotFulfil(), Refusal(), UnseeableContent(), NonTextRequest(),
    TruncatedOutput(), EmptyCode(), MathCheck(), NonEnglish(),
)


def detect(records: pa.Table, policy: Mapping[str, str] | None = None,
           detectors: Sequence[Detector] = DETECTORS) -> tuple[pa.Table, dict]:
    """Run ``detectors`` over every record. ``policy`` maps detector name -> action (one of
    :data:`curate.core.schema.ACTIONS`), overriding each detector's ``default_action``.

    Detectors see the record as normalised by earlier findings, so a ``normalize`` annotation's
    ``value`` is the field's full new text and annotations apply in order. Returns
    ``(annotations, metrics)``. Raises :class:`CurateError` for an unknown action or detector.
    """
    policy = dict(policy or {})
    names = {d.name for d in detectors} | set(OPTIONAL_DETECTORS)
    for name, action in policy.items():
        if name not in names:
            raise CurateError(f"params.yaml detect.policy: unknown detector {name!r}; known: {sorted(names)}")
        if action not in ACTIONS:
            raise CurateError(f"params.yaml detect.policy.{name}: unknown action {action!r}; expected one of {ACTIONS}")
    timings = {}
    for d in detectors:
        t0 = time.perf_counter()
        d.prepare(records)
        timings[d.name] = time.perf_counter() - t0
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
    n = max(records.num_rows, 1)
    by_action: dict[str, set] = {}
    by_category: dict[str, set] = {}
    for a in ann:
        by_action.setdefault(a["action"], set()).add(a["id"])
        by_category.setdefault(a["category"], set()).add(a["id"])
    metrics = {"records_in": records.num_rows, "annotations": len(ann),
               "flagged_by_check": {d.name: hits.get(d.name, 0) for d in detectors},
               "records_by_category": {c: len(v) for c, v in sorted(by_category.items())},
               "annotations_by_action": dict(sorted(actions.items())),
               "records_by_action": {k: len(v) for k, v in sorted(by_action.items())},
               "share_of_records_by_action": {k: round(len(v) / n, 5) for k, v in sorted(by_action.items())},
               "records_flagged": len({a["id"] for a in ann}),
               "prepare_seconds": {k: round(v, 3) for k, v in timings.items() if v >= 0.001}}
    return annotations_table(ann), metrics


#: Detectors that need a model or an endpoint; built by :func:`build_detectors` when enabled
#: in ``detect.<name>`` of params.yaml (module, class).
OPTIONAL_DETECTORS = {
    "output_mismatch": ("curate.detectors.embedding_signals", "OutputMismatch"),
    "input_ignored": ("curate.detectors.embedding_signals", "InputIgnored"),
    "ifd": ("curate.detectors.embedding_signals", "IFDScore"),
    "llm_judge": ("curate.detectors.llm_judge", "LLMJudge"),
}


def build_detectors(params: Mapping | None, embedding_cache: str | None = None, *,
                    ifd_checkpoint: str | None = None, judge_cache: str | None = None) -> list[Detector]:
    """The detector list for the ``detect:`` params section (possibly partial; validated by
    :class:`curate.core.config.Detect`, which holds the defaults): every rule detector of
    :data:`DETECTORS`, then each :data:`OPTIONAL_DETECTORS` entry whose section has
    ``enabled: true``; the section's other keys are constructor arguments. Files come from
    ``paths``: classes with ``uses_embedding_cache = True`` get ``cache_path`` =
    ``embedding_cache``, ``ifd`` gets ``checkpoint`` = ``ifd_checkpoint`` and ``llm_judge``
    ``cache_path`` = ``judge_cache``. Raises :class:`curate.core.config.ParamsError` for a section
    that does not fit the schema and :class:`CurateError` when an enabled detector's file is
    not given."""
    import importlib
    import inspect

    from curate.core.config import Detect, validate_section

    d = validate_section(Detect, params, "detect")
    files = {"ifd": ("checkpoint", ifd_checkpoint, "paths.ifd_checkpoint"),
             "llm_judge": ("cache_path", judge_cache, "paths.judge_cache")}
    out: list[Detector] = list(DETECTORS)
    for name, (module, cls_name) in OPTIONAL_DETECTORS.items():
        sec = d[name]
        if not sec["enabled"]:
            continue
        cls = getattr(importlib.import_module(module), cls_name)
        kwargs = {k: v for k, v in sec.items() if k != "enabled"}
        if name in files:
            arg, value, key = files[name]
            if not value:
                raise CurateError(f"detect.{name} is enabled but no {arg} was given ({key})")
            kwargs[arg] = value
        if getattr(cls, "uses_embedding_cache", False):
            kwargs["cache_path"] = embedding_cache  # shares dedupe's content-hash cache
        accepted = inspect.signature(cls.__init__).parameters
        bad = sorted(k for k in kwargs if k not in accepted)
        if bad:  # the schema (curate.core.config) and the constructor disagree: a bug
            raise TypeError(f"{cls_name} takes no {bad}: curate.core.config.Detect.{name} disagrees with it")
        out.append(cls(**kwargs))
    return out
