"""`make bench`, kernel part: the kernel's speed and memory targets, measured under real Xen.

Benchmarks, not tests: they print figures and the target next to each, and exit 0
whatever the figures are (these machines are shared and noisy). Measured:
- size: text + rodata + data, by section, of build/kernel.elf (the default build, for
  reference) and of build/tiny/kernel.elf (`make tiny`: -Os, no self-tests, no benchmarks,
  no symbol table, unused code dropped). The target, "stripped kernel (no drivers) under
  64 KiB of text+data", is measured on the tiny one;
- smallest guest: a 4 MiB domU boots and passes `selftest=all` (exit reason poweroff);
- boot: the kernel's own banner-to-shell time (Xen system time, printed at boot);
- page tables: `bench mmu`, 4096 PTEs mapped + unmapped one per hypercall vs batched.

Usage: .venv/bin/python tests/bench/kernel_bench.py build/kernel.elf [build/tiny/kernel.elf]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from elftools.elf.elffile import ELFFile

from xenlab import ExitReason, GuestSpec, Host, Lab, LabConfig

PROMPT = "xenolith> "
SIZE_TARGET = 64 * 1024
SMALL_GUEST_MIB = 4
GUEST_MIB = 32
TIMEOUT = 300


def section_sizes(kernel: Path) -> dict[str, int]:
    """Bytes per loaded section (SHF_ALLOC), by name."""
    with kernel.open("rb") as fh:
        elf = ELFFile(fh)
        return {s.name: s["sh_size"] for s in elf.iter_sections()
                if s["sh_flags"] & 0x2 and s.name}  # SHF_ALLOC


def loaded_size(kernel: Path) -> tuple[int, str]:
    """text + rodata + data in bytes, and every loaded section by name (bss included)."""
    sizes = section_sizes(kernel)
    total = sum(v for k, v in sizes.items() if k in (".text", ".rodata", ".data"))
    return total, ", ".join(f"{k} {v}" for k, v in sorted(sizes.items()))


def report_size(kernel: Path, tiny: Path | None) -> None:
    total, parts = loaded_size(kernel)
    print(f"size (default build, {kernel}): text+rodata+data {total} bytes "
          f"({total / 1024:.1f} KiB); sections: {parts}")
    if tiny is None:
        print("size: no tiny kernel given (`make tiny`); the 64 KiB target is not measured")
        return
    total, parts = loaded_size(tiny)
    verdict = "met" if total < SIZE_TARGET else "MISSED"
    print(f"size (tiny, {tiny}): text+rodata+data {total} bytes ({total / 1024:.1f} KiB; "
          f"target < 64 KiB: {verdict}); sections: {parts}")


def smallest_guest(host: Host, kernel: Path) -> None:
    guest = host.create(GuestSpec(kernel=kernel, name="bench-small", memory_mib=SMALL_GUEST_MIB,
                                  cmdline="selftest=all"))
    try:
        guest.console.expect([r"selftest summary: (\d+) passed, (\d+) failed"], TIMEOUT)
        m = guest.console.child.match
        reason = guest.wait_shutdown(60)
        ok = reason is ExitReason.POWEROFF and m.group(2) == "0"
        print(f"memory={SMALL_GUEST_MIB}: selftest=all {m.group(1)} passed, {m.group(2)} failed, "
              f"exit {reason.name.lower()} (target: boots and passes: {'met' if ok else 'MISSED'})")
    finally:
        guest.destroy()


def boot_and_mmu(host: Host, kernel: Path) -> None:
    guest = host.create(GuestSpec(kernel=kernel, name="bench-mmu", memory_mib=GUEST_MIB))
    try:
        guest.console.expect([r"boot: banner to shell in ([0-9.]+) ms"], TIMEOUT)
        print(f"boot: banner to shell {guest.console.child.match.group(1)} ms "
              "(Xen system time, measured by the kernel)")
        guest.console.expect([re.escape(PROMPT)], TIMEOUT)
        guest.console.send("bench mmu\r")
        guest.console.expect([re.escape(PROMPT)], TIMEOUT)
        for line in re.findall(r"bench mmu: [^\r\n]+", guest.console.before):
            print(line)
    finally:
        guest.destroy()


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or not all(Path(a).is_file() for a in argv[1:]):
        print("usage: kernel_bench.py build/kernel.elf [build/tiny/kernel.elf] "
              "(run `make kernel tiny` first)", file=sys.stderr)
        return 2
    kernel = Path(argv[1])
    report_size(kernel, Path(argv[2]) if len(argv) == 3 else None)
    host = Lab(LabConfig()).up()
    try:
        smallest_guest(host, kernel)
        boot_and_mmu(host, kernel)
    finally:
        host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
