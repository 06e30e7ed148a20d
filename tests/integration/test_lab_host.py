"""The lab reaches a Linux dom0 on Xen with 32-bit PV support, and hosts GRUB i386-xen."""

from __future__ import annotations

from pathlib import Path

import pytest
from kshell import domain_mib, grub_with_vif_and_disk

from xenlab import ExitReason, GuestError, GuestSpec, Host, Lab


def test_xl_info_lists_x86_32p_unless_stock(xen_host: Host, lab: Lab) -> None:
    """A rebuilt flavour runs 32-bit PV guests itself; Debian's own does not (its guests go
    through the shim, which is why the host's default is the shim there)."""
    res = xen_host.dom0("xl info")
    assert res.status == 0, res.output
    assert ("xen-3.0-x86_32p" in res.output) == lab.flavour.pv32, res.output
    assert xen_host.shim == lab.flavour.stock


def test_grub_domu_with_vif_and_disk(xen_host: Host, grub_pv: Path, tmp_path: Path) -> None:
    grub_with_vif_and_disk(xen_host, grub_pv, tmp_path, "grubtest")


def test_dom0_command_status_and_output(xen_host: Host) -> None:
    res = xen_host.dom0("echo out; echo err >&2; exit 7")
    assert res.status == 7
    assert "out" in res.output and "err" in res.output


@pytest.mark.parametrize(("command", "reason"), [("halt", ExitReason.POWEROFF),
                                                 ("reboot", ExitReason.REBOOT)])
def test_guest_shutdown_reason(xen_host: Host, grub_pv: Path, command: str,
                               reason: ExitReason) -> None:
    guest = xen_host.create(GuestSpec(kernel=grub_pv, name=f"grub{command}",
                                      memory_mib=domain_mib(xen_host, 16)))
    try:
        guest.console.expect([r"grub>"], timeout=60)
        guest.console.send(f"{command}\r")
        assert guest.wait_shutdown(60) is reason
    finally:
        guest.destroy()


def test_xl_create_error_is_explained(xen_host: Host, grub_pv: Path) -> None:
    # 2 MiB is below what the domain builder accepts for a 32-bit PV kernel.
    # Classically the domain builder is out of memory; through the shim, the PVH domain
    # cannot even have its paging pool ("Failed to set paging mempool size ...").
    why = "Cannot allocate memory" if xen_host.shim else "Out of memory"
    with pytest.raises(GuestError, match=rf"(?s)xl create of tiny failed .*{why}.*serial log"):
        xen_host.create(GuestSpec(kernel=grub_pv, name="tiny", memory_mib=2))
    assert "tiny" not in xen_host.dom0("xl list").output
