/*
 * sched.c — the scheduler (interface manual: "Scheduling", "CPU state"):
 * the run queues and the switch between cooperative threads on each vCPU.
 * Threads themselves are thread.c's, their stacks stack.c's, the `threads`
 * command thread_cmd.c's.
 *
 * A switch is two halves: first, one HYPERVISOR_multicall tells Xen
 *   - stack_switch(FLAT_KERNEL_SS, top of the next thread's stack): the
 *     stack Xen loads for the next trap, event or system call taken in
 *     ring 3: the PV form of the TSS's ss1:esp1, the ring-1 stack (a
 *     native kernel in ring 0 sets ss0:esp0; public/arch-x86/xen.h
 *     vcpu_guest_context: "kernel_ss, kernel_sp; Virtual TSS (only
 *     SS1/SP1)"); each process's thread has its own (kernel/user/);
 *   - mmuext_op(MMUEXT_NEW_BASEPTR), only when the page-table base changes:
 *     a process runs on its own L3, kernel threads on the kernel's
 *     (user_switch_prepare, kernel/user/process.c);
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
 *
 * Several vCPUs (smp.h): one run queue per vCPU, and a thread's `cpu` says
 * which. Per-vCPU queues rather than one shared queue because placement
 * is then explicit: a thread stays where it was put (its creator's vCPU,
 * or thread_move), "moved to vCPU 2" and "handed on when vCPU 3 goes
 * down" are one field and one queue, and a process (whose page tables
 * follow vCPU 0's loaded base) simply stays on vCPU 0. There is no load
 * balancer. Everything here is under the kernel lock (smp.c), the same
 * one for all queues: a wake-up from another vCPU pushes onto the
 * thread's queue and sends that vCPU an IPI (smp_kick), whose only work is
 * to end its SCHEDOP_block. The lock is held across a switch, so that a
 * thread pushed onto another vCPU's queue while its stack is still in use
 * here (thread_move of a running thread) is taken there only after this
 * vCPU has switched away and let the lock go. At a switch the lock is let
 * go and taken again when another vCPU waits for it (the ticket lock then
 * hands it over): a vCPU whose threads always have work otherwise keeps
 * the others out.
 */
#include "events.h"
#include "mm.h"
#include "multicall.h"
#include "sched_priv.h"
#include "smp.h"
#include "user.h"

/* One vCPU's scheduler (the running thread is in `currents`: only that
 * has a value before sched_init, so the rest stays out of .data). */
struct cpu_sched {
    struct thread *idle;          /* runs when none else can; never queued */
    struct thread *switched_from; /* by the last switch: checked by the one it ran */
    struct thread *run_head, *run_tail;
};

#if XENOLITH_SMP
#define SCHED_CPUS SMP_MAX_VCPUS
static struct thread cpu_idle[SMP_MAX_VCPUS]; /* secondaries': their boot stacks */
#else
#define SCHED_CPUS 1
#endif

struct thread main_thread = {.name = "main", .state = T_RUNNING};
unsigned long total_switches;
static struct thread *currents[SCHED_CPUS] = {&main_thread};
static struct cpu_sched cpu_sched[SCHED_CPUS];

/* entry.S: the stack boot (thread "main") runs on. */
extern char boot_stack[], boot_stack_top[];
/* switch.S */
extern void switch_stacks(unsigned long *save_esp, unsigned long new_esp);

static inline struct cpu_sched *here(void)
{
    return &cpu_sched[smp_cpu()];
}

/* This vCPU runs its idle thread only: it is going down (smp.c), and the
 * idle thread hands the others on. */
static inline bool cpu_leaving(void)
{
#if XENOLITH_SMP
    unsigned me = smp_cpu();
    return me != 0 && smp_state(me) != VCPU_ONLINE;
#else
    return false;
#endif
}

struct thread *thread_current(void)
{
    return currents[smp_cpu()];
}

bool thread_is_idle(const struct thread *t)
{
    return t == cpu_sched[thread_cpu(t)].idle;
}

/* ---- run queues (events masked) ------------------------------------------ */

void runq_push(struct thread *t)
{
    struct cpu_sched *cs = &cpu_sched[thread_cpu(t)];
    t->next_run = NULL;
    if (cs->run_tail)
        cs->run_tail->next_run = t;
    else
        cs->run_head = t;
    cs->run_tail = t;
#if XENOLITH_SMP
    if (t->cpu != smp_cpu())
        smp_kick(t->cpu); /* ends its SCHEDOP_block, if it sleeps */
#endif
}

