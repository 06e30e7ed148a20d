/*
 * process_priv.h — what kernel/user/'s files share: the process table.
 * Everyone else uses user.h.
 */
#ifndef XENOLITH_PROCESS_PRIV_H
#define XENOLITH_PROCESS_PRIV_H

#include "user.h"

struct addrspace;
struct thread;

#define PROCESS_END_TEXT_LEN 128

struct process {
    struct process_info info;
    struct thread *thread;
    struct addrspace *as;
    struct thread *waiter;       /* process_wait's caller, woken once reaped */
    bool kill_requested;
    bool reaped;                 /* its thread joined, its memory freed */
    char end_text[PROCESS_END_TEXT_LEN];
};

/* The process the current thread runs (NULL in a kernel thread). */
struct process *process_current(void);
struct process *process_by_pid(unsigned pid); /* live or last ended; NULL */
/* End the current process: say why (printed as "process N (NAME) TEXT"),
 * hand it to the reaper, never return. */
_Noreturn void process_end(struct process *p, enum process_end how, int status, const char *text);

#endif
