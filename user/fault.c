/*
 * fault.c — a ring-3 page fault: writes to the kernel's half of the address
 * space, which its page tables map for ring 1 only (no user bit). The
 * kernel ends the process and says why; it never returns here.
 */
#include "ulib.h"

#define KERNEL_HALF 0xC0000000ul

int main(void)
{
    print("fault: writing to kernel memory at ");
    print_num(KERNEL_HALF, 16);
    print("\n");
    *(volatile unsigned long *)KERNEL_HALF = 1;
    print("fault: the write went through (the user/kernel split is broken)\n");
    return 1;
}
