"""What `make bench` measures: one entry per figure, with its unit and which way is better.

Every peer gets a record for every figure in FIGURES, measured or not; a figure
that does not apply to a peer, or that could not be measured, carries the reason
instead of a value (never a zero).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One figure: its key in report.json, a label, a unit, and whether lower is better."""

    key: str
    label: str
    unit: str
    lower_is_better: bool = True
    timed: bool = True  # an absolute time (or rate) measured under QEMU/TCG


FIGURES: tuple[Figure, ...] = (
    Figure("image_file", "image file", "KiB", timed=False),
    Figure("image_loaded", "loaded text+data+bss", "KiB", timed=False),
    Figure("boot", "xl create to ready marker", "s"),
    Figure("boot_guest", "banner to shell (guest's own clock)", "ms"),
    Figure("boot_devices", "xl create to ready, with a vif and a disk", "s"),
    Figure("boot_hotplug", "of which dom0's hotplug scripts", "s"),
    Figure("boot_devices_guest", "of which the guest's own boot (its clock)", "ms"),
    Figure("memory_floor", "memory floor (boots + smoke check)", "MiB", timed=False),
    Figure("memory_floor_http", "memory floor with the HTTP server on (serves /)", "MiB",
           timed=False),
    Figure("mmu_single", "bench mmu: one hypercall per PTE", "ms"),
    Figure("mmu_batched", "bench mmu: batched mmu_update", "ms"),
    Figure("mmu_speedup", "bench mmu: single / batched", "x", lower_is_better=False),
    Figure("mc_separate", "bench multicall: 8192 calls one by one", "ms"),
    Figure("mc_batched", "bench multicall: the same in multicalls", "ms"),
    Figure("mc_speedup", "bench multicall: separate / batched", "x", lower_is_better=False),
    Figure("smp_1", "bench smp: a CPU-bound workload on 1 vCPU", "ms"),
    Figure("smp_2", "bench smp: the same over 2 vCPUs", "ms"),
    Figure("smp_4", "bench smp: the same over 4 vCPUs", "ms"),
    Figure("smp_speedup", "bench smp: 1 vCPU / 4 vCPUs (the lab's Xen has 1 CPU)", "x",
           lower_is_better=False),
    Figure("ipi_rtt", "bench smp: IPI round trip, vCPU 0 to another and back", "us"),
    Figure("udp_rr", "UDP echo request/response, 64 B", "req/s", lower_is_better=False),
    Figure("icmp_rr", "ICMP echo request/response, 64 B", "req/s", lower_is_better=False),
    Figure("udp_stream", "UDP one-way dom0 to guest, 1472 B, received", "Mbit/s",
           lower_is_better=False),
    Figure("http_keepalive", "HTTP GET /, keep-alive, one in flight", "req/s",
           lower_is_better=False),
    Figure("http_close", "HTTP GET /, a connection per request", "req/s",
           lower_is_better=False),
    Figure("tcp_stream_in", "TCP stream dom0 to guest (discard)", "MB/s", lower_is_better=False),
    Figure("tcp_stream_out", "TCP stream guest to dom0 (chargen)", "MB/s",
           lower_is_better=False),
    Figure("tcp_conn", "TCP connections, open and close, one at a time", "conn/s",
           lower_is_better=False),
    Figure("disk_seq_read", "disk sequential read, 1 MiB requests", "MB/s",
           lower_is_better=False),
    Figure("disk_seq_write", "disk sequential write, 1 MiB requests", "MB/s",
           lower_is_better=False),
    Figure("disk_rand_qd1", "disk 4 KiB random read, queue depth 1", "IOPS",
           lower_is_better=False),
    Figure("disk_rand_qd32", "disk 4 KiB random read, queue depth 32", "IOPS",
           lower_is_better=False),
    Figure("save", "xl save", "s"),
    Figure("restore", "xl restore", "s"),
    Figure("migrate", "xl migrate to this host", "s"),
    Figure("save_256", "xl save, 256 MiB guest", "s"),
    Figure("restore_256", "xl restore, 256 MiB guest", "s"),
    Figure("migrate_256", "xl migrate, 256 MiB guest", "s"),
    Figure("migrate_downtime", "ping downtime during xl migrate (vif)", "ms"),
)
FIGURE_BY_KEY = {f.key: f for f in FIGURES}

# The targets docs/performance.md states, as (figure, rule) for the report's last column.
TARGETS = {
    "image_loaded": "tiny: .text+.rodata+.data < 64 KiB (notes)",
    "boot": "no slower than any peer",
    "boot_guest": "least time inside the guest",
    "boot_devices": "no slower than any peer",
    "boot_devices_guest": "least time inside the guest",
    "memory_floor": "least of all peers",
    "memory_floor_http": "at most 8 MiB",
    "mmu_speedup": ">= 10x",
    "udp_rr": "matches or beats Linux",
    "icmp_rr": "matches or beats Linux",
    "udp_stream": "matches or beats Linux",
    "http_keepalive": "at or above Linux, >= 0.8 of the limit",
    "http_close": "at or above Linux, >= 0.8 of the limit",
    "tcp_stream_in": "at or above Linux, >= 0.8 of the limit",
    "tcp_stream_out": "at or above Linux, >= 0.8 of the limit",
    "tcp_conn": "at or above Linux",
    "disk_seq_read": "matches or beats Linux",
    "disk_seq_write": "matches or beats Linux",
    "disk_rand_qd1": "matches or beats Linux",
    "disk_rand_qd32": "matches or beats Linux",
    "save": "at or below Linux",
    "restore": "at or below Linux",
    "migrate": "at or below Linux",
    "save_256": "at or below Linux",
    "restore_256": "at or below Linux",
    "migrate_256": "at or below Linux",
    "migrate_downtime": "at or below Linux",
}

# Figures with a limit: the same load with no guest (dom0 against a network namespace of its
# own on the bridge, dom0 on the disk's backing file); the report shows each peer's share.
LIMITED = ("udp_rr", "icmp_rr", "udp_stream", "http_keepalive", "http_close", "tcp_stream_in",
           "tcp_stream_out", "tcp_conn", "disk_seq_read", "disk_seq_write", "disk_rand_qd1",
           "disk_rand_qd32")
