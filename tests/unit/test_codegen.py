"""codegen: generated i386 layouts and constants checked against independent knowledge and Xen's headers.

The expected sizes and offsets below are worked out by hand from the i386
System V ABI (int/long/pointer 4 bytes; 64-bit integers 4-byte aligned inside
structs) and the member lists in Xen's public headers, not copied from the
generator's output.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from codegen.generate import Inputs, generate
from codegen.manifest import load_manifest

REPO = Path(__file__).resolve().parents[2]
XEN = Path("/usr/include/xen")
STRICT = ["-m32", "-std=c11", "-ffreestanding", "-Wall", "-Wextra", "-Werror"]

pytestmark = pytest.mark.skipif(not (XEN / "xen.h").is_file() or shutil.which("gcc") is None, reason="needs libxen-dev and gcc")


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate(Inputs(XEN, out, load_manifest(), "gcc"))
    return out


@pytest.fixture(scope="module")
def abi(gen: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("xen_abi_under_test", gen / "python" / "xen_abi.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- layouts, by hand -------------------------------------------------------------------------------------------

# start_info: char magic[32]; 5 longs (nr_pages, shared_info, flags, store_mfn, store_evtchn);
# console union of two 8-byte structs; 5 longs (pt_base .. mod_len); int8_t cmd_line[1024];
# first_p2m_pfn, nr_p2m_frames.
START_INFO = {
    "magic": 0, "nr_pages": 32, "shared_info": 36, "flags": 40, "store_mfn": 44, "store_evtchn": 48,
    "console": 52, "console.domU.mfn": 52, "console.domU.evtchn": 56, "console.dom0.info_off": 52,
    "pt_base": 60, "nr_pt_frames": 64, "mfn_list": 68, "mod_start": 72, "mod_len": 76, "cmd_line": 80,
    "first_p2m_pfn": 1104, "nr_p2m_frames": 1108,
}  # fmt: skip

# vcpu_time_info: version, pad0 (u32); tsc_timestamp, system_time (u64); tsc_to_system_mul (u32);
# tsc_shift (s8), flags (u8), pad1[2].
VCPU_TIME_INFO = {
    "version": 0, "pad0": 4, "tsc_timestamp": 8, "system_time": 16, "tsc_to_system_mul": 24,
    "tsc_shift": 28, "flags": 29, "pad1": 30,
}  # fmt: skip

# shared_info: vcpu_info[32] of 64 bytes (2 bytes, pad to 4, unsigned long, arch 24, time 32);
# evtchn_pending / evtchn_mask: 8 * sizeof(long) = 32 longs each; wc_version, wc_sec, wc_nsec;
# arch_shared_info (7 longs on x86_32, with wc_sec_hi).
SHARED_INFO = {
    "vcpu_info": 0, "evtchn_pending": 2048, "evtchn_mask": 2176, "wc_version": 2304, "wc_sec": 2308,
    "wc_nsec": 2312, "arch": 2316,
}  # fmt: skip

SIZES = {
    "struct start_info": 1112,
    "struct vcpu_time_info": 32,
    "struct vcpu_info": 64,
    "struct shared_info": 2344,
    # op, result, args[6]: 8 unsigned longs = 32 on i386 (the "28" sometimes quoted miscounts args as 5).
    "struct multicall_entry": 32,
    "struct mmu_update": 16,  # two uint64_t
    "struct netif_tx_request": 12,  # grant_ref_t + 4 * uint16_t
    "struct netif_tx_response": 4,
    "struct netif_rx_request": 8,
    "struct netif_rx_response": 8,
    # 1+1+2, then id (u64, 4-aligned on i386) at 4, sector_number at 12, seg[11] of 8 at 20: 108.
    # (112 is the x86_64 size, where id is 8-aligned.)
    "struct blkif_request": 108,
    "struct blkif_request_segment": 8,
    "struct blkif_response": 12,  # u64 id, u8 operation, (pad), s16 status
    "struct trap_info": 8,
    "struct mmuext_op": 12,
    "struct evtchn_bind_virq": 12,
    "struct sched_shutdown": 4,
    "struct xen_memory_reservation": 20,  # handle 4, nr_extents 4, extent_order 4, mem_flags 4, domid 2 + pad
    "struct xencons_interface": 1024 + 2048 + 16,
    "struct xenstore_domain_interface": 1024 + 1024 + 4 * 4 + 3 * 4,
    "struct xsd_sockmsg": 16,
    "struct grant_entry_v1": 8,
}


@pytest.mark.parametrize(("name", "size"), sorted(SIZES.items()))
def test_sizes(abi: ModuleType, name: str, size: int) -> None:
    assert abi.SIZES[name] == size


@pytest.mark.parametrize(
    ("struct", "offsets"),
    [("start_info", START_INFO), ("vcpu_time_info", VCPU_TIME_INFO), ("shared_info", SHARED_INFO)],
)
def test_offsets(abi: ModuleType, struct: str, offsets: dict[str, int]) -> None:
    got = abi.OFFSETS[f"struct {struct}"]
    assert {k: got[k] for k in offsets} == offsets


def test_small_offsets(abi: ModuleType) -> None:
    assert abi.OFFSETS["struct netif_tx_request"] == {"gref": 0, "offset": 4, "flags": 6, "id": 8, "size": 10}
    assert abi.OFFSETS["struct blkif_request"] == {
        "operation": 0, "nr_segments": 1, "handle": 2, "id": 4, "sector_number": 12, "seg": 20,
    }  # fmt: skip
    assert abi.OFFSETS["struct multicall_entry"] == {"op": 0, "result": 4, "args": 8}
    assert abi.OFFSETS["struct mmu_update"] == {"ptr": 0, "val": 8}
    assert abi.OFFSETS["struct mmuext_op"]["arg2.vcpumask"] == 8


def test_rings(abi: ModuleType) -> None:
    # (4096 - 64-byte header) / entry size, rounded down to a power of two.
    assert abi.RINGS == {"netif_tx": (256, 12, 64), "netif_rx": (256, 8, 64), "blkif": (32, 108, 64)}


# --- constants ----------------------------------------------------------------------------------------------------


def test_known_constants(abi: ModuleType) -> None:
    c = abi.CONSTANTS
    assert c["HYPERVISOR_VIRT_START"] == 0xF5800000
    assert c["MACH2PHYS_VIRT_START"] == 0xF5800000 and c["MACH2PHYS_VIRT_END"] == 0xF6800000
    assert c["DOMID_SELF"] == 0x7FF0
    assert (c["FLAT_KERNEL_CS"], c["FLAT_KERNEL_DS"], c["FLAT_USER_CS"]) == (0xE019, 0xE021, 0xE02B)
    assert c["__HYPERVISOR_mmu_update"] == 1 and c["__HYPERVISOR_event_channel_op"] == 32
    assert c["XEN_LEGACY_MAX_VCPUS"] == 32
    assert c["XS_PAYLOAD_MAX"] == 4096 and c["XENSTORE_RING_SIZE"] == 1024
    assert c["XEN_START_INFO_MAGIC"] == "xen-3.0-x86_32p"
    assert c["XS_WRITE"] == 11 and c["XenbusStateConnected"] == 4
    assert c["NETIF_RSP_DROPPED"] == -2
    assert abi.XEN_NR_HYPERCALLS == 64
    assert abi.CONSTANT_TYPES["HYPERVISOR_VIRT_START"] == "unsigned long"


def _literal_defines() -> dict[str, int]:
    """NAME -> value for every `#define NAME <integer literal>` in the headers codegen reads (ambiguous names dropped)."""
    files = [XEN / h for h in load_manifest().headers] + [XEN / "arch-x86" / "xen.h", XEN / "arch-x86" / "xen-x86_32.h"]
    seen: dict[str, set[int]] = {}
    pat = re.compile(r"^#\s*define\s+([A-Za-z_]\w*)\s+\(?(-?(?:0[xX][0-9a-fA-F]+|\d+))[uUlL]*\)?\s*(?:/\*.*)?$", re.MULTILINE)
    for f in files:
        for name, value in pat.findall(f.read_text()):
            seen.setdefault(name, set()).add(int(value, 0))
    return {n: next(iter(v)) for n, v in seen.items() if len(v) == 1}


def test_constants_match_headers(abi: ModuleType) -> None:
    literal = _literal_defines()
    checked = [n for n in abi.CONSTANTS if n in literal]
    assert len(checked) > 200
    assert {n: abi.CONSTANTS[n] for n in checked} == {n: literal[n] for n in checked}


def test_every_declared_hypercall_has_a_wrapper(gen: Path, abi: ModuleType) -> None:
    text = (gen / "include/abi/hypercalls.h").read_text()
    for hc in load_manifest().hypercalls:
        assert f"static inline long HYPERVISOR_{hc.name}(" in text
        assert f"xen_hypercall_count[__HYPERVISOR_{hc.name}]++;" in text
    assert 'static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint64_t val, unsigned long flags)' in text


# --- the headers compile ------------------------------------------------------------------------------------------

USE_C = r"""
#include <abi/xen.h>
char hypercall_page[4096] __attribute__((aligned(4096)));
unsigned long xen_hypercall_count[XEN_NR_HYPERCALLS];
_Static_assert(sizeof(struct start_info) == 1112, "start_info");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "vcpu_info.time");
_Static_assert(sizeof(struct netif_tx_sring) <= 4096, "sring");
long use(struct start_info *si, struct mmu_update *u, unsigned n)
{
    unsigned done;
    xen_pfn_t pfn = 1;
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
    struct blkif_front_ring ring;
    static struct blkif_sring sring __attribute__((aligned(4096)));
    int notify;
    struct trap_info ti = { .vector = 14, .cs = FLAT_KERNEL_CS };
    TI_SET_DPL(&ti, 0);
    TI_SET_IF(&ti, 1);
    if (TI_GET_IF(&ti) != 4 || xen_cr3_to_pfn(xen_pfn_to_cr3(0x123456)) != 0x123456)
        return -1;
    pfn = machine_to_phys_mapping[pfn];
    set_xen_guest_handle(r.extent_start, &pfn);
    SHARED_RING_INIT(&sring);
    FRONT_RING_INIT(&ring, &sring, XEN_PAGE_SIZE);
    RING_GET_REQUEST(&ring, ring.req_prod_pvt++)->operation = BLKIF_OP_READ;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&ring, notify);
    HYPERVISOR_update_va_mapping(0x1000, 0x8000000123456067ULL, UVMF_INVLPG);
    HYPERVISOR_set_timer_op(si->nr_pages);
    HYPERVISOR_update_descriptor(1, 2);
    HYPERVISOR_console_io(CONSOLEIO_write, 3, "hi\n");
    HYPERVISOR_memory_op(XENMEM_decrease_reservation, &r);
    return notify + HYPERVISOR_mmu_update(u, n, &done, DOMID_SELF) + MMUEXT_PIN_L3_TABLE + VIRQ_TIMER;
}
"""


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_headers_compile_strict(gen: Path, tmp_path: Path, opt: str) -> None:
    src = tmp_path / "use.c"
    src.write_text(USE_C)
    r = subprocess.run(["gcc", *STRICT, opt, f"-I{gen}/include", "-c", str(src), "-o", str(tmp_path / "use.o")],
                       capture_output=True, text=True, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr


def test_wrapper_register_use(gen: Path, tmp_path: Path) -> None:
    """update_va_mapping(va, val, flags) puts va, val low, val high, flags in ebx, ecx, edx, esi; entry 14 * 32."""
    src = tmp_path / "w.c"
    src.write_text("#include <abi/xen.h>\nlong f(void) { return HYPERVISOR_update_va_mapping(0x1000, 0x0000000500000007ULL, 2); }\n")
    asm = tmp_path / "w.s"
    subprocess.run(["gcc", *STRICT, "-O2", "-fno-pie", f"-I{gen}/include", "-S", str(src), "-o", str(asm)], check=True)
    text = asm.read_text()
    for want in (r"\$4096, %ebx", r"\$7, %ecx", r"\$5, %edx", r"\$2, %esi", r"call\s+hypercall_page \+ 448"):
        assert re.search(want, text), want


def test_constants_usable_from_assembly(gen: Path, tmp_path: Path) -> None:
    src = tmp_path / "a.S"
    src.write_text("#include <abi/xen.h>\n.long XEN_ELFNOTE_ENTRY, DOMID_SELF, HYPERVISOR_VIRT_START, FLAT_KERNEL_CS\n")
    r = subprocess.run(["gcc", "-m32", f"-I{gen}/include", "-c", str(src), "-o", str(tmp_path / "a.o")],
                       capture_output=True, text=True, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr


def test_reproducible(gen: Path, tmp_path: Path) -> None:
    generate(Inputs(XEN, tmp_path, load_manifest(), "gcc"))
    for f in sorted(gen.rglob("*")):
        if f.is_file():
            assert (tmp_path / f.relative_to(gen)).read_bytes() == f.read_bytes(), f


def test_header_comment(gen: Path) -> None:
    head = (gen / "include/abi/xen.h").read_text()[:800]
    assert "/usr/include/xen" in head and "xen.h" in head and "codegen" in head
    assert "0x00040e00" in head


# --- bad input ----------------------------------------------------------------------------------------------------


def _run(tmp_path: Path, *args: str, env_cc: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    if env_cc is not None:
        env["CC"] = env_cc
    return subprocess.run([sys.executable, "-m", "codegen", "--out", str(tmp_path / "out"), *args],
                          cwd=REPO, capture_output=True, text=True, check=False, env=env)  # fmt: skip


def _one_line_error(r: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codegen: error: "), r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_missing_header_dir(tmp_path: Path) -> None:
    r = _run(tmp_path, "--xen-include", str(tmp_path / "nowhere"))
    _one_line_error(r, "install libxen-dev", "--xen-include")


def test_missing_compiler(tmp_path: Path) -> None:
    _one_line_error(_run(tmp_path, env_cc="/nonexistent"), "'/nonexistent' not found", "gcc")
    _one_line_error(_run(tmp_path, "--cc", "/nonexistent/cc"), "not found")


def _manifest_with(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO / "codegen" / "abi.toml").read_text()
    assert old in text
    path = tmp_path / "abi.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "needle"),
    [
        ('"start_info",', '"start_info", "no_such_struct",', "struct no_such_struct"),
        ('"domid_t",', '"domid_t", "no_such_t",', "no_such_t"),
        ('enums = ["xsd_sockmsg_type",', 'enums = ["no_such_enum", "xsd_sockmsg_type",', "enum no_such_enum"),
        ('console = ["CONSOLEIO_*"]', 'console = ["CONSOLEIO_*", "NO_SUCH_*"]', "'NO_SUCH_*'"),
        ('fpu_taskswitch = "int set"', 'fpu_taskswitch = "int set"\nno_such_call = "int x"', "no_such_call"),
        ('netif_tx = ["netif_tx_request",', 'netif_tx = ["netif_tx_nope",', "netif_tx_nope"),
        ("[extra]", "[nonsense]\n[extra]", "nonsense"),
    ],
)
def test_unknown_item(tmp_path: Path, old: str, new: str, needle: str) -> None:
    r = _run(tmp_path, "--manifest", str(_manifest_with(tmp_path, old, new)))
    _one_line_error(r, needle, "declared list" if "nonsense" not in needle else "unknown section")
    assert not (tmp_path / "out").exists()


def test_make_gen_honours_build(tmp_path: Path) -> None:
    build = tmp_path / "b"
    r = subprocess.run(["make", "--no-print-directory", f"BUILD={build}", "gen"], cwd=REPO, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert (build / "gen/include/abi/xen.h").is_file() and (build / "gen/python/xen_abi.py").is_file()
    assert (build / "gen/.stamp").is_file()
    again = subprocess.run(["make", "--no-print-directory", f"BUILD={build}", "gen"], cwd=REPO, capture_output=True, text=True, check=False)
    assert again.returncode == 0 and "python -m codegen" not in again.stdout


def test_newer_constants_fill_in_and_must_agree_with_the_headers() -> None:
    from codegen.errors import CodegenError
    from codegen.generate import newer_constants
    from codegen.macros import Constant
    have = {"XENVER_extraversion2": Constant("XENVER_extraversion2", "version", "11", 11, "int", "11")}
    # Headers of Xen 4.17 lack it: the declared value is emitted, in group "newer".
    out = newer_constants((("XENVER_capabilities2", 12),), have)
    assert [(c.name, c.group, c.py_value) for c in out] == [("XENVER_capabilities2", "newer", 12)]
    # Headers of Xen 4.20 have it: nothing added, and the values must agree.
    assert newer_constants((("XENVER_extraversion2", 11),), have) == []
    with pytest.raises(CodegenError, match="newer.XENVER_extraversion2 = 12 .* say 11"):
        newer_constants((("XENVER_extraversion2", 12),), have)
