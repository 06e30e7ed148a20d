"""Progress reporting for the lab's part builders (xenlab.parts).

A `Progress` is any callable taking one line of text; the runtime passes its
own printer, the default writes to stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

Progress = Callable[[str], None]


def stderr_progress(line: str) -> None:
    """Default progress sink: one line on stderr, prefixed with the package name."""
    print(f"xenlab.parts: {line}", file=sys.stderr, flush=True)
