"""Log-likelihood of a continuation given a context, as lm-evaluation-harness scores
multiple-choice tasks (TruthfulQA MC1/MC2 in :mod:`curate.training.evaluate`).

Tokenisation follows lm-evaluation-harness ``_encode_pair`` (:func:`encode_pair`): trailing
spaces of the context move to the continuation, then ``context`` and ``context +
continuation`` are tokenized (no special tokens) and the continuation tokens are the tail of
the second after ``len(context tokens)``; the model sees ``context tokens + continuation
tokens``. A request's score is the *total* log-probability (natural log) of its continuation
tokens, not length-normalised.

:func:`loglikelihood_naive` runs one full forward pass per request (the reference);
:func:`loglikelihood_cached` gives the same numbers (within float rounding, checked to 1e-4 by
the tests) while sharing the forward passes of common prefixes through the KV cache (every
TruthfulQA context starts with the same primer) and packing every choice of a question into
one row after their shared context, kept apart by a 4D attention mask. torch is imported
inside the functions.
"""

from __future__ import annotations

import copy
from typing import Sequence

from curate.core.progress import progress


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context token ids, continuation token ids) as lm-evaluation-harness ``_encode_pair``."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"]
    return list(ctx), list(whole[len(ctx):])


def _check_requests(requests: Sequence[tuple[list[int], list[int]]]) -> None:
    for i, (ctx, cont) in enumerate(requests):
        if not ctx or not cont:
            raise ValueError(f"request {i}: context and continuation must both be non-empty")


def _continuation_logprob(logits, targets):
    """Sum of log-softmax(logits)[t, targets[t]]; logits [n, V], targets [n] -> float."""
    import torch

    logp = torch.log_softmax(logits.float(), dim=-1)
    return float(logp.gather(-1, targets[:, None]).sum())


def loglikelihood_naive(model, requests: Sequence[tuple[list[int], list[int]]], batch_size: int = 16) -> list[float]:
    """Total log-prob (nats) of each continuation given its context, one full forward per row.

    ``requests``: list of (context ids, continuation ids), both non-empty. Rows are
    right-padded into batches of ``batch_size``. The reference implementation for
    :func:`loglikelihood_cached`. Raises ``ValueError`` on an empty context or continuation.
    """
    import torch

    _check_requests(requests)
    out = [0.0] * len(requests)
    order = sorted(range(len(requests)), key=lambda i: -(len(requests[i][0]) + len(requests[i][1])))
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            rows = [requests[i][0] + requests[i][1] for i in idx]
            L = max(len(r) for r in rows)
            ids = torch.zeros((len(rows), L), dtype=torch.long)
            mask = torch.zeros((len(rows), L), dtype=torch.long)
            for j, r in enumerate(rows):
                ids[j, : len(r)] = torch.tensor(r)
                mask[j, : len(r)] = 1
            logits = model(input_ids=ids, attention_mask=mask).logits  # [B, L, V]
            for j, i in enumerate(idx):
                n_ctx, n_cont = len(requests[i][0]), len(requests[i][1])
                # token at position t is predicted by logits at t-1
                out[i] = _continuation_logprob(logits[j, n_ctx - 1 : n_ctx + n_cont - 1], ids[j, n_ctx : n_ctx + n_cont])
    return out


def common_prefix_length(seqs: Sequence[Sequence[int]]) -> int:
    """Length of the longest common prefix of the token sequences (0 if ``seqs`` is empty)."""
    if not seqs:
        return 0
    n = min(len(s) for s in seqs)
    first = seqs[0]
    for k in range(n):
        t = first[k]
        if any(s[k] != t for s in seqs):
            return k
    return n


def _logprobs_at(model, hidden, rows_pos, targets):
    """Log-probs [N] of ``targets`` (N token ids) from ``hidden`` [B, L, H] at N (row, position)
    pairs.

    Applies the output embedding only at the needed positions (saves the 49k-way ``lm_head``
    on context and padding tokens). Valid for models whose logits are ``lm_head(hidden)``
    (Llama family; checked against the full forward in the tests).
    """
    import torch

    r = torch.tensor([a for a, _ in rows_pos])
    t = torch.tensor([b for _, b in rows_pos])
    logits = model.get_output_embeddings()(hidden[r, t]).float()  # [N, V]
    return torch.log_softmax(logits, dim=-1).gather(-1, torch.tensor(targets)[:, None])[:, 0]


