"""Non-English text in records whose task asks for no other language."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from curate.core.text import quote
from curate.detectors.registry import Detector, Finding, register


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


@register("non_english", category="non_english", order=120, score="strength",
          summary=('letters of a non-Latin script, or Latin-script function words of another language, where'
                   ' the task does not ask for a language'))
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
