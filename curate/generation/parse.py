"""Parse a teacher's completion into tasks, with Alpaca's filters and a reason for every drop.

Source: tatsu-lab/stanford_alpaca ``generate_instruction.py`` (``post_process_gpt3_response``,
``find_word_in_string``, the ``stop`` list of ``generate_instruction_following_data``).

The completion continues a prompt that ends ``###\\n4. Instruction:`` (3 demonstrations), so
Alpaca prefixes ``"4. Instruction:"``, splits on ``###`` and expects chunk ``k`` (0-based) to
split into exactly 7 parts on ``"{k+4}.\\s+(Instruction|Input|Output):"``.

Deliberate differences from Alpaca (all documented in docs/generation.md):

* every dropped chunk yields a rejection ``{"reason", "detail", "position", "text"}``
  (datatrove style) instead of vanishing; the accepted tasks are exactly Alpaca's;
* ``repeated_header`` (default on for the chat endpoint): a chat model often restates the
  header it was asked to continue (``"4. Instruction: ..."``); Alpaca would prefix a second
  header and lose the task as malformed, we do not prefix it twice;
* :data:`STOP_SEQUENCES` replace Alpaca's ``["\\n20", "20.", "20."]``.
"""

from __future__ import annotations

import re
import string
from typing import Sequence

#: Alpaca's keyword blacklist (instructions a text-only model cannot follow).
BLACKLIST = (
    "image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
    "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram",
)

#: Rejection reasons :func:`parse_response` can give, in the order Alpaca checks them.
REASONS = (
    "truncated",  # last chunk of a completion that stopped for length
    "empty",  # chunk with no text (e.g. after the final ###)
    "malformed",  # does not split into Instruction/Input/Output with the expected number
    "too_short",  # <= 3 words
    "too_long",  # > 150 words
    "blacklist",  # a blacklisted word (detail: the word)
    "write_a_program",  # starts with "Write a program"
    "starts_with_punctuation",
    "non_ascii_start",
)

#: Number of the task at which the teacher must stop: the prompt asks for 20 tasks.
LAST_TASK = 20


def stop_sequences(last_task: int = LAST_TASK) -> list[str]:
    """Stop sequences that end a completion when the teacher starts task ``last_task``
    (default 20): ``["###\\n20.", "\\n20. Instruction:"]``.

    Why not Alpaca's ``["\\n20", "20.", "20."]``: ``"20."`` occurs inside ordinary text —
    ``"October 31, 2020."`` is cut to ``"October 31, 20"`` (the bundled real Alpaca data holds
    such truncated outputs) and so is ``"costs $20."`` — and ``"\\n20"`` cuts any output line
    that starts with 20 (``"\\n2023 was ..."``, ``"\\n20 minutes"``). Ours only match the task
    header the prompt format produces (``###`` line, then ``20.``) or a header line
    ``20. Instruction:`` when the teacher drops the ``###``. The number of tasks per request is
    unchanged (tasks 4..19 with 3 demonstrations). At most 4 stops are allowed by the OpenAI
    API; we use 2."""
    return [f"###\n{last_task}.", f"\n{last_task}. Instruction:"]


#: Default stops, see :func:`stop_sequences`.
STOP_SEQUENCES = stop_sequences()

#: Alpaca's original stops, kept for reference and for the comparison test.
ALPACA_STOP_SEQUENCES = ["\n20", "20.", "20."]


def apply_stop(text: str, stops: Sequence[str]) -> str:
    """What a server returns for ``text`` with stop sequences ``stops``: the text up to (not
    including) the earliest occurrence of any stop. Used by tests and the fake server."""
    cut = len(text)
    for s in stops:
        k = text.find(s)
        if k != -1:
            cut = min(cut, k)
    return text[:cut]


def find_word_in_string(word: str, text: str) -> re.Match | None:
    """Alpaca's ``find_word_in_string``: ``word`` as a whole word (``\\b`` boundaries),
    case-insensitive. Returns the match or None."""
    return re.compile(r"\b({0})\b".format(word), flags=re.IGNORECASE).search(text)


def check_instruction(inst: str, blacklist: Sequence[str] = BLACKLIST) -> tuple[str, str] | None:
    """Alpaca's instruction filters in Alpaca's order. Returns ``(reason, detail)`` for the
    first filter that drops ``inst`` (reasons from :data:`REASONS`), or None to keep it."""
    n_words = len(inst.split())
    if n_words <= 3:
        return "too_short", f"{n_words} words"
    if n_words > 150:
        return "too_long", f"{n_words} words"
    for word in blacklist:
        if find_word_in_string(word, inst):
            return "blacklist", word
    if inst.startswith("Write a program"):
        return "write_a_program", ""
    if inst[0] in string.punctuation:
        return "starts_with_punctuation", inst[0]
    if not inst[0].isascii():
        return "non_ascii_start", inst[0]
    return None