static struct thread *runq_pop(struct cpu_sched *cs)
{
    struct thread *t = cs->run_head;
    if (t) {
        cs->run_head = t->next_run;
        if (!cs->run_head)
            cs->run_tail = NULL;
        t->next_run = NULL;
    }
    return t;
}

bool sched_others_runnable(void)
{
    return here()->run_head != NULL;
}

/* ---- switching ------------------------------------------------------------ */

/* Right after a switch, in the thread switched to (on its own stack: the
 * one that just ran may have almost none left). Events masked. */
static void check_switched_from(void)
{
    struct thread *prev = here()->switched_from;
    if (prev)
        stack_check(prev);
}

static void context_switch(struct cpu_sched *cs, struct thread *prev, struct thread *next)
{
    struct multicall mc;
    multicall_init(&mc);
    struct multicall_entry *e = multicall_add(&mc, __HYPERVISOR_stack_switch);
    e->args[0] = FLAT_KERNEL_SS;
    e->args[1] = next->stack_top;
#if XENOLITH_SMP
    if (cs == &cpu_sched[0]) /* processes run on vCPU 0 only (thread_pin) */
        user_switch_prepare(&mc, next);
    if (smp_several())
        fpu_switch_out(&prev->fpu); /* it may run on another vCPU next */
#else
    user_switch_prepare(&mc, next);
#endif
    fpu_switch_prepare(&mc, &next->fpu);
    unsigned bad;
    long rc = multicall_run(&mc, "context switch", &bad);
    if (rc)
        panic("context switch %s -> %s: multicall entry %u failed: %ld", prev->name, next->name,
              bad, rc);
    next->switches++;
    total_switches++;
    currents[cs - cpu_sched] = next;
    cs->switched_from = prev;
    switch_stacks(&prev->esp, next->esp);
    /* Back in prev, switched to by someone else (maybe on another vCPU);
     * events still masked. */
    check_switched_from();
}

/* Pick the next thread and switch to it. Events masked. */
void schedule(void)
{
    struct cpu_sched *cs = here();
    struct thread *prev = currents[smp_cpu()], *next;
    bool run_here = true, keep = true;

#if XENOLITH_SMP
    if (prev->state == T_RUNNING && kernel_lock_wanted()) {
        /* Another vCPU waits: let it in (the ticket lock hands over). prev
         * is running and on no queue: nothing can take it meanwhile. */
        kernel_unlock();
        kernel_lock();
    }
    /* A thread moved elsewhere goes to its new queue. */
    run_here = !cpu_leaving();
    keep = run_here && prev->cpu == smp_cpu();
#endif
    for (;;) {
        next = run_here ? runq_pop(cs) : NULL;
        if (next)
            break;
        if (prev->state == T_RUNNING && (keep || prev == cs->idle))
            return; /* nobody else wants the CPU (or idle goes on: it takes us down) */
        if (cs->idle && prev != cs->idle) {
            next = cs->idle;
            break;
        }
        /* Before the idle thread exists (early boot), or the idle thread
         * itself waits (a remote call it runs sleeps): wait right here. */
        xen_sched_block();
        irq_save();
    }
    if (prev->state == T_RUNNING) {
        prev->state = T_RUNNABLE;
        if (prev != cs->idle)
            runq_push(prev); /* on its own vCPU's queue, if it was moved */
    }
    next->state = T_RUNNING;
    if (next != prev)
        context_switch(cs, prev, next);
}

/* First code of every new thread: switch_stacks "returns" here. */
void thread_start(void)
{
    struct thread *self = thread_current();
    check_switched_from();
    irq_enable(); /* schedule() switched to us with events masked */
    self->fn(self->arg);
    thread_exit();
}

/* events.h: see the contract there. */
void wait_for_event(void)
{
    struct thread *self = thread_current();
    unsigned long flags = irq_save();
    if (evtchn_events_here() == self->seen_events) {
        if (here()->run_head || cpu_leaving())
            schedule();        /* let the others run; we stay runnable */
        else
            xen_sched_block(); /* unmasks; pending handlers run on return */
    }
    self->seen_events = evtchn_events_here();
    irq_restore(flags);
}

