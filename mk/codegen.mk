# codegen/: the kernel's Xen ABI headers, generated from Xen's public headers.
# Owned by codegen (issue 4). Provides the target `gen` and $(GEN_STAMP).
GEN_DIR := $(BUILD)/gen
GEN_STAMP := $(GEN_DIR)/.stamp
.PHONY: gen
gen: bootstrap
	@echo "codegen: not written yet" >&2; false
