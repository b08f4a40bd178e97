"""Computable answers recomputed from the question: statistics over listed numbers, geometry
with given dimensions, unit conversions, number properties and dates (issue: "Programmatic
verification of computable answers"; AlpacaDataCleaned found many of Alpaca's math answers wrong).

The plain arithmetic that :class:`curate.detectors.arithmetic.MathCheck` recomputes is left to it:
a record it flags is never flagged again here. Libraries do the math: ``statistics`` and
``fractions`` (exact statistics), ``sympy`` (primes, factorisations), ``pint`` (unit
conversions, temperatures as offset Quantities), ``dateutil`` and ``zoneinfo`` (dates, time
zones). They are imported inside the functions that need them, and the pint ``UnitRegistry`` is
built once, on first use, so importing this module is cheap.

One module: the families share the number parser, the claim extractor and the tolerance rule,
which only make sense together. ``python -m curate.detectors.computable FILE...`` prints how
many records each family parses and flags, and the time taken.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

from curate.detectors.arithmetic import MathCheck
from curate.detectors.hygiene import PLACEHOLDER_INPUT
from curate.detectors.registry import Detector, Finding, register

# ---------------------------------------------------------------------------------------------
# numbers

_NUM_S = r"[-−]?(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)(?:\.[0-9]+)?"
# a number not glued to a word, an exponent or a decimal point before it ("cm2", "m^2", "x2")
_NUM = re.compile(rf"(?<![\w.^])({_NUM_S})(?![0-9])")
_WORD_NUMS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_WORD_NUMS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
                   "ninety": 90, "hundred": 100})
# tasks that are not a question with one computable answer
_NOT_QUESTION = re.compile(
    r"\b(?:code|program\w*|function|script|python|java\w*|sql|c\+\+|algorithm|pseudo-?code|api|regex|excel|"
    r"formula|equations?|explain\s+(?:how|why|the\s+(?:steps|process))|describe\s+how|how\s+(?:to|do|does|can|would|should)|"
    r"steps?|word\s+problem|story|poem|example|estimate|guess|round\w*\s+(?:up|down)|nearest\s+(?:ten|hundred|thousand)|"
    r"significant|scientific\s+notation|binary|hexadecimal|octal|roman|(?:in|to|from|into)\s+base[\s-]*[0-9]+|table|chart|graph|"
    r"probability|random|if\s+(?:you|i|we|they|he|she|a|an|the)\b)\b", re.I)
_CODE_OUT = re.compile(r"^\s*(?:def|import|from|class|function|public|#include|for|while|print)\b|```|\bprint\s*\(|\breturn\b.*\n",
                       re.M)
_APPROX_Q = re.compile(r"\b(?:approximat\w*|about|roughly|round\w*|nearest|decimal\s+places?)\b", re.I)


def _frac(s: str) -> Fraction | None:
    """``"1,234.5"``, ``"−3"``, ``"3/4"`` as an exact Fraction (None if it is not a number)."""
    s = s.replace("−", "-").replace(",", "").replace(" ", "")
    try:
        return Fraction(s)
    except (ValueError, ZeroDivisionError):
        return None


def _decimals(s: str) -> int:
    s = s.split("/")[0].rstrip(".")
    return len(s.split(".")[1]) if "." in s else 0


def _fmt(x) -> str:
    if isinstance(x, Fraction) and x.denominator == 1:
        return str(x.numerator)
    x = float(x)
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    if abs(x) >= 1e-3:
        return f"{x:.4f}".rstrip("0").rstrip(".")
    return f"{x:.4g}"


def _list_nums(text: str) -> list[str] | None:
    """The numbers of a list ("7,5,3,4", "37,541  4,241", "[1, 2, 3]"), as strings; None when a
    comma could be a thousands separator or a list separator."""
    glued = re.findall(r"[0-9],([0-9]+)", text)
    if glued and any(len(g) != 3 for g in glued):
        text = re.sub(r"(?<=[0-9]),(?=[0-9])", ", ", text)  # "7,5,3,4": commas separate
    elif glued and not re.search(r",\s|[0-9]\s+[-−]?[0-9]|\n", text):
        if not re.search(r"[\[{(]", text):
            return None  # "100,200,300": one number or three
        text = re.sub(r"(?<=[0-9]),(?=[0-9])", ", ", text)
    return [m.group(1) for m in _NUM.finditer(text)]


def _word_num(s: str) -> int | None:
    return _WORD_NUMS.get(s.lower())


# ---------------------------------------------------------------------------------------------
# claims: the number an output gives as its answer

_CUE = (r"(?:\bis\b|\bare\b|\bwas\b|\bwould\s+be\b|\bwill\s+be\b|\bequals?\b|\bequal\s+to\b|\bequivalent\s+to\b|"
        r"\bcomes\s+(?:out\s+)?to\b|\bgives\b|\bresults?\s+in\b|\bmeasures\b|\bof\s+approximately\b|=|≈|:|~)")
_APPROX_W = r"(?:approximately|approx\.?|about|roughly|around|exactly|nearly|~|≈)"
_CLAIM = re.compile(
    rf"{_CUE}\s*(?:{_APPROX_W}\s*)?(?:a\s+total\s+of\s+)?[$€£]?\s*({_NUM_S}(?:\s*/\s*[0-9]+)?)(?![0-9]|[.,][0-9])"
    r"(\s*(?:π|pi\b))?(\.{3}|…)?"
    # not the start of more arithmetic ("= 2 x 3", "4(5)") nor of a range ("7 to 9")
    rf"(?!\s*[-+*/×x^]\s*[0-9(])(?!\(\s*[0-9])(?!\s*(?:to|-|–|or)\s*[$€£]?{_NUM_S})", re.I)
_SENT_END = re.compile(r"[!?;\n]|\.(?=\s|$)")
_BARE = re.compile(rf"\s*(?:(?:the\s+)?(?:final\s+)?answer\s*(?:is|:)\s*)?(?:{_APPROX_W}\s*)?[$€£]?\s*"
                   rf"({_NUM_S}(?:\s*/\s*[0-9]+)?|[a-z]+)(\s*(?:π|pi\b))?(\.{{3}}|…)?"
                   r"\s*(?:[a-zA-Z%°²³^0-9/.]{0,12}(?:\s+[a-zA-Z²³]{1,12}){0,2})\s*[.!]?\s*", re.I)


@dataclass
class Claim:
    text: str     # as written ("12.57", "48π")
    value: float  # pi multiplied in
    exact: Fraction | None
    decimals: int
    approx: bool  # "approximately", "..."


def _claim_from(num: str, pi: str | None, dots: str | None, approx: bool) -> Claim | None:
    if num.isalpha():
        n = _word_num(num)
        if n is None:
            return None
        f = Fraction(n)
    else:
        f = _frac(num)
        if f is None:
            return None
    text = num + ("π" if pi else "") + (dots or "")
    value = float(f) * (math.pi if pi else 1.0)
    return Claim(text, value, None if pi else f, _decimals(num), approx or bool(dots))


def _bare(out: str) -> Claim | None:
    """The output when it is only a number (with a unit, '%', '$')."""
    m = _BARE.fullmatch(out)
    if not m:
        return None
    return _claim_from(m.group(1), m.group(2), m.group(3), bool(re.search(_APPROX_W, out[:m.start(1)], re.I)))


def _claims(out: str, keyword: str | None, stops: str | None = None) -> list[Claim]:
    """Candidate answers in ``out``: the bare number, else for every mention of ``keyword`` (a
    regex) the last cue number ("is 12.57", "= 8") before the end of its clause or the next
    ``stops`` keyword, then the clauses' other cue numbers; with no keyword, those of the first
    sentence."""
    b = _bare(out)
    if b is not None:
        return [b]
    found, others = [], []
    starts = [(m.start(), m.end()) for m in re.finditer(keyword, out, re.I)] if keyword else [(0, 0)]
    for s, k_end in starts:
        end = _SENT_END.search(out, k_end)
        e = end.start() if end else len(out)
        if stops:
            st = re.compile(stops, re.I).search(out, k_end, e)
            e = st.start() if st else e
        seg = out[s:e]
        # "π = 3.14", "r = 5", "A = 10 cm": a named value, not the answer
        ms = [m for m in _CLAIM.finditer(seg)
              if not (m.group(0).lstrip()[:1] == "=" and re.search(r"(?:(?<!\w)[a-zA-Z]|π|\bpi)\s*$", seg[:m.start()]))]
        cs = [c for m in ms if (c := _claim_from(m.group(1), m.group(2), m.group(3),
                                                  bool(re.search(_APPROX_W, m.group(0), re.I)))) is not None]
        if cs:
            # the clause's last number first (the others are kept: any of them right means right)
            found.append(cs[-1])
            others += cs[:-1]
    return found + others


def _several_answers(out: str) -> bool:
    return bool(re.search(rf"{_NUM_S}\s*(?:or|/)\s*(?:maybe\s+|perhaps\s+)?{_NUM_S}\b", out)
                and re.search(r"\b(?:or|either|depending)\b", out, re.I))


def _close(c: Claim, expected: float, *, exact: Fraction | None = None, rel: float = 0.0, absolute: float = 0.0,
           rounding_ok: bool = False) -> bool:
    """Whether claim ``c`` states ``expected`` up to its own rounding. An exact value is right
    when the claim is it rounded to the claim's decimals (half up: 6 for 5.5, not 5, unless the
    question asks for rounding) or truncated there (7.66 for 23/3); any other value within the
    claim's last decimal (0.5 for an integer). ``rel``/``absolute`` widen it (approximate
    factors, "approximately")."""
    slack = max(rel * abs(expected), absolute, 1e-9 * abs(expected), 1e-12)
    if c.approx:
        slack = max(slack, 0.01 * abs(expected))
    if exact is not None and c.exact is not None:
        step = Fraction(1, 10 ** min(c.decimals, 30))
        d = abs(c.exact - exact)
        if d < step / 2 or d <= slack:
            return True
        if d == step / 2:
            return rounding_ok or abs(c.exact) > abs(exact)
        if c.decimals:
            trunc = Fraction(math.floor(abs(exact) / step)) * step
            return c.exact == (trunc if exact >= 0 else -trunc)
        return False
    tol = 10.0 ** -c.decimals if c.decimals else 0.5
    if c.text.endswith("π"):
        tol *= math.pi
    return abs(c.value - expected) <= max(tol, slack) * (1 + 1e-9)


def _rel(claimed: float, expected: float) -> float:
    return min(1.0, abs(claimed - expected) / abs(expected)) if expected else 1.0


# ---------------------------------------------------------------------------------------------
# the question: text, answer


@dataclass
class Ctx:
    inst: str
    inp: str
    out: str
    text: str  # instruction + input


@dataclass
class Wrong:
    family: str
    asks: str
    says: str
    expected: str
    score: float


@dataclass
class Parsed:
    """A recognised question: its family, a judge of the output (None: right or unclear) and,
    for several questions at once, every family asked."""
    family: str
    judge: Callable[[str], Wrong | None]
    families: tuple[str, ...] = ()


def _numeric(family: str, asks: str, expected: float, keyword: str | None, stops: str | None = None, *,
             exact: Fraction | None = None, alts: tuple[float, ...] = (), rel: float = 0.0, absolute: float = 0.0,
             rounding_ok: bool = False, sign_free: bool = False) -> Parsed:
    """A question with one numeric answer: wrong when the output's first claim misses ``expected``
    (and every alternative: pi taken as 3.14, a US or imperial unit) and no other claim hits it."""
    targets = (expected,) + tuple(alts)

    def judge(out: str) -> Wrong | None:
        cs = _claims(out, keyword, stops)
        if not cs or _several_answers(out):
            return None
        for c in cs:
            for t in targets:
                if _close(c, t, exact=exact if t == expected else None, rel=rel, absolute=absolute,
                          rounding_ok=rounding_ok):
                    return None
                if sign_free and _close(c, -t, rel=rel, absolute=absolute, rounding_ok=True):
                    return None
        c = cs[0]
        return Wrong(family, asks, c.text, _fmt(exact if exact is not None else expected), _rel(c.value, expected))

    return Parsed(family, judge)


def _multi(parts: list[tuple[str, Parsed]]) -> Parsed | None:
    """Several quantities asked at once ("the mean and the median"): each part is judged on its own
    keyword; the first wrong one is reported."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0][1]

    def judge(out: str) -> Wrong | None:
        if _bare(out) is not None:
            return None  # one number for several questions
        for _, p in parts:
            w = p.judge(out)
            if w is not None:
                return w
        return None

    return Parsed(parts[0][1].family, judge, tuple(q.family for _, q in parts))


