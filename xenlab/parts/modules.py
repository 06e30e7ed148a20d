"""Kernel modules for the dom0 initramfs (xenlab.parts): find them and order them.

Debian's 6.1 modules are plain `.ko` files; each one's `depends=` field
(in the ELF section .modinfo, as `modinfo -F depends` shows it) names the modules it needs. We load the
wanted list in dependency order (dependencies first), skipping modules that
are built into the kernel (listed in modules.builtin).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from xenlab.parts.errors import PartsError


def norm(name: str) -> str:
    """Module names treat '-' and '_' alike."""
    return name.replace("-", "_")


def index_modules(moddir: Path) -> dict[str, Path]:
    """Every .ko under `moddir`, by normalized module name."""
    return {norm(p.name.removesuffix(".ko")): p for p in moddir.rglob("*.ko")}


def builtin_modules(moddir: Path) -> set[str]:
    """Normalized names of modules built into the kernel (modules.builtin)."""
    listing = moddir / "modules.builtin"
    if not listing.exists():
        return set()
    return {norm(Path(line).name.removesuffix(".ko"))
            for line in listing.read_text().split()}


def modinfo_depends(ko: Path) -> list[str]:
    """The `depends=` of one module file, read from its ELF `.modinfo` section."""
    try:
        with ko.open("rb") as fh:
            section = ELFFile(fh).get_section_by_name(".modinfo")
            data = section.data() if section is not None else b""
    except (OSError, ELFError) as exc:
        raise PartsError(f"cannot read kernel module {ko}: {exc}") from exc
    for item in data.split(b"\0"):
        if item.startswith(b"depends="):
            return [d for d in item[len(b"depends="):].decode().split(",") if d]
    return []


def load_order(wanted: list[str], available: dict[str, Path], builtin: set[str],
               depends: Callable[[Path], list[str]] = modinfo_depends) -> list[Path]:
    """Module files to load, dependencies first, each once, keeping `wanted`'s order otherwise."""
    order: list[Path] = []
    seen: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        key = norm(name)
        if key in seen or key in builtin:
            return
        if key in chain:
            raise PartsError(f"module dependency loop: {' -> '.join(chain + (key,))}")
        if key not in available:
            needed_by = " -> ".join(chain) or "DOM0_MODULES"
            raise PartsError(f"kernel module {name!r} is neither a .ko in the dom0 kernel "
                             f"package nor built in (needed by {needed_by}); fix "
                             "DOM0_MODULES in xenlab/parts/dom0.py")
        for dep in depends(available[key]):
            visit(dep, chain + (key,))
        seen.add(key)
        order.append(available[key])

    for name in wanted:
        visit(name, ())
    return order
