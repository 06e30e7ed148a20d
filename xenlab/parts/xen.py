"""The Xen hypervisor for the lab (xenlab.parts): Debian's own, or rebuilt with CONFIG_PV32=y.

Debian's binary hypervisor has 32-bit PV support off, so Xenolith (a 32-bit
PAE PV kernel) runs on it only through the PV shim. A stock flavour takes
that binary as it is: the xen-hypervisor .deb's gzip'd image, unpacked (QEMU's
multiboot loader cannot read gzip). A rebuilt flavour fetches Debian's source
package (with its patches applied by dpkg-source), takes Debian's own
hypervisor config from the xen-hypervisor .deb, turns CONFIG_PV32 on, and
builds only `xen/`. Either way the result is an uncompressed multiboot ELF32
that QEMU loads. Which Xen is the flavour's (xenlab.parts.flavours).
"""

from __future__ import annotations

import gzip
import re
import shutil
import struct
from pathlib import Path

from xenlab.parts import apt
from xenlab.parts.cache import build_once, part_dir, recipe_key
from xenlab.parts.errors import PartsError
from xenlab.parts.flavours import Flavour, flavour
from xenlab.parts.progress import Progress, stderr_progress
from xenlab.parts.run import capture, run

XEN_SOURCE = "xen"
CONFIG_EDITS: dict[str, str] = {"CONFIG_PV32": "y"}
JOBS = 2
RECIPE_REVISION = 1  # bump when the build steps change in a way the fields below miss

MULTIBOOT1_MAGIC = 0x1BADB002


def xen_recipe(fl: Flavour, version: str | None = None) -> dict[str, object]:
    version = version or fl.xen_version
    if fl.stock:
        return {"part": "xen", "revision": RECIPE_REVISION,
                "binary": [fl.hypervisor_package, version, fl.image_path]}
    return {"part": "xen", "revision": RECIPE_REVISION, "source": [XEN_SOURCE, version],
            "config": [fl.hypervisor_package, version, fl.config_path], "edits": CONFIG_EDITS}


def xen_dir(cache: Path, fl: Flavour, version: str | None = None) -> Path:
    version = version or fl.xen_version
    return part_dir(cache, "xen", version, recipe_key(xen_recipe(fl, version)))


def xen_version(cache: Path, fl: Flavour, progress: Progress) -> str:
    """The Xen version the flavour uses: the pinned one if built or served, else its
    stand-in. The dom0's toolstack follows it, so hypervisor and tools always match."""
    if (xen_dir(cache, fl) / "xen").exists():
        return fl.xen_version
    fl_apt = apt.lab_apt(cache, fl.release)
    return fl_apt.resolve(fl.xen_pin, fl.pv32, fl_apt.log, progress).version


def build_xen(cache: Path, progress: Progress = stderr_progress, xen: str | None = None) -> Path:
    """Build or unpack (once) and return the path of the uncompressed `xen` ELF of flavour
    `xen` ("4.17-pv32", "4.20"; None for the default)."""
    fl = flavour(xen)
    version = xen_version(cache, fl, progress)
    final = xen_dir(cache, fl, version)
    out = final / "xen"
    if fl.stock:
        build_once(cache, "xen", final, out,
                   lambda tmp: _unpack_stock(cache, fl, version, tmp, progress),
                   xen_recipe(fl, version))
        return out

    def build(tmp: Path) -> None:
        log = tmp / "build.log"
        progress(f"xen: building hypervisor {version} with {CONFIG_EDITS} "
                 f"(about 2 minutes; log {log})")
        tree = _unpack_source(cache, fl, version, tmp, log, progress)
        _configure(cache, fl, version, tmp, tree, log, progress)
        _compile(tree, log, progress)
        built = tree / "xen" / "xen"
        check_multiboot_elf32(built, log)
        shutil.copy2(built, tmp / "xen")
        shutil.copy2(tree / "xen" / ".config", tmp / "xen.config")
        shutil.rmtree(tmp / "config-deb", ignore_errors=True)
        progress(f"xen: done: {out}")

    build_once(cache, "xen", final, out, build, xen_recipe(fl, version))
    return out