# ---------------------------------------------------------------------------------------------
# statistics over given numbers

_STAT_KW = {  # family: keyword regex in the question (and the output)
    "median": r"median",
    "mode": r"mode",
    "range": r"range",
    "mean": r"(?:arithmetic\s+)?mean|average",
    "sum": r"sum|total(?!\s+(?:number|count|amount|cost|price))",
    "max": r"maximum|max|largest|biggest|highest|greatest",
    "min": r"minimum|min|smallest|lowest|least",
    "difference": r"difference",
    "stdev": r"standard\s+deviation",
    "variance": r"variance",
}
_STAT_ANY = re.compile(r"\b(?:" + "|".join(_STAT_KW.values()) + r")\b", re.I)
_STAT_QUAL = re.compile(
    r"\b(?:two|three|four|five|[0-9]+)\s+(?:largest|smallest|highest|lowest|biggest|greatest|maximum|minimum)\b|"
    r"\b(?:largest|smallest|highest|lowest|biggest|greatest)\s+(?:two|three|four|five|[0-9]+)\b|"
    r"\b(?:prime|even|odd|second|third|k|n|positive|negative|than|that|which|whose|possible|"
    r"common|consecutive|subarray|sub-?sequence|sub-?set|pair|product|profit|weighted|moving|geometric|harmonic|"
    r"absolute|squares?|digits?|letters?|words?|characters?|length|string|word|index|position|count|frequency|"
    r"median\s+age\s+of\s+(?:all|the\s+us)|percent\w*|rate|population|sort\w*|order\w*|arrange\w*|"
    r"rank\w*|descending|ascending|reverse|remove|delete|replace|insert)\b", re.I)
_LIST_WORDS = re.compile(
    r"\b(?:and|the|following|given|set|list|array|group|sequence|series|data|dataset|data\s+set|numbers?|values?|"
    r"integers?|scores?|ages?|items?|elements?|points?|of|is|are|these|this|column|row|a|b|c|x|y|z|from|in|among|for|"
    r"within|provided|below|above|listed|shown|here|prices?|costs?|"
    r"measurements?|readings?|temperatures?|grades?|marks?|years?|old|cm|m|kg|km|ft|in|inches|feet|miles|points|°[cf]|"
    r"degrees?|celsius|fahrenheit)\b", re.I)


def _is_list(s: str) -> bool:
    """Only numbers, separators and a few label words: not a word problem (nor fractions,
    expressions or dates)."""
    if re.search(r"[0-9]\s*[/:*×x^]\s*[0-9]|[0-9]\s*[-+]\s*[0-9]|[0-9]\s*\(", s):
        return False
    s = re.sub(rf"(?<![\w.^]){_NUM_S}(?![0-9])", " ", s)
    s = re.sub(r"°\s*[CF]?\b", " ", s)
    s = _LIST_WORDS.sub(" ", s)
    return re.fullmatch(r"[\s,;:.\[\](){}&$€£%°=+\-|/]*", s) is not None


def _stat_numbers(ctx: Ctx) -> tuple[list[str], str] | None:
    """The listed numbers (strings) a statistics question is about, and its instruction with the
    list removed."""
    inst = re.sub(r"\b(?:of|these|the)\s+([0-9]+)\s+(?:numbers|integers|values|scores|elements|items)\b",
                  r"of \1 numbers", ctx.inst)
    count = re.search(r"\b([0-9]+)\s+numbers\b", inst)
    inst_wo = re.sub(r"\b[0-9]+\s+numbers\b", "numbers", inst)
    inp = ctx.inp
    if inp and _list_nums(inp) == _list_nums(inst_wo):
        inp = ""  # the input repeats the instruction's list
    inp = re.sub(r"^\s*[A-Za-z][\w ]{0,30}:\s*", "", inp)  # "Column A: 14, 3" / "Data: 1, 2"
    # "The students in the class are aged 11, 12, 13.": a short lead-in, then the list
    lead = re.match(r"(?:[A-Za-z']+\s+){1,12}(?=[-−$]?[0-9])", inp)
    if lead and _is_list(inp[lead.end():]) and not re.search(r"\b(?:and|or|but|then|each|per|times|more|less|"
                                                             r"than|if)\b", lead.group(0), re.I):
        inp = inp[lead.end():]
    if inp and not re.search(r"[0-9]", inst_wo):
        if not _is_list(inp):
            return None
        nums = _list_nums(inp)
        rest = inst_wo
    elif not inp:
        m = _STAT_ANY.search(inst_wo)
        first_digit = re.search(r"[-−]?[0-9]", inst_wo)
        if not m or not first_digit or first_digit.start() < m.start():
            return None
        tail = inst_wo[m.end():]
        if not _is_list(tail):
            return None
        nums = _list_nums(tail)
        rest = inst_wo[:m.end()] + re.sub(r"[-−0-9.,\s]+", " ", tail)
    else:
        return None
    if not nums or len(nums) < 2 or len(nums) > 60:
        return None
    if count and int(count.group(1)) != len(nums):
        return None
    return nums, rest


def _stats(ctx: Ctx) -> Parsed | None:
    import statistics

    if _STAT_QUAL.search(ctx.inst):
        return None
    got = _stat_numbers(ctx)
    if got is None:
        return None
    strs, rest = got
    asked = [(f, m.start()) for f, kw in _STAT_KW.items() for m in re.finditer(rf"\b(?:{kw})\b", rest, re.I)]
    fams = sorted({f for f, _ in asked}, key=lambda f: min(p for g, p in asked if g == f))
    if not fams:
        return None
    if len(fams) > 1:
        # "the mean and the median": joined by and/commas only
        spans = sorted(asked, key=lambda x: x[1])
        between = [rest[a[1]:b[1]] for a, b in zip(spans, spans[1:])]
        if not all(re.fullmatch(rf"(?:{_STAT_KW[f]})(?:\s+(?:value|number))?\s*(?:,|and|,\s*and|&)\s*(?:the\s+)?", s,
                                re.I) for s, (f, _) in zip(between, spans)):
            return None
    if "range" in fams and re.search(r"\brange\s+(?:of|from|between)\s+[0-9]", rest, re.I):
        return None
    vals = [_frac(s) for s in strs]
    if any(v is None for v in vals):
        return None
    listed = ", ".join(_fmt(v) for v in vals)
    parts = []
    for fam in fams:
        kw = rf"\b(?:{_STAT_KW[fam]})\b"
        # a clause ends at another statistic's name ("the sum is 15 and the mean is 3")
        st = r"\b(?:" + "|".join(v for f, v in _STAT_KW.items() if f != fam) + r")\b"
        if fam == "median":
            e = Fraction(statistics.median(vals))
        elif fam == "mode":
            modes = statistics.multimode(vals)
            if len(modes) != 1 or len(modes) == len(vals):
                return None  # no single mode
            e = Fraction(modes[0])
        elif fam == "range":
            e = max(vals) - min(vals)
        elif fam == "mean":
            e = Fraction(statistics.mean(vals))
        elif fam == "sum":
            e = sum(vals, Fraction(0))
        elif fam == "max":
            e = max(vals)
        elif fam == "min":
            e = min(vals)
        elif fam == "difference":
            if len(vals) != 2:
                return None
            e = abs(vals[0] - vals[1])
        elif fam in ("stdev", "variance"):
            pop = statistics.pvariance(vals)
            samp = statistics.variance(vals)
            if fam == "stdev":
                e, alt = math.sqrt(pop), math.sqrt(samp)
            else:
                e, alt = float(pop), float(samp)
            parts.append((fam, _numeric(fam, f"the {fam.replace('stdev', 'standard deviation')} of {listed}", e, kw,
                                        st, alts=(alt,), rel=0.002)))
            continue
        else:
            return None
        parts.append((fam, _numeric(fam, f"the {fam} of {listed}", float(e), kw, st, exact=e,
                                    rounding_ok=bool(_APPROX_Q.search(ctx.inst)), sign_free=fam == "difference")))
    return _multi(parts)


# ---------------------------------------------------------------------------------------------
# percentages and fractions

def _percent(ctx: Ctx) -> Parsed | None:
    t = ctx.text
    approx = bool(_APPROX_Q.search(t))
    m = (re.search(rf"percent(?:age)?\s+(?:change|increase|decrease|growth|drop|decline)\s+(?:\w+\s+){{0,6}}?"
                   rf"from\s+[$€£]?({_NUM_S})\s*%?\s+to\s+[$€£]?({_NUM_S})", t, re.I)
         or re.search(rf"percent(?:age)?\s+(?:change|increase|decrease|growth)\b[^0-9]*$", ctx.inst, re.I)
         and (re.fullmatch(rf"\s*(?:from\s+)?[$€£]?({_NUM_S})\s*%?\s*(?:to|->|→|-)\s*[$€£]?({_NUM_S})\s*%?\.?\s*", ctx.inp, re.I)
              or re.fullmatch(rf"\s*(?:old|original|initial|start\w*|previous|before|first)\s*(?:value|price|number)?\s*[:=]\s*"
                              rf"[$€£]?({_NUM_S})\s*[,;\n]\s*(?:new|final|current|end\w*|after|second)\s*(?:value|price|number)?"
                              rf"\s*[:=]\s*[$€£]?({_NUM_S})\s*\.?\s*", ctx.inp, re.I)))
    if not m and re.search(r"percent(?:age)?\s+(?:change|increase|decrease|growth|drop|decline)\b", ctx.inst, re.I) and \
            not re.search(r"[0-9]", ctx.inst):
        # "Find the percentage decrease." + "The number of cars decreased from 300 to 270."
        m = re.search(rf"\bfrom\s+[$€£]?({_NUM_S})\s*%?\s+to\s+[$€£]?({_NUM_S})\b", ctx.inp, re.I)
    if m:
        if len(_NUM.findall(t)) != 2:
            return None
        a, b = _frac(m.group(1)), _frac(m.group(2))
        if a is None or b is None or a == 0 or all(x.denominator == 1 and 1800 <= x <= 2100 for x in (a, b)):
            return None  # "from 2000 to 2017": years, not the values
        e = (b - a) / a * 100
        return _numeric("percent_change", f"the percent change from {_fmt(a)} to {_fmt(b)}", float(e),
                        r"\b(?:percent\w*|change|increase|decrease|increased|decreased|by|is|was)\b|%", exact=e,
                        rounding_ok=approx, sign_free=True)
    m = (re.search(rf"\bwhat\s+percent(?:age)?\s+of\s+[$€£]?({_NUM_S})\s+(?:is|are)\s+[$€£]?({_NUM_S})\b", t, re.I)
         or re.search(rf"\b[$€£]?(?P<b>{_NUM_S})\s+(?:is|are)\s+what\s+percent(?:age)?\s+of\s+[$€£]?(?P<a>{_NUM_S})\b",
                      t, re.I))
    if m:
        if len(_NUM.findall(t)) != 2:
            return None
        a, b = (_frac(m.group("a")), _frac(m.group("b"))) if "a" in m.groupdict() else (_frac(m.group(1)), _frac(m.group(2)))
        if a is None or b is None or a == 0:
            return None
        e = b / a * 100
        return _numeric("percentage", f"what percent of {_fmt(a)} is {_fmt(b)}", float(e), r"\b(?:percent\w*|is)\b|%",
                        exact=e, rounding_ok=approx)
    # "Convert 0.43 to a percentage", "3/4 as a decimal", "0.26 to a fraction"
    m = re.search(r"\b(?:convert|express|write|change|turn|give|what\s+is)\b.*?\b(?:to|into|as|in)\s+(?:an?\s+|its\s+|the\s+)?"
                  r"(?:equivalent\s+)?(percent(?:age)?|decimal|fraction)\b", ctx.inst, re.I) or \
        re.search(r"\b(percent(?:age)?|decimal|fraction)\s+(?:equivalent|form|representation)\s+of\b", ctx.inst, re.I) or \
        re.search(r"\bequivalent\s+(percent(?:age)?|decimal|fraction)\s+of\b", ctx.inst, re.I)
    if not m:
        return None
    target = m.group(1).lower()
    nums = re.findall(rf"(?<![\w.^/])({_NUM_S}(?:\s*[/⁄]\s*[0-9]+)?)(\s*(?:%|percent\b))?(?![0-9/⁄])", t, re.I)
    if len({n for n, _ in nums}) != 1 or re.search(r"\b(?:list|each|following\s+(?:numbers|values|fractions))\b", t, re.I):
        return None
    num, pct = nums[0]
    v = _frac(num.replace("⁄", "/"))
    if v is None:
        return None
    is_frac = "/" in num or "⁄" in num
    if pct:
        v = v / 100
    shown = num.replace("⁄", "/") + ("%" if pct else "")
    if target.startswith("percent"):
        if pct:
            return None
        e = v * 100
        return _numeric("decimal_fraction", f"{shown} as a percentage", float(e), r"\b(?:is|percent\w*)\b|%|=", exact=e,
                        rounding_ok=approx)
    if target == "decimal":
        if not (is_frac or pct):
            return None
        return _numeric("decimal_fraction", f"{shown} as a decimal", float(v), r"\b(?:is|decimal)\b|=", exact=v,
                        rounding_ok=approx)
    if is_frac or pct:
        return None
    e = v

    def judge(out: str) -> Wrong | None:  # any equivalent fraction is right
        fr = re.findall(r"(?<![\w./])([0-9]+)\s*/\s*([0-9]+)(?![0-9/])", out)
        if not fr or _several_answers(out):
            return None
        vals = [Fraction(int(a), int(b)) for a, b in fr if int(b)]
        if not vals or e in vals:
            return None
        return Wrong("decimal_fraction", f"{shown} as a fraction", "/".join(fr[0]), str(e), _rel(float(vals[0]), float(e)))

    return Parsed("decimal_fraction", judge)


