"""The far end of `bench console LINES` (kernel/xen/console/console_bench.c): what the kernel wrote,
computed here, compared byte by byte with what came out of the lab's console path.

Between `console pattern: begin N lines of 64 bytes` and `console pattern: end N lines, B
bytes in T us` the kernel writes N lines; line n is `pat NNNNNNNN ` (n, eight digits), then
50 payload bytes, byte j being ALPHABET[(n + j) % 62], then a newline. Carriage returns are
the console path's own (Xen, a tty) and are not counted. A difference is classified as a
byte doubled (an extra byte equal to a neighbour), dropped (missing) or altered (any
other extra or changed byte).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

LINE_BYTES = 64
HEAD_BYTES = 13
ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
BEGIN = re.compile(r"console pattern: begin (\d+) lines of (\d+) bytes\r*\n")
END = re.compile(r"console pattern: end (\d+) lines, (\d+) bytes in (\d+) us")
SHOWN = 5  # differences quoted in a report


def pattern_line(n: int) -> str:
    """Line n of the pattern, without its newline."""
    payload = "".join(ALPHABET[(n + j) % len(ALPHABET)]
                      for j in range(LINE_BYTES - HEAD_BYTES - 1))
    return f"pat {n:08d} {payload}"


@dataclass
class PatternCheck:
    """What arrived of one pattern: its size, the kernel's time, and each kind of damage."""

    lines: int = 0
    bytes: int = 0
    kernel_us: int = 0
    doubled: int = 0
    dropped: int = 0
    altered: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.lines > 0 and not (self.doubled or self.dropped or self.altered)

    def describe(self) -> str:
        head = (f"{self.lines} lines ({self.bytes} bytes): {self.doubled} doubled, "
                f"{self.dropped} dropped, {self.altered} altered bytes")
        return head + "".join(f"\n  {e}" for e in self.examples)

    def _note(self, text: str) -> None:
        if len(self.examples) < SHOWN:
            self.examples.append(text)


def check_pattern(text: str) -> PatternCheck:
    """Check the first complete pattern in `text`; a missing marker is a LookupError."""
    begin = BEGIN.search(text)
    if not begin:
        raise LookupError("no `console pattern: begin` line")
    end = END.search(text, begin.end())
    if not end:
        raise LookupError("no `console pattern: end` line after the begin line")
    lines, width = int(begin.group(1)), int(begin.group(2))
    if width != LINE_BYTES or int(end.group(1)) != lines:
        raise LookupError(f"pattern of {lines} lines of {width} bytes: not this checker's")
    check = PatternCheck(lines=lines, bytes=int(end.group(2)), kernel_us=int(end.group(3)))
    compare_lines(check, [pattern_line(n) for n in range(lines)],
                  text_lines(text[begin.end():end.start()]))
    return check


def text_lines(text: str) -> list[str]:
    """Console text as lines, without the path's carriage returns."""
    lines = text.replace("\r", "").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def compare_lines(check: PatternCheck, want: list[str], got: list[str]) -> None:
    """Add to `check` every byte by which `got` differs from `want` (line by line first,
    then byte by byte within each stretch that differs)."""
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, want, got, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        _bytes(check, "\n".join(want[i1:i2]) + "\n" if i2 > i1 else "",
               "\n".join(got[j1:j2]) + "\n" if j2 > j1 else "", i1)


def _bytes(check: PatternCheck, want: str, got: str, line: int) -> None:
    """Classify the byte differences of one stretch that differs (starting at `line`)."""
    if not want and got.strip("\n") == "":
        check.doubled += len(got)  # a line end written twice: an empty line of its own
        check._note(f"line {line}: {len(got)} line end(s) doubled")
        return
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, want, got, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        where = f"line {line + want.count(chr(10), 0, i1)}"
        if tag == "delete":
            check.dropped += i2 - i1
            check._note(f"{where}: {want[i1:i2]!r} dropped")
        elif tag == "insert":
            for j in range(j1, j2):
                if got[j] in (got[j - 1] if j else "", got[j + 1] if j + 1 < len(got) else ""):
                    check.doubled += 1
                else:
                    check.altered += 1
            check._note(f"{where}: {got[j1:j2]!r} inserted after {got[max(0, j1 - 8):j1]!r}")
        else:
            check.altered += max(i2 - i1, j2 - j1)
            check._note(f"{where}: {want[i1:i2]!r} became {got[j1:j2]!r}")
