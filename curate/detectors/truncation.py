"""Truncated outputs: cut mid-sentence, mid-number or mid-list, many by Alpaca's own stop
sequences (``stop=["\\n20", "20.", "20."]`` in tatsu-lab/stanford_alpaca's
``generate_instruction.py``).
"""

from __future__ import annotations

import re

from curate.core.text import quote
from curate.detectors.registry import Detector, Finding, register


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


@register("truncated_output", category="truncated_output", order=90, score="strength",
          summary=('output ends mid-date ("October 31, 20": Alpaca\'s stop sequence `20.`), on an '
                   'article/preposition/conjunction, with an open bracket, or a list asked to have >= 20 '
                   'items stops at 19 (stop sequence `\\n20`)'))
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


def quote_end(text: str, n: int = 50) -> str:
    """:func:`curate.core.text.quote` keeping the end of ``text`` (where a truncation shows)."""
    return quote(text, n, keep="end")
