"""Command line: boot, up, create, dom0, console, down, build, bench, selftest, xtf.

`boot`, `up`, `build`, `bench` and `selftest` take `--xen FLAVOUR` (default $XENLAB_XEN,
else 4.17-pv32): `4.17` and `4.20` are Debian's own hypervisors (no 32-bit PV: guests run
through the PV shim), `4.17-pv32` and `4.20-pv32` the same releases rebuilt with
CONFIG_PV32=y (classic PV guests, Xenolith as dom0); and `--xen-binary PATH` (a hypervisor
of your own, default $XENLAB_XEN_BINARY; the dom0 is that of the nearest release unless
--xen says). `boot` and `create` take `--shim`: the guest runs inside the PV shim
(`type = "pvh"`, `pvshim = 1`), which is what a stock flavour does anyway.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from xenlab import junit, xtf
from xenlab.console import log_end, log_since
from xenlab.errors import GuestError, LabError
from xenlab.exits import DOM0_EXIT_PATTERNS, ExitReason
from xenlab.host import GUEST_MIB, SHIM_MIB, GuestSpec, Host, domain_mib
from xenlab.interact import interact
from xenlab.kernelcheck import check_pv_kernel
from xenlab.lab import Lab, LabConfig
from xenlab.machine import kill_run_dir
from xenlab.parts import PartsError
from xenlab.parts.flavours import DEFAULT_FLAVOUR, FLAVOURS

STATE = Path("build/lab/current")


def _xen_args(p: argparse.ArgumentParser) -> None:
    binary = os.environ.get("XENLAB_XEN_BINARY") or None
    p.add_argument("--xen", choices=sorted(FLAVOURS), default=os.environ.get("XENLAB_XEN") or None,
                   help=f"the lab's Xen ($XENLAB_XEN; default {DEFAULT_FLAVOUR}): X.Y is Debian's "
                   "own build (guests through the PV shim), X.Y-pv32 rebuilt with 32-bit PV")
    p.add_argument("--xen-binary", type=Path, default=Path(binary) if binary else None,
                   metavar="PATH", help="boot this hypervisor (an uncompressed xen/xen with "
                   "CONFIG_PV32=y) with the dom0 of the nearest release ($XENLAB_XEN_BINARY)")


def _config(args: argparse.Namespace) -> LabConfig:
    return LabConfig(xen=args.xen, xen_binary=args.xen_binary)


def _guest_args(p: argparse.ArgumentParser) -> None:
    _xen_args(p)
    p.add_argument("kernel", type=Path)
    p.add_argument("--mode", choices=["dom0", "domu"], default="domu")
    p.add_argument("--memory", type=int, default=None,
                   help=f"the domain's memory in MiB (as xl's memory=; default {GUEST_MIB}, and "
                   f"{GUEST_MIB + SHIM_MIB} through the shim, which keeps about 22 MiB of it)")
    p.add_argument("--cmdline", default="")
    p.add_argument("--vif", action="append_const", const="xenbr0", default=[])
    p.add_argument("--disk", action="append", default=[], help="PATH[,r]")
    p.add_argument("--vcpus", type=int, default=1,
                   help="the domain's vCPUs (xl's vcpus= and maxvcpus=; as dom0: Xen's "
                   "dom0_max_vcpus=N-N)")
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--name", default="guest")
    p.add_argument("--shim", action="store_true", default=None,
                   help="run the kernel inside the PV shim (type=pvh, pvshim=1), as a stock Xen "
                   "host must; the default on a stock flavour")


def _junit_arg(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--junit", type=Path, metavar="FILE", help=f"write a JUnit XML report: {what}")


def _spec(args: argparse.Namespace, host: Host) -> GuestSpec:
    disks = []
    for d in args.disk:
        path, _, mode = d.partition(",")
        disks.append((Path(path), "r" if mode == "r" else "w"))
    shim = host.shim if args.shim is None else args.shim
    memory = args.memory or domain_mib(GUEST_MIB, shim)
    return GuestSpec(kernel=args.kernel, name=args.name, memory_mib=memory,
                     cmdline=args.cmdline, vifs=tuple(args.vif), disks=tuple(disks), shim=shim,
                     vcpus=args.vcpus)


def _finish(reason: ExitReason) -> int:
    print(f"\nxenlab: guest ended: {reason.name.lower()} (exit status {reason.code})",
          file=sys.stderr)
    return reason.code


def _follow_guest(console_child: object, poll: object, timeout: float) -> ExitReason:
    """Copy the console to stdout until `poll()` gives a reason or time runs out."""
    import pexpect
    deadline = time.monotonic() + timeout
    child = console_child
    while time.monotonic() < deadline:
        try:
            out = child.read_nonblocking(4096, timeout=0.5)  # type: ignore[attr-defined]
            sys.stdout.write(out)
            sys.stdout.flush()
        except pexpect.TIMEOUT:
            pass
        reason = poll()  # type: ignore[operator]
        if reason is not None:
            _drain(child)
            return reason
    return ExitReason.TIMEOUT


def _drain(child: object, quiet: float = 1.5, limit: float = 15.0) -> None:
    """Copy what is still on its way (xenconsoled -> xl console -> hvc0 -> serial)
    after the guest stopped, until the console is quiet for `quiet` seconds."""
    import pexpect
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            sys.stdout.write(child.read_nonblocking(4096, timeout=quiet))  # type: ignore[attr-defined]
            sys.stdout.flush()
        except (pexpect.TIMEOUT, pexpect.EOF):
            return


def cmd_boot(args: argparse.Namespace) -> int:
    check_pv_kernel(args.kernel)
    lab = Lab(_config(args))
    start = time.monotonic()
    if args.mode == "dom0":
        with lab.boot_dom0_kernel(args.kernel, args.cmdline, max(args.memory or 0, 64),
                                    vcpus=args.vcpus) as run:
            print(f"xenlab: serial log {run.log}", file=sys.stderr)
            if sys.stdin.isatty():
                reason = interact(run.console, lambda: None, DOM0_EXIT_PATTERNS)
            else:
                run.console.child.logfile_read = sys.stdout
                reason = run.wait_exit(args.timeout)
            _boot_junit(args, run.log, 0, reason, time.monotonic() - start)
            return _finish(reason)
    host = lab.up(memory_mib=1024 + 256 + (args.memory or GUEST_MIB + SHIM_MIB))
    try:
        mark = log_end(host.log)
        guest = host.create(_spec(args, host))
        print(f"xenlab: {guest.describe()}; serial log {host.log}", file=sys.stderr)
        if sys.stdin.isatty():
            reason = interact(host.console, guest.reason)
        else:
            state = {"n": 0}

            def poll() -> ExitReason | None:
                state["n"] += 1
                return guest.reason() if state["n"] % 2 == 0 else None
            reason = _follow_guest(host.console.child, poll, args.timeout)
        guest.destroy()
        _boot_junit(args, host.log, mark, reason, time.monotonic() - start)
        return _finish(reason)
    finally:
        host.close()


def _boot_junit(args: argparse.Namespace, log: Path, mark: int, reason: ExitReason,
                seconds: float) -> None:
    """--junit FILE: a case per self-test suite the console printed, and the boot's end."""
    if args.junit is None:
        return
    cases = [*junit.suite_cases(args.mode, log_since(log, mark)),
             junit.exit_case(args.mode, reason, seconds)]
    junit.write(args.junit, f"xenlab boot {args.kernel.name}", cases, log)
    print(f"xenlab: JUnit report {args.junit} ({len(cases)} cases)", file=sys.stderr)


