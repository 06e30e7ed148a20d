"""The lab's part cache (xenlab.parts): where parts live and when they are fresh.

Each part lives in `$XENOLITH_CACHE/<name>-<version>-<recipe hash>/`. It is
built in a temporary folder beside it and renamed into place when complete,
so an existing folder is always a finished part and a second call costs
nothing. A per-part lock file keeps two processes from building it at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path


def default_cache() -> Path:
    """`$XENOLITH_CACHE`, or ~/.cache/xenolith."""
    env = os.environ.get("XENOLITH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "xenolith"


def recipe_key(recipe: Mapping[str, object]) -> str:
    """A short, stable hash of a recipe (any JSON-able mapping)."""
    blob = json.dumps(recipe, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def safe_name(text: str) -> str:
    """`text` made safe as one path component (Debian epochs' ':' become '_')."""
    return "".join(c if c.isalnum() or c in "+-._" else "_" for c in text)


def part_dir(cache: Path, name: str, version: str, key: str) -> Path:
    """The folder of one part: name, pinned version and recipe hash."""
    return cache / f"{name}-{safe_name(version)}-{key}"


@contextlib.contextmanager
def part_lock(cache: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock for building part `name` (waits for other builders)."""
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f".lock-{name}").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def fresh_tmp(final: Path) -> Path:
    """An empty temporary folder beside `final`, to build it in."""
    tmp = final.with_name(f".tmp-{final.name}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def publish(tmp: Path, final: Path) -> Path:
    """Move a finished build folder into place (atomic rename)."""
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    return final


def write_info(folder: Path, info: Mapping[str, object]) -> None:
    """Record what a part was built from, as `recipe.json` in its folder."""
    (folder / "recipe.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")


def build_once(cache: Path, name: str, final: Path, done: Path,
               build: Callable[[Path], None], info: Mapping[str, object]) -> None:
    """Make part `name` in `final` unless `done` (a file in it) already exists.

    Builders wait for each other on the part's lock; `build(tmp)` fills a fresh
    temporary folder (its `work/` subfolder is removed afterwards), which is
    then published atomically with `recipe.json` from `info`.
    """
    if done.exists():
        return
    with part_lock(cache, name):
        if done.exists():
            return
        tmp = fresh_tmp(final)
        build(tmp)
        shutil.rmtree(tmp / "work", ignore_errors=True)
        write_info(tmp, info)
        publish(tmp, final)
