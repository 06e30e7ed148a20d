"""Shared I/O rings (netif, blkif): the geometry DEFINE_RING_TYPES gives them on a 4096-byte page.

A shared ring page is a 64-byte header (producer/consumer indexes, event
thresholds, private bytes, padding) followed by as many request/response
entries as fit, rounded down to a power of two so indexes can be masked.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.errors import CodegenError
from codegen.manifest import Ring
from codegen.model import Layout, Ref, Registry

PAGE_SIZE = 4096
HEADER_SIZE = 64  # 4 RING_IDX, 4 private bytes, 44 bytes padding
PRIVATE_SIZE = 4


@dataclass(frozen=True)
class RingGeometry:
    """One ring as the templates need it."""

    name: str
    request: str
    response: str
    entry_size: int
    header_size: int
    size: int  # entries in the ring

    @property
    def upper(self) -> str:
        return self.name.upper()

    @property
    def pad_size(self) -> int:
        return self.header_size - 16 - PRIVATE_SIZE

    @property
    def sring_size(self) -> int:
        return self.header_size + self.size * self.entry_size


def pow2_floor(n: int) -> int:
    return 1 << (n.bit_length() - 1) if n > 0 else 0


def geometry(ring: Ring, reg: Registry, probed_size: int | None) -> RingGeometry:
    """Entry size from the request/response structs; header size cross-checked with Xen's own sring in DWARF."""
    lay = Layout(reg)
    for s in (ring.request, ring.response):
        if ("struct", s) not in reg.aggregates:
            raise CodegenError(f"ring {ring.name}: struct {s} is not in Xen's headers; fix rings.{ring.name} in the declared list")
    entry = max(lay.size_align(Ref("struct", ring.request))[0], lay.size_align(Ref("struct", ring.response))[0])
    header = HEADER_SIZE
    xen_sring = reg.aggregates.get(("struct", f"{ring.name}_sring"))
    if xen_sring is not None:
        ring_member = [m for m in xen_sring.members if m.name == "ring"]
        if not ring_member or ring_member[0].offset != HEADER_SIZE:
            raise CodegenError(f"struct {ring.name}_sring in Xen's headers does not have its ring at offset {HEADER_SIZE}")
    size = pow2_floor((PAGE_SIZE - header) // entry)
    if probed_size is not None and probed_size != size:
        raise CodegenError(f"ring {ring.name}: computed {size} entries but Xen's __CONST_RING_SIZE says {probed_size}")
    if size == 0:
        raise CodegenError(f"ring {ring.name}: entries of {entry} bytes do not fit a {PAGE_SIZE}-byte page")
    return RingGeometry(ring.name, ring.request, ring.response, entry, header, size)