def cmd_up(args: argparse.Namespace) -> int:
    lab = Lab(_config(args))
    run_dir = lab.run_dir("up")
    host = lab.up(memory_mib=args.memory, detached=True, run_dir=run_dir)
    STATE.parent.mkdir(parents=True, exist_ok=True)
    STATE.write_text(json.dumps({"run_dir": str(run_dir), "share": str(host.share),
                                 "shim": host.shim}))
    host.agent.close()
    host.console.close()
    print(f"xenlab: lab up in {run_dir} (serial log {run_dir / 'serial.log'})")
    return 0


def _attached() -> tuple[Host, Path]:
    if not STATE.exists():
        raise LabError("no lab is up: run `python -m xenlab up` first")
    st = json.loads(STATE.read_text())
    run_dir, share = Path(st["run_dir"]), Path(st["share"])
    console, agent = Host.attach(run_dir, share)

    class _Detached:
        serial_log = run_dir / "serial.log"

        def close(self) -> None:
            """The lab stays up; `down` stops it."""
    host = Host(_Detached(), share, console, agent, bool(st.get("shim")))  # type: ignore[arg-type]
    return host, run_dir


def cmd_dom0(args: argparse.Namespace) -> int:
    host, _ = _attached()
    res = host.dom0(args.command, timeout=args.timeout)
    sys.stdout.write(res.output)
    return res.status