def _unpack_stock(cache: Path, fl: Flavour, version: str, tmp: Path, progress: Progress) -> None:
    """Debian's binary hypervisor, unpacked: `xen` (ELF32 multiboot) and its `xen.config`."""
    log = tmp / "build.log"
    deb = apt.lab_apt(cache, fl.release).download_deb(fl.hypervisor_package, version,
                                                     cache / "debs", log, progress)
    fix = "Update Flavour.image_path / config_path in xenlab/parts/flavours.py."
    image = apt.extract_file(deb, fl.image_path, tmp / "deb", log, fix)
    config = apt.extract_file(deb, fl.config_path, tmp / "deb", log, fix)
    progress(f"xen: Debian's own hypervisor {version} from {deb.name}, unpacked for QEMU")
    with gzip.open(image) as src, open(tmp / "xen", "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy2(config, tmp / "xen.config")
    shutil.rmtree(tmp / "deb")
    check_multiboot_elf32(tmp / "xen", log)
    if config_values((tmp / "xen.config").read_text()).get("CONFIG_PV32") == "y":
        progress(f"xen: note: Debian's {fl.hypervisor_package} {version} has CONFIG_PV32=y")


def _unpack_source(cache: Path, fl: Flavour, version: str, tmp: Path, log: Path,
                   progress: Progress) -> Path:
    try:
        dsc = apt.lab_apt(cache, fl.release).fetch_source(
            XEN_SOURCE, version, cache / "src" / f"xen-{version}", log, progress)
    except PartsError as exc:
        raise PartsError(
            f"{exc}\nA mirror may list a source package in its index and still answer 404 for "
            f"its files (seen for Debian {fl.release}'s xen). Then build Xen {fl.series} yourself "
            f"with CONFIG_PV32=y and give the lab its xen/xen: --xen {fl.name} --xen-binary PATH "
            f"(make XEN={fl.name} XEN_BINARY=PATH; docs/lab.md, 'Your own hypervisor'), or "
            f"run 32-bit PV guests through the shim on Debian's own Xen: --xen {fl.series}.") from exc
    progress("xen: unpacking source and applying Debian's patches (dpkg-source -x)")
    tree = tmp / "work" / "src"  # dpkg-source also leaves the orig tarball in work/
    tree.parent.mkdir(parents=True, exist_ok=True)
    run(["dpkg-source", "--no-check", "-x", dsc, tree], log,
        hint="dpkg-source needs package dpkg-dev; a damaged download can be removed from "
             f"{dsc.parent} to fetch it again.")
    return tree


def _configure(cache: Path, fl: Flavour, version: str, tmp: Path, tree: Path, log: Path,
               progress: Progress) -> None:
    deb = apt.lab_apt(cache, fl.release).download_deb(fl.hypervisor_package, version,
                                                     cache / "debs", log, progress)
    config = apt.extract_file(deb, fl.config_path, tmp / "config-deb", log,
                              "Update Flavour.config_path in xenlab/parts/flavours.py.")
    target = tree / "xen" / ".config"
    target.write_text(edit_config(config.read_text(), CONFIG_EDITS))
    progress(f"xen: config from {deb.name} with {CONFIG_EDITS}; make olddefconfig")
    run(["make", "-C", tree / "xen", "olddefconfig"], log,
        hint="Xen's kconfig needs flex and bison (scripts/bootstrap.sh installs them).")
    final = config_values(target.read_text())
    for key, value in CONFIG_EDITS.items():
        if final.get(key) != value:
            raise PartsError(f"after olddefconfig {target} has {key}={final.get(key)!r}, "
                             f"wanted {value!r} (a dependency is off?). Log: {log}")


def edit_config(text: str, edits: dict[str, str]) -> str:
    """A kconfig .config with `edits` applied (`n` writes `# X is not set`)."""
    lines = []
    for line in text.splitlines():
        key = _config_key(line)
        if key not in edits:
            lines.append(line)
    for key, value in edits.items():
        lines.append(f"# {key} is not set" if value == "n" else f"{key}={value}")
    return "\n".join(lines) + "\n"


def _config_key(line: str) -> str | None:
    if line.startswith("CONFIG_") and "=" in line:
        return line.split("=", 1)[0]
    if line.startswith("# CONFIG_") and line.endswith(" is not set"):
        return line[2:-len(" is not set")]
    return None


def config_values(text: str) -> dict[str, str]:
    """The settings of a kconfig .config (`n` for `# X is not set`)."""
    values = {}
    for line in text.splitlines():
        key = _config_key(line)
        if key:
            values[key] = line.split("=", 1)[1] if "=" in line else "n"
    return values


def _compile(tree: Path, log: Path, progress: Progress) -> None:
    xen = tree / "xen"

    def objects() -> str:
        return f"xen: still compiling: {sum(1 for _ in xen.rglob('*.o'))} objects"

    progress(f"xen: make -C xen -j{JOBS}")
    run(["make", "-C", xen, f"-j{JOBS}"], log, watch=objects, progress=progress, every=15,
        hint="the hypervisor build failed; the log shows the compiler's error.")


def check_multiboot_elf32(path: Path, log: Path) -> None:
    """Raise PartsError unless `path` is a 32-bit ELF with a valid multiboot (v1) header."""
    head = path.read_bytes()[:32768]
    if head[:4] != b"\x7fELF" or head[4] != 1:
        raise PartsError(f"{path} is not a 32-bit ELF; QEMU's -kernel multiboot loader needs "
                         f"the uncompressed xen/xen. Log: {log}")
    if not has_multiboot1_header(head):
        raise PartsError(f"{path} has no multiboot header in its first 32 KiB. Log: {log}")
    desc = capture(["file", path]).stdout.strip() if shutil.which("file") else ""
    if desc and "ELF 32-bit" not in desc:
        raise PartsError(f"file(1) says {desc!r}, expected an ELF 32-bit image. Log: {log}")


def has_multiboot1_header(data: bytes) -> bool:
    """True if a multiboot v1 header (magic, flags, checksum) sits 4-aligned in the first 8 KiB."""
    for off in range(0, min(len(data), 8192) - 11, 4):
        magic, flags, checksum = struct.unpack_from("<III", data, off)
        if magic == MULTIBOOT1_MAGIC and (magic + flags + checksum) & 0xFFFFFFFF == 0:
            return True
    return False


def binary_version(path: Path) -> str:
    """The Xen version of a hypervisor ELF someone built ("4.20.4"), or "" if it does not say:
    from the `.config` beside it (kconfig's header names the version) or a `Xen X.Y.Z` string
    in the image."""
    if not path.is_file():
        return ""
    config = path.parent / ".config"
    if config.is_file():
        m = re.search(r"Xen/x86 (\d+\.\d+\S*) Configuration", config.read_text(errors="replace"))
        if m:
            return m.group(1)
    m = re.search(rb"Xen (\d+\.\d+\.\d+)", path.read_bytes())
    return m.group(1).decode() if m else ""


def own_xen(path: Path) -> Path:
    """A hypervisor the user built (`--xen-binary`): checked like ours, not copied."""
    path = path.expanduser().resolve()
    if not path.is_file():
        raise PartsError(f"--xen-binary {path} does not exist; give the uncompressed xen/xen "
                         f"of your build (QEMU cannot load xen.gz)")
    check_multiboot_elf32(path, path.parent / "build.log")
    config = path.parent / ".config"
    if config.is_file() and config_values(config.read_text()).get("CONFIG_PV32") != "y":
        raise PartsError(f"{config} has CONFIG_PV32 off: that hypervisor cannot run a 32-bit "
                         f"PV guest. Set CONFIG_PV32=y, make -C xen olddefconfig, rebuild.")
    return path
