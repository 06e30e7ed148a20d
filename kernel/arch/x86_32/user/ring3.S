/*
 * ring3.S — the system-call gate and the first entry into ring 3
 * (interface manual: "Exceptions": a trap-table entry whose privilege
 * level lets ring 3 raise it with `int`; user_abi.h for the calling
 * convention).
 *
 * syscall_entry: traps.c puts it in the trap table for USER_SYSCALL_VECTOR
 *   with DPL 3 (trap_info.flags 3: without it Xen turns a ring-3 `int $0x80`
 *   into #GP, as the IDT would) and "mask events" (so nothing runs between
 *   here and the kernel's segments; syscall_dispatch unmasks). Xen bounces
 *   the `int` onto the thread's kernel stack with the frame eip cs eflags
 *   esp ss; we add an error code and the vector, so it is a struct
 *   trap_frame (traps.h) like every trap's, call syscall_dispatch(frame)
 *   (the result goes in the frame's eax) and user_return_work, and leave
 *   through RING3_EXIT (ring3.h).
 *
 * ring3_enter(eip, esp): a process thread's way into ring 3 the first time:
 *   builds the same frame (FLAT_USER_CS/SS, IF set, every register zero) on
 *   the current stack and leaves the same way. Events masked on entry.
 */
#include "../ring3.h"
#include "user_abi.h"

#define STACK_ALIGN 16
#define TRAP_FRAME_EXTRA 8              /* error code and vector */
#define PUSHAL_WORDS 8

        .text
        .globl  syscall_entry
        .type   syscall_entry, @function
        .p2align 4
syscall_entry:
        pushl   $0                      /* error code */
        pushl   $USER_SYSCALL_VECTOR
        pushal
        cld
        RING3_SEGS_IN TRAP_FRAME_CS
        movl    %esp, %ebx              /* ebx (callee-saved) = frame */
        andl    $-STACK_ALIGN, %esp
        subl    $(STACK_ALIGN - 4), %esp
        pushl   %ebx
        call    syscall_dispatch
        call    user_return_work
        movl    %ebx, %esp
        RING3_EXIT TRAP_FRAME_EXTRA
        .size   syscall_entry, . - syscall_entry

        .globl  ring3_enter
        .type   ring3_enter, @function
        .p2align 4
ring3_enter:
        movl    4(%esp), %ecx           /* eip */
        movl    8(%esp), %edx           /* esp */
        pushl   $FLAT_USER_SS
        pushl   %edx
        pushl   $EFLAGS_IF
        pushl   $FLAT_USER_CS
        pushl   %ecx
        .rept   PUSHAL_WORDS            /* what popal takes: zeros */
        pushl   $0
        .endr
        RING3_EXIT 0
        .size   ring3_enter, . - ring3_enter

        .section .note.GNU-stack, "", @progbits