def cmd_create(args: argparse.Namespace) -> int:
    host, _ = _attached()
    guest = host.create(_spec(args, host))
    print(f"xenlab: created {guest.describe()}; `python -m xenlab console {guest.name}` to attach")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    host, _ = _attached()
    host.console.send(f"xl console {args.name}\r")
    interact(host.console, lambda: None)
    host.console.send("\r")
    return 0


def cmd_down(_: argparse.Namespace) -> int:
    if not STATE.exists():
        print("xenlab: no lab is up")
        return 0
    run_dir = Path(json.loads(STATE.read_text())["run_dir"])
    killed = kill_run_dir(run_dir)
    STATE.unlink()
    print(f"xenlab: lab in {run_dir} {'stopped' if killed else 'was not running'}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from xenlab.parts import build_dom0, build_grub_pv, default_cache, stderr_progress
    lab = Lab(_config(args))
    cache = default_cache()
    xen = lab.xen()
    dom0 = build_dom0(cache, stderr_progress, lab.flavour.name)
    grub = build_grub_pv(cache, stderr_progress)
    stderr_progress(f"Xen {lab.flavour.name} lab ready: xen={xen} dom0-kernel={dom0.kernel} "
                    f"dom0-initrd={dom0.initrd} grub-pv={grub}")
    return 0


def cmd_selftest(args: argparse.Namespace) -> int:
    from xenlab.runner import INSTANCES, run_selftests
    check_pv_kernel(args.kernel)
    return run_selftests(Lab(_config(args)), args.kernel, args.only or INSTANCES, args.timeout,
                         junit_path=args.junit)


def cmd_xtf(args: argparse.Namespace) -> int:
    selection = xtf.instances(args.xtf_dir, args.env or xtf.PV_ENVIRONMENTS,
                              args.category or xtf.DEFAULT_CATEGORIES, args.test or ())
    if args.list:
        print("\n".join(i.name for i in selection))
        return 0
    lab = Lab(_config(args))
    return xtf.run_xtf(lambda: lab.up(memory_mib=2048), selection, args.timeout,
                   junit_path=args.junit, suite=f"xenlab xtf {args.xtf_dir.name}")


def cmd_bench(args: argparse.Namespace) -> int:
    from xenlab.bench import BenchOptions, Plan, run_bench
    plan = Plan.quick() if args.quick else Plan()
    if args.reps:
        plan = dataclasses.replace(plan, boot_reps=args.reps)
    opts = BenchOptions(kernel=args.kernel, tiny=args.tiny, peers=args.peers, plan=plan,
                        out=args.out, linux=not args.no_linux, grub=not args.no_grub,
                        shim=not args.no_shim)
    host = Lab(_config(args)).up(memory_mib=2048)  # the flavour asked for (--xen)
    try:
        return run_bench(opts, host)
    finally:
        host.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xenlab", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("boot", help="boot a PV kernel and follow its console")
    _guest_args(p)
    _junit_arg(p, "a case per self-test suite line the console printed, and the boot's end")
    _guest_args(sub.add_parser("create", help="create a guest on the lab that is up"))
    p = sub.add_parser("up", help="start Xen + dom0 in the background")
    _xen_args(p)
    p.add_argument("--memory", type=int, default=2048)
    p = sub.add_parser("dom0", help="run a command in dom0")
    p.add_argument("command")
    p.add_argument("--timeout", type=float, default=60)
    p = sub.add_parser("console", help="attach to a guest's console (Ctrl-] leaves)")
    p.add_argument("name")
    sub.add_parser("down", help="stop the lab")
    _xen_args(sub.add_parser("build", help="build the lab's parts"))
    p = sub.add_parser("selftest", help="Xenolith's boot tests as dom0 and as a domU, "
                                        "reported as xtf-runner does (exit status too)")
    _xen_args(p)
    p.add_argument("kernel", type=Path)
    p.add_argument("--only", action="append", choices=["xenolith-dom0", "xenolith-domu"],
                   help="run this instance only (repeatable)")
    p.add_argument("--timeout", type=float, default=600)
    _junit_arg(p, "a case per instance and per self-test suite line it printed")
    p = sub.add_parser("xtf", help="a built XTF tree's tests in one lab host, as xtf-runner "
                                   "runs them (result lines, exit status)")
    _xen_args(p)
    p.add_argument("xtf_dir", type=Path, metavar="XTF_DIR", help="a built XTF tree (make)")
    p.add_argument("--env", action="append", choices=xtf.ENVIRONMENTS,
                   help="an environment to run (repeatable; default pv64 and pv32pae)")
    p.add_argument("--category", action="append", choices=xtf.CATEGORIES,
                   help="a category to run (repeatable; default functional and xsa)")
    p.add_argument("--test", action="append", metavar="NAME",
                   help="this test only, whatever its category (repeatable)")
    p.add_argument("--timeout", type=float, default=60, help="seconds per test instance")
    p.add_argument("--list", action="store_true", help="print the selected instances only")
    _junit_arg(p, "a case per test instance")
    p = sub.add_parser("bench", help="Xenolith against its peers: report, charts, summary")
    _xen_args(p)
    p.add_argument("kernel", type=Path)
    p.add_argument("--tiny", type=Path, help="the tiny build (image and boot figures)")
    p.add_argument("--peers", default="", help='more PV kernels: "name=path:marker ..."')
    p.add_argument("--quick", action="store_true", help="one repetition, small sizes")
    p.add_argument("--reps", type=int, help="boot repetitions (default 10, quick 1)")
    p.add_argument("--out", type=Path, default=Path("build/bench"))
    p.add_argument("--no-linux", action="store_true", help="leave out the Linux peer")
    p.add_argument("--no-grub", action="store_true", help="leave out the GRUB peer")
    p.add_argument("--no-shim", action="store_true",
                   help="leave out Xenolith through the PV shim")
    args = parser.parse_args(argv)
    handlers = {"boot": cmd_boot, "up": cmd_up, "create": cmd_create, "dom0": cmd_dom0,
                "console": cmd_console, "down": cmd_down, "build": cmd_build, "bench": cmd_bench,
                "selftest": cmd_selftest, "xtf": cmd_xtf}
    try:
        return int(handlers[args.cmd](args))
    except GuestError as exc:
        print(f"xenlab: {exc}\nxenlab: guest error (bad kernel or xl create failed)", file=sys.stderr)
        return ExitReason.LAB_FAILURE.code + 1
    except (LabError, PartsError) as exc:
        print(f"xenlab: {exc}\nxenlab: lab failure", file=sys.stderr)
        return ExitReason.LAB_FAILURE.code
    except KeyboardInterrupt:
        print("\nxenlab: interrupted", file=sys.stderr)
        return 130
    finally:
        os.environ.pop("XENLAB_UNUSED", None)
