# kernel/, drivers/: build $(BUILD)/kernel.elf.
#
# Every kernel/**/*.c, kernel/**/*.S and drivers/**/*.c is compiled (so a new
# file only has to exist), objects go under $(BUILD)/obj/ with dependency
# files (-MMD), and the image is linked twice (once in the tiny
# configuration, below):
#   1. $(BUILD)/kernel.nosyms.elf with an empty symbol table;
#   2. `nm` of pass 1 -> $(BUILD)/ksyms-final.S (sorted text symbols, for
#      backtraces), linked as the last section (.ksyms, after .bss), so no
#      other address moves between the passes -> $(BUILD)/kernel.elf.
# (the table is checked against the final image, so a moved symbol is an
# error, not a wrong backtrace). Then $(ELFCHECK) (codegen.elfcheck) checks
# the ELF notes and layout.
#
# Flags: -ffreestanding (which implies -fno-builtin; write __builtin_memcpy
# to ask for the builtin), -fno-omit-frame-pointer for backtraces,
# -fno-tree-loop-distribute-patterns so gcc does not turn lib.c's loops into
# calls to themselves, -Wno-unused-parameter (command and handler tables
# have fixed signatures). libgcc is linked for 64-bit division.
#
# Compiler flags: no SSE/MMX/x87 code anywhere, because the FPU belongs to
# threads (lazy switching with #NM). A file that needs the FPU is named
# *_fpu.c (e.g. kernel/arch/x86_32/fpu_selftest_fpu.c) and gets $(KERNEL_FPU_FLAGS)
# instead. kernel/arch/x86_32/asm-offsets.c is not linked: it is compiled to
# assembly to give the .S files ABI numbers and struct offsets
# ($(BUILD)/include/asm-offsets.h).

# Configurations (KERNEL_CONFIG):
#   default  $(BUILD)/kernel.elf: -O2, every self-test suite, the benchmark
#            commands, the symbol table for backtraces.
#   tiny     $(BUILD)/tiny/kernel.elf (`make tiny`): the "stripped kernel"
#            the size target of `make bench` measures. -Oz; no self-test
#            suites (files *_selftest.c, *_selftest_fpu.c: `selftest=...`
#            then says "this kernel was built without self-tests" and fails);
#            no benchmark commands (*_bench.c); no debugging aids that
#            crash the domain on purpose (*_debug.c: `fault`); no symbol
#            table (one link pass; backtraces and fatal dumps print addresses only, look
#            them up with `addr2line -fe build/tiny/kernel.elf ADDR`);
#            -ffunction-sections -fdata-sections with --gc-sections, so
#            code nothing calls is dropped (the linker script KEEPs the
#            registration tables, the Xen notes and the hypercall page).
#            No drivers (drivers/**), as the size target says, and no user
#            mode (kernel/user/**, kernel/arch/x86_32/user/**: ring-3
#            processes, their programs and `run`; XENOLITH_USER=0 leaves
#            the ring-3 paths out of traps.c, entry.S and upcall.S);
#            No several vCPUs (kernel/smp*.c, kernel/arch/x86_32/smp*.c;
#            XENOLITH_SMP=0 makes this_vcpu() vCPU 0's and leaves the
#            per-vCPU port check out of the upcall): the tiny kernel runs
#            on vCPU 0 only, whatever vcpus= says.
#            everything else in kernel/ is in.
KERNEL_CONFIG ?= default
ifeq ($(KERNEL_CONFIG),tiny)
KERNEL_OUT := $(BUILD)/tiny
# -Oz (gcc 12: smaller than -Os), and the stack kept 4-byte aligned instead of
# 16: no code here needs more (no SSE: the *_fpu.c files are self-tests, left
# out), and the padding around every call site is gone.
KERNEL_OPT := -Oz -mpreferred-stack-boundary=2
KERNEL_CONFIG_EXCLUDE := %_selftest.c %_selftest_fpu.c %_bench.c %_debug.c drivers/% \
                         kernel/user/% kernel/arch/x86_32/user/% \
                         kernel/smp% kernel/arch/x86_32/smp%
KERNEL_DRIVERS := 0
KERNEL_SMP := 0
KERNEL_USER := 0
KERNEL_SELFTESTS := 0
KERNEL_SECTION_FLAGS := -ffunction-sections -fdata-sections
KERNEL_GC_FLAGS := --gc-sections
KERNEL_KSYMS := 0
else ifeq ($(KERNEL_CONFIG),default)
KERNEL_OUT := $(BUILD)
KERNEL_CONFIG_EXCLUDE :=
KERNEL_DRIVERS := 1
KERNEL_SMP := 1
KERNEL_USER := 1
KERNEL_SELFTESTS := 1
KERNEL_SECTION_FLAGS :=
KERNEL_GC_FLAGS :=
KERNEL_KSYMS := 1
else
$(error KERNEL_CONFIG=$(KERNEL_CONFIG): known configurations are default and tiny)
endif

