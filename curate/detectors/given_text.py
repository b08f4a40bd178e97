"""Answers computable from text the record itself gives: counts (words, letters, vowels, a
letter's occurrences ...), orderings (alphabetise, sort numbers, sort by length, reverse) and
answers that must come from a set the instruction names ("positive, negative or neutral",
"true or false"). Each is recomputed from the instruction and input and compared with the
output; only confident mismatches are flagged, with both values in the reason.

Source: AlpacaDataCleaned found wrong answers in Alpaca's text-davinci-003 outputs; this is the
"programmatic verification of computable answers" of its cleaning, for the text families
(arithmetic is :mod:`curate.detectors.arithmetic`; statistics, geometry, units, dates and
primes are :mod:`curate.detectors.computable`). Everything here is ``re``/``unicodedata`` on one record:
importing the module is cheap and the three detectors together take about half a second over
27.7K records. ``python -m curate.detectors.given_text FILE...`` prints how many records each
detector recognises and flags, and the time.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from fractions import Fraction

from curate.core.text import clip, quote
from curate.detectors.hygiene import PLACEHOLDER_INPUT
from curate.detectors.registry import Detector, Finding, register

# --------------------------------------------------------------------------- shared helpers

# Tasks about code or a general input ("write a function that counts the vowels of a string").
_CODE_TASK = re.compile(r"\b(?:function|program|script|code|algorithm|python|java\w*|sql|query|regex|regular\s+"
                        r"expression|pseudo-?code|c\+\+|loop|api|method|class|implement\w*)\b", re.IGNORECASE)
_QUOTED = re.compile(r"\"([^\"\n]+)\"|“([^”\n]+)”|‘([^’\n]+)’|«([^»\n]+)»|(?<![\w'])'([^'\n]+)'(?![\w'])")
_INPUT_LABEL = re.compile(r"^\s*(?:the\s+)?(?:sentence|text|string|word|phrase|input|passage|paragraph|list|array|"
                          r"numbers|words|items|set|sequence|statement|review|tweet|names|animals|fruits|countries|"
                          r"colou?rs|cities|data|values|"
                          r"input\s+string|given\s+\w+)\s*(?:\d\s*)?[:=]\s*", re.IGNORECASE)
_NUMWORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_NUMWORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
                  "once": 1, "twice": 2, "thrice": 3, "no": 0, "none": 0, "a single": 1, "only one": 1})


def _fold(s: str) -> str:
    """Compatibility-normalised, accents dropped, casefolded, typographic quotes and dashes as ASCII."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.translate(_ASCII).casefold()


_ASCII = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "−": "-", "\u00a0": " "})


def _alnum(s: str) -> str:
    return re.sub(r"[\W_]+", "", _fold(s))


def _input(rec) -> str:
    inp = rec["input"].strip()
    return "" if PLACEHOLDER_INPUT.match(inp) else inp


def _unlabel(text: str) -> str:
    """The given text without a ``Sentence:`` style label and surrounding quotes or brackets."""
    text = _INPUT_LABEL.sub("", text.strip(), count=1).strip()
    for a, b in ('""', "“”", "''", "‘’"):
        if len(text) > 2 and text[0] == a and text[-1] == b and a not in text[1:-1] and b not in text[1:-1]:
            text = text[1:-1].strip()
    return text


def _has(low: str, *words: str) -> bool:
    """Any of ``words`` in the lowercased text: a cheap gate before the regular expressions."""
    for w in words:
        if w in low:
            return True
    return False


def _quoted(text: str) -> list[tuple[str, int, int]]:
    return [(next(g for g in m.groups() if g is not None), m.start(), m.end()) for m in _QUOTED.finditer(text)]


class _Counting(Detector):
    """Counts of recognised and flagged records for ``metrics()``."""

    def __init__(self):
        self.parsed = 0
        self.flagged = 0

    def metrics(self):
        return {"parsed": self.parsed, "flagged": self.flagged}

    def _found(self, finding: Finding | None) -> Finding | None:
        self.parsed += 1
        self.flagged += finding is not None
        return finding


# --------------------------------------------------------------------------- counting

_UNIT_WORDS = {
    "word": r"words?", "letter": r"letters?|alphabets", "character": r"characters?|chars", "vowel": r"vowels?",
    "consonant": r"consonants?", "sentence": r"sentences?", "item": r"items?|elements?|entries",
}
_UNIT_RE = {u: re.compile(rf"\b(?:{w})\b", re.IGNORECASE) for u, w in _UNIT_WORDS.items()}
_ANY_UNIT = "|".join(_UNIT_WORDS.values())
# "how many words", "count the number of vowels", "the total number of characters", "word count"
_COUNT_ASK = re.compile(
    rf"\b(?:how\s+many|count(?:ing)?|number\s+of|tally)\s+(?:(?:the|all|up|total|of|number|in|there)\s+){{0,4}}"
    rf"(?P<unit>{_ANY_UNIT})\b|\b(?P<unit2>word|letter|character|vowel|consonant|sentence)\s+count\b"
    r"|\b(?:length|len)\s+of\s+(?:(?:the|this|a|given|following|provided|input)\s+){0,3}"
    r"(?P<len>string|text|word|sentence|phrase)\b",
    re.IGNORECASE)
# a given letter's or word's occurrences: "the letter 'e'", "how many a's", "the word 'dog'"
_TARGET_LETTER = re.compile(
    r"""\b(?:the\s+)?(?:letter|character|alphabet)(?:\s+["'“‘]?|\s*["'“‘])(?P<l>[a-z])(?!\w)["'”’]?(?:\s*['’]?s)?"""
    r"""|\bhow\s+many\s+["'“‘]?(?P<l2>[a-z])["'”’]?['’]?s\b"""
    r"""|\b(?:occurrences?|instances?)\s+of\s+["'“‘](?P<l3>[a-z])["'”’]""",
    re.IGNORECASE)
_TARGET_WORD = re.compile(r"""\b(?:the\s+)?word\s+["'“‘](?P<w>[^"'”’\s]{2,30})["'”’]"""
                          r"""|\b(?:occurrences?|instances?|times)\s+(?:of\s+)?["'“‘](?P<w2>[^"'”’\s]{2,30})["'”’]""",
                          re.IGNORECASE)
_TIMES = re.compile(r"\b(?:times|occurrences?|instances?|appear\w*|occur\w*|frequency)\b", re.IGNORECASE)
# Counts whose answer needs more than the text (syllables, parts of speech), a condition, or no text at all.
_COUNT_SKIP = re.compile(
    r"\b(?:unique|distinct|different|capital\w*|upper\s*case|lower\s*case|uppercase|lowercase|upper|lower|"
    r"syllables?|adjectives?|nouns?|verbs?|adverbs?|pronouns?|prepositions?|conjunctions?|articles?|"
    r"each|every|per|average|longest|shortest|long|starts?|starting|begin\w*|ends?|ending|contain\w*|"
    r"more|less|fewer|least|most|greater|longer|shorter|minimum|maximum|reduce|increase|limit|under|exceed\w*|"
    r"common|between|missing|needed|required|possible|can|could|should|would|english|alphabet\s+has|"
    r"repeated|double|duplicate\w*|palindrom\w*|except(?!\s+(?:the\s+)?(?:white\s*)?spaces?)|other\s+than|pages?|"
    r"first|second|third|fourth|"
    r"fifth|last|final|title|headline|"
    r"estimate|approximate\w*|about|roughly|reading|read|punctuation\s+marks?|spaces\s+in|digits?|numbers|"
    r"\d+-letter|letter\s+words?|characters?\s+long|percent\w*|ratio|proportion|then|and\s+(?:then\s+)?"
    r"(?:write|output|list|print|generate|give|explain|provide|identify|name|create|replace)"
    r"(?!\s+(?:the\s+|your\s+)?(?:output|answer|result|count|number|total)))\b",
    re.IGNORECASE)
