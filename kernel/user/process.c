/*
 * process.c — ring-3 processes (interface manual: "CPU state",
 * "Exceptions", "Scheduling"): the table, a process's life, its end, and
 * preemption on the way back to ring 3. See user.h.
 *
 * Life: process_spawn builds the address space (addrspace.c) and creates a
 * thread for it; the switch to that thread loads its L3 with
 * MMUEXT_NEW_BASEPTR (user_switch_prepare), and stack_switch names the
 * thread's own kernel stack for everything ring 3 raises. The
 * thread masks events and enters ring 3 at the image's first byte
 * (ring3_enter). From then on it is in the kernel only on its way through:
 * a system call (syscall.c), a trap, an event.
 *
 * End: SYS_exit, a trap in ring 3 (process_trap, from traps.c: the kernel
 * never dies of a program's fault) or `kill` (taken on the next way back
 * to ring 3, or at once from SYS_sleep). The thread prints one line,
 * "process N (NAME) exited with status S" or "... killed: WHY", and exits;
 * the reaper thread joins it (its kernel stack), destroys the address space
 * (on the kernel's own base: the reaper is a kernel thread) and wakes
 * whoever waits in process_wait.
 *
 * Preemption: kernel threads are cooperative, a program is not. The slice
 * timer (USER_SLICE_MS, armed whenever a process goes back to ring 3 and
 * it is not) marks the slice over; its event brings a computing program
 * into the kernel, and each way back to ring 3 runs user_return_work with
 * events masked: when the slice is over and another thread waits for the
 * CPU, the process yields once, there and then. So a program that never
 * makes a system call (`run spin`) leaves the shell answering within a
 * slice. Only at the end of a slice: yielding on every way back would let
 * two programs that each take a #NM for their first FPU instruction
 * (fpu.c) hand the FPU, and the CPU, to each other forever, neither
 * getting past that instruction.
 *
 * Several vCPUs: a process runs on vCPU 0 only (thread_pin: its L3 is
 * loaded there), and in ring 3 without the kernel lock (smp.h):
 * user_return_work lets it go on the way out, and every way in takes it
 * back (the system-call gate, syscall.c; a trap, traps.c; an upcall,
 * evtchn.c, then user_return_work), so that threads on the other vCPUs run
 * while a program computes.
 */
#include "addrspace.h"
#include "events.h"
#include "mm.h"
#include "process_priv.h"
#include "sched.h"
#include "time.h"
#include "traps.h"
#include "wait.h"

extern const struct user_program user_programs[], user_programs_end[]; /* programs.S */
/* user/ring3.S: the first entry, events masked; does not return. */
extern _Noreturn void ring3_enter(unsigned long eip, unsigned long esp);

static struct process procs[PROCESS_MAX];
static unsigned next_pid = 1;
static struct thread *reaper;
static unsigned long slices; /* slice timer expiries */
static volatile bool slice_over; /* set by the slice timer, taken by user_return_work */
static void slice_expired(struct timer *t);
static struct timer slice_timer = {.fn = slice_expired};

unsigned user_program_count(void)
{
    return (unsigned)(user_programs_end - user_programs);
}

const struct user_program *user_program_at(unsigned i)
{
    return i < user_program_count() ? &user_programs[i] : NULL;
}

const struct user_program *user_program_find(const char *name)
{
    for (unsigned i = 0; i < user_program_count(); i++)
        if (strcmp(user_programs[i].name, name) == 0)
            return &user_programs[i];
    return NULL;
}

/* The process thread t runs, or NULL (a kernel thread). */
static struct process *process_of(const struct thread *t)
{
    for (unsigned i = 0; i < PROCESS_MAX; i++)
        if (procs[i].thread == t)
            return &procs[i];
    return NULL;
}

struct process *process_current(void)
{
    return process_of(thread_current());
}

void user_switch_prepare(struct multicall *mc, const struct thread *next)
{
    const struct process *p = process_of(next);

    pt_switch_prepare(mc, p ? addrspace_base(p->as) : 0);
}

struct process *process_by_pid(unsigned pid)
{
    for (unsigned i = 0; i < PROCESS_MAX; i++)
        if (procs[i].info.pid == pid && pid)
            return &procs[i];
    return NULL;
}

/* ---- the reaper ------------------------------------------------------------ */

static bool any_ended(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < PROCESS_MAX; i++)
        if (procs[i].info.state == P_ENDED && !procs[i].reaped)
            return true;
    return false;
}

static void reap(void *arg)
{
    (void)arg;
    for (;;) {
        (void)wait_until(any_ended, NULL, WAIT_FOREVER);
        for (unsigned i = 0; i < PROCESS_MAX; i++) {
            struct process *p = &procs[i];
            if (p->info.state != P_ENDED || p->reaped)
                continue;
            thread_join(p->thread);
            p->thread = NULL;
            addrspace_destroy(p->as);
            p->as = NULL;
            p->reaped = true;
            p->info.state = P_FREE; /* the record stays until the slot is taken */
            if (p->waiter)
                thread_wake(p->waiter);
        }
    }
}

/* ---- life -------------------------------------------------------------------- */

