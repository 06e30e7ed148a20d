/*
 * sched.h — cooperative threads (interface manual: "Scheduling", "CPU
 * state": stack_switch, fpu_taskswitch). Implemented in kernel/sched.c (run
 * queue, switching), kernel/thread.c (this API), kernel/stack.c (stacks,
 * guards, canaries), kernel/arch/x86_32/switch.S, kernel/arch/x86_32/fpu.c,
 * kernel/xen/schedop.c. Boot runs as thread 0 ("main", the shell); an idle thread
 * per vCPU blocks it in Xen when no thread can run there. With several
 * vCPUs each has its own run queue (see sched.c for the placement and the
 * kernel lock).
 *
 * Threads switch only when they call thread_yield, thread_block,
 * thread_join, thread_exit, sleep_ms or wait_for_event; event handlers never
 * switch threads, they only make them runnable with thread_wake. The one
 * exception is a process's thread in ring 3, which is preempted on its way
 * back there (kernel/user/process.c, user_return_work). Every
 * thread must be joined, exactly once: that frees its stack and its slot.
 */
#ifndef XENOLITH_SCHED_H
#define XENOLITH_SCHED_H

#include "kernel.h"

#define THREAD_MAX 32 /* including main and idle */

struct thread;
/* Start of day (main.c, sched.c): main and idle threads, the lazy FPU. */
int sched_init(void);
/* Runnable at once (runs when the caller next yields or blocks); NULL when
 * out of thread slots or stack memory. */
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg);
struct thread *thread_current(void);
const char *thread_name(const struct thread *t);
void thread_yield(void);
/* Sleep until thread_wake. A wake that comes while the thread still runs is
 * remembered, so the next thread_block returns at once; callers re-check
 * their condition in a loop. */
void thread_block(void);
void thread_wake(struct thread *t);   /* any context, upcall included */
_Noreturn void thread_exit(void);
void thread_join(struct thread *t);   /* wait until t has exited, free it */
/* Another thread is waiting for this vCPU (events masked): preemption's test. */
bool sched_others_runnable(void);

#if XENOLITH_SMP
/* Several vCPUs (sched.c). A thread runs on one vCPU, the one whose run
 * queue it is on; a new thread starts on its creator's. thread_move puts
 * it on another online vCPU: at once if it waits in a run queue, at its
 * next switch if it runs, at its wake-up if it is blocked. 0, or
 * -XEN_EINVAL (that vCPU is not online, t is an idle thread or pinned). */
int thread_move(struct thread *t, unsigned cpu);
unsigned thread_vcpu(const struct thread *t);
/* t stays on vCPU 0 (moved there now): a process's thread, whose address
 * space follows vCPU 0's loaded page-table base (kernel/user/). */
void thread_pin(struct thread *t);
/* A secondary's first context becomes its idle thread (smp.c, events
 * masked, kernel lock held). */
void sched_cpu_enter(unsigned cpu);
/* Every thread of vCPU `from` to vCPU `to` (from's idle thread, going
 * down; events masked, kernel lock held); how many. */
unsigned sched_hand_off(unsigned from, unsigned to);
/* For `cpus`: threads placed on `cpu` (idle not counted), and how many of
 * them wait in its run queue. */
void sched_cpu_load(unsigned cpu, unsigned *threads, unsigned *queued);
#endif

/* Stacks (stack.c): every thread but main runs on a 16 KiB stack in mm.h's
 * stack area with unmapped guard pages below it. If va lies in a thread
 * slot's guard, returns that thread's name (or "(no thread)") and sets
 * [*guard, *guard_end) to the guard; otherwise NULL. Any context. */
const char *stack_guard_owner(unsigned long va, unsigned long *guard, unsigned long *guard_end);
/* [lowest, top) of a thread's stack in the stack area; 0, 0 for main. */
void thread_stack_bounds(const struct thread *t, unsigned long *lowest, unsigned long *top);
/* The lowest STACK_CANARY_BYTES of every stack (main's boot stack too) hold
 * a canary, checked at each switch away from its thread and by `threads`;
 * a thread that wrote there is reported as a stack overflow and the domain
 * crashes (stack.c). */
#define STACK_CANARY_BYTES 256u

/* The VCPU level (kernel/xen/schedop.c); failures are printed. */
void xen_sched_yield(void);          /* SCHEDOP_yield (never fails) */
void xen_sched_block(void);          /* SCHEDOP_block: unmasks events */
/* Block the VCPU until one of `ports` is pending (1) or system time reaches
 * deadline_ns (0), or Xen's error; other events are handled meanwhile. The
 * ports should be masked (evtchn_mask), or the upcall takes their events
 * before we see them; the caller clears their pending bits. */
int xen_poll_ports(evtchn_port_t *ports, unsigned nr_ports, uint64_t deadline_ns);

#endif
