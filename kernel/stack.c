/*
 * stack.c — thread stacks (interface manual: "CPU state": stack_switch
 * tells Xen which stack a trap from user mode lands on): each pool slot's
 * place in mm.h's stack area, the guard pages below it, and the canary and
 * fill marks that catch an overflow before the guard does.
 */
#include "mm.h"
#include "sched_priv.h"
#include "traps.h"
#include "arch/x86_32/pagetable.h"

/*
 * Pool slot i owns STACK_SLOT_PAGES pages of the stack area (mm.h) from
 * stack_slot_va(i): the top THREAD_STACK_PAGES are mapped, with
 * update_va_mapping (map_page), to the frames of a page_alloc'd block while
 * a thread uses the slot; the guard pages below are never mapped. A separate
 * area rather than holes in the direct map: the direct map stays whole (the
 * p2m self-test, the balloon and virt_to_machine see no holes), the guard
 * can be larger than a page at no cost in memory, and a faulting address
 * tells by itself whose guard it hit.
 *
 * What an overflow does under Xen: the access to the guard page faults, and
 * Xen must write the exception frame for our #PF handler at the faulting
 * %esp, which (for a push, a call, or a frame that jumped into the guard)
 * is itself in the guard. Xen cannot, so it crashes the domain at once
 * (xen/arch/x86/x86_64/compat/entry.S, compat_create_bounce_frame: a fault
 * there goes to show_page_walk and domain_crash; a 32-bit PV kernel runs in
 * ring 1 and gets no stack switch for a fault taken in ring 1). The guard
 * page turns a silent overwrite into an immediate crash that Xen's log
 * (`xl dmesg`) explains with a page walk of the guard address. When the
 * handler does run (a fault in the guard while %esp is still above it),
 * traps.c asks stack_guard_owner() and prints whose guard it was. */

static unsigned long stack_slot_va(unsigned slot)
{
    return MM_STACKS_VA + (unsigned long)slot * STACK_SLOT_PAGES * PAGE_SIZE;
}

unsigned long stack_base_va(unsigned slot)
{
    return stack_slot_va(slot) + STACK_GUARD_PAGES * PAGE_SIZE;
}

/* Map the slot's stack pages to `pages` (page_alloc'd). 0 or -errno. */
int stack_map(unsigned slot, void *pages)
{
    unsigned long pfn = virt_to_pfn(pages);
    for (unsigned i = 0; i < THREAD_STACK_PAGES; i++) {
        int err = map_page(stack_base_va(slot) + i * PAGE_SIZE, pfn_to_mfn(pfn + i), PTE_KERNEL_RW);
        if (err) {
            while (i--)
                (void)unmap_page(stack_base_va(slot) + i * PAGE_SIZE);
            return err;
        }
    }
    return 0;
}

void stack_unmap(unsigned slot)
{
    for (unsigned i = 0; i < THREAD_STACK_PAGES; i++)
        (void)unmap_page(stack_base_va(slot) + i * PAGE_SIZE); /* failures printed */
}

const char *stack_guard_owner(unsigned long va, unsigned long *guard, unsigned long *guard_end)
{
    if (!mm_in_stacks(va))
        return NULL;
    unsigned slot = (unsigned)((va - MM_STACKS_VA) / (STACK_SLOT_PAGES * PAGE_SIZE));
    if (slot >= ARRAY_SIZE(thread_pool) || va >= stack_base_va(slot))
        return NULL;
    *guard = stack_slot_va(slot);
    *guard_end = stack_base_va(slot);
    const struct thread *t = &thread_pool[slot];
    return t->state == T_FREE ? "(no thread)" : t->name;
}

void thread_stack_bounds(const struct thread *t, unsigned long *lowest, unsigned long *top)
{
    bool pooled = t >= thread_pool && t < thread_pool + ARRAY_SIZE(thread_pool);
    *lowest = pooled ? stack_base_va((unsigned)(t - thread_pool)) : 0;
    *top = pooled ? *lowest + THREAD_STACK_SIZE : 0;
}

/* Canary and high-water mark.
 *
 * The guard stops an overflow only once it has happened, and then, as above,
 * Xen usually crashes the domain without a word from us. So every stack
 * (main's boot stack too, which has no guard at all) also carries marks,
 * written when it is set up:
 *   - the canary: STACK_CANARY_WORD in its lowest STACK_CANARY_BYTES. It is
 *     checked each time a thread is switched away from, and by `threads`.
 *     A damaged canary means the thread came within STACK_CANARY_BYTES of
 *     its guard: "*** FATAL stack overflow in thread NAME: canary at 0x...
 *     overwritten (high-water N of M bytes)", the thread's backtrace at its
 *     switch, SHUTDOWN_crash. The check runs in the thread switched *to*,
 *     on its own stack, since the one that just ran may have almost none
 *     left. An early warning, not a proof: a frame that jumps over the
 *     canary without writing it lands in the guard, as does a thread that
 *     is deep in the canary when it switches (a switch needs a few hundred
 *     bytes of stack itself).
 *   - the fill: STACK_FILL_WORD above it, up to STACK_FILL_BYTES from the
 *     bottom. Only the lowest few KiB, so creating a thread stays cheap;
 *     `threads` scans the marks for the lowest word that changed, which is
 *     how deep the stack has been (its high-water mark), exact once it
 *     reached the filled part, shown as "<N" before. */

void stack_mark(struct thread *t, unsigned long lowest)
{
    uint32_t *w = (uint32_t *)lowest;
    for (unsigned i = 0; i < STACK_FILL_BYTES / STACK_WORD; i++)
        w[i] = i < STACK_CANARY_BYTES / STACK_WORD ? STACK_CANARY_WORD : STACK_FILL_WORD;
    t->stack_lowest = lowest;
}

unsigned long stack_first_touched(const struct thread *t, unsigned long bytes)
{
    const uint32_t *w = (const uint32_t *)t->stack_lowest;
    if (!w)
        return 0;
    for (unsigned i = 0; i < bytes / STACK_WORD; i++)
        if (w[i] != (i < STACK_CANARY_BYTES / STACK_WORD ? STACK_CANARY_WORD : STACK_FILL_WORD))
            return t->stack_lowest + i * STACK_WORD;
    return 0;
}

static _Noreturn void stack_canary_fatal(const struct thread *t, unsigned long at)
{
    printk("*** FATAL stack overflow in thread %s: canary at 0x%08lx overwritten (high-water %lu "
           "of %lu bytes)\n", t->name, at, t->stack_top - at, t->stack_top - t->stack_lowest);
    printk("its canary is 0x%08lx-0x%08lx, the lowest %u bytes of its stack; %s\n",
           t->stack_lowest, t->stack_lowest + STACK_CANARY_BYTES - 1, STACK_CANARY_BYTES,
           t == &main_thread ? "the boot stack has no guard" : "its guard is below");
    if (t == thread_current()) {
        backtrace_here();
    } else {
        /* Where it switched away: switch_stacks saved edi esi ebx ebp, then
         * its return address, at t->esp. */
        const unsigned long *saved = (const unsigned long *)t->esp;
        printk("%s at its last switch:\n", t->name);
        backtrace_from(saved[4], saved[3]);
    }
    kernel_shutdown(SHUTDOWN_crash);
}

void stack_check(const struct thread *t)
{
    unsigned long at = stack_first_touched(t, STACK_CANARY_BYTES);
    if (at)
        stack_canary_fatal(t, at);
}
