/*
 * suspend.h — suspend and resume (Xen 4.17 public/sched.h SCHEDOP_shutdown
 * with SHUTDOWN_suspend; public/arch-x86/xen.h arch_shared_info;
 * public/xen.h start_info), as `xl save`, `xl restore`, `xl migrate` and
 * `xl save -c` drive them. kernel/xen/suspend.c runs the steps in order;
 * each part of the kernel provides its own step below.
 *
 * A resume is either in a new domain (restore, migration: new domain id,
 * new event channels, a new grant table and shared_info frame, new machine
 * frames behind every pfn) or in the same domain (a checkpoint, or a
 * suspend the toolstack cancelled): then everything still stands.
 */
#ifndef XENOLITH_SUSPEND_H
#define XENOLITH_SUSPEND_H

#include "kernel.h"

/* Start of day (main.c), late: suspend_init publishes the p2m for the
 * toolstack; control_init starts the thread answering control/ (control.c). */
int suspend_init(void);
int control_init(void);

/* The whole suspend, from a thread: 0 after a resume, or an error (the
 * suspend was not attempted, or Xen refused it). */
int kernel_suspend(void);

/* Devices register their own steps (the drivers are not in every build).
 * suspend: no I/O in flight and none started until resume (held, e.g. by a
 * lock the device keeps), 0 or an error that cancels the suspend; resume:
 * in a new domain reconnect to the new backends (I/O held meanwhile goes on
 * then, or fails with an error: nothing is lost silently), in the same
 * domain carry on. Both run in a thread with events on. */
struct suspend_hooks {
    const char *name;
    int (*suspend)(void);
    void (*resume)(bool new_domain);
};
#define SUSPEND_MAX_HOOKS 8
void suspend_register(const struct suspend_hooks *hooks);

/* The parts' steps. *_suspend: stop and make the state saveable; *_resume:
 * carry on, `new_domain` saying which kind of resume it is. */
int arch_shared_info_unmap(void);        /* setup.c: the page back to its own frame */
int arch_shared_info_map(void);          /* ... and to start_info->shared_info again */
int p2m_publish(void);                   /* p2m.c: frame lists for the toolstack */
int xs_suspend(void);                    /* xenstore.c: no request in flight */
void xs_resume(bool new_domain);         /* the ring's new event channel (events masked) */
void xs_watches_resume(void);            /* xenstore_watch.c: every watch again (events on) */
void gnttab_suspend(void);               /* grant_table.c: unmap Xen's frames */
int gnttab_resume(bool new_domain);      /* map them again (a new, empty table) */
void evtchn_resume(bool new_domain);     /* evtchn.c: VIRQs bound again */
void timer_resume(void);                 /* timer.c: periodic tick off, Xen's timer re-armed */
void console_resume(bool new_domain);    /* console.c: the ring's new event channel */
void control_resume(void);               /* control.c: features advertised again */
void xs_domid_forget(void);              /* xenstore_ops.c: the domain id changed */

#endif
