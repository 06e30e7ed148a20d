"""Errors of the code generator: one exception type whose message is a one-line diagnosis with its fix."""

from __future__ import annotations


class CodegenError(Exception):
    """A problem the user can fix; the message is printed as one line and the run exits non-zero."""
