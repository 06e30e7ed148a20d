/*
 * sched.h — cooperative threads (interface manual: "Scheduling", "CPU
 * state": stack_switch, fpu_taskswitch). Owner: kernel/sched.c,
 * kernel/arch/x86_32/switch.S, kernel/arch/x86_32/fpu.c (events & time).
 * Boot runs as thread 0 ("main", the shell); an idle thread blocks in Xen.
 */
#ifndef XENOLITH_SCHED_H
#define XENOLITH_SCHED_H

#include "kernel.h"

struct thread;
struct thread *thread_create(const char *name, void (*fn)(void *), void *arg);
struct thread *thread_current(void);
void thread_yield(void);
void thread_block(void);              /* until thread_wake */
void thread_wake(struct thread *t);
_Noreturn void thread_exit(void);
void thread_join(struct thread *t);   /* wait until t has exited, free it */

#endif
