"""Hygiene: records whose text is broken rather than wrong, fixed by normalising a field.

* ``control_chars`` -- C0/C1 control characters and CR line ends (removed);
* ``placeholder_input`` -- an input that means "no input" (``<noinput>``, "N/A"; emptied, as
  Alpaca's generator does for ``<noinput>``);
* ``merged_instruction`` -- another numbered task glued into the output by the teacher's
  continuation (cut off).

Problem classes from gururise/AlpacaDataCleaned's README. They run first (orders 10-30) so that
later detectors see the normalised text when the policy says ``normalize``.
"""

from __future__ import annotations

import re

from curate.core.text import quote
from curate.detectors.registry import Detector, Finding, register


_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@register("control_chars", category="control_chars", order=10, score="strength",
          summary='C0/C1 control characters, CR line ends; removed')
class ControlChars(Detector):
    """C0/C1 control characters (other than tab and newline) and CRLF line ends: removed and
    normalised to ``\\n``. NUL bytes never get here: ingest quarantines them."""

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
    r"""^[\s"'`<\[(\\]*(?:no[\s_-]*input(?:\s+(?:is\s+)?(?:required|needed|necessary|provided|given))?
        |none|n/?a|null|nil|empty|not\s+applicable)[\s.:"'`>\])\\]*$""",
    re.IGNORECASE | re.VERBOSE,
)


@register("placeholder_input", category="placeholder_input", order=20, score="strength",
          summary='input is `<noinput>`, "No input", "N/A", "None", ... (regex); normalised to `""`')
class PlaceholderInput(Detector):
    """An input that is a placeholder for "no input" (``<noinput>``, "No input", "N/A", ...):
    normalised to the empty string, as Alpaca's generator does for ``<noinput>``."""

    confidence = 0.9  # 95% Wilson lower bound of its dev-set precision (35/35), docs/detectors.md

    def check(self, rec):
        v = rec["input"]
        if v.strip() and PLACEHOLDER_INPUT.match(v):
            return Finding(1.0, f"input is a placeholder {quote(v)}; means no input", "input", "")
        return None

# A numbered "N. Instruction:" block glued into an output by the teacher's continuation.
_MERGED = re.compile(r"(?:^|\n)[ \t]*(?:\d{1,3}\.[ \t]*)?Instruction[ \t]*:", re.IGNORECASE)
_TRAILING_JUNK = re.compile(r"(?:\n[\s#/*_`\-<>!0-9]*)+$")


@register("merged_instruction", category="merged_instruction", order=30, score="strength",
          summary='`N. Instruction:` block glued after an answer; keeps the text before it')
class MergedInstruction(Detector):
    """Another task (``N. Instruction: ... N. Input: ... N. Output: ...``) merged into the output.
    The fix keeps the text before the merge marker, minus separator lines like ``##`` or ``///``.
    An output that *starts* with an instruction block is left alone: there is no answer before
    it to keep, and tasks like "Create a task that a GPT model can complete" ask for exactly
    that (a false positive found on the dev set)."""

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
