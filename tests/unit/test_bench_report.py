"""make bench's pure parts: statistics, bisection, peer parsing, the report and its charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xenlab.bench.figures import FIGURES
from xenlab.bench.floor import memory_floor
from xenlab.bench.netload import parse_rate
from xenlab.bench.peers import loaded_kib, parse_peers
from xenlab.bench.report import Report, markdown, summary, write
from xenlab.bench.stats import ratio, summarize


def test_summarize_median_min_max() -> None:
    s = summarize([3.0, 1.0, 2.0, 10.0])
    assert (s.median, s.min, s.max, s.n) == (2.5, 1.0, 10.0, 4)
    with pytest.raises(ValueError):
        summarize([])
    assert ratio(1, 0) is None and ratio(6, 3) == 2


@pytest.mark.parametrize("floor", [3, 4, 17, 32])
def test_memory_floor_finds_the_smallest_passing_size(floor: int) -> None:
    res = memory_floor(lambda mib: mib >= floor, 2, 32)
    assert res.floor == floor
    assert res.probes[0] == (32, True)
    assert len(res.probes) <= 6  # log2(30) + the first probe of `high`


def test_memory_floor_step_and_failure() -> None:
    coarse = memory_floor(lambda mib: mib >= 100, 64, 256, step=8)
    assert coarse.floor is not None and 100 <= coarse.floor < 108
    never = memory_floor(lambda mib: False, 2, 32)
    assert never.floor is None and never.probes == [(32, False)]
    with pytest.raises(ValueError):
        memory_floor(lambda mib: True, 8, 8)


def test_parse_peers() -> None:
    a, b = parse_peers("mini=/x/mini-os.elf:Hello xtf=/y/test:C:PASS")
    assert (a.name, a.kernel, a.marker) == ("mini", Path("/x/mini-os.elf"), "Hello")
    assert (b.kernel, b.marker) == (Path("/y/test:C"), "PASS")  # the marker follows the last ':'
    assert parse_peers("  ") == []
    for bad in ("nomarker=/x", "=/x:M", "a b", "bad/name=/x:M"):
        with pytest.raises(ValueError):
            parse_peers(bad)


def test_loaded_kib_of_non_elf(tmp_path: Path) -> None:
    f = tmp_path / "k"
    f.write_bytes(b"not an elf")
    assert loaded_kib(f) is None


def test_parse_rate() -> None:
    out = "netload: udp 10.0.0.2 replies=1234 lost=2 seconds=1.000 rate=1234.0\n"
    assert parse_rate(out) == (1234.0, 1234, 2)
    assert parse_rate("netload: udp socket: error") is None


def _report() -> Report:
    r = Report(meta={"date": "today"})
    r.measured("xenolith", "boot", [1.0, 1.2, 0.9])
    r.measured("linux", "boot", [10.0, 12.0])
    r.not_measured("linux", "mmu_speedup", "Xenolith's own command")
    r.measured("linux", "udp_rr", [])  # nothing came back: not measured, never zero
    return r


def test_report_records_and_completion() -> None:
    r = _report()
    assert r.missing_explanations()  # figures nobody recorded yet
    r.complete("not in this run")
    assert r.missing_explanations() == []
    udp = r.get("linux", "udp_rr")
    assert udp is not None and udp.median is None and udp.note.startswith("not measured")
    boot = r.get("xenolith", "boot")
    assert boot is not None and (boot.median, boot.min, boot.max, boot.n) == (1.0, 0.9, 1.2, 3)
    assert boot.tcg and not r.records[("xenolith", "image_file")].tcg


def test_report_files(tmp_path: Path) -> None:
    r = _report()
    r.complete("not in this run")
    paths = write(r, tmp_path, "xenolith")
    data = json.loads((tmp_path / "report.json").read_text())
    assert len(data["records"]) == 2 * len(FIGURES)
    assert all(rec["median"] is not None or rec["note"] for rec in data["records"])
    md = markdown(r, "xenolith")
    assert "| xl create to ready marker (TCG) | s | 1.00 (0.90-1.20) | 11.0 (10.0-12.0) | " \
           "linux 0.09x |" in md
    assert "linux / udp_rr: not measured" in md
    text = summary(r)
    assert len(text.splitlines()) == len(FIGURES) + 2 and "n/a*" in text
    assert [p.name for p in paths] == ["report.json", "report.md"]


def test_charts(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from xenlab.bench.charts import write_charts
    r = _report()
    r.complete("not in this run")
    paths = write_charts(r, tmp_path)
    assert [p.name for p in paths] == ["boot.png"]  # the other charts have no value at all
    assert paths[0].read_bytes()[:4] == b"\x89PNG"


def test_parse_blast_and_gap() -> None:
    from xenlab.bench.netload import parse_blast, parse_gap
    assert parse_blast("netload: blast 10.0.0.2 sent=900 errors=3 seconds=1.000 rate=900.0") == \
        (900, 3, 1.0)
    assert parse_blast("netload: udp socket: error") is None
    gap = "netload: gap 10.0.0.2 replies=300 lost=12 seconds=9.500 maxgap_ms=412.5"
    assert parse_gap(gap) == (412.5, 300, 12)
    assert parse_gap(gap.replace("replies=300", "replies=1")) is None  # no gap between replies


def test_parse_diskload() -> None:
    from xenlab.bench.diskload import parse_diskload
    run = parse_diskload("diskload: randread /dev/xvda bytes=4096000 ios=1000 qd=32 "
                         "seconds=0.500000\n")
    assert run is not None and (run.kind, run.ios, run.qd, run.seconds) == ("randread", 1000, 32,
                                                                            0.5)
    assert parse_diskload("diskload: open: No such file") is None


def test_hotplug_seconds_is_the_union_of_the_script_runs() -> None:
    from xenlab.bench.devices import hotplug_seconds
    log = ("block add 10.00 12.00 0\n"
           "vif-bridge online 11.50 13.00 0\n"  # overlaps the block script's run
           "vif-bridge add 14.00 14.50 0\n")
    got = hotplug_seconds(log)
    assert got is not None
    total, per = got
    assert abs(total - 3.5) < 1e-9
    assert per == {"block": 2.0, "vif-bridge": 2.0}
    assert hotplug_seconds("") is None


def test_parse_tcp_loads() -> None:
    from xenlab.bench.netload import parse_stream
    http = "netload: http-keepalive 10.0.0.2 replies=500 lost=1 seconds=1.000 rate=500.0\n"
    assert parse_rate(http) == (500.0, 500, 1)
    out = "netload: tcprecv 10.0.0.2 bytes=5000000 seconds=1.000 rate=5.000\n"
    assert parse_stream(out) == (5.0, 5000000)
    assert parse_stream(out.replace("bytes=5000000", "bytes=0")) is None  # nothing moved
    assert parse_stream("netload: tcpsend connect: Connection refused") is None


def test_limit_fractions_in_the_report() -> None:
    from xenlab.bench.report import LIMIT, limit_text
    r = Report()
    r.measured("xenolith", "tcp_stream_in", [20.0])
    r.measured("linux", "tcp_stream_in", [30.0])
    r.measured(LIMIT, "tcp_stream_in", [40.0])
    r.measured("xenolith", "boot", [1.0])
    r.not_measured(LIMIT, "boot", "no guest")
    assert limit_text(r, "tcp_stream_in") == "xenolith 0.50, linux 0.75"
    assert limit_text(r, "boot") == ""  # no limit beside it
    assert "| xenolith 0.50, linux 0.75 |" in markdown(r, "xenolith")


def test_diskload_rates() -> None:
    from xenlab.bench.disk import disk_runs, linux_rate
    out = "diskload: read /dev/loop0 bytes=4194304 ios=4 qd=1 seconds=0.500000\n"
    assert linux_rate("disk_seq_read", out) == pytest.approx(4194304 / 1e6 / 0.5)
    assert linux_rate("disk_rand_qd1", out) == 8.0
    assert linux_rate("disk_seq_read", "diskload: open: EINVAL") is None
    runs = disk_runs("/dev/loop0", "/dev/loop1", 4, 100)
    assert runs["disk_seq_write"] == ("xvdb seq write 1m 1", "/dev/loop1 write 4")
    assert runs["disk_rand_qd32"][1] == "/dev/loop0 randread 100 32"
