"""How a guest ended: ExitReason, Xen's hardware-dom0 lines, and `xl list -v` parsing."""

from __future__ import annotations

import enum


class ExitReason(enum.Enum):
    """Why a guest stopped; `code` is the CLI's exit status."""

    POWEROFF = 0
    CRASH = 2
    REBOOT = 3
    TIMEOUT = 4
    LAB_FAILURE = 5
    DETACHED = 7  # the user left the console with Ctrl-]

    @property
    def code(self) -> int:
        return int(self.value)


# Xen 4.17 common/shutdown.c, hwdom_shutdown(): what it prints per reason.
DOM0_EXIT_PATTERNS: list[tuple[str, ExitReason]] = [
    (r"Hardware Dom0 halted", ExitReason.POWEROFF),
    (r"Hardware Dom0 crashed", ExitReason.CRASH),
    (r"Hardware Dom0 shutdown: (watchdog )?rebooting", ExitReason.REBOOT),
    (r"Hardware Dom0 shutdown \(unknown reason", ExitReason.CRASH),
    (r"Panic on CPU", ExitReason.CRASH),
]


def parse_xl_list_v(output: str, name: str) -> ExitReason | None:
    """The shutdown reason of `name` from `xl list -v`, or None if it is still running."""
    for line in output.splitlines():
        words = line.split()
        if not words or words[0] != name or len(words) < 8:
            continue
        state, reason = words[4], words[7]
        if "c" in state:
            return ExitReason.CRASH
        if "s" not in state:
            return None
        return {"0": ExitReason.POWEROFF, "1": ExitReason.REBOOT,
                "3": ExitReason.CRASH}.get(reason, ExitReason.CRASH)
    return None