# ---------------------------------------------------------------------------------------------
# geometry

_LEN_UNITS = {
    "mm": "mm", "millimeter": "mm", "millimetre": "mm", "cm": "cm", "centimeter": "cm", "centimetre": "cm",
    "m": "m", "meter": "m", "metre": "m", "km": "km", "kilometer": "km", "kilometre": "km",
    "in": "in", "inch": "in", "inche": "in", "ft": "ft", "foot": "ft", "feet": "ft", "yd": "yd", "yard": "yd",
    "mi": "mi", "mile": "mi", "unit": "unit",
}
_LEN_U = r"(?:mm|cm|km|m|in|ft|yd|mi|millimet(?:er|re)s?|centimet(?:er|re)s?|kilomet(?:er|re)s?|met(?:er|re)s?|inch(?:es)?|" \
         r"foot|feet|yards?|miles?|units?)(?![a-zA-Z])\.?"
_DIM_NAMES = {
    "radius": "r", "r": "r", "diameter": "d", "d": "d", "side": "a", "side length": "a", "edge": "a", "edge length": "a",
    "a": "a", "length": "l", "long": "l", "l": "l", "width": "w", "wide": "w", "breadth": "w", "w": "w",
    "height": "h", "high": "h", "tall": "h", "h": "h", "depth": "h", "deep": "h", "base": "b", "b": "b",
    "base length": "b",
}
_SHAPES = [  # (shape, regex) — the first that matches wins, so the specific ones come first
    ("box", r"rectangular\s+(?:prism|box|solid|cuboid|tank)|cuboid|\bbox\b"),
    ("cube", r"\bcube\b"),
    ("sphere", r"\bsphere\b|\bball\b"),
    ("cylinder", r"\bcylinder\b|\bcylindrical\b"),
    ("cone", r"\bcone\b"),
    ("circle", r"\bcircle\b|\bcircular\b"),
    ("triangle", r"\btriangle\b|\btriangular\b"),
    ("square", r"\bsquare\b"),
    ("rectangle", r"\brectangle\b|\brectangular\b"),
    ("trapezoid", r"\btrapez(?:oid|ium)\b"),
]
_OTHER_SHAPES = re.compile(r"\b(?:pyramid|prism|hexagon|pentagon|octagon|polygon|ellipse|oval|parallelogram|rhombus|"
                           r"kite|sector|arc|semi-?circle|hemisphere|annulus|ring|frustum|torus|shaded|inscribed|"
                           r"circumscribed|diagonal|slant|lateral|hollow|shell|region|tiles?|paint|cost|fence|grass)\b", re.I)
_QTY = {"surface_area": r"surface\s+area|total\s+area", "area": r"area", "perimeter": r"perimeter",
        "circumference": r"circumference", "volume": r"volume"}
_PI_ALTS = (3.14, 22 / 7, 3.1416, 3.142)


def _geo_dims(text: str):
    """``{name: [(value, unit)]}`` and the spans of text they used, from "sides 5, 6 and 7 m",
    "7cm by 4 cm", "radius of 4 cm", "Length: 5m", "4ft long", "2cm radius"; lists first, so a
    list's numbers are not read again as named ones."""
    dims: dict[str, list[tuple[Fraction, str]]] = {}
    used: list[tuple[int, int]] = []
    U = rf"(?:\s*(?:-\s*)?({_LEN_U}))?"
    N = rf"({_NUM_S})"

    def unit(u):
        if not u:
            return ""
        u = u.lower().rstrip(".")
        if u.startswith("inch"):
            return "in"
        u = u[:-1] if u.endswith("s") and len(u) > 2 else u
        return _LEN_UNITS.get(u, u)

    def free(m):
        return not any(a < m.end() and m.start() < b for a, b in used)

    def add(name, num, u):
        v = _frac(num)
        if v is None or v <= 0:
            return False
        dims.setdefault(name, []).append((v, unit(u)))
        return True

    # "Side A = 5, Side B = 5, Side C = 7", "sides A = 10 cm, B = 12 cm and C = 8 cm"
    ms = list(re.finditer(rf"(?:\bside\s*)?\b([A-C])\s*[=:]\s*{N}{U}", text, re.I))
    if len(ms) == 3 and len({m.group(1).lower() for m in ms}) == 3:
        for m in ms:
            add("sides", m.group(2), m.group(3))
            used.append(m.span())
    # "sides 5, 6, and 7 meters", "dimensions 3, 4 and 5", "sides of length 4 and 3", "Base Lengths: 5 and 7"
    item = rf"{_NUM_S}(?:\s*(?:-\s*)?{_LEN_U})?"
    for m in re.finditer(rf"\b(sides|side\s+lengths|dimensions|edges|lengths|bases|base\s+lengths|legs)\s*(?:=\s*|of\s+length\s+|"
                         rf"of\s+|measuring\s+|are\s+|:\s*)?{N}{U}((?:\s*,\s*(?:and\s+)?{item}|\s+and\s+{item})+)",
                         text, re.I):
        if not free(m):
            continue
        group = m.group(1).lower()
        key = "bases" if group.startswith("base") else "legs" if group == "legs" else "sides"
        vals = [(m.group(2), m.group(3))] + re.findall(rf"(?<![\w.])({_NUM_S})\s*(?:-\s*)?({_LEN_U})?", m.group(4))
        for num, u in vals:
            if not add(key, num, u):
                return None, used
        used.append(m.span())
    # "7cm by 4 cm", "20 foot by 40 foot", "3 x 4 x 5"
    for m in re.finditer(rf"{N}{U}\s*(?:by|x|×)\s*{N}{U}(?:\s*(?:by|x|×)\s*{N}{U})?", text, re.I):
        if free(m):
            for i in (1, 3, 5):
                if m.group(i):
                    add("by", m.group(i), m.group(i + 1))
            used.append(m.span())
    # "radius of 4 cm", "Radius = 2m", "side length of 5", "base 8cm", "a=4", "Length: 5m",
    # "the base of the triangle is 10 cm", "whose sides are 18 inches"
    names = (r"(radius|diameter|side\s+length|edge\s+length|base\s+length|sides?|edges?|length|lenght|width|breadth|"
             r"height|depth|base|\b[rdlwhab]\b)")
    for m in re.finditer(rf"{names}\s*(?:of\s+the\s+\w+\s+)?(?:is\s+|are\s+|of\s+|=\s*|:\s*|measuring\s+|measures\s+|"
                         rf"of\s+length\s+)?(?:of\s+)?{N}{U}", text, re.I):
        if not free(m) or (len(m.group(1)) == 1 and not re.match(r"\w\s*[=:]", m.group(0))):
            continue  # a one-letter name only as "a = 4"
        name = re.sub(r"\s+", " ", m.group(1).lower())
        name = {"sides": "side", "edges": "edge", "lenght": "length"}.get(name, name)
        if add(_DIM_NAMES[name], m.group(2), m.group(3)):
            used.append(m.span())
    # "4ft long", "3 m wide", "10 cm tall", "2cm radius", "4 cm sides", "10 cm long on each side"
    for m in re.finditer(rf"{N}{U}\s*(long|wide|high|tall|deep|radius|diameter|sides?|edges?)\b(?:\s+on\s+each\s+side)?",
                         text, re.I):
        if free(m):
            w = m.group(3).lower()
            if add("a" if w.startswith(("side", "edge")) else _DIM_NAMES[w], m.group(1), m.group(2)):
                used.append(m.span())
    if len(dims.get("a", [])) > 1:
        dims.setdefault("sides", []).extend(dims.pop("a"))  # "Side 1 = 6, Side 2 = 8"
    return dims, used


def _geometry(ctx: Ctx) -> Parsed | None:
    t = ctx.text
    # the input restates the instruction's numbers ("cube with side 8cm" + "8")
    inst_nums = _NUM.findall(ctx.inst)
    if ctx.inp and inst_nums and set(_NUM.findall(ctx.inp)) <= set(inst_nums):
        t = ctx.inst
    t = re.sub(r"\b(?:side|length\s+of\s+side|base|edge|number)\s*[0-9]\b(?=\s*[:=])", "side", t, flags=re.I)
    t_shape = re.sub(r"\bsquare\s+(?:units?|feet|foot|met(?:er|re)s?|cm|centimet(?:er|re)s?|inch(?:es)?|km|"
                     r"kilomet(?:er|re)s?|miles?|yards?|root)\b|\bsq\b\.?\s*\w+", " ", t, flags=re.I)
    if _OTHER_SHAPES.search(re.sub(r"rectangular\s+prism", " ", t_shape, flags=re.I)) or \
            re.search(r"\b(?:in\s+terms\s+of|ratio|percent|increase|doubled?|tripled?|half|"
                      r"given\s+(?:its|the)\s+(?:area|volume|perimeter|circumference))\b", t, re.I):
        return None  # another shape, or a question about how a quantity changes
    shapes = [s for s, rx in _SHAPES if re.search(rx, t_shape, re.I)]
    if not shapes:
        return None
    shape = shapes[0]
    if len(shapes) > 1 and not (shape == "box" and set(shapes) <= {"box", "rectangle", "square"}):
        return None
    qs = []
    for q, rx in _QTY.items():
        for m in re.finditer(rf"\b(?:{rx})\b", t, re.I):
            if q == "area" and re.search(r"surface\s+$|total\s+$", t[:m.start()], re.I):
                continue
            qs.append((q, m.start()))
    qty = sorted({q for q, _ in qs}, key=lambda q: min(p for g, p in qs if g == q))
    if not qty or len(qty) > 2:
        return None
    # vertices: the shoelace area
    pts = re.findall(rf"\(\s*({_NUM_S})\s*,\s*({_NUM_S})\s*\)", t.replace("−", "-"))
    dims, used = _geo_dims(t)
    if dims is None:
        return None
    if not dims and not pts and shape in ("square", "cube"):
        # "Calculate the area of a square given its length in cm." + "12 cm": the one number is the side
        ms = list(re.finditer(rf"(?<![\w.^])({_NUM_S})\s*({_LEN_U})?", t))
        if len(ms) == 1:
            v = _frac(ms[0].group(1))
            u = (ms[0].group(2) or "").lower().rstrip(".")
            if v is not None and v > 0:
                dims = {"a": [(v, "in" if u.startswith("inch") else _LEN_UNITS.get(u.rstrip("s") if len(u) > 2 else u, u))]}
                used = [ms[0].span()]
    rest = list(t)
    for a, b in used:
        rest[a:b] = " " * (b - a)
    rest = "".join(rest)
    if pts:
        if shape != "triangle" or qty != ["area"] or len(pts) != 3 or dims:
            return None
        if re.search(r"[0-9]", re.sub(r"\(\s*[-−]?[0-9.]+\s*,\s*[-−]?[0-9.]+\s*\)", " ", t)):
            return None  # another number than the vertices
        P = [(Fraction(x.replace("−", "-")), Fraction(y.replace("−", "-"))) for x, y in pts]
        if len(set(P)) != 3:
            return None
        s = sum(P[i][0] * P[(i + 1) % 3][1] - P[(i + 1) % 3][0] * P[i][1] for i in range(3))
        e = abs(s) / 2  # 0 for three points on a line
        shown = ", ".join(f"({_fmt(x)}, {_fmt(y)})" for x, y in P)
        return _numeric("area", f"the area of the triangle with vertices {shown}", float(e), r"\barea\b", exact=e,
                        rounding_ok=bool(_APPROX_Q.search(t)))
    if re.search(rf"(?<![\w.^]){_NUM_S}(?![0-9])", rest):
        # a number no dimension took: an angle ("Angle = 30°") is the one extra allowed
        ang = re.fullmatch(rf"[^0-9]*\bangle\b[^0-9]*?({_NUM_S})\s*(?:°|degrees?)[^0-9]*", rest, re.I | re.S)
        if not (ang and shape == "triangle"):
            return None
        dims["angle"] = [(Fraction(ang.group(1)), "deg")]
    units = {u for vs in dims.values() for _, u in vs if u and u != "deg"}
    if len(units) > 1:
        return None  # mixed units: the answer's unit is a choice
    unit = next(iter(units), "")

    def one(*names):
        vals = [v for n in names for v, _ in dims.get(n, [])]
        return vals[0] if len(vals) == 1 else None

    if re.search(r"\b(?:isosceles|scalene)\b", t, re.I):
        return None  # one side or two do not fix it
    got = _geo_formula(shape, qty, dims, one, bool(re.search(r"\bequilateral\b", t, re.I)))
    if got is None:
        return None
    approx = bool(_APPROX_Q.search(t))
    parts = []
    for q, shown, e, exact, has_pi in got:
        kw = r"\b(?:" + _QTY[q] + (r"|area" if q == "surface_area" else "") + r"|perimeter|circumference)\b" \
            if q in ("perimeter", "circumference") else r"\b(?:" + _QTY[q] + (r"|area" if q == "surface_area" else "") + r")\b"
        own = {q, "area"} if q == "surface_area" else {"perimeter", "circumference"} if q in ("perimeter", "circumference") \
            else {q}
        stops = r"\b(?:" + "|".join(rx for x, rx in _QTY.items() if x not in own) + r")\b"
        alts = tuple(e * a / math.pi for a in _PI_ALTS) if has_pi else ()
        p = _numeric(q, f"{shown}" + (f" ({unit})" if unit and unit != "unit" else ""), e, kw, stops, exact=exact,
                     alts=alts, rounding_ok=approx)
        parts.append((q, _unit_guard(p, unit)))
    return _multi(parts)


