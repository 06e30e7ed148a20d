/*
 * upcall.h — layout of the frames Xen builds on our stack when it enters the
 * event callback and the failsafe callback of a 32-bit PV guest (interface
 * manual: "Event channels" / "Callbacks"; Xen 4.17
 * xen/arch/x86/x86_64/compat/entry.S, compat_create_bounce_frame), for
 * upcall.S (numbers only, no C). The vcpu_info offsets it uses come from
 * the generated struct vcpu_info through asm-offsets.h.
 *
 * Event callback, interrupted in ring 1 (the kernel):
 *     0(%esp) EIP   4(%esp) CS, bits 16-23 = saved evtchn_upcall_mask
 *     8(%esp) EFLAGS
 * and, interrupted in ring 3 (a process), also 12(%esp) ESP 16(%esp) SS,
 * on the stack named by stack_switch.
 * Xen has set evtchn_upcall_mask to 1 before entering us.
 * Failsafe callback (Xen could not reload a segment register or iret):
 *     DS ES FS GS, then EIP CS EFLAGS as above.
 */
#ifndef XENOLITH_UPCALL_H
#define XENOLITH_UPCALL_H

#include "asm-offsets.h" /* VCPU_INFO_UPCALL_PENDING, VCPU_INFO_UPCALL_MASK */

/* The bounce frame (ring 1 -> ring 1). */
#define UPCALL_FRAME_EIP 0
#define UPCALL_FRAME_CS 4
#define UPCALL_FRAME_EFLAGS 8
#define UPCALL_FRAME_SIZE 12
#define UPCALL_CS_SAVED_MASK 0x00ff0000 /* bits 16-23 of the CS slot */

/* pushal: eax ecx edx ebx esp ebp esi edi, 4 bytes each */
#define PUSHAL_SIZE 32

/* The failsafe frame: DS ES FS GS before the bounce frame. */
#define FAILSAFE_FRAME_SEGS 16

#endif
