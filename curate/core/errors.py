"""Errors that the CLI reports as one clear line (no traceback)."""


class CurateError(Exception):
    """A user-facing error: bad input, bad parameters, a missing file. The message names the
    file, record and field where they are known."""