def _unit_guard(p: Parsed, unit: str) -> Parsed:
    """Skip an answer given in another length unit than the dimensions (cm in, m² out)."""
    def judge(out: str) -> Wrong | None:
        w = p.judge(out)
        if w is None:
            return None
        m = re.search(re.escape(w.says.rstrip(".…")) + rf"\s*(?:square\s+|sq\.?\s*|cubic\s+)?({_LEN_U})", out, re.I)
        if m and unit:
            u = m.group(1).lower().rstrip(".")
            u = "in" if u.startswith("inch") else u[:-1] if u.endswith("s") else u
            if _LEN_UNITS.get(u, u) not in (unit, "unit"):
                return None
        return w
    return Parsed(p.family, judge)


def _geo_formula(shape, qty, dims, one, equilateral=False):
    """``[(quantity, shown question, expected float, exact Fraction or None, uses pi)]``."""
    pi = math.pi
    out = []
    names = set(dims)
    for q in qty:
        if shape in ("circle", "sphere", "cylinder", "cone"):
            r = one("r")
            if r is None and one("d") is not None:
                r = one("d") / 2
            if r is None:
                return None
            h = one("h", "l")
            need_h = shape in ("cylinder", "cone")
            if (h is None) == need_h or names - {"r", "d", "h", "l"}:
                return None
            desc = f"the {q.replace('_', ' ')} of a {shape} with radius {_fmt(r)}" + (f" and height {_fmt(h)}" if need_h else "")
            R = float(r)
            if shape == "circle":
                val = {"area": pi * R * R, "circumference": 2 * pi * R, "perimeter": 2 * pi * R}.get(q)
            elif shape == "sphere":
                val = {"volume": 4 / 3 * pi * R ** 3, "surface_area": 4 * pi * R * R, "area": 4 * pi * R * R}.get(q)
            elif shape == "cylinder":
                H = float(h)
                val = {"volume": pi * R * R * H, "surface_area": 2 * pi * R * (R + H)}.get(q)
            else:
                val = {"volume": pi * R * R * float(h) / 3}.get(q)
            if val is None:
                return None
            out.append((q, desc, val, None, True))
            continue
        if shape in ("cube", "square"):
            a = one("a", "l", "sides", "by")
            if a is None or names - {"a", "l", "sides", "by"}:
                return None
            table = {"cube": {"volume": a ** 3, "surface_area": 6 * a * a},
                     "square": {"area": a * a, "perimeter": 4 * a}}[shape]
            if q not in table:
                return None
            out.append((q, f"the {q.replace('_', ' ')} of a {shape} with side {_fmt(a)}", float(table[q]), table[q], False))
            continue
        if shape in ("rectangle", "box"):
            n = 2 if shape == "rectangle" else 3
            vals = []
            for k in ("l", "w", "h", "a", "b"):
                vals += [v for v, _ in dims.get(k, [])]
            for k in ("by", "sides"):
                vals += [v for v, _ in dims.get(k, [])]
            if len(vals) != n or names - {"l", "w", "h", "a", "b", "by", "sides"}:
                return None
            if shape == "rectangle":
                l, w = vals
                table = {"area": l * w, "perimeter": 2 * (l + w)}
                desc = f"a {_fmt(l)} by {_fmt(w)} rectangle"
            else:
                l, w, h = vals
                table = {"volume": l * w * h, "surface_area": 2 * (l * w + l * h + w * h)}
                desc = f"a {_fmt(l)} by {_fmt(w)} by {_fmt(h)} box"
            if q not in table:
                return None
            out.append((q, f"the {q.replace('_', ' ')} of {desc}", float(table[q]), table[q], False))
            continue
        if shape == "triangle":
            sides = [v for v, _ in dims.get("sides", [])]
            b, h = one("b"), one("h")
            if q == "area":
                if b is not None and h is not None and names <= {"b", "h"}:
                    e = b * h / 2
                    out.append((q, f"the area of a triangle with base {_fmt(b)} and height {_fmt(h)}", float(e), e, False))
                    continue
                legs = [v for v, _ in dims.get("legs", [])]
                if len(legs) == 2 and names == {"legs"}:
                    e = legs[0] * legs[1] / 2
                    out.append((q, f"the area of a right triangle with legs {_fmt(legs[0])} and {_fmt(legs[1])}",
                                float(e), e, False))
                    continue
                if len(sides) == 3 and names == {"sides"}:
                    a, bb, c = (float(x) for x in sides)
                    s = (a + bb + c) / 2
                    prod = s * (s - a) * (s - bb) * (s - c)
                    if prod <= 0:
                        return None  # not a triangle
                    out.append((q, f"the area of a triangle with sides {', '.join(_fmt(x) for x in sides)}",
                                math.sqrt(prod), None, False))
                    continue
                a = one("a", "sides")
                if a is not None and names <= {"a", "sides"} and equilateral:
                    out.append((q, f"the area of an equilateral triangle with side {_fmt(a)}",
                                math.sqrt(3) / 4 * float(a) ** 2, None, False))
                    continue
                if len(sides) == 2 and names == {"sides", "angle"}:
                    ang = float(dims["angle"][0][0])
                    if not 0 < ang < 180:
                        return None
                    e = 0.5 * float(sides[0]) * float(sides[1]) * math.sin(math.radians(ang))
                    out.append((q, f"the area of a triangle with sides {_fmt(sides[0])}, {_fmt(sides[1])} and angle "
                                   f"{_fmt(dims['angle'][0][0])}°", e, None, False))
                    continue
                return None
            if q == "perimeter":
                if len(sides) == 3 and names == {"sides"}:
                    a, bb, c = sorted(sides)
                    if a + bb <= c:
                        return None
                    e = sum(sides, Fraction(0))
                    out.append((q, f"the perimeter of a triangle with sides {', '.join(_fmt(x) for x in sides)}",
                                float(e), e, False))
                    continue
                a = one("a", "sides")
                if a is not None and names <= {"a", "sides"} and equilateral:
                    e = 3 * a
                    out.append((q, f"the perimeter of an equilateral triangle with side {_fmt(a)}", float(e), e, False))
                    continue
            return None
        if shape == "trapezoid":
            bases = [v for v, _ in dims.get("bases", [])]
            h = one("h")
            if q != "area" or len(bases) != 2 or h is None or names - {"bases", "h"}:
                return None
            e = (bases[0] + bases[1]) * h / 2
            out.append((q, f"the area of a trapezoid with bases {_fmt(bases[0])}, {_fmt(bases[1])} and height {_fmt(h)}",
                        float(e), e, False))
            continue
        return None
    return out


# ---------------------------------------------------------------------------------------------
# unit conversions (pint)

_UREG = None


def _ureg():
    """The pint UnitRegistry, built once on first use (it takes about a second)."""
    global _UREG
    if _UREG is None:
        import pint

        _UREG = pint.UnitRegistry()
    return _UREG


