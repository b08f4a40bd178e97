"""Behavioural probes (issue 12, item 4): held-out real instructions of the kinds cleaning targets,
greedy generation by a student, and rates with 95% Wilson intervals.

* :func:`select_probes` picks ``per_kind`` real Alpaca records of each kind in :data:`KINDS`
  (``url``, ``attachment``, ``visual``, ``computable``) by regular expressions on the
  **instruction and input only** (:func:`probe_kind`): never the output, and never the
  detectors, so the probe choice is independent of what scores it
  (:mod:`curate.detectors.behaviour`). The choice is seeded and deterministic (rank by
  ``sha256(f"{seed}:{id}")``) and depends only on the records and the parameters (no file I/O),
  so the caller can exclude the probe ids from every training arm.
* :func:`generate_greedy` answers records with the Alpaca prompt
  (:func:`curate.core.prompts.format_prompt`), greedy, in left-padded batches, and reports
  tokens/s.
* :func:`rate_summary` turns per-record boolean flags (None = not applicable) into rates with
  Wilson intervals (:func:`curate.core.stats.wilson`).

The patterns, the counts each kind has on the bundled real data and the rate definitions are in
docs/ablation.md. torch is imported inside :func:`generate_greedy` only.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from curate.core.progress import progress
from curate.core.prompts import format_prompt
from curate.core.stats import wilson

#: Probe kinds, in the order :func:`probe_kind` tries them (a record gets the first that matches).
KINDS = ("url", "attachment", "visual", "computable")

# ------------------------------------------------------------------------------ url
# A link (scheme or www., or a bare domain not part of an e-mail address) ...
_URL = re.compile(r"(?:https?://|www\.)[^\s)\]>\"']+"
                  r"|(?<![@\w.-])(?:[a-z0-9-]+\.)+(?:com|org|net|io|gov|edu|co\.uk|info)(?:/[^\s)\]>\"']*)?(?![\w@-])",
                  re.IGNORECASE)
# ... in a task about what is at the link (its page, article, picture), not about the link text.
_ABOUT_CONTENT = re.compile(
    r"\b(?:article|page|web\s*page|website|site|blog|post|video|clip|song|audio|podcast|photo\w*|picture|image|"
    r"painting|artwork|drawing|figure|shape|comic|bird|chart|graph|paper|document|pdf|report|dataset|data|news|"
    r"content|homepage|summar\w*|describe|description|review|analy[sz]\w*|read|watch|listen|key\s+points|"
    r"main\s+points|headline|title|caption|tweet|design|findings)\b", re.IGNORECASE)

# ------------------------------------------------------------------------------ attachment
_MEDIA = (r"(?:photo|photograph|picture|image|video|clip|audio|recording|painting|drawing|screenshot|chart|graph|"
          r"diagram|figure(?!\s+of\s+speech)|map|infographic|sketch|illustration|scan|gif)")
# A placeholder that stands for an attachment: <Photo>, <image of a beach>, [Insert Photo Here],
# (attached image), a Markdown image, "the attached photo", "file attached".
_PLACEHOLDER = re.compile(
    rf"""<\s*(?:(?:insert|attach(?:ed)?|link\s+to|an?|the)\s+)*(?:{_MEDIA}|img|file|attachment|link|url|pdf)\b[^<>]{{0,60}}>
      |[\[(]\s*(?:(?:attached|insert(?:ed)?|see)\s+)?(?:an?\s+)?(?:{_MEDIA}|file|pdf)s?\b[^\])]{{0,60}}[\])]
      |!\[[^\]]*\]\(
      |\battached\s+(?:{_MEDIA}|file|document|spreadsheet|pdf)s?\b
      |\b(?:{_MEDIA}|file|document|pdf)s?\s+(?:is\s+|are\s+)?attached\b""", re.IGNORECASE | re.VERBOSE)
# "this photo", "the following chart", "the painting below": counts only when the input is empty
# or itself a placeholder (otherwise the input may carry a description of it).
_MEDIA_REF = re.compile(rf"\b(?:this|these|the\s+(?:following|given|provided|above|below|attached))\s+{_MEDIA}s?\b"
                        rf"|\b{_MEDIA}s?\s+(?:below|above)\b", re.IGNORECASE)

# ------------------------------------------------------------------------------ visual
# The instruction asks for a picture, logo, chart, diagram ... (not a caption, title or
# description of one, before or after the noun, and not a "character sketch").
_VISUAL = re.compile(
    r"""^\s*(?:please\s+)?(?:
       (?:draw|paint|sketch)\b(?!\s+(?:a\s+)?(?:conclusion|comparison|parallel|inspiration|line\s+between)s?\b)
     | (?:create|generate|design|produce|make|render|build|construct|develop|prepare)\s+
       (?:(?:a|an|the|some|me|your|one|two|three|\d+)\s+)?
       (?:(?!(?:character|description|caption|title|name|slogan|story|poem|text|script|prompt|idea|concept|list|
               outline|summary|lyrics|headline)s?\b)[\w'-]+\s+){0,3}?
       (?:image|picture|photo(?:graph)?|drawing|painting|illustration|sketch|logo|icon|graphic|infographic|poster|
          flyer|banner|chart|graph|plot|diagram|flow\s*chart|mind\s*map|word\s*cloud|visuali[sz]ation|mock-?up|
          wire\s*frame|storyboard|comic\s+strip|meme|gif|animation|3D\s+model|collage)s?\b
       (?!\s+(?:caption|title|description|prompt|idea|concept|slogan|script|name|outline|algorithm|model|library|
              function|program)s?\b)
     | (?:plot|graph|chart|visuali[sz]e)\s+(?:the|this|a|these|following|given|my|our)\b)""",
    re.IGNORECASE | re.VERBOSE)

# ------------------------------------------------------------------------------ computable
_N = r"[-−]?\d+(?:,\d{3})*(?:\.\d+)?"
# A question whose answer follows from the text: arithmetic, counting, sorting, unit and date computations.
_COMPUTABLE = re.compile(
    rf"""(?<![\w./-]){_N}\s*(?:[+*/×÷^x]|\*\*)\s*\(?{_N}(?![\w/])                  # 12 * 7, 4/10, 8 x 5
       | (?<![\w./-]){_N}\s+[-−]\s+{_N}\b                                           # 14 - 6 (spaced: not a range)
       | \b(?:sum|product|average|mean|median|mode|range|difference|quotient|square\s+root|cube\s+root|factorial|
            remainder|gcd|lcm|greatest\s+common\s+(?:divisor|factor)|least\s+common\s+multiple|
            prime\s+factori[sz]ation)\s+(?:of|between)\b
       | \b{_N}\s*(?:%|percent)\s+of\b
       | \b{_N}\s+(?:plus|minus|times|divided\s+by|multiplied\s+by|squared|cubed|to\s+the\s+power)\b
       | \b(?:calculate|compute|solve|simplify)\b[^.?\n]{{0,60}}\d
       | \bhow\s+many\s+(?:words|letters|characters|vowels|consonants|sentences|times|items|elements|days|weeks)\b
       | \bcount\s+(?:the\s+)?(?:number\s+of\s+|total\s+number\s+of\s+)?(?:words|letters|characters|vowels|
            consonants|occurrences|sentences|items)\b
       | \b(?:number|total)\s+of\s+(?:words|letters|characters|vowels|consonants)\b
       | \b(?:word|character|letter)\s+count\b
       | \b(?:sort|alphabeti[sz]e|reverse)\b(?!\s+engineer)
       | \b(?:arrange|order|rank|list|put|rearrange)\b[^.\n]{{0,40}}\b(?:alphabetical|ascending|descending|numerical|
            increasing|decreasing)\b
       | \b(?:smallest|lowest|least)\s+to\s+(?:largest|highest|greatest)
       | \b(?:largest|highest|greatest)\s+to\s+(?:smallest|lowest|least)
       | \bconvert\b[^.\n]{{0,40}}\d
       | \b\d[\d.,]*\s*(?:°\s*)?[a-z]+\s+(?:to|into|in)\s+(?:degrees\s+)?(?:celsius|fahrenheit|kelvin|miles|kilometers|
            km|meters|feet|inches|centimeters|cm|pounds|kilograms|kg|grams|ounces|liters|gallons|cups|hours|minutes|
            seconds|days|weeks)\b
       | \bday\s+of\s+the\s+week\b
       | \b(?:days|weeks)\s+(?:are\s+there\s+)?(?:between|from|until)\b
       | \b(?:is|are)\s+{_N}\s+(?:a\s+)?(?:prime|even|odd)\b
       | \b(?:area|perimeter|circumference|volume)\s+of\b[^\n]{{0,80}}\d""",
    re.IGNORECASE | re.VERBOSE)
# Tasks that ask for code, an explanation or a text rather than one computed answer, and
# orderings or groupings that need knowledge rather than the text.
_NOT_COMPUTABLE = re.compile(
    r"\b(?:code|program|function|script|algorithm|pseudo-?code|implement\w*|python|java\w*|sql|c\+\+|regex|"
    r"formula|explain|describe|why|how\s+(?:to|do|does|can|would|should)|story|poem|essay|example|word\s+problem|"
    r"create|generate|design|compose|write|summar\w*|article|information|scale\s+of|groups?|categor\w*|steps)\b",
    re.IGNORECASE)
# Without a digit, a computable task must say what to count or order in a given text.
_TEXT_COMPUTATION = re.compile(r"\b(?:sort|alphabeti[sz]e|reverse|arrange|order|how\s+many|count|number\s+of|"
                               r"word\s+count)\b", re.IGNORECASE)
_DIGIT = re.compile(r"\d")


def probe_kind(record: Mapping[str, Any]) -> str | None:
    """The probe kind of a record, from its ``instruction`` and ``input`` only (never its
    output), or None. Tried in the order of :data:`KINDS`; the first match wins:

    * ``url``: a link (``http(s)://``, ``www.``, or a bare ``name.com``-style domain that is not
      part of an e-mail address) in the instruction or input, in a task about what is at the link
      (article, page, website, video, picture, summarise, describe, review, headline ...);
    * ``attachment``: an attachment placeholder (``<Photo>``, ``<image of a beach>``,
      ``[Insert Photo Here]``, ``(attached image)``, a Markdown image, "the attached photo",
      "file attached"), or "this/the following/the given photo, chart, painting, figure ..."
      ("figure of speech" excluded) when the input is empty or itself a placeholder;
    * ``visual``: the instruction starts by asking to draw/paint/sketch, or to create, design,
      generate ... an image, picture, logo, poster, chart, graph, diagram, infographic, word
      cloud, mock-up, animation ... (not its caption, title or description; not a "character
      sketch"), or to plot/chart/visualise the given data;
    * ``computable``: arithmetic (an expression such as ``12 * 7`` or ``14 - 6``, "the sum/
      product/average/median ... of", "15% of", "6 plus 2", calculate/compute/solve/simplify
      with a number), counting ("how many words/letters/vowels", "count the", "word count"),
      ordering (sort, alphabetise, reverse, ascending/descending, "smallest to largest"), unit
      conversions ("convert ... 4", "20 minutes into seconds"), dates ("day of the week",
      "days between"), number properties ("is 17 a prime"), geometry with numbers ("area of a
      circle with radius 5"); with a digit in the instruction or input unless the task counts
      or orders a given text; and not a task for code, an explanation, a story, a summary, a
      grouping or a rating scale.
    """
    inst, inp = record.get("instruction") or "", record.get("input") or ""
    text = f"{inst}\n{inp}"
    if _URL.search(text) and _ABOUT_CONTENT.search(inst):
        return "url"
    if _PLACEHOLDER.search(text) or (_MEDIA_REF.search(inst) and (not inp.strip() or _PLACEHOLDER.search(inp))):
        return "attachment"
    if _VISUAL.match(inst):
        return "visual"
    if (not _NOT_COMPUTABLE.search(inst) and (_DIGIT.search(text) or _TEXT_COMPUTATION.search(inst))
            and _COMPUTABLE.search(text)):
        return "computable"
    return None


def _rank(seed: int, rec_id: str) -> str:
    return hashlib.sha256(f"{seed}:{rec_id}".encode("utf-8")).hexdigest()


def kind_counts(records: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many of ``records`` :func:`probe_kind` assigns to each kind (every kind listed)."""
    counts = dict.fromkeys(KINDS, 0)
    for r in records:
        k = probe_kind(r)
        if k is not None:
            counts[k] += 1
    return counts


def select_probes(records: Iterable[Mapping[str, Any]], per_kind: int = 40, seed: int = 0,
                  strict: bool = True) -> list[dict]:
    """``per_kind`` records of each kind of :data:`KINDS` (default 40 each, 160 in all).

    ``records``: dicts with ``id``, ``instruction``, ``input`` (and usually ``output``,
    ``source``): the real Alpaca records. A record's kind is :func:`probe_kind` (instruction and
    input only, first match in :data:`KINDS` order, so kinds are disjoint). Within a kind the
    records are ranked by ``sha256(f"{seed}:{id}")`` (hex) and the first ``per_kind`` are
    taken, skipping a record whose (instruction, input) repeats one already taken. The result is
    a list of new dicts, grouped by kind in :data:`KINDS` order and by rank within a kind, each
    with the original record's fields and ``kind``. It depends only on ``records``, ``per_kind``
    and ``seed`` (no file I/O, no detectors; outputs are never read). Raises ``ValueError`` when
    a kind has fewer than ``per_kind`` records (with ``strict=False``: takes what there is), or a
    record has no ``id``."""
    if per_kind < 0:
        raise ValueError(f"per_kind must be >= 0, got {per_kind}")
    pools: dict[str, list[tuple[str, Mapping[str, Any]]]] = {k: [] for k in KINDS}
    for r in records:
        k = probe_kind(r)
        if k is None:
            continue
        if not r.get("id"):
            raise ValueError(f"record without an id: {str(r.get('instruction'))[:60]!r}")
        pools[k].append((_rank(seed, str(r["id"])), r))
    out: list[dict] = []
    for k in KINDS:
        chosen, prompts = [], set()
        for _, r in sorted(pools[k], key=lambda x: (x[0], str(x[1]["id"]))):
            if len(chosen) == per_kind:
                break
            prompt = (r.get("instruction") or "", r.get("input") or "")
            if prompt in prompts:
                continue
            prompts.add(prompt)
            chosen.append({**r, "kind": k})
        if len(chosen) < per_kind and strict:
            raise ValueError(f"probe kind {k!r}: only {len(chosen)} distinct records match, {per_kind} asked")
        out += chosen
    return out


# ------------------------------------------------------------------------------ generation


def for_generation(model, precision: str = "auto") -> tuple[Any, dict]:
    """``(model, info)``: ``model`` cast to bfloat16 when :func:`generation_precision` says bf16
    (``Module.to``, in place), else unchanged; ``info`` is that function's answer."""
    info = generation_precision(precision)
    if info["precision"] == "bf16":
        import torch

        model = model.to(torch.bfloat16)
    return model, info


def generation_precision(precision: str = "auto") -> dict:
    """The dtype greedy answers are generated in, from ``probes.precision``.

    ``fp32``: float32. ``bf16``: the weights cast to bfloat16. ``auto``: bf16 on a CUDA GPU that
    supports it or a CPU with native bf16 (AMX-BF16 / AVX512-BF16,
    :func:`curate.training.sft.cpu_bf16_flags`), else fp32: emulated bf16 is slower than fp32.
    On this project's 2-core AMX machine bf16 halves the generation time of the 412 answers
    (docs/ablation.md); the greedy text differs from fp32's in about half of them, so every
    model of a comparison must use the same precision (``curate compare`` checks it).
    TruthfulQA and the response loss are always scored in fp32 (lm-eval parity). Returns
    ``{"precision": "bf16" | "fp32", "why": str}``; raises ``ValueError`` for another value."""
    import torch

    from curate.training.sft import cpu_bf16_flags

    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    if precision != "auto":
        return {"precision": precision, "why": f"probes.precision: {precision}"}
    if torch.cuda.is_available():
        ok = torch.cuda.is_bf16_supported()
        return {"precision": "bf16" if ok else "fp32", "why": f"auto: CUDA {'with' if ok else 'without'} bf16"}
    flags = cpu_bf16_flags()
    if flags:
        return {"precision": "bf16", "why": f"auto: {'+'.join(flags)}"}
    return {"precision": "fp32", "why": "auto: no AMX-BF16/AVX512-BF16 on this CPU (bf16 would be emulated)"}


def generate_greedy(model, tokenizer, records: Sequence[Mapping[str, Any]], max_new_tokens: int = 128,
                    batch_size: int = 64, *, segment: int = 16, desc: str = "generate") -> tuple[list[dict], dict]:
    """Greedy answers of ``model`` to ``records`` (dicts with ``instruction`` and ``input``).

    Each record's prompt is the Alpaca prompt (:func:`curate.core.prompts.format_prompt`),
    tokenized as in training (``tokenizer(prompt)``). Prompts run longest first (stable) in
    left-padded batches of ``batch_size`` (pad id: the tokenizer's, else its EOS) on the model's
    device, with ``model.generate`` (``do_sample=False``, one beam, stopping at the tokenizer's
    EOS, under ``torch.inference_mode``) called for ``segment`` new tokens at a time: between
    calls the answers that ended (EOS, or ``max_new_tokens`` reached) leave the batch
    (``Cache.batch_select_indices``) and the rest continue from the returned KV cache. Without
    this a batch runs until its longest answer ends; on the 412 answers of the ablation
    (31% reach 128 tokens) it takes 220 s instead of 321 s in fp32, with the same text
    (docs/ablation.md). ``segment >= max_new_tokens`` is one plain ``generate`` call per batch.

    Returns ``(rows, stats)``: ``rows`` in the order of ``records``, each ``{"generation": the
    new tokens before EOS decoded with special tokens skipped and stripped, "new_tokens": tokens
    generated (the EOS included when emitted; padding after it not), "hit_max_new_tokens": no
    EOS within the budget (then new_tokens == max_new_tokens)}``; ``stats``: ``{"seconds": wall
    seconds inside generate, "new_tokens": their sum, "tokens_per_s": new_tokens / seconds, "n":
    len(records), "decode_steps": generate steps run, "row_steps": rows x steps computed}``. A
    progress bar labelled ``desc`` counts prompts (:mod:`curate.core.progress`). Raises
    ``ValueError`` for a tokenizer without an EOS token or a non-positive ``max_new_tokens`` /
    ``batch_size`` / ``segment``."""
    import torch

    if max_new_tokens < 1 or batch_size < 1 or segment < 1:
        raise ValueError(f"max_new_tokens, batch_size and segment must be >= 1, "
                         f"got {max_new_tokens}, {batch_size}, {segment}")
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("the tokenizer has no EOS token: generation could not stop")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    ids = [list(tokenizer(format_prompt(r))["input_ids"]) for r in records]
    order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
    new: dict[int, list[int]] = {}
    seconds, steps, row_steps = 0.0, 0, 0
    device = getattr(model, "device", None)
    with torch.inference_mode(), progress(total=len(order), desc=desc, unit="prompt") as bar:
        for b in range(0, len(order), batch_size):
            live = order[b: b + batch_size]
            width = max(len(ids[i]) for i in live)
            input_ids = torch.full((len(live), width), pad, dtype=torch.long)
            mask = torch.zeros((len(live), width), dtype=torch.long)
            for j, i in enumerate(live):
                n = len(ids[i])
                input_ids[j, width - n:] = torch.tensor(ids[i], dtype=torch.long)
                mask[j, width - n:] = 1
                new[i] = []
            if device is not None:  # a model on a GPU takes its inputs there
                input_ids, mask = input_ids.to(device), mask.to(device)
            cache = None
            while live:
                t0 = time.perf_counter()
                out = model.generate(input_ids=input_ids, attention_mask=mask, past_key_values=cache,
                                     do_sample=False, num_beams=1,
                                     max_new_tokens=min(segment, max_new_tokens - len(new[live[0]])),
                                     eos_token_id=eos, pad_token_id=pad, temperature=None, top_p=None, top_k=None,
                                     return_dict_in_generate=True)
                seconds += time.perf_counter() - t0
                gen = out.sequences[:, input_ids.shape[1]:]
                steps += gen.shape[1]
                row_steps += gen.shape[1] * len(live)
                keep = []
                for j, i in enumerate(live):
                    g = gen[j].tolist()
                    if eos in g:
                        new[i] += g[: g.index(eos) + 1]
                    else:
                        new[i] += g
                        if len(new[i]) < max_new_tokens:
                            keep.append(j)
                bar.update(len(live) - len(keep))
                if not keep:
                    break
                sel = torch.tensor(keep, device=out.sequences.device)
                cache = out.past_key_values
                cache.batch_select_indices(sel)  # the ended rows leave the KV cache ...
                input_ids = out.sequences[sel]   # ... and the batch; the rest continue
                mask = torch.cat([mask[sel], torch.ones((len(keep), gen.shape[1]), dtype=mask.dtype,
                                                        device=mask.device)], 1)
                live = [live[j] for j in keep]
    rows, total = [], 0
    for i in range(len(ids)):
        g = new[i]
        hit = eos not in g
        text = tokenizer.decode(g if hit else g[:-1], skip_special_tokens=True).strip()
        rows.append({"generation": text, "new_tokens": len(g), "hit_max_new_tokens": hit})
        total += len(g)
    stats = {"seconds": round(seconds, 3), "new_tokens": total,
             "tokens_per_s": round(total / seconds, 2) if seconds > 0 else 0.0, "n": len(ids),
             "decode_steps": steps, "row_steps": row_steps}
    return rows, stats


# ------------------------------------------------------------------------------ rates


def rate_summary(flags: Iterable[Mapping[str, Any]]) -> dict[str, dict]:
    """Per rate name: ``{"k": records where it is True, "n": records where it is not None,
    "rate": k / n (4 decimals; None when n = 0), "ci95": [lo, hi] (the 95% Wilson interval,
    :func:`curate.core.stats.wilson`, 4 decimals; [None, None] when n = 0)}``.

    ``flags``: one mapping per record, rate name -> True, False or None (not applicable). Keys
    whose value is neither a bool (Python or numpy) nor None (an id, a list of checks) are
    ignored, so the rows of :func:`curate.detectors.behaviour.score_generations` can be passed
    as they are. Names keep the order in which they first appear."""
    k: dict[str, int] = {}
    n: dict[str, int] = {}
    for row in flags:
        for name, v in row.items():
            if v is None:
                k.setdefault(name, 0)
                n.setdefault(name, 0)
            elif isinstance(v, (bool, np.bool_)):  # numpy booleans (a pandas / Arrow column) too
                v = bool(v)
                k[name] = k.get(name, 0) + v
                n[name] = n.get(name, 0) + 1
    return {name: {"k": k[name], "n": n[name], "rate": round(k[name] / n[name], 4) if n[name] else None,
                   "ci95": [None if x is None else round(x, 4) for x in wilson(k[name], n[name])]}
            for name in k}
