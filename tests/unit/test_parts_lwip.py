"""Unit tests of xenlab.parts.lwip: lwIP's source as a part (pin, stand-in, cache folder,
the unpacked tree checked), with apt and dpkg-source answered by fakes."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from xenlab.parts import lwip, pins
from xenlab.parts.errors import PartsError
from xenlab.parts.pins import Choice


@dataclass
class FakeApt:
    """What the lab's apt answers: the version it resolves the pin to, what else it lists, the
    versions whose download fails (404), and the source downloads made."""

    version: str
    others: list[str] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)
    log: Path = Path("/dev/null")
    fetched: list[str] = field(default_factory=list)

    def resolve(self, pin: pins.Pin, source: bool, log: Path, progress: object) -> Choice:
        assert source and pin == lwip.LWIP_PIN
        return Choice(pin.package, self.version, self.version != pin.version)

    def served(self, pin: pins.Pin, source: bool) -> dict[str, list[str]]:
        return {pin.package: [self.version, *self.others]}

    def fetch_source(self, package: str, version: str, dest: Path, log: Path,
                     progress: object) -> Path:
        self.fetched.append(f"{package}={version}")
        if version in self.missing:
            raise PartsError(f"apt-get source {package}={version} failed: 404  Not Found")
        dest.mkdir(parents=True, exist_ok=True)
        dsc = dest / f"{package}_{version}.dsc"
        dsc.write_text("")
        return dsc


def _unpack(markers: Sequence[str]):  # type: ignore[no-untyped-def]
    def run(cmd: Sequence[str | Path], log: Path, **_: object) -> None:
        argv = [str(c) for c in cmd]
        assert argv[:3] == ["dpkg-source", "--no-check", "-x"]
        tree = Path(argv[-1])
        for m in markers:
            (tree / m).parent.mkdir(parents=True, exist_ok=True)
            (tree / m).write_text("/* lwIP */\n")
    return run


def _fake(monkeypatch: pytest.MonkeyPatch, served: str,
          markers: Sequence[str] = lwip.LWIP_MARKERS, others: Sequence[str] = (),
          missing: Sequence[str] = ()) -> FakeApt:
    fake = FakeApt(served, list(others), set(missing))
    monkeypatch.setattr(lwip.apt, "lab_apt", lambda cache, release="bookworm": fake)
    monkeypatch.setattr(lwip, "run", _unpack(markers))
    return fake


def test_pin_takes_a_stand_in_of_the_same_upstream_release() -> None:
    served = {"lwip": ["2.1.3+dfsg1-3", "2.2.0-1"]}
    assert pins.choose(lwip.LWIP_PIN, served) == Choice("lwip", "2.1.3+dfsg1-3", stand_in=True)
    assert pins.choose(lwip.LWIP_PIN, {"lwip": ["2.2.0-1"]}) is None


def test_source_fetched_unpacked_and_cached_once(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake(monkeypatch, lwip.LWIP_VERSION)
    lines: list[str] = []
    tree = lwip.build_lwip_source(tmp_path, lines.append)
    assert tree == lwip.lwip_dir(tmp_path) / "lwip"
    assert (tree / "src" / "core" / "tcp.c").is_file()
    assert fake.fetched == [f"lwip={lwip.LWIP_VERSION}"]
    recipe = json.loads((tree.parent / "recipe.json").read_text())
    assert recipe["source"] == ["lwip", lwip.LWIP_VERSION]
    assert any("dpkg-source" in line for line in lines)
    assert lwip.build_lwip_source(tmp_path, lines.append) == tree  # a second call: a stat
    assert len(fake.fetched) == 1


def test_stand_in_names_its_own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(monkeypatch, "2.1.3+dfsg1-5")
    tree = lwip.build_lwip_source(tmp_path, lambda line: None)
    assert tree.parent == lwip.lwip_dir(tmp_path, "2.1.3+dfsg1-5")
    assert "2.1.3+dfsg1-5" in tree.parent.name


def test_a_tree_without_lwip_files_is_refused(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(monkeypatch, lwip.LWIP_VERSION, markers=["src/core/tcp.c"])
    with pytest.raises(PartsError, match=r"lacks src/core/ipv4/etharp\.c.*Pin a 2\.1\.x"):
        lwip.build_lwip_source(tmp_path, lambda line: None)
    assert not lwip.lwip_dir(tmp_path).exists()  # nothing half-built is published


def test_a_listed_version_that_will_not_download_falls_back_to_the_next(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake(monkeypatch, lwip.LWIP_VERSION, others=["2.1.3+dfsg1-1", "2.1.3+dfsg1-4",
                                                         "2.2.0-1"],
                 missing=[lwip.LWIP_VERSION])
    lines: list[str] = []
    tree = lwip.build_lwip_source(tmp_path, lines.append)
    assert fake.fetched == [f"lwip={lwip.LWIP_VERSION}", "lwip=2.1.3+dfsg1-4"]  # newest next
    assert tree.parent == lwip.lwip_dir(tmp_path, "2.1.3+dfsg1-4")
    assert any(f"source {lwip.LWIP_VERSION} could not be downloaded" in line for line in lines)
    assert not lwip.lwip_dir(tmp_path).exists()  # the pinned version's folder: never published


def test_no_version_downloads_says_what_to_do(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    _fake(monkeypatch, lwip.LWIP_VERSION, others=["2.1.3+dfsg1-4"],
          missing=[lwip.LWIP_VERSION, "2.1.3+dfsg1-4"])
    with pytest.raises(PartsError, match=r"(?s)404.*2\.1\.3\+dfsg1-4: .*Pin another 2\.1\.x"):
        lwip.build_lwip_source(tmp_path, lambda line: None)
