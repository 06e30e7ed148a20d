"""docs/hypercalls.md is what codegen/hypercall_table.py reads from the sources now,
and the reader finds each shape of call with its sub-op and function."""

from __future__ import annotations

from pathlib import Path

from codegen.hypercall_table import DEFAULT_OUT, Use, render, scan, uses_in

ROOT = Path(__file__).resolve().parents[2]


def test_committed_table_is_current() -> None:
    committed = (ROOT / DEFAULT_OUT).read_text(encoding="utf-8")
    assert committed == render(scan(ROOT)), (
        "docs/hypercalls.md is stale: run `make hypercall-table` (or `make kernel`) and commit it"
    )


def test_table_names_known_callers() -> None:
    uses = scan(ROOT)
    assert any(u.hypercall == "event_channel_op" and u.subops == ("EVTCHNOP_unmask",) for u in uses)
    assert any(u.hypercall == "stack_switch" and u.how == "batch" for u in uses)
    assert any(u.hypercall == "iret" and u.how == "stub" for u in uses)


SAMPLE = """
/* HYPERVISOR_console_io(CONSOLEIO_write) in a comment is not a call */
static const char *s = "HYPERVISOR_sched_op(SCHEDOP_yield)";
static long f(unsigned cmd)
{
    if (cmd)
        return HYPERVISOR_memory_op(XENMEM_populate_physmap, &r);
    return HYPERVISOR_xen_version(cmd, NULL);
}
static void g(void)
{
    struct multicall_entry *e = multicall_add(&mc, __HYPERVISOR_mmuext_op);
    op.cmd = MMUEXT_NEW_BASEPTR;
}
SELFTEST(demo)
{
    (void)HYPERVISOR_xen_version(XENVER_version, NULL);
}
"""


def test_reader_shapes() -> None:
    uses = sorted(uses_in("x.c", SAMPLE + "int h(void) { return XENVER_extraversion; }\n"))
    assert uses == sorted([
        Use("memory_op", ("XENMEM_populate_physmap",), "x.c", "f", "call", "args"),
        Use("xen_version", ("XENVER_extraversion", "XENVER_version"), "x.c", "f", "call", "file"),
        Use("mmuext_op", ("MMUEXT_NEW_BASEPTR",), "x.c", "g", "batch", "function"),
        Use("xen_version", ("XENVER_version",), "x.c", "SELFTEST(demo)", "call", "args"),
    ])


def test_assembly_context() -> None:
    asm = ".macro EXIT\n    jmp hypercall_page + __HYPERVISOR_iret * 32\n.endm\nfoo:\n    call hypercall_page + __HYPERVISOR_sched_op * 32\n"
    assert sorted(uses_in("x.S", asm)) == sorted([
        Use("iret", (), "x.S", ".macro EXIT", "stub", ""),
        Use("sched_op", (), "x.S", "foo", "stub", ""),
    ])
