"""Network figures from dom0 over xenbr0 (netload.c): UDP and ICMP request/response rates with
64-byte payloads, and one-way UDP throughput with 1472-byte payloads.

One-way: dom0 sends datagrams to the guest's port 9 as fast as its socket takes
them for the repetition's seconds; the figure is what reached the guest's UDP
layer, counted by the guest: Xenolith's `net` count of datagrams its UDP
discard service (port 9, RFC 863) took, Linux's
`Udp: InDatagrams` (/proc/net/snmp; `netload sink 9` reads them). What dom0
sent beyond that was dropped on the way (netback's queue, the guest's ring).
"""

from __future__ import annotations

import re
import time

from xenlab.bench import session
from xenlab.bench.netload import parse_blast, parse_rate
from xenlab.bench.peers import XENOLITH, XENOLITH_PROMPT, Peer
from xenlab.bench.report import Report
from xenlab.host import Host

NET_FIGURES = ("udp_rr", "icmp_rr", "udp_stream")
STREAM_PORT, STREAM_SIZE = 9, 1472
SETTLE = 1.0  # seconds for the guest to take in what is still on its way
XENOLITH_UDP = re.compile(r"discarded (\d+) udp datagrams")
LINK = "link: rx"
LINUX_UDP = re.compile(r"udpin-(\d+)-end")


def udp_received(host: Host, peer: Peer, timeout: float) -> int | None:
    """The guest's count of UDP datagrams that reached its UDP layer (see the docstring)."""
    if peer.kind == XENOLITH:
        out = session.shell(host, "net", re.escape(XENOLITH_PROMPT), timeout) or ""
        if LINK not in out:
            return None
        m = XENOLITH_UDP.search(out)
        return int(m.group(1)) if m else 0
    session.shell(host, "awk '/^Udp:/ {n++; if (n == 2) print \"udpin-\" $2 \"-end\"}' "
                  "/proc/net/snmp", LINUX_UDP.pattern, timeout)
    m = LINUX_UDP.search(str(host.console.child.after))
    return int(m.group(1)) if m else None


def stream_rate(host: Host, peer: Peer, netload: str, seconds: float, timeout: float
                ) -> tuple[float, str] | None:
    """(Mbit/s received, a note) of one one-way run, None when a count is missing."""
    assert peer.ip
    before = udp_received(host, peer, timeout)
    res = host.dom0(f"{netload} blast {peer.ip} {STREAM_PORT} {seconds} {STREAM_SIZE}",
                    timeout=seconds + 60)
    time.sleep(SETTLE)
    after = udp_received(host, peer, timeout)
    sent = parse_blast(res.output)
    if before is None or after is None or sent is None or sent[2] <= 0:
        return None
    got = after - before
    return got * STREAM_SIZE * 8 / sent[2] / 1e6, f"{got} of {sent[0]} sent"


def net_figures(host: Host, report: Report, peer: Peer, netload: str, reps: int, seconds: float,
                timeout: float, progress: session.Say) -> None:
    assert peer.ip
    cmdline = f"ip={peer.ip}/24" if peer.kind == XENOLITH else None
    b = session.boot(host, peer, f"n-{peer.name}", timeout + 60, cmdline=cmdline, vifs=("xenbr0",))
    if b.seconds is None:
        for key in NET_FIGURES:
            report.not_measured(peer.name, key, f"the guest did not boot with a vif: {b.error}")
        return
    # The first exchange waits for ARP (and for the Linux peer's echo server to start).
    host.dom0(f"ping -c 3 -W 2 {peer.ip} >/dev/null; {netload} udp {peer.ip} 7 1 64 >/dev/null",
              timeout=60)
    rates: dict[str, list[float]] = {key: [] for key in NET_FIGURES}
    lost: dict[str, int] = {"udp_rr": 0, "icmp_rr": 0}
    delivered = []
    for i in range(reps):
        for key, args in (("udp_rr", f"udp {peer.ip} 7 {seconds} 64"),
                          ("icmp_rr", f"icmp {peer.ip} {seconds} 64")):
            res = host.dom0(f"{netload} {args}", timeout=seconds + 60)
            got = parse_rate(res.output)
            if got is None or got[1] == 0:
                progress(f"{peer.name}: {key} {i + 1}/{reps}: no answer ({res.output.strip()})")
                continue
            rates[key].append(got[0])
            lost[key] += got[2]
            progress(f"{peer.name}: {key} {i + 1}/{reps}: {got[0]:.0f}/s")
        stream = stream_rate(host, peer, netload, seconds, timeout)
        if stream is None:
            progress(f"{peer.name}: udp_stream {i + 1}/{reps}: no figure")
            continue
        rates["udp_stream"].append(stream[0])
        delivered.append(stream[1])
        progress(f"{peer.name}: udp_stream {i + 1}/{reps}: {stream[0]:.1f} Mbit/s ({stream[1]})")
    session.destroy(host, b.name)
    for key in ("udp_rr", "icmp_rr"):
        report.measured(peer.name, key, rates[key], f"one request in flight for {seconds:g} s "
                        f"per repetition from dom0 over xenbr0; {lost[key]} lost in all")
    counter = "its `net` discard count" if peer.kind == XENOLITH else "Udp InDatagrams"
    report.measured(peer.name, "udp_stream", rates["udp_stream"],
                    f"{STREAM_SIZE}-byte datagrams to port {STREAM_PORT} for {seconds:g} s, as "
                    f"fast as dom0 sends; received as counted by the guest ({counter}): "
                    f"{'; '.join(delivered)}")
