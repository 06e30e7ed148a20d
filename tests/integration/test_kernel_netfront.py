"""netfront and the TCP/IP stack (lwIP) under real Xen, against Linux netback.

Kernel side: drivers/netfront/ (xenbus negotiation, rx and tx rings, `net`,
the `netfront` suite) and drivers/net/ (lwIP's glue: a netif per vif, the
stack's thread, UDP and TCP echo, `ping`, `arp`). One Xenolith domU with a vif on dom0's bridge xenbr0
(10.0.0.1/24) and `ip=10.0.0.2/24` serves every test (module-scoped, in file
order). dom0 pings the guest (the key test), the guest pings dom0, dom0 sees
the guest's MAC, and net_peer.c (built here with gcc -static, run in dom0)
writes malformed frames at the guest through its backend interface vifD.0:
the guest must count them as drops with clear messages and keep answering.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, build_static_peer, domu_shell

from xenlab import Host

GUEST = "xnettest"
GUEST_MIB = 32
GUEST_IP = "10.0.0.2"
DOM0_IP = "10.0.0.1"
BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 120
PEER_SRC = Path(__file__).with_name("net_peer.c")
RANDOM_FRAMES = 40


@pytest.fixture(scope="module")
def domu(xen_host: Host, kernel_elf: Path) -> Iterator[tuple[Shell, str]]:
    """The guest at its prompt, and what it printed while booting."""
    with domu_shell(xen_host, kernel_elf, GUEST, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    cmdline=f"ip={GUEST_IP}/24", vifs=("xenbr0",)) as sh:
        yield sh, sh.boot


@pytest.fixture(scope="module")
def shell(domu: tuple[Shell, str]) -> Shell:
    return domu[0]


@pytest.fixture(scope="module")
def domid(xen_host: Host, shell: Shell) -> int:
    return xen_host.domid(GUEST)


@pytest.fixture(scope="module")
def guest_mac(shell: Shell) -> str:
    m = re.search(r"mac ([0-9a-f]{2}(?::[0-9a-f]{2}){5})", shell.run("net"))
    assert m, "no MAC in `net`"
    return m.group(1)


def counters(out: str) -> dict[str, int]:
    """`net`'s numbers: link rx/tx packets, answered echoes, drops by reason."""
    found: dict[str, int] = {}
    m = re.search(r"link: rx (\d+) packets (\d+) bytes, tx (\d+) packets", out)
    assert m, out
    found["rx_packets"], found["rx_bytes"], found["tx_packets"] = (int(g) for g in m.groups())
    m = re.search(r"echoed (\d+) udp datagrams, (\d+) tcp bytes", out)
    assert m, out
    found["udp_echoed"], found["tcp_echoed"] = int(m.group(1)), int(m.group(2))
    for name, n in re.findall(r"^\s+netfront (\S+)\s+(\d+)", out, re.MULTILINE):
        found[f"netfront:{name}"] = int(n)
    for proto, fields in re.findall(r"^\s+lwip (\S+)\s+(recv .*)$", out, re.MULTILINE):
        for counter, n in re.findall(r"(\w+) (\d+)", fields):
            found[f"{proto}-{counter}"] = int(n)
    assert "icmp-xmit" in found, out
    found["echo_answered"] = found["icmp-xmit"]
    return found


def test_connected_at_boot(domu: tuple[Shell, str], guest_mac: str) -> None:
    shell, boot = domu
    assert "net: address 10.0.0.2/24" in boot, boot
    assert re.search(r"netfront: device/vif/0 connected: mac ([0-9a-f:]{17})", boot), boot
    out = shell.run("net")
    assert re.search(r"net: vif device/vif/0: connected, backend /local/domain/0/backend/vif/\d+/0",
                     out), out
    assert f"ip {GUEST_IP}/24" in out, out
    assert re.search(r"rx ref \d+ \(256 slots, 64 posted\)", out), out
    assert re.search(rf"net: vif0 up: gratuitous ARP for {GUEST_IP} at [0-9a-f:]{{17}}", boot), boot
    assert "gratuitous ARP sent 1 " in out, out


def test_xenstore_states_connected(xen_host: Host, domid: int, shell: Shell) -> None:
    fe = f"/local/domain/{domid}/device/vif/0"
    assert xen_host.check(f"xenstore-read {fe}/state").strip() == "4"
    be = xen_host.check(f"xenstore-read {fe}/backend").strip()
    assert xen_host.check(f"xenstore-read {be}/state").strip() == "4"
    for key, want in (("request-rx-copy", "1"), ("feature-rx-notify", "1")):
        assert xen_host.check(f"xenstore-read {fe}/{key}").strip() == want, key


