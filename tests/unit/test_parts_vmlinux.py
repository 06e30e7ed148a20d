"""Unit tests of xenlab.parts.vmlinux: finding and unpacking a bzImage's payload."""

import gzip
import lzma
import struct
from pathlib import Path

import pytest

from xenlab.parts import vmlinux
from xenlab.parts.errors import PartsError


def fake_bzimage(payload: bytes, setup_sects: int = 2, offset: int = 0x40) -> bytes:
    image = bytearray(b"\0" * ((setup_sects + 1) * 512 + offset))
    image[0x1F1] = setup_sects
    image[0x202:0x206] = b"HdrS"
    struct.pack_into("<II", image, 0x248, offset, len(payload))
    return bytes(image) + payload + b"\0\0\0\0"


@pytest.mark.parametrize("compress", [
    lambda d: lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32),
    gzip.compress,
])
def test_extract_vmlinux(tmp_path: Path, compress) -> None:  # type: ignore[no-untyped-def]
    elf = b"\x7fELF" + bytes(range(256)) * 10
    src = tmp_path / "vmlinuz"
    src.write_bytes(fake_bzimage(compress(elf)))
    vmlinux.extract_vmlinux(src, tmp_path / "vmlinux")
    assert (tmp_path / "vmlinux").read_bytes() == elf


def test_not_a_bzimage() -> None:
    with pytest.raises(PartsError, match="HdrS"):
        vmlinux.payload(b"\0" * 4096)


def test_unknown_compression() -> None:
    with pytest.raises(PartsError, match="unknown kernel compression"):
        vmlinux.decompress(b"\x01\x02\x03\x04\x05\x06")
