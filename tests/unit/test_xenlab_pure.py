"""Pure parts of xenlab: agent protocol, xl list -v parsing, guest config, QEMU argv, kernel checks."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from xenlab.agent import encode_request, parse_answer
from xenlab.errors import GuestError, LabError
from xenlab.exits import ExitReason, parse_xl_list_v
from xenlab.host import GuestSpec, guest_config
from xenlab.kernelcheck import check_pv_kernel
from xenlab.machine import MachineSpec, qemu_argv
from xenlab.selftest_results import problems

XL_LIST = """Name   ID   Mem VCPUs	State	Time(s)   UUID    Reason-Code	Security Label
Domain-0  0  1024  1  r-----  52.8 0000-0000  -  -
g1   1    16     1     ---s--       4.2 21a8  0	-
g2   2    16     1     ---s--       4.2 21a8  1	-
g3   3    16     1     ----c-       4.2 21a8  3	-
g4   4    16     1     -b----       4.2 21a8  -	-
"""


def test_agent_round_trip() -> None:
    req = encode_request("abc1", "echo hi")
    assert req == b"XENLAB-CMD abc1 " + base64.b64encode(b"echo hi") + b"\n"
    ans = f"XENLAB-RES abc1 3 {base64.b64encode(b'out').decode()}"
    res = parse_answer(ans, "abc1")
    assert res is not None and res.status == 3 and res.output == "out"
    assert parse_answer(ans, "other") is None
    assert parse_answer("noise", "abc1") is None
    assert parse_answer("XENLAB-RES abc1 0", "abc1").output == ""  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "reason"), [("g1", ExitReason.POWEROFF),
                                              ("g2", ExitReason.REBOOT), ("g3", ExitReason.CRASH),
                                              ("g4", None), ("absent", None)])
def test_xl_list_reasons(name: str, reason: ExitReason | None) -> None:
    assert parse_xl_list_v(XL_LIST, name) is reason


def test_exit_codes_distinct() -> None:
    codes = [r.code for r in ExitReason]
    assert len(set(codes)) == len(codes) and ExitReason.POWEROFF.code == 0


def test_guest_config_preserves_shutdowns() -> None:
    cfg = guest_config(GuestSpec(kernel=Path("k"), name="n", memory_mib=64, cmdline="a=b",
                                 vifs=("xenbr0",)), "/run/k", ["file:/run/d,xvda,w"])
    assert 'on_crash = "preserve"' in cfg and 'vif = ["bridge=xenbr0"]' in cfg
    assert 'disk = ["file:/run/d,xvda,w"]' in cfg and 'extra = "a=b"' in cfg
    assert 'type = "pv"' in cfg and "pvshim" not in cfg
    shim = guest_config(GuestSpec(kernel=Path("k"), shim=True), "/run/k", [])
    assert 'type = "pvh"' in shim and "pvshim = 1" in shim and 'kernel = "/run/k"' in shim
    assert "vcpus" not in shim  # one vCPU: xl's default, the config says nothing


def test_guest_config_vcpus() -> None:
    cfg = guest_config(GuestSpec(kernel=Path("k"), vcpus=4), "/run/k", [])
    assert "vcpus = 4" in cfg.splitlines() and "maxvcpus = 4" in cfg.splitlines()


def test_a_stock_flavour_boots_no_dom0_and_says_why(tmp_path: Path) -> None:
    from xenlab import Lab, LabConfig
    lab = Lab(LabConfig(build=tmp_path, cache=tmp_path, xen="4.20"))
    with pytest.raises(LabError, match=r"without 32-bit PV.*--xen 4\.20-pv32"), \
            lab.boot_dom0_kernel(tmp_path / "kernel.elf"):
        pass


def test_the_cpu_model_is_part_of_the_snapshot_key(tmp_path: Path) -> None:
    xen = tmp_path / "xen"
    xen.write_bytes(b"x")
    spec = MachineSpec(xen=xen, modules=(), memory_mib=64)
    other = MachineSpec(xen=xen, modules=(), memory_mib=64, cpu="Haswell-noTSX")
    assert spec.key() != other.key()
    assert qemu_argv(spec, tmp_path, None, loadvm=False)[4].startswith("EPYC,+svm,+npt")


def test_qemu_argv_modules_and_snapshot(tmp_path: Path) -> None:
    spec = MachineSpec(xen=Path("/x/xen"), modules=((Path("/k"), "console=hvc0"),
                                                     (Path("/i"), "")), memory_mib=2048,
                       share=tmp_path, control=True)
    argv = qemu_argv(spec, tmp_path, tmp_path / "s.qcow2", loadvm=True)
    assert argv[argv.index("-initrd") + 1] == "/k console=hvc0,/i"
    assert "-loadvm" in argv and "-S" in argv and "2048" in argv
    bad = MachineSpec(xen=Path("/x"), modules=((Path("/k"), "a,b"),), memory_mib=64)
    with pytest.raises(LabError, match="comma"):
        qemu_argv(bad, tmp_path, None, loadvm=False)


def test_kernel_check(tmp_path: Path) -> None:
    notelf = tmp_path / "a"
    notelf.write_bytes(b"text")
    with pytest.raises(GuestError, match="not an ELF"):
        check_pv_kernel(notelf)
    with pytest.raises(GuestError, match="no Xen ELF notes"):
        check_pv_kernel(Path("/bin/true"))
    with pytest.raises(GuestError, match="does not exist"):
        check_pv_kernel(tmp_path / "missing")


def test_lab_config_picks_the_flavour(tmp_path: Path) -> None:
    from xenlab import LabConfig
    own = tmp_path / "xen"
    own.write_bytes(b"\0" * 32 + b"Xen 4.20.4\0")
    assert LabConfig().flavour.name == "4.17-pv32"
    assert LabConfig(xen="4.20").flavour.release == "trixie"
    assert LabConfig(xen_binary=own).flavour.name == "4.20-pv32"      # its nearest release
    assert LabConfig(xen="4.17-pv32", xen_binary=own).flavour.name == "4.17-pv32"  # as told
    assert LabConfig(xen_binary=tmp_path / "none").flavour.name == "4.17-pv32"


def test_cli_xen_options_default_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from xenlab.cli import _config, _xen_args
    monkeypatch.setenv("XENLAB_XEN", "4.20")
    monkeypatch.setenv("XENLAB_XEN_BINARY", "/x/xen")
    p = argparse.ArgumentParser()
    _xen_args(p)
    cfg = _config(p.parse_args([]))
    assert (cfg.xen, cfg.xen_binary) == ("4.20", Path("/x/xen"))
    cfg = _config(p.parse_args(["--xen", "4.17"]))
    assert cfg.xen == "4.17"
    with pytest.raises(SystemExit):
        p.parse_args(["--xen", "4.99"])


def test_runner_reads_results_as_xtf_runner_does() -> None:
    from xenlab.runner import EXIT_CODES, worst
    from xenlab.selftest_results import xtf_result as result_of
    assert result_of("selftest summary: 3 passed, 0 failed\nTest result: SUCCESS\r\n") == "SUCCESS"
    assert result_of("Test result: SUCCESS\nTest result: FAILURE\n") == "FAILURE"  # the last
    assert result_of("*** FATAL page fault\n") == "CRASH"                          # none
    assert worst(["SUCCESS", "SKIP"]) == "SKIP"
    assert worst(["FAILURE", "CRASH", "SUCCESS"]) == "CRASH"
    assert worst([]) == "SUCCESS"
    assert [EXIT_CODES[r] for r in ("SUCCESS", "SKIP", "ERROR", "FAILURE", "CRASH")] == \
        [0, 3, 4, 5, 6]


def test_selftest_problems_match_names_exactly() -> None:
    """A listed suite is matched to its own result line only: a name one character off is
    a suite without a result (the console is byte-exact, nothing is forgiven)."""
    run = ("suite trraps both kernel/core_selftest.c\nsuite sched both kernel/sched_selftest.c\n"
           "selftest traps: PASS ok\nselftest sched: PASS ok\n")
    assert problems(run, "dom0") == ["trraps: no result line"]
    missing = "suite traps both a.c\nsuite sched both b.c\nselftest sched: PASS ok\n"
    assert problems(missing, "dom0") == ["traps: no result line"]
