"""The toolstack's requests, as an admin makes them with xl (kernel/xen/control.c,
balloon_target.c).

`xl shutdown -w` completes with the domain powered off, `xl reboot` reboots it,
`xl sysrq` runs a dump; a request the kernel does not know is reported, left
unacknowledged and the shell keeps answering; `xl mem-set` down and up shows in
`xl list`, and a target below the guest's floor is refused while it keeps
running. Judged from dom0 (xl, xenstore-read) and the guest's console.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from kshell import Shell, domain_mib, domu_shell

from xenlab import ExitReason, Host

BOOT_TIMEOUT = 120
MEMORY_MIB = 64
SETTLE_S = 30


def xl_memory_mib(host: Host, name: str) -> int:
    """The domain's memory as `xl list` shows it (MiB)."""
    out = host.check(f"xl list {name}")
    row = out.strip().splitlines()[-1].split()
    return int(row[2])


def wait_memory(host: Host, name: str, want: int) -> int:
    deadline = time.monotonic() + SETTLE_S
    seen = xl_memory_mib(host, name)
    while seen != want and time.monotonic() < deadline:
        time.sleep(0.5)
        seen = xl_memory_mib(host, name)
    return seen


def test_features_advertised_and_xl_shutdown_powers_off(xen_host: Host,
                                                        kernel_elf: Path) -> None:
    with domu_shell(xen_host, kernel_elf, "ctl-off", 32, BOOT_TIMEOUT) as shell:
        domid = xen_host.domid("ctl-off")
        for feature in ("poweroff", "reboot"):
            value = xen_host.check(f"xenstore-read /local/domain/{domid}/control/feature-{feature}")
            assert value.strip() == "1", f"feature-{feature} = {value!r}"
        xen_host.check("xl shutdown -w ctl-off", timeout=60)
        assert shell.guest is not None
        assert shell.guest.wait_shutdown(30) is ExitReason.POWEROFF
        shell.console.expect([r"control: the toolstack asks for poweroff"], 10)


def test_xl_reboot_reboots(xen_host: Host, kernel_elf: Path) -> None:
    with domu_shell(xen_host, kernel_elf, "ctl-reboot", 32, BOOT_TIMEOUT) as shell:
        xen_host.check("xl reboot ctl-reboot", timeout=60)
        assert shell.guest is not None
        assert shell.guest.wait_shutdown(30) is ExitReason.REBOOT


def test_unknown_request_is_reported_and_not_acknowledged(xen_host: Host,
                                                          kernel_elf: Path) -> None:
    with domu_shell(xen_host, kernel_elf, "ctl-bogus", 32, BOOT_TIMEOUT) as shell:
        node = f"/local/domain/{xen_host.domid('ctl-bogus')}/control/shutdown"
        xen_host.check(f"xenstore-write {node} bogus")
        unknown = r"control: unknown request control/shutdown = 'bogus' \(not acknowledged\)"
        shell.console.expect([unknown], 20)
        shell.alive()
        assert xen_host.check(f"xenstore-read {node}").strip() == "bogus"
        assert xen_host.xl_list("ctl-bogus") and shell.guest is not None
        assert shell.guest.reason() is None


def test_xl_sysrq_runs_a_dump(xen_host: Host, kernel_elf: Path) -> None:
    with domu_shell(xen_host, kernel_elf, "ctl-sysrq", 32, BOOT_TIMEOUT) as shell:
        xen_host.check("xl sysrq ctl-sysrq t")
        shell.console.expect([r"control: sysrq 't': threads"], 20)
        shell.console.expect([r"\bcontrol\s+running\b"], 20)  # the thread that runs it
        shell.alive()


def test_mem_set_down_up_and_below_the_floor(xen_host: Host, kernel_elf: Path) -> None:
    name = "ctl-mem"
    with domu_shell(xen_host, kernel_elf, name, MEMORY_MIB, BOOT_TIMEOUT,
                    drop_echo=True) as shell:
        full = domain_mib(xen_host, MEMORY_MIB)
        assert xl_memory_mib(xen_host, name) == full
        xen_host.check(f"xl mem-set {name} 32")
        assert wait_memory(xen_host, name, 32) == 32
        assert_mem_target(shell, 32)
        xen_host.check(f"xl mem-set {name} {full}")
        assert wait_memory(xen_host, name, full) == full
        assert_mem_target(shell, full)
        xen_host.check(f"xl mem-set {name} 1")
        shell.console.expect([r"balloon: memory/target 1024 KiB refused: below the floor"], 20)
        shell.alive()
        assert xl_memory_mib(xen_host, name) == full
        assert shell.guest is not None and shell.guest.reason() is None


def assert_mem_target(shell: Shell, mib: int) -> None:
    out = shell.run("mem")
    m = re.search(r"toolstack target (\d+) pages \((\d+) MiB\)", out)
    assert m and int(m.group(2)) == mib, out