_INCLUDING_SPACES = re.compile(r"\b(?:including|with|counting|incl\.?)\s+(?:the\s+)?(?:white\s*spaces?|spaces?|"
                               r"blanks?|punctuation)", re.IGNORECASE)
_EXCLUDING_SPACES = re.compile(r"\b(?:excluding|without|not\s+(?:including|counting)|ignoring|except)\s+(?:the\s+)?"
                               r"(?:white\s*spaces?|spaces?|blanks?)", re.IGNORECASE)
_OUT_NUMBER = re.compile(r"(?<![\w.,])\d{1,5}(?![\w]|[.,]\d)")
_OUT_NUMWORD = re.compile(r"\b(?:" + "|".join(sorted((re.escape(w) for w in _NUMWORDS), key=len, reverse=True)) +
                          r")\b", re.IGNORECASE)


def _words_variants(text: str) -> set[int]:
    """Word counts under the reasonable tokenisations (hyphens, contractions, numbers)."""
    t = _fold(text)
    return {
        len([w for w in t.split() if re.search(r"[^\W_]", w)]),                 # whitespace
        len(re.findall(r"[^\W_]+(?:['.-][^\W_]+)*", t)),                        # "well-known", "it's" one word
        len(re.findall(r"[^\W_]+", t)),                                         # split on every mark
        len(re.findall(r"[^\W\d_]+(?:['-][^\W\d_]+)*", t)),                     # numbers are not words
        len(re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*", t)),                        # contractions as two words
    }


def _letter_counts(text: str, spaces: str | None) -> set[int]:
    """Letters / characters, with or without spaces and punctuation (all accepted unless the
    instruction says which)."""
    out = set()
    for t in {text, text.strip().strip("\"'“”‘’").strip(), text.strip().rstrip(".!?").strip()}:
        with_spaces, no_spaces = len(t), len(re.sub(r"\s", "", t))
        if spaces == "with":
            out |= {with_spaces}
        elif spaces == "without":
            out |= {no_spaces, sum(c.isalnum() for c in t)}
        else:
            out |= {with_spaces, no_spaces, sum(c.isalnum() for c in t), sum(c.isalpha() for c in t)}
    return out


def _vowels(text: str, y: bool) -> int:
    return sum(c in ("aeiouy" if y else "aeiou") for c in _fold(text))


def _sentences(text: str) -> set[int]:
    """Sentences by end marks, by end marks before a capital (abbreviations and initials not
    counted), and by lines."""
    t = text.strip()
    ends = re.findall(r"[^.!?]*[^\W_][^.!?]*(?:[.!?]+|$)", t)
    t2 = re.sub(r"\b(?:mr|mrs|ms|dr|st|prof|jr|sr|vs|etc|e\.g|i\.e|[A-Z])\.", "", t, flags=re.I)
    capital = re.findall(r"[.!?]+(?=\s+[\"'“‘(]?[A-Z0-9])", t2)
    lines = [ln for ln in t.splitlines() if ln.strip()]
    return {len(ends), len(capital) + 1, len(lines)} - {0}


def _items(text: str) -> set[int]:
    lines = [ln for ln in text.splitlines() if re.search(r"\w", ln)]
    parts = [p for p in re.split(r"\s*(?:,|;|\band\b|\bor\b)\s*", text) if re.search(r"\w", p)]
    return {len(lines), len(parts)} - {0}


def _occurrences(text: str, target: str, letter: bool) -> set[int]:
    t, f = _fold(text), _fold(target)
    if letter:
        return {t.count(f), text.count(target)}
    whole = len(re.findall(rf"(?<![^\W_]){re.escape(f)}(?![^\W_])", t))
    plural = len(re.findall(rf"(?<![^\W_]){re.escape(f)}(?:s|es|'s)?(?![^\W_])", t))
    cased = len(re.findall(rf"(?<![^\W_]){re.escape(target)}(?![^\W_])", text))
    return {whole, plural, cased, t.count(f)}


def _count_question(inst: str, inp: str):
    """``(text, {unit: (what is asked, accepted counts)})`` for a counting question about a
    given text, or None."""
    if _CODE_TASK.search(inst) or _COUNT_SKIP.search(_QUOTED.sub(" ", inst)):
        return None
    units = set()
    for m in _COUNT_ASK.finditer(inst):
        u = (m.group("unit") or m.group("unit2") or "").lower()
        units.add(next((k for k, r in _UNIT_RE.items() if r.fullmatch(u)), "character") if u else "character")
    target, letter = None, False
    if (t := _TARGET_LETTER.search(inst)) and (t.group("l") or t.group("l2") or t.group("l3")):
        target, letter, span = (t.group("l") or t.group("l2") or t.group("l3")), True, t.span()
    elif not units and (t := _TARGET_WORD.search(inst)) and (t.group("w") or t.group("w2")):
        target, span = (t.group("w") or t.group("w2")), t.span()
    if target is None and re.search(r"\bgiven\s+word\b", inst, re.I) and (
            t := re.match(r"""\s*word\s*[:=]\s*["'“‘]?([^\W\d_]{2,30})["'”’]?\s*\n(.+)""", inp, re.I | re.S)):
        target, inp, span = t.group(1), t.group(2), (0, 0)  # "Word: 'tech'" and the text below it
    if "item" in units and (not re.search(r"\b(?:list|array|set|sequence)\b", inst, re.I) or
                            re.search(r"\b(?:cost|price|total|stock)\b", inst, re.I)):
        return None  # "number of items" in a word problem, not the length of a given list
    if target is None:
        if not units or _TIMES.search(inst) or len(units) > 2 or (len(units) == 2 and units != {"vowel", "consonant"}):
            return None
        rest = inst
    else:
        if not re.search(r"\bhow\s+many\b|\bcount\w*|\bnumber\s+of\b|\b(?:times|occurrences?|instances?)\b", inst, re.I):
            return None  # "rewrite it so that the word 'x' does not appear": not a count
        units = {"target"}
        rest = inst[: span[0]] + " " + inst[span[1]:]
    text = _given_text(rest, inp)
    if text is None or len(text) > 600 or not re.search(r"[^\W\d_]", text):
        return None
    spaces = "with" if _INCLUDING_SPACES.search(inst) else "without" if _EXCLUDING_SPACES.search(inst) else None
    asks = {}
    for u in sorted(units):
        if u == "target":
            asks[u] = (f"the occurrences of the {'letter' if letter else 'word'} {target!r}",
                       _occurrences(text, target, letter))
        elif u == "word":
            asks[u] = ("the number of words", _words_variants(text))
        elif u in ("letter", "character"):
            asks[u] = (f"the number of {u}s", _letter_counts(text, spaces))
        elif u == "vowel":
            asks[u] = ("the number of vowels", {_vowels(text, False), _vowels(text, True)})
        elif u == "consonant":
            n = sum(c.isalpha() for c in _fold(text))
            asks[u] = ("the number of consonants", {n - _vowels(text, False), n - _vowels(text, True)})
        elif u == "sentence":
            asks[u] = ("the number of sentences", _sentences(text))
        elif u == "item":
            asks[u] = ("the number of items", _items(text))
    return text, asks


def _given_text(inst: str, inp: str) -> str | None:
    """The one text the instruction is about: a quoted part of it, the part after its colon, or
    the input; None when there are several different candidates or none."""
    cands = [q for q, _, _ in _quoted(inst) if re.search(r"[^\W_]", q)]
    if len(cands) > 1:
        return None
    if not cands and (m := re.search(r":\s*(\S.*)$", inst, re.S)) and not re.search(r"\b(?:it|them)\b", m.group(1)):
        cands = [m.group(1)]
    if inp:
        cands.append(inp)
    cands = [_unlabel(c) for c in cands]
    keys = {_alnum(c) for c in cands}
    if len(keys) != 1 or not cands[0]:
        # the input repeats the quoted text with a different ending ("... dream" vs "... dream.")
        return cands[-1] if len(keys) == 2 and min(keys, key=len) in max(keys, key=len) and len(cands) == 2 and \
            len(max(keys, key=len)) - len(min(keys, key=len)) <= 1 else None
    return cands[0]


def _claimed_counts(out: str, text: str, asks: dict) -> dict:
    """Unit -> the count the output claims (absent where it is not clear)."""
    body = out
    for q in {text, text.strip(".!? ")} | {q for q, _, _ in _quoted(out)}:
        if q:
            body = body.replace(q, " ")
    body = re.sub(r"(?m)^\s*\d+[.)]\s+", " ", body)  # list numbering
    numbers = []  # (value, start, end)
    for m in _OUT_NUMBER.finditer(body):
        numbers.append((int(m.group()), m.start(), m.end()))
    for m in _OUT_NUMWORD.finditer(body):
        w = m.group().lower()
        after = body[m.end(): m.end() + 30]
        standalone = re.fullmatch(r"\W*" + re.escape(m.group()) + r"\W*", body, re.I)
        if w in ("once", "twice", "thrice") or standalone or re.match(
                rf"\s+(?:\w+\s+)?(?:{_ANY_UNIT}|times)\b", after, re.I) or re.match(r"\s*(?:[.!]|$)", after):
            if w in ("no", "none", "a single", "only one") and not re.match(rf"\s+(?:{_ANY_UNIT}|times)\b", after, re.I):
                continue
            numbers.append((_NUMWORDS[w], m.start(), m.end()))
    out_counts = {}
    for u in asks:
        words = {"target": r"times|occurrences?|instances?", **_UNIT_WORDS}[u]
        before = re.compile(rf"\b(?:{words})\w*\s*(?:[:=-]|is|are|count\s+is|total\s+is)\s*$", re.I)
        labelled = {v for v, s, e in numbers
                    if re.match(rf"\s*(?:[\w-]+\s+)?(?:{words})\b", body[e:e + 40], re.I)
                    or before.search(body[max(0, s - 40):s])}
        if len(labelled) == 1:
            out_counts[u] = labelled.pop()
        elif not labelled and len(asks) == 1 and len({v for v, _, _ in numbers}) == 1:
            out_counts[u] = numbers[0][0]
    return out_counts


# One of these is in every instruction _count_question reads (a cheap gate).
_COUNT_WORDS = ("how many", "count", "number of", "length", "len of", "tally", "times", "occurrence", "instance")


@register("count_check", category="wrong_math", order=114, score="relative_error",
          summary=("a count of words, letters, characters, vowels, consonants, sentences, items or a given "
                   "letter's/word's occurrences in a text the record gives, recomputed under every reasonable "
                   "tokenisation and compared with the output's number"))
class CountCheck(_Counting):
    """A wrong count of something in a text the record gives.

    Understood: "How many words are in the sentence ...", "Count the vowels in ...", "the number of
    characters in this string", "word count", "the length of the string", "How many times does the
    letter 'e' appear ...", "the number of times the word 'dog' appears ...", "vowels and
    consonants"; the text is the instruction's one quoted part, the part after its colon, or the
    input (they must agree). The claimed count is the number next to the unit in the output
    ("There are 6 words", "Vowels: 5"), or its only number (digits or a number word, "twice"),
    after removing the given text itself from the output. Every reasonable reading is accepted
    and only a count matching none is flagged: words split on spaces, on every mark, with
    hyphenated words and contractions as one or two, with or without numbers; letters or
    characters with or without spaces, punctuation and surrounding quotes (exactly with spaces
    when the instruction says "including spaces"); vowels with or without "y"; a letter's count
    case-insensitive or as written; a word's occurrences as a whole word, with plurals, or as a
    substring; sentences by end marks, by end marks before a capital (abbreviations and initials
    not counted) or by lines.

    Skipped: code tasks, counts that need more than the text (syllables, parts of speech), counts
    with a condition ("words longer than", "unique", "capital letters"), counts in part of the
    text ("the second sentence"), estimates, follow-up tasks ("... and then list them"), several
    candidate texts, and outputs with several unlabelled numbers. Score: the relative error to
    the nearest accepted count. False-positive risk: the output counting a different text than
    the one found (an instruction quoting a fragment of the input), and a number in the output
    that is not the count.
    """

    confidence = 0.77  # 95% Wilson lower bound of its dev-set precision (13/13), docs/detectors.md

    def check(self, rec):
        inst, out = rec["instruction"], rec["output"].strip()
        if not out or len(inst) > 400 or len(out) > 600 or not _has(inst.lower(), *_COUNT_WORDS):
            return None
        if not _COUNT_ASK.search(inst) and not (
                _TIMES.search(inst) and (_TARGET_LETTER.search(inst) or _TARGET_WORD.search(inst))):
            return None
        q = _count_question(inst, _input(rec))
        if q is None:
            return None
        text, asks = q
        claimed = _claimed_counts(out, text, asks)
        if not claimed:
            return None
        bad = [(u, claimed[u]) for u in asks if u in claimed and claimed[u] not in asks[u][1]]
        if not bad:
            return self._found(None)
        whats, says, rel = [], [], 0.0
        for u, said in bad:
            what, accepted = asks[u]
            near = min(accepted, key=lambda v: (abs(v - said), v))
            rel = max(rel, min(1.0, abs(said - near) / abs(near)) if near else 1.0)
            unit = f" {u}s" if len(bad) > 1 else ""
            whats.append(what)
            says.append(f"{said}{unit}, expected {' or '.join(str(v) for v in sorted(accepted))}")
        return self._found(Finding(rel, f"count: instruction asks {' and '.join(whats)} in {quote(text, 50)}; "
                                        f"output says {'; '.join(says)}"))


# --------------------------------------------------------------------------- ordering

_ALPHA = re.compile(r"\balphabeti[sz]\w*|\balphabetic\w*|\blexicographic\w*|\bdictionary\s+order|"
                    r"\border\s+(?:they|that\s+they)\s+(?:would\s+)?appear\s+in\s+(?:a|the)\s+dictionary|"
                    r"\bA\s*(?:-|to)\s*Z\b", re.IGNORECASE)
_REV_ALPHA = re.compile(r"\breverse\s+(?:the\s+following\s+list\s+)?alphabetic\w*|\breverse\s+(?:alphabetical|"
                        r"lexicographic)|\bZ\s*(?:-|to)\s*A\b|\bdescending\s+alphabetic|alphabetic\w*\s+(?:in\s+)?"
                        r"(?:descending|reverse)", re.IGNORECASE)
_ASC = re.compile(r"\b(?:ascending|ascneding|increasing|smallest\s+to\s+(?:the\s+)?(?:largest|biggest|greatest|highest)|"
                  r"lowest\s+to\s+(?:the\s+)?(?:highest|greatest|largest)|"
                  r"least\s+to\s+(?:the\s+)?(?:greatest|largest|most|highest)|low\s+to\s+high|small\s+to\s+large|"
                  r"numerical(?:ly)?(?:\s+(?:order|sequence))?|smallest\s+first)\b", re.IGNORECASE)
_DESC = re.compile(r"\b(?:descending|decreasing|(?:largest|biggest|greatest|highest)\s+to\s+(?:the\s+)?"
                   r"(?:smallest|lowest|least)|high\s+to\s+low|large\s+to\s+small|"
                   r"(?:highest|largest|biggest)\s+(?:number\s+)?first)\b", re.IGNORECASE)
_LENGTH = re.compile(r"\b(?:length|shortest\s+to\s+longest|longest\s+to\s+shortest|"
                     r"number\s+of\s+(?:letters|characters))\b", re.IGNORECASE)
_LONGEST_FIRST = re.compile(r"\b(?:decreasing|descending|longest\s+to\s+shortest|longest\s+first)\b", re.IGNORECASE)
_SORT_VERB = re.compile(r"\b(?:sort|order|arrange|rearrange|re-arrange|put|place|organi[sz]e|reorder|re-order|list|rank|"
                        r"alphabeti[sz]e|reorgani[sz]e|insert|reshape|write|output|return|rewrite|give)\b", re.IGNORECASE)
_REVERSE = re.compile(r"\breverse(?!\s+engineer)(?!\s+alphabetic)\b|\breversed\b|\bbackwards?\b", re.IGNORECASE)
# Orders that need knowledge (population, size, importance), grouping, or a procedure.
_ORDER_SKIP = re.compile(
    r"\b(?:last\s+names?|surnames?|first\s+names?|second\s+letter|last\s+letter|syllables?|vowels?|population|gdp|"
    r"price|cost|size|weight|height|age|dates?|years?|chronolog\w*|importance|priority|popularity|value|frequency|"
    r"categor\w*|groups?|colou?rs?|types?|into\s+(?:two|three|four|\d)|using\s+(?:an?\s+)?(?:\w+\s+sort|insertion|"
    r"bubble|merge|quick|selection|heap|algorithm)|insertion|bubble|quick\s*sort|merge|algorithm|steps?|then|"
    r"capitaliz\w*|remove|delete|add|duplicates?|unique|except|check|whether|if|is\s+it|sentences|lines|paragraphs?|"
    r"poem|story|each|every|engineer\w*|meaningful|grammatical\w*|coherent|logical|sense|form|make|create|generate|"
    r"next|missing|select(?!\s+and\s+sort)|find|count|sum|keeping|keep|same|digits|number\s+formed|"
    r"largest\s+number|smallest\s+number|"
    r"even|odd|prime|new\s+(?:number|item|element|word)|grid|matrix|split|sublists?|coordinates?|points?)\b",
    re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•·]+|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)])(?=\s)\s*")
