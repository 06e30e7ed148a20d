/*
 * upcall.S — how Xen enters the kernel to deliver events (interface manual:
 * "Event channels" (the upcall) and "Callbacks": CALLBACKTYPE_event and
 * CALLBACKTYPE_failsafe, registered by kernel/xen/evtchn/evtchn.c).
 *
 * A 32-bit PV kernel runs in ring 1. When an event is pending for it and
 * vcpu_info.evtchn_upcall_mask is 0, Xen sets the mask to 1 and "bounces"
 * into hypervisor_callback on the current stack with the frame described in
 * upcall.h: EIP, CS (bits 16-23: the mask as it was, always 0 for an event
 * upcall), EFLAGS. We save the registers, let evtchn_do_upcall() (C) walk
 * the pending bitmaps, then return with iret, which in ring 1 is a plain
 * instruction (no HYPERVISOR_iret needed for ring 1 -> ring 1).
 *
 * The critical section. Events have to be enabled again (mask = 0) before
 * the iret, and an event may arrive between the two: Xen then pushes a
 * second frame on top of the first one. Without care, an event storm could
 * grow the stack without bound. So the exit sequence is a marked region
 * [upcall_critical_start, upcall_critical_end), and an upcall that finds it
 * interrupted that region merges itself with the outer upcall:
 *   - at any instruction before the popal (or at upcall_again), the outer
 *     registers are still saved right below Xen's new frame: drop our own
 *     pushal and Xen's frame and process events for the outer frame;
 *   - at the iret, the outer popal has already run, so the registers are
 *     live (and we just saved them with pushal): reload them, drop Xen's
 *     frame and save them again on top of the outer frame.
 * Either way the stack holds exactly one frame and one register save, as if
 * Xen had delivered the new event to the outer upcall.
 *
 * An upcall that interrupted ring 3 (a process) carries esp and ss as well,
 * on the process thread's kernel stack; it loads the kernel's segments on
 * the way in and leaves by ring3.h's RING3_EXIT after user_return_work,
 * never through the critical section (whose outer frame is thus always a
 * ring-1 one). Before unmasking we
 * also check evtchn_upcall_pending, so events that came while we ran the
 * handlers are processed in the same loop without a new frame at all.
 */
#include "upcall.h"
#include "ring3.h"

        .text

/* Entered by Xen, never called. */
        .globl  hypervisor_callback
        .type   hypervisor_callback, @function
        .p2align 4
hypervisor_callback:
        pushal
        cld
#if XENOLITH_USER /* make tiny runs no ring 3 (mk/kernel.mk) */
        RING3_SEGS_IN PUSHAL_SIZE + UPCALL_FRAME_CS
#endif
        movl    PUSHAL_SIZE + UPCALL_FRAME_EIP(%esp), %eax
        cmpl    $upcall_critical_start, %eax
        jb      upcall_dispatch
        cmpl    $upcall_critical_end, %eax
        jae     upcall_dispatch
        cmpl    $upcall_iret, %eax
        je      1f
        /* The outer upcall had not popped its registers yet. */
        addl    $(PUSHAL_SIZE + UPCALL_FRAME_SIZE), %esp
        jmp     upcall_dispatch
1:      /* The outer upcall was at its iret: its registers are the live ones. */
        popal
        addl    $UPCALL_FRAME_SIZE, %esp
        pushal
upcall_dispatch:
        call    evtchn_do_upcall
#if XENOLITH_USER
        testl   $SEL_RPL_RING3_BIT, PUSHAL_SIZE + UPCALL_FRAME_CS(%esp)
        jnz     upcall_to_ring3
#endif
        /* Events were masked where we interrupted (never for an event
         * upcall, but keep the contract): leave them masked. */
        testl   $UPCALL_CS_SAVED_MASK, PUSHAL_SIZE + UPCALL_FRAME_CS(%esp)
        jnz     upcall_return_masked
        /* %eax: the vcpu_info evtchn_do_upcall served (this vCPU's). */
upcall_critical_start:
        movb    $0, VCPU_INFO_UPCALL_MASK(%eax)
        testb   $0xff, VCPU_INFO_UPCALL_PENDING(%eax)
        jnz     upcall_again
        popal
upcall_iret:
        iret
upcall_again:
        movb    $1, VCPU_INFO_UPCALL_MASK(%eax)
upcall_critical_end:
        jmp     upcall_dispatch

upcall_return_masked:
        popal
        iret

/* The event came in ring 3: this is where a process is preempted
 * (user_return_work lets waiting threads run), then back through Xen's iret
 * with events still masked until it unmasks them (ring3.h). */
#if XENOLITH_USER
upcall_to_ring3:
        call    user_return_work
        RING3_EXIT 0
#endif
        .size   hypervisor_callback, . - hypervisor_callback

/*
 * Xen enters here when it cannot return to us: a segment register (DS, ES,
 * FS, GS) it reloads after a full context switch holds a selector whose
 * descriptor no longer loads (Xen 4.17 domain.c load_segments(); Xen has
 * loaded the null selector instead; see failsafe.c, `failsafe real`). The
 * frame has the selectors Xen tried, DS ES FS GS, below the usual EIP CS
 * EFLAGS. Nothing can be
 * resumed: make DS/ES usable again (SS is our flat kernel data segment;
 * Xen switched to our stack with it) and let C print the frame and crash.
 */
        .globl  failsafe_callback
        .type   failsafe_callback, @function
        .p2align 4
failsafe_callback:
        cld
        movl    %ss, %eax
        movl    %eax, %ds
        movl    %eax, %es
        pushl   %esp                    /* -> the frame, DS first */
        call    evtchn_failsafe         /* does not return */
        ud2
        .size   failsafe_callback, . - failsafe_callback
