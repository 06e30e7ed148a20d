/*
 * sched_priv.h — what the scheduler's files share (interface manual:
 * "Scheduling", "CPU state"): the thread structure, the thread pool and the
 * run queue. Private to kernel/{sched,stack,thread,thread_cmd}.c; everyone
 * else uses sched.h.
 */
#ifndef XENOLITH_SCHED_PRIV_H
#define XENOLITH_SCHED_PRIV_H

#include "kernel.h"
#include "fpu.h"
#include "mm.h"
#include "sched.h"

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
/* Stack marks (stack.c): the canary in the lowest
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
extern const char *const thread_state_names[]; /* indexed by enum thread_state */

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
    unsigned long seen_events;      /* evtchn_events_here() at last wait_for_event */
#if XENOLITH_SMP
    unsigned cpu;                   /* the vCPU whose run queue it is on (sched.c) */
    bool pinned;                    /* stays on vCPU 0 (a process: thread_pin) */
#endif
};

/* The boot thread exists from the first instruction; the others come from a
 * pool (in .bss: only main's few hundred bytes are initialised data). */
extern struct thread main_thread;
extern struct thread thread_pool[THREAD_MAX - 1];
extern unsigned long total_switches;
/* Slot i (0 .. THREAD_MAX - 1) of the threads: main, then the pool's. */
static inline struct thread *thread_slot(unsigned i)
{
    return i == 0 ? &main_thread : &thread_pool[i - 1];
}

/* sched.c: the run queues and switching. Events masked (and the kernel
 * lock held). */
void runq_push(struct thread *t);
void schedule(void);
bool thread_is_idle(const struct thread *t);
/* The vCPU a thread runs on (0 without several). */
static inline unsigned thread_cpu(const struct thread *t)
{
#if XENOLITH_SMP
    return t->cpu;
#else
    (void)t;
    return 0;
#endif
}
#if XENOLITH_SMP
/* A secondary's idle thread (its boot stack: no canary, not in the pool),
 * NULL if that vCPU never ran; for `threads`. */
const struct thread *sched_cpu_idle(unsigned cpu);
#endif

/* thread.c: a pool slot with its stack, not yet runnable (sched_init makes
 * idle from it too); NULL when out of slots or memory. */
struct thread *thread_alloc(const char *name, void (*fn)(void *), void *arg);

/* stack.c: each pool slot's stack, its guard and its marks. */
unsigned long stack_base_va(unsigned slot);
int stack_map(unsigned slot, void *pages);
void stack_unmap(unsigned slot);
void stack_mark(struct thread *t, unsigned long lowest);
/* The lowest word of t's first `bytes` that lost its mark, or 0. */
unsigned long stack_first_touched(const struct thread *t, unsigned long bytes);
void stack_check(const struct thread *t); /* fatal if the canary is damaged */

/* sched.c: the first code of every new thread (thread_alloc's stack
 * "returns" there). */
void thread_start(void);

#endif
