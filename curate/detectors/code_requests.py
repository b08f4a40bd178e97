"""Code requests answered without code (AlpacaDataCleaned lists code requests answered with
descriptions among its fixes). Named ``code_requests`` rather than ``code`` so that it never
shadows the standard library's ``code`` module.
"""

from __future__ import annotations

import re

from curate.core.text import quote
from curate.detectors.registry import Detector, Finding, register


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


@register("empty_code", category="empty_code", order=100, score="strength",
          summary=('a code request (write/create a function, program, script, SQL, HTML ...) answered with '
                   'no code'))
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