def parse_response(text: str, finish_reason: str | None, num_prompt_instructions: int = 3,
                   repeated_header: bool = False,
                   blacklist: Sequence[str] = BLACKLIST) -> tuple[list[dict], list[dict]]:
    """Split one completion into tasks, Alpaca's ``post_process_gpt3_response`` plus reasons.

    ``text``: the completion (without the prompt); ``finish_reason``: the API's
    (``"stop"``, ``"length"``, ...); ``num_prompt_instructions``: demonstrations in the prompt
    (the completion's first task is number ``num_prompt_instructions + 1``);
    ``repeated_header``: if the text (left-stripped) already starts with that task's
    ``"N. Instruction:"`` header, do not prefix it again (chat models restate it).

    Returns ``(accepted, rejected)``: ``accepted`` is a list of
    ``{"instruction", "input", "output", "position"}`` (``input`` is ``""`` for
    ``<noinput>``; ``position`` is the task number in the completion), identical in content
    and order to Alpaca's output; ``rejected`` is a list of
    ``{"reason", "detail", "position", "text"}`` with ``reason`` in :data:`REASONS` and
    ``text`` the instruction (or the raw chunk when it did not parse). Never raises for any
    string input."""
    first = num_prompt_instructions + 1
    header = f"{first}. Instruction:"
    body = text or ""
    if repeated_header and body.lstrip().startswith(header):
        body = body.lstrip()[len(header):]
    chunks = re.split("###", header + body)
    accepted: list[dict] = []
    rejected: list[dict] = []
    for k, chunk in enumerate(chunks):
        idx = k + first
        if k == len(chunks) - 1 and finish_reason == "length":
            rejected.append({"reason": "truncated", "detail": "finish_reason=length",
                             "position": idx, "text": chunk})
            continue
        parts = re.split(rf"{idx}\.\s+(Instruction|Input|Output):", chunk)
        if len(parts) != 7:
            reason = "empty" if not chunk.strip() else "malformed"
            rejected.append({"reason": reason, "detail": f"{len(parts)} parts, expected 7",
                             "position": idx, "text": chunk})
            continue
        inst = parts[2].strip()
        inp = parts[4].strip()
        inp = "" if inp.lower() == "<noinput>" else inp
        out = parts[6].strip()
        why = check_instruction(inst, blacklist)
        if why is not None:
            rejected.append({"reason": why[0], "detail": why[1], "position": idx, "text": inst})
            continue
        accepted.append({"instruction": inst, "input": inp, "output": out, "position": idx})
    return accepted, rejected


_LABEL = re.compile(r"(?m)(?:^|(?<=\s))(\d{1,2})\.\s*(Instruction|Input|Output)\s*:")


def parse_response_lenient(text: str, finish_reason: str | None, num_prompt_instructions: int = 3,
                           repeated_header: bool = False,
                           blacklist: Sequence[str] = BLACKLIST) -> tuple[list[dict], list[dict]]:
    """A tolerant parser for weak teachers (``generate.parser: lenient``; the local default).

    A 135M local model keeps Alpaca's ``N. Instruction: / N. Input: / N. Output:`` labels but
    often drops the ``###`` separators and misnumbers tasks, so :func:`parse_response` rejects
    nearly everything as malformed. This parser reads the labels in order, ignoring numbers and
    ``###``: an ``Instruction`` label starts a task, ``Input`` sets its input (``<noinput>`` ->
    ``""``), ``Output`` completes it. A task that never gets an output is rejected as
    ``malformed``; when the completion stopped for length the last task is rejected as
    ``truncated``. The same instruction filters as Alpaca then apply (:func:`check_instruction`).
    Returns the same ``(accepted, rejected)`` shapes as :func:`parse_response`; never raises."""
    first = num_prompt_instructions + 1
    header = f"{first}. Instruction:"
    body = text or ""
    if repeated_header and body.lstrip().startswith(header):
        body = body.lstrip()[len(header):]
    full = header + body
    marks = list(_LABEL.finditer(full))
    tasks: list[dict] = []
    cur: dict | None = None
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(full)
        value = re.sub(r"(?m)^\s*#+\s*$", "", full[m.end():end]).strip().strip("#").strip()
        label = m.group(2)
        if label == "Instruction":
            if cur is not None:
                tasks.append(cur)
            cur = {"instruction": value, "input": "", "output": None, "position": int(m.group(1))}
        elif cur is not None and label == "Input" and cur["output"] is None:
            cur["input"] = "" if value.lower() == "<noinput>" else value
        elif cur is not None and label == "Output" and cur["output"] is None:
            cur["output"] = value
            tasks.append(cur)
            cur = None
    if cur is not None:
        tasks.append(cur)
    accepted: list[dict] = []
    rejected: list[dict] = []
    for k, t in enumerate(tasks):
        if k == len(tasks) - 1 and finish_reason == "length":
            rejected.append({"reason": "truncated", "detail": "finish_reason=length",
                             "position": t["position"], "text": t["instruction"]})
            continue
        if not t["instruction"] and not t["output"]:
            rejected.append({"reason": "empty", "detail": "no labelled task", "position": t["position"], "text": ""})
            continue
        if t["output"] is None or not t["output"] or not t["instruction"]:
            detail = "no output" if t["output"] is None else "empty output" if not t["output"] else "empty instruction"
            rejected.append({"reason": "malformed", "detail": detail, "position": t["position"], "text": t["instruction"]})
            continue
        why = check_instruction(t["instruction"], blacklist)
        if why is not None:
            rejected.append({"reason": why[0], "detail": why[1], "position": t["position"], "text": t["instruction"]})
            continue
        accepted.append(t)
    return accepted, rejected
