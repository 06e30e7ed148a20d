"""Orchestration: from the declared list and Xen's headers to the files in build/gen.

Steps: check the inputs, build the probe (codegen.probe), read layouts from
DWARF (codegen.dwarf) and constants from the preprocessor and the probe
(codegen.macros), check every layout against the i386 rules (codegen.model),
then render the templates (codegen.render).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from codegen import macros
from codegen.cdecl import Emitter, member_offsets
from codegen.dwarf import read_registry
from codegen.errors import CodegenError
from codegen.manifest import Hypercall, Manifest
from codegen.model import Aggregate, Layout, Pointer, Ref, Registry
from codegen.probe import Probe, build_probe
from codegen.render import render_all
from codegen.rings import RingGeometry, geometry
from codegen.toolchain import Toolchain, xen_package_version

REGISTERS = ("b", "c", "d", "S", "D")
HYPERCALL_SLOTS = 64  # Xen's hypercall table size (NR_hypercalls); the page has room for 128 entries


@dataclass(frozen=True)
class Inputs:
    """Where to read from and write to."""

    header_dir: Path
    out_dir: Path
    manifest: Manifest
    cc: str


@dataclass(frozen=True)
class HypercallPlan:
    """A wrapper: its C parameters and the register each 32-bit argument goes in."""

    name: str
    params: str
    args: tuple[tuple[str, str], ...]  # (constraint letter, C expression)


def plan_hypercall(hc: Hypercall) -> HypercallPlan:
    exprs: list[str] = []
    for p in hc.params:
        if p.is_u64:
            exprs += [f"(unsigned long)({p.name})", f"(unsigned long)((uint64_t)({p.name}) >> 32)"]
        else:
            exprs.append(f"(unsigned long)({p.name})")
    params = ", ".join(p.decl for p in hc.params) or "void"
    return HypercallPlan(hc.name, params, tuple(zip(REGISTERS, exprs, strict=False)))


def _check_inputs(inp: Inputs) -> None:
    if not (inp.header_dir / "xen.h").is_file():
        raise CodegenError(f"Xen public headers not found: {inp.header_dir}/xen.h is missing; install libxen-dev or pass --xen-include DIR")
    for h in inp.manifest.headers:
        if not (inp.header_dir / h).is_file():
            raise CodegenError(f"header {h} listed in {inp.manifest.path.name} is missing from {inp.header_dir}; fix 'headers' or the include dir")


def _probe(inp: Inputs, tool: Toolchain, work: Path) -> tuple[Probe, macros.MacroTable]:
    m = inp.manifest
    probe = Probe(inp.header_dir, m.headers)
    for s in m.structs:
        probe.anchors.append(("union", s.removeprefix("union ")) if s.startswith("union ") else ("struct", s))
    for r in m.rings:
        probe.anchors += [("struct", r.request), ("struct", r.response)]
    probe.anchors += [("enum", e) for e in m.enums] + [("typedef", t) for t in m.typedefs]
    src = work / "probe.c"
    src.write_text(probe.source()[0])
    return probe, macros.parse_dm(tool.macros(src))


def _adopt_macro_typedefs(probe: Probe, reg: Registry) -> None:
    """Kept 'typedefs' that Xen spells as macros (blkif_vdev_t) become our own typedefs of the type they name."""
    for i, (kind, name) in enumerate(probe.anchors):
        if kind == "typedef" and name not in reg.typedefs:
            reg.typedefs[name] = reg.variables[f"xenolith_probe_anchor_{i}"]


def build_context(inp: Inputs, work: Path) -> dict[str, object]:
    """Everything the templates need, computed and checked."""
    m = inp.manifest
    tool = Toolchain(inp.cc)
    tool.check()
    _check_inputs(inp)
    probe, table = _probe(inp, tool, work)

    selected = macros.select(table, m.constants)
    for _, name in selected:
        if not macros.is_string(table.objects[name]):
            probe.exprs.append((name, name))
    for r in m.rings:
        if "__CONST_RING_SIZE" in table.functions:
            probe.exprs.append((f"ring:{r.name}", f"__CONST_RING_SIZE({r.name}, 4096)"))
    result = build_probe(tool, probe, work)
    reg = read_registry(result.obj)
    _adopt_macro_typedefs(probe, reg)

    em = Emitter(reg, frozenset(m.typedefs), frozenset(m.enums))
    lay = Layout(reg)
    roots = [("union", s[6:]) if s.startswith("union ") else ("struct", s) for s in m.structs]
    roots += [("struct", n) for r in m.rings for n in (r.request, r.response)]
    aggregates = em.order(list(dict.fromkeys(roots)))
    for agg in aggregates:
        lay.aggregate(agg)

    constants: list[macros.Constant] = []
    for group, name in selected:
        c = macros.make_constant(group, name, table, result.values)
        if c is not None:
            constants.append(c)
    # Within a group: numbers in value order (as Xen lists them), strings last.
    order = {g: i for i, (g, _) in enumerate(m.constants)}
    constants.sort(key=lambda c: (order[c.group], isinstance(c.py_value, str), c.py_value if isinstance(c.py_value, int) else 0, c.name))
    by_name = {c.name: c for c in constants}
    for name, target in m.aliases:
        if target not in by_name:
            raise CodegenError(f"alias {name} -> {target}: {target} is not among the selected constants; add a pattern for it")
        t = by_name[target]
        constants.append(macros.Constant(name, "aliases", target, t.py_value, t.ctype, target))
    constants += [macros.own_constant("extra", n, v) for n, v in m.extra]
    constants += newer_constants(m.newer, by_name)

    hypercall_numbers = {c.name.removeprefix("__HYPERVISOR_"): int(c.py_value) for c in constants if c.group == "hypercalls"}
    for hc in m.hypercalls:
        if hc.name not in hypercall_numbers:
            raise CodegenError(f"hypercall '{hc.name}' has no __HYPERVISOR_{hc.name} in Xen's headers; fix [hypercalls] in the declared list")
    nr_hypercalls = max(HYPERCALL_SLOTS, max(hypercall_numbers.values(), default=0) + 1)

    rings: list[RingGeometry] = []
    for r in m.rings:
        probed = result.values.get(f"ring:{r.name}")
        rings.append(geometry(r, reg, probed[0] if probed else None))

    return _context(inp, tool, table, em, aggregates, constants, hypercall_numbers, nr_hypercalls, rings)


def newer_constants(newer: tuple[tuple[str, int], ...], by_name: dict[str, macros.Constant]) -> list[macros.Constant]:
    """The declared list's [newer] constants (from Xen releases after the oldest supported
    one) that the headers lack; where the headers have one, its value must agree."""
    out = []
    for name, value in newer:
        have = by_name.get(name)
        if have is None:
            out.append(macros.own_constant("newer", name, value))
        elif have.py_value != value:
            raise CodegenError(f"newer.{name} = {value} in the declared list, but Xen's headers say {have.py_value}; fix [newer]")
    return out


def _context(
    inp: Inputs,
    tool: Toolchain,
    table: macros.MacroTable,
    em: Emitter,
    aggregates: list[Aggregate],
    constants: list[macros.Constant],
    hypercall_numbers: dict[str, int],
    nr_hypercalls: int,
    rings: list[RingGeometry],
) -> dict[str, object]:
    m = inp.manifest
    reg = em.reg
    lay = Layout(reg)
    handles: list[str] = []
    forward: list[tuple[str, str]] = []
    emitted = {(a.kind, a.name) for a in aggregates}
    types_to_scan = [mem.type for a in aggregates for mem in a.members] + [reg.typedefs[t] for t in m.typedefs]
    for t in types_to_scan:
        handles += [h for h in em.handles_used(t) if h not in handles]
    for t in types_to_scan + [reg.handles[h] for h in handles]:
        forward += [f for f in em.pointer_refs(Pointer(t)) if f not in forward and f not in emitted]
    structs = [
        {
            "kind": a.kind,
            "name": a.name,
            "size": a.size,
            "definition": em.definition(a),
            "members": member_offsets(em, a),
        }
        for a in aggregates
    ]
    typedefs = [{"name": t, "decl": em.decl(reg.typedefs[t], t), "size": lay.size_align(Ref("typedef", t))[0]} for t in m.typedefs]
    enums = [reg.enums[e] for e in m.enums]
    enum_consts = [(name, value) for e in enums for name, value in e.values]
    groups: dict[str, list[macros.Constant]] = {}
    for c in constants:
        groups.setdefault(c.group, []).append(c)
    return {
        "generator": "codegen (python -m codegen, Xenolith)",
        "header_dir": str(inp.header_dir),
        "headers": list(m.headers),
        "manifest": m.path.name,
        "xen_version": xen_package_version(inp.header_dir),
        "interface_version": f"{tool.interface_version:#010x}",
        "latest_interface_version": table.objects.get("__XEN_LATEST_INTERFACE_VERSION__", "unknown"),
        "const_groups": [(g, cs) for g, cs in groups.items() if g != "elfnote"],
        "elfnote_consts": groups.get("elfnote", []),
        "constants": constants,
        "enum_consts": enum_consts,
        "nr_hypercalls": nr_hypercalls,
        "hypercall_numbers": sorted(hypercall_numbers.items(), key=lambda kv: kv[1]),
        "hypercalls": [plan_hypercall(h) for h in m.hypercalls],
        "forward": forward,
        "handles": [(h, em.decl(reg.handles[h], "*p")) for h in handles],
        "typedefs": typedefs,
        "enums": enums,
        "structs": structs,
        "rings": rings,
    }


def generate(inp: Inputs) -> list[Path]:
    """Write build/gen/include/abi/*.h and build/gen/python/xen_abi.py; return the files written or unchanged."""
    with tempfile.TemporaryDirectory(prefix="xenolith-codegen-") as tmp:
        ctx = build_context(inp, Path(tmp))
    return render_all(ctx, inp.out_dir)