# key: (dimension, [pint expressions: every reading the word may have], surface aliases)
_UNIT_TABLE = {
    "mm": ("length", ["millimeter"], r"mm|millimet(?:er|re)s?"),
    "cm": ("length", ["centimeter"], r"cm|centimet(?:er|re)s?"),
    "m": ("length", ["meter"], r"met(?:er|re)s?"),
    "km": ("length", ["kilometer"], r"km|kilomet(?:er|re)s?"),
    "in": ("length", ["inch"], r"inch(?:es)?"),
    "ft": ("length", ["foot"], r"ft|foot|feet"),
    "yd": ("length", ["yard"], r"yds?|yards?"),
    "mi": ("length", ["mile"], r"miles?"),
    "mg": ("mass", ["milligram"], r"mg|milligrams?"),
    "g": ("mass", ["gram"], r"grams?|gr"),
    "kg": ("mass", ["kilogram"], r"kgs?|kilograms?|kilos?"),
    "lb": ("mass", ["pound"], r"lbs?|pounds?"),
    "oz": ("mass", ["ounce"], r"oz|ounces?"),
    "st": ("mass", ["stone"], r"stones?"),
    "ton": ("mass", ["short_ton", "long_ton", "metric_ton"], r"tons?"),
    "tonne": ("mass", ["metric_ton"], r"tonnes?|metric\s+tons?"),
    "ml": ("volume", ["milliliter"], r"ml|mls|millilit(?:er|re)s?"),
    "l": ("volume", ["liter"], r"lit(?:er|re)s?"),
    "gal": ("volume", ["gallon", "imperial_gallon"], r"gal|gallons?"),
    "qt": ("volume", ["quart", "imperial_quart"], r"qt|quarts?"),
    "pt": ("volume", ["pint", "imperial_pint"], r"pints?"),
    "cup": ("volume", ["cup", "250 * milliliter", "240 * milliliter", "imperial_cup"], r"cups?"),
    "floz": ("volume", ["fluid_ounce", "imperial_fluid_ounce", "30 * milliliter"], r"fl\.?\s*oz\.?|fluid\s+ounces?"),
    "tbsp": ("volume", ["tablespoon", "15 * milliliter"], r"tbsp|tablespoons?"),
    "tsp": ("volume", ["teaspoon", "5 * milliliter"], r"tsp|teaspoons?"),
    "m3": ("volume", ["meter**3"], r"cubic\s+met(?:er|re)s?|m3|m³"),
    "cm3": ("volume", ["centimeter**3"], r"cubic\s+centimet(?:er|re)s?|cm3|cm³|cc"),
    "ft3": ("volume", ["foot**3"], r"cubic\s+(?:feet|foot)|ft3|ft³"),
    "degF": ("temperature", ["degF"], r"°\s*F|degrees?\s+F\b|(?:degrees?\s+)?fah?renh?eit|farenheit"),
    "degC": ("temperature", ["degC"], r"°\s*C|degrees?\s+C\b|(?:degrees?\s+)?cel[cs]ius|centigrade"),
    "K": ("temperature", ["kelvin"], r"kelvins?"),
    "s": ("time", ["second"], r"seconds?|secs?"),
    "min": ("time", ["minute"], r"minutes?|mins?"),
    "h": ("time", ["hour"], r"hours?|hrs?"),
    "day": ("time", ["day"], r"days?"),
    "week": ("time", ["week"], r"weeks?"),
    "year": ("time", ["365 * day", "365.25 * day", "366 * day"], r"years?"),
    "mph": ("speed", ["mile/hour"], r"mph|miles?\s+(?:per|an|/)\s*hour"),
    "kmh": ("speed", ["kilometer/hour"], r"km\s*/\s*hr?|kph|kmph|kilomet(?:er|re)s?\s+(?:per|an|/)\s*hour"),
    "mps": ("speed", ["meter/second"], r"m\s*/\s*s|met(?:er|re)s?\s+(?:per|a|/)\s*second"),
    "fps": ("speed", ["foot/second"], r"ft\s*/\s*s|fps|feet\s+(?:per|a|/)\s*second"),
    "knot": ("speed", ["knot"], r"knots?"),
    "m2": ("area", ["meter**2"], r"square\s+met(?:er|re)s?|sq\.?\s*m\b|m2|m²"),
    "km2": ("area", ["kilometer**2"], r"square\s+kilomet(?:er|re)s?|sq\.?\s*km|km2|km²"),
    "cm2": ("area", ["centimeter**2"], r"square\s+centimet(?:er|re)s?|sq\.?\s*cm|cm2|cm²"),
    "ft2": ("area", ["foot**2"], r"square\s+(?:feet|foot)|sq\.?\s*ft|ft2|ft²"),
    "in2": ("area", ["inch**2"], r"square\s+inch(?:es)?|sq\.?\s*in|in2|in²"),
    "mi2": ("area", ["mile**2"], r"square\s+miles?|sq\.?\s*mi|mi2|mi²"),
    "acre": ("area", ["acre"], r"acres?"),
    "ha": ("area", ["hectare"], r"hectares?|ha"),
}
# short symbols only count right after a number ("5 m", "94F", "2 l", "3 g")
_GLUED_ONLY = {"m": r"m", "degF": r"F", "degC": r"C", "K": r"K", "l": r"l|L", "g": r"g", "h": r"h", "s": r"s",
               "in": r"in\b\.?(?!\s+(?:a|an|the|one|total|[0-9]))"}
_UNIT_ORDER = sorted(_UNIT_TABLE, key=lambda k: -len(_UNIT_TABLE[k][2]))
_UNIT_WORD = re.compile(r"(?<![\w°])(?:" + "|".join(f"(?P<{k}>{_UNIT_TABLE[k][2]})" for k in _UNIT_ORDER) + r")(?!\w)",
                        re.I)
_UNIT_GLUED = re.compile(rf"(?<![\w.^])({_NUM_S}(?:\s*/\s*[0-9]+)?)\s*(?:-\s*)?(?:(?:" +
                         "|".join(f"(?P<{k}>{_UNIT_TABLE[k][2]})" for k in _UNIT_ORDER) + ")|(?:" +
                         "|".join(f"(?P<g_{k}>{v})" for k, v in _GLUED_ONLY.items()) + r"))(?!\w)", re.I)
_ANY_UNIT = re.compile(r"\b(?:bytes?|bits?|[kmgt]b|[kmgt]ib|kilobytes?|megabytes?|gigabytes?|terabytes?|dollars?|euros?|"
                       r"usd|eur|gbp|yen|rupees?|calories|kcal|joules?|watts?|kwh|volts?|amps?|psi|pascals?|bar|atm|"
                       r"radians?|degrees?(?!\s+(?:f|c|fah|cel))|months?|decades?|centur(?:y|ies)|light\s*years?|"
                       r"of\s+(?:sugar|flour|butter|water|rice|salt|milk|oil|honey))\b", re.I)


def _group_key(m: re.Match) -> str | None:
    for k, v in m.groupdict().items():
        if v is not None:
            return k[2:] if k.startswith("g_") else k
    return None


def _units_in(text: str):
    """Every unit mention: ``[(key, start, end, number or None)]``."""
    found, taken = [], []
    for m in _UNIT_GLUED.finditer(text):
        k = _group_key(m)
        if k:
            found.append((k, m.start(), m.end(), m.group(1)))
            taken.append((m.start(), m.end()))
    for m in _UNIT_WORD.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        found.append((_group_key(m), m.start(), m.end(), None))
    return sorted(found, key=lambda x: x[1])


def _convert_values(value: Fraction, src: str, dst: str) -> list[float]:
    """``value`` in unit ``src`` expressed in ``dst`` under every reading of the two words."""
    ureg = _ureg()
    out = []
    for a in _UNIT_TABLE[src][1]:
        for b in _UNIT_TABLE[dst][1]:
            if _UNIT_TABLE[src][0] == "temperature":
                q = ureg.Quantity(float(value), a).to(b)
            else:
                # a ratio, not .to(): "240 * milliliter" is a quantity, and .to() would drop its 240
                q = (float(value) * ureg(a) / ureg(b)).to("dimensionless")
            out.append(float(q.magnitude))
    return out


def _conversion(ctx: Ctx) -> Parsed | None:
    t = ctx.text
    inst_nums = _NUM.findall(ctx.inst)
    if ctx.inp and inst_nums and set(_NUM.findall(ctx.inp)) <= set(inst_nums):
        t = ctx.inst
    temp_words = re.search(r"\b(?:cel[cs]ius|fah?renh?eit|farenheit|kelvin|centigrade)\b", t, re.I)
    if _ANY_UNIT.search(re.sub(r"\bdegrees?\b", " ", t) if temp_words else t) or \
            re.search(r"\b(?:list|each|following\s+(?:list|values|numbers))\b|\[|_{2,}", t, re.I):
        return None
    units = _units_in(t)
    if not units:
        return None
    sources = [u for u in units if u[3] is not None]
    rest = list(t)
    for _, st, en, _ in sources:
        rest[st:en] = " " * (en - st)
    rest = "".join(rest)
    if sources:
        # every number belongs to a quantity; several are one compound ("2 hours and 15 minutes")
        if re.search(r"[0-9]", rest) or len({_UNIT_TABLE[k][0] for k, *_ in sources}) != 1:
            return None
        if len(sources) > 1 and not all(re.fullmatch(r"\s*(?:,|and|,\s*and)?\s*", t[x[2]:y[1]])
                                        for x, y in zip(sources, sources[1:])):
            return None
        parts = [(_frac(n), k) for k, _, _, n in sources]
    else:
        # "Convert the number in Fahrenheit to Celsius." + "210", "the temperature in Fahrenheit is 32"
        nums = _NUM.findall(t)
        if len(nums) != 1:
            return None
        m = re.search(r"\b(?:from|in)\s+(?P<u>[\w°/ ]+?)\s+(?:to|into)\b", ctx.inst, re.I) or \
            re.search(r"\b(?:the|this|a)\s+(?P<u>[\w°]+)\s+(?:temperature|value|measurement|number|amount|reading)\b",
                      ctx.inst, re.I) or \
            re.search(rf"(?P<u>[A-Za-z°][\w° ]{{0,20}}?)\s*(?:is|=|:)\s*{re.escape(nums[0])}(?![0-9])", t, re.I)
        if not m:
            return None
        su = _units_in(m.group("u"))
        if len(su) != 1:
            return None
        parts = [(_frac(nums[0]), su[0][0])]
    if any(v is None for v, _ in parts):
        return None
    src_keys = {k for _, k in parts}
    # the target: a unit named without a number after to/into/in/"how many"
    cue = r"(?:\bto|\binto|\bin|how\s+many|\bas|equivalent(?:\s+of)?|\bunit\s*:?|temperature\s+in)\s*(?:the\s+)?(?:equivalent\s+)?$"
    bare = [u for u in units if u[3] is None]
    cued = {u[0] for u in bare if re.search(cue, t[max(0, u[1] - 25):u[1]], re.I)}
    if len(cued) > 1:
        cued -= src_keys
    if len(cued) != 1:
        cued = {u[0] for u in bare} - src_keys
        if len(cued) != 1:
            return None
    dst = cued.pop()
    if ({u[0] for u in bare} - src_keys - {dst}) or (len(parts) == 1 and dst in src_keys):
        return None  # a third unit, or a unit converted into itself
    d_pos = max(u[1] for u in bare if u[0] == dst)
    if re.search(r"^\s*(?:and|or|,)\s*(?:" + "|".join(_UNIT_TABLE[k][2] for k in _UNIT_TABLE
                                                   if _UNIT_TABLE[k][0] == _UNIT_TABLE[dst][0] and k != dst) + r")\b",
                 t[d_pos:][re.match(_UNIT_WORD, t[d_pos:]).end() if re.match(_UNIT_WORD, t[d_pos:]) else 0:], re.I):
        return None  # "into hours and minutes": a compound target
    # ounces of a volume are fluid ounces
    vol = _UNIT_TABLE[dst][0] == "volume" or any(_UNIT_TABLE[k][0] == "volume" for k in src_keys)
    if vol:
        parts = [(v, "floz" if k == "oz" else k) for v, k in parts]
        dst = "floz" if dst == "oz" else dst
    dim = _UNIT_TABLE[dst][0]
    if any(_UNIT_TABLE[k][0] != dim for _, k in parts):
        return None
    exp = [sum(vals) for vals in zip(*(_convert_values(v, k, dst) for v, k in parts))] if len(parts) > 1 else \
        _convert_values(parts[0][0], parts[0][1], dst)
    if len(parts) > 1 and dim == "temperature":
        return None
    e = exp[0]
    is_temp = dim == "temperature"
    dst_rx = _UNIT_TABLE[dst][2] + ("|" + _GLUED_ONLY[dst] if dst in _GLUED_ONLY else "")
    if dst == "floz":
        dst_rx += r"|oz|ounces?"
    src_num = " ".join(f"{_fmt(v)} {k}" for v, k in parts)
    shown = f"{src_num} in {dst}"
    src_rx = "|".join(re.escape(_fmt(v)) for v, _ in parts)
    echo = {v for v, k in parts if k == dst or len(parts) > 1}

    def judge(out: str) -> Wrong | None:
        if _several_answers(out):
            return None
        cands = []
        for m in re.finditer(rf"(?<![\w.^])(?:{_APPROX_W}\s*)?({_NUM_S}(?:\s*/\s*[0-9]+)?)(\.{{3}}|…)?\s*(?:-\s*)?(?:{dst_rx})(?!\w)",
                             out, re.I):
            # its clause: where the source quantity is restated next to the answer
            starts = [m0.end() for m0 in re.finditer(r"[,;:!?\n]|\.(?=\s)", out[:m.start()])]
            stop = re.search(r"[,;!?\n]|\.(?=\s|$)", out[m.end():])
            line = out[(starts[-1] if starts else 0): m.end() + (stop.start() if stop else len(out))]
            if _frac(m.group(1)) in echo:
                continue  # the question's own quantity, restated
            cands.append((m, line))
        if not cands:
            b = _bare(out)
            if b is None or not re.fullmatch(rf"\s*[-−]?[0-9.,]+\s*(?:°|degrees?)?\s*\.?\s*", out):
                return None
            claims = [b]
        else:
            if len({m.group(1) for m, _ in cands}) > 1:
                cands = [(m, l) for m, l in cands if re.search(rf"(?<![\w.])(?:{src_rx})(?![0-9])", l)] or cands
                if len({m.group(1) for m, _ in cands}) > 1:
                    return None
            m = cands[0][0]
            c = _claim_from(m.group(1), None, m.group(2), bool(re.search(_APPROX_W, m.group(0), re.I)))
            if c is None:
                return None
            claims = [c]
        c = claims[0]
        for x in exp:
            if is_temp and _close(c, x, absolute=0.3):
                return None
            if not is_temp and _close(c, x, rel=0.01):
                return None
        return Wrong("unit_conversion", shown, c.text, _fmt(e), _rel(c.value, e))

    return Parsed("unit_conversion", judge)


