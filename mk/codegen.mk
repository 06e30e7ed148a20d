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
