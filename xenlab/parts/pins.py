"""Pinned Debian packages and their stand-ins (xenlab.parts).

Every part is built from Debian packages pinned to one version, so a cached
part is the same on every machine. A mirror stops serving a version when the
release moves on; then the newest served version of the same series (Xen
4.17.x, Linux 6.1.x, GRUB 2.06-x) stands in for it, the build says so in one
line, and the cache is keyed on the version actually used. Versions are
ordered as Debian policy (section 5.6.12) orders them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pin:
    """A package pinned to `version`; a served version starting with `series` may stand in.

    `family` (a regular expression) is for packages whose name carries the version, such as
    Linux's `linux-image-6.1.0-56-amd64`: any served package of that name family may stand in.
    """

    package: str
    version: str
    series: str
    family: str = ""


@dataclass(frozen=True)
class Choice:
    """What a pin resolved to; `stand_in` when it is not the pinned package and version."""

    package: str
    version: str
    stand_in: bool = False


def choose(pin: Pin, served: dict[str, list[str]]) -> Choice | None:
    """The pinned version if served, else the newest served one of its series (None if none).

    `served` maps package names (the pin's, and for a family every member) to their versions.
    """
    found = candidates(pin, served)
    return found[0] if found else None


def candidates(pin: Pin, served: dict[str, list[str]]) -> list[Choice]:
    """Every served choice for `pin`, best first: the pinned version, then its series' stand-ins
    newest first. The next is what to try when the mirror lists a version but will not give it
    (a 404 for a file its index names)."""
    found = []
    if pin.version in served.get(pin.package, []):
        found.append(Choice(pin.package, pin.version))
    names = [pin.package]
    if pin.family:
        names += [n for n in served if n != pin.package and re.fullmatch(pin.family, n)]
    stand_ins = [Choice(name, version, stand_in=True) for name in names
                 for version in served.get(name, [])
                 if version.startswith(pin.series) and
                 (name, version) != (pin.package, pin.version)]
    stand_ins.sort(key=functools.cmp_to_key(lambda a, b: compare_versions(b.version, a.version)))
    return found + stand_ins


def compare_versions(a: str, b: str) -> int:
    """Debian's version order: negative if a < b, 0 if equal, positive if a > b."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return ea - eb
    return _compare_part(ua, ub) or _compare_part(ra, rb)


def _split(version: str) -> tuple[int, str, str]:
    epoch, sep, rest = version.partition(":")
    if not sep:
        epoch, rest = "0", version
    upstream, sep, revision = rest.rpartition("-")
    if not sep:
        upstream, revision = rest, ""
    return int(epoch or 0), upstream, revision


def _order(c: str) -> int:
    """Weight of one non-digit character: '~' first (even before the end), letters, others."""
    if c == "~":
        return -1
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _compare_part(a: str, b: str) -> int:
    """Compare alternating non-digit and digit runs, as dpkg does."""
    pa, pb = _runs(a), _runs(b)
    i = 0
    while i < len(pa) or i < len(pb):
        x = pa[i] if i < len(pa) else ""
        y = pb[i] if i < len(pb) else ""
        if i % 2 == 0:
            diff = _compare_text(x, y)
        else:
            diff = int(x or 0) - int(y or 0)
        if diff:
            return diff
        i += 1
    return 0


def _runs(text: str) -> list[str]:
    """`text` as [non-digits, digits, non-digits, digits, ...] (runs may be empty)."""
    runs: list[str] = []
    for m in re.finditer(r"(\D*)(\d*)", text):
        if m.group(0):
            runs += [m.group(1), m.group(2)]
    return runs


def _compare_text(x: str, y: str) -> int:
    for k in range(max(len(x), len(y))):
        cx = _order(x[k]) if k < len(x) else 0
        cy = _order(y[k]) if k < len(y) else 0
        if cx != cy:
            return cx - cy
    return 0
