"""Unit tests of xenlab.parts.apt: deb-src stanza, version parsing, missing-version errors."""

from pathlib import Path

import pytest

from xenlab.parts import apt
from xenlab.parts.errors import PartsError

HOST_SOURCES = """Types: deb
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


def test_deb_src_stanza_copies_uris_of_main_suite() -> None:
    text = apt.deb_src_stanza(HOST_SOURCES)
    assert "Types: deb-src" in text
    assert "URIs: http://deb.debian.org/debian\n" in text
    assert "Suites: bookworm\n" in text
    assert "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" in text
    assert "security" not in text


def test_deb_src_stanza_without_suite_says_what_to_do() -> None:
    with pytest.raises(PartsError, match="deb-src"):
        apt.deb_src_stanza("Types: deb\nURIs: http://x\nSuites: trixie\nComponents: main\n")


def test_parse_versions() -> None:
    assert apt.parse_showsrc_versions(SHOWSRC) == [
        "4.17.5+72-g01140da4e8-1", "4.17.7+13-g2445b30a44-0+deb12u1"]
    assert apt.parse_madison_versions(MADISON) == [
        "4.17.7+13-g2445b30a44-0+deb12u1", "4.17.5+72-g01140da4e8-1"]
    assert apt.parse_madison_versions(MADISON, "Sources") == ["4.17.5+72-g01140da4e8-1"]


def test_missing_version_message_lists_served_versions() -> None:
    msg = apt.missing_version_message("xen", "4.17.9-1", ["4.17.5+72-g01140da4e8-1"], True,
                                      Path("/tmp/build.log"))
    assert "source package xen=4.17.9-1 is not served" in msg
    assert "4.17.5+72-g01140da4e8-1" in msg
    assert "/tmp/build.log" in msg
    assert "Pin one of the served versions" in msg


def test_fetch_source_refuses_unserved_version(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(apt, "ensure_deb_src", lambda log, progress: None)
    monkeypatch.setattr(apt, "apt_update", lambda log, progress: None)
    monkeypatch.setattr(apt, "source_versions", lambda package: ["4.17.5+72-g01140da4e8-1"])
    with pytest.raises(PartsError, match=r"versions served: 4\.17\.5\+72-g01140da4e8-1"):
        apt.fetch_source("xen", "9.9-1", tmp_path, tmp_path / "log", lambda line: None)


def test_deb_filename_encodes_epoch() -> None:
    assert apt.deb_filename("busybox-static", "1:1.35.0-4", "amd64") == \
        "busybox-static_1%3a1.35.0-4_amd64.deb"
