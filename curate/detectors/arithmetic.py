"""Arithmetic answers recomputed with sympy (AlpacaDataCleaned found many of Alpaca's math
answers wrong). sympy is imported inside the functions that need it: importing this module is
cheap.

One module of about 340 lines: the question parser (expressions, verbal arithmetic, linear
equations) and the answer extractor only make sense together.
"""

from __future__ import annotations

import re

from curate.detectors.registry import Detector, Finding, register


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


@register("math_check", category="wrong_math", order=110, score="relative_error",
          summary=('arithmetic, percentages, roots, means and simple linear equations parsed from the '
                   "instruction/input, solved with sympy, compared with the output's final number; flags "
                   'only confident mismatches'))
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
