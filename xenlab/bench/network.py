"""Network figures from dom0 over xenbr0 (netload.c): UDP and ICMP request/response rates with
64-byte payloads, one-way UDP throughput with 1472-byte payloads, and over TCP: HTTP requests/s
(keep-alive and a connection per request), a stream each way, and connections/s.

One-way UDP: dom0 sends datagrams to the guest's port 9 as fast as its socket
takes them for the repetition's seconds; the figure is what reached the
guest's UDP layer, counted by the guest: Xenolith's `net` count of datagrams
its UDP discard service (port 9, RFC 863) took, Linux's `Udp: InDatagrams`
(/proc/net/snmp; `netload sink 9` reads them). What dom0 sent beyond that was
dropped on the way (netback's queue, the guest's ring).

TCP: every peer serves the same ports, Xenolith from its kernel (drivers/net/:
echo 7, discard 9, chargen 19, `http=80`), Linux and the limit from
`netload serve` on Linux's own stack. A stream into the guest counts the bytes
the peer took by the time it answers dom0's close; a stream out counts what
dom0 read. The same loads go to the limit (limit.py): a Linux network
namespace on the same bridge, no guest on the way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from xenlab.bench import session
from xenlab.bench.netload import parse_blast, parse_rate, parse_stream
from xenlab.bench.peers import XENOLITH, XENOLITH_PROMPT, Peer
from xenlab.bench.report import Report
from xenlab.host import Host

UDP_FIGURES = ("udp_rr", "icmp_rr", "udp_stream")
TCP_FIGURES = ("http_keepalive", "http_close", "tcp_stream_in", "tcp_stream_out", "tcp_conn")
NET_FIGURES = UDP_FIGURES + TCP_FIGURES
STREAM_PORT, STREAM_SIZE = 9, 1472
DISCARD_PORT, CHARGEN_PORT, HTTP_PORT = 9, 19, 80
SETTLE = 1.0  # seconds for the guest to take in what is still on its way
XENOLITH_UDP = re.compile(r"discarded (\d+) udp datagrams")
LINK = "link: rx"
LINUX_UDP = re.compile(r"udpin-(\d+)-end")
# Linux's Udp InDatagrams, printed between markers the command's echo does not contain.
LINUX_UDP_COUNT = ("awk '/^Udp:/ {n++; if (n == 2) print \"udpin-\" $2 \"-end\"}' "
                   "/proc/net/snmp")


@dataclass(frozen=True)
class Target:
    """Where the loads go: its name in the report, its address, how to read its count of UDP
    datagrams received (None: not available), and what serves it (for the notes)."""

    name: str
    ip: str
    udp_received: Callable[[], int | None]
    served_by: str


def guest_udp_received(host: Host, peer: Peer, timeout: float) -> int | None:
    """The guest's count of UDP datagrams that reached its UDP layer (see the docstring)."""
    if peer.kind == XENOLITH:
        out = session.shell(host, "net", re.escape(XENOLITH_PROMPT), timeout) or ""
        if LINK not in out:
            return None
        m = XENOLITH_UDP.search(out)
        return int(m.group(1)) if m else 0
    session.shell(host, LINUX_UDP_COUNT, LINUX_UDP.pattern, timeout)
    m = LINUX_UDP.search(str(host.console.child.after))
    return int(m.group(1)) if m else None


def stream_rate(host: Host, target: Target, netload: str, seconds: float
                ) -> tuple[float, str] | None:
    """(Mbit/s received, a note) of one one-way run, None when a count is missing."""
    before = target.udp_received()
    res = host.dom0(f"{netload} blast {target.ip} {STREAM_PORT} {seconds} {STREAM_SIZE}",
                    timeout=seconds + 60)
    time.sleep(SETTLE)
    after = target.udp_received()
    sent = parse_blast(res.output)
    if before is None or after is None or sent is None or sent[2] <= 0:
        return None
    got = after - before
    return got * STREAM_SIZE * 8 / sent[2] / 1e6, f"{got} of {sent[0]} sent"


def tcp_loads(ip: str, seconds: float) -> dict[str, str]:
    """figure -> netload's arguments for it."""
    return {
        "http_keepalive": f"http {ip} {HTTP_PORT} {seconds} 1",
        "http_close": f"http {ip} {HTTP_PORT} {seconds} 0",
        "tcp_stream_in": f"tcpsend {ip} {DISCARD_PORT} {seconds}",
        "tcp_stream_out": f"tcprecv {ip} {CHARGEN_PORT} {seconds}",
        "tcp_conn": f"tcpconn {ip} {DISCARD_PORT} {seconds}",
    }


def tcp_once(host: Host, netload: str, args: str, seconds: float) -> tuple[float, int] | None:
    """(rate, how many lost; 0 for a stream) of one TCP load, None when nothing came through."""
    res = host.dom0(f"{netload} {args}", timeout=seconds + 120)
    if args.startswith(("tcpsend", "tcprecv")):
        got = parse_stream(res.output)
        return (got[0], 0) if got else None
    rr = parse_rate(res.output)
    return (rr[0], rr[2]) if rr and rr[1] > 0 else None


