"""Errors that the CLI reports as one clear line (no traceback)."""


class CurateError(Exception):
    """A user-facing error: bad input, bad parameters, a missing file. The message names the
    file, record and field where they are known."""


class StageFailed(CurateError):
    """A stage ended without doing what it was asked (generation with no record accepted or
    stopped at its failure budget, a repair run whose every request failed, a teacher that died;
    see "Failing loudly" in docs/generation.md). Raised after the stage's files are written and
    closed. ``metrics``: the run's metrics as the stage would have returned them (None when
    not known)."""

    def __init__(self, message: str, metrics: dict | None = None) -> None:
        super().__init__(message)
        self.metrics = metrics
