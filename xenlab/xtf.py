"""`xenlab xtf XTF_DIR`: a built XTF (Xen Test Framework) tree's tests in one lab host,
as xtf-runner runs them on a Xen host: the same selection, result lines and exit codes.

An XTF tree has tests/<name>/info.json (name, category, environments, variations) and,
for each environment ENV and variation VAR, the kernel tests/<name>/test-ENV-<name> with
its xl config test-ENV-<name>[~VAR].cfg. An instance is `test-ENV-<name>[~VAR]`. The
selection is xtf-runner's default: categories functional and xsa, here the PV
environments pv64 and pv32pae (`--env`, `--category`, `--test` narrow or widen it).

Each instance is a domU of the one host (many guests per host, one after the other): its
config's memory, cmdline (the variation) and any key that names a GuestSpec field (vcpus
...) carry over; pv32pae runs through the PV shim on a stock flavour (no 32-bit PV
there), pv64 always as a classic PV guest. Its console ends with `Test result: SUCCESS|
SKIP|ERROR|FAILURE`; the last one is the result, none at all is CRASH
(xenlab.selftest_results.xtf_result). HVM environments are reported SKIP with the
reason, as xtf-runner does when the host lacks a capability: the lab's dom0 has no device
model for HVM guests. Exit status: the worst result's (SUCCESS 0, SKIP 3, ERROR 4,
FAILURE 5, CRASH 6).
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from xenlab import junit
from xenlab.console import log_end, log_since
from xenlab.errors import GuestError, LabError
from xenlab.host import GuestSpec, Host
from xenlab.runner import combined_results
from xenlab.selftest_results import XTF_RESULT_LINE, xtf_result

PV_ENVIRONMENTS = ("pv64", "pv32pae")
HVM_ENVIRONMENTS = ("hvm64", "hvm32pae", "hvm32pse", "hvm32")
ENVIRONMENTS = PV_ENVIRONMENTS + HVM_ENVIRONMENTS
DEFAULT_CATEGORIES = ("functional", "xsa")
CATEGORIES = (*DEFAULT_CATEGORIES, "special", "utility", "in-development")
NO_HVM = ("the lab's dom0 has no device model (qemu-system-xen), which xl starts for every "
          "HVM guest; its Xen has hvm and hap")
CFG_LINE = re.compile(r'^\s*(\w+)\s*=\s*"?([^"#\n]*?)"?\s*(?:#.*)?$', re.MULTILINE)
# xl config keys that are GuestSpec fields under another name, and ones the lab sets itself
CFG_FIELDS = {"memory": "memory_mib", "cmdline": "cmdline", "extra": "cmdline"}
CFG_OWN = {"name", "type", "builder", "loader", "kernel", "firmware_override", "on_reboot"}


@dataclass(frozen=True)
class Instance:
    """One test instance: `test-ENV-NAME[~VARIATION]`, its kernel and xl config."""

    test: str
    env: str
    variation: str
    kernel: Path
    cfg: Path

    @property
    def name(self) -> str:
        return f"test-{self.env}-{self.test}" + (f"~{self.variation}" if self.variation else "")


def instances(xtf_dir: Path, envs: Iterable[str] = PV_ENVIRONMENTS,
              categories: Iterable[str] = DEFAULT_CATEGORIES,
              tests: Iterable[str] = ()) -> list[Instance]:
    """The tree's instances in the selection, in xtf-runner's order (test, then env)."""
    root = xtf_dir / "tests"
    infos = sorted(root.glob("*/info.json"))
    if not infos:
        raise LabError(f"{xtf_dir} is not a built XTF tree: no tests/*/info.json (run make)")
    envs, cats, names = set(envs), set(categories), set(tests)
    found = []
    for info_path in infos:
        try:
            info = json.loads(info_path.read_text())
            name, category = str(info["name"]), str(info["category"])
            environments, variations = list(info["environments"]), list(info["variations"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LabError(f"{info_path}: not an XTF info.json ({exc})") from None
        if (names and name not in names) or (not names and category not in cats):
            continue
        for env in (e for e in environments if e in envs):
            kernel = info_path.parent / f"test-{env}-{name}"
            for var in variations or [""]:
                stem = f"test-{env}-{name}" + (f"~{var}" if var else "")
                found.append(Instance(name, env, var, kernel, info_path.parent / f"{stem}.cfg"))
    return found


def spec_of(inst: Instance, host_shim: bool) -> tuple[GuestSpec, list[str]]:
    """The instance's GuestSpec from its xl config (on a host whose guests run through the
    shim when `host_shim`), and the config keys left out."""
    if not inst.cfg.is_file():
        raise GuestError(f"{inst.cfg} is missing: is the XTF tree built?")
    fields = {f.name: f for f in dataclasses.fields(GuestSpec)}
    values: dict[str, object] = {}
    left_out = []
    for key, value in CFG_LINE.findall(inst.cfg.read_text()):
        field = CFG_FIELDS.get(key, key)
        if key in CFG_OWN:
            continue
        if field not in fields:
            left_out.append(key)
            continue
        values[field] = int(value) if fields[field].type in ("int", int) else value
    shim = host_shim and inst.env == "pv32pae"
    name = inst.name.replace("~", "-")
    return GuestSpec(kernel=inst.kernel, name=name, shim=shim, **values), left_out  # type: ignore[arg-type]


def run_instance(host: Host, inst: Instance, timeout: float,
                 say: Callable[[str], None]) -> tuple[str, str]:
    """Boot one instance; its result and what its console printed."""
    if inst.env in HVM_ENVIRONMENTS:
        return "SKIP", NO_HVM
    spec, left_out = spec_of(inst, host.shim)
    if left_out:
        say(f"xenlab: {inst.name}: not passed on from its config: {', '.join(left_out)}")
    mark = log_end(host.log)
    guest = host.create(spec)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            try:
                guest.console.expect([XTF_RESULT_LINE.pattern], timeout=2)
                break
            except LabError:
                if guest.reason() is not None:  # ended without a result line: CRASH
                    break
    finally:
        guest.destroy()
    text = log_since(host.log, mark)
    console = [line for line in text.replace("\r", "").splitlines() if line.strip()]
    say("\n".join(console[-40:]))
    return xtf_result(text), ""


def run_xtf(host_of: Callable[[], Host], selection: list[Instance], timeout: float = 60,
            say: Callable[[str], None] = print, junit_path: Path | None = None,
            suite: str = "xenlab xtf") -> int:
    """Run `selection` in one host (started by `host_of` when a PV instance needs one),
    print xtf-runner's combined results; return its exit code."""
    if not selection:
        raise LabError("no XTF tests selected")
    results: dict[str, str] = {}
    cases: list[junit.Case] = []
    host: Host | None = None
    try:
        for inst in selection:
            start = time.monotonic()
            if host is None and inst.env not in HVM_ENVIRONMENTS:
                host = host_of()
            say(f"xenlab: {inst.name}")
            try:
                result, detail = run_instance(host, inst, timeout, say)  # type: ignore[arg-type]
            except GuestError as exc:  # xl refused the guest: XTF's ERROR
                result, detail = "ERROR", str(exc).splitlines()[0]
                say(f"xenlab: {inst.name}: {exc}")
            results[inst.name] = result
            cases.append(junit.Case(inst.env, inst.name, result, detail,
                                    time.monotonic() - start))
    finally:
        if host is not None:
            host.close()
    return combined_results(results, say, junit_path, cases, suite)
