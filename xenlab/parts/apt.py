"""Debian packages for the lab's parts (xenlab.parts), through a private apt configuration.

The lab asks apt for pinned source packages (`apt-get source --download-only`)
and binary packages (`apt-get download`, unpacked with `dpkg -x`): nothing is
installed on the host. apt runs with a configuration of the lab's own under
the cache (`<cache>/apt/`: a deb822 sources file derived from the host's
sources in either format, plus a `deb-src` entry; its own package lists and
package cache), passed as `-o Dir::...` options, so the host's `/etc/apt`
and `/var/lib/apt` are read by nobody but apt and written by nobody.

A pinned version the mirror no longer serves is replaced by the newest served
version of the same series (xenlab.parts.pins), and the build says so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xenlab.parts.apt_sources import host_release, lab_sources, read_host_sources
from xenlab.parts.errors import PartsError
from xenlab.parts.pins import Choice, Pin, choose
from xenlab.parts.progress import Progress
from xenlab.parts.run import capture, run

RELEASE = "bookworm"  # the Debian release of the default flavour (and of the dom0 kernel)


@dataclass(frozen=True)
class Apt:
    """apt with the lab's private configuration in `root` (see the module's docstring)."""

    root: Path
    release: str = RELEASE
    etc: Path = Path("/etc/apt")

    @property
    def log(self) -> Path:
        """Where apt's own steps (update, resolving pins) are logged."""
        return self.root / "apt.log"

    @property
    def sources(self) -> Path:
        return self.root / "sources.list.d" / "xenolith.sources"

    def options(self) -> list[str]:
        """The `-o` options that point apt at the private configuration."""
        opts = {"Dir::Etc::SourceList": self.root / "sources.list",
                "Dir::Etc::SourceParts": self.root / "sources.list.d",
                "Dir::State::Lists": self.root / "lists",
                "Dir::Cache": self.root / "cache"}
        out = [f"-o{k}={v}" for k, v in opts.items()]
        if os.geteuid() == 0:  # the cache is root's own: apt's _apt user cannot write there
            out.append("-oAPT::Sandbox::User=root")
        return out

    def command(self, tool: str, *args: str) -> list[str]:
        return [tool, *self.options(), *args]

    def prepare(self, log: Path, progress: Progress) -> None:
        """Write the private sources (from the host's) and fetch their lists when needed."""
        want = lab_sources(read_host_sources(self.etc), self.release, host_release())
        have = self.sources.read_text() if self.sources.exists() else ""
        if have == want and any((self.root / "lists").glob("*_Packages*")):
            return
        for sub in ("sources.list.d", "lists/partial", "cache/archives/partial"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "sources.list").write_text("")
        self.sources.write_text(want)
        progress(f"apt: sources for Debian {self.release} in {self.sources}")
        self.update(log, progress)

    def update(self, log: Path, progress: Progress) -> None:
        progress("apt: apt-get update (the lab's own package lists)")
        run(self.command("apt-get", "update"), log,
            hint="apt-get update failed; check the network to the Debian mirror.")

    def source_versions(self, package: str) -> list[str]:
        return parse_showsrc_versions(capture(self.command("apt-cache", "showsrc",
                                                           package)).stdout)

    def binary_versions(self, package: str) -> list[str]:
        return parse_madison_versions(capture(self.command("apt-cache", "madison",
                                                           package)).stdout)

    def package_names(self, prefix: str) -> list[str]:
        return capture(self.command("apt-cache", "pkgnames", prefix)).stdout.split()

    def served(self, pin: Pin, source: bool) -> dict[str, list[str]]:
        """What the mirror serves of `pin`'s package (and of its family)."""
        versions = self.source_versions if source else self.binary_versions
        names = [pin.package]
        if pin.family:
            prefix = re.split(r"[\\\[(.*+?]", pin.family, maxsplit=1)[0]
            names += [n for n in self.package_names(prefix)
                      if n != pin.package and re.fullmatch(pin.family, n)]
        return {n: versions(n) for n in names}

    def resolve(self, pin: Pin, source: bool, log: Path, progress: Progress) -> Choice:
        """The pinned package and version if served, else its stand-in (said in one line)."""
        self.prepare(log, progress)
        served = self.served(pin, source)
        if choose(pin, served) != Choice(pin.package, pin.version):
            self.update(log, progress)
            served = self.served(pin, source)
        choice = choose(pin, served)
        if choice is None:
            available = sorted({v for vs in served.values() for v in vs})
            raise PartsError(missing_version_message(pin, available, source, log))
        if choice.stand_in:
            progress(f"apt: {pin.package}={pin.version} is no longer served; using "
                     f"{choice.package}={choice.version} (newest {pin.series}x served)")
        return choice

    def fetch_source(self, package: str, version: str, dest: Path, log: Path,
                     progress: Progress) -> Path:
        """Download source package `package=version` into `dest` (once); return its .dsc."""
        dsc = dest / f"{package}_{strip_epoch(version)}.dsc"
        if dsc.exists():
            return dsc
        self.prepare(log, progress)
        dest.mkdir(parents=True, exist_ok=True)
        progress(f"apt: downloading source {package}={version}")
        run(self.command("apt-get", "source", "--download-only", f"{package}={version}"), log,
            cwd=dest, hint=f"apt-get source {package}={version} failed; see {log}.")
        if not dsc.exists():
            raise PartsError(f"apt-get source did not leave {dsc}; see {log}")
        return dsc

    def download_deb(self, package: str, version: str, dest: Path, log: Path,
                     progress: Progress) -> Path:
        """Download binary package `package=version` into `dest` (once); return the .deb."""
        dest.mkdir(parents=True, exist_ok=True)
        found = _find_deb(dest, package, version)
        if found:
            return found
        self.prepare(log, progress)
        progress(f"apt: downloading {package}={version}")
        run(self.command("apt-get", "download", f"{package}={version}"), log, cwd=dest,
            hint=f"apt-get download {package}={version} failed; see {log}.")
        found = _find_deb(dest, package, version)
        if not found:
            raise PartsError(f"apt-get download {package}={version} left no .deb in {dest}; "
                             f"see {log}")
        return found


def lab_apt(cache: Path, release: str = RELEASE) -> Apt:
    """The lab's apt for Debian `release`, configured under `cache` (`apt/` for the default
    release, `apt-<release>/` for others: each has its own sources and package lists)."""
    return Apt(cache / ("apt" if release == RELEASE else f"apt-{release}"), release)


def _find_deb(dest: Path, package: str, version: str) -> Path | None:
    for arch in ("amd64", "all"):
        found = dest / deb_filename(package, version, arch)
        if found.exists():
            return found
    return None


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


def missing_version_message(pin: Pin, available: Sequence[str], source: bool,
                            log: Path) -> str:
    """The error for a pin with neither its version nor a stand-in of its series served."""
    what = "source package" if source else "package"
    served = ", ".join(available) if available else "none (is the apt list up to date?)"
    where = "xenlab/parts (the pins are at the top of xen.py / dom0.py / grub.py)"
    return (f"Debian {what} {pin.package}={pin.version} is not served by the configured "
            f"mirror, nor any {pin.series}x stand-in; versions served: {served}. Log: {log}. "
            f"Pin one of the served versions in {where}, or point apt at a snapshot that "
            f"has {pin.version}.")


def strip_epoch(version: str) -> str:
    return version.split(":", 1)[1] if ":" in version else version


def deb_filename(package: str, version: str, arch: str) -> str:
    """The file name `apt-get download` gives a .deb (':' of an epoch becomes '%3a')."""
    return f"{package}_{version.replace(':', '%3a')}_{arch}.deb"


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
