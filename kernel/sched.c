/*
 * sched.c — interface manual "Scheduling" and "CPU state": cooperative
 * threads on one VCPU.
 *
 * Each thread has its own stack: pages from the page allocator, mapped a
 * second time at the thread slot's fixed place in mm.h's stack area, with
 * unmapped guard pages below it (see "stacks" below). A switch is two
 * halves: first, one HYPERVISOR_multicall tells Xen
 *   - stack_switch(FLAT_KERNEL_SS, top of the next thread's stack): the
 *     stack Xen loads for the next trap taken from user mode, the PV
 *     equivalent of the TSS's ss0:esp0 (Xenolith never runs ring 3, but a
 *     kernel that did would need it, so every switch keeps it right);
 *   - fpu_taskswitch(1): set CR0.TS for lazy FPU switching (fpu.c);
 * and every entry's result is checked (multicall.c). Then switch_stacks
 * (switch.S) swaps the callee-saved registers and the stack pointer.
 *
 * All scheduler state is changed with events masked: event handlers call
 * thread_wake() from upcall context. schedule() is entered masked and a
 * thread resumes from it masked; each caller restores its own mask after.
 *
 * When no thread can run, the idle thread blocks the VCPU in Xen
 * (SCHEDOP_block); the event that wakes it runs its handler on the way out
 * of the hypercall, the handler wakes a thread, idle switches to it.
 */
#include "kernel.h"
#include "console.h"
#include "events.h"
#include "fpu.h"
#include "mm.h"
#include "multicall.h"
#include "sched.h"
#include "shell.h"
#include "traps.h"
#include "arch/x86_32/pagetable.h"

#define THREAD_STACK_ORDER 2 /* 16 KiB stacks */
#define THREAD_STACK_PAGES (1u << THREAD_STACK_ORDER)
#define THREAD_STACK_SIZE (PAGE_SIZE << THREAD_STACK_ORDER)
/* Each pool slot's range in the stack area: the stack at its top, the rest
 * (48 KiB) never mapped, so that even a frame larger than a page that jumps
 * the stack's end lands in the guard. */
#define STACK_SLOT_PAGES 16u
#define STACK_GUARD_PAGES (STACK_SLOT_PAGES - THREAD_STACK_PAGES)
_Static_assert((THREAD_MAX - 1) * STACK_SLOT_PAGES <= MM_STACKS_PAGES,
               "every pool slot needs its range in the stack area");
/* Stack marks (see "canary" below): the canary in the lowest
 * STACK_CANARY_BYTES (sched.h), the fill word above it up to STACK_FILL_BYTES. */
#define STACK_FILL_BYTES 4096u
#define STACK_CANARY_WORD 0x5ca1ab1eu
#define STACK_FILL_WORD 0xa5a5a5a5u
#define STACK_WORD sizeof(uint32_t)
_Static_assert(STACK_CANARY_BYTES % STACK_WORD == 0 && STACK_CANARY_BYTES < STACK_FILL_BYTES &&
               STACK_FILL_BYTES < THREAD_STACK_SIZE, "canary, then fill, then the rest");
#define THREAD_NAME_LEN 16
#define STACK_ALIGN 16       /* i386 SysV: esp + 4 is 16-aligned at a call */

enum thread_state { T_FREE, T_RUNNABLE, T_RUNNING, T_BLOCKED, T_DEAD };
static const char *const state_names[] = {"free", "runnable", "running", "blocked", "dead"};

struct thread {
    struct fpu_state fpu;           /* first: keeps its 16-byte alignment simple */
    char name[THREAD_NAME_LEN];
    enum thread_state state;
    unsigned long esp;              /* saved by switch_stacks */
    void *stack;                    /* page_alloc'd (direct map); NULL for main */
    unsigned long stack_top;        /* what stack_switch is told (stack area) */
    unsigned long stack_lowest;     /* its lowest byte, once marked; 0 = no marks */
    void (*fn)(void *);
    void *arg;
    struct thread *next_run;
    struct thread *joiner;
    bool wake_pending;
    unsigned long switches;         /* times switched to */
    unsigned long seen_events;      /* evtchn_events_handled at last wait_for_event */
};

/* The boot thread exists from the first instruction; the others come from a
 * pool (in .bss: only main's few hundred bytes are initialised data). */