KERNEL_ELF := $(KERNEL_OUT)/kernel.elf
KERNEL_NOSYMS := $(KERNEL_OUT)/kernel.nosyms.elf
KOBJ := $(KERNEL_OUT)/obj
KINC := $(KERNEL_OUT)/include
KLDS := kernel/arch/x86_32/kernel.ld
ASM_OFFSETS_SRC := kernel/arch/x86_32/asm-offsets.c
ASM_OFFSETS_H := $(KINC)/asm-offsets.h

KCC := gcc
KLD := ld
KNM := nm

# KERNEL_EXCLUDE: files to leave out of this build (e.g. to bisect a
# problem): make KERNEL_EXCLUDE=kernel/foo.c kernel
KERNEL_EXCLUDE ?=
KERNEL_C_SRCS := $(filter-out $(ASM_OFFSETS_SRC) $(KERNEL_EXCLUDE) $(KERNEL_CONFIG_EXCLUDE),\
                   $(sort $(shell find kernel drivers -name '*.c' 2>/dev/null)))
KERNEL_S_SRCS := $(filter-out $(KERNEL_EXCLUDE) $(KERNEL_CONFIG_EXCLUDE),\
                   $(sort $(shell find kernel drivers -name '*.S' 2>/dev/null)))
KERNEL_OBJS := $(patsubst %.c,$(KOBJ)/%.o,$(KERNEL_C_SRCS)) \
               $(patsubst %.S,$(KOBJ)/%.o,$(KERNEL_S_SRCS))
# The TCP/IP stack, lwIP, comes with the drivers (mk/lwip.mk).
ifeq ($(KERNEL_DRIVERS),1)
include mk/lwip.mk
KERNEL_OBJS += $(LWIP_OBJS)
endif

KERNEL_ARCH_FLAGS := -m32 -march=i686
KERNEL_NOFPU_FLAGS := -mno-sse -mno-sse2 -mno-mmx -mno-80387
KERNEL_FPU_FLAGS := -msse -msse2 -mfpmath=sse
# What the configuration leaves out, for the C that must know: main.c starts
# the drivers only when XENOLITH_DRIVERS (its one #if); selftest.c, with
# XENOLITH_SELFTESTS 0, keeps only the answer "built without self-tests";
# traps.c, entry.S and upcall.S have their ring-3 paths only when
# XENOLITH_USER (a kernel that runs no ring 3 takes no trap from there);
# XENOLITH_SMP: the secondary vCPUs (smp.h).
KERNEL_CPPFLAGS := -Ikernel/include -I$(GEN_INCLUDE) -I$(KINC) -MMD -MP \
                   -DXENOLITH_DRIVERS=$(KERNEL_DRIVERS) -DXENOLITH_SELFTESTS=$(KERNEL_SELFTESTS) \
                   -DXENOLITH_USER=$(KERNEL_USER) -DXENOLITH_SMP=$(KERNEL_SMP)
# -O2 by default; `make tiny` for the smallest kernel (see above and make bench).
KERNEL_OPT ?= -O2
KERNEL_CFLAGS := $(KERNEL_ARCH_FLAGS) -std=c11 -ffreestanding -fno-pic -fno-pie \
                 -fno-stack-protector -fno-common -fno-strict-aliasing \
                 -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
                 -fno-delete-null-pointer-checks -fno-tree-loop-distribute-patterns \
                 $(KERNEL_OPT) $(KERNEL_SECTION_FLAGS) -g -Wall -Wextra -Werror \
                 -Wno-unused-parameter
KERNEL_ASFLAGS := $(KERNEL_ARCH_FLAGS) -D__ASSEMBLY__ -g -Wa,--noexecstack
KERNEL_LDFLAGS := -m elf_i386 -nostdlib -static -T $(KLDS) --no-warn-rwx-segments $(KERNEL_GC_FLAGS)
# Recursive (=), so the probe runs when a link recipe is expanded, after
# scripts/bootstrap.sh (a prerequisite of every target) has installed
# gcc-multilib; read with := it would run before, and find no 32-bit libgcc
# on a fresh machine. The same rule holds for every probe of an installed
# package in the Makefile and mk/.
KERNEL_LIBGCC = $(shell $(KCC) -m32 -print-libgcc-file-name)

# Quiet unless V=1.
ifeq ($(V),1)
Q :=
else
Q := @
endif

.PHONY: kernel tiny
kernel: gen $(KERNEL_ELF) $(HYPERCALL_TABLE)

