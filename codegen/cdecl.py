"""Writing the type model back as C: declarations, emission order, static asserts and member offsets.

Typedefs listed as kept in the declared list keep their Xen name; every
other typedef is replaced by what it stands for, so the generated header
depends only on <stdint.h> and <stddef.h>.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.errors import CodegenError
from codegen.model import (
    Aggregate,
    Array,
    CType,
    Handle,
    Inline,
    Layout,
    Member,
    Pointer,
    Qual,
    Ref,
    Registry,
    Scalar,
    Void,
)


@dataclass(frozen=True)
class Emitter:
    """C spelling of model types for a registry and a set of kept typedef/enum names."""

    reg: Registry
    kept_typedefs: frozenset[str]
    kept_enums: frozenset[str]

    def resolve(self, t: CType) -> CType:
        """Replace typedefs that are not kept and enums that are not declared."""
        while isinstance(t, Ref) and (
            (t.kind == "typedef" and t.name not in self.kept_typedefs) or (t.kind == "enum" and t.name not in self.kept_enums)
        ):
            if t.kind == "enum":
                e = self.reg.enums[t.name]
                signed = any(v < 0 for _, v in e.values)
                return Scalar(f"{'' if signed else 'u'}int{e.size * 8}_t", e.size)
            t = self.reg.typedefs[t.name]
        return t

    def decl(self, t: CType, name: str, indent: str = "") -> str:
        """C declaration of `name` with type `t` (multi-line for inline structs/unions)."""
        t = self.resolve(t)
        sep = " " if name else ""
        match t:
            case Scalar(cname=cname):
                return f"{cname}{sep}{name}"
            case Void():
                return f"void{sep}{name}"
            case Ref(kind="typedef", name=tname):
                return f"{tname}{sep}{name}"
            case Ref(kind=kind, name=tname):
                return f"{kind} {tname}{sep}{name}"
            case Handle(name=hname):
                return f"XEN_GUEST_HANDLE({hname}){sep}{name}"
            case Pointer(target=target):
                return self.decl(target, f"*{name}", indent)
            case Qual(qual=qual, target=target):
                if isinstance(self.resolve(target), Pointer):
                    return self.decl(target, f"{qual} {name}".rstrip(), indent)
                return f"{qual} {self.decl(target, name, indent)}"
            case Array(elem=elem, count=count):
                inner = f"({name})" if name.startswith("*") else name
                return self.decl(elem, f"{inner}[{'' if count is None else count}]", indent)
            case Inline(agg=agg):
                body = "\n".join(self.member_lines(agg, indent + "    "))
                return f"{agg.kind} {{\n{body}\n{indent}}}{sep}{name}"
        raise AssertionError(t)

    def member_lines(self, agg: Aggregate, indent: str) -> list[str]:
        return [f"{indent}{self.decl(m.type, m.name or '', indent)};" for m in agg.members]

    def definition(self, agg: Aggregate) -> str:
        return f"{agg.kind} {agg.name} {{\n" + "\n".join(self.member_lines(agg, "    ")) + "\n};"

    def value_deps(self, t: CType) -> list[tuple[str, str]]:
        """Named aggregates that must be complete before a member of type `t`."""
        t = self.resolve(t)
        match t:
            case Ref(kind=("struct" | "union") as kind, name=name):
                return [(kind, name)]
            case Ref(kind="typedef", name=name):
                return self.value_deps(self.reg.typedefs[name])
            case Array(elem=elem) | Qual(target=elem):
                return self.value_deps(elem)
            case Inline(agg=agg):
                return [d for m in agg.members for d in self.value_deps(m.type)]
        return []

    def pointer_refs(self, t: CType) -> list[tuple[str, str]]:
        """Named aggregates reached through pointers or handles (forward declarations suffice)."""
        t = self.resolve(t)
        match t:
            case Pointer(target=target):
                inner = self.resolve(target)
                while isinstance(inner, (Qual, Array)):
                    inner = self.resolve(inner.target if isinstance(inner, Qual) else inner.elem)
                if isinstance(inner, Ref) and inner.kind in ("struct", "union"):
                    return [(inner.kind, inner.name)]
                return self.pointer_refs(inner)
            case Handle(name=name):
                return self.pointer_refs(Pointer(self.reg.handles[name]))
            case Array(elem=elem) | Qual(target=elem):
                return self.pointer_refs(elem)
            case Inline(agg=agg):
                return [d for m in agg.members for d in self.pointer_refs(m.type)]
        return []

    def handles_used(self, t: CType) -> list[str]:
        t = self.resolve(t)
        match t:
            case Handle(name=name):
                return [name]
            case Array(elem=elem) | Qual(target=elem):
                return self.handles_used(elem)
            case Inline(agg=agg):
                return [h for m in agg.members for h in self.handles_used(m.type)]
        return []

    def order(self, roots: list[tuple[str, str]]) -> list[Aggregate]:
        """Roots and everything they contain by value, dependencies first, deterministic."""
        done: dict[tuple[str, str], Aggregate] = {}
        visiting: set[tuple[str, str]] = set()

        def visit(key: tuple[str, str]) -> None:
            if key in done:
                return
            if key in visiting:
                raise CodegenError(f"{key[0]} {key[1]} contains itself by value; the headers are not C")
            visiting.add(key)
            agg = self.reg.aggregate(*key)
            for m in agg.members:
                for dep in self.value_deps(m.type):
                    visit(dep)
            visiting.discard(key)
            done[key] = agg

        for root in roots:
            visit(root)
        return list(done.values())


def member_offsets(em: Emitter, agg: Aggregate) -> list[tuple[str, int, int]]:
    """(designator, offset, size) of every named member, recursing into inline structs/unions."""
    lay = Layout(em.reg)
    out: list[tuple[str, int, int]] = []

    def walk(members: tuple[Member, ...], prefix: str, base: int) -> None:
        for m in members:
            t = em.resolve(m.type)
            path = f"{prefix}{m.name}" if m.name else prefix.rstrip(".")
            if m.name:
                out.append((path, base + m.offset, lay.size_align(t)[0]))
            if isinstance(t, Inline):
                walk(t.agg.members, f"{path}." if path else "", base + m.offset)

    walk(agg.members, "", 0)
    return out