# ---------------------------------------------------------------------------------------------
# number properties

def _one_int(ctx: Ctx) -> int | None:
    nums = set(_NUM.findall(ctx.text))
    if len(nums) != 1:
        return None
    v = _frac(nums.pop())
    if v is None or v.denominator != 1 or v < 0 or v > 10 ** 12:
        return None
    return int(v)


_PRIME_NEG = re.compile(r"\b(?:not\s+(?:a\s+)?prime|isn'?t\s+(?:a\s+)?prime|composite|non-?prime|no|false)\b", re.I)
_PRIME_POS = re.compile(r"\b(?:is\s+(?:(?:a|an|the)\s+)?(?:\w+\s+){0,2}?prime|yes|true)\b|^\s*prime\b|"
                        r"\bprime(?:\s+number)?\s*[.!]?\s*$", re.I)


_PRIME_Q = re.compile(
    r"\bis\s+(?:the\s+(?:following\s+|given\s+)?number\s+)?[0-9,]+\s+(?:a\s+)?prime\b|"
    r"\b(?:determine|check|identify|tell|detect|decide|verify|find\s+out|say|state|output|classify)\b[^.?]*?"
    r"\b(?:if|whether)\b[^.?]*?\b(?:is\s+)?(?:a\s+)?prime\b|"
    r"\bprime\s+or\s+(?:not|composite)\b|\bcomposite\s+or\s+prime\b", re.I)


def _prime(ctx: Ctx) -> Parsed | None:
    import sympy

    t = ctx.text
    if not _PRIME_Q.search(ctx.inst) or re.search(
            r"\b(?:factor\w*|between|from|range|first|sum|list|numbers|generate|create|give|example|divisible|twin|"
            r"mersenne|co-?prime|relatively|digits?|sequence|each|all|any|which)\b", t, re.I):
        return None
    n = _one_int(ctx)
    if n is None or n < 2:
        return None
    e = bool(sympy.isprime(n))

    def judge(out: str) -> Wrong | None:
        first = re.split(r"(?<=[.!?])\s|\n", out.strip(), maxsplit=1)[0]
        neg = _PRIME_NEG.search(first)
        pos = _PRIME_POS.search(_PRIME_NEG.sub(" ", first))
        if bool(neg) == bool(pos):
            return None
        said = bool(pos)
        if said == e:
            return None
        return Wrong("prime", f"whether {n} is prime", "prime" if said else "not prime",
                     "prime" if e else f"not prime ({_factor_str(n)})", 1.0)

    return Parsed("prime", judge)


def _factor_str(n: int) -> str:
    import sympy

    return " x ".join(f"{p}^{k}" if k > 1 else str(p) for p, k in sorted(sympy.factorint(n).items()))


_SUP = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def _factorization(ctx: Ctx) -> Parsed | None:
    import sympy

    t = ctx.text
    if not re.search(r"\bprime\s+factori[sz]ation\b|\bfactori[sz]e\b.*\bprimes?\b|\bprime\s+factors\s+of\b", t, re.I) or \
            re.search(r"\b(?:how\s+many|count|number\s+of|sum|largest|smallest|two|three|distinct|unique)\b", t, re.I):
        return None
    n = _one_int(ctx)
    if n is None or n < 4:
        return None
    e = sympy.factorint(n)
    power = r"[0-9]+(?:\s*\^\s*[0-9]+|[⁰¹²³⁴⁵⁶⁷⁸⁹]+)?"
    chain = re.compile(rf"(?<![\w.^])({power}(?:\s*[x×*·]\s*{power})+)(?![0-9])")

    def parse(s: str) -> dict[int, int] | None:
        """``"2² x 2² x 5^2 x 7"`` as ``{2: 4, 5: 2, 7: 1}`` (a repeated base adds up)."""
        got: dict[int, int] = {}
        for part in re.split(r"\s*[x×*·]\s*", s):
            part = re.sub(r"([0-9]+)([⁰¹²³⁴⁵⁶⁷⁸⁹]+)", lambda m: m.group(1) + "^" + m.group(2).translate(_SUP), part)
            b, _, k = part.replace(" ", "").partition("^")
            b, k = int(b), int(k or 1)
            if b > 10 ** 12 or k > 64:
                return None
            got[b] = got.get(b, 0) + k
        return got

    def judge(out: str) -> Wrong | None:
        if len(out) > 600:
            return None
        parsed = [(c, f) for c in chain.findall(out) if (f := parse(c)) is not None]
        if not parsed or any(f == e for _, f in parsed):
            return None
        c, f = parsed[0]
        prod = math.prod(p ** k for p, k in f.items())
        return Wrong("prime_factorization", f"the prime factorization of {n}", re.sub(r"\s+", " ", c), _factor_str(n),
                     _rel(prod, n) if prod != n else 1.0)

    return Parsed("prime_factorization", judge)


def _parity(ctx: Ctx) -> Parsed | None:
    t = ctx.text
    if not re.search(r"\beven\s+or\s+odd\b|\bodd\s+or\s+even\b|\bis\s+[0-9,]+\s+(?:an\s+)?(?:even|odd)\b|"
                     r"\bwhether\b.*\b(?:even|odd)\b", t, re.I):
        return None
    if re.search(r"\b(?:output|return|print)\s+[0-9]\b|\bsum\b|\bproduct\b|\bdigits?\b", t, re.I):
        return None
    n = _one_int(ctx)
    if n is None:
        return None
    e = "even" if n % 2 == 0 else "odd"

    def judge(out: str) -> Wrong | None:
        first = re.split(r"(?<=[.!?])\s|\n", out.strip(), maxsplit=1)[0]
        said = {w.lower() for w in re.findall(r"\b(even|odd)\b", first, re.I)}
        if len(said) != 1 or re.search(r"\bnot\b|n't\b", first, re.I):
            return None
        s = said.pop()
        return None if s == e else Wrong("parity", f"whether {n} is even or odd", s, e, 1.0)

    return Parsed("parity", judge)


def _gcd_lcm(ctx: Ctx) -> Parsed | None:
    t = ctx.text
    g = re.search(r"\b(?:greatest|highest|largest)\s+common\s+(?:divisor|factor)\b|\bgcd\b|\bhcf\b|\bgcf\b", t, re.I)
    l = re.search(r"\b(?:least|lowest|smallest)\s+common\s+(?:multiple|denominator)\b|\blcm\b", t, re.I)
    if bool(g) == bool(l):
        return None
    nums = _list_nums(ctx.inp) if ctx.inp and not re.search(r"[0-9]", ctx.inst.replace("GCD", "")) else \
        [m.group(1) for m in _NUM.finditer(ctx.inst)] if not ctx.inp else None
    if not nums or not 2 <= len(nums) <= 6:
        return None
    if ctx.inp and not _is_list(ctx.inp):
        return None
    vals = [_frac(x) for x in nums]
    if any(v is None or v.denominator != 1 or v <= 0 for v in vals):
        return None
    ints = [int(v) for v in vals]
    fam = "gcd" if g else "lcm"
    e = math.gcd(*ints) if g else math.lcm(*ints)
    kw = r"\b(?:greatest|highest|largest|gcd|hcf|gcf|divisor|factor)\b" if g else \
        r"\b(?:least|lowest|smallest|lcm|multiple|denominator)\b"
    return _numeric(fam, f"the {fam} of {', '.join(map(str, ints))}", float(e), kw, exact=Fraction(e))


def _members(ctx: Ctx) -> Parsed | None:
    """Primes / even / odd numbers between A and B (the set, a count, a sum), the first N primes."""
    import sympy

    t = ctx.text
    kind = re.search(r"\b(prime|even|odd)\s+(?:numbers?|integers?)\b", t, re.I)
    if not kind or re.search(r"\b(?:random|example|divisible|squares?|digits?|factors?|twin|palindrom\w*|except|"
                             r"other\s+than|not|average|mean|product)\b", t, re.I):
        return None
    kind = kind.group(1).lower()
    N = rf"({_NUM_S})"
    rng = re.search(rf"\b(?:between|from|within|in\s+the\s+range(?:\s+of)?|range)\s+{N}\s*(?:and|to|-|–)\s*{N}\b", t, re.I) \
        or (re.search(r"\b(?:given\s+(?:range|numbers|interval)|this\s+range)\b", ctx.inst, re.I)
            and re.fullmatch(rf"\s*(?:range\s*:?\s*)?(?:from\s+|between\s+|start\s*:\s*)?{N}\s*(?:and|to|-|–|,\s*end\s*:)\s*{N}\s*\.?\s*",
                             ctx.inp, re.I))
    first = re.search(rf"\b(?:first|smallest)\s+{N}\s+prime\s+numbers?\b", t, re.I)
    count_q = re.search(r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b", t, re.I)
    sum_q = re.search(r"\bsum\b|\btotal\b|\badd\b", t, re.I)
    k_of = re.search(rf"\b(?:list|name|give|find|identify|generate|provide|output|select|pick|choose|write)\s+(?:me\s+)?"
                     rf"(?:any\s+|the\s+)?(?:first\s+|last\s+|smallest\s+|largest\s+)?"
                     rf"([0-9]+|two|three|four|five|six|seven|eight|nine|ten)\s+(?:\w+\s+)?(?:prime|even|odd)\b", t, re.I)
    nums_all = _NUM.findall(t)
    if first and kind == "prime" and not rng:
        n = int(first.group(1)) if first.group(1).isdigit() else 0
        if not 1 <= n <= 200 or len(nums_all) != 1:
            return None
        expect = [int(sympy.prime(i)) for i in range(1, n + 1)]
        if sum_q:
            e = sum(expect)
            return _numeric("range_members", f"the sum of the first {n} primes", float(e), r"\b(?:sum|total|is|are)\b",
                            exact=Fraction(e))
        if count_q:
            return None
        sets = [set(expect)]
        shown = f"the first {n} primes"
        k = None
    elif rng:
        a, b = _frac(rng.group(1)), _frac(rng.group(2))
        if a is None or b is None or a.denominator != 1 or b.denominator != 1:
            return None
        a, b = int(a), int(b)
        if not 0 <= a < b <= 100000 or len(set(nums_all) - {rng.group(1), rng.group(2)}) > (1 if k_of else 0):
            return None
        pick = (lambda x: sympy.isprime(x)) if kind == "prime" else (lambda x: x % 2 == 0) if kind == "even" else \
            (lambda x: x % 2 == 1)
        incl = [x for x in range(a, b + 1) if pick(x)]
        sets = [set(incl), set(incl) - {a}, set(incl) - {b}, set(incl) - {a, b}]
        shown = f"the {kind} numbers from {a} to {b}"
        k = None
        if k_of:
            kk = k_of.group(1).lower()
            k = int(kk) if kk.isdigit() else _word_num(kk)
        if sum_q and not count_q:
            sums = sorted({sum(s) for s in sets})
            e = sum(incl)
            return _numeric("range_members", f"the sum of {shown}", float(e), r"\b(?:sum|total|is|are)\b",
                            exact=Fraction(e), alts=tuple(float(x) for x in sums if x != e))
        if count_q and not sum_q:
            counts = sorted({len(s) for s in sets})
            if b - a > 10000:
                return None
            e = len(incl)
            return _numeric("range_members", f"how many {shown}", float(e), r"\b(?:are|is|there|of)\b|:",
                            exact=Fraction(e), alts=tuple(float(x) for x in counts if x != e))
        if sum_q or count_q or b - a > 1000:
            return None
    else:
        return None

    def judge(out: str) -> Wrong | None:
        if len(out) > 600 or re.search(r"\b(?:def|print|return|import)\b", out):
            return None
        body = out
        echo = re.search(r"\b(?:are|is|include|includes|would\s+be)\b\s*:?|:", out)
        if echo and re.search(r"[0-9]", out[:echo.start()]):
            body = out[echo.end():]
        body = re.split(r"(?<![0-9])\.(?:\s|$)|\n\s*\n|[;!?]", body.strip(), maxsplit=1)[0]
        if not re.fullmatch(r"[\s0-9,{}\[\]\-]*(?:and|&)?[\s0-9,{}\[\]\-.]*", body):
            return None  # words or a count among the numbers: not a bare list
        got = [int(x) for x in re.findall(r"(?<![\w.])-?[0-9]+(?![\w.]*[0-9])", body.replace(",", " "))]
        if not got:
            return None
        claimed = set(got)
        if k is not None:
            bad = sorted(x for x in claimed if x not in sets[0])
            if not bad:
                return None
            return Wrong("range_members", shown, ", ".join(map(str, got)),
                         f"only members of {', '.join(map(str, sorted(sets[0]))) or 'nothing'} (not {', '.join(map(str, bad))})",
                         min(1.0, len(bad) / len(claimed)))
        if any(claimed == s for s in sets):
            return None
        e = sorted(sets[0])
        return Wrong("range_members", shown, ", ".join(map(str, got)), ", ".join(map(str, e)) or "none",
                     min(1.0, len(claimed ^ sets[0]) / max(1, len(sets[0]))))

    return Parsed("range_members", judge)


# ---------------------------------------------------------------------------------------------
# dates and time zones

_MONTH = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|" \
         r"nov(?:ember)?|dec(?:ember)?)"