_NUM = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+(?![\d,])|\d+)(?:\.\d+)?(?:/\d+)?(?![\w/]|\.\d)")
_TOKEN = re.compile(r"[^\W_]+(?:['.&-][^\W_]+)*")


def _split_items(text: str, by_space: bool) -> list[str] | None:
    """A given list's items: one per line, else separated by commas, semicolons, "and", slashes
    or (``by_space``, or all numbers) spaces; bullets, numbering and end punctuation dropped."""
    text = text.strip().strip("[](){}").strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) >= 2:
        parts = [_BULLET.sub("", ln) for ln in lines]
    elif re.search(r"[,;]", text):
        parts = re.split(r"\s*[,;]\s*(?:and\s+|or\s+|&\s+)?", text)
        if len(parts) >= 2 and re.search(r"\s(?:and|or|&)\s", parts[-1]) and len(parts[-1].split()) == 3:
            parts[-1:] = re.split(r"\s+(?:and|or|&)\s+", parts[-1])
    elif re.search(r"\s(?:and|&)\s", text) and len(text.split()) == 3:
        parts = re.split(r"\s+(?:and|&)\s+", text)
    elif by_space or all(_NUM.fullmatch(t) for t in text.split()):
        parts = text.split()
    elif re.fullmatch(r"[^/\s]+(?:\s*/\s*[^/\s]+)+", text):
        parts = text.split("/")
    else:
        return None
    items = [p.strip().strip("\"'“”‘’`").strip().rstrip(".!?").strip().strip("\"'“”‘’`").strip() for p in parts]
    items = [i for i in items if i]
    if not 2 <= len(items) <= 30 or any(len(i.split()) > 6 for i in items):
        return None
    return items


