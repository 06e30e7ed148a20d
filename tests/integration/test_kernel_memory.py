"""Memory under real Xen: direct map, page allocator and heap, mmu batching, balloon.

Kernel side: kernel/arch/x86_32/{pagetable,directmap,mmu_bench}.c,
kernel/{page_alloc,heap,mm_init}.c, kernel/xen/memory/{p2m,memory,balloon}.c and
their self-test suites (mm_pagetable, mm_writable_pt, mm_p2m, mm_m2p, mm_alloc,
mm_balloon). Boots are slow: one domU (32 MiB) and one dom0-mode boot serve
most tests through the kernel's shell (`xenolith> `); the balloon is judged
from outside, by the memory column of `xl list`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import PROMPT, Shell, dom0_shell, domain_mib, domu_shell, guest_pages

from xenlab import GuestSpec, Host, Lab

BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 180
PART = ("pagetable", "memory", "mm_alloc")  # <stem>_selftest.c: this part's suites
GUEST = "xmemtest"
GUEST_MIB = 32
PAGES_PER_MIB = 256
BALLOON_MIB = 16
BATCH_ADVANTAGE = 20  # batched mmu_update must need this many times fewer hypercalls
DIRECT_MAP_MAX_MIB = 836  # 0xC0000000 up to the grant, stack and scratch areas (0xF4400000)
LARGE_BALLOON_MIB = 512  # what the large guests give back (at most)
HIGH_MACHINE_MIB = 20 * 1024  # past 16 GiB, the most 32-bit Xen's M2P covers
M2P_32BIT_ENTRIES = 0x400000  # MACH2PHYS_NR_ENTRIES (public/arch-x86/xen-x86_32.h): 16 GiB


def number(pattern: str, text: str) -> int:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not found in:\n{text}"
    return int(m.group(1))


def xl_memory_mib(host: Host, name: str) -> int:
    """The Mem column of `xl list` for one domain."""
    for line in host.xl_list().splitlines():
        words = line.split()
        if words and words[0] == name:
            return int(words[2])
    raise AssertionError(f"{name} is not in xl list:\n{host.xl_list()}")


@pytest.fixture(scope="module")
def domu(xen_host: Host, kernel_elf: Path) -> Iterator[Shell]:
    """Xenolith as a 32 MiB domU of the Linux dom0, at its prompt."""
    with domu_shell(xen_host, kernel_elf, GUEST, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT) as sh:
        yield sh


@pytest.fixture(scope="module")
def dom0(dom0_lab: Lab, kernel_elf: Path) -> Iterator[Shell]:
    """Xenolith as dom0 (256 MiB; its console is Xen's serial line), at its prompt."""
    with dom0_shell(dom0_lab, kernel_elf, "", 256, BOOT_TIMEOUT, COMMAND_TIMEOUT) as sh:
        yield sh


def test_mem_reports_sane_numbers(domu: Shell, xen_host: Host) -> None:
    pages = guest_pages(domu, xen_host, GUEST_MIB)
    out = domu.run("mem")
    total = number(r"pseudo-physical (\d+) pages", out)
    direct = number(r"direct map (\d+) pages", out)
    managed = number(r"page allocator (\d+) pages", out)
    free = number(r"free (\d+) pages", out)
    current = number(r"reservation current (\d+) pages", out)
    maximum = number(r"maximum (\d+) pages", out)
    assert total == pages, out
    assert direct == total, out  # 32 MiB fits the direct map whole
    assert total // 2 < managed < total and 0 < free <= managed, out
    assert current == total and maximum >= current, out
    assert re.search(r"heap \d+ bytes in \d+ blocks, \d+ pages", out), out


def test_domu_suites_pass(domu: Shell) -> None:
    failed = {n: r for n, r in domu.run_suites(PART).items() if r.verdict != "PASS"}
    assert not failed, f"{failed} (log: {domu.log})"


def test_balloon_moves_xl_list(domu: Shell, xen_host: Host) -> None:
    """The shell's `balloon MIB` sets the kernel's own reservation; `xl list` shows the
    domain, which through the PV shim holds the shim's pages too (they stay)."""
    full = guest_pages(domu, xen_host, GUEST_MIB)
    shims = domain_mib(xen_host, GUEST_MIB) * PAGES_PER_MIB - full  # 0 classically
    assert xl_memory_mib(xen_host, GUEST) == domain_mib(xen_host, GUEST_MIB)
    out = domu.run(f"balloon {BALLOON_MIB}")
    assert f"after {BALLOON_MIB * PAGES_PER_MIB} pages ({BALLOON_MIB} MiB)" in out, out
    assert xl_memory_mib(xen_host, GUEST) == (BALLOON_MIB * PAGES_PER_MIB + shims) // PAGES_PER_MIB
    assert number(r"ballooned out (\d+) pages", domu.run("mem")) == \
        full - BALLOON_MIB * PAGES_PER_MIB
    back = full // PAGES_PER_MIB * PAGES_PER_MIB  # whole MiB: all of them classically
    out = domu.run(f"balloon {back // PAGES_PER_MIB}")
    assert f"after {back} pages" in out, out
    assert xl_memory_mib(xen_host, GUEST) == (back + shims) // PAGES_PER_MIB
    # The pages came back usable: the allocator and heap suites still pass.
    assert domu.selftest("mm_alloc")[0] == "PASS"
    assert domu.selftest("mm_p2m")[0] == "PASS"


def test_bench_mmu_batches(domu: Shell) -> None:
    out = domu.run("bench mmu", timeout=600)
    line = r"bench mmu: {} \([^)]*\): 4096 maps \+ 4096 unmaps, (\d+) hypercalls, (\d+ us|time n/a)"
    single = re.search(line.format("single"), out)
    batched = re.search(line.format("batched"), out)
    assert single and batched, out
    assert int(single.group(1)) >= 2 * 4096, out
    assert int(batched.group(1)) * BATCH_ADVANTAGE < int(single.group(1)), out


def test_dom0_suites_pass(dom0: Shell) -> None:
    failed = {n: r for n, r in dom0.run_suites(PART).items() if r.verdict != "PASS"}
    assert not failed, f"{failed} (log: {dom0.log})"


def test_dom0_balloon_and_back(dom0: Shell) -> None:
    mib = number(r"reservation current (\d+) pages", dom0.run("mem")) // PAGES_PER_MIB
    out = dom0.run(f"balloon {mib - BALLOON_MIB}")
    assert f"after {(mib - BALLOON_MIB) * PAGES_PER_MIB} pages" in out, out
    out = dom0.run(f"balloon {mib}")
    assert f"after {mib * PAGES_PER_MIB} pages" in out, out


@pytest.mark.parametrize("mib", [1024, 3000])
def test_large_guest_maps_what_fits_and_balloons(dom0_lab: Lab, kernel_elf: Path, mib: int) -> None:
    """More memory than fits below Xen: the guest maps what fits, says so, and works.

    The pages above the direct map are given back first (nothing uses them), so
    ballooning by less than that leaves the page allocator untouched.
    """
    mapped = re.compile(r"mm: (\d+) pages \((\d+) MiB\) of pseudo-physical memory; "
                        r"direct map (\d+) pages \((\d+) MiB\)")
    unmapped = re.compile(rf"mm: \d+ pages \({mib - DIRECT_MAP_MAX_MIB} MiB\) above "
                          rf"{DIRECT_MAP_MAX_MIB} MiB are not mapped")
    with dom0_lab.boot_dom0_kernel(kernel_elf, "", mib) as run:
        idx = run.console.expect([mapped.pattern, r"\*\*\* FATAL"], timeout=BOOT_TIMEOUT)
        assert idx == 0, f"fatal error during boot; log: {run.log}"
        m = run.console.child.match
        assert int(m.group(2)) == mib and int(m.group(4)) == min(mib, DIRECT_MAP_MAX_MIB), m.group(0)
        run.console.expect([unmapped.pattern], timeout=30)
        run.console.expect([re.escape(PROMPT)], timeout=BOOT_TIMEOUT)
        shell = Shell(run.console, run.log, COMMAND_TIMEOUT)
        assert shell.selftest("mm_p2m")[0] == "PASS"
        mem = shell.run("mem")
        pages, free = number(r"reservation current (\d+) pages", mem), number(r"free (\d+) pages", mem)
        give = min(mib - DIRECT_MAP_MAX_MIB, LARGE_BALLOON_MIB) * PAGES_PER_MIB
        out = shell.run(f"balloon {(pages - give) // PAGES_PER_MIB}")
        assert f"after {pages - give} pages" in out, out
        mem = shell.run("mem")
        assert number(r"ballooned out (\d+) pages", mem) == give, mem
        assert number(r"free (\d+) pages", mem) == free, mem  # none came from the allocator
        out = shell.run(f"balloon {pages // PAGES_PER_MIB}")
        assert f"after {pages} pages" in out, out
        assert shell.selftest("mm_p2m")[0] == "PASS"


def test_large_domu_on_its_own_host(lab: Lab, kernel_elf: Path) -> None:
    """A domU of several GiB: the lab gives QEMU room for dom0 plus the guest, `xl list`
    shows the guest's size, and the guest maps what fits below Xen and says so."""
    mib = 3000
    host = lab.up(memory_mib=1024 + mib)
    try:
        guest = host.create(GuestSpec(kernel=kernel_elf, name="xmem-large", memory_mib=mib))
        try:
            # Through the shim the guest has the domain less the shim's share.
            size = r"\d+" if host.shim else str(mib)
            mapped = (rf"mm: \d+ pages \({size} MiB\) of pseudo-physical memory; "
                      rf"direct map \d+ pages \({DIRECT_MAP_MAX_MIB} MiB\)")
            guest.console.expect([mapped], BOOT_TIMEOUT)
            guest.console.expect([rf"above {DIRECT_MAP_MAX_MIB} MiB are not mapped"], 30)
            guest.console.expect([re.escape(PROMPT)], BOOT_TIMEOUT)
            row = next(line.split() for line in host.xl_list().splitlines()
                       if line.startswith("xmem-large "))
            assert int(row[2]) >= mib - 1, row  # Mem column, MiB
        finally:
            guest.destroy()
    finally:
        host.close()


def test_dom0_frames_past_16_gib(dom0_lab: Lab, kernel_elf: Path) -> None:
    """A machine of 20 GiB: Xen gives dom0 its highest frames, past the 16 GiB that
    32-bit Xen's MACH2PHYS_VIRT_END covers. The kernel finds the M2P's bound with
    XENMEM_machphys_mapping, so memory set-up (which looks up the frames of Xen's initial
    page tables in the M2P) works and every frame is found."""
    with dom0_lab.boot_dom0_kernel(kernel_elf, "", 256, machine_mib=HIGH_MACHINE_MIB) as run:
        idx = run.console.expect([re.escape(PROMPT), r"\*\*\* FATAL|init: \w+ failed"],
                                 timeout=BOOT_TIMEOUT)
        assert idx == 0, f"boot failed: {run.console.child.match.group(0)}; log: {run.log}"
        shell = Shell(run.console, run.log, COMMAND_TIMEOUT)
        verdict, detail = shell.selftest("mm_m2p")
        assert verdict == "PASS", detail
        m = re.search(r"our highest frame (0x[0-9a-f]+)", detail)
        assert m, detail
        assert int(m.group(1), 16) >= M2P_32BIT_ENTRIES, f"the lab did not place dom0 past 16 GiB: {detail}"
        assert shell.selftest("mm_p2m")[0] == "PASS"
