# codegen/: the kernel's Xen ABI headers, generated from Xen's public headers.
# Provides the target `gen`, $(GEN_STAMP), $(GEN_INCLUDE) (add
# -I$(GEN_INCLUDE)) and $(ELFCHECK) (kernel checker).
#
# $(BUILD)/gen is regenerated whenever codegen/ or Xen's public headers change
# (the headers come from this machine's libxen-dev; see docs/codegen.md).
GEN_DIR := $(BUILD)/gen
GEN_STAMP := $(GEN_DIR)/.stamp
GEN_INCLUDE := $(GEN_DIR)/include
GEN_HEADERS := $(addprefix $(GEN_INCLUDE)/abi/,xen.h consts.h elfnote.h structs.h helpers.h rings.h hypercalls.h)
GEN_PYTHON := $(GEN_DIR)/python/xen_abi.py
XEN_INCLUDE ?= /usr/include/xen
# The compiler that reads Xen's headers (gcc -m32); CC if set on the command line or environment.
CODEGEN_CC ?= $(if $(filter default,$(origin CC)),gcc,$(CC))
ELFCHECK := $(PY) -m codegen.elfcheck --abi $(GEN_PYTHON)

CODEGEN_SRCS := $(sort $(wildcard codegen/*.py codegen/*.toml codegen/templates/*.j2))
# Read when make starts: on a fresh machine libxen-dev is not installed yet and
# this is empty, which is harmless there because the stamp does not exist either.
XEN_PUBLIC_HEADERS := $(sort $(wildcard $(XEN_INCLUDE)/*.h $(XEN_INCLUDE)/io/*.h $(XEN_INCLUDE)/arch-x86/*.h))

.PHONY: gen
gen: bootstrap $(GEN_STAMP)

$(GEN_STAMP): $(CODEGEN_SRCS) $(XEN_PUBLIC_HEADERS) | bootstrap
	$(PY) -m codegen --xen-include $(XEN_INCLUDE) --out $(GEN_DIR) --cc $(CODEGEN_CC)
	@touch $@

# docs/hypercalls.md: every hypercall and sub-op the kernel makes, with the file
# and function, read from kernel/ and drivers/ by codegen/hypercall_table.py.
# Rewritten (only when its text changes) by every `make kernel`; committed, and
# tests/unit/test_hypercall_table.py fails `make check` when the committed copy
# differs from what the sources give. `make hypercall-table` runs it alone.
HYPERCALL_TABLE := docs/hypercalls.md
HYPERCALL_TABLE_SRCS = $(shell find kernel drivers -name '*.[chS]' 2>/dev/null)

.PHONY: hypercall-table
hypercall-table: bootstrap
	$(PY) -m codegen.hypercall_table --out $(HYPERCALL_TABLE)

$(HYPERCALL_TABLE): codegen/hypercall_table.py $(HYPERCALL_TABLE_SRCS) | bootstrap
	$(PY) -m codegen.hypercall_table --out $@
