"""Unit tests of xenlab.parts' apt side: host sources in both formats, the private apt
configuration, Debian version order, and pins with their stand-ins (fake apt answers)."""

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from xenlab.parts import apt, apt_sources, pins
from xenlab.parts.errors import PartsError
from xenlab.parts.pins import Choice, Pin

DEB822 = """Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Enabled: no
Types: deb
URIs: http://example.invalid/off
Suites: bookworm
Components: main
"""

ONE_LINE = """# installer's sources.list
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
deb-src http://deb.debian.org/debian bookworm main
deb https://apt.example.invalid/other stable main   # another vendor's
"""

SHOWSRC = """Package: xen
Binary: xen-utils-4.17, xen-hypervisor-4.17-amd64
Version: 4.17.5+72-g01140da4e8-1
Format: 3.0 (quilt)

Package: xen
Version: 4.17.7+13-g2445b30a44-0+deb12u1
Format: 3.0 (quilt)
"""

MADISON = """xen-utils-4.17 | 4.17.7+13-g2445b30a44-0+deb12u1 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
xen-utils-4.17 | 4.17.5+72-g01140da4e8-1 | http://deb.debian.org/debian bookworm/main amd64 Packages
       xen | 4.17.5+72-g01140da4e8-1 | http://deb.debian.org/debian bookworm/main Sources
"""


def _entries(text: str, deb822: bool) -> list[apt_sources.SourceEntry]:
    return apt_sources.parse_deb822(text) if deb822 else apt_sources.parse_one_line(text)


@pytest.mark.parametrize("text,deb822", [(DEB822, True), (ONE_LINE, False)])
def test_both_formats_give_the_same_lab_sources(text: str, deb822: bool) -> None:
    out = apt_sources.lab_sources(_entries(text, deb822), "bookworm")
    stanzas = out.split("\n\n")[1:]
    kinds = [s.splitlines()[0] for s in stanzas]
    assert kinds.count("Types: deb") >= 2 and kinds[-1] == "Types: deb-src"
    assert "Suites: bookworm\n" in stanzas[-1] and "debian-security" not in stanzas[-1]
    assert "URIs: http://deb.debian.org/debian\n" in stanzas[-1]
    assert "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" in stanzas[-1]
    assert "bookworm-security" in out and "bookworm-updates" in out
    assert "example.invalid" not in out


def test_one_line_options_and_comments() -> None:
    [e] = apt_sources.parse_one_line("deb [arch=amd64,i386 signed-by=/k.gpg] http://m/d "
                                     "bookworm main contrib # note\n")
    assert e.types == ("deb",) and e.uris == ("http://m/d",) and e.suites == ("bookworm",)
    assert e.components == ("main", "contrib")
    assert dict(e.options) == {"Architectures": "amd64 i386", "Signed-By": "/k.gpg"}


def test_read_host_sources_reads_every_file(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(ONE_LINE)
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d" / "x.list.disabled").write_text("deb http://no bookworm main\n")
    entries = apt_sources.read_host_sources(tmp_path)
    assert len(entries) == 5 + 2
    assert all("no" not in e.uris for e in entries)


def test_lab_sources_without_the_release_says_what_to_add() -> None:
    with pytest.raises(PartsError, match="no 'deb' entry for Debian bookworm"):
        apt_sources.lab_sources(apt_sources.parse_one_line(
            "deb http://x trixie main\n"), "bookworm")


def test_a_release_the_host_lacks_is_derived_from_the_hosts_own() -> None:
    out = apt_sources.lab_sources(apt_sources.parse_deb822(DEB822), "trixie", "bookworm")
    assert "Suites: trixie trixie-updates\n" in out
    assert "URIs: http://deb.debian.org/debian-security\nSuites: trixie-security\n" in out
    assert "Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\n" in out
    assert "bookworm" not in out.split("\n", 1)[1]
    assert out.count("Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg") == 3


def test_host_release_from_os_release(tmp_path: Path) -> None:
    (tmp_path / "os-release").write_text('ID=debian\nVERSION_CODENAME="trixie"\n')
    assert apt_sources.host_release(tmp_path / "os-release") == "trixie"
    assert apt_sources.host_release(tmp_path / "none") == ""


def test_parse_versions() -> None:
    assert apt.parse_showsrc_versions(SHOWSRC) == [
        "4.17.5+72-g01140da4e8-1", "4.17.7+13-g2445b30a44-0+deb12u1"]
    assert apt.parse_madison_versions(MADISON) == [
        "4.17.7+13-g2445b30a44-0+deb12u1", "4.17.5+72-g01140da4e8-1"]
    assert apt.parse_madison_versions(MADISON, "Sources") == ["4.17.5+72-g01140da4e8-1"]


@pytest.mark.parametrize("a,b,want", [
    ("1.0", "1.0", 0), ("1.0", "1.1", -1), ("1.0~rc1", "1.0", -1), ("1:0.1", "2.0", 1),
    ("4.17.5+72-g01140da4e8-1", "4.17.7+13-g2445b30a44-0+deb12u1", -1),
    ("2.06-13+deb12u2", "2.06-13", 1), ("6.1.192-2", "6.1.99-1", 1), ("1.0a", "1.0+", -1),
    ("1.0", "1.0a", -1), ("1.0-1", "1.0-1~bpo", 1), ("1.0~~", "1.0~", -1)])
def test_debian_version_order(a: str, b: str, want: int) -> None:
    got = pins.compare_versions(a, b)
    assert (got > 0) - (got < 0) == want


XEN = Pin("xen", "4.17.5+72-g01140da4e8-1", "4.17.")
KERNEL = Pin("linux-image-6.1.0-56-amd64", "6.1.192-2", "6.1.",
             family=r"linux-image-6\.1\.0-\d+-amd64")


def test_choose_pinned_stand_in_or_none() -> None:
    assert pins.choose(XEN, {"xen": [XEN.version, "4.17.9-1"]}) == Choice("xen", XEN.version)
    assert pins.choose(XEN, {"xen": ["4.17.7-1", "4.17.10-1", "4.20.1-1"]}) == \
        Choice("xen", "4.17.10-1", stand_in=True)
    assert pins.choose(XEN, {"xen": ["4.20.1-1"]}) is None
    assert pins.choose(KERNEL, {KERNEL.package: [], "linux-image-6.1.0-58-amd64": ["6.1.200-1"],
                                "linux-image-6.1.0-57-amd64": ["6.1.195-1"],
                                "linux-image-6.1.0-59-cloud-amd64": ["6.1.201-1"]}) == \
        Choice("linux-image-6.1.0-58-amd64", "6.1.200-1", stand_in=True)


class FakeApt:
    """Answers apt-cache's questions from a table, records apt-get's calls."""

    def __init__(self, madison: dict[str, list[str]]) -> None:
        self.madison = madison
        self.updates = 0

    def capture(self, cmd: Sequence[str | Path], **_: object) -> subprocess.CompletedProcess[str]:
        argv = [str(c) for c in cmd]
        assert all(a.startswith(("-oDir::", "-oAPT::")) for a in argv[1:-2])
        tool, what, arg = argv[0], argv[-2], argv[-1]
        assert tool == "apt-cache"
        if what == "madison":
            out = "".join(f"{arg} | {v} | http://m bookworm/main amd64 Packages\n"
                          for v in self.madison.get(arg, []))
        else:
            out = "\n".join(n for n in self.madison if n.startswith(arg))
        return subprocess.CompletedProcess(argv, 0, out, "")

    def run(self, cmd: Sequence[str | Path], log: Path, **_: object) -> None:
        argv = [str(c) for c in cmd]
        assert "-oDir::Etc::SourceParts=" + str(log.parent / "sources.list.d") in argv
        if argv[-1] == "update":
            self.updates += 1


@pytest.fixture
def host_etc(tmp_path: Path) -> Path:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "sources.list").write_text(ONE_LINE)
    return etc