def _given_list(inst: str, inp: str) -> str | None:
    """The list the instruction is about: the part after its colon, a bracketed or quoted part,
    or the input (several different ones: None)."""
    cands = []
    if m := re.search(r"[:：]\s*(\S.*)$", inst, re.S):
        cands.append(m.group(1))
    elif m := re.search(r"\[([^\]]+)\]", inst):
        cands.append(m.group(1))
    else:
        qs = [q for q, _, _ in _quoted(inst)]
        if len(qs) == 1:
            cands.append(qs[0])
        elif len(qs) > 1 and all(len(q.split()) <= 3 for q in qs):
            cands.append(", ".join(qs))
        elif m := re.search(r"\b(?:numbers|elements)\s+((?:-?\d+(?:\.\d+)?\s*,?\s*(?:and\s+)?){2,}-?\d+(?:\.\d+)?)", inst):
            cands.append(m.group(1))
    if inp:
        cands.append(inp)
    cands = [_unlabel(c) for c in cands if c.strip()]
    if not cands:
        return None
    if len({_alnum(re.sub(r"\b(?:and|or)\b", " ", _fold(c))) for c in cands}) > 1:
        return None
    return cands[-1]


def _sequences(out: str, items: list[str], numeric: bool) -> list[list[int]]:
    """Every run in the output that lists all the items once each (as indexes into ``items``),
    in the output's order: the answer, and any echo of the question."""
    lines = out.splitlines()
    if sum(bool(_BULLET.match(ln)) for ln in lines) >= 2:
        out = "\n".join(_BULLET.sub("", ln) for ln in lines)
    found = []  # (item index, start, end)
    if numeric:
        values = [_value(i) for i in items]
        for m in _NUM.finditer(out):
            v = _value(m.group())
            if v in values:
                found.append((values.index(v), m.start(), m.end()))
            else:
                found.append((-1, m.start(), m.end()))
    else:
        keys = [tuple(_TOKEN.findall(_fold(i))) for i in items]
        toks = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(_fold(out))]
        order = sorted(range(len(keys)), key=lambda k: -len(keys[k]))
        i = 0
        while i < len(toks):
            for k in order:
                n = len(keys[k])
                if n and tuple(t for t, _, _ in toks[i:i + n]) == keys[k]:
                    found.append((k, toks[i][1], toks[i + n - 1][2]))
                    i += n
                    break
            else:
                i += 1
    n = len(items)
    want = Counter(_fold(x) for x in items)
    runs = []
    for s in range(len(found) - n + 1):
        win = found[s:s + n]
        if any(k < 0 for k, _, _ in win):
            continue
        if any(win[j + 1][1] - win[j][2] > 12 for j in range(n - 1)):
            continue  # not one list: items scattered through prose
        if Counter(_fold(items[k]) for k, _, _ in win) == want:
            runs.append([k for k, _, _ in win])
    return runs


def _value(s: str) -> Fraction:
    return Fraction(s.replace(",", ""))


def _sorted_ok(keys: list) -> bool:
    return all(a <= b for a, b in zip(keys, keys[1:]))


def _alpha_keys(item: str) -> list[str]:
    """Sort keys under the usual conventions: letter by letter, word by word, without a leading
    article, and by the last word (surnames: "Jane Austen" under A)."""
    f = _fold(item)
    no_article = re.sub(r"^(?:the|a|an)\s+", "", f)
    words = re.sub(r"[^\w\s]+", "", f).split() or [""]
    return [re.sub(r"[\W_]+", "", f), " ".join(words), re.sub(r"[\W_]+", "", no_article),
            " ".join(words[-1:] + words[:-1])]