static struct thread main_thread = {.name = "main", .state = T_RUNNING};
static struct thread thread_pool[THREAD_MAX - 1];
static struct thread *current_thread = &main_thread;
static struct thread *idle_thread;
static struct thread *run_head, *run_tail;
static unsigned long total_switches;
static struct thread *switched_from; /* by the last switch: checked by the one it ran */

/* entry.S: the stack boot (thread "main") runs on. */
extern char boot_stack[], boot_stack_top[];
/* switch.S */
extern void switch_stacks(unsigned long *save_esp, unsigned long new_esp);

/* ---- run queue (events masked) ------------------------------------------ */

static void runq_push(struct thread *t)
{
    t->next_run = NULL;
    if (run_tail)
        run_tail->next_run = t;
    else
        run_head = t;
    run_tail = t;
}

static struct thread *runq_pop(void)
{
    struct thread *t = run_head;
    if (t) {
        run_head = t->next_run;
        if (!run_head)
            run_tail = NULL;
        t->next_run = NULL;
    }
    return t;
}

/* ---- switching ------------------------------------------------------------ */

static void stack_check_switched_from(void);

static void context_switch(struct thread *prev, struct thread *next)
{
    struct multicall mc;
    multicall_init(&mc);
    struct multicall_entry *e = multicall_add(&mc, __HYPERVISOR_stack_switch);
    e->args[0] = FLAT_KERNEL_SS;
    e->args[1] = next->stack_top;
    fpu_switch_prepare(&mc, &next->fpu);
    unsigned bad;
    long rc = multicall_run(&mc, "context switch", &bad);
    if (rc)
        panic("context switch %s -> %s: multicall entry %u failed: %ld", prev->name, next->name,
              bad, rc);
    next->switches++;
    total_switches++;
    current_thread = next;
    switched_from = prev;
    switch_stacks(&prev->esp, next->esp);
    /* Back in prev, switched to by someone else; events still masked. */
    stack_check_switched_from();
}

/* Pick the next thread and switch to it. Events masked. */
static void schedule(void)
{
    struct thread *prev = current_thread, *next;

    for (;;) {
        next = runq_pop();
        if (next)
            break;
        if (prev->state == T_RUNNING)
            return; /* nobody else wants the CPU */
        if (idle_thread) {
            next = idle_thread;
            break;
        }
        /* Before the idle thread exists (early boot): wait right here. */
        xen_sched_block();
        irq_save();
    }
    if (prev->state == T_RUNNING) {
        prev->state = T_RUNNABLE;
        if (prev != idle_thread)
            runq_push(prev);
    }
    next->state = T_RUNNING;
    if (next != prev)
        context_switch(prev, next);
}

/* First code of every new thread: switch_stacks "returns" here. */
static void thread_start(void)
{
    struct thread *self = current_thread;
    stack_check_switched_from();
    irq_enable(); /* schedule() switched to us with events masked */
    self->fn(self->arg);
    thread_exit();
}

/* ---- stacks ----------------------------------------------------------------
 *
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

static unsigned long stack_base_va(unsigned slot)
{
    return stack_slot_va(slot) + STACK_GUARD_PAGES * PAGE_SIZE;
}

/* Map the slot's stack pages to `pages` (page_alloc'd). 0 or -errno. */
static int stack_map(unsigned slot, void *pages)
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

static void stack_unmap(unsigned slot)
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

