/*
 * programs.S — the ring-3 programs built into the image (user/, built by
 * mk/user.mk as flat binaries linked at USER_IMAGE_VA). user_programs[] is
 * what `run NAME` looks up (struct user_program, user.h): name, first byte,
 * end, one line of help. The binaries are only data to the kernel: it
 * copies one into a new process's pages.
 */

.macro PROGRAM name, help
        .section .rodata.user_images, "a"
        .p2align 4
image_\name:
        .incbin "\name\().bin"
image_\name\()_end:
        .section .rodata.user_strings, "a"
name_\name:
        .asciz "\name"
help_\name:
        .asciz "\help"
        .section .rodata.user_programs, "a"
        .long name_\name, image_\name, image_\name\()_end, help_\name
.endm

        .section .rodata.user_programs, "a"
        .p2align 2
        .globl  user_programs
user_programs:
        PROGRAM hello, "prints the privilege level it runs at (its %cs) and exits"
        PROGRAM fault, "writes to kernel memory: a user page fault ends it"
        PROGRAM badop, "executes hlt: a general protection fault ends it"
        PROGRAM spin, "loops in ring 3 without system calls until killed"
        PROGRAM fpu, "adds on the x87 FPU across a yield (#NM from ring 3); exits 0 if 1 + 1 = 2"
        PROGRAM check, "makes every system call, good and bad; exits 0 if all answers are right"
        .globl  user_programs_end
user_programs_end:

        .section .note.GNU-stack, "", @progbits