def _order_ok(mode: str, items: list[str], run: list[int]) -> bool:
    seq = [items[k] for k in run]
    if mode == "reverse":
        return [_fold(x) for x in seq] == [_fold(x) for x in reversed(items)]
    if mode in ("asc", "desc"):
        vals = [_value(x) for x in seq]
        return _sorted_ok(vals if mode == "asc" else [-v for v in vals])
    if mode in ("len", "len_desc"):
        sign = 1 if mode == "len" else -1
        return any(_sorted_ok([sign * len(f(x)) for x in seq]) for f in (_alnum, lambda s: s.strip()))
    # where numerals go ("1984" first, last, or spelled out) is a convention: they may stand anywhere
    variants = zip(*(_alpha_keys(x) for x in seq if not re.match(r"\W*\d", x)))
    if mode == "alpha":
        return any(_sorted_ok(list(v)) for v in variants)
    return any(_sorted_ok(list(v)[::-1]) for v in variants)  # reverse alphabetical


def _expected(mode: str, items: list[str]) -> list[str]:
    if mode == "reverse":
        return items[::-1]
    if mode in ("asc", "desc"):
        return sorted(items, key=_value, reverse=mode == "desc")
    if mode in ("len", "len_desc"):
        return sorted(items, key=lambda x: len(_alnum(x)), reverse=mode == "len_desc")
    return sorted(items, key=lambda x: _alpha_keys(x)[0], reverse=mode == "rev_alpha")


_ORDER_TASK = {"alpha": "alphabetise {n} given items", "rev_alpha": "sort {n} given items in reverse alphabetical order",
               "asc": "sort {n} given numbers in ascending order", "desc": "sort {n} given numbers in descending order",
               "len": "sort {n} given items by length", "len_desc": "sort {n} given items by decreasing length",
               "reverse": "reverse the order of {n} given items"}


# One of these is in every instruction _order_mode reads (a cheap gate).
_ORDER_WORDS = ("alphabe", "lexicograph", "dictionary", "a-z", "a to z", "z to a", "z-a", "revers", "backward", "length",
                "shortest", "longest", "number of letters", "number of characters", "ascend", "ascned", "descend",
                "increas", "decreas", "smallest", "lowest", "least", "largest", "biggest", "greatest", "highest",
                "low to", "small to", "numerical")


def _order_mode(inst: str) -> str | None:
    if _REV_ALPHA.search(inst):
        return "rev_alpha"
    if _ALPHA.search(inst):
        return None if _ASC.search(inst) or _DESC.search(inst) and not _REV_ALPHA.search(inst) else "alpha"
    if _REVERSE.search(inst):
        return "reverse"
    if _LENGTH.search(inst):
        return "len_desc" if _LONGEST_FIRST.search(inst) else "len"
    asc, desc = _ASC.search(inst), _DESC.search(inst)
    if asc and desc:
        return None
    return "asc" if asc else "desc" if desc else None


def _reverse_string(text: str, out: str):
    """``(claimed, expected)`` when a reversed string is wrong, None when right or unreadable."""
    got = _alnum(out)
    t = _fold(text)
    chars = _alnum(text)[::-1]
    words = "".join(_alnum(w) for w in reversed(t.split()))
    each = "".join(_alnum(w)[::-1] for w in t.split())
    if any(v and v in got for v in (chars, words, each)) or len(chars) < 3 or chars == chars[::-1]:
        return None
    qs = [q for q, _, _ in _quoted(out)]
    claimed = qs[-1] if qs else re.split(r":\s*", out.strip())[-1] if ":" in out else out.strip()
    if sorted(_alnum(claimed)) != sorted(chars):
        return None  # not a rearrangement of the given letters: not read as the answer
    return claimed, text[::-1]


@register("order_check", category="wrong_math", order=115, score="strength",
          summary=("a given list alphabetised, sorted by number or by length, or a given list or string reversed: "
                   "the output's order of the same items compared with the correct order"))
class OrderCheck(_Counting):
    """A wrongly ordered answer to "sort/alphabetise/reverse this given list or string".

    Understood: alphabetising ("in alphabetical order", "alphabetize", "dictionary order", reverse
    alphabetical), numbers ascending or descending ("smallest to largest", "descending"; integers,
    decimals and fractions), by length when asked ("shortest to longest"), and reversing a given
    list, word, string or sentence. The list is the instruction's part after a colon, a bracketed
    or quoted part, or the input (they must agree), split by lines, commas, semicolons, "and" or
    slashes (by spaces for "the words in the sentence" and for numbers); bullets, numbering,
    quotes and end punctuation are dropped. The output's order is read from every run that lists
    exactly the same items close together (case, punctuation, separators and bullets tolerated;
    an echo of the question is one more run); it is right when any run is in order. Conventions
    are all accepted and ties are free: alphabetical keys letter by letter, word by word, without
    a leading article, or by the last word (surnames); numerals anywhere ("1984" first, last or
    spelled out); lengths with and without spaces. A reversed string may be reversed by
    characters, by words, or word by word, and is flagged only when the output's answer holds
    exactly the given letters in another order.

    Skipped: orders that need knowledge (population, size, date, importance), grouping, forming
    sentences, procedures ("using insertion sort"), numbers sorted alphabetically, words sorted
    "ascending", and outputs that drop, add or change items. Score: 0.9. False-positive risk: a
    list split differently from the teacher's (an item containing a comma), and a run that is a
    partial echo.
    """

    confidence = 0.76  # 95% Wilson lower bound of its dev-set precision (12/12), docs/detectors.md

    def check(self, rec):
        inst, out = rec["instruction"], rec["output"].strip()
        if not out or len(inst) > 300 or len(out) > 1500 or not _has(inst.lower(), *_ORDER_WORDS):
            return None
        mode = _order_mode(inst)
        if mode is None or _CODE_TASK.search(inst) or (mode != "reverse" and not _SORT_VERB.search(inst)):
            return None
        # the task's own words, without the list it gives ("... alphabetically: ship, school, keep")
        task = _QUOTED.sub(" ", re.sub(r"[:：]\s*\S.*$", " ", inst, flags=re.S))
        if _ORDER_SKIP.search(task):
            return None
        text = _given_list(inst, _input(rec))
        if text is None or len(text) > 800:
            return None
        separated = bool(re.search(r"[,;\n]", text))
        words = bool(re.search(r"\b(?:words?|sentence|phrase|text)\b", task, re.I)) and not separated
        if mode == "reverse" and not separated and not re.search(
                r"\b(?:list|array|sequence|items|numbers|elements|order\s+of\s+(?:the\s+)?words|words\s+in)\b", task, re.I):
            # a word, string, phrase or sentence
            bad = _reverse_string(_unlabel(text), out)
            if bad is None:
                return self._found(None) if len(_alnum(text)) >= 3 else None
            claimed, expected = bad
            return self._found(Finding(0.9, f"order: instruction asks to reverse {quote(text, 50)}; output "
                                            f"{quote(claimed, 50)} differs from {quote(expected, 50)}"))
        items = _split_items(text, words or mode == "reverse")
        if items is None:
            return None
        numeric = all(_NUM.fullmatch(i) for i in items)
        if mode in ("asc", "desc") and not numeric or mode not in ("asc", "desc", "reverse") and numeric:
            return None
        if mode == "reverse" and _alnum(" ".join(reversed(items))) in _alnum(out):
            return self._found(None)
        if mode == "reverse" and "".join(_alnum(i)[::-1] for i in items) in _alnum(out):
            return self._found(None)  # "Reverse the words: cat, house" read as each word reversed
        runs = _sequences(out, items, numeric)
        if not runs:
            return None
        if any(_order_ok(mode, items, r) for r in runs):
            return self._found(None)
        said = ", ".join(items[k] for k in runs[-1])
        want = ", ".join(_expected(mode, items))
        return self._found(Finding(0.9, f"order: instruction asks to {_ORDER_TASK[mode].format(n=len(items))}; "
                                        f"output order {quote(said, 60)} differs from {quote(want, 60)}"))


