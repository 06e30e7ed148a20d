/*
 * asm-offsets.c — numbers the assembly files need that only C can compute,
 * so they are never typed twice: offsets into the generated ABI structs
 * (struct vcpu_info, for upcall.S; struct trap_frame, for ring3.h) and
 * KERNEL_VIRT_BASE from mm.h, the kernel's selectors from gdt.h. ABI
 * constants need no entry: <abi/elfnote.h> and the other generated headers
 * are usable from assembly as they are. Add a DEFINE or OFFSET here when a
 * .S file needs another C constant or struct offset. Not linked into
 * the kernel: mk/kernel.mk compiles it to assembly and turns each
 * "->NAME value" marker into "#define NAME value" in
 * $(BUILD)/include/asm-offsets.h.
 */
#include "kernel.h"
#include "mm.h"
#include "traps.h"
#include "gdt.h"

#define DEFINE(sym, val) __asm__ volatile("\n.ascii \"->" #sym " %c0\"" : : "i"(val))
#define OFFSET(sym, type, member) DEFINE(sym, offsetof(type, member))

void asm_offsets(void);
void asm_offsets(void)
{
    /* struct vcpu_info (public/xen.h): what the upcall tests and sets. */
    OFFSET(VCPU_INFO_UPCALL_PENDING, struct vcpu_info, evtchn_upcall_pending);
    OFFSET(VCPU_INFO_UPCALL_MASK, struct vcpu_info, evtchn_upcall_mask);

    DEFINE(ASM_KERNEL_VIRT_BASE, KERNEL_VIRT_BASE);

    /* ring3.h: where a trap frame's cs is, and the kernel's own selectors
     * (gdt.h), loaded on every entry from ring 3. */
    OFFSET(TRAP_FRAME_CS, struct trap_frame, cs);
    OFFSET(TRAP_FRAME_EIP, struct trap_frame, eip);
    DEFINE(ASM_KERNEL_DS, KERNEL_DS);
    DEFINE(ASM_PERCPU_SEL, PERCPU_SEL);
}