_DATE = re.compile(rf"\b(?:{_MONTH}\.?\s+[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s+[0-9]{{4}}|[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?"
                   rf"{_MONTH},?\s+[0-9]{{4}}|[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}|[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}})\b", re.I)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _parse_date(s: str):
    from dateutil import parser

    m = re.fullmatch(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})", s)
    if m and int(m.group(1)) <= 12 and int(m.group(2)) <= 12 and m.group(1) != m.group(2):
        return None  # 03/04/2020: March or April
    try:
        return parser.parse(re.sub(r"(?<=[0-9])(?:st|nd|rd|th)\b", "", s), dayfirst=bool(m and int(m.group(1)) > 12)).date()
    except (ValueError, OverflowError):
        return None


def _weekday(ctx: Ctx) -> Parsed | None:
    t = ctx.text
    if not re.search(r"\bday\s+of\s+(?:the\s+)?week\b|\bwhat\s+day\b|\bwhich\s+day\b|\bweekday\b", t, re.I):
        return None
    dates = _DATE.findall(t)
    if len(set(dates)) != 1 or re.search(r"\b(?:after|before|later|ago|from\s+now|next|last|plus|minus)\b", t, re.I):
        return None
    d = _parse_date(dates[0])
    if d is None or d.year < 1753:
        return None  # before 1753 the calendar (Julian or Gregorian) is a choice
    e = _WEEKDAYS[d.weekday()].capitalize()

    def judge(out: str) -> Wrong | None:
        said = {w.lower() for w in re.findall(r"\b(" + "|".join(_WEEKDAYS) + r")\b", out, re.I)}
        if len(said) != 1 or len(out) > 300:
            return None
        s = said.pop().capitalize()
        return None if s == e else Wrong("weekday", f"the day of the week of {dates[0]}", s, e, 1.0)

    return Parsed("weekday", judge)


