/*
 * start.S — a ring-3 program's first instruction (user_abi.h: the entry is
 * the start of the image). The kernel enters with %esp at the top of the
 * program's stack and every other register zero; main's result is the
 * exit status.
 */
#include "user_abi.h"

        .section .text.start, "ax"
        .globl  _start
        .type   _start, @function
_start:
        xorl    %ebp, %ebp              /* ends a backtrace */
        call    main
        movl    %eax, %ebx              /* status */
        movl    $SYS_exit, %eax
        int     $USER_SYSCALL_VECTOR
        ud2                             /* SYS_exit does not return */
        .size   _start, . - _start

        .section .note.GNU-stack, "", @progbits
