"""Score a student's generations with the project's own detectors (issue 12, item 4: behavioural
probes). Nothing here is registered: it runs the registered rule detectors on a generation as if
it were a record's ``output`` and turns their findings into per-record flags.

Rates and the detectors behind them (docs/ablation.md has the rationale):

=====================  ==========================================================  =========================
flag                   True when                                                    None (not applicable) when
=====================  ==========================================================  =========================
``hallucinated_unseen`` ``unseeable_content`` or ``hallucinated_reference`` fires    neither detector fires on
                        on the generation (it describes a URL's page, an attached    :data:`UNSEEN_CANARY`, an
                        photo, a missing text as if seen), and the generation is     answer that describes
                        not empty or N/A                                             unseen content as if seen,
                                                                                     nor on the generation
``empty_or_na``         ``empty_output`` (empty, "N/A", ``<nooutput>``, one          never
                        placeholder) or ``cannot_fulfil`` ("This instruction
                        cannot be fulfilled by a GPT model") fires
``merged_fragment``     ``merged_instruction`` fires ("N. Instruction:" glued after  never
                        an answer), or one of two generation rules:
                        ``alpaca_prompt_marker`` (a line starting ``### Instruction:``
                        / ``### Input:`` / ``### Response:``, or Alpaca's preamble
                        "Below is an instruction that describes a task": the student
                        continues the prompt template with another task) and
                        ``numbered_next_task`` (a line ``N. Write/Create/...`` with
                        N >= 2 and no line ``N-1.`` before it: the next task of a
                        numbered task list, not an item of the answer's own list)
``truncated``           ``truncated_output`` fires (the answer stops mid-sentence,  the record says
                        mid-date, on an open bracket, at list item 19 ...)           ``hit_max_new_tokens``:
                                                                                     the token budget, not the
                                                                                     model, ended it
``wrong_computable``    ``math_check``, ``computed_answer``, ``count_check`` or      none of the four fires on
                        ``order_check`` fires: the answer differs from the value     any of the wrong canary
                        recomputed from the instruction and input                    answers
                                                                                     (:func:`computable_checkers`):
                                                                                     no checker can determine
                                                                                     the expected answer (and
                                                                                     none fires on the
                                                                                     generation)
``non_text_placeholder`` ``non_text_request`` fires: an image, logo, chart ...      ``non_text_request`` does
                        request answered with no usable text (a placeholder, an      not fire on the placeholder
                        image link, "I have designed ...", under 12 words)           ``[image]``: not a
                                                                                     non-text request
=====================  ==========================================================  =========================

Applicability is decided by the same detectors on *canary* answers, never by the probe kind:
a flag applies to a record when its detectors would fire on a known-bad answer to it (an answer
that describes unseen content; a number, yes/no, weekday or list order that is wrong for any
real question). So a URL probe whose task the detector does not consider to be about the page
("Identify the domain name of this URL") gets None, and a user-oriented instruction that refers
to a missing text ("Summarize the following article" with no article) is scored. Where a checker
applies but cannot read an answer from the generation (it rambles, it is empty), the detectors
do not fire and ``wrong_computable`` is False: the rate counts answers *found* wrong, a lower
bound; ``empty_or_na`` counts the empty ones.

Detectors are built by :func:`curate.detectors.runner.build_detectors` with the default params
(rule detectors only: the opt-in model detectors are off) minus ``contamination`` (a
user-oriented instruction *is* an evaluation item; that says nothing about the answer), and run
by :func:`curate.detectors.runner.detect` with no policy (every finding is ``review``, so no
normalisation changes the generation before a later detector sees it). ``checks`` lists every
detector that fired on the generation (``refusal``, ``choice_check``, ``non_text_substitute``
... included) and the two generation rules.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Mapping, Sequence

from curate.core.schema import records_table
from curate.detectors.registry import Detector
from curate.detectors.runner import build_detectors, detect

#: flag -> the registered detectors whose findings set it (``merged_fragment`` also has
#: :data:`GENERATION_RULES`).
RATE_DETECTORS: dict[str, tuple[str, ...]] = {
    "hallucinated_unseen": ("unseeable_content", "hallucinated_reference"),
    "empty_or_na": ("empty_output", "cannot_fulfil"),
    "merged_fragment": ("merged_instruction",),
    "truncated": ("truncated_output",),
    "wrong_computable": ("math_check", "computed_answer", "count_check", "order_check"),
    "non_text_placeholder": ("non_text_request",),
}
#: The flags :func:`score_generations` returns, in order.
FLAGS = tuple(RATE_DETECTORS)
#: Detectors left out: an evaluation item's instruction matches an evaluation set by design.
EXCLUDED = ("contamination",)
#: Rules of this module (not registry detectors) that set ``merged_fragment``.
GENERATION_RULES = ("alpaca_prompt_marker", "numbered_next_task")

#: An answer that describes unseen content as if seen: the unseen detectors fire on it exactly
#: when the record points at content a text model cannot see (its words are in no real record's
#: visible text about that content, and it admits nothing).
UNSEEN_CANARY = ("It shows a golden retriever puppy chasing a bright orange frisbee across a sunny meadow, "
                 "with snowy mountains and a wooden cabin behind.")
#: Wrong answers to any computable question, so that at least one is wrong for every question a
#: checker can answer: a number no real question yields; both answers of a yes/no question; two
#: prime factorisations of different numbers; three weekdays (one is wrong for any date); counts
#: no text ``count_check`` reads can have (it reads counts of at most 5 digits, in texts of at
#: most 600 characters), bare and labelled with every unit it counts (for questions that ask
#: two); a fraction no short decimal equals; two clock times with different minutes (for time
#: zones). List orders are added per record (:func:`computable_checkers`). Not covered: answers
#: that need a unit (geometry, conversions) are read only with the unit, so a correct one may
#: get None where a wrong one gets True (1 of the 806 computable probe-kind records of the
#: bundled real data).
COMPUTABLE_CANARIES = ("987654321", "0.000123", "Yes.", "No.", "2 x 3", "5 x 7", "Monday", "Tuesday", "Wednesday",
                       "99999", "99999 words, 99999 letters, 99999 characters, 99999 vowels, 99999 consonants, "
                       "99999 sentences, 99999 items, 99999 times.", "1/999983", "3:17am", "4:41pm")
#: A placeholder instead of the artifact a non-text request asks for.
NON_TEXT_CANARY = "[image]"

_PROMPT_MARKER = re.compile(r"^[ \t>*#]*#{2,}[ \t]*(?:Instruction|Input|Response)[ \t]*:"
                            r"|Below\s+is\s+an\s+instruction\s+that\s+describes\s+a\s+task", re.IGNORECASE | re.MULTILINE)
_TASK_VERB = (r"(?:Write|Create|Generate|Give|Describe|Explain|List|Name|Find|Classify|Rewrite|Translate|Summari[sz]e|"
              r"Suggest|Identify|Compose|Edit|Make|Come\s+up\s+with|Provide|Design|Construct|Convert|Calculate|Compare|"
              r"Analy[sz]e|Tell|Predict|Choose|Select|Determine|Develop|Outline|Paraphrase|Evaluate|Categori[sz]e|"
              r"Brainstorm|Output|Formulate|Produce|Propose|Rank|Sort|Arrange|Insert|Replace|Change|Add|Remove)")
_NUMBERED_TASK = re.compile(rf"^[ \t]*(\d{{1,3}})[.)][ \t]+{_TASK_VERB}\b", re.MULTILINE)
_NUMBERED = re.compile(r"^[ \t]*(\d{1,3})[.)]", re.MULTILINE)


def generation_rules(output: str) -> list[str]:
    """The :data:`GENERATION_RULES` that fire on ``output`` (module docstring)."""
    fired = []
    if _PROMPT_MARKER.search(output):
        fired.append("alpaca_prompt_marker")
    for m in _NUMBERED_TASK.finditer(output):
        n = int(m.group(1))
        before = {int(x) for x in _NUMBERED.findall(output[: m.start()])}
        if n >= 2 and n - 1 not in before:
            fired.append("numbered_next_task")
            break
    return fired


def behaviour_detectors() -> list[Detector]:
    """New instances of the default rule detectors (:func:`curate.detectors.runner.build_detectors`
    with no params), without :data:`EXCLUDED`, in run order."""
    return [d for d in build_detectors(None) if d.name not in EXCLUDED]


def _order_canaries(rec: Mapping[str, str]) -> list[str]:
    """Wrong orders of the list or text a sort/reverse task gives: the text as given, its items
    reversed, and its items with the last two swapped (of the given order, its reverse and a
    swap of two, at most two are right for an ordering task on three or more distinct items;
    ``order_check`` also skips an answer that copies the given text). A single item (a word or
    string to reverse or alphabetise) gets its characters with the last two swapped instead.
    Surrounding quotes and brackets are dropped."""
    inp = (rec.get("input") or "").strip()
    inst = rec.get("instruction") or ""
    text = inp or (inst.rsplit(":", 1)[1].strip() if ":" in inst else "")
    text = text.strip().strip("\"'“”‘’[](){}").strip()
    if not text:
        return []
    sep = "\n" if "\n" in text else "," if "," in text else None
    items = [x.strip() for x in (text.split(sep) if sep else text.split()) if x.strip()]
    out = [text, ", ".join(reversed(items)), " ".join(reversed(items))]
    if len(items) >= 2:
        swapped = items[:-2] + [items[-1], items[-2]]
        out += [", ".join(swapped), " ".join(swapped)]
    elif len(text) >= 2:
        out.append(text[:-2] + text[-1] + text[-2])
    return out


def _fires(det: Detector, rec: Mapping[str, str], output: str) -> bool:
    return det.check({**rec, "output": output}) is not None


def computable_checkers(rec: Mapping[str, str], detectors: Sequence[Detector]) -> list[str]:
    """Names of the computable-answer checkers among ``detectors`` (``math_check``,
    ``computed_answer``, ``count_check``, ``order_check``) that determine the expected answer of
    ``rec``'s question: those that flag one of the wrong canary answers
    (:data:`COMPUTABLE_CANARIES` and :func:`_order_canaries`). Empty: no checker applies."""
    wanted = set(RATE_DETECTORS["wrong_computable"])
    canaries = list(COMPUTABLE_CANARIES) + _order_canaries(rec)
    return [d.name for d in detectors if d.name in wanted and any(_fires(d, rec, c) for c in canaries)]


def _applies(rec: Mapping[str, str], detectors: Sequence[Detector], flag: str, canary: str) -> bool:
    names = set(RATE_DETECTORS[flag])
    return any(_fires(d, rec, canary) for d in detectors if d.name in names)


def score_generations(records: Iterable[Mapping[str, Any]],
                      detectors: Sequence[Detector] | None = None) -> list[dict]:
    """Flags for each generation, in input order.

    ``records``: ``{"id", "instruction", "input", "output": the generation, "kind"}`` (``kind``
    is carried through, never used to score; an optional ``hit_max_new_tokens`` from
    :func:`curate.training.probes.generate_greedy` makes ``truncated`` None where the budget ended
    the generation, and is passed through as a flag). ``detectors``: default
    :func:`behaviour_detectors`. Returns one dict per record: ``id``, ``kind``, the
    :data:`FLAGS` (True, False or None, module docstring), ``hit_max_new_tokens`` when given,
    ``checks`` (detectors and :data:`GENERATION_RULES` that fired on the generation, in run
    order) and ``computable_checkers`` (:func:`computable_checkers`)."""
    records = [dict(r) for r in records]
    dets = list(detectors) if detectors is not None else behaviour_detectors()
    rows = [{"id": str(i), "instruction": r.get("instruction") or "", "input": r.get("input") or "",
             "output": r.get("output") or "", "source": "behaviour", "source_index": i, "meta": json.dumps({})}
            for i, r in enumerate(records)]
    fired: list[list[str]] = [[] for _ in records]
    if rows:
        ann, _ = detect(records_table(rows), None, dets)
        for i, name in zip(ann.column("id").to_pylist(), ann.column("check_name").to_pylist()):
            fired[int(i)].append(name)
    out = []
    for r, row, hits in zip(records, rows, fired):
        checks = hits + generation_rules(row["output"])
        got = set(checks)

        def any_of(flag: str) -> bool:
            return bool(got & set(RATE_DETECTORS[flag]))

        empty = any_of("empty_or_na")
        unseen = None
        if any_of("hallucinated_unseen") or _applies(row, dets, "hallucinated_unseen", UNSEEN_CANARY):
            unseen = any_of("hallucinated_unseen") and not empty
        checkers = computable_checkers(row, dets)
        wrong = any_of("wrong_computable") if checkers or any_of("wrong_computable") else None
        non_text = any_of("non_text_placeholder") if (
            any_of("non_text_placeholder") or _applies(row, dets, "non_text_placeholder", NON_TEXT_CANARY)) else None
        hit = r.get("hit_max_new_tokens")
        hit = None if hit is None else bool(hit)  # numpy / pandas booleans too
        flags: dict[str, Any] = {
            "id": r.get("id"), "kind": r.get("kind"),
            "hallucinated_unseen": unseen,
            "empty_or_na": empty,
            "merged_fragment": any_of("merged_fragment") or bool(got & set(GENERATION_RULES)),
            "truncated": None if hit else any_of("truncated"),
            "wrong_computable": wrong,
            "non_text_placeholder": non_text,
        }
        if hit is not None:
            flags["hit_max_new_tokens"] = hit
        flags["checks"] = checks
        flags["computable_checkers"] = checkers
        out.append(flags)
    return out
