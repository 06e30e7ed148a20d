"""The declared list (codegen/abi.toml): which hypercalls, structs, enums, typedefs, constants and rings the kernel uses.

This module only loads and shape-checks the TOML; whether each item exists in
Xen's headers is checked later against the probe (an unknown item is an error).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import CodegenError

DEFAULT_MANIFEST = Path(__file__).with_name("abi.toml")

_KEYS = {"headers", "typedefs", "enums", "structs", "rings", "constants", "aliases", "extra", "newer", "hypercalls"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Param:
    """One hypercall parameter: its C type (as written) and its name."""

    ctype: str
    name: str

    @property
    def is_u64(self) -> bool:
        return self.ctype in ("uint64_t", "const uint64_t")

    @property
    def decl(self) -> str:
        """The parameter as C source: "struct mmu_update *req", "int cmd"."""
        return f"{self.ctype}{self.name}" if self.ctype.endswith("*") else f"{self.ctype} {self.name}"


@dataclass(frozen=True)
class Hypercall:
    """A wrapper HYPERVISOR_<name>(params) calling hypercall number __HYPERVISOR_<name>."""

    name: str
    params: tuple[Param, ...]

    @property
    def registers_needed(self) -> int:
        return sum(2 if p.is_u64 else 1 for p in self.params)


@dataclass(frozen=True)
class Ring:
    """A shared ring, as DEFINE_RING_TYPES(name, struct req, struct rsp) would declare it."""

    name: str
    request: str
    response: str


@dataclass(frozen=True)
class Manifest:
    """Everything the kernel uses from Xen's public headers."""

    path: Path
    headers: tuple[str, ...]
    typedefs: tuple[str, ...]
    enums: tuple[str, ...]
    structs: tuple[str, ...]
    rings: tuple[Ring, ...]
    constants: tuple[tuple[str, tuple[str, ...]], ...]
    aliases: tuple[tuple[str, str], ...]
    extra: tuple[tuple[str, int | str], ...]
    newer: tuple[tuple[str, int], ...]
    hypercalls: tuple[Hypercall, ...]


def _names(data: dict[str, object], key: str, path: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CodegenError(f"{path}: '{key}' must be a list of strings")
    return tuple(value)


def _table(data: dict[str, object], key: str, path: Path) -> dict[str, object]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise CodegenError(f"{path}: '{key}' must be a table")
    return value


def parse_params(text: str, where: str) -> tuple[Param, ...]:
    """Parse a C parameter list such as "unsigned long va, uint64_t val"."""
    params: list[Param] = []
    if text.strip() in ("", "void"):
        return ()
    for raw in text.split(","):
        m = re.fullmatch(r"\s*(.*?[\s*])([A-Za-z_][A-Za-z0-9_]*)\s*", raw)
        if not m or not m.group(1).strip():
            raise CodegenError(f"{where}: cannot parse parameter '{raw.strip()}'; write it as 'TYPE NAME'")
        ctype = re.sub(r"\s*\*\s*", " *", " ".join(m.group(1).split())).strip()
        params.append(Param(ctype=ctype, name=m.group(2)))
    return tuple(params)


def load_manifest(path: Path = DEFAULT_MANIFEST) -> Manifest:
    """Read and shape-check the declared list."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise CodegenError(f"declared list {path} not found; pass --manifest FILE") from None
    except tomllib.TOMLDecodeError as e:
        raise CodegenError(f"{path}: not valid TOML ({e}); fix the syntax") from None
    unknown = set(data) - _KEYS
    if unknown:
        raise CodegenError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KEYS))}")

    rings: list[Ring] = []
    for name, pair in _table(data, "rings", path).items():
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
            raise CodegenError(f"{path}: rings.{name} must be [request_struct, response_struct]")
        rings.append(Ring(name, pair[0], pair[1]))

    constants: list[tuple[str, tuple[str, ...]]] = []
    for group, pats in _table(data, "constants", path).items():
        if not isinstance(pats, list) or not all(isinstance(p, str) for p in pats):
            raise CodegenError(f"{path}: constants.{group} must be a list of name patterns")
        constants.append((group, tuple(pats)))

    aliases: list[tuple[str, str]] = []
    for name, target in _table(data, "aliases", path).items():
        if not isinstance(target, str):
            raise CodegenError(f"{path}: aliases.{name} must be a constant name")
        aliases.append((name, target))

    extra: list[tuple[str, int | str]] = []
    for name, value in _table(data, "extra", path).items():
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise CodegenError(f"{path}: extra.{name} must be an integer or a string")
        extra.append((name, value))

    newer: list[tuple[str, int]] = []
    for name, value in _table(data, "newer", path).items():
        if isinstance(value, bool) or not isinstance(value, int):
            raise CodegenError(f"{path}: newer.{name} must be an integer")
        newer.append((name, value))

    hypercalls: list[Hypercall] = []
    for name, sig in _table(data, "hypercalls", path).items():
        if not isinstance(sig, str) or not _IDENT.match(name):
            raise CodegenError(f"{path}: hypercalls.{name} must be a C parameter list string")
        hc = Hypercall(name, parse_params(sig, f"{path}: hypercalls.{name}"))
        if hc.registers_needed > 5:
            raise CodegenError(f"{path}: hypercalls.{name} needs {hc.registers_needed} registers; x86_32 passes at most 5")
        hypercalls.append(hc)

    for key in ("typedefs", "enums", "structs"):
        for n in _names(data, key, path):
            if not _IDENT.match(n.removeprefix("union ")):
                raise CodegenError(f"{path}: {key} entry '{n}' is not a C identifier")

    return Manifest(
        path=path,
        headers=_names(data, "headers", path),
        typedefs=_names(data, "typedefs", path),
        enums=_names(data, "enums", path),
        structs=_names(data, "structs", path),
        rings=tuple(rings),
        constants=tuple(constants),
        aliases=tuple(aliases),
        extra=tuple(extra),
        newer=tuple(newer),
        hypercalls=tuple(hypercalls),
    )