/* ---- canary and high-water mark -------------------------------------------
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

static void stack_mark(struct thread *t, unsigned long lowest)
{
    uint32_t *w = (uint32_t *)lowest;
    for (unsigned i = 0; i < STACK_FILL_BYTES / STACK_WORD; i++)
        w[i] = i < STACK_CANARY_BYTES / STACK_WORD ? STACK_CANARY_WORD : STACK_FILL_WORD;
    t->stack_lowest = lowest;
}

/* The lowest word of t's first `bytes` that lost its mark, or 0. */
static unsigned long stack_first_touched(const struct thread *t, unsigned long bytes)
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
    if (t == current_thread) {
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

static void stack_check(const struct thread *t)
{
    unsigned long at = stack_first_touched(t, STACK_CANARY_BYTES);
    if (at)
        stack_canary_fatal(t, at);
}

/* Right after a switch, in the thread switched to. Events masked. */
static void stack_check_switched_from(void)
{
    if (switched_from)
        stack_check(switched_from);
}

/* ---- the API -------------------------------------------------------------- */

struct thread *thread_current(void)
{
    return current_thread;
}

const char *thread_name(const struct thread *t)
{
    return t->name;
}

static struct thread *thread_alloc(const char *name, void (*fn)(void *), void *arg)
{
    unsigned long flags = irq_save();
    struct thread *t = NULL;
    for (unsigned i = 0; i < ARRAY_SIZE(thread_pool); i++) {
        if (thread_pool[i].state == T_FREE) {
            t = &thread_pool[i];
            t->state = T_DEAD; /* reserved until set up */
            break;
        }
    }
    irq_restore(flags);
    if (!t) {
        printk("thread_create(%s): all %u thread slots in use\n", name, THREAD_MAX);
        return NULL;
    }
    unsigned slot = (unsigned)(t - thread_pool);
    void *stack = page_alloc(THREAD_STACK_ORDER);
    if (!stack) {
        printk("thread_create(%s): no memory for a %u KiB stack\n", name,
               (unsigned)(THREAD_STACK_SIZE / 1024));
        t->state = T_FREE;
        return NULL;
    }
    if (stack_map(slot, stack)) {
        page_free(stack, THREAD_STACK_ORDER);
        t->state = T_FREE;
        return NULL;
    }

    strlcpy(t->name, name, sizeof(t->name));
    t->stack = stack;
    t->stack_top = stack_base_va(slot) + THREAD_STACK_SIZE;
    stack_mark(t, stack_base_va(slot));
    t->fn = fn;
    t->arg = arg;
    t->joiner = NULL;
    t->next_run = NULL;
    t->wake_pending = false;
    t->switches = 0;
    t->seen_events = evtchn_events_handled;
    fpu_thread_init(&t->fpu);

    /* The stack as switch_stacks leaves it: edi esi ebx ebp, then the return
     * address (thread_start), then a dummy return address for thread_start
     * itself, placed so that esp + 4 is 16-aligned on entry as after a call. */
    unsigned long *sp = (unsigned long *)ALIGN_DOWN(t->stack_top, STACK_ALIGN);
    *--sp = 0;                           /* thread_start's return address: none */
    *--sp = (unsigned long)thread_start;
    *--sp = 0;                           /* ebp: ends backtraces */
    *--sp = 0;                           /* ebx */
    *--sp = 0;                           /* esi */
    *--sp = 0;                           /* edi */
    t->esp = (unsigned long)sp;
    return t;
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg)
{
    struct thread *t = thread_alloc(name, fn, arg);
    if (t) {
        unsigned long flags = irq_save();
        t->state = T_RUNNABLE;
        runq_push(t);
        irq_restore(flags);
    }
    return t;
}

void thread_yield(void)
{
    unsigned long flags = irq_save();
    schedule();
    irq_restore(flags);
}

void thread_block(void)
{
    unsigned long flags = irq_save();
    struct thread *self = current_thread;
    if (self->wake_pending) {
        self->wake_pending = false;
    } else {
        self->state = T_BLOCKED;
        schedule();
    }
    irq_restore(flags);
}

void thread_wake(struct thread *t)
{
    unsigned long flags = irq_save();
    if (t->state == T_BLOCKED) {
        t->state = T_RUNNABLE;
        runq_push(t);
    } else if (t->state == T_RUNNING || t->state == T_RUNNABLE) {
        t->wake_pending = true;
    }
    irq_restore(flags);
}

_Noreturn void thread_exit(void)
{
    struct thread *self = current_thread;
    if (self == &main_thread || self == idle_thread)
        panic("thread_exit: %s may not exit", self->name);
    irq_save();
    fpu_thread_exit(&self->fpu);
    self->state = T_DEAD;
    if (self->joiner)
        thread_wake(self->joiner);
    schedule();
    panic("thread_exit: dead thread %s was scheduled", self->name);
}

void thread_join(struct thread *t)
{
    if (t == current_thread || t == &main_thread || t == idle_thread || t->state == T_FREE)
        panic("thread_join: cannot join %s (%s)", t->name, state_names[t->state]);
    unsigned long flags = irq_save();
    while (t->state != T_DEAD) {
        t->joiner = current_thread;
        thread_block();
    }
    irq_restore(flags);
    /* It switched away for good: its stack is free. */
    stack_unmap((unsigned)(t - thread_pool));
    page_free(t->stack, THREAD_STACK_ORDER);
    t->stack = NULL;
    t->stack_lowest = 0; /* no marks to check until the slot is used again */
    flags = irq_save();
    t->state = T_FREE;
    irq_restore(flags);
}

/* events.h: see the contract there. */
void wait_for_event(void)
{
    struct thread *self = current_thread;
    unsigned long flags = irq_save();
    if (evtchn_events_handled == self->seen_events) {
        if (run_head)
            schedule();        /* let the others run; we stay runnable */
        else
            xen_sched_block(); /* unmasks; pending handlers run on return */
    }
    self->seen_events = evtchn_events_handled;
    irq_restore(flags);
}

static void idle_loop(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned long flags = irq_save();
        if (!run_head)
            xen_sched_block(); /* events on again, and their handlers have run */
        irq_save();
        schedule();
        irq_restore(flags);
    }
}

