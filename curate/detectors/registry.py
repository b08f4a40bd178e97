"""The one list of detectors: what a finding is, what a detector is, and the decorator that
registers each one with its name, category, run order, opt-in flag and the unit of its score.

A detector module defines a :class:`Detector` subclass and decorates it with :func:`register`;
:func:`specs` imports every module of ``curate.detectors`` once, so a new detector is one new
file (docs/detectors.md, "Adding a detector"). Every detector's default action is
:data:`DEFAULT_ACTION` (``review``); ``detect.policy`` in params.yaml escalates a detector to
``normalize``, ``repair`` or ``drop`` (or sets ``keep``), and :func:`resolve_policy` rejects a
name the registry does not know. ``detect``, ``detect-eval`` and the docs' detector table
(``python -m curate.detectors.registry --markdown --params params.yaml``) all read this registry.
"""

from __future__ import annotations

import difflib
import importlib
import math
import pkgutil
from dataclasses import dataclass
from typing import Mapping, Sequence

import pyarrow as pa

from curate.core.config import Detect, ParamsError, validate_section
from curate.core.schema import ACTIONS

#: The action of every finding that ``detect.policy`` does not escalate.
DEFAULT_ACTION = "review"

#: What a :class:`Finding`'s ``score`` measures: unit name -> (meaning, lowest, highest).
SCORE_UNITS: dict[str, tuple[str, float, float]] = {
    "strength": ("how strong the rule's evidence is, in [0, 1] (1.0 = unambiguous), set by the rule that fired",
                 0.0, 1.0),
    "relative_error": ("relative error abs(claimed - expected) / abs(expected), capped at 1", 0.0, 1.0),
    "cosine": ("cosine similarity of MiniLM embeddings, in [-1, 1] (low = unrelated)", -1.0, 1.0),
    "rating": ("the judge's rating, 0-5 (low = bad)", 0.0, 5.0),
    "overlap": ("share of the text's word n-grams found in an evaluation set, in [0, 1] (1.0 = an exact match)",
                0.0, 1.0),
    "ifd": ("IFD = loss(output | prompt) / loss(output), >= 0 (> 1: the prompt does not help)", 0.0, math.inf),
}


@dataclass
class Finding:
    """What a detector found: ``score`` (the raw signal, in the unit its registration names:
    :data:`SCORE_UNITS`), ``reason`` (human-readable, names the evidence), for a normalising
    fix the ``field`` and its new full ``value``, and optionally a per-finding ``confidence``
    in [0, 1] overriding the detector's."""

    score: float
    reason: str
    field: str | None = None
    value: str | None = None
    confidence: float | None = None


class Detector:
    """One check over one record (a dict with id/instruction/input/output). Subclasses set
    ``confidence`` (how sure a finding is: the 95% Wilson lower bound of the detector's dev-set
    precision, docs/detectors.md), implement ``check`` and are decorated with :func:`register`,
    which sets ``name`` and ``category``. Detectors that need a batch signal (embeddings, model
    losses) compute it in ``prepare``, which sees the whole table before any ``check``.
    ``files`` maps a constructor argument to the ``paths`` key whose file it takes
    (:func:`curate.detectors.runner.build_detectors` passes it)."""

    name = "detector"
    category = "other"
    confidence = 0.5
    files: Mapping[str, str] = {}

    def prepare(self, records: pa.Table) -> None:
        """Compute batch signals for ``records`` (RECORD_SCHEMA); the default does nothing."""

    def check(self, rec: Mapping[str, str]) -> Finding | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def metrics(self) -> dict | None:
        """Detector-specific counts for ``reports/detect.json`` (``by_detector.<name>``), after
        the run; None (the default) adds nothing."""
        return None

    @classmethod
    def merge_metrics(cls, parts: Sequence[dict]) -> dict:
        """One :meth:`metrics` dict from those of detectors that each saw a part of the records
        (``executor: ray`` runs a fresh detector per batch): numbers are summed, nested dicts
        merged key by key. A detector whose metrics hold settings as well as counts overrides
        this."""
        return sum_counts(parts)


