"""Missing input: the instruction refers to *the following X* (a sentence, a text, a list, an
article, ...) and no X is given — the input is empty and the instruction does not contain it.

AlpacaDataCleaned's README lists instructions that "reference data that is not provided"; the
labelled dev set calls them ``unclear_instruction`` ("cannot be done because needed information
is missing, and the input does not supply it"). The teacher then either asks for the text or
invents one and answers about it; neither is a useful demonstration.

Two detectors (issue 11, "dangling references"): ``missing_input`` flags every dangling
reference as ``unclear_instruction``; ``hallucinated_reference`` additionally flags, as
``hallucination``, the records whose output acts as if it had seen the missing content (it
summarises, classifies or quotes it) instead of asking for it or saying it is not there.
"""

from __future__ import annotations

import re

from curate.core.text import quote
from curate.detectors.hygiene import PLACEHOLDER_INPUT
from curate.detectors.registry import Detector, Finding, register

# Things a text task can be "about" that the input is meant to carry. Media nouns (photo, video,
# chart ...) are left to unseeable_content, which already flags them when no input is given.
_THING = (r"(?:sentences?|text|texts|paragraphs?|passages?|articles?|essays?|story|stories|poems?|statements?|"
          r"quotes?|quotations?|phrases?|words?|list|lists|sequences?|set\s+of\s+\w+|numbers|data|dataset|table|"
          r"code|snippet|program|function|equations?|expressions?|questions?|e-?mails?|letter|message|tweets?|"
          r"reviews?|documents?|conversation|dialogue|argument|headlines?|titles?|description|recipe|lyrics|"
          r"song|speech|excerpt|input|information|facts|items|names|options|choices|product|url|link|website|"
          r"web\s*page|news|report|summary|definition|riddle|joke|tweet|verse|haiku|limerick|survey|"
          r"transcript|query|string|array|matrix|json|xml|html|csv|pattern|procedure|material|topics|verbs|nouns|"
          r"adjectives|adverbs|amount|line|lines)")
# "the following sentence", "the given text", "the provided list", "a given article", "this paragraph",
# "the passage below", "translate the following into French"
_REFERENCE = re.compile(
    rf"""\bthe\s+(?:following|given|provided|above|aforementioned)\s+(?:\w+\s+){{0,2}}{_THING}\b
       | \b(?:a|any)\s+given\s+(?:\w+\s+){{0,2}}{_THING}\b
       | \b(?:this|these)\s+{_THING}\b(?!\s+(?:of|about|for|on|that|which|who|where|with)\b)
       | \bthe\s+{_THING}\s+(?:below|above)\b
       | \bthe\s+following(?=\s*[.:]?\s*$|\s+(?:into|in|to|as|using|from|so|with|by|for)\b)""",
    re.IGNORECASE | re.VERBOSE)
# "the underlined word", "the bolded phrase": plain text has no formatting, so unless the record
# carries markup (**x**, _x_, <b>x</b>) or the input is the one word meant, the reference dangles.
_FORMATTED = re.compile(r"\b(?:the|each|all)\s+(?:\w+\s+)?(?:underlined|bold|bolded|italici[sz]ed|italic|highlighted|"
                        r"emphasi[sz]ed|capitali[sz]ed|marked|starred)\s+(?:words?|phrases?|parts?|text|terms?|sections?|verbs?|nouns?)\b",
                        re.IGNORECASE)
_MARKUP = re.compile(r"\*\*?\w[^*]*\*|(?<!\w)_\w[^_]*_(?!\w)|</?(?:b|u|i|em|strong|mark)>|\[[^\]]+\]|[A-Z]{3,}\b(?<!\bI)")
# The output asks for the content, or says it is not there: honest, not hallucinated.
_ASKS_BACK = re.compile(
    r"\b(?:please\s+(?:provide|share|give|send|paste|specify|include)|(?:no|not\s+(?:a|any))\s+(?:\w+\s+){0,2}(?:was|were|is|are|has\s+been)\s+"
    r"(?:given|provided|included|specified|attached)|(?:was|were|is|are|has\s+been)\s+not\s+(?:given|provided|included|specified)|"
    r"(?:did\s+not|didn't|do\s+not|don't)\s+(?:provide|give|include|specify|see)|(?:I\s+)?(?:need|would\s+need|require)\s+(?:the|more|some)\s+"
    r"(?:\w+\s+){0,2}(?:to|in\s+order)|cannot\s+(?:\w+\s+){0,3}without|there\s+is\s+no\s+(?:\w+\s+){0,2}(?:given|provided|here)|"
    r"missing|not\s+enough\s+information|insufficient\s+information|unclear)\b",
    re.IGNORECASE)

# The instruction carries the content itself: after a colon, in quotes or on a later line ...
_INLINE = re.compile(r""":\s*\S|"[^"]{2,}"|“[^”]{2,}”|(?:^|\s)'[^']{2,}'|\n\s*\S""")
# ... or right after the reference ("this equation 14 + 35", "the following sentence - ...") or
# in a sentence after it ("Is the following sentence true or false? Humans can fly.").
_FOLLOWS = re.compile(r"""^\s*[\d"'“‘(\[{<$€£=+-]|^\s*[-–—]|\s[-–—]\s*\S|[.?!;]\s+\S""")
# "this X" is the answer being written, not given content: "Write a poem. This poem should rhyme".
_ASKS_FOR = re.compile(r"^\s*(?:please\s+)?(?:write|compose|create|generate|make|produce|come\s+up\s+with|draft|"
                       r"give|provide|list|name|suggest|design|develop|construct|invent|think\s+of|brainstorm)\b",
                       re.IGNORECASE)