/* ---- start of day ---------------------------------------------------------- */

int sched_init(void)
{
    main_thread.stack_top = (unsigned long)boot_stack_top; /* entry.S */
    main_thread.seen_events = evtchn_events_handled;
    /* Boot runs on this stack: mark its bottom only if it has stayed well
     * clear of it so far (it has: the start of day is shallow). */
    if ((unsigned long)__builtin_frame_address(0) - (unsigned long)boot_stack >=
        2 * STACK_FILL_BYTES)
        stack_mark(&main_thread, (unsigned long)boot_stack);
    else
        printk("sched: boot stack already deep: no canary on main\n");
    fpu_init(&main_thread.fpu);

    /* Idle runs only when nobody else can: it never enters the run queue. */
    struct thread *idle = thread_alloc("idle", idle_loop, NULL);
    if (!idle)
        return -XEN_ENOMEM;
    idle->state = T_RUNNABLE;
    idle_thread = idle;
    printk("sched: main + idle threads, %u KiB stacks at %#lx with %u KiB guards and %u-byte "
           "canaries, up to %u threads\n", (unsigned)(THREAD_STACK_SIZE / 1024), MM_STACKS_VA,
           (unsigned)(STACK_GUARD_PAGES * PAGE_SIZE / 1024), STACK_CANARY_BYTES, THREAD_MAX);
    return 0;
}

/* ---- shell: threads ------------------------------------------------------- */

/* "13104/16384", or "<12288/16384" while the fill is untouched. */
static void stack_use(const struct thread *t, char *buf, size_t size)
{
    unsigned long total = t->stack_top - t->stack_lowest;
    unsigned long touched = stack_first_touched(t, STACK_FILL_BYTES);
    if (!t->stack_lowest)
        snprintf(buf, size, "-");
    else if (touched)
        snprintf(buf, size, "%lu/%lu", t->stack_top - touched, total);
    else
        snprintf(buf, size, "<%lu/%lu", total - STACK_FILL_BYTES, total);
}

static int cmd_threads(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char use[32];
    for (unsigned i = 0; i < THREAD_MAX; i++) { /* a damaged canary is fatal here too */
        const struct thread *t = i == 0 ? &main_thread : &thread_pool[i - 1];
        if (t->state != T_FREE)
            stack_check(t);
    }
    printk("  id  name              state     switches  stack high-water  fpu\n");
    for (unsigned i = 0; i < THREAD_MAX; i++) {
        const struct thread *t = i == 0 ? &main_thread : &thread_pool[i - 1];
        if (t->state == T_FREE)
            continue;
        stack_use(t, use, sizeof(use));
        printk("%4u  %-16s  %-8s  %8lu  %16s  %s%s\n", i, t->name, state_names[t->state],
               t->switches, use,
               fpu_is_owner(&t->fpu) ? "owner" : (t->fpu.used ? "saved" : "-"),
               t == current_thread ? "  <- current" : "");
    }
    printk("%lu switches; #NM %lu, FPU state loads %lu\n", total_switches, fpu_nm_traps(),
           fpu_state_loads());
    printk("stack high-water: deepest use in bytes, exact within the lowest %u (filled at "
           "creation); canaries (lowest %u bytes) intact\n", STACK_FILL_BYTES, STACK_CANARY_BYTES);
    return 0;
}
SHELL_COMMAND(threads, "threads", "threads",
              "list threads: name, state, switches, stack high-water, FPU owner; checks canaries",
              cmd_threads);
