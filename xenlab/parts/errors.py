"""Errors raised by the lab's part builders (xenlab.parts)."""

from __future__ import annotations


class PartsError(RuntimeError):
    """A lab part could not be built; the message says why, where the log is and what to do."""
