"""Unpacking a Linux bzImage into its ELF vmlinux (xenlab.parts, dom0 kernel).

Xen can boot dom0 from the bzImage, but it then decompresses the kernel
itself, which takes about 5 s under QEMU's TCG. Giving Xen the ELF inside
(same kernel, same Xen ELF notes) removes that from every cold boot.
Layout (Documentation/x86/boot.rst): setup_sects at 0x1f1, payload_offset
and payload_length at 0x248/0x24c, counted from the protected-mode code,
which starts (setup_sects + 1) * 512 bytes into the file.
"""

from __future__ import annotations

import gzip
import lzma
import struct
import subprocess
from pathlib import Path

from xenlab.parts.errors import PartsError


def payload(image: bytes) -> bytes:
    """The compressed kernel inside a bzImage."""
    if image[0x202:0x206] != b"HdrS":
        raise PartsError("not a Linux bzImage (no 'HdrS' boot header at 0x202)")
    setup_sects = image[0x1F1] or 4
    offset, length = struct.unpack_from("<II", image, 0x248)
    start = (setup_sects + 1) * 512 + offset
    return image[start:start + length]


def decompress(data: bytes) -> bytes:
    """Decompress a kernel payload (xz, gzip or zstd, by its magic bytes)."""
    if data.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data)
    if data.startswith(b"\x1f\x8b"):
        return gzip.decompress(data)
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        try:
            return subprocess.run(["zstd", "-dc"], input=data, capture_output=True,
                                  check=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise PartsError(f"zstd could not decompress the kernel ({exc}); package zstd "
                             "is in scripts/bootstrap.sh") from exc
    raise PartsError(f"unknown kernel compression (magic {data[:6].hex()})")


def extract_vmlinux(bzimage: Path, out: Path) -> None:
    """Write the ELF vmlinux found inside `bzimage` to `out`."""
    elf = decompress(payload(bzimage.read_bytes()))
    if elf[:4] != b"\x7fELF":
        raise PartsError(f"the payload of {bzimage} is not an ELF file after decompression")
    out.write_bytes(elf)
