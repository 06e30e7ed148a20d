"""The bench report: one record per peer and figure, written as JSON, Markdown and a summary.

A record holds every repetition's value and their median/min/max, or, when the
figure could not be measured for that peer, `median: null` and a note saying why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from xenlab.bench.figures import FIGURE_BY_KEY, FIGURES, LIMITED, TARGETS
from xenlab.bench.stats import ratio, summarize

NOT_MEASURED = "not measured"
LIMIT = "limit"  # the peer-like column of the host with no guest (xenlab/bench/limit.py)


@dataclass
class Record:
    """One peer's value of one figure (median None: not measured, `note` says why)."""

    peer: str
    figure: str
    unit: str
    values: list[float] = field(default_factory=list)
    median: float | None = None
    min: float | None = None
    max: float | None = None
    n: int = 0
    tcg: bool = True
    note: str = ""

    @property
    def measured(self) -> bool:
        return self.median is not None


@dataclass
class Report:
    """Records by (peer, figure), in the order peers were added."""

    peers: list[str] = field(default_factory=list)
    meta: dict[str, object] = field(default_factory=dict)
    records: dict[tuple[str, str], Record] = field(default_factory=dict)

    def add_peer(self, peer: str) -> None:
        if peer not in self.peers:
            self.peers.append(peer)

    def measured(self, peer: str, figure: str, values: Sequence[float], note: str = "") -> Record:
        """Record the repetitions of one figure (an empty list counts as not measured)."""
        if not values:
            return self.not_measured(peer, figure, note or "no repetition succeeded")
        fig = FIGURE_BY_KEY[figure]
        s = summarize(values)
        rec = Record(peer, figure, fig.unit, [float(v) for v in values], s.median, s.min, s.max,
                     s.n, fig.timed, note)
        self._put(rec)
        return rec

    def not_measured(self, peer: str, figure: str, reason: str) -> Record:
        fig = FIGURE_BY_KEY[figure]
        rec = Record(peer, figure, fig.unit, tcg=fig.timed, note=f"{NOT_MEASURED}: {reason}")
        self._put(rec)
        return rec

    def _put(self, rec: Record) -> None:
        self.add_peer(rec.peer)
        self.records[(rec.peer, rec.figure)] = rec

    def get(self, peer: str, figure: str) -> Record | None:
        return self.records.get((peer, figure))

    def complete(self, reason: str = "this run did not reach it") -> None:
        """Give every (peer, figure) without a record one that says it was not measured."""
        for peer in self.peers:
            for fig in FIGURES:
                if (peer, fig.key) not in self.records:
                    self.not_measured(peer, fig.key, reason)

    def missing_explanations(self) -> list[tuple[str, str]]:
        """(peer, figure) pairs with neither a value nor a reason (empty when complete)."""
        return [(p, f.key) for p in self.peers for f in FIGURES
                if not ((r := self.get(p, f.key)) and (r.measured or r.note))]

    def to_json(self) -> dict[str, object]:
        ordered = [asdict(self.records[(p, f.key)]) for p in self.peers for f in FIGURES
                   if (p, f.key) in self.records]
        return {"meta": self.meta, "peers": self.peers, "records": ordered}


def fmt(value: float) -> str:
    """A figure's value with about three significant digits."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cell(rec: Record | None, spread: bool = True) -> str:
    """`median (min-max)`, or `n/a*` for a figure that was not measured."""
    if rec is None or rec.median is None or rec.min is None or rec.max is None:
        return "n/a*"
    if not spread or rec.n == 1:
        return fmt(rec.median)
    return f"{fmt(rec.median)} ({fmt(rec.min)}-{fmt(rec.max)})"


def _peer_ratios(report: Report, figure: str, ref_peer: str, ref_over_peer: bool,
                 suffix: str) -> str:
    """For one figure, `ref_peer`'s median over each other peer's (`ref_over_peer`), or
    each other peer's over `ref_peer`'s, as 'peer 0.52<suffix>, ...'."""
    ref = report.get(ref_peer, figure)
    if ref is None or ref.median is None:
        return ""
    parts = []
    for peer in report.peers:
        other = report.get(peer, figure)
        if peer == ref_peer or other is None or other.median is None:
            continue
        r = (ratio(ref.median, other.median) if ref_over_peer
             else ratio(other.median, ref.median))
        if r is not None:
            parts.append(f"{peer} {r:.2f}{suffix}")
    return ", ".join(parts)


def ratio_text(report: Report, figure: str, base: str) -> str:
    """`base`'s median over each other peer's, for one figure: 'linux 0.52x, grub 1.10x'."""
    return _peer_ratios(report, figure, base, True, "x")


def limit_text(report: Report, figure: str, limit: str = LIMIT) -> str:
    """Each peer's median as a fraction of `limit`'s, for a figure with a limit (higher is
    better for all of them): 'xenolith 0.42, linux 0.61'."""
    return _peer_ratios(report, figure, limit, False, "") if figure in LIMITED else ""


def markdown(report: Report, base: str) -> str:
    """The report as Markdown: a table (figures x peers), ratios to `base`, fractions of the
    limit, the notes."""
    head = ["figure", "unit", *report.peers, f"{base} / peer", "of the limit", "target"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for fig in FIGURES:
        cells = [cell(report.get(p, fig.key)) for p in report.peers]
        label = fig.label + (" (TCG)" if fig.timed else "")
        rows.append("| " + " | ".join([label, fig.unit, *cells, ratio_text(report, fig.key, base),
                                       limit_text(report, fig.key),
                                       TARGETS.get(fig.key, "")]) + " |")
    notes = [f"- {r.peer} / {r.figure}: {r.note}" for p in report.peers for f in FIGURES
             if (r := report.get(p, f.key)) is not None and r.note]
    meta = [f"- {k}: {v}" for k, v in report.meta.items()]
    legend = ("Cells: median (min-max) over the repetitions; n/a*: see the notes. (TCG): an "
              "absolute time under QEMU's emulation, comparable only within one run.")
    return "\n".join(["# make bench report", "", *meta, "", legend, "", *rows, "", "## Notes",
                      "", *notes, ""])


def summary(report: Report, width: int = 100) -> str:
    """A one-screen table: one line per figure, one column per peer (medians only)."""
    col = max(10, min(16, (width - 34) // max(1, len(report.peers))))
    lines = [f"{'figure':<26}{'unit':<8}" + "".join(f"{p[:col - 1]:>{col}}" for p in report.peers)]
    for fig in FIGURES:
        cells = "".join(f"{cell(report.get(p, fig.key), spread=False):>{col}}"
                        for p in report.peers)
        lines.append(f"{fig.key:<26}{fig.unit:<8}{cells}")
    lines.append("n/a*: not measured, the reason is in report.md; times are under TCG (emulated)")
    return "\n".join(lines)


def write(report: Report, out: Path, base: str) -> list[Path]:
    """report.json and report.md in `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    js, md = out / "report.json", out / "report.md"
    js.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    md.write_text(markdown(report, base))
    return [js, md]