def measure(host: Host, report: Report, target: Target, netload: str, reps: int,
            seconds: float, progress: session.Say, tcp: bool = True) -> None:
    """Every network figure of `target`, `reps` times, recorded under its name (the TCP ones
    only when `tcp`)."""
    ip = target.ip
    # The first exchange waits for ARP (and for the peer's servers to start).
    host.dom0(f"ping -c 3 -W 2 {ip} >/dev/null; {netload} udp {ip} 7 1 64 >/dev/null",
              timeout=60)
    rates: dict[str, list[float]] = {key: [] for key in NET_FIGURES}
    lost: dict[str, int] = {key: 0 for key in NET_FIGURES}
    delivered = []
    for i in range(reps):
        for key, args in (("udp_rr", f"udp {ip} 7 {seconds} 64"),
                          ("icmp_rr", f"icmp {ip} {seconds} 64")):
            res = host.dom0(f"{netload} {args}", timeout=seconds + 60)
            got = parse_rate(res.output)
            if got is None or got[1] == 0:
                progress(f"{target.name}: {key} {i + 1}/{reps}: no answer ({res.output.strip()})")
                continue
            rates[key].append(got[0])
            lost[key] += got[2]
            progress(f"{target.name}: {key} {i + 1}/{reps}: {got[0]:.0f}/s")
        stream = stream_rate(host, target, netload, seconds)
        if stream is None:
            progress(f"{target.name}: udp_stream {i + 1}/{reps}: no figure")
        else:
            rates["udp_stream"].append(stream[0])
            delivered.append(stream[1])
            progress(f"{target.name}: udp_stream {i + 1}/{reps}: {stream[0]:.1f} Mbit/s "
                     f"({stream[1]})")
        for key, args in (tcp_loads(ip, seconds) if tcp else {}).items():
            tcp = tcp_once(host, netload, args, seconds)
            if tcp is None:
                progress(f"{target.name}: {key} {i + 1}/{reps}: nothing came through")
                continue
            rates[key].append(tcp[0])
            lost[key] += tcp[1]
            progress(f"{target.name}: {key} {i + 1}/{reps}: {tcp[0]:.1f}")
    record(report, target, rates, lost, delivered, seconds)
    if not tcp:
        for key in TCP_FIGURES:
            report.not_measured(target.name, key, "skipped in the quick mode")


def record(report: Report, target: Target, rates: dict[str, list[float]], lost: dict[str, int],
           delivered: list[str], seconds: float) -> None:
    name, per = target.name, f"for {seconds:g} s per repetition from dom0 over xenbr0"
    for key in ("udp_rr", "icmp_rr"):
        report.measured(name, key, rates[key], f"one request in flight {per}; "
                        f"{lost[key]} lost in all")
    report.measured(name, "udp_stream", rates["udp_stream"],
                    f"{STREAM_SIZE}-byte datagrams to port {STREAM_PORT} {per}, as fast as dom0 "
                    f"sends; received as counted by {target.served_by}: {'; '.join(delivered)}")
    http = f"netload's GET / {per}, one request in flight, to {target.served_by}"
    report.measured(name, "http_keepalive", rates["http_keepalive"],
                    f"{http}, all on one connection; {lost['http_keepalive']} failed")
    report.measured(name, "http_close", rates["http_close"],
                    f"{http}, `Connection: close`, a new connection each; "
                    f"{lost['http_close']} failed")
    report.measured(name, "tcp_stream_in", rates["tcp_stream_in"],
                    f"one connection to discard (port {DISCARD_PORT}) {per}; bytes written "
                    "until the peer answered dom0's close, 10^6 bytes/s")
    report.measured(name, "tcp_stream_out", rates["tcp_stream_out"],
                    f"one connection to chargen (port {CHARGEN_PORT}) {per}; bytes dom0 read, "
                    "10^6 bytes/s")
    report.measured(name, "tcp_conn", rates["tcp_conn"],
                    f"connect, close, the peer's close read, one at a time to port "
                    f"{DISCARD_PORT} {per}; {lost['tcp_conn']} failed")


def net_figures(host: Host, report: Report, peer: Peer, netload: str, reps: int, seconds: float,
                timeout: float, progress: session.Say, tcp: bool = True) -> None:
    assert peer.ip
    xen = peer.kind == XENOLITH
    cmdline = f"ip={peer.ip}/24 http={HTTP_PORT}" if xen else None
    b = session.boot(host, peer, f"n-{peer.name}", timeout + 60, cmdline=cmdline, vifs=("xenbr0",))
    if b.seconds is None:
        for key in NET_FIGURES:
            report.not_measured(peer.name, key, f"the guest did not boot with a vif: {b.error}")
        return
    served = ("the guest (its `net` discard count; its own TCP services)" if xen else
              "the guest (Udp InDatagrams; netload serve on its stack)")
    target = Target(peer.name, peer.ip, lambda: guest_udp_received(host, peer, timeout), served)
    measure(host, report, target, netload, reps, seconds, progress, tcp)
    session.destroy(host, b.name)