# --------------------------------------------------------------------------- answers from a given set

# Where an instruction names the allowed answers. A classifying verb, then "as"/"into" and the list.
_CLASSIFY = re.compile(r"\b(?:classify|categori[sz]e|label|tag|assign|mark)\b", re.IGNORECASE)
_AS_INTO = re.compile(r"\b(?:as|into)\s+(?:either\s+|one\s+of\s+)?(?:being\s+)?", re.IGNORECASE)
# A deciding verb, then "whether/if ... is A or B".
_DECIDE = re.compile(r"\b(?:determine|identify|decide|tell|state|indicate|predict|judge|evaluate|assess|detect|check|"
                     r"guess|find\s+out|classify|categori[sz]e)\b[^.?!]*?\b(?:whether|if)\b", re.IGNORECASE)
_IS = re.compile(r"\b(?:is|are|was|were|sounds?|seems?|expresses|conveys|has)\s+(?:it\s+|this\s+|they\s+)?(?:either\s+)?",
                 re.IGNORECASE)
# "categories: A, B, C", "one of the following labels: ...", "(A, B, C)", "[A, B]"
_LISTED = re.compile(r"\b(?:categories|labels|classes|options|choices|genres|types|groups|one\s+of\s+the\s+following"
                     r"(?:\s+\w+)?|one\s+of)\s*(?::|-)\s*|\b(?:one\s+of|between|among|from)\s+(?=[\"'“‘\[(])",
                     re.IGNORECASE)
_PAREN = re.compile(r"[(\[]([^()\[\]]*(?:,|\bor\b|/)[^()\[\]]*)[)\]]")
# "Output 'positive' or 'negative'", "answer with 'A', 'B' or 'C'"
_SAY_QUOTED = re.compile(r"""\b(?:output|answer|return|respond|reply|print|write|say)\s+(?:with\s+|only\s+)?"""
                         r"""(?:either\s+)?(?=["'“‘])""", re.IGNORECASE)
_YES_NO = re.compile(r"\b(?:yes\s*(?:or|/)\s*no|no\s*(?:or|/)\s*yes)\b|\b(?:output|answer|return|respond|print|say)\s+"
                     r"[\"'“‘]?yes\b", re.IGNORECASE)
_TRUE_FALSE = re.compile(r"\b(?:true\s*(?:or|/|of)\s*false|false\s*(?:or|/)\s*true)\b|\b(?:output|answer|return|respond|"
                         r"print|say)\s+[\"'“‘]?true\b", re.IGNORECASE)
_OPTION_END = re.compile(
    r"[.?!;:\n()\[\]]|\s-\s|\b(?:based\s+on|according\s+to|depending\s+on|in\s+(?:the|this|terms|which)|"
    r"for\s+(?:the|each|this|a)|"
    r"using|given|and\s+(?:explain|provide|give|justify|output|write|describe|state|then|why|list|identify|briefly|"
    r"return|print|say|answer)|then|because|with|by|from|if|when|that|which|who|where|whose|to\s+(?:the|a|an|its|their)|"
    r"of\s+(?:the|this|its)|in\s+a|on\s+the|whether|output|answer|based|so|since|after|before|else|otherwise|"
    r"it|its|they|their)\b",
    re.IGNORECASE)
# Open or graded sets: any answer may be right.
_OPEN_SET = re.compile(r"\b(?:like|including|or\s+not|or\s+otherwise|or\s+neither|or\s+both|or\s+other|or\s+something|"
                       r"or\s+none|others?|any|more|some)\b", re.IGNORECASE)
_OPEN_ANYWHERE = re.compile(r"\b(?:e\.\s?g\b|i\.\s?e\b|etc\b|such\s+as|for\s+example|for\s+instance|and\s+so\s+on|"
                            r"among\s+others)", re.IGNORECASE)
_GRADED = re.compile(r"\b(?:scale|rate|rating|score|scores|grade|rank|percent\w*|probability|likelihood|confidence|"
                     r"degree|level)\b|\d\s*(?:-|to)\s*\d", re.IGNORECASE)
# "Output 1 for positive and 0 for negative": the codes are answers too.
_CODES = re.compile(r"\b(\d{1,2}|[A-Da-d])\s*(?:for|=|means|if|:)\s+|\b(?:for|=)\s*(\d{1,2})\b|\b\d\)\s*", re.IGNORECASE)
_STOP = frozenset("a an the of to be it is as either or and in on for with this that its their being".split())
_GENERIC = frozenset("""sentence sentences statement statements word words phrase text type types category
    categories thing things item items one ones class kind animal animals food foods change device company
    verb noun example answer option label sentiment tone genre""".split())
# Synonyms and forms an answer from a fixed set is often given in.
_SYNONYMS = {
    "true": {"true", "correct", "accurate", "right", "yes", "valid", "truth", "fact", "factual", "corect"},
    "false": {"false", "incorrect", "inaccurate", "wrong", "no", "untrue", "myth", "invalid", "not true", "fals"},
    "yes": {"yes", "yeah", "yep", "correct", "true", "indeed", "affirmative", "right"},
    "no": {"no", "not", "nope", "incorrect", "false", "negative", "never", "n't", "cannot", "neither"},
    "declarative": {"declarative", "statement", "assertive"}, "interrogative": {"interrogative", "question"},
    "imperative": {"imperative", "command", "request", "instruction"},
    "exclamatory": {"exclamatory", "exclamation", "exclamative"},
    "positive": {"positive", "favorable", "favourable", "optimistic"},
    "negative": {"negative", "unfavorable", "unfavourable", "pessimistic"},
    "neutral": {"neutral", "objective"},
}
# A yes/no or true/false question: the output's first words are the answer. Flagged only when
# they are clearly neither (a hedge, both, a third value); a sentence answering in other words is skipped.
_BINARY_ANSWER = re.compile(r"\W*(?:yes|no|nope|true|false|correct|incorrect|right|wrong|accurate|inaccurate|untrue|"
                            r"not\s+true|fact|myth|valid|invalid)\b", re.IGNORECASE)
_OUTSIDE = re.compile(r"\W*(?:it\s+depends|that\s+depends|depends|both|neither|maybe|perhaps|possibly|partially|partly|"
                      r"mostly|somewhat|sometimes|half|mixed|unclear|uncertain|unknown|undetermined|debatable|"
                      r"(?:it\s+is|it's|this\s+is|that\s+is)\s+(?:unclear|uncertain|debatable|subjective|difficult\s+to\s+"
                      r"(?:say|tell|determine)|impossible\s+to\s+(?:say|tell|determine)|not\s+possible\s+to\s+(?:say|tell|"
                      r"determine))|(?:it\s+)?(?:can|could)\s+be\s+(?:both|either)|yes\s+and\s+no|true\s+and\s+false)\b",
                      re.IGNORECASE)
_BOTH_ANSWERS = re.compile(r"\W*(?:(?:yes|true)\s*(?:or|and|/)\s*(?:no|false)|(?:no|false)\s*(?:or|and|/)\s*(?:yes|true))\b"
                           r"\W*$", re.IGNORECASE)
