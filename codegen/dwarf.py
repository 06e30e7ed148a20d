"""Reading struct, union, enum, typedef and guest-handle definitions from the probe's DWARF into the type model.

Base types become fixed-width names by size and signedness (`unsigned long`
-> uint32_t on i386; 64-bit integers -> xen_u64_a4 / xen_s64_a4, the
4-byte-aligned typedefs the generated header defines; plain `char` stays
`char` for strings). Typedefs named `__guest_handle_NAME` (Xen's spelling
of XEN_GUEST_HANDLE(NAME)) become `Handle(NAME)`.
"""

from __future__ import annotations

from pathlib import Path

from elftools.dwarf.die import DIE
from elftools.elf.elffile import ELFFile

from codegen.errors import CodegenError
from codegen.model import (
    Aggregate,
    Array,
    CType,
    Enum,
    Handle,
    Inline,
    Member,
    Pointer,
    Qual,
    Ref,
    Registry,
    Scalar,
    Void,
)

HANDLE_PREFIX = "__guest_handle_"


def _name(die: DIE) -> str | None:
    attr = die.attributes.get("DW_AT_name")
    return attr.value.decode() if attr else None


def _int(die: DIE, key: str) -> int | None:
    attr = die.attributes.get(key)
    return int(attr.value) if attr is not None and isinstance(attr.value, int) else None


def _scalar(die: DIE) -> Scalar:
    name = _name(die) or ""
    size = _int(die, "DW_AT_byte_size") or 0
    enc = _int(die, "DW_AT_encoding")
    if name == "char":
        return Scalar("char", 1)
    if name == "_Bool":
        return Scalar("_Bool", 1)
    if size not in (1, 2, 4, 8):
        raise CodegenError(f"base type '{name}' of size {size} has no fixed-width equivalent")
    signed = enc in (0x05, 0x06)  # DW_ATE_signed, DW_ATE_signed_char
    if size == 8:
        return Scalar("xen_s64_a4" if signed else "xen_u64_a4", 8)
    return Scalar(f"{'' if signed else 'u'}int{size * 8}_t", size)


class DwarfReader:
    """Converts DIEs to model types, registering every named type it meets."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        self._busy: set[tuple[str, str]] = set()

    def type_of(self, die: DIE) -> CType:
        if "DW_AT_type" not in die.attributes:
            return Void()
        return self.convert(die.get_DIE_from_attribute("DW_AT_type"))

    def convert(self, die: DIE) -> CType:
        tag = die.tag
        if tag == "DW_TAG_base_type":
            return _scalar(die)
        if tag == "DW_TAG_pointer_type":
            return Pointer(self.type_of(die))
        if tag in ("DW_TAG_const_type", "DW_TAG_volatile_type"):
            return Qual(tag.removeprefix("DW_TAG_").removesuffix("_type"), self.type_of(die))
        if tag == "DW_TAG_typedef":
            return self._typedef(die)
        if tag in ("DW_TAG_structure_type", "DW_TAG_union_type"):
            return self._aggregate(die)
        if tag == "DW_TAG_enumeration_type":
            return self._enum(die)
        if tag == "DW_TAG_array_type":
            dims = [c for c in die.iter_children() if c.tag == "DW_TAG_subrange_type"]
            t = self.type_of(die)
            for sub in reversed(dims):
                count = _int(sub, "DW_AT_count")
                upper = _int(sub, "DW_AT_upper_bound")
                t = Array(t, count if count is not None else (upper + 1 if upper is not None else None))
            return t
        raise CodegenError(f"unsupported C construct in Xen's headers ({tag}); extend codegen/dwarf.py")

    def _typedef(self, die: DIE) -> CType:
        name = _name(die) or ""
        target = self.type_of(die)
        if name.startswith(HANDLE_PREFIX) and isinstance(target, Inline):
            members = target.agg.members
            if len(members) == 1 and members[0].name == "p" and isinstance(members[0].type, Pointer):
                self.reg.handles[name.removeprefix(HANDLE_PREFIX)] = members[0].type.target
                return Handle(name.removeprefix(HANDLE_PREFIX))
        self.reg.typedefs.setdefault(name, target)
        return Ref("typedef", name)

    def _aggregate(self, die: DIE) -> CType:
        kind = "struct" if die.tag == "DW_TAG_structure_type" else "union"
        name = _name(die)
        if name is not None:
            key = (kind, name)
            if key not in self.reg.aggregates and key not in self._busy and "DW_AT_declaration" not in die.attributes:
                self._busy.add(key)
                self.reg.aggregates[key] = self._members(die, kind, name)
                self._busy.discard(key)
            return Ref(kind, name)
        return Inline(self._members(die, kind, None))

    def _members(self, die: DIE, kind: str, name: str | None) -> Aggregate:
        members: list[Member] = []
        for child in die.iter_children():
            if child.tag != "DW_TAG_member":
                continue
            if "DW_AT_bit_size" in child.attributes:
                raise CodegenError(f"{kind} {name}: bit-field member {_name(child)} is not supported; extend codegen")
            offset = _int(child, "DW_AT_data_member_location") or 0
            members.append(Member(_name(child), self.type_of(child), offset))
        return Aggregate(kind, name, _int(die, "DW_AT_byte_size") or 0, tuple(members))

    def _enum(self, die: DIE) -> CType:
        name = _name(die)
        size = _int(die, "DW_AT_byte_size") or 4
        values = tuple(
            (_name(c) or "", int(c.attributes["DW_AT_const_value"].value))
            for c in die.iter_children()
            if c.tag == "DW_TAG_enumerator"
        )
        if name is None:
            signed = any(v < 0 for _, v in values)
            return Scalar(f"{'' if signed else 'u'}int{size * 8}_t", size)
        self.reg.enums.setdefault(name, Enum(name, size, values))
        return Ref("enum", name)


def read_registry(obj: Path) -> Registry:
    """Every named type in the object's DWARF (the probe anchors all declared items)."""
    reg = Registry()
    reader = DwarfReader(reg)
    with obj.open("rb") as f:
        elf = ELFFile(f)
        if not elf.has_dwarf_info():
            raise CodegenError("the probe object has no DWARF; the compiler ignored -g (pass --cc gcc)")
        for cu in elf.get_dwarf_info().iter_CUs():
            for die in cu.get_top_DIE().iter_children():
                if die.tag in ("DW_TAG_variable", "DW_TAG_typedef", "DW_TAG_structure_type", "DW_TAG_union_type",
                               "DW_TAG_enumeration_type"):
                    if die.tag == "DW_TAG_variable":
                        reg.variables[_name(die) or ""] = reader.type_of(die)
                    else:
                        reader.convert(die)
    return reg
