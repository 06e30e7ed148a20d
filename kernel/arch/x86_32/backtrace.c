/*
 * backtrace.c — stack walks for fatal dumps (not a Xen interface; the
 * kernel is built with -fno-omit-frame-pointer for it).
 *
 * Every function starts with push %ebp; mov %esp,%ebp, so at %ebp lie the
 * caller's %ebp and, above it, the return address. _start sets %ebp = 0,
 * which ends the chain. A frame pointer must be aligned, inside the direct
 * map or a mapped page of the thread stack area (mm.h; its guard pages are
 * not), and above the previous one (stacks grow down), or the walk stops:
 * a corrupt stack must not fault the dump.
 */
#include "kernel.h"
#include "mm.h"
#include "pagetable.h"
#include "traps.h"

#define BACKTRACE_MAX_FRAMES 24

static void print_address(const char *prefix, unsigned long addr)
{
    unsigned long off;
    const char *name = symbol_lookup(addr, &off);
    if (name)
        printk("%s0x%08lx <%s+0x%lx>\n", prefix, addr, name, off);
    else
        printk("%s0x%08lx <?>\n", prefix, addr);
}

static bool frame_ok(unsigned long ebp, unsigned long prev)
{
    unsigned long lowmem_top = KERNEL_VIRT_BASE + ((unsigned long)start_info->nr_pages << PAGE_SHIFT);
    if (lowmem_top > MM_DIRECT_MAP_END || lowmem_top < KERNEL_VIRT_BASE)
        lowmem_top = MM_DIRECT_MAP_END;
    unsigned long end = ebp + 2 * sizeof(unsigned long);
    bool in_direct_map = ebp >= KERNEL_VIRT_BASE && end <= lowmem_top;
    bool in_a_stack = mm_in_stacks(ebp) && mm_in_stacks(end - 1) &&
                      (pt_lookup(ebp) & PTE_P) && (pt_lookup(end - 1) & PTE_P);
    return ebp && !(ebp & (sizeof(unsigned long) - 1)) && ebp > prev &&
           (in_direct_map || in_a_stack);
}

void backtrace_from(unsigned long eip, unsigned long ebp)
{
    printk("backtrace:\n");
    print_address("  ", eip);
    unsigned long prev = 0;
    for (unsigned i = 0; i < BACKTRACE_MAX_FRAMES && frame_ok(ebp, prev); i++) {
        const unsigned long *frame = (const unsigned long *)ebp;
        unsigned long ret = frame[1];
        if (!ret)
            break;
        print_address("  ", ret);
        prev = ebp;
        ebp = frame[0];
    }
}

void backtrace_here(void)
{
    unsigned long ebp = (unsigned long)__builtin_frame_address(0);
    backtrace_from((unsigned long)__builtin_return_address(0), *(unsigned long *)ebp);
}
