"""What every dedupe method shares: the compared text of a record, the drop annotation and the
result a method hands back to :func:`curate.dedupe.pipeline.dedupe`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence


def join_fields(rec: Mapping[str, str], fields: Sequence[str]) -> str:
    """The text a method compares: the non-empty ``fields`` of ``rec`` joined by a newline
    (``["instruction", "input"]`` of a record without input is its instruction alone)."""
    return "\n".join(rec[f] for f in fields if rec[f])


def drop_annotation(rec: Mapping[str, str], check: str, score: float, matched_id: str, reason: str) -> dict:
    """One ``drop`` row of :data:`curate.core.schema.ANNOTATION_SCHEMA` for record ``rec``
    (stage ``dedupe``); ``matched_id`` names the record (or ``seed:<id>``) it duplicates."""
    return {"id": rec["id"], "stage": "dedupe", "check_name": check, "score": score,
            "action": "drop", "reason": reason, "matched_id": matched_id}


@dataclass
class Found:
    """What one method found among the ``N`` records it was given.

    ``annotations``: one :func:`drop_annotation` row per duplicate, in record order;
    ``dropped``: their positions (0-based, into the records given); ``metrics``: extra metrics
    of the method (the embedding method's cluster counts), merged into the stage's metrics.
    """

    annotations: list[dict] = field(default_factory=list)
    dropped: set[int] = field(default_factory=set)
    metrics: dict = field(default_factory=dict)

    def drop(self, pos: int, rec: Mapping[str, str], check: str, score: float, matched_id: str,
             reason: str) -> None:
        """Record that the record at ``pos`` (``rec``) is a duplicate of ``matched_id``."""
        self.annotations.append(drop_annotation(rec, check, score, matched_id, reason))
        self.dropped.add(pos)
