/*
 * user.h — ring-3 processes (interface manual: "CPU state": a PV kernel runs
 * in ring 1 and its applications in ring 3; "Exceptions": the trap table;
 * "Memory": each process its own page tables). The ABI programs see is
 * user_abi.h. Implemented in kernel/user/ (process.c: processes, their
 * end, preemption on the way back to ring 3; syscall.c: the calls;
 * run_cmd.c: `run`, `ps`, `kill`; programs.S: the built-in programs) and
 * kernel/arch/x86_32/user/ (addrspace.c: the page tables of a process;
 * ring3.S: the system-call gate and the way into ring 3).
 *
 * A process is one kernel thread with an address space: the thread enters
 * ring 3 at the program's first byte, and comes back to ring 1 on a system
 * call, a trap or an event, each time on its own kernel stack (the stack
 * Xen is told with stack_switch at every switch). It ends by SYS_exit, by a
 * trap in ring 3 (printed: "process N (NAME) killed: ..."), or by `kill`.
 * A reaper thread frees what it used; the kernel never crashes for a
 * program's fault.
 */
#ifndef XENOLITH_USER_H
#define XENOLITH_USER_H

#include "kernel.h"
#include "user_abi.h"

#define PROCESS_MAX 8
#define USER_SLICE_MS 10 /* the longest a program keeps the CPU from waiting threads */
#define PROCESS_NAME_LEN 16

/* A program built into the image (programs.S). */
struct user_program {
    const char *name;
    const uint8_t *image, *image_end;
    const char *help;
};
const struct user_program *user_program_find(const char *name);
unsigned user_program_count(void);
const struct user_program *user_program_at(unsigned i);

/* P_ENDED: its line printed, not yet reaped; a reaped slot is P_FREE again
 * but keeps the record (pid, how it ended) until it is taken. */
enum process_state { P_FREE, P_RUNNING, P_ENDED };
/* How a process ended. */
enum process_end { END_NONE, END_EXIT, END_TRAP, END_KILLED, END_SETUP };

struct process_info {
    unsigned pid;
    char name[PROCESS_NAME_LEN];
    enum process_state state;
    enum process_end end;
    int status;                         /* SYS_exit's argument */
    unsigned trap;                      /* END_TRAP: the vector */
    unsigned long syscalls[SYS_NR];     /* calls made, by number */
    unsigned long bad_syscalls;         /* calls with an unknown number */
    unsigned long preemptions;          /* times the timer took the CPU in ring 3 */
    unsigned long bytes_written;
    unsigned long l3_pfn;               /* its page-table base */
};

/* Start a program as a new process; its pid (>= 1), or -errno (printed).
 * The process runs when the caller next yields or blocks. */
int process_spawn(const char *program);
/* Wait until process `pid` has ended and been reaped, or timeout_ms passed
 * (WAIT_FOREVER-like: 0 = do not wait); fills *info with its last state.
 * 0 when it ended, -XEN_ETIMEDOUT when still running, -XEN_ESRCH when
 * there is no such process. */
int process_wait(unsigned pid, unsigned long timeout_ms, struct process_info *info);
/* Ask a process to end (it does on its next way back to ring 3, or at once
 * if it sleeps). 0, or -XEN_ESRCH. */
int process_kill(unsigned pid);
/* The live processes, for `ps` and tests: fills up to max entries. */
unsigned process_list(struct process_info *out, unsigned max);
/* The line that says how a process ended ("exited with status 0",
 * "killed: page fault at ..."). */
const char *process_end_text(unsigned pid);
/* Expiries of the slice timer that preempts programs. */
unsigned long user_slices(void);

/* For the switch (sched.c): MMUEXT_NEW_BASEPTR into its multicall when
 * `next` runs on another page-table base than the one loaded (a process's
 * thread on its own L3, any other thread on the kernel's). A kernel built
 * without user mode (make tiny) runs no process: its base never changes. */
struct multicall;
struct thread;
#if XENOLITH_USER
void user_switch_prepare(struct multicall *mc, const struct thread *next);
#else
static inline void user_switch_prepare(struct multicall *mc, const struct thread *next)
{
    (void)mc;
    (void)next;
}
#endif

/* For the arch code (traps.c, ring3.S, upcall.S). */
struct trap_frame;
/* A trap taken in ring 3: ends the current process with a line saying why. */
_Noreturn void process_trap(const struct trap_frame *f);
/* The system-call gate's C half: dispatch on f->eax, result in f->eax. */
void syscall_dispatch(struct trap_frame *f);
/* On every way back to ring 3: mask events, end the process if it was
 * killed, let other threads run if its time slice is over and any want the
 * CPU (preemption), and keep the slice timer running. Returns with events
 * masked (Xen's iret unmasks them). */
void user_return_work(void);

#endif
