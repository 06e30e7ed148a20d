# kernel/, drivers/: build/kernel.elf. Owned by the kernel (issue 5).
.PHONY: kernel
kernel: gen
	@echo "kernel: not written yet" >&2; false
