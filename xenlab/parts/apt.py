"""Debian packages for the lab's parts (xenlab.parts): sources and .debs.

Adds a deb-src entry (same mirror as the host's binary sources), fetches
pinned source packages with `apt-get source --download-only`, downloads
pinned .debs with `apt-get download` and unpacks them with `dpkg -x`.
Nothing is installed on the host.
"""

from __future__ import annotations

import re
from pathlib import Path

from xenlab.parts.errors import PartsError
from xenlab.parts.progress import Progress
from xenlab.parts.run import as_root, capture, run

HOST_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
DEB_SRC_FILE = Path("/etc/apt/sources.list.d/xenolith-deb-src.sources")
MAIN_SUITE = "bookworm"


def parse_stanzas(text: str) -> list[dict[str, str]]:
    """Parse a deb822 file (apt .sources) into a list of field dicts (comments dropped)."""
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if current:
                stanzas.append(current)
            current, last = {}, ""
            continue
        if raw[0] in " \t" and last:
            current[last] += "\n" + raw.strip()
            continue
        key, _, value = raw.partition(":")
        last = key.strip()
        current[last] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def deb_src_stanza(host_sources: str, suite: str = MAIN_SUITE) -> str:
    """The deb-src stanza for `suite` main, with the URIs of the host's binary entry for it."""
    for st in parse_stanzas(host_sources):
        if "deb" in st.get("Types", "").split() and suite in st.get("Suites", "").split():
            lines = ["Types: deb-src", f"URIs: {st['URIs']}", f"Suites: {suite}",
                     "Components: main"]
            if "Signed-By" in st:
                lines.append(f"Signed-By: {st['Signed-By']}")
            return "# Written by xenolith's lab (xenlab.parts) for apt-get source.\n" + \
                "\n".join(lines) + "\n"
    raise PartsError(
        f"no 'Types: deb' entry for suite {suite!r} in {HOST_SOURCES}: cannot derive a "
        f"deb-src entry. Add one by hand to {DEB_SRC_FILE} (Types: deb-src, Suites: {suite}, "
        "Components: main) and run again.")


def ensure_deb_src(log: Path, progress: Progress) -> None:
    """Write the deb-src entry if it is missing or different, then `apt-get update`."""
    try:
        host = HOST_SOURCES.read_text()
    except OSError as exc:
        raise PartsError(f"cannot read {HOST_SOURCES} ({exc}); this lab expects Debian 12 "
                         "with deb822 apt sources") from exc
    want = deb_src_stanza(host)
    have = DEB_SRC_FILE.read_text() if DEB_SRC_FILE.exists() else ""
    if have == want:
        return
    progress(f"apt: adding deb-src entry {DEB_SRC_FILE}")
    try:
        DEB_SRC_FILE.write_text(want)
    except OSError as exc:
        raise PartsError(f"cannot write {DEB_SRC_FILE} ({exc}): run as root, or add it by "
                         f"hand with this content:\n{want}") from exc
    apt_update(log, progress)


def apt_update(log: Path, progress: Progress) -> None:
    progress("apt: apt-get update")
    run(as_root(["apt-get", "update"]), log,
        hint="apt-get update failed; check the network to the Debian mirror.")


def parse_showsrc_versions(text: str) -> list[str]:
    """Versions listed by `apt-cache showsrc PKG` (in order, no duplicates)."""
    seen: list[str] = []
    for m in re.finditer(r"^Version:\s*(\S+)", text, re.MULTILINE):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def parse_madison_versions(text: str, kind: str = "Packages") -> list[str]:
    """Versions listed by `apt-cache madison PKG`, for binary (`Packages`) or `Sources` lines."""
    seen: list[str] = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2].endswith(kind) and parts[1] not in seen:
            seen.append(parts[1])
    return seen


def missing_version_message(package: str, version: str, available: list[str],
                            source: bool, log: Path) -> str:
    """The error for a pinned version the mirror does not serve."""
    what = "source package" if source else "package"
    served = ", ".join(available) if available else "none (is the apt list up to date?)"
    where = "xenlab/parts (the pinned versions are at the top of xen.py / dom0.py / grub.py)"
    return (f"Debian {what} {package}={version} is not served by the configured mirror; "
            f"versions served: {served}. Log: {log}. Pin one of the served versions in {where}, "
            f"or point apt at a snapshot that has {version}.")


def source_versions(package: str) -> list[str]:
    return parse_showsrc_versions(capture(["apt-cache", "showsrc", package]).stdout)


def binary_versions(package: str) -> list[str]:
    return parse_madison_versions(capture(["apt-cache", "madison", package]).stdout)


def fetch_source(package: str, version: str, dest: Path, log: Path,
                 progress: Progress) -> Path:
    """Download source package `package=version` into `dest` (once); return its .dsc."""
    dsc = dest / f"{package}_{strip_epoch(version)}.dsc"
    if dsc.exists():
        return dsc
    ensure_deb_src(log, progress)
    if version not in source_versions(package):
        apt_update(log, progress)
        available = source_versions(package)
        if version not in available:
            raise PartsError(missing_version_message(package, version, available, True, log))
    dest.mkdir(parents=True, exist_ok=True)
    progress(f"apt: downloading source {package}={version}")
    run(["apt-get", "source", "--download-only", f"{package}={version}"], log, cwd=dest,
        hint=missing_version_message(package, version, source_versions(package), True, log))
    if not dsc.exists():
        raise PartsError(f"apt-get source did not leave {dsc}; see {log}")
    return dsc


def strip_epoch(version: str) -> str:
    return version.split(":", 1)[1] if ":" in version else version


def deb_filename(package: str, version: str, arch: str) -> str:
    """The file name `apt-get download` gives a .deb (':' of an epoch becomes '%3a')."""
    return f"{package}_{version.replace(':', '%3a')}_{arch}.deb"


def download_deb(package: str, version: str, dest: Path, log: Path,
                 progress: Progress) -> Path:
    """Download binary package `package=version` into `dest` (once); return the .deb."""
    dest.mkdir(parents=True, exist_ok=True)
    for arch in ("amd64", "all"):
        found = dest / deb_filename(package, version, arch)
        if found.exists():
            return found
    if version not in binary_versions(package):
        apt_update(log, progress)
        available = binary_versions(package)
        if version not in available:
            raise PartsError(missing_version_message(package, version, available, False, log))
    progress(f"apt: downloading {package}={version}")
    run(["apt-get", "download", f"{package}={version}"], log, cwd=dest,
        hint=missing_version_message(package, version, binary_versions(package), False, log))
    for arch in ("amd64", "all"):
        found = dest / deb_filename(package, version, arch)
        if found.exists():
            return found
    raise PartsError(f"apt-get download {package}={version} left no .deb in {dest}; see {log}")


def extract_deb(deb: Path, dest: Path, log: Path) -> None:
    """Unpack a .deb's files into `dest` (dpkg -x; nothing is installed)."""
    dest.mkdir(parents=True, exist_ok=True)
    run(["dpkg", "-x", deb, dest], log, hint=f"the .deb {deb} may be damaged; delete it and retry.")


def extract_file(deb: Path, member: str, dest: Path, log: Path, fix: str) -> Path:
    """Unpack `deb` into `dest` and return `dest/member`; PartsError (ending with the
    sentence `fix`) if the package has no such file."""
    extract_deb(deb, dest, log)
    path = dest / member
    if not path.exists():
        raise PartsError(f"{deb.name} has no {member}; Debian changed its packaging. "
                         f"Log: {log}. {fix}")
    return path