static void idle_loop(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned long flags = irq_save();
        if (!here()->run_head)
            xen_sched_block(); /* events on again, and their handlers have run */
        irq_save();
        schedule();
        irq_restore(flags);
    }
}

/* ---- several vCPUs ------------------------------------------------------------ */

#if XENOLITH_SMP
unsigned thread_vcpu(const struct thread *t)
{
    return t->cpu;
}

static void runq_remove(struct thread *t)
{
    struct cpu_sched *cs = &cpu_sched[t->cpu];
    struct thread *before = NULL;
    for (struct thread *q = cs->run_head; q; before = q, q = q->next_run) {
        if (q != t)
            continue;
        if (before)
            before->next_run = t->next_run;
        else
            cs->run_head = t->next_run;
        if (cs->run_tail == t)
            cs->run_tail = before;
        t->next_run = NULL;
        return;
    }
}

/* Events masked, kernel lock held. */
static void place(struct thread *t, unsigned cpu)
{
    if (t->cpu == cpu)
        return;
    if (t->state == T_RUNNABLE) {
        runq_remove(t);
        t->cpu = cpu;
        runq_push(t);
    } else {
        t->cpu = cpu; /* running: at its next switch; blocked: at its wake-up */
    }
}

int thread_move(struct thread *t, unsigned cpu)
{
    if (smp_state(cpu) != VCPU_ONLINE || thread_is_idle(t) || t->pinned)
        return -XEN_EINVAL;
    unsigned long flags = irq_save();
    place(t, cpu);
    irq_restore(flags);
    return 0;
}

void thread_pin(struct thread *t)
{
    unsigned long flags = irq_save();
    place(t, 0);
    t->pinned = true;
    irq_restore(flags);
}

void sched_cpu_enter(unsigned cpu)
{
    struct thread *idle = &cpu_idle[cpu];
    snprintf(idle->name, sizeof(idle->name), "idle%u", cpu);
    idle->state = T_RUNNING;
    /* What stack_switch is told when idle runs: only ring 3 uses it, and
     * no process runs here. Its boot stack, near enough. */
    idle->stack_top = (unsigned long)__builtin_frame_address(0);
    idle->cpu = cpu;
    idle->seen_events = evtchn_events_here();
    fpu_thread_init(&idle->fpu);
    struct cpu_sched *cs = &cpu_sched[cpu];
    cs->idle = currents[cpu] = idle;
    cs->switched_from = NULL;
    fpu_cpu_enter(&idle->fpu);
}

const struct thread *sched_cpu_idle(unsigned cpu)
{
    return cpu < SMP_MAX_VCPUS && cpu_sched[cpu].idle == &cpu_idle[cpu] ? &cpu_idle[cpu] : NULL;
}

/* A thread that lives on vCPU `cpu` (its idle thread aside). */
static bool placed_on(const struct thread *t, unsigned cpu)
{
    return t->state != T_FREE && t->state != T_DEAD && t->cpu == cpu && !thread_is_idle(t);
}

unsigned sched_hand_off(unsigned from, unsigned to)
{
    unsigned moved = 0;
    for (unsigned i = 0; i < THREAD_MAX; i++) {
        struct thread *t = thread_slot(i);
        if (placed_on(t, from)) {
            place(t, to);
            moved++;
        }
    }
    return moved;
}

void sched_cpu_load(unsigned cpu, unsigned *threads, unsigned *queued)
{
    unsigned long flags = irq_save();
    *threads = *queued = 0;
    for (unsigned i = 0; i < THREAD_MAX; i++)
        *threads += placed_on(thread_slot(i), cpu);
    for (const struct thread *t = cpu < SCHED_CPUS ? cpu_sched[cpu].run_head : NULL; t;
         t = t->next_run)
        (*queued)++;
    irq_restore(flags);
}
#endif

/* ---- start of day ---------------------------------------------------------- */

int sched_init(void)
{
    main_thread.stack_top = (unsigned long)boot_stack_top; /* entry.S */
    main_thread.seen_events = evtchn_events_here();
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
    cpu_sched[0].idle = idle;
    printk("sched: main + idle threads, %u KiB stacks at %#lx with %u KiB guards and %u-byte "
           "canaries, up to %u threads\n", (unsigned)(THREAD_STACK_SIZE / 1024), MM_STACKS_VA,
           (unsigned)(STACK_GUARD_PAGES * PAGE_SIZE / 1024), STACK_CANARY_BYTES, THREAD_MAX);
    return 0;
}
