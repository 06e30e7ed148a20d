/*
 * thread.c — the thread API of sched.h (interface manual: "Scheduling"):
 * create, yield, block and wake, exit and join, over the pool of slots the
 * scheduler (sched.c) switches between. Every thread but main gets a stack
 * of its own in its slot (stack.c).
 */
#include "events.h"
#include "mm.h"
#include "sched_priv.h"

const char *const thread_state_names[] = {"free", "runnable", "running", "blocked", "dead"};
struct thread thread_pool[THREAD_MAX - 1];

const char *thread_name(const struct thread *t)
{
    return t->name;
}

struct thread *thread_alloc(const char *name, void (*fn)(void *), void *arg)
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
    t->seen_events = evtchn_events_here();
#if XENOLITH_SMP
    t->cpu = thread_cpu(thread_current()); /* its creator's vCPU */
    t->pinned = false;
#endif
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
    struct thread *self = thread_current();
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
    struct thread *self = thread_current();
    if (self == &main_thread || thread_is_idle(self))
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
    if (t == thread_current() || t == &main_thread || thread_is_idle(t) || t->state == T_FREE)
        panic("thread_join: cannot join %s (%s)", t->name, thread_state_names[t->state]);
    unsigned long flags = irq_save();
    while (t->state != T_DEAD) {
        t->joiner = thread_current();
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

