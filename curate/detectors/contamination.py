"""Decontamination: records that contain items of the evaluation sets the students are scored on
(TruthfulQA v1 and its January 2025 revision, the self-instruct 252 user-oriented instructions).
Training on an evaluation item inflates its score, so such records are dropped by policy.

Two tests, both on a normalised word sequence (casefolded ``\\w+`` runs, so case, punctuation
and whitespace do not matter):

* **exact match**: the record's instruction, input or instruction + input equals an evaluation
  prompt (a TruthfulQA question; a user-oriented instruction, input or instruction + input) of at
  least ``min_exact_words`` words (shorter ones, such as "Apple", are everywhere);
* **long n-gram overlap**: a word ``n``-gram (default 13) of the record's instruction + input or
  output occurs in any evaluation text (questions, every correct and incorrect answer,
  instructions, inputs and outputs). 13-grams are GPT-3's test (Brown et al. 2020, arXiv:2005.14165,
  Appendix C); datatrove's ``NGramsDecontFilter`` uses the same idea with 12-grams of the eval
  answers and prompts. Texts shorter than ``n`` words can only match exactly.

``score`` = the share of the record text's ``n``-grams that occur in an evaluation set (1.0 for
an exact match). :meth:`Contamination.metrics` counts the flagged records per evaluation set.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

from curate.core.errors import CurateError
from curate.core.text import quote
from curate.detectors.registry import Detector, Finding, register

_DATA = Path(__file__).resolve().parents[2] / "data" / "eval"
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Casefolded word tokens (``\\w+`` runs): "What's  THE time?" -> ['what', 's', 'the', 'time']."""
    return _WORD.findall(text.casefold())


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    """The set of word ``n``-grams of ``tokens`` (empty when there are fewer than ``n``)."""
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def read_truthfulqa_csv(path: str | Path) -> tuple[list[str], list[str]]:
    """``(questions, answers)`` of a TruthfulQA CSV (v1 or 2025: columns ``Question``, ``Best
    Answer``, ``Correct Answers``, ``Incorrect Answers``, answers separated by ``; ``). Raises
    :class:`CurateError` naming the file when it is missing or lacks those columns."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise CurateError(f"{path}: cannot read the TruthfulQA file ({e.strerror})") from None
    if not rows or "Question" not in rows[0]:
        raise CurateError(f"{path}: not a TruthfulQA CSV (no 'Question' column)")
    questions, answers = [], []
    for r in rows:
        questions.append(r["Question"])
        for col in ("Best Answer", "Best Incorrect Answer", "Correct Answers", "Incorrect Answers"):
            answers += [a.strip() for a in (r.get(col) or "").split(";") if a.strip()]
    return questions, answers


def read_user_oriented(path: str | Path) -> tuple[list[str], list[str]]:
    """``(prompts, other texts)`` of the self-instruct user-oriented JSONL: prompts are each
    instruction, each instance input and instruction + input; other texts the instance outputs.
    Raises :class:`CurateError` naming the file and line for a missing file or a bad line."""
    prompts, others = [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise CurateError(f"{path}: cannot read the user-oriented file ({e.strerror})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            inst = item["instruction"]
            instances = item.get("instances") or []
        except (json.JSONDecodeError, KeyError, TypeError):
            raise CurateError(f"{path}: line {n}: not a user-oriented item (instruction, instances)") from None
        prompts.append(inst)
        for x in instances:
            inp = x.get("input") or ""
            if inp:
                prompts += [inp, f"{inst} {inp}"]
            if x.get("output"):
                others.append(x["output"])
    return prompts, others


@register("contamination", category="contamination", order=5, score="overlap",
          summary=("instruction/input equal to a TruthfulQA (v1, 2025) question or a user-oriented instruction, or a "
                   "13-word n-gram shared with any of their texts (GPT-3's decontamination test)"))
class Contamination(Detector):
    """Records that overlap an evaluation set (module docstring). Constructor: the three files
    (``paths.truthfulqa_v1_csv``, ``paths.truthfulqa_2025_csv``, ``paths.user_oriented``;
    defaults: the shipped copies in ``data/eval/``), ``ngram`` (words per n-gram, default 13) and
    ``min_exact_words`` (shortest prompt matched exactly, default 5). Raises :class:`CurateError`
    for an unreadable file. Not flagged: a shared n-gram shorter than ``ngram`` words; an exact
    match to a prompt shorter than ``min_exact_words`` words; an output equal to a short
    TruthfulQA answer ("Nothing happens." is an ordinary answer)."""

    files = {"truthfulqa_v1": "truthfulqa_v1_csv", "truthfulqa_2025": "truthfulqa_2025_csv",
             "user_oriented": "user_oriented"}
    # Planted and real overlaps are what the record is: an evaluation item (tests/detectors/test_contamination.py).
    confidence = 0.9

    def __init__(self, truthfulqa_v1: str | Path | None = None, truthfulqa_2025: str | Path | None = None,
                 user_oriented: str | Path | None = None, ngram: int = 13, min_exact_words: int = 5) -> None:
        self.n = int(ngram)
        self.min_exact_words = int(min_exact_words)
        self.exact: dict[str, str] = {}                      # normalised prompt -> eval set
        self.grams: dict[tuple[str, ...], str] = {}          # n-gram -> eval set
        self.flagged: Counter = Counter()
        sets = {"truthfulqa_v1": read_truthfulqa_csv(truthfulqa_v1 or _DATA / "truthfulqa_v1_817.csv"),
                "truthfulqa_2025": read_truthfulqa_csv(truthfulqa_2025 or _DATA / "truthfulqa_2025_790.csv"),
                "user_oriented": read_user_oriented(user_oriented or _DATA / "self_instruct_user_oriented_instructions.jsonl")}
        for name, (prompts, others) in sets.items():
            self._add(name, prompts, others)

    def _add(self, name: str, prompts: Iterable[str], others: Iterable[str]) -> None:
        for text in prompts:
            w = words(text)
            if len(w) >= self.min_exact_words:
                self.exact.setdefault(" ".join(w), name)
            for g in ngrams(w, self.n):
                self.grams.setdefault(g, name)
        for text in others:
            for g in ngrams(words(text), self.n):
                self.grams.setdefault(g, name)

    def check(self, rec: Mapping[str, str]) -> Finding | None:
        inst, inp, out = words(rec["instruction"]), words(rec["input"]), words(rec["output"])
        for field, w in (("instruction", inst), ("input", inp), ("instruction + input", inst + inp)):
            hit = self.exact.get(" ".join(w)) if w else None
            if hit:
                self.flagged[hit] += 1
                return Finding(1.0, f"{field} equals an item of {hit}: "
                                    f"{quote(rec['instruction'] + (' ' + rec['input'] if rec['input'] else ''), 80)}")
        for field, w in (("instruction + input", inst + inp), ("output", out)):
            grams = ngrams(w, self.n)
            shared = [g for g in grams if g in self.grams]
            if shared:
                first = min(shared, key=lambda g: (self.grams[g], g))
                hit = self.grams[first]
                self.flagged[hit] += 1
                return Finding(len(shared) / len(grams),
                               f"{field} shares {len(shared)} of its {len(grams)} {self.n}-word n-grams with "
                               f"{hit}, e.g. {quote(' '.join(first), 90)}")
        return None

    def metrics(self) -> dict:
        """Flagged records per evaluation set (each record counts once, for its first match)."""
        return {"flagged_by_eval_set": dict(sorted(self.flagged.items())), "ngram": self.n,
                "eval_prompts_exact": len(self.exact), "eval_ngrams": len(self.grams)}

    @classmethod
    def merge_metrics(cls, parts):
        """Counts summed over the parts; the n-gram size and index sizes are settings, the same in each."""
        if not parts:
            return {}
        flagged = Counter()
        for p in parts:
            flagged.update(p["flagged_by_eval_set"])
        return {**parts[0], "flagged_by_eval_set": dict(sorted(flagged.items()))}
