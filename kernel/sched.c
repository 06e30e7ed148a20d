/*
 * sched.c — the scheduler (interface manual: "Scheduling", "CPU state"):
 * the run queue and the switch between cooperative threads on one VCPU.
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
 */
#include "events.h"
#include "mm.h"
#include "multicall.h"
#include "sched_priv.h"
#include "user.h"

struct thread main_thread = {.name = "main", .state = T_RUNNING};
struct thread *current_thread = &main_thread;
struct thread *idle_thread;
unsigned long total_switches;
static struct thread *run_head, *run_tail;
static struct thread *switched_from; /* by the last switch: checked by the one it ran */

/* entry.S: the stack boot (thread "main") runs on. */
extern char boot_stack[], boot_stack_top[];
/* switch.S */
extern void switch_stacks(unsigned long *save_esp, unsigned long new_esp);

/* ---- run queue (events masked) ------------------------------------------ */

void runq_push(struct thread *t)
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

bool sched_others_runnable(void)
{
    return run_head != NULL;
}

/* ---- switching ------------------------------------------------------------ */

/* Right after a switch, in the thread switched to (on its own stack: the
 * one that just ran may have almost none left). Events masked. */
static void check_switched_from(void)
{
    if (switched_from)
        stack_check(switched_from);
}

static void context_switch(struct thread *prev, struct thread *next)
{
    struct multicall mc;
    multicall_init(&mc);
    struct multicall_entry *e = multicall_add(&mc, __HYPERVISOR_stack_switch);
    e->args[0] = FLAT_KERNEL_SS;
    e->args[1] = next->stack_top;
    user_switch_prepare(&mc, next);
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
    check_switched_from();
}

/* Pick the next thread and switch to it. Events masked. */
void schedule(void)
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
void thread_start(void)
{
    struct thread *self = current_thread;
    check_switched_from();
    irq_enable(); /* schedule() switched to us with events masked */
    self->fn(self->arg);
    thread_exit();
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

