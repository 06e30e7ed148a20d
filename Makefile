# Xenolith: a 32-bit PAE paravirtualized guest kernel for Xen.
#
#   make run [SHIM=1]
#                build what is missing, boot Xenolith as a domU under Xen in
#                QEMU (one vif on xenbr0, one disk) and attach to its console;
#                SHIM=1: inside the PV shim, as on a stock Xen host
#   make test    the whole suite: unit tests, then boots under real Xen
#   make kernel  build/kernel.elf (checked by codegen.elfcheck)
#   make tiny    build/tiny/kernel.elf: the small configuration (-Oz, no self-tests,
#                no benchmarks, no symbol table; see mk/kernel.mk)
#   make lab     build the lab's parts: Xen with CONFIG_PV32=y, the dom0 image
#   make bench [PEERS="name=path:marker ..."] [QUICK=1]
#                Xenolith against Linux, GRUB and your PV kernels: build/bench/
#                report.json, report.md, *.png (docs/performance.md)
#   make check   ruff, generated headers, unit tests and the kernel's pure C built
#                and run on the host (tests/unit/host_c; no boots)
#   make fuzz [FUZZ_S=60]
#                libFuzzer (ASan, UBSan) on every parser of what backends, XenStore
#                and the toolstack write, FUZZ_S seconds each, then the parsers'
#                branch coverage (llvm-cov): docs/fuzzing.md; no boots
#   make fuzz-long [FUZZ_LONG_S=600]
#                the same, FUZZ_LONG_S seconds per target
#   make test-matrix
#                the whole suite once per flavour (XENS): classic on the rebuild,
#                and every domU test through the PV shim on Debian's own 4.17 and 4.20
#   make test-long
#                100 attach/detach cycles, 10 MiB through each console path, and
#                the random rogues long: ROGUE_SEEDS seeds, ROGUE_N vif responses
#                and ROGUE_DISK_N disk answers each (docs/fuzzing.md)
#
# XEN= picks the lab's Xen (its flavour) for run, lab, test, bench: 4.17-pv32
# (the default: Debian 12's Xen rebuilt with CONFIG_PV32=y, classic PV), 4.17 or
# 4.20 (Debian 12's and 13's own hypervisors, as shipped: no 32-bit PV, guests
# run through the PV shim), 4.20-pv32 (when Debian serves its source);
# XEN_BINARY=PATH boots a hypervisor of your own (an uncompressed xen/xen with
# CONFIG_PV32=y) with the dom0 of the nearest release.
#   make fresh-check [RELEASE=bookworm]
#                the README's promise on a new machine: a minimal Debian root,
#                a clone of HEAD, a cold `make test` in it (scripts/fresh-check.sh)
#   make clean   remove build/ (the lab cache in $(XENOLITH_CACHE) stays)
#
# Every target first runs scripts/bootstrap.sh, which installs missing Debian
# packages and creates .venv/ (pyproject.toml, pinned by constraints.txt).

SHELL := /bin/bash
BUILD ?= build
PY := .venv/bin/python
export XENOLITH_CACHE ?= $(HOME)/.cache/xenolith
export PYTHONDONTWRITEBYTECODE := 1
XENS := 4.17-pv32 4.17 4.20
ifdef XEN
export XENLAB_XEN := $(XEN)
endif
ifdef XEN_BINARY
export XENLAB_XEN_BINARY := $(abspath $(XEN_BINARY))
endif

.PHONY: all bootstrap kernel lab run test test-long test-matrix bench check lint clean fresh-check \
	fuzz fuzz-long
all: kernel

bootstrap:
	@scripts/bootstrap.sh

include mk/codegen.mk
include mk/kernel.mk
include mk/user.mk

lab: bootstrap
	$(PY) -m xenlab build