def _chunks(requests: Sequence[tuple[list[int], list[int]]], P: int,
            batch_size: int) -> tuple[dict[tuple, list[int]], list[list[tuple]]]:
    """``(groups, chunks)``: request indices grouped by context tail ``context[P:]``, and the
    tails (shortest first) cut into chunks of at most ``batch_size`` continuations (a group
    is never split; a group larger than ``batch_size`` is a chunk of its own)."""
    groups: dict[tuple, list[int]] = {}
    for i, (ctx, _) in enumerate(requests):
        groups.setdefault(tuple(ctx[P:]), []).append(i)
    chunks, cur, n_cur = [], [], 0
    for c in sorted(groups, key=len):
        if cur and n_cur + len(groups[c]) > batch_size:
            chunks.append(cur)
            cur, n_cur = [], 0
        cur.append(c)
        n_cur += len(groups[c])
    chunks.append(cur)
    return groups, chunks


#: Default of :func:`length_pieces`: a continuation shorter than half its piece's longest starts
#: a new piece. On TruthfulQA (6,204 choices) this cuts the padded continuation tokens from
#: 141K to 95K for 68K real ones; 200 questions score in 50 s instead of 60 (docs/ablation.md).
PIECE_RATIO = 0.5


def _right_padded(rows: Sequence[Sequence[int]]):
    """``(ids, mask)`` int64 tensors [len(rows), longest row], right-padded with 0."""
    import torch

    ids = torch.zeros((len(rows), max(len(r) for r in rows)), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for j, r in enumerate(rows):
        ids[j, : len(r)] = torch.tensor(r)
        mask[j, : len(r)] = 1
    return ids, mask


def length_pieces(lengths: Sequence[int], ratio: float = PIECE_RATIO) -> list[list[int]]:
    """Indices into ``lengths`` sorted longest first (stable) and cut into pieces: a new piece
    starts at the first length below ``ratio`` x the longest of the current piece, so padding
    a piece to its longest row at most ``1 / ratio``-folds a row. ``ratio`` 0: one piece."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    pieces: list[list[int]] = []
    for i in order:
        if not pieces or lengths[i] < ratio * lengths[pieces[-1][0]]:
            pieces.append([])
        pieces[-1].append(i)
    return pieces


def _score_chunk(model, decoder, prefix_cache, P: int, chunk: list[tuple], groups: dict,
                 requests: Sequence[tuple[list[int], list[int]]], out: list[float], piece_ratio: float) -> None:
    """Levels 2 and 3 of :func:`loglikelihood_cached` for one chunk of context tails; writes
    the total log-prob of each of the chunk's requests into ``out``."""
    import torch
    from transformers import DynamicCache

    # level 2: context tails [Bq, Lq] against the shared prefix
    Bq = len(chunk)
    q_ids, q_mask = _right_padded(chunk)
    Lq = q_ids.shape[1]
    cache = copy.deepcopy(prefix_cache)
    cache.batch_repeat_interleave(Bq)
    q_out = decoder(
        input_ids=q_ids,
        attention_mask=torch.cat([torch.ones((Bq, P), dtype=torch.long), q_mask], 1),
        position_ids=torch.arange(P, P + Lq)[None, :].expand(Bq, Lq),
        past_key_values=cache,
        use_cache=True,
    )
    kv = [(layer.keys, layer.values) for layer in cache.layers]  # [Bq, heads, P + Lq, head_dim] each
    q_len = q_mask.sum(1)  # [Bq] real tail lengths
    rows_all = [(j, i) for j, c in enumerate(chunk) for i in groups[c]]
    # level 3, in pieces of similar continuation length (right-padding a 2-token choice to a
    # 40-token one doubled the work): continuations [Bc, Lc] against their context's cache
    for piece in length_pieces([len(requests[i][1]) for _, i in rows_all], piece_ratio):
        rows = [rows_all[k] for k in piece]
        Bc = len(rows)
        c_ids, c_mask = _right_padded([requests[i][1] for _, i in rows])
        Lc = c_ids.shape[1]
        sel = torch.tensor([j for j, _ in rows])
        c_out = decoder(
            input_ids=c_ids,
            attention_mask=torch.cat([torch.ones((Bc, P), dtype=torch.long), q_mask[sel], c_mask], 1),
            position_ids=(P + q_len[sel])[:, None] + torch.arange(Lc)[None, :],
            past_key_values=DynamicCache(ddp_cache_data=[(k[sel], v[sel]) for k, v in kv]),
            use_cache=False,
        )
        # first continuation token: from the last real context token (level 2 output)
        first = _logprobs_at(model, q_out.last_hidden_state,
                             [(j, len(chunk[j]) - 1) for j, _ in rows], [requests[i][1][0] for _, i in rows])
        # later tokens t >= 1: from continuation output at t - 1
        pos = [(r, t - 1) for r, (_, i) in enumerate(rows) for t in range(1, len(requests[i][1]))]
        tgt = [requests[i][1][t] for _, i in rows for t in range(1, len(requests[i][1]))]
        rest = _logprobs_at(model, c_out.last_hidden_state, pos, tgt) if pos else torch.zeros(0)
        k = 0
        for r, (_, i) in enumerate(rows):
            n = len(requests[i][1]) - 1
            out[i] = float(first[r]) + float(rest[k : k + n].sum())
            k += n


def _packed_rows(P: int, tails: Sequence[tuple], groups: dict,
                 requests: Sequence[tuple[list[int], list[int]]]):
    """``(ids, position_ids, mask, score_at)`` of one batch of :func:`loglikelihood_cached`'s
    packed rows: row j = ``tails[j]`` followed by the continuations of all its requests.

    ``ids``, ``position_ids`` [B, L] int64 (right-padded); ``mask`` [B, L, P + L] bool: query
    position q of a row sees the P prefix tokens, and row position k <= q when k is in the
    context tail or in q's own continuation (padding sees the prefix only). ``score_at``: per
    request index, the (row, position) pairs whose outputs predict its continuation tokens."""
    import torch

    B = len(tails)
    L = max(len(c) + sum(len(requests[i][1]) for i in groups[c]) for c in tails)
    ids = torch.zeros((B, L), dtype=torch.long)
    pos = torch.full((B, L), P, dtype=torch.long)
    seg = torch.full((B, L), -1, dtype=torch.long)  # -1 padding, 0 context tail, k + 1 continuation k
    score_at: dict[int, list[tuple[int, int]]] = {}
    for j, c in enumerate(tails):
        n = len(c)
        ids[j, :n] = torch.tensor(c)
        pos[j, :n] = torch.arange(P, P + n)
        seg[j, :n] = 0
        start = n
        for k, i in enumerate(groups[c]):
            cont = requests[i][1]
            m = len(cont)
            ids[j, start : start + m] = torch.tensor(cont)
            pos[j, start : start + m] = torch.arange(P + n, P + n + m)  # each choice right after the context
            seg[j, start : start + m] = k + 1
            # token 0 is predicted by the last context token, token t > 0 by the choice's own t - 1
            score_at[i] = [(j, n - 1)] + [(j, start + t - 1) for t in range(1, m)]
            start += m
    sq, sk = seg[:, :, None], seg[:, None, :]
    seen = torch.tril(torch.ones((L, L), dtype=torch.bool)) & (sk != -1) & (sq != -1) & ((sk == 0) | (sk == sq))
    mask = torch.cat([torch.ones((B, L, P), dtype=torch.bool), seen], -1)
    return ids, pos, mask, score_at


def _score_packed(model, decoder, prefix_kv, P: int, tails: list[tuple], groups: dict,
                  requests: Sequence[tuple[list[int], list[int]]], out: list[float]) -> None:
    """One forward pass over packed rows (:func:`_packed_rows`) against the prefix cache;
    writes the total log-prob of each of the batch's requests into ``out``."""
    import torch
    from transformers import DynamicCache

    ids, pos, seen, score_at = _packed_rows(P, tails, groups, requests)
    B = ids.shape[0]
    dtype = model.get_output_embeddings().weight.dtype
    # additive float mask (0 seen, dtype min hidden): the 4D form every attention backend takes as is
    mask = torch.zeros(seen.shape, dtype=dtype).masked_fill_(~seen, torch.finfo(dtype).min)[:, None]
    # the prefix's keys and values, broadcast to B rows without a copy (the cache concatenates)
    cache = DynamicCache(ddp_cache_data=[(k.expand(B, -1, -1, -1), v.expand(B, -1, -1, -1)) for k, v in prefix_kv])
    hidden = decoder(input_ids=ids, attention_mask=mask, position_ids=pos, past_key_values=cache,
                     use_cache=False).last_hidden_state  # [B, L, H]
    reqs = list(score_at)
    rows_pos = [rp for i in reqs for rp in score_at[i]]
    targets = [t for i in reqs for t in requests[i][1]]
    lp = _logprobs_at(model, hidden, rows_pos, targets)
    k = 0
    for i in reqs:
        n = len(requests[i][1])
        out[i] = float(lp[k : k + n].sum())
        k += n


def packed_batches(row_lengths: Sequence[int], n_requests: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices of packed rows sorted longest first (stable), cut into batches of at most
    ``batch_size`` requests (a row with more is a batch of its own): neighbours in length share
    a batch, so right-padding stays small."""
    order = sorted(range(len(row_lengths)), key=lambda i: -row_lengths[i])
    batches: list[list[int]] = []
    n_cur = 0
    for i in order:
        if not batches or n_cur + n_requests[i] > batch_size:
            batches.append([])
            n_cur = 0
        batches[-1].append(i)
        n_cur += n_requests[i]
    return batches


def loglikelihood_cached(model, requests: Sequence[tuple[list[int], list[int]]], batch_size: int = 32, *,
                         desc: str | None = None, unit: str = "context",
                         method: str = "packed", piece_ratio: float = PIECE_RATIO) -> list[float]:
    """Same result as :func:`loglikelihood_naive`, sharing forward passes of common prefixes.

    KV caching and packing, both exact:

    1. P = longest common token prefix of all contexts (the TruthfulQA primer, 172 tokens),
       capped so that every context keeps at least one token after it. It is run once.
    2. ``method="packed"`` (default): requests with the same context are grouped, and each
       group is one row: the context tail ``context[P:]`` followed by all its continuations
       (:func:`_packed_rows`). A 4D attention mask lets each continuation see the prefix
       (KV cache), the tail and its own earlier tokens only, and ``position_ids`` put every
       continuation right after the context, so each scores as if it were alone. Rows,
       longest first, run in batches of at most ``batch_size`` continuations
       (:func:`packed_batches`). The first continuation token is scored by the last context
       token's output; token t > 0 by the continuation's own output at t - 1.
    3. ``method="pieces"`` (the scorer before, kept as the benchmarks' baseline): chunks of
       contexts (at most ``batch_size`` continuations) run their tails against the prefix
       cache, then their continuations, in pieces of similar length (:func:`length_pieces`
       with ``piece_ratio``), run right-padded against their own context's cache rows.

    Packing spends no compute on padded continuations: on TruthfulQA's 6,204 choices
    (68K continuation tokens) "pieces" pads to 95K (benchmarks/eval_throughput.py).
    Exact up to float rounding (the test checks 1e-4 against the naive method). Falls back to
    the naive method if the contexts share no prefix. Raises ``ValueError`` on an empty
    context or continuation or an unknown ``method``. ``desc``: label of a progress bar over
    the distinct contexts scored, counted in ``unit`` (stderr, :mod:`curate.core.progress`;
    None: no bar).
    """
    import torch

    if method not in ("packed", "pieces"):
        raise ValueError(f"method must be packed or pieces, got {method!r}")
    _check_requests(requests)
    if not requests:
        return []
    P = min(common_prefix_length([c for c, _ in requests]), min(len(c) for c, _ in requests) - 1)
    if P <= 0:
        return loglikelihood_naive(model, requests, batch_size)
    decoder = model.get_decoder()
    out = [0.0] * len(requests)
    with torch.inference_mode():
        prefix_cache = decoder(input_ids=torch.tensor([requests[0][0][:P]]), use_cache=True).past_key_values
        if method == "packed":
            groups: dict[tuple, list[int]] = {}
            for i, (ctx, _) in enumerate(requests):
                groups.setdefault(tuple(ctx[P:]), []).append(i)
            tails = list(groups)
            lengths = [len(c) + sum(len(requests[i][1]) for i in groups[c]) for c in tails]
            batches = [[tails[j] for j in b] for b in packed_batches(lengths, [len(groups[c]) for c in tails], batch_size)]
            prefix_kv = [(layer.keys, layer.values) for layer in prefix_cache.layers]
        else:
            groups, batches = _chunks(requests, P, batch_size)
        with progress(total=len(groups), desc=desc, unit=unit, enabled=desc is not None) as bar:
            for batch in batches:
                if method == "packed":
                    _score_packed(model, decoder, prefix_kv, P, batch, groups, requests, out)
                else:
                    _score_chunk(model, decoder, prefix_cache, P, batch, groups, requests, out, piece_ratio)
                bar.update(len(batch))
    return out