# The tiny configuration, in its own folder (a second make, so that every
# variable above takes its tiny value).
tiny: gen
	$(Q)$(MAKE) --no-print-directory KERNEL_CONFIG=tiny kernel

# Objects wait for the generated ABI ($(GEN_STAMP), from mk/codegen.mk); once
# built, changes to generated headers are tracked through the .d files.
$(KOBJ)/%.o: %.c | $(GEN_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(KCC) $(KERNEL_CPPFLAGS) $(KERNEL_CFLAGS) \
	  $(if $(filter %_fpu.c,$<),$(KERNEL_FPU_FLAGS),$(KERNEL_NOFPU_FLAGS)) -c $< -o $@

$(KOBJ)/%.o: %.S $(ASM_OFFSETS_H) | $(GEN_STAMP)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(KCC) $(KERNEL_CPPFLAGS) $(KERNEL_ASFLAGS) -c $< -o $@

# asm-offsets: "->NAME value" markers in the compiler's assembly output
# become "#define NAME value".
$(ASM_OFFSETS_H): $(ASM_OFFSETS_SRC) $(GEN_STAMP) $(wildcard kernel/include/*.h)
	@mkdir -p $(KINC) $(KOBJ)
	@echo "  GEN     $@"
	$(Q)$(KCC) -Ikernel/include -I$(GEN_INCLUDE) $(KERNEL_CFLAGS) $(KERNEL_NOFPU_FLAGS) \
	  -S $< -o $(KOBJ)/asm-offsets.s
	$(Q)( echo "/* Generated from $(ASM_OFFSETS_SRC) by mk/kernel.mk: do not edit. */"; \
	  echo "#ifndef XENOLITH_ASM_OFFSETS_H"; echo "#define XENOLITH_ASM_OFFSETS_H"; \
	  sed -n 's/^.*->\([A-Za-z_][A-Za-z0-9_]*\) \$$\{0,1\}\(-\{0,1\}[0-9][0-9]*\).*$$/#define \1 \2/p' \
	    $(KOBJ)/asm-offsets.s; \
	  echo "#endif" ) > $@.tmp && mv $@.tmp $@

# Symbol table: text symbols of an ELF, sorted by address, as assembly.
define ksyms_from
	$(KNM) -n $(1) | awk -f kernel/arch/x86_32/ksyms.awk > $(2).tmp && mv $(2).tmp $(2)
endef

$(KERNEL_OUT)/ksyms-empty.S: kernel/arch/x86_32/ksyms.awk
	@mkdir -p $(KERNEL_OUT)
	$(Q)awk -f kernel/arch/x86_32/ksyms.awk < /dev/null > $@

$(KERNEL_OUT)/ksyms-%.o: $(KERNEL_OUT)/ksyms-%.S
	$(Q)$(KCC) $(KERNEL_ASFLAGS) -c $< -o $@

ifeq ($(KERNEL_KSYMS),1)
$(KERNEL_NOSYMS): $(KERNEL_OBJS) $(KERNEL_OUT)/ksyms-empty.o $(KLDS)
	@echo "  LD      $@"
	$(Q)$(KLD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(KERNEL_OUT)/ksyms-empty.o $(KERNEL_LIBGCC)

$(KERNEL_OUT)/ksyms-final.S: $(KERNEL_NOSYMS) kernel/arch/x86_32/ksyms.awk
	$(Q)$(call ksyms_from,$<,$@)

$(KERNEL_ELF): $(KERNEL_NOSYMS) $(KERNEL_OUT)/ksyms-final.o
	@echo "  LD      $@"
	$(Q)$(KLD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(KERNEL_OUT)/ksyms-final.o $(KERNEL_LIBGCC)
	$(Q)$(KNM) -n $@ | awk -f kernel/arch/x86_32/ksyms.awk | cmp -s - $(KERNEL_OUT)/ksyms-final.S || \
	  { echo "kernel: symbol addresses moved between link passes (see mk/kernel.mk)" >&2; \
	    rm -f $@; exit 1; }
	$(Q)if [ -f codegen/elfcheck.py ]; then $(ELFCHECK) $@; fi
else
# No symbol table: one pass, with the empty table (symbol_lookup finds nothing).
$(KERNEL_ELF): $(KERNEL_OBJS) $(KERNEL_OUT)/ksyms-empty.o $(KLDS)
	@echo "  LD      $@"
	$(Q)$(KLD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS) $(KERNEL_OUT)/ksyms-empty.o $(KERNEL_LIBGCC)
	$(Q)if [ -f codegen/elfcheck.py ]; then $(ELFCHECK) $@; fi
endif

-include $(KERNEL_OBJS:.o=.d)
