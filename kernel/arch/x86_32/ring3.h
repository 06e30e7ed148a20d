/*
 * ring3.h — the two halves every way between ring 3 and the kernel shares
 * (interface manual: "CPU state", "Exceptions"; Xen 4.17 public/xen.h
 * __HYPERVISOR_iret and xen/arch/x86/pv/iret.c compat_iret), as assembler
 * macros for entry.S (traps), upcall.S (events) and user/ring3.S (the
 * system-call gate, the first entry). Numbers only, no C.
 *
 * In: Xen switched to the thread's kernel stack (stack_switch) and CS:EIP
 * to the handler, but left the data segments as the program had them:
 * FLAT_USER_DS in DS/ES (usable in ring 1, but not ours) and nothing in FS,
 * which the kernel needs for its per-CPU data. RING3_SEGS_IN loads the
 * kernel's DS/ES/FS (GS null) when the frame says ring 3 (cs bit 1: RPL 3;
 * the kernel's selectors have RPL 1).
 *
 * Out: RING3_EXIT, events masked (the caller ran user_return_work, which
 * masks them): load
 * the program's segments, restore the registers, and return through
 * HYPERVISOR_iret, not the iret instruction. Xen's iret takes the frame
 * [eax] eip cs eflags esp ss (the hypercall page's stub pushes eax), sets
 * evtchn_upcall_mask = !eflags.IF and leaves through its own exit path,
 * which delivers an event already pending (compat_test_all_events). That is
 * the rule: returning to ring 3 must unmask events and check for a pending
 * one in one step. Clearing the mask by hand and then using iret loses any
 * event that arrived while masked until the next one comes (Xen delivers
 * only on its own way out); doing both by hand leaves a window between the
 * check and the iret, and with user segments already loaded an event there
 * would run kernel code without the kernel's FS. So IF is forced on in the
 * frame, and nothing runs between loading the user segments and Xen's iret
 * but popal.
 */
#ifndef XENOLITH_RING3_H
#define XENOLITH_RING3_H

#include <abi/xen.h>
#include "asm-offsets.h" /* TRAP_FRAME_CS, ASM_KERNEL_DS, ASM_PERCPU_SEL */

#define SEL_RPL_RING3_BIT 2          /* set in a ring-3 selector, clear in ring 1's */
#define EFLAGS_IF 0x200              /* SDM 2.3: interrupt enable; Xen's virtual IF */
#define PUSHAL_BYTES 32
/* Where the bounce frame's eflags is after popal and `skip` more bytes. */
#define IRET_FRAME_EFLAGS 8

/* cs_off: the frame's cs slot relative to %esp after pushal. Clobbers eax. */
.macro RING3_SEGS_IN cs_off
        testl   $SEL_RPL_RING3_BIT, \cs_off(%esp)
        jz      1f
        movl    $ASM_KERNEL_DS, %eax
        movl    %eax, %ds
        movl    %eax, %es
        movl    $ASM_PERCPU_SEL, %eax
        movl    %eax, %fs
        xorl    %eax, %eax
        movl    %eax, %gs
1:
.endm

/* Stack: pushal, then `skip` bytes (vector, error code), then the bounce
 * frame eip cs eflags esp ss. Does not return. */
.macro RING3_EXIT skip
        movl    $FLAT_USER_DS, %eax
        movl    %eax, %ds
        movl    %eax, %es
        xorl    %eax, %eax
        movl    %eax, %fs
        movl    %eax, %gs
        popal
        .if \skip
        addl    $\skip, %esp
        .endif
        orl     $EFLAGS_IF, IRET_FRAME_EFLAGS(%esp)
        jmp     hypercall_page + __HYPERVISOR_iret * XEN_HYPERCALL_ENTRY_SIZE
.endm

#endif
