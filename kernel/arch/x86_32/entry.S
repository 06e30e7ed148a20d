/*
 * entry.S — the ways into the kernel (interface manual: "Booting a guest"
 * for _start, "Exceptions" for the trap stubs, "Hypercalls" for the
 * hypercall page).
 *
 * _start: Xen enters here in ring 1 with flat segments, %esi = the virtual
 *   address of start_info and %esp on a stack inside the bootstrap region.
 *   We move to our own stack (in .bss, so the bootstrap region can be
 *   reclaimed) and call arch_start(start_info) (setup.c).
 *
 * hypercall_page: one page Xen fills with 32-byte stubs (named by
 *   XEN_ELFNOTE_HYPERCALL_PAGE); <abi/xen.h>'s wrappers call entry N at
 *   hypercall_page + N * 32.
 *
 * Trap stubs: Xen bounces an exception to the handler in our trap table
 *   (traps.c) with, on the ring-1 stack: [error code,] eip, cs (bits 16-23:
 *   the saved event mask), eflags, and esp, ss when it came from ring 3.
 *   Each stub pushes a 0 error code where the CPU gives none, then the
 *   vector, and trap_common pushes the general registers (pushal), giving
 *   struct trap_frame (traps.h), and calls trap_dispatch(frame). When that
 *   returns the registers are restored from the frame (a handler may have
 *   changed eip to resume elsewhere) and iret returns: ring 1 to ring 1 is
 *   an ordinary iret, the event mask is not touched by Xen for vectors that
 *   do not ask for it (see traps.c). A trap taken in ring 3 loads the
 *   kernel's segments first and goes back through ring3.h's RING3_EXIT
 *   (most such traps end the process instead and never come back here).
 */

#include "ring3.h"

#define PAGE_SIZE 4096
#define BOOT_STACK_SIZE (16 * 1024)
#define STACK_ALIGN 16
#define TRAP_FRAME_EXTRA 8              /* the stub's vector and error code */

    .section .text.entry, "ax"
    .globl _start
    .type _start, @function
_start:
    cld
    movl $boot_stack_top, %esp
    xorl %ebp, %ebp                 /* ends the backtrace frame chain */
    subl $(STACK_ALIGN - 4), %esp   /* %esp 16-byte aligned at the call */
    pushl %esi                      /* struct start_info * */
    call arch_start
    /* arch_start does not return; if it ever does, stop here. */
1:  hlt                             /* privileged in ring 1: #GP -> fatal */
    jmp 1b
    .size _start, . - _start

    .section .text.hypercall_page, "ax"
    .p2align 12
    .globl hypercall_page
    .type hypercall_page, @object
hypercall_page:
    .fill PAGE_SIZE, 1, 0xcc        /* int3 until Xen writes the stubs */
    .size hypercall_page, PAGE_SIZE

/* Stubs: TRAP_NOERR pushes a dummy error code, TRAP_ERR has the CPU's. */
.macro TRAP_NOERR vec
    .text
    .p2align 4
trap_entry_\vec:
    pushl $0
    pushl $\vec
    jmp trap_common
    .section .rodata.trap_entries, "a"
    .long trap_entry_\vec
.endm

.macro TRAP_ERR vec
    .text
    .p2align 4
trap_entry_\vec:
    pushl $\vec
    jmp trap_common
    .section .rodata.trap_entries, "a"
    .long trap_entry_\vec
.endm

.macro TRAP_NONE
    .section .rodata.trap_entries, "a"
    .long 0
.endm

/* trap_entries[vector] for vectors 0..19 (0 = no stub), read by traps.c. */
    .section .rodata.trap_entries, "a"
    .p2align 2
    .globl trap_entries
trap_entries:
    TRAP_NOERR 0    /* #DE divide error */
    TRAP_NOERR 1    /* #DB debug */
    TRAP_NOERR 2    /* NMI */
    TRAP_NOERR 3    /* #BP int3 */
    TRAP_NOERR 4    /* #OF into */
    TRAP_NOERR 5    /* #BR bound */
    TRAP_NOERR 6    /* #UD invalid opcode */
    TRAP_NOERR 7    /* #NM device not available */
    TRAP_ERR   8    /* #DF double fault */
    TRAP_NOERR 9    /* coprocessor segment overrun */
    TRAP_ERR   10   /* #TS invalid TSS */
    TRAP_ERR   11   /* #NP segment not present */
    TRAP_ERR   12   /* #SS stack fault */
    TRAP_ERR   13   /* #GP general protection */
    TRAP_ERR   14   /* #PF page fault */
    TRAP_NONE       /* 15 reserved */
    TRAP_NOERR 16   /* #MF x87 error */
    TRAP_ERR   17   /* #AC alignment check */
    TRAP_NOERR 18   /* #MC machine check */
    TRAP_NOERR 19   /* #XM SIMD error */

    .text
    .p2align 4
    .type trap_common, @function
trap_common:
    pushal                          /* edi..eax: the start of trap_frame */
    cld
#if XENOLITH_USER /* make tiny runs no ring 3 (mk/kernel.mk) */
    RING3_SEGS_IN TRAP_FRAME_CS
#endif
    movl %esp, %ebx                 /* ebx (callee-saved) = frame */
    andl $-STACK_ALIGN, %esp        /* the C ABI's alignment */
    subl $(STACK_ALIGN - 4), %esp
    pushl %ebx
    call trap_dispatch
#if XENOLITH_USER
    testl $SEL_RPL_RING3_BIT, TRAP_FRAME_CS(%ebx)
    jnz 1f
#endif
    movl %ebx, %esp
    popal
    addl $TRAP_FRAME_EXTRA, %esp    /* vector, error code */
    iret
#if XENOLITH_USER
1:  /* Handled in ring 3 (#NM: the FPU is the thread's): back there. */
    call user_return_work
    movl %ebx, %esp
    RING3_EXIT TRAP_FRAME_EXTRA
#endif
    .size trap_common, . - trap_common

    .section .bss.page_aligned, "aw", @nobits
    .p2align 12
    .globl boot_stack, boot_stack_top
boot_stack:
    .skip BOOT_STACK_SIZE
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
