"""PNG charts of the bench report (matplotlib, no display): one per group of figures.

Bars are medians, whiskers min and max; a chart shows the peers with at least one
value in it (report.md says why the others have none), and a missing value of a
shown peer is an "n/a" label, never a zero-height bar. Medians more than
LOG_SCALE_SPREAD apart go on a log scale.
"""

from __future__ import annotations

from pathlib import Path

from xenlab.bench.figures import FIGURE_BY_KEY
from xenlab.bench.report import Report

CHARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "boot.png": ("Boot: xl create to ready marker (TCG)", ("boot",)),
    "memory.png": ("Memory floor: smallest memory= that boots and passes",
                   ("memory_floor", "memory_floor_http")),
    "network.png": ("Network from dom0: request/response, 64 B (TCG)", ("udp_rr", "icmp_rr")),
    "mmu.png": ("bench mmu: 4096 PTEs mapped + unmapped (TCG)", ("mmu_single", "mmu_batched")),
    "multicall.png": ("bench multicall: 8192 update_va_mapping calls (TCG)",
                      ("mc_separate", "mc_batched")),
    "bootsplit.png": ("Boot with a vif and a disk, and dom0's hotplug part (TCG)",
                      ("boot_devices", "boot_hotplug")),
    "stream.png": ("UDP one-way from dom0, 1472 B (TCG)", ("udp_stream",)),
    "http.png": ("HTTP GET / from dom0, one in flight, and TCP connections (TCG)",
                 ("http_keepalive", "http_close", "tcp_conn")),
    "tcp.png": ("TCP stream, dom0 to guest and back (TCG)", ("tcp_stream_in", "tcp_stream_out")),
    "disk.png": ("Disk sequential, 1 MiB requests (TCG)", ("disk_seq_read", "disk_seq_write")),
    "iops.png": ("Disk 4 KiB random reads (TCG)", ("disk_rand_qd1", "disk_rand_qd32")),
    "suspend.png": ("Save, restore, migrate (TCG)", ("save", "restore", "migrate", "save_256",
                                                     "restore_256", "migrate_256")),
    "image.png": ("Image size", ("image_file", "image_loaded")),
}
DPI = 80
LOG_SCALE_SPREAD = 10  # medians further apart than this share a chart only on a log scale
SIZE = (7.5, 3.6)


def write_charts(report: Report, out: Path) -> list[Path]:
    """Write every chart in CHARTS into `out`; returns the paths written."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for filename, (title, keys) in CHARTS.items():
        peers = [p for p in report.peers
                 if any((r := report.get(p, k)) and r.measured for k in keys)]
        if not peers:
            continue
        fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
        width = 0.8 / len(keys)
        all_meds: list[float] = []
        for j, key in enumerate(keys):
            xs, meds, lo, hi, missing = [], [], [], [], []
            for i, peer in enumerate(peers):
                rec = report.get(peer, key)
                x = i + (j - (len(keys) - 1) / 2) * width
                if rec is None or rec.median is None or rec.min is None or rec.max is None:
                    missing.append(x)
                    continue
                xs.append(x)
                meds.append(rec.median)
                lo.append(rec.median - rec.min)
                hi.append(rec.max - rec.median)
            all_meds += meds
            fig_def = FIGURE_BY_KEY[key]
            ax.bar(xs, meds, width, yerr=[lo, hi], capsize=3,
                   label=f"{fig_def.label} ({fig_def.unit})")
            for x, m in zip(xs, meds, strict=True):
                ax.annotate(f"{m:.3g}", (x, m), ha="center", va="bottom", fontsize=8)
            for x in missing:
                ax.annotate("n/a", (x, 0), xycoords=("data", "axes fraction"), ha="center",
                            va="bottom", fontsize=8)
        positive = [m for m in all_meds if m > 0]
        if positive and max(positive) > LOG_SCALE_SPREAD * min(positive):
            ax.set_yscale("log")
        ax.set_xticks(range(len(peers)), peers)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(FIGURE_BY_KEY[keys[0]].unit)
        if len(keys) > 1:
            ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / filename
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