# Tasks that describe or build a classifier rather than answer with a label.
_NOT_AN_ANSWER = re.compile(r"^\W*(?:please\s+)?(?:design|write|create|generate|build|develop|construct|train|explain|"
                            r"describe|suggest|propose|compose|make|outline|list|name|give\s+(?:an?\s+)?examples?)\b",
                            re.IGNORECASE)
# "Convert it into a yes/no question", "Write five true or false questions": the pair is not the answer set.
_MAKES_QUESTION = re.compile(r"\b(?:create|generate|write|construct|formulate|convert|transform|make|turn|rewrite|design|"
                             r"compose|come\s+up|ask|produce|develop|change|edit)\b[^.?!]*\b(?:questions?|quiz|query|"
                             r"statements?|prompts?)\b", re.IGNORECASE)
# "Which of the following ...?" with the options in the input (or after the instruction's colon).
_WHICH = re.compile(r"\bwhich\s+(?:one\s+)?of\s+(?:the\s+)?(?:following|these|those|given|two|three|four|options|"
                    r"choices|above|below)\b|\b(?:choose|select|pick)\b[^.?!]{0,60}?\b(?:from|among|between|out\s+of)\s+"
                    r"(?:the\s+|these\s+)?(?:following|given|options|choices|list|these|below)\b", re.IGNORECASE)
_LABEL_WORD = r"(?:option|answer|choice|excerpt|sentence|statement|text|passage|item|source|number|summary|poem)"
_LABEL_LINE = re.compile(rf"^\s*(?:{_LABEL_WORD}\s*)?(?:\(?([A-Ha-h]|[1-8])[).:]|\(([A-Ha-h]|[1-8])\))\s+(\S.*?)\s*$",
                         re.IGNORECASE)
_OUT_LABEL = re.compile(rf"^\W*(?:{_LABEL_WORD}\s+)?\(?([A-Ha-h1-8])(?:[).:]|\s*$|\s+-)|"
                        rf"\b{_LABEL_WORD}\s*(?:is\s*)?\(?([A-Ha-h1-8])\b|\(([A-Ha-h1-8])\)", re.IGNORECASE)
_SET_ANSWER = re.compile(r"\W*(?:none|neither|all|both)\b", re.IGNORECASE)


def _singular(t: str) -> str:
    if len(t) > 4 and t.endswith("ies"):
        return t[:-3] + "y"
    if len(t) > 4 and re.search(r"(?:s|x|z|ch|sh)es$", t):
        return t[:-2]
    if len(t) > 3 and t.endswith("s") and not t.endswith(("ss", "us", "is")):
        return t[:-1]
    return t


def _opt_tokens(opt: str) -> list[str]:
    f = re.sub(r"\bnon[\s-]+", "non", _fold(opt))
    return [_singular(t) for t in _TOKEN.findall(f) if t not in _STOP]


def _out_tokens(out: str) -> set[str]:
    f = re.sub(r"\bnon[\s-]+", "non", _fold(out))
    toks = set(_TOKEN.findall(f))
    toks |= {t.replace("-", "") for t in toks} | {p for t in toks for p in re.split(r"[-.&']", t)}
    toks |= {_singular(t) for t in toks}
    if re.search(r"n't\b|\bnot\b", f):
        toks.add("n't")
    if "not true" in f:
        toks.add("not true")
    return toks


def _stem(t: str) -> str:
    return t[:5] if len(t) >= 6 else t


def _option_in(opt: str, toks: set[str], stems: set[str], others: list[str]) -> bool:
    """The option, or a word distinctive of it (not in the other options), is in the output."""
    words = _opt_tokens(opt)
    if not words:
        return False
    other = {t for o in others for t in _opt_tokens(o)}
    mine = [t for t in words if t not in other and t not in _GENERIC] or [t for t in words if t not in other] or words
    for t in mine:
        syn = _SYNONYMS.get(t, {t})
        if syn & toks or any(_stem(s) in stems for s in syn if len(s) >= 6):
            return True
        if len(t) >= 3 and t not in ("yes", "no") and any(o.startswith(t) for o in toks):
            return True  # a longer form: "gaseous" for gas, "factual" for fact
    return False


def _split_options(seg: str) -> list[str] | None:
    seg = re.sub(r"^\s*(?:either|whether|one\s+of)\s+", "", seg.strip(), flags=re.I).strip()
    quoted = [q for q, _, _ in _quoted(seg)]
    if len(quoted) >= 2 and not re.sub(r"""["'“”‘’]|\bor\b|\band\b|[,/\s]""", "", _QUOTED.sub("", seg)):
        opts = quoted
    else:
        if not re.search(r",|\bor\b|/", seg):
            return None
        opts = re.split(r"\s*(?:,\s*(?:or\s+|and\s+)?|\s+or\s+|\s*/\s*|\s+and\s+)\s*", seg)
    opts = [re.sub(r"^(?:an?|the)\s+", "", o.strip(" \"'“”‘’`").strip(), flags=re.I) for o in opts]
    opts = [o for o in opts if o]
    if not 2 <= len(opts) <= 8 or any(len(o.split()) > 4 or not re.search(r"[^\W\d_]", o) for o in opts):
        return None
    if len({_alnum(o) for o in opts}) < len(opts):
        return None
    return opts


def _segment(rest: str) -> str:
    end = _OPTION_END.search(rest)
    return rest[: end.start()] if end else rest


def _options(inst: str) -> tuple[list[str], bool] | None:
    """``(options, binary yes/no or true/false)`` the instruction offers, or None."""
    low = inst.lower()
    if _has(low, "true", "false", "yes"):
        binary = (["true", "false"] if _TRUE_FALSE.search(inst) else ["yes", "no"] if _YES_NO.search(inst) else None)
        if binary:
            return None if _MAKES_QUESTION.search(inst) else (binary, True)
    classify = _has(low, "classif", "categor", "label", "tag", "assign", "mark") and _CLASSIFY.search(inst)
    decide = _has(low, "whether", "if") and _DECIDE.search(inst)
    segs = []
    if classify and (a := _AS_INTO.search(inst, classify.end())):
        segs.append(_segment(inst[a.end():]))
    if decide and (a := _IS.search(inst, decide.end())):
        segs.append(_segment(inst[a.end():]))
    if classify or decide or _has(low, "choose", "select", "pick", "output", "answer"):
        for m in _LISTED.finditer(inst):
            seg = inst[m.end():]
            segs.append(re.split(r"[.?!;\n]\s|[.?!]?$", seg)[0] if re.match(r"\s*[\"'“‘\[(]", seg) or ":" in m.group()
                        else _segment(seg))
        if classify or decide:
            segs += [m.group(1) for m in _PAREN.finditer(inst)]
    if _has(inst, '"', "'", "“", "‘") and (m := _SAY_QUOTED.search(inst)):
        segs.append(re.split(r"[.?!;\n]\s|[.?!]?$", inst[m.end():])[0])
    for seg in segs:
        seg = seg.strip().strip("[]()").strip()
        if not seg or _OPEN_SET.search(seg):
            continue
        opts = _split_options(seg)
        if opts:
            return opts, False
    return None


