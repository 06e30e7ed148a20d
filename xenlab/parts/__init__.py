"""xenlab.parts: builds and caches the lab's parts (Xen, dom0 image, GRUB PV).

API (see docs/architecture.md "Lab internals" and docs/lab-parts.md):
    build_xen(cache, progress, xen) -> Path     uncompressed multiboot xen ELF (CONFIG_PV32=y)
    build_dom0(cache, progress, xen) -> Dom0Image  .kernel, .initrd, .key (recipe hash)
    build_grub_pv(cache, progress) -> Path      Debian's grub-i386-xen.bin
    build_all(cache, progress, xen) -> LabParts .xen, .dom0, .grub_pv
`xen` is the flavour ("4.17", "4.20"; None: the default; xenlab.parts.flavours).
    default_cache() -> Path                     $XENOLITH_CACHE or ~/.cache/xenolith
    DOM0_CMDLINE                                recommended dom0 kernel command line
`progress` is any callable taking one line (str); the default prints to stderr.
Every builder raises PartsError with what failed, the log, and what to do.
"""

from xenlab.parts.cache import default_cache
from xenlab.parts.dom0 import DOM0_CMDLINE, Dom0Image, build_dom0
from xenlab.parts.errors import PartsError
from xenlab.parts.grub import build_grub_pv
from xenlab.parts.lab import LabParts, build_all
from xenlab.parts.progress import Progress, stderr_progress
from xenlab.parts.xen import build_xen

__all__ = ["DOM0_CMDLINE", "Dom0Image", "LabParts", "PartsError", "Progress", "build_all",
           "build_dom0", "build_grub_pv", "build_xen", "default_cache", "stderr_progress"]
