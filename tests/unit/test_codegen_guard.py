"""codegen: the generated _Static_asserts can fail, and layouts the generator cannot reproduce are refused.

A test-only copy of Xen's headers gets a different `struct mmu_update`
(`val` shrunk to 32 bits). The asserts generated from those fake headers are
then compiled against the struct definitions generated from the real headers
(and the other way round): the compile must fail on exactly that struct.
Recombining the real asserts with the real definitions is the control.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from codegen.errors import CodegenError
from codegen.generate import Inputs, generate
from codegen.manifest import load_manifest

XEN = Path("/usr/include/xen")
STRICT = ["-m32", "-std=c11", "-ffreestanding", "-Wall", "-Wextra", "-Werror", "-fsyntax-only"]

pytestmark = pytest.mark.skipif(not (XEN / "xen.h").is_file() or shutil.which("gcc") is None, reason="needs libxen-dev and gcc")


def _fake_headers(root: Path, file: str, old: str, new: str) -> Path:
    fake = root / "fake-xen"
    shutil.copytree(XEN, fake)
    path = fake / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))
    return fake


def _gen(headers: Path, out: Path) -> Path:
    generate(Inputs(headers, out, load_manifest(), "gcc"))
    return out


def _split(structs_h: str) -> tuple[str, list[str]]:
    """(structs.h without its static asserts, the static assert lines)."""
    asserts = [ln for ln in structs_h.splitlines() if ln.startswith("_Static_assert(")]
    body = "\n".join(ln for ln in structs_h.splitlines() if not ln.startswith("_Static_assert("))
    return body, asserts


def _compile_mix(tmp: Path, defs_from: Path, asserts_from: Path, name: str) -> subprocess.CompletedProcess[str]:
    body, _ = _split((defs_from / "include/abi/structs.h").read_text())
    _, asserts = _split((asserts_from / "include/abi/structs.h").read_text())
    mix = tmp / name / "include/abi"
    mix.mkdir(parents=True)
    end = body.rindex("#endif")
    (mix / "structs.h").write_text(body[:end] + "\n".join(asserts) + "\n" + body[end:] + "\n")
    src = tmp / name / "t.c"
    src.write_text("#include <abi/structs.h>\n")
    return subprocess.run(["gcc", *STRICT, f"-I{tmp / name / 'include'}", str(src)], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def real_and_fake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("guard")
    fake = _fake_headers(root, "xen.h", "    uint64_t val;       /* New contents of PTE.    */",
                         "    uint32_t val;       /* test-only: a different layout */")  # fmt: skip
    return _gen(XEN, root / "real"), _gen(fake, root / "fake")


def test_fake_headers_really_differ(real_and_fake: tuple[Path, Path]) -> None:
    real, fake = real_and_fake
    assert "_Static_assert(sizeof(struct mmu_update) == 16" in (real / "include/abi/structs.h").read_text()
    assert "_Static_assert(sizeof(struct mmu_update) == 12" in (fake / "include/abi/structs.h").read_text()


def test_control_real_asserts_on_real_definitions(real_and_fake: tuple[Path, Path], tmp_path: Path) -> None:
    real, _ = real_and_fake
    r = _compile_mix(tmp_path, real, real, "control")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("direction", ["fake-asserts-real-defs", "real-asserts-fake-defs"])
def test_static_asserts_fail_on_other_layout(real_and_fake: tuple[Path, Path], tmp_path: Path, direction: str) -> None:
    real, fake = real_and_fake
    defs, asserts = (real, fake) if direction.startswith("fake-asserts") else (fake, real)
    r = _compile_mix(tmp_path, defs, asserts, direction)
    assert r.returncode != 0
    failed = set(re.findall(r'static assertion failed: "([^"]+)"', r.stderr))
    assert failed == {"sizeof(struct mmu_update)"}, r.stderr


def test_unreproducible_layout_is_refused(tmp_path: Path) -> None:
    """A packed struct cannot be written with natural i386 layout; the generator says so instead of guessing."""
    fake = _fake_headers(tmp_path, "io/blkif.h", "struct blkif_response {", "struct __attribute__((packed)) blkif_response {")
    with pytest.raises(CodegenError, match=r"struct blkif_response: .*cannot reproduce"):
        _gen(fake, tmp_path / "out")
    assert not (tmp_path / "out").exists()
