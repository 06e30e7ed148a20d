"""Running external commands for the lab's part builders (xenlab.parts).

Every command's output goes to a log file (appended); on failure the error
names the command, the log and the last lines of its output.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from xenlab.parts.errors import PartsError
from xenlab.parts.progress import Progress


def tail(path: Path, lines: int = 15) -> str:
    """The last `lines` lines of a text file ('' when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def as_root(cmd: Sequence[str]) -> list[str]:
    """Prefix `cmd` with sudo unless we already are root."""
    return list(cmd) if os.geteuid() == 0 else ["sudo", *cmd]


def run(
    cmd: Sequence[str | Path],
    log: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    hint: str = "",
    watch: Callable[[], str | None] | None = None,
    progress: Progress | None = None,
    every: float = 15.0,
) -> None:
    """Run `cmd`, appending its output to `log`; raise PartsError if it fails.

    When `watch` and `progress` are given, `watch()` is called every `every`
    seconds while the command runs and its answer (if any) is reported.
    """
    argv = [str(c) for c in cmd]
    log.parent.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("LC_ALL", "C")
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(argv)}{f'  (in {cwd})' if cwd else ''}\n")
        out.flush()
        start = time.monotonic()
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise PartsError(f"could not start {argv[0]}: {exc}. {hint}".strip()) from exc
        done = threading.Event()
        if watch is not None and progress is not None:
            threading.Thread(target=_watcher, args=(done, watch, progress, every, start),
                             daemon=True).start()
        try:
            code = proc.wait()
        finally:
            done.set()
        out.write(f"[exit {code} after {time.monotonic() - start:.1f}s]\n")
    if code != 0:
        raise PartsError(
            f"command failed (exit {code}): {' '.join(argv)}\n"
            f"log: {log}\n--- last lines ---\n{tail(log)}\n---\n{hint}".rstrip())


def _watcher(done: threading.Event, watch: Callable[[], str | None], progress: Progress,
             every: float, start: float) -> None:
    while not done.wait(every):
        note = watch()
        if note:
            progress(f"{note} ({time.monotonic() - start:.0f}s)")


def capture(cmd: Sequence[str | Path], *, env: Mapping[str, str] | None = None,
            check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a short query command and return its output (stdout and stderr apart)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("LC_ALL", "C")
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          env=full_env, check=check, stdin=subprocess.DEVNULL)