static void process_main(void *arg)
{
    (void)arg;
    (void)irq_save(); /* ring3_enter wants events masked; Xen's iret unmasks */
    user_return_work();
    ring3_enter(USER_IMAGE_VA, USER_STACK_TOP);
}

int process_spawn(const char *program)
{
    const struct user_program *prog = user_program_find(program);
    struct process *p = NULL;

    if (!prog) {
        printk("run: no program named '%s' (run alone lists them)\n", program);
        return -XEN_ENOENT;
    }
    for (unsigned i = 0; i < PROCESS_MAX && !p; i++)
        if (procs[i].info.state == P_FREE)
            p = &procs[i];
    if (!p) {
        printk("run: all %u process slots in use\n", PROCESS_MAX);
        return -XEN_EAGAIN;
    }
    if (!reaper && !(reaper = thread_create("reaper", reap, NULL)))
        return -XEN_ENOMEM;
    struct addrspace *as = addrspace_create(prog->image, (size_t)(prog->image_end - prog->image));
    if (!as)
        return -XEN_ENOMEM;
    struct thread *t = thread_create(prog->name, process_main, p);
    if (!t) {
        addrspace_destroy(as);
        return -XEN_ENOMEM;
    }
#if XENOLITH_SMP
    thread_pin(t); /* its page tables follow vCPU 0's loaded base */
#endif
    memset(p, 0, sizeof(*p));
    p->info.pid = next_pid++;
    strlcpy(p->info.name, prog->name, sizeof(p->info.name));
    p->info.state = P_RUNNING;
    p->info.l3_pfn = addrspace_base(as);
    p->as = as;
    p->thread = t; /* before it first runs: the switch to it finds its L3 here */
    return (int)p->info.pid;
}

_Noreturn void process_end(struct process *p, enum process_end how, int status, const char *text)
{
    p->info.end = how;
    p->info.status = status;
    strlcpy(p->end_text, text, sizeof(p->end_text));
    printk("process %u (%s) %s\n", p->info.pid, p->info.name, p->end_text);
    (void)irq_save();
    p->info.state = P_ENDED;
    thread_wake(reaper);
    thread_exit();
}

_Noreturn void process_trap(const struct trap_frame *f)
{
    struct process *p = process_current();
    char text[PROCESS_END_TEXT_LEN];

    if (!p)
        panic("trap from ring 3 in kernel thread %s", thread_name(thread_current()));
    if (f->vector == TRAP_PF)
        snprintf(text, sizeof(text), "killed: page fault at 0x%08lx " PF_CAUSE_FMT ", eip 0x%08x",
                 trap_read_cr2(), PF_CAUSE_ARGS(f->error_code), f->eip);
    else
        snprintf(text, sizeof(text), "killed: %s (vector %u) error 0x%x, eip 0x%08x",
                 trap_name(f->vector), f->vector, f->error_code, f->eip);
    p->info.trap = f->vector;
    process_end(p, END_TRAP, 0, text);
}

static void slice_expired(struct timer *t) /* upcall context */
{
    (void)t;
    slices++;
    slice_over = true; /* the upcall it rides in on takes it to user_return_work */
}

void user_return_work(void)
{
    struct process *p = process_current();

    /* Masked from here to Xen's iret (ring3.h): the upcall and the gate come
     * masked, a trap handled in ring 3 (#NM) does not. */
    (void)irq_save();
    if (!kernel_lock_held())
        kernel_lock(); /* after an upcall from ring 3 (the upcall let it go) */
    if (p->kill_requested)
        process_end(p, END_KILLED, 0, "killed: by kill");
    if (slice_over) {
        slice_over = false;
        if (sched_others_runnable()) {
            p->info.preemptions++;
            thread_yield(); /* masked before, masked after */
            if (p->kill_requested)
                process_end(p, END_KILLED, 0, "killed: by kill");
        }
    }
    if (!slice_timer.armed)
        timer_arm(&slice_timer, deadline_ms(USER_SLICE_MS));
    kernel_unlock(); /* ring 3 needs no kernel: other vCPUs may run it meanwhile */
}

/* ---- waiting, killing, listing -------------------------------------------- */

int process_kill(unsigned pid)
{
    struct process *p = process_by_pid(pid);

    if (!p || p->info.state != P_RUNNING)
        return -XEN_ESRCH;
    p->kill_requested = true;
    thread_wake(p->thread); /* out of SYS_sleep */
    return 0;
}

static bool reaped(void *arg)
{
    return ((struct process *)arg)->reaped;
}

int process_wait(unsigned pid, unsigned long timeout_ms, struct process_info *info)
{
    struct process *p = process_by_pid(pid);

    if (!p)
        return -XEN_ESRCH;
    p->waiter = thread_current();
    int rc = wait_until(reaped, p, deadline_ms(timeout_ms));
    p->waiter = NULL;
    if (info)
        *info = p->info;
    return rc;
}

unsigned process_list(struct process_info *out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < PROCESS_MAX && n < max; i++)
        if (procs[i].info.state == P_RUNNING || (procs[i].info.state == P_ENDED && !procs[i].reaped))
            out[n++] = procs[i].info;
    return n;
}

const char *process_end_text(unsigned pid)
{
    struct process *p = process_by_pid(pid);
    return p ? p->end_text : "";
}

unsigned long user_slices(void)
{
    return slices;
}