# "a function that reverses a given string": code and algorithm tasks describe a general input.
_GENERAL_TASK = re.compile(r"\b(?:function|program|algorithm|code|script|method|class|query|regex|regular\s+expression|"
                           r"model|system|approach|procedure|pseudo-?code|api|app|application|tool)\b", re.IGNORECASE)


def dangling_reference(rec) -> tuple[float, str] | None:
    """``(strength, phrase)`` when the instruction refers to content the record does not
    contain ("the following sentence" with an empty input, "the underlined word" with no
    markup), else None. The rules are :class:`MissingInput`'s (its docstring)."""
    inst, inp = rec["instruction"], rec["input"].strip()
    fm = _FORMATTED.search(inst)
    if fm and not _MARKUP.search(inst + " " + inp) and len(inp.split()) != 1:
        return 0.8, fm.group(0).strip()
    if inp and not PLACEHOLDER_INPUT.match(inp):
        return None
    if _INLINE.search(inst):
        return None  # the instruction carries the content itself
    for m in _REFERENCE.finditer(inst):
        phrase = m.group(0).strip()
        first = phrase.split()[0].lower()
        if first in ("this", "these") and _ASKS_FOR.match(inst):
            continue
        if "given" in phrase.lower().split()[:2] and _GENERAL_TASK.search(inst):
            continue
        if _FOLLOWS.search(inst[m.end():]):
            continue
        return (0.8 if first in ("this", "these") else 0.9), phrase
    return None


def _missing(rec) -> str:
    inp = rec["input"].strip()
    if _FORMATTED.search(rec["instruction"]) and inp and not PLACEHOLDER_INPUT.match(inp):
        return "the record has no formatting to show it"
    return "no input is given" if not inp else f"the input is a placeholder {quote(inp, 20)}"


@register("missing_input", category="unclear_instruction", order=130, score="strength",
          summary=('instruction refers to "the following/given/this X" (a sentence, text, list, article ...) '
                   'that neither the input nor the instruction contains, or to "the underlined/bold word" in '
                   'text with no formatting; photos and videos are left to unseeable_content'))
class MissingInput(Detector):
    """The instruction refers to content that is not there: "the following sentence", "the
    given text", "the provided list", "the article below", "a given sentence", "this paragraph",
    "translate the following into French", while the input is empty (or a placeholder such as
    ``<noinput>``) and the instruction itself does not carry the content (nothing after a colon,
    in quotes, or on a later line).

    Not flagged: content right after the reference or in a later sentence ("this equation
    14 + 35", "Is the following sentence true or false? Humans can fly."); media references ("the
    following photo": ``unseeable_content``'s case); "this X" where the instruction asks to write
    the X ("Write a poem ... this poem should rhyme") or qualifies it ("this type of question");
    "a/the given X" in code and algorithm tasks ("a function that reverses a given string"),
    which describe a general input. Also flagged: "the underlined/bolded/italicized/highlighted
    word" when neither instruction nor input carries markup (``**x**``, ``_x_``, ``<b>``, brackets,
    capitals) and the input is not the single word meant. ``score`` is 0.9 for
    following/given/provided/below references and 0.8 for "this X" and formatting references.
    False-positive risk: a generic "a given X" outside code tasks ("optimize a given webpage"); a
    task answerable without the content it mentions; a formatting reference whose sentence has
    one obvious candidate word.
    """

    confidence = 0.67  # 95% Wilson lower bound of its dev-set precision (37/46 unclear_instruction), docs/detectors.md

    def check(self, rec):
        got = dangling_reference(rec)
        if got is None:
            return None
        strength, phrase = got
        return Finding(strength, f"instruction refers to {quote(phrase, 40)} but {_missing(rec)} and the "
                                 f"instruction does not contain it; output {quote(rec['output'], 50)}")


@register("hallucinated_reference", category="hallucination", order=131, score="strength",
          summary=('a dangling reference (as missing_input) whose output acts as if it had seen the missing '
                   'content instead of asking for it or saying it is not there'))
class HallucinatedReference(Detector):
    """A dangling reference (:func:`dangling_reference`) answered as if the content were there:
    the output summarises, classifies, rewrites or quotes a text nobody gave, rather than asking
    for it ("Please provide the sentence") or saying it is missing. The teacher invented the
    content, so the demonstration teaches the student to do the same (Alpaca's "hallucinated
    answers"; issue 11). Outputs that are empty are left to ``empty_output``; lost formatting
    ("the underlined word") is not invented content and is left to ``missing_input``.

    False-positive risk: an output that answers a generic version of the task ("Suggest ways to
    optimize a given webpage" -> general advice) is not strictly about invented content."""

    confidence = 0.50  # 95% Wilson lower bound of its dev-set precision (18/26 hallucination), docs/detectors.md

    def check(self, rec):
        got = dangling_reference(rec)
        out = rec["output"].strip()
        if got is None or not out or _ASKS_BACK.search(out) or _FORMATTED.fullmatch(got[1]):
            return None  # a lost underline is missing formatting, not invented content
        strength, phrase = got
        return Finding(strength, f"instruction refers to {quote(phrase, 40)} but {_missing(rec)}; the output acts "
                                 f"as if it had seen it: {quote(out, 60)}")
