# user/: the ring-3 programs built into the kernel image.
#
# Each user/NAME.c is one program: compiled freestanding (no FPU code, like
# the kernel, so a program never needs the FPU), linked with user/start.S at
# USER_IMAGE_VA by user/user.ld.S (run through the C preprocessor for the
# numbers of kernel/include/user_abi.h), and turned into a flat binary
# $(USER_OUT)/NAME.bin. kernel/user/programs.S includes the binaries
# (.incbin, found through -Wa,-I$(USER_OUT)) and lists them by name: a new
# program is a new user/NAME.c and one PROGRAM line there. Only the default
# configuration has user mode (`make tiny` leaves kernel/user/ out, for the
# size target: mk/kernel.mk).
USER_OUT := $(BUILD)/user
USER_PROGRAMS := $(sort $(basename $(notdir $(wildcard user/*.c))))
USER_BINS := $(patsubst %,$(USER_OUT)/%.bin,$(USER_PROGRAMS))
USER_CPPFLAGS := -Ikernel/include -Iuser
USER_CFLAGS := -m32 -march=i686 -std=c11 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
               -fno-asynchronous-unwind-tables -fno-builtin -Os -Wall -Wextra -Werror \
               $(KERNEL_NOFPU_FLAGS)
USER_LDFLAGS := -m elf_i386 -nostdlib -static --no-warn-rwx-segments

$(USER_OUT)/%.o: user/%.c user/ulib.h kernel/include/user_abi.h
	@mkdir -p $(USER_OUT)
	@echo "  CC      $<"
	$(Q)$(KCC) $(USER_CPPFLAGS) $(USER_CFLAGS) -c $< -o $@

$(USER_OUT)/start.o: user/start.S kernel/include/user_abi.h
	@mkdir -p $(USER_OUT)
	$(Q)$(KCC) $(USER_CPPFLAGS) -m32 -D__ASSEMBLY__ -c $< -o $@

$(USER_OUT)/user.ld: user/user.ld.S kernel/include/user_abi.h
	@mkdir -p $(USER_OUT)
	$(Q)$(KCC) $(USER_CPPFLAGS) -E -P -x c -D__ASSEMBLY__ $< -o $@

$(USER_OUT)/%.elf: $(USER_OUT)/%.o $(USER_OUT)/start.o $(USER_OUT)/user.ld
	@echo "  LD      $@"
	$(Q)$(KLD) $(USER_LDFLAGS) -T $(USER_OUT)/user.ld -o $@ $(USER_OUT)/start.o $<

$(USER_OUT)/%.bin: $(USER_OUT)/%.elf
	$(Q)objcopy -O binary $< $@

# The kernel's copy of the programs.
$(KOBJ)/kernel/user/programs.o: $(USER_BINS)
$(KOBJ)/kernel/user/programs.o: KERNEL_ASFLAGS += -Wa,-I$(USER_OUT)
.PRECIOUS: $(USER_OUT)/%.elf $(USER_OUT)/%.o