def _apt(tmp_path: Path, host_etc: Path, fake: FakeApt,
         monkeypatch: pytest.MonkeyPatch) -> apt.Apt:
    monkeypatch.setattr(apt, "capture", fake.capture)
    monkeypatch.setattr(apt, "run", fake.run)
    return apt.Apt(tmp_path / "apt", etc=host_etc)


def test_resolve_pinned_version(tmp_path: Path, host_etc: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeApt({KERNEL.package: [KERNEL.version]})
    lines: list[str] = []
    got = _apt(tmp_path, host_etc, fake, monkeypatch).resolve(
        KERNEL, False, tmp_path / "apt" / "log", lines.append)
    assert got == Choice(KERNEL.package, KERNEL.version)
    assert fake.updates == 1  # the private lists, once
    assert not [line for line in lines if "no longer served" in line]
    assert (tmp_path / "apt" / "sources.list.d" / "xenolith.sources").read_text().count(
        "Types: deb-src") == 1
    assert (host_etc / "sources.list").read_text() == ONE_LINE


def test_resolve_stand_in_says_so(tmp_path: Path, host_etc: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeApt({"linux-image-6.1.0-60-amd64": ["6.1.210-1"]})
    lines: list[str] = []
    got = _apt(tmp_path, host_etc, fake, monkeypatch).resolve(
        KERNEL, False, tmp_path / "apt" / "log", lines.append)
    assert got == Choice("linux-image-6.1.0-60-amd64", "6.1.210-1", stand_in=True)
    [said] = [line for line in lines if "no longer served" in line]
    assert "linux-image-6.1.0-60-amd64=6.1.210-1" in said and "6.1.x" in said
    assert fake.updates == 2  # a refresh before settling for a stand-in


def test_resolve_nothing_served_names_what_is(tmp_path: Path, host_etc: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeApt({"linux-image-6.1.0-56-amd64": ["6.2.1-1"]})
    with pytest.raises(PartsError, match=r"nor any 6\.1\.x stand-in; versions served: 6\.2\.1-1"):
        _apt(tmp_path, host_etc, fake, monkeypatch).resolve(
            KERNEL, False, tmp_path / "apt" / "log", lambda line: None)


def test_deb_filename_encodes_epoch() -> None:
    assert apt.deb_filename("busybox-static", "1:1.35.0-4", "amd64") == \
        "busybox-static_1%3a1.35.0-4_amd64.deb"


def test_candidates_are_the_pin_then_its_series_newest_first() -> None:
    pin = Pin("lwip", "2.1.3+dfsg1-2", "2.1.3+dfsg1-")
    served = {"lwip": ["2.1.3+dfsg1-1", "2.1.3+dfsg1-2", "2.1.3+dfsg1-10", "2.2.0-1"]}
    assert pins.candidates(pin, served) == [Choice("lwip", "2.1.3+dfsg1-2"),
                                       Choice("lwip", "2.1.3+dfsg1-10", stand_in=True),
                                       Choice("lwip", "2.1.3+dfsg1-1", stand_in=True)]
    assert pins.candidates(pin, {"lwip": ["2.2.0-1"]}) == []
