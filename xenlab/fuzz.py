"""Coverage-guided fuzzing of the kernel's parsers of what backends, XenStore and the
toolstack write, on the host (`make fuzz`, docs/fuzzing.md).

Each target in tests/fuzz/ is a libFuzzer harness built by xenlab.hostc with the
kernel's own files, as 32-bit code, under AddressSanitizer and UndefinedBehaviorSanitizer
(Debian's clang, libclang-rt for i386). A run starts from the seeds in
tests/fuzz/corpus/<target>/ and keeps what it finds in build/fuzz/<target>/corpus;
a crash leaves its input in build/fuzz/<target>/ (crash-*, leak-*, timeout-*) and fails
the run. Branch coverage comes from a second build with clang's source-based coverage
(-fprofile-instr-generate -fcoverage-mapping) that replays the whole corpus, read with
llvm-profdata and llvm-cov: the branches of the target's parser functions, the ones it
names, hit in both directions or not.

    python -m xenlab.fuzz [--seconds 60] [--coverage] [TARGET ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from xenlab.hostc import GEN_INCLUDE, ROOT, BuildError, Harness, build
from xenlab.parts.cache import default_cache
from xenlab.parts.lwip import build_lwip_source

FUZZ_DIR = ROOT / "tests" / "fuzz"
CORPUS = FUZZ_DIR / "corpus"
OUT = ROOT / "build" / "fuzz"
NICE = ("nice", "-n", "19")
SANITIZE = ("-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer",
            f"-fsanitize-coverage-ignorelist={FUZZ_DIR / 'sancov_ignore.txt'}")
COVERAGE = ("-fsanitize=fuzzer", "-fprofile-instr-generate", "-fcoverage-mapping")
# clang warns where gcc does not about the kernel's own idioms; the kernel's build is gcc's.
CLANG_QUIET = ("-Wno-unknown-warning-option", "-Wno-gnu-variable-sized-type-not-at-end",
               "-Wno-address-of-packed-member")
# libFuzzer's sections (__sancov_*) are found by __start_/__stop_ symbols, which would
# keep every function alive; the kernel files' unused ones must go as with gcc.
LINK = ("-Wl,-z,start-stop-gc", "-no-pie")
MAX_LEN = 4096  # bytes per input: more than any ring or message a target reads


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    kernel_files: tuple[str, ...]
    parsers: tuple[str, ...]  # the functions whose branches the coverage figure counts

    fake_xenstore: bool = False  # xs_fake.c answers the requests (not the transport)
    lwip: bool = False  # lwIP's headers (its source is not linked: the harness plays it)

    def harness(self) -> Harness:
        own = (FUZZ_DIR / f"{self.name}.c", FUZZ_DIR / "fakes.c")
        return Harness(self.name, own + ((FUZZ_DIR / "xs_fake.c",) if self.fake_xenstore else ()),
                       self.kernel_files)


_PRINTK = ("kernel/printk.c", "kernel/lib.c")
TARGETS = (
    Target("netfront_ring", ("drivers/netfront/ring.c", *_PRINTK),
           ("netfront_rx_check", "take_one", "nf_rx_take", "nf_tx_reclaim")),
    Target("blkfront_responses", ("drivers/blkfront/ring.c", "kernel/xen/errno.c", *_PRINTK),
           ("slot_of", "blk_ring_take", "slot_answered", "status_error", "part_over",
            "expire", "fail_all", "issue_one", "disk_turn")),
    Target("xenstore_ring", ("kernel/xen/errno.c", "kernel/xen/xenstore/xenstore_watch.c", *_PRINTK),
           ("xs_handle_message", "resync", "rsp_take", "reader_poll", "xs_error_code",
            "xen_errno_from_name")),
    Target("watch_events", ("kernel/xen/errno.c", *_PRINTK),
           ("split_event", "xs_watch_deliver", "xs_watch_wait"), fake_xenstore=True),
    Target("xenstore_answers", ("kernel/xen/xenstore/xenstore_ops.c", "kernel/xen/xenstore/xenbus_state.c",
                                "kernel/xen/xenstore/xenstore_watch.c",
                                "kernel/xen/errno.c", *_PRINTK),
           ("xs_read", "xs_read_ulong", "directory_part", "directory_parts", "xs_directory",
            "xs_transaction_start", "xs_transaction", "xenbus_read_state",
            "xenbus_read_peer"), fake_xenstore=True),
    Target("toolstack_values", ("kernel/xen/shutdown.c", "kernel/xen/xenstore/xenstore_ops.c",
                                "kernel/xen/xenstore/xenstore_watch.c", "kernel/xen/errno.c",
                                *_PRINTK),
           ("known_shutdown", "known_sysrq", "take_request", "next_request",
            "shutdown_reason_of", "follow"), fake_xenstore=True),
    Target("console_input", ("kernel/xen/console/console_in.c", "kernel/lib.c"), ("console_in_take",)),
    Target("command_line", _PRINTK,
           ("cmdline_parse", "cmdline_lookup", "cmdline_known", "cmdline_init")),
    Target("parse_number", ("kernel/lib.c",), ("parse_u64", "parse_ulong")),
    Target("xenbus_states", ("kernel/xen/xenstore/xenbus_state.c", "kernel/xen/xenstore/xenstore_ops.c",
                             "kernel/xen/xenstore/xenstore_watch.c", "kernel/xen/errno.c",
                             "kernel/lib.c", *_PRINTK[:1]),
           ("frontend_init", "frontend_list", "frontend_wait_backend", "frontend_backend_u64",
            "frontend_backend_ulong", "frontend_backend_feature", "backend_state",
            "wait_backend_quietly", "frontend_close", "watch_main", "frontend_watch_backend",
            "frontend_gone_reason", "closing_or_closed", "xenbus_wait_state",
            "xenbus_read_state", "xenbus_state_name"), fake_xenstore=True),
    Target("http_request", ("kernel/lib.c", *_PRINTK[:1]),
           ("serve", "header_is", "word_in", "head_end", "progress", "http_recv", "http_sent",
            "http_poll", "http_accept", "conn_close", "answer", "push"), lwip=True),
    Target("netif_input", ("kernel/lib.c", *_PRINTK[:1]),
           ("net_input", "report_drops", "net_drop_count", "err_counts", "addr_init",
            "net_set_address", "net_parse_ip", "net_csum_fill", "csum_offset"), lwip=True),
    Target("grant_status", ("kernel/xen/errno.c", *_PRINTK),
           ("gnttab_setup", "gnttab_available", "gnttab_grant_access", "gnttab_end_access",
            "gnttab_entry", "gnttab_retry_deferred", "gnttab_end_or_defer", "gnttab_grow_to",
            "gnttab_grow")),
)


@dataclasses.dataclass(frozen=True)
class Result:
    target: str
    execs: int
    execs_per_s: int
    features: int
    crash: str  # the artifact libFuzzer left, or ""
    branches: tuple[int, int] | None = None  # (covered, total) of the parsers'

    def coverage(self) -> str:
        if not self.branches or not self.branches[1]:
            return "-"
        got, total = self.branches
        return f"{got}/{total} {100 * got / total:.1f}%"


def clang() -> str | None:
    return shutil.which("clang")


def lwip_flags() -> tuple[str, ...]:
    """lwIP's headers (Debian's source, as mk/lwip.mk has it) and the stack's glue,
    drivers/net/, whose port (lwipopts.h, arch/cc.h) comes after the host's headers: its
    string.h and stdlib.h are for the freestanding kernel."""
    tree = build_lwip_source(default_cache())
    net = ROOT / "drivers" / "net"
    return (f"-I{tree / 'src' / 'include'}", f"-I{net}", f"-idirafter{net / 'port'}")


def build_target(target: Target, coverage: bool = False) -> Path:
    cc = clang()
    if not cc:
        raise BuildError("clang is missing: scripts/bootstrap.sh installs it")
    if not GEN_INCLUDE.is_dir():
        raise BuildError("build/gen/include is missing: make gen")
    kind = "cov" if coverage else "bin"
    flags = (*(COVERAGE if coverage else SANITIZE), *CLANG_QUIET,
             *(lwip_flags() if target.lwip else ()))
    return build([*NICE, cc], target.harness(), OUT / target.name / kind, flags, LINK)


def _stat(text: str, name: str) -> int:
    found = re.findall(rf"stat::{name}:\s*(\d+)", text)
    return int(found[-1]) if found else 0


def run_target(target: Target, exe: Path, seconds: int) -> Result:
    """Fuzz for `seconds` from the seeds and what earlier runs kept."""
    work = OUT / target.name / "corpus"
    work.mkdir(parents=True, exist_ok=True)
    seeds = CORPUS / target.name
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0",
           "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    words = FUZZ_DIR / f"{target.name}.dict"  # libFuzzer's dictionary, where one helps
    cmd = [*NICE, str(exe), f"-max_total_time={seconds}", f"-max_len={MAX_LEN}",
           *([f"-dict={words}"] if words.is_file() else []),
           "-print_final_stats=1", "-timeout=10",
           f"-artifact_prefix={OUT / target.name}/", str(work), str(seeds)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env,
                         timeout=seconds + 120)
    (OUT / target.name / "fuzz.log").write_text(res.stderr)
    return parse_log(target.name, res.stderr, res.returncode)


def parse_log(target: str, log: str, returncode: int) -> Result:
    """A run's figures from libFuzzer's output (-print_final_stats=1)."""
    crash = ""
    if returncode:
        found = re.findall(r"Test unit written to (\S+)", log)
        crash = found[-1] if found else f"exit status {returncode} (see fuzz.log)"
    cov = re.findall(r"\bcov: (\d+)", log)
    return Result(target, _stat(log, "number_of_executed_units"),
                  _stat(log, "average_exec_per_sec"), int(cov[-1]) if cov else 0, crash)


def _function_name(name: str) -> str:
    return name.rsplit(":", 1)[-1]  # static functions are "file.c:name"


def branch_coverage(target: Target) -> tuple[int, int]:
    """Replay the corpus under the coverage build; (covered, total) branch directions of
    the target's parser functions."""
    exe = build_target(target, coverage=True)
    out = OUT / target.name
    raw, data = out / "cov.profraw", out / "cov.profdata"
    env = {**os.environ, "LLVM_PROFILE_FILE": str(raw)}
    subprocess.run([*NICE, str(exe), "-runs=0", str(out / "corpus"),
                    str(CORPUS / target.name)], capture_output=True, check=False, env=env,
                   timeout=600, cwd=out)  # an input that crashes is left there, not here
    subprocess.run(["llvm-profdata", "merge", "-sparse", str(raw), "-o", str(data)],
                   check=True, capture_output=True)
    res = subprocess.run(["llvm-cov", "export", str(exe), f"-instr-profile={data}"],
                         check=True, capture_output=True, text=True)
    covered = total = 0
    for fn in json.loads(res.stdout)["data"][0]["functions"]:
        if _function_name(fn["name"]) not in target.parsers:
            continue
        for br in fn["branches"]:  # [line, col, end line, end col, true, false, ...]
            total += 2
            covered += (br[4] > 0) + (br[5] > 0)
    return covered, total