# Leaving the console with Ctrl-] (the CLI's exit status 7) is a normal end of `make run`.
run: bootstrap lab
	-$(MAKE) kernel
	@mkdir -p $(BUILD)
	@test -f $(BUILD)/disk.img || truncate -s 16M $(BUILD)/disk.img
	@if [ -f $(BUILD)/kernel.elf ]; then \
	  $(PY) -m xenlab boot $(BUILD)/kernel.elf --mode domu --cmdline "ip=10.0.0.2/24" \
	    --vif --disk $(BUILD)/disk.img $(if $(SHIM),--shim) || [ $$? = 7 ]; \
	else \
	  echo "make run: $(BUILD)/kernel.elf does not exist yet; booting GRUB i386-xen instead"; \
	  $(PY) -m xenlab boot "$$($(PY) -m xenlab.parts path grub-pv)" --mode domu --vif --disk $(BUILD)/disk.img $(if $(SHIM),--shim) || [ $$? = 7 ]; \
	fi

lint: bootstrap
	$(PY) -m ruff check codegen xenlab tests

# tests/unit includes test_host_c.py: kernel files compiled with the host's gcc.
check: lint gen
	$(PY) -m pytest -q tests/unit

# The suite on XEN's release, and test_xen_releases.py's smoke on every other one.
test: bootstrap lint kernel tiny lab
	XENOLITH_REQUIRE_KERNEL=1 $(PY) -m pytest tests

# The attach/detach cycles of test_kernel_devices.py 100 times instead of 10,
# 10 MiB through each console path of test_console_exact.py instead of 128 KiB,
# and the random rogues of test_kernel_rogue_backend.py with more seeds and
# answers (make test: seeds 1 and 2, 2000 vif responses, 30 disk answers each).
ROGUE_SEEDS ?= 1,2,3,4,5,6,7,8,9,10
ROGUE_N ?= 20000
ROGUE_DISK_N ?= 200
test-long: bootstrap lint kernel lab
	XENOLITH_CYCLES=100 XENOLITH_CONSOLE_KIB=10240 XENOLITH_REQUIRE_KERNEL=1 $(PY) -m pytest \
	  tests/integration/test_kernel_devices.py tests/integration/test_console_exact.py
	XENOLITH_ROGUE_SEEDS=$(ROGUE_SEEDS) XENOLITH_ROGUE_N=$(ROGUE_N) \
	  XENOLITH_ROGUE_DISK_N=$(ROGUE_DISK_N) XENOLITH_REQUIRE_KERNEL=1 $(PY) -m pytest -s \
	  tests/integration/test_kernel_rogue_backend.py -k random

PEERS ?=

FUZZ_S ?= 60
FUZZ_LONG_S ?= 600
fuzz: bootstrap gen
	$(PY) -m xenlab.fuzz --seconds $(FUZZ_S) --coverage

fuzz-long: bootstrap gen
	$(PY) -m xenlab.fuzz --seconds $(FUZZ_LONG_S) --coverage

# The whole suite on each release (the smoke is then redundant); XEN_BINARY
# replaces the hypervisor of the release it stands for only.
test-matrix: bootstrap lint kernel tiny
	@own=$${XENLAB_XEN_BINARY:+$$($(PY) -m xenlab.parts flavour-of "$$XENLAB_XEN_BINARY")}; \
	for x in $(XENS); do \
	  bin=; [ "$$own" = "$$x" ] && bin=$$XENLAB_XEN_BINARY; \
	  echo "== make test-matrix: Xen $$x $${bin:+($$bin)}"; \
	  XENLAB_XEN=$$x XENLAB_XEN_BINARY=$$bin $(PY) -m xenlab build || exit 1; \
	  XENLAB_XEN=$$x XENLAB_XEN_BINARY=$$bin XENOLITH_REQUIRE_KERNEL=1 $(PY) -m pytest tests \
	    --ignore=tests/integration/test_xen_releases.py || exit 1; \
	done

bench: bootstrap kernel tiny lab
	$(PY) -m xenlab bench $(BUILD)/kernel.elf --tiny $(BUILD)/tiny/kernel.elf \
	  --out $(BUILD)/bench --peers "$(PEERS)" $(if $(QUICK),--quick)

RELEASE ?= bookworm
fresh-check: bootstrap
	scripts/fresh-check.sh $(RELEASE)

clean:
	rm -rf $(BUILD)
