/*
 * switch.S — the register half of a thread switch (interface manual:
 * "Scheduling"; the Xen half, stack_switch and fpu_taskswitch, is batched by
 * kernel/sched.c before calling here).
 *
 * void switch_stacks(unsigned long *save_esp, unsigned long new_esp)
 *
 * Saves the callee-saved registers (the C ABI lets the caller assume the
 * others are clobbered) on the current stack, stores the stack pointer in
 * *save_esp, loads new_esp and pops the registers the other thread saved
 * the same way, returning into that thread. A new thread's stack is built by
 * thread.c to look like such a save, with thread_start as return address.
 */
        .text
        .globl  switch_stacks
        .type   switch_stacks, @function
        .p2align 4
switch_stacks:
        movl    4(%esp), %eax           /* save_esp */
        movl    8(%esp), %edx           /* new_esp */
        pushl   %ebp
        pushl   %ebx
        pushl   %esi
        pushl   %edi
        movl    %esp, (%eax)
        movl    %edx, %esp
        popl    %edi
        popl    %esi
        popl    %ebx
        popl    %ebp
        ret
        .size   switch_stacks, . - switch_stacks