def sum_counts(parts: Sequence[Mapping]) -> dict:
    """Key-by-key sum of count dicts (nested dicts recursively; a non-number keeps its first
    value). ``[{"a": 1, "b": {"c": 2}}, {"a": 2, "b": {"c": 1, "d": 1}}]`` ->
    ``{"a": 3, "b": {"c": 3, "d": 1}}``."""
    out: dict = {}
    for part in parts:
        for k, v in part.items():
            if isinstance(v, Mapping):
                out[k] = sum_counts([out.get(k, {}), v])
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + v
            else:
                out.setdefault(k, v)
    return out


@dataclass(frozen=True)
class Spec:
    """One registered detector. ``order``: detectors run in increasing order (normalising
    ones first, so later ones see the normalised text); ``score``: a key of
    :data:`SCORE_UNITS`; ``summary``: its signal in one line (the docs table); ``opt_in``: off
    unless params enable it (:func:`enabled`)."""

    name: str
    category: str
    order: int
    score: str
    summary: str
    opt_in: bool
    cls: type

    @property
    def default_action(self) -> str:
        return DEFAULT_ACTION

    @property
    def module(self) -> str:
        return self.cls.__module__


_SPECS: dict[str, Spec] = {}
_DISCOVERED = False


def register(name: str, *, category: str, order: int, score: str, summary: str, opt_in: bool = False):
    """Class decorator: register a :class:`Detector` subclass under ``name`` (the annotations'
    ``check_name`` and the key of ``detect.policy``) with its ``category`` (problem class,
    docs/detectors.md), run ``order``, ``score`` unit (a key of :data:`SCORE_UNITS`), one-line
    ``summary`` and ``opt_in``. Sets ``cls.name`` and ``cls.category``. Raises ``ValueError``
    for an unknown score unit or a name registered by another class."""
    if score not in SCORE_UNITS:
        raise ValueError(f"detector {name!r}: unknown score unit {score!r}; expected one of {sorted(SCORE_UNITS)}")

    def deco(cls: type) -> type:
        old = _SPECS.get(name)
        if old is not None and (old.cls.__module__, old.cls.__qualname__) != (cls.__module__, cls.__qualname__):
            raise ValueError(f"detector {name!r} is registered twice: {old.module}.{old.cls.__qualname__} and "
                             f"{cls.__module__}.{cls.__qualname__}")
        cls.name, cls.category = name, category
        _SPECS[name] = Spec(name, category, int(order), score, summary, bool(opt_in), cls)
        return cls
    return deco