def _listed_options(inst: str, inp: str) -> list[tuple[str | None, str]] | None:
    """``(label, option)`` pairs of a "which of the following" question: labelled lines ("A. ...",
    "b) ..."), a few short lines, or one comma-separated line."""
    m = re.search(r":\s*(\S[^:]*)$", inst)
    text = inp or (m.group(1) if m else "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [re.sub(r"^(?:options|choices)\s*:\s*", "", ln, flags=re.I) for ln in lines
             if not ln.endswith("?") and not re.match(r"(?:question|q)\s*:", ln, re.I)]
    lines = [ln for ln in lines if ln]
    labelled = [_LABEL_LINE.match(ln) for ln in lines]
    if sum(bool(x) for x in labelled) >= 2:
        return [((x.group(1) or x.group(2)).lower(), x.group(3)) for x in labelled if x]
    if 2 <= len(lines) <= 8 and all(len(ln.split()) <= 15 for ln in lines):
        return [(None, ln) for ln in lines]
    if len(lines) == 1 and (items := _split_items(lines[0], False)) and len(items) <= 8 and \
            all(len(i.split()) <= 5 for i in items):
        return [(None, i) for i in items]
    return None


def _listed_in(opt: str, toks: set[str], out_alnum: str, stems: set[str], others: list[str]) -> bool:
    if _alnum(opt) and _alnum(opt) in out_alnum:
        return True
    if len(opt.split()) <= 4:
        return _option_in(opt, toks, stems, others)
    other = {t for o in others for t in _opt_tokens(o)}
    mine = [t for t in _opt_tokens(opt) if t not in other] or _opt_tokens(opt)
    return sum(t in toks for t in mine) >= max(1, len(mine) / 2)


@register("choice_check", category="wrong_math", order=116, score="strength",
          summary=("the instruction names the allowed answers (classify as A, B or C; yes or no; true or false; "
                   "categories: ...) and the output's answer is none of them"))
class ChoiceCheck(_Counting):
    """An answer outside the set the instruction offers.

    Understood: label sets ("Classify ... as positive, negative or neutral", "Categorize into:
    fruit, vegetable", "as either A or B", "Determine whether it is A or B", "(A, B, C)", "[A, B]",
    "one of the following categories: ...", "Output 'positive' or 'negative'"); yes/no and
    true/false questions ("Answer yes or no", "true or false", "True/False"); and "Which of the
    following ...?" / "Choose ... from the following" with the options in the input (labelled
    lines "A. ...", "b) ...", "Excerpt 1: ...", a few short lines, or one comma-separated line).
    An option counts as given when the output contains it, or a word distinctive of it (not
    shared with the other options: "exclamatory" for "exclamatory sentence"), in any case,
    number, hyphenation ("non-living", "nonliving") or a longer form ("fictional" for fiction),
    a common synonym of a fixed label set ("statement" for declarative, "correct" for true), its
    label ("B", "Option 2"), or a code the instruction defines ("Output 1 for positive"). So a
    sentence containing the option ("The sentiment is positive.") and explanations that mention
    other options are fine. Flagged: a label set or option list none of whose options appears in
    the output ("Mixed" for positive/negative/neutral); a yes/no or true/false answer that asserts
    both ("Yes or No.") or opens with something clearly outside the pair ("It depends",
    "Partially", "Both"); a yes/no answer in other words ("The sentence is correct") is not read.

    Skipped: open sets ("e.g.", "such as", "etc.", "or not"), graded answers (a scale, a rating,
    "1 to 5"), tasks that build or describe a classifier ("Design a system to classify ...") or
    write yes/no questions, code tasks, options longer than four words, and set answers to an
    option list ("None of them", "Both"). Score: 0.9 for a label set or both answers, 0.85 for an
    option list, 0.8 for an answer outside a yes/no or true/false pair. False-positive risk: an
    answer in a synonym the tables do not know ("upbeat" for positive), a misread option list (a
    phrase after "as" that is not a list of labels), and an option list whose right answer is
    outside it.
    """

    confidence = 0.30  # 95% Wilson lower bound of its dev-set precision (3/4), docs/detectors.md

    def check(self, rec):
        inst, out = rec["instruction"], rec["output"].strip()
        if not out or len(inst) > 400:
            return None
        got = _options(inst)
        which = got is None and _has(inst.lower(), "which", "choose", "select", "pick") and _WHICH.search(inst)
        if got is None and not which or _CODE_TASK.search(inst) or _GRADED.search(inst) or \
                _NOT_AN_ANSWER.match(inst) or _OPEN_ANYWHERE.search(inst):
            return None
        if which:
            return self._listed(inst, _input(rec), out)
        opts, binary = got
        offered = ", ".join(repr(o) for o in opts)
        first = re.split(r"(?<=[.!?])\s|\n", out, maxsplit=1)[0]
        if binary:
            if _BOTH_ANSWERS.match(first):
                return self._found(Finding(0.9, f"choice: instruction offers {offered}; output {quote(first, 60)} "
                                                "asserts both"))
            if _BINARY_ANSWER.match(out):
                return self._found(None)
            if not _OUTSIDE.match(out):
                return None  # answered in other words ("The sentence is grammatically correct"): not read
            return self._found(Finding(0.8, f"choice: instruction offers {offered}; output {quote(first, 60)} is "
                                            "neither"))
        toks = _out_tokens(out)
        codes = {c.lower() for m in _CODES.finditer(inst) for c in m.groups() if c}
        if codes & toks:
            return self._found(None)  # "Output 1 for positive and 0 for negative": answered with a code
        stems = {_stem(t) for t in toks if len(t) >= 5}
        if any(_option_in(o, toks, stems, [x for x in opts if x != o]) for o in opts):
            return self._found(None)
        return self._found(Finding(0.9, f"choice: instruction offers {offered}; output {quote(first, 60)} is none "
                                        "of them"))

    def _listed(self, inst: str, inp: str, out: str) -> Finding | None:
        opts = _listed_options(inst, inp)
        if opts is None or _SET_ANSWER.match(out):
            return None
        m = _OUT_LABEL.search(out)
        said = next((g.lower() for g in m.groups() if g), None) if m else None
        if said is not None and said in {lab for lab, _ in opts}:
            return self._found(None)
        toks, out_alnum = _out_tokens(out), _alnum(out)
        if {c.lower() for m in _CODES.finditer(inst) for c in m.groups() if c} & toks:
            return self._found(None)
        stems = {_stem(t) for t in toks if len(t) >= 5}
        texts = [o for _, o in opts]
        if any(_listed_in(o, toks, out_alnum, stems, [x for x in texts if x != o]) for o in texts):
            return self._found(None)
        first = re.split(r"(?<=[.!?])\s|\n", out, maxsplit=1)[0]
        offered = ", ".join(repr(clip(o, 40)) for o in texts)
        return self._found(Finding(0.85, f"choice: instruction offers {offered}; output {quote(first, 60)} is none "
                                         "of them"))


# --------------------------------------------------------------------------- script mode

def main(argv: list[str] | None = None) -> int:
    """``python -m curate.detectors.given_text FILE...``: parsed and flagged per detector over
    the ingested records, and the time the three took."""
    import argparse
    import time

    from curate.core.ingest import ingest

    ap = argparse.ArgumentParser(description="given-text checks over Alpaca-style JSON files")
    ap.add_argument("files", nargs="+")
    ap.add_argument("--show", action="store_true", help="print every finding's id and reason")
    args = ap.parse_args(argv)
    table, _, _ = ingest(args.files)
    rows = table.select(["id", "instruction", "input", "output"]).to_pylist()
    dets = [CountCheck(), OrderCheck(), ChoiceCheck()]
    t0 = time.perf_counter()
    found = [(d.name, r["id"], f) for r in rows for d in dets if (f := d.check(r)) is not None]
    took = time.perf_counter() - t0
    for d in dets:
        m = d.metrics()
        print(f"{d.name}\tparsed {m['parsed']}\tflagged {m['flagged']}")
    print(f"{len(rows)} records in {took:.2f} s")
    if args.show:
        for name, rid, f in found:
            print(name, rid, clip(f.reason, 300), sep="\t")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
