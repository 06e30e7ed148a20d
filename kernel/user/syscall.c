/*
 * syscall.c — the system calls of user_abi.h (interface manual:
 * "Exceptions": the trap-table entry with DPL 3 that ring3.S installs as
 * the gate). syscall_dispatch gets the frame the gate built: the call
 * number in eax, arguments in ebx, ecx, edx; the result goes back in eax.
 *
 * Nothing a program passes is trusted: an unknown number is -USER_ENOSYS,
 * a buffer is copied out of the process's own pages through the kernel's
 * mapping of them (addrspace_copy_from), so a pointer to the kernel's half,
 * to an unmapped page or running off the end of one is -USER_EFAULT and
 * never a fault in the kernel; sizes past the limits are -USER_EINVAL.
 */
#include "addrspace.h"
#include "console.h"
#include "events.h"
#include "process_priv.h"
#include "sched.h"
#include "time.h"
#include "traps.h"
#include "wait.h"

typedef long (*syscall_fn)(struct process *p, uint32_t a, uint32_t b, uint32_t c);

static long do_exit(struct process *p, uint32_t status, uint32_t b, uint32_t c)
{
    char text[PROCESS_END_TEXT_LEN];

    snprintf(text, sizeof(text), "exited with status %d", (int)status);
    process_end(p, END_EXIT, (int)status, text);
}

static long do_write(struct process *p, uint32_t buf, uint32_t len, uint32_t c)
{
    char copy[USER_WRITE_MAX]; /* on the thread's stack: console_write may yield */

    if (len > USER_WRITE_MAX)
        return -USER_EINVAL;
    if (!addrspace_copy_from(p->as, copy, buf, len))
        return -USER_EFAULT;
    console_write(copy, len);
    p->info.bytes_written += len;
    return (long)len;
}

static long do_yield(struct process *p, uint32_t a, uint32_t b, uint32_t c)
{
    thread_yield();
    return 0;
}

static bool kill_requested(void *arg)
{
    return ((struct process *)arg)->kill_requested;
}

static long do_sleep(struct process *p, uint32_t ms, uint32_t b, uint32_t c)
{
    if (ms > USER_SLEEP_MAX_MS)
        return -USER_EINVAL;
    (void)wait_until(kill_requested, p, deadline_ms(ms)); /* `kill` ends it early */
    return 0;
}

static long do_getpid(struct process *p, uint32_t a, uint32_t b, uint32_t c)
{
    return (long)p->info.pid;
}

static const syscall_fn calls[SYS_NR] = {
    [SYS_exit] = do_exit,   [SYS_write] = do_write,   [SYS_yield] = do_yield,
    [SYS_sleep] = do_sleep, [SYS_getpid] = do_getpid,
};

void syscall_dispatch(struct trap_frame *f)
{
    kernel_lock(); /* ring 3 runs without it (process.c, user_return_work) */
    struct process *p = process_current();
    uint32_t nr = f->eax;

    if (!trap_from_user(f) || !p)
        panic("system call from ring 1 (thread %s)", thread_name(thread_current()));
    irq_enable(); /* the gate masked events until the kernel's segments were in */
    if (nr < SYS_NR && calls[nr]) {
        p->info.syscalls[nr]++;
        f->eax = (uint32_t)calls[nr](p, f->ebx, f->ecx, f->edx);
    } else {
        p->info.bad_syscalls++;
        f->eax = (uint32_t)-USER_ENOSYS;
    }
    (void)irq_save(); /* user_return_work and the way out want them masked */
}