def _discover() -> None:
    """Import every module of the package once, so each detector's decorator has run."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    import curate.detectors as pkg

    for m in pkgutil.iter_modules(pkg.__path__):
        if not m.ispkg and m.name != "__main__":
            importlib.import_module(f"{pkg.__name__}.{m.name}")
    orders = [s.order for s in _SPECS.values()]
    dup = sorted({o for o in orders if orders.count(o) > 1})
    if dup:
        raise ValueError(f"detectors share a run order {dup}: give each its own")
    _DISCOVERED = True


def specs() -> list[Spec]:
    """Every registered detector, in run order."""
    _discover()
    return sorted(_SPECS.values(), key=lambda s: s.order)


def get(name: str) -> Spec:
    """The :class:`Spec` of ``name``; raises ``KeyError`` naming the known detectors."""
    _discover()
    if name not in _SPECS:
        raise KeyError(f"no detector {name!r}; known: {', '.join(sorted(_SPECS))}")
    return _SPECS[name]


def _unknown(name: str, known: list[str]) -> ParamsError:
    near = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    hint = f", did you mean {near[0]!r}?" if near else ""
    return ParamsError(f"detect.policy.{name}: unknown detector {name!r}{hint} (known: {', '.join(sorted(known))})")


#: Policy value for verified wrong answers: ``repair`` when a teacher is configured, else ``drop``.
REPAIR_OR_DROP = "repair_or_drop"


def resolve_policy(policy: Mapping[str, str | None] | None, extra_names: tuple[str, ...] = (), *,
                   teacher: bool = False) -> dict[str, str]:
    """Detector name -> action for every registered detector (and ``extra_names``, detectors
    not in the registry such as test doubles): ``policy``'s action where it names one, else
    :data:`DEFAULT_ACTION`. A null action means the default; :data:`REPAIR_OR_DROP` becomes
    ``repair`` when ``teacher`` (``repair.enabled``: the repair stage will regenerate the
    output) and ``drop`` otherwise, so a verified wrong answer is never kept unrepaired. Raises
    :class:`ParamsError` (one line naming ``detect.policy.<name>``) for a name nobody
    registered or an action not in :data:`curate.core.schema.ACTIONS` (or ``repair_or_drop``)."""
    known = [s.name for s in specs()] + [n for n in extra_names if n not in _SPECS]
    for name, action in (policy or {}).items():
        if name not in known:
            raise _unknown(name, known)
        if action is not None and action not in ACTIONS and action != REPAIR_OR_DROP:
            raise ParamsError(f"detect.policy.{name}: unknown action {action!r} "
                              f"(expected {', '.join(ACTIONS)}, {REPAIR_OR_DROP} or null)")
    out = {n: (policy or {}).get(n) or DEFAULT_ACTION for n in known}
    return {n: ("repair" if teacher else "drop") if a == REPAIR_OR_DROP else a for n, a in out.items()}


def sections() -> set[str]:
    """Detectors with their own section in :class:`curate.core.config.Detect` (constructor
    arguments and ``enabled``)."""
    return set(Detect.model_fields) - {"policy"}


def enabled(params: Mapping | None) -> list[Spec]:
    """The detectors the ``detect:`` params section (possibly partial; validated against
    :class:`curate.core.config.Detect`) runs, in run order: every detector that is not
    opt-in; an opt-in one with a section when its ``enabled`` is true; an opt-in one without
    a section when ``detect.policy`` gives it an action. Raises :class:`ParamsError` for a
    section that does not fit the schema or an unknown name or action in the policy."""
    d = validate_section(Detect, params, "detect")
    resolve_policy(d["policy"])
    secs = sections()
    out = []
    for s in specs():
        if not s.opt_in:
            out.append(s)
        elif s.name in secs:
            if d[s.name]["enabled"]:
                out.append(s)
        elif d["policy"].get(s.name) is not None:
            out.append(s)
    return out


def categories(params: Mapping | None = None) -> dict[str, str]:
    """Detector name -> category, in run order: of the detectors ``params`` (a ``detect:``
    section, see :func:`enabled`) runs, or of every registered detector when ``params`` is
    None."""
    chosen = specs() if params is None else enabled(params)
    return {s.name: s.category for s in chosen}


def markdown_table(policy: Mapping[str, str | None] | None = None) -> str:
    """The detector table of docs/detectors.md: one row per registered detector in run order,
    with the action ``policy`` (``detect.policy``) resolves it to."""
    actions = resolve_policy(policy)
    lines = ["| order | detector | file | category | signal | score | confidence | action |",
             "|---|---|---|---|---|---|---|---|"]
    for s in specs():
        name = f"`{s.name}`" + (" (opt-in)" if s.opt_in else "")
        file = s.module.rsplit(".", 1)[-1] + ".py"
        lines.append(f"| {s.order} | {name} | {file} | {s.category} | {s.summary} | {s.score} | "
                     f"{s.cls.confidence:g} | {actions[s.name]} |")
    lines += ["", "Score units: " + "; ".join(f"`{k}`: {v[0]}" for k, v in SCORE_UNITS.items()) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m curate.detectors.registry --markdown [--params params.yaml]``: print the
    detector table (actions from that file's ``detect.policy``; without it, the defaults)."""
    import argparse

    from curate.core.config import load_params

    ap = argparse.ArgumentParser(description="the registered detectors")
    ap.add_argument("--markdown", action="store_true", help="print docs/detectors.md's detector table")
    ap.add_argument("--params", help="take the actions from this params file's detect.policy")
    args = ap.parse_args(argv)
    policy = load_params(args.params)["detect"]["policy"] if args.params else None
    if args.markdown:
        print(markdown_table(policy), end="")
    else:
        for s in specs():
            print(s.order, s.name, s.category, "opt-in" if s.opt_in else "default", sep="\t")
    return 0


if __name__ == "__main__":
    import sys

    # run the imported module, whose table the detector modules filled (not this __main__ copy)
    from curate.detectors.registry import main as _main

    sys.exit(_main())