def _date_diff(ctx: Ctx) -> Parsed | None:
    t = ctx.text
    m = re.search(r"\b(?:how\s+many|number\s+of|amount\s+of|count\s+(?:of\s+)?(?:the\s+)?)\s*(days|weeks)\b|"
                  r"\b(?:difference|time|duration)\s+(?:in\s+(days|weeks)\s+)?between\b", t, re.I)
    if not m or re.search(r"\b(?:business|working|week-?days|weekends?|hours?|minutes?|seconds?|until|since|from\s+now|"
                          r"today|ago)\b|[0-9]:[0-9]", t, re.I):
        return None
    unit = (m.group(1) or m.group(2) or "").lower() or "days"
    dates = _DATE.findall(t)
    if len(dates) != 2 or len(_NUM.findall(_DATE.sub(" ", t))) > 0:
        return None
    d1, d2 = _parse_date(dates[0]), _parse_date(dates[1])
    if d1 is None or d2 is None or d1 == d2:
        return None
    days = abs((d2 - d1).days)
    inclusive = bool(re.search(r"\binclusive\b|\bincluding\b", t, re.I))
    if unit == "days":
        e = days + (1 if inclusive else 0)
        return _numeric("date_difference", f"the days between {dates[0]} and {dates[1]}", float(e),
                        r"\b(?:days?|is|are)\b", exact=Fraction(e), alts=(float(days + 1),) if not inclusive else (),
                        absolute=0)
    e = Fraction(days, 7)
    return _numeric("date_difference", f"the weeks between {dates[0]} and {dates[1]}", float(e), r"\b(?:weeks?|is|are)\b",
                    alts=(float(days // 7), float((days + 1) / 7)), rounding_ok=True)


_ZONES = {  # abbreviation / name -> IANA zones it may mean (standard and daylight time both accepted)
    "utc": ["UTC"], "gmt": ["UTC"], "coordinated universal time": ["UTC"], "greenwich mean time": ["UTC"],
    "est": ["America/New_York"], "edt": ["America/New_York"], "et": ["America/New_York"],
    "eastern": ["America/New_York"], "eastern time": ["America/New_York"], "eastern standard time": ["America/New_York"],
    "cst": ["America/Chicago"], "cdt": ["America/Chicago"], "central time": ["America/Chicago"],
    "central standard time": ["America/Chicago"],
    "mst": ["America/Denver", "America/Phoenix"], "mdt": ["America/Denver"], "mountain time": ["America/Denver"],
    "pst": ["America/Los_Angeles"], "pdt": ["America/Los_Angeles"], "pt": ["America/Los_Angeles"],
    "pacific": ["America/Los_Angeles"], "pacific time": ["America/Los_Angeles"],
    "pacific standard time": ["America/Los_Angeles"],
    "cet": ["Europe/Paris"], "cest": ["Europe/Paris"], "bst": ["Europe/London"], "jst": ["Asia/Tokyo"],
    "ist": ["Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"], "aest": ["Australia/Sydney"],
    "aedt": ["Australia/Sydney"], "hkt": ["Asia/Hong_Kong"], "sgt": ["Asia/Singapore"],
    "london": ["Europe/London"], "paris": ["Europe/Paris"], "berlin": ["Europe/Berlin"], "madrid": ["Europe/Madrid"],
    "rome": ["Europe/Rome"], "moscow": ["Europe/Moscow"], "tokyo": ["Asia/Tokyo"], "beijing": ["Asia/Shanghai"],
    "shanghai": ["Asia/Shanghai"], "hong kong": ["Asia/Hong_Kong"], "singapore": ["Asia/Singapore"],
    "dubai": ["Asia/Dubai"], "mumbai": ["Asia/Kolkata"], "delhi": ["Asia/Kolkata"], "new delhi": ["Asia/Kolkata"],
    "sydney": ["Australia/Sydney"], "melbourne": ["Australia/Melbourne"], "new york": ["America/New_York"],
    "los angeles": ["America/Los_Angeles"], "chicago": ["America/Chicago"], "denver": ["America/Denver"],
    "san francisco": ["America/Los_Angeles"], "seattle": ["America/Los_Angeles"], "toronto": ["America/Toronto"],
    "vancouver": ["America/Vancouver"], "mexico city": ["America/Mexico_City"], "sao paulo": ["America/Sao_Paulo"],
    "cairo": ["Africa/Cairo"], "johannesburg": ["Africa/Johannesburg"], "seoul": ["Asia/Seoul"],
}
_ZONE_RX = re.compile(r"(?<![\w])(" + "|".join(sorted((re.escape(k) for k in _ZONES), key=len, reverse=True)) +
                      r")(?:\s+(?:time|standard\s+time|daylight\s+time))?(?![\w])", re.I)
_CLOCK = re.compile(r"(?<![\w:.])([0-9]{1,2})(?::([0-9]{2}))?\s*([ap])\.?\s*m\b\.?|(?<![\w:.])([0-9]{1,2}):([0-9]{2})(?![0-9])",
                    re.I)


def _clock(m: re.Match) -> int | None:
    """Minutes after midnight of a clock time match."""
    if m.group(3):
        h, mi = int(m.group(1)), int(m.group(2) or 0)
        if not 1 <= h <= 12 or mi > 59:
            return None
        return (h % 12 + (12 if m.group(3).lower() == "p" else 0)) * 60 + mi
    h, mi = int(m.group(4)), int(m.group(5))
    return h * 60 + mi if h < 24 and mi < 60 else None


def _fmt_clock(x: int) -> str:
    h, mi = divmod(x % 1440, 60)
    return f"{h:02d}:{mi:02d}"


def _offsets(keys: tuple[str, str], date=None) -> set[tuple[int, int]]:
    """The pairs of UTC offsets (minutes) two zone names have on the same day: on ``date``, or on
    any week of a year (a pair, not the product: London and Los Angeles are 7 or 8 hours apart,
    never 9)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    days = [date] if date else [dt.date(2023, 1, 1) + dt.timedelta(days=7 * i) for i in range(53)]
    out = set()
    for za in _ZONES[keys[0]]:
        for zb in _ZONES[keys[1]]:
            ta, tb = ZoneInfo(za), ZoneInfo(zb)
            for d in days:
                at = dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.timezone.utc)
                out.add((int(at.astimezone(ta).utcoffset().total_seconds() // 60),
                         int(at.astimezone(tb).utcoffset().total_seconds() // 60)))
    return out


def _timezone(ctx: Ctx) -> Parsed | None:
    t = ctx.text
    zones = [(m.group(1).lower(), m.start(), m.end()) for m in _ZONE_RX.finditer(t)]
    keys = []
    for z, _, _ in zones:
        if z not in keys:
            keys.append(z)
    if len(keys) != 2 or re.search(r"\b(?:flight|flies|arrive|depart|travel|meeting\s+lasts|hours?\s+later|after)\b", t, re.I):
        return None
    dates = _DATE.findall(t)
    date = _parse_date(dates[0]) if len(dates) == 1 else None
    if dates and date is None:
        return None
    a, b = keys
    if _ZONES[a] == _ZONES[b]:
        return None
    clocks = [m for m in _CLOCK.finditer(t)]
    if not clocks and re.search(r"\btime\s+difference\b|\bhow\s+many\s+hours\s+(?:ahead|behind)\b|\bdifference\s+in\s+time\b",
                                t, re.I):
        if re.search(r"[0-9]", _DATE.sub(" ", t)):
            return None
        diffs = {abs(x - y) for x, y in _offsets((a, b), date)}
        e = min(diffs, key=lambda d: d)
        shown = f"the time difference between {a.title()} and {b.title()}"

        def judge_diff(out: str) -> Wrong | None:
            cs = _claims(out, r"\b(?:difference|ahead|behind|is)\b")
            m = re.search(rf"(?<![\w.])({_NUM_S}|[a-z]+)\s+hours?\b", out, re.I)
            if not m or _several_answers(out) or len(re.findall(r"\bhours?\b", out, re.I)) > 2:
                return None
            c = _claim_from(m.group(1), None, None, False)
            if c is None:
                return None
            if any(abs(c.value * 60 - d) < 1 for d in diffs) or any(abs(x.value * 60 - d) < 1 for x in cs for d in diffs):
                return None
            return Wrong("timezone", shown, f"{m.group(1)} hours", " or ".join(_fmt(Fraction(d, 60)) for d in sorted(diffs))
                         + " hours", _rel(c.value, e / 60))

        return Parsed("timezone", judge_diff)
    if len(clocks) != 1 or re.search(r"[0-9]", _CLOCK.sub(" ", _DATE.sub(" ", t))) and not re.search(r"utc\s*[+-]", t, re.I):
        return None
    if re.search(r"utc\s*[+-]|gmt\s*[+-]", t, re.I):
        return None
    src_min = _clock(clocks[0])
    if src_min is None:
        return None
    # the source zone is the one nearest after the time, else the first; the other is the target
    # the source zone: the one right after the time ("9am in New York"), else "from X", else the
    # other one than "to X"
    keys_rx = "|".join(re.escape(k) for k in keys)
    m = re.match(rf"\s*(?:,\s*)?(?:in\s+|at\s+)?(?:the\s+)?({keys_rx})\b", t[clocks[0].end():], re.I)
    src = m.group(1) if m else None
    if src is None:
        m = re.search(rf"\bfrom\s+({keys_rx})\b", t, re.I)
        src = m.group(1) if m else None
    if src is None:
        m = re.search(rf"\b(?:to|into)\s+(?:the\s+)?(?:time\s+in\s+)?({keys_rx})\b", t, re.I)
        if not m:
            return None
        src = b if m.group(1).lower() == a else a
    src = src.lower()
    dst = b if src == a else a
    results = {(src_min - so + do) % 1440 for so, do in _offsets((src, dst), date)}
    e = min(results, key=lambda r: (r - src_min) % 1440)
    shown = f"{clocks[0].group(0).strip()} {src.upper() if len(src) <= 4 else src.title()} in " \
            f"{dst.upper() if len(dst) <= 4 else dst.title()}"

    def judge(out: str) -> Wrong | None:
        if len(out) > 300:
            return None
        said = []
        for m in _CLOCK.finditer(out):
            v = _clock(m)
            if v is None:
                continue
            said.append((v, m.group(0).strip()))
        said = [(v, s) for v, s in said if v != src_min] or said
        if len({v for v, _ in said}) != 1:
            return None
        v, s = said[0]
        if v in results:
            return None
        return Wrong("timezone", shown, s, " or ".join(_fmt_clock(r) for r in sorted(results)), 1.0)

    return Parsed("timezone", judge)


# ---------------------------------------------------------------------------------------------
# the detector

_FAMILIES = ["median", "mode", "range", "mean", "sum", "max", "min", "difference", "stdev", "variance",
             "percentage", "percent_change", "decimal_fraction",
             "area", "surface_area", "perimeter", "circumference", "volume",
             "unit_conversion", "prime", "prime_factorization", "parity", "gcd", "lcm", "range_members",
             "weekday", "date_difference", "timezone"]
# (parser, trigger on the question text): the trigger keeps the other 99% of records cheap
_PARSERS = [  # (parser, substrings of the lowercased question one of which it needs, trigger)
    (_members, ("prime", "even", "odd"), re.compile(r"\b(?:prime|even|odd)\s+(?:numbers?|integers?)\b", re.I)),
    (_factorization, ("factor",), re.compile(r"\bprime\s+factor|\bfactori[sz]", re.I)),
    (_prime, ("prime",), re.compile(r"\bprime\b", re.I)),
    (_parity, ("even", "odd"), re.compile(r"\beven\b.*\bodd\b|\bodd\b.*\beven\b|\bis\s+[0-9,]+\s+(?:an\s+)?(?:even|odd)\b",
                                       re.I)),
    (_gcd_lcm, ("common", "gcd", "lcm", "hcf", "gcf"),
     re.compile(r"\bcommon\s+(?:divisor|factor|multiple|denominator)\b|\b(?:gcd|lcm|hcf|gcf)\b", re.I)),
    (_weekday, ("day",), re.compile(r"\bday\s+of\s+(?:the\s+)?week\b|\bwhat\s+day\b|\bwhich\s+day\b|\bweekday\b", re.I)),
    (_date_diff, ("days", "weeks", "between"),
     re.compile(r"\b(?:days|weeks)\b.*\b(?:between|from)\b|\bbetween\b.*\b(?:19|20)[0-9]{2}\b", re.I)),
    (_timezone, ("utc", "gmt", "st", "dt", "cet", "time", "pacific", "eastern"),
     re.compile(r"\b(?:utc|gmt|est|edt|pst|pdt|cst|cdt|mst|cet|bst|jst|ist|aest|time\s*zones?|"
                r"time\s+difference|pacific|eastern)\b|\btime\s+in\b", re.I)),
    (_percent, ("percent", "%", "decimal", "fraction"), re.compile(r"percent|%|\bdecimal\b|\bfraction\b", re.I)),
    (_geometry, ("area", "perimeter", "circumference", "volume"),
     re.compile(r"\b(?:area|perimeter|circumference|volume)\b", re.I)),
    (_conversion, ("conver", "how many", "equivalent", "cel", "fah", "faren", "kel", "express", " in "),
     re.compile(r"\bconver|\bhow\s+many\b|\bequivalent\b|\bin\s+(?:\w+\s+)?(?:cel|fah|kel)|\bwhat\s+is\b.*\bin\s+\w+"
                r"|\bexpress\b|\bcel[cs]ius\b|\bfah?renh?eit\b", re.I)),
    (_stats, ("median", "mode", "range", "mean", "average", "sum", "total", "max", "min", "larg", "bigg", "high", "low",
              "great", "small", "least", "difference", "deviation", "variance"), _STAT_ANY),
]


@register("computed_answer", category="wrong_math", order=112, score="relative_error",
          summary=("statistics, percentages, geometry, unit conversions (pint), number properties and dates "
                   "recomputed from the instruction/input (statistics, sympy, dateutil, zoneinfo) and compared "
                   "with the output's answer; flags only confident mismatches"))
class ComputedAnswer(Detector):
    """A wrong answer to a question whose instruction and input fully determine it, by family:

    - statistics over listed numbers (in the instruction, or the input as a list, array or lines):
      ``median``, ``mode`` (single mode only), ``range``, ``mean``, ``sum``, ``max``, ``min``,
      ``difference`` (two numbers, either sign), ``stdev``/``variance`` (population or sample);
    - ``percentage`` ("what percent of X is Y"), ``percent_change`` (from A to B; the sign is
      free, "decreased by 10%"), ``decimal_fraction`` (a fraction as a decimal or percentage, a
      decimal as any equivalent fraction);
    - geometry with given dimensions: ``area``, ``surface_area``, ``perimeter``,
      ``circumference``, ``volume`` of a rectangle, square, circle, triangle (base and height,
      three sides by Heron, two sides and the included angle, three vertices by the shoelace
      formula), trapezoid, cube, box / rectangular prism, sphere, cylinder, cone; pi may be kept
      symbolic ("36π") or taken as 3.14, 3.1416 or 22/7; the answer's length unit must be the
      dimensions' (else skipped);
    - ``unit_conversion`` with pint: length, mass, volume, temperature (offset units as
      Quantities), time, speed, area; a word with several readings (gallon US or imperial, cup,
      ton, year) is right under any of them; tolerance: the claimed number's rounding, 1% for the
      common approximate factors (1 in = 2.5 cm is not flagged), 0.3 degrees for temperatures;
    - number properties: ``prime`` (yes / no), ``prime_factorization``, ``parity``, ``gcd``,
      ``lcm``, ``range_members`` (the primes / even / odd numbers between A and B as a set,
      counted or summed, either end included or not; the first N primes);
    - dates: ``weekday`` of a date, ``date_difference`` in days (the end day counted or not) or
      weeks, ``timezone`` (a clock time from one zone to another, any offset the zones have over
      the year unless a date is given; the hours between two zones).

    The claimed answer is the output itself when it is a bare number (with a unit), else, for
    each mention of the family's keyword in the output, the last number after an answer cue
    ("is", "=", "equals", ":") before the end of that clause (a sentence, or the next keyword of
    another quantity); named values ("π = 3.14", "r = 5") are not answers. A unit conversion
    takes the number written before the target unit, in the clause that restates the source
    quantity when there are several. Flagged only when that claim misses the value by more than
    its own rounding and no other cue number in those clauses hits it: an exact value must be
    the claim's rounding half up or truncation at its last decimal (6 or 5.5 for 5.5, not 5;
    59 for 59.25); an irrational one within the claim's last decimal (0.5 for an integer);
    "approximately" adds 1%. Score: relative error, capped at 1 (1.0 for a yes/no, set, day or
    clock answer). The reason starts with the family: ``"median: instruction asks the median of
    3, 9, 4, 7; output says 5, expected 5.5"``.

    Skipped: code, formulas and explanations asked for or given as code, word problems (a number
    the parser does not place: labelled lists only), estimation and rounding to tens, lists of
    conversions, currency, data-size, angle and month units, mass-volume conversions that need a
    density, two modes, mixed or changed length units, outputs over 600 characters without a
    marked "answer is", outputs giving several candidate answers ("5 or 6"), and records
    :class:`curate.detectors.arithmetic.MathCheck` flags (counted in ``left_to_math_check``).
    False-positive risks: a clause that ends on an intermediate number; a convention other than
    the ones accepted (an inclusive day count, a US, imperial or metric cup, EST read as Eastern
    time are all accepted); a dimension named in an unusual way; an output whose first
    sentence answers a different question than the one asked.

    Source: AlpacaDataCleaned found many of Alpaca's math answers wrong (text-davinci-003
    outputs); issue "Programmatic verification of computable answers".
    """

    confidence = 0.87  # 95% Wilson lower bound of its dev-set precision (26/26), docs/detectors.md

    def __init__(self) -> None:
        self._counts = {f: {"parsed": 0, "flagged": 0} for f in _FAMILIES}
        self._left_to_math = 0  # wrong answers math_check flags already
        self._math = MathCheck()

    def check(self, rec):
        inst = (rec.get("instruction") or "").strip()
        inp = (rec.get("input") or "").strip()
        out = (rec.get("output") or "").strip()
        if not out or not inst or len(inst) > 300 or len(inp) > 400:
            return None
        if PLACEHOLDER_INPUT.match(inp):
            inp = ""
        text = f"{inst}\n{inp}" if inp and inp not in inst else inst
        low = text.lower()
        digits = any(c.isdigit() for c in text)
        # without a number only the hours between two zones can be asked
        todo = [(parse, trig) for parse, keys, trig in _PARSERS
                if (digits or parse is _timezone) and any(k in low for k in keys)]
        if not todo or _NOT_QUESTION.search(inst):
            return None
        ctx = Ctx(inst.replace("−", "-"), inp.replace("−", "-"), out.replace("−", "-"), text.replace("−", "-"))
        for parse, trigger in todo:
            if not trigger.search(ctx.text):
                continue
            try:
                p = parse(ctx)
            except (ValueError, ZeroDivisionError, OverflowError, ArithmeticError, TypeError):
                p = None  # a number no library accepts: skipped
            if p is None:
                continue
            for fam in p.families or (p.family,):
                self._counts[fam]["parsed"] += 1
            return self._judge(rec, p, ctx.out)
        return None

    def _judge(self, rec, p: Parsed, out: str) -> Finding | None:
        if _CODE_OUT.search(out):
            return None  # code prints its answer; a comment in it is not the claim
        if len(out) > 600:
            m = list(re.finditer(r"\b(?:final\s+)?answer\s*(?:is|:)\s*", out, re.I))
            if not m:
                return None
            out = out[m[-1].start():][:200]
        try:
            w = p.judge(out)
        except (ValueError, ZeroDivisionError, OverflowError, ArithmeticError, TypeError):
            w = None
        if w is None:
            return None
        if self._math.check(rec) is not None:
            self._left_to_math += 1
            return None  # math_check's finding already covers it
        self._counts[w.family]["flagged"] += 1
        return Finding(max(0.0, min(1.0, float(w.score))),
                       f"{w.family}: instruction asks {w.asks}; output says {w.says}, expected {w.expected}")

    def metrics(self) -> dict:
        """``{"families": {family: {"parsed": n, "flagged": m}}, "left_to_math_check": k}`` over the
        run: families with a parsed question only; ``k`` wrong answers not flagged because
        math_check flags them."""
        return {"families": {f: dict(c) for f, c in self._counts.items() if c["parsed"]},
                "left_to_math_check": self._left_to_math}


def main(argv: list[str] | None = None) -> int:
    """``python -m curate.detectors.computable FILE...``: run the detector over the records of
    ingestible files and print, per family, the questions parsed and flagged, and the time."""
    import argparse
    import time

    from curate.core.ingest import ingest

    ap = argparse.ArgumentParser(description="computed_answer over records: per-family counts")
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--show", action="store_true", help="print each finding")
    args = ap.parse_args(argv)
    table, _q, _m = ingest(args.paths)
    rows = table.select(["id", "instruction", "input", "output"]).to_pylist()
    t0 = time.perf_counter()
    det = ComputedAnswer()
    found = []
    for r in rows:
        f = det.check(r)
        if f is not None:
            found.append((r["id"], f))
    dt = time.perf_counter() - t0
    if args.show:
        for i, f in found:
            print(i, f.reason, sep="\t")
    fams = det.metrics()["families"]
    print(f"{'family':<22}{'parsed':>8}{'flagged':>9}")
    for fam in _FAMILIES:
        if fam in fams:
            print(f"{fam:<22}{fams[fam]['parsed']:>8}{fams[fam]['flagged']:>9}")
    print(f"{'total':<22}{sum(c['parsed'] for c in fams.values()):>8}{len(found):>9}")
    print(f"{len(rows)} records in {dt:.2f} s")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())  # this copy's class: importing the module again would register it twice