def test_dom0_pings_guest(xen_host: Host, shell: Shell) -> None:
    """The key test: packets from dom0 are answered by the guest."""
    res = xen_host.dom0(f"ping -c 3 -W 5 {GUEST_IP}", timeout=90)
    assert res.status == 0, res.output
    m = re.search(r"(\d+) packets transmitted, (\d+) (?:packets )?received", res.output)
    assert m and int(m.group(2)) == 3, res.output
    assert counters(shell.run("net"))["echo_answered"] >= 3


def test_guest_pings_dom0(shell: Shell) -> None:
    out = shell.run(f"ping {DOM0_IP} 3")
    assert len(re.findall(rf"bytes from {DOM0_IP}: icmp_seq=\d+ ttl=\d+ time=[\d.]+ ms", out)) == 3, out
    assert "3 packets transmitted, 3 received, 0% packet loss" in out, out
    out = shell.run("arp")
    assert re.search(rf"^\s*{re.escape(DOM0_IP)}\s+[0-9a-f:]{{17}}", out, re.MULTILINE), out


def test_dom0_sees_guest_mac(xen_host: Host, shell: Shell, guest_mac: str, domid: int) -> None:
    neigh = xen_host.check(f"ip neigh show {GUEST_IP}")
    assert guest_mac in neigh.lower(), neigh
    # The bridge's forwarding table (no `bridge`/`brctl` in dom0's image): the
    # binary sysfs file, 16-byte struct __fdb_entry records, MAC first.
    fdb = xen_host.check("od -An -tx1 -v -w16 /sys/class/net/xenbr0/brforward")
    macs = {":".join(line.split()[:6]) for line in fdb.splitlines() if len(line.split()) == 16}
    assert guest_mac in macs, fdb


def test_counters_moved(shell: Shell) -> None:
    c = counters(shell.run("net"))
    assert c["rx_packets"] > 0 and c["rx_bytes"] > 0 and c["tx_packets"] > 0, c


def test_udp_echo(xen_host: Host, shell: Shell, peer: str) -> None:
    res = xen_host.dom0(f"{peer} udp {GUEST_IP} 7 10", timeout=60)
    assert res.status == 0 and "udp: echo ok" in res.output, res.output
    assert counters(shell.run("net"))["udp_echoed"] >= 1


@pytest.fixture(scope="module")
def peer(xen_host: Host, tmp_path_factory: pytest.TempPathFactory) -> str:
    """net_peer in dom0: its path there."""
    return build_static_peer(xen_host, PEER_SRC, tmp_path_factory.mktemp("netpeer"))


def test_garbage_from_dom0_is_dropped(xen_host: Host, shell: Shell, peer: str, guest_mac: str,
                                      domid: int) -> None:
    before = counters(shell.run("net"))
    res = xen_host.dom0(f"{peer} garbage vif{domid}.0 {guest_mac} {GUEST_IP} "
                        f"10.0.0.66 {RANDOM_FRAMES}", timeout=120)
    assert res.status == 0 and "garbage: sent" in res.output, res.output
    assert "sendto" not in res.output, res.output
    out = shell.run("net")
    after = counters(out)
    # lwIP's counters: truncated header, total length past the frame, IHL past
    # the packet or below 5 (lenerr); header checksum (chkerr); version 6
    # (err); fragment (opterr: no reassembly); ICMP checksum and a short echo;
    # ARP with hlen 7 and a truncated one (proterr, the runt padded to 60).
    moved = {}
    for key in ("ip-lenerr", "ip-chkerr", "ip-err", "ip-opterr", "icmp-chkerr", "icmp-lenerr",
                "arp-proterr"):
        moved[key] = after.get(key, 0) - before.get(key, 0)
        assert moved[key] > 0, f"{key} did not move:\n{out}"
    assert moved["ip-lenerr"] >= 4 and moved["arp-proterr"] >= 2, moved
    # The messages are clear, and each names its reason.
    assert re.search(r"net: drop ip-chkerr: \d+-byte frame on interface 0", out), out
    assert re.search(r"net: drop ip-lenerr: \d+-byte frame on interface 0", out), out
    assert "FATAL" not in out, out
    shell.alive()
    # Good traffic still flows.
    res = xen_host.dom0(f"ping -c 3 -W 5 {GUEST_IP}", timeout=90)
    assert res.status == 0, res.output
    assert counters(shell.run("net"))["echo_answered"] >= after["echo_answered"] + 3


def test_suite_passes_from_shell(shell: Shell) -> None:
    result, detail = shell.selftest("netfront")
    assert result == "PASS", f"netfront: {detail}; log {shell.log}"
    assert "skipped" not in detail and f"ping {DOM0_IP}" in detail, detail
    # The 8th: a UDP datagram with a wrong checksum, taken when flagged NETRXF_csum_blank.
    assert "8 crafted frames handled right" in detail, detail
