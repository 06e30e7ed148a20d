"""The type model of Xen's public structs as read from DWARF, and the i386 layout rules that check it.

Types are small frozen dataclasses; named structs, unions, enums and
typedefs are referenced by name through a `Registry`. `Layout` recomputes
each struct's layout with the i386 System V rules (scalars align to
min(size, 4), so uint64_t is 4-aligned inside structs) to prove the
generated declaration reproduces the compiler's layout before we write it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codegen.errors import CodegenError


@dataclass(frozen=True)
class Scalar:
    """An integer or char type, spelled with fixed-width names (uint32_t, char, xen_u64_a4, ...)."""

    cname: str
    size: int


@dataclass(frozen=True)
class Void:
    """`void`, only behind a pointer."""


@dataclass(frozen=True)
class Pointer:
    target: CType


@dataclass(frozen=True)
class Qual:
    """A const/volatile qualified type."""

    qual: str
    target: CType


@dataclass(frozen=True)
class Array:
    elem: CType
    count: int | None  # None: flexible array member


@dataclass(frozen=True)
class Ref:
    """A named struct, union, enum or typedef, defined elsewhere in the registry."""

    kind: str
    name: str


@dataclass(frozen=True)
class Handle:
    """XEN_GUEST_HANDLE(name): a struct holding one pointer `p`."""

    name: str


@dataclass(frozen=True)
class Inline:
    """An anonymous struct or union, declared where it is used."""

    agg: Aggregate


CType = Scalar | Void | Pointer | Qual | Array | Ref | Handle | Inline


@dataclass(frozen=True)
class Member:
    name: str | None  # None: C11 anonymous struct/union member
    type: CType
    offset: int


@dataclass(frozen=True)
class Aggregate:
    kind: str  # "struct" or "union"
    name: str | None
    size: int
    members: tuple[Member, ...]


@dataclass(frozen=True)
class Enum:
    name: str
    size: int
    values: tuple[tuple[str, int], ...]


@dataclass
class Registry:
    """Every named type the probe's DWARF describes."""

    aggregates: dict[tuple[str, str], Aggregate] = field(default_factory=dict)
    typedefs: dict[str, CType] = field(default_factory=dict)
    enums: dict[str, Enum] = field(default_factory=dict)
    handles: dict[str, CType] = field(default_factory=dict)  # handle name -> pointee
    variables: dict[str, CType] = field(default_factory=dict)  # global variable -> its type

    def aggregate(self, kind: str, name: str) -> Aggregate:
        try:
            return self.aggregates[(kind, name)]
        except KeyError:
            raise CodegenError(f"{kind} {name} is not defined by Xen's headers (only declared); check the declared list") from None


@dataclass(frozen=True)
class Layout:
    """i386 sizes and alignments of model types, with `kept` typedefs/enums resolved through the registry."""

    reg: Registry

    def size_align(self, t: CType) -> tuple[int, int]:
        match t:
            case Scalar(size=size):
                return size, min(size, 4)
            case Pointer() | Handle():
                return 4, 4
            case Qual(target=inner):
                return self.size_align(inner)
            case Array(elem=elem, count=count):
                size, align = self.size_align(elem)
                return size * (count or 0), align
            case Inline(agg=agg):
                return self.aggregate(agg)
            case Ref(kind="typedef", name=name):
                return self.size_align(self.reg.typedefs[name])
            case Ref(kind="enum", name=name):
                size = self.reg.enums[name].size
                return size, min(size, 4)
            case Ref(kind=kind, name=name):
                return self.aggregate(self.reg.aggregate(kind, name))
            case Void():
                raise CodegenError("void used by value in a struct; the headers are not C")
        raise AssertionError(t)

    def aggregate(self, agg: Aggregate) -> tuple[int, int]:
        """Natural size and alignment; raises if a member offset differs from the compiler's."""
        offset = size = 0
        align = 1
        for m in agg.members:
            msize, malign = self.size_align(m.type)
            align = max(align, malign)
            if agg.kind == "union":
                want = 0
                size = max(size, msize)
            else:
                want = -(-offset // malign) * malign
                offset = want + msize
                size = offset
            if want != m.offset:
                raise CodegenError(
                    f"{agg.kind} {agg.name or '(anonymous)'}: member {m.name} is at offset {m.offset} but natural i386 "
                    f"layout puts it at {want} (packed or over-aligned?); the generator cannot reproduce it"
                )
        size = -(-size // align) * align
        if size != agg.size:
            raise CodegenError(
                f"{agg.kind} {agg.name or '(anonymous)'}: size is {agg.size} but natural i386 layout gives {size}; "
                "the generator cannot reproduce it"
            )
        return size, align