def report(results: list[Result]) -> str:
    header = (f"{'target':<18} {'executions':>12} {'exec/s':>8} {'features':>8}  "
              f"{'parser branches':<18} crash")
    lines = [header]
    for r in results:
        lines.append(f"{r.target:<18} {r.execs:>12} {r.execs_per_s:>8} {r.features:>8}  "
                     f"{r.coverage():<18} {r.crash or '-'}")
    lines.append(f"{'total':<18} {sum(r.execs for r in results):>12}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xenlab.fuzz", description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=60, help="fuzzing time per target")
    ap.add_argument("--coverage", action="store_true",
                    help="measure the parsers' branch coverage (llvm-cov) after each run")
    names = [t.name for t in TARGETS]
    ap.add_argument("targets", nargs="*", help=f"targets (default: all): {', '.join(names)}")
    args = ap.parse_args(argv)
    unknown = sorted(set(args.targets) - set(names))
    if unknown:
        ap.error(f"unknown target(s): {', '.join(unknown)}")
    chosen = [t for t in TARGETS if not args.targets or t.name in args.targets]
    results = []
    for t in chosen:
        try:
            exe = build_target(t)
            r = run_target(t, exe, args.seconds)
            if args.coverage:
                r = dataclasses.replace(r, branches=branch_coverage(t))
        except BuildError as e:
            print(e, file=sys.stderr)
            return 2
        print(f"{r.target}: {r.execs} executions, {r.execs_per_s}/s, parser branches "
              f"{r.coverage()}{', CRASH ' + r.crash if r.crash else ''}", flush=True)
        results.append(r)
    print(report(results))
    return 1 if any(r.crash for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
