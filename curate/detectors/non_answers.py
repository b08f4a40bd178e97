"""Non-answers: outputs that are empty, say the task cannot be done, or refuse.

* ``empty_output`` -- empty, whitespace or a placeholder (``<nooutput>``, "N/A");
* ``cannot_fulfil`` -- AlpacaDataCleaned's "This type of instruction cannot be fulfilled by a GPT
  model" class;
* ``refusal`` -- "As an AI language model ...", "I cannot ...", apologies that refuse; generalised
  from that class to the phrasings instruction-data cleaning filters look for.
"""

from __future__ import annotations

import re

from curate.core.text import quote
from curate.detectors.registry import Detector, Finding, register


_EMPTY_OUTPUT = re.compile(
    r"""^[\s"'`<\[(]*(?:no[\s_-]*output|no[\s_-]*input|none|n/?a|null|empty)?[\s.:"'`>\])]*$""",
    re.IGNORECASE | re.VERBOSE,
)


# The whole output is one angle-bracket placeholder standing for media or for a missing output:
# "<A visual logo design>", "<output audio>", "<GIF of a basketball being shot>", "<No output - this is
# a visual task.>". HTML is not a placeholder: "<!-- ... -->", "<img src=...>", "</p>", "<br>".
_BRACKET_PLACEHOLDER = re.compile(r"^\s*<\s*([^<>=!/][^<>=]{0,118})>\s*\.?\s*$")
_HTML_TAGS = frozenset("a abbr address article aside audio b body br button canvas caption code div dl em embed "
                       "footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img input label li link main "
                       "meta nav ol option p pre script section select small source span strong style table tbody "
                       "td textarea th thead title tr u ul video".split())


@register("empty_output", category="empty_output", order=40, score="strength",
          summary=('empty, whitespace or placeholder output (`<nooutput>`, "N/A", or one angle-bracket '
                   'placeholder for media such as `<A visual logo design>`)'))
class EmptyOutput(Detector):
    """An output that is empty, whitespace, or a placeholder (``<nooutput>``, ``<noinput>``, "N/A"),
    including one angle-bracket placeholder that stands for media or a missing output
    (``<output audio>``, ``<Data visualization of monthly purchases>``); an HTML tag
    (``<img src="a.jpg">``, ``<br>``) is an answer, not a placeholder.

    A bare "None" is left alone: it can be a correct answer."""

    confidence = 0.86  # 95% Wilson lower bound of its dev-set precision (24/24), docs/detectors.md

    def check(self, rec):
        v = rec["output"]
        if not v.strip():
            return Finding(1.0, "output is empty")
        if v.strip().lower() != "none" and _EMPTY_OUTPUT.match(v):
            return Finding(1.0, f"output is a placeholder {quote(v)}")
        m = _BRACKET_PLACEHOLDER.match(v)
        if m and m.group(1).strip().lower() not in _HTML_TAGS:
            return Finding(0.9, f"output is an angle-bracket placeholder {quote(v)} standing for content it does not contain")
        return None

_CANNOT = re.compile(
    r"(?:this|the)\s+(?:type\s+of\s+)?(?:instruction|task|request)\s+cannot\s+be\s+(?:fulfilled|completed|performed|done)"
    r"|cannot\s+be\s+(?:fulfilled|completed|performed)\s+by\s+(?:a|the)\s+(?:GPT|language|text)"
    r"|(?:task|instruction)\s+cannot\s+be\s+completed\s+by\s+the\s+model",
    re.IGNORECASE,
)


@register("cannot_fulfil", category="refusal", order=50, score="strength",
          summary='"This instruction cannot be fulfilled by a GPT model"')
class CannotFulfil(Detector):
    """The output says the task cannot be done by the model ("This type of instruction cannot
    be fulfilled by a GPT model"): a non-answer, useless as a demonstration."""

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


@register("refusal", category="refusal", order=60, score="strength",
          summary=('"As an AI language model", "I\'m sorry, but I cannot", "I am unable to", as a non-answer;'
                   ' not "I\'m sorry to hear" or apologies that were asked for'))
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
