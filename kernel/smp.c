/*
 * smp.c — several vCPUs (interface manual: "Virtual CPUs"; public/vcpu.h,
 * public/event_channel.h EVTCHNOP_bind_ipi; docs/misc/xenstore-paths
 * cpu/N/availability for hot-plug). See smp.h for the shape: threads on
 * every vCPU under one kernel lock, an idle thread per vCPU.
 *
 * The kernel lock: a ticket lock (FIFO, so a vCPU that lets it go at a
 * thread switch really hands it to the one waiting longest; with a
 * test-and-set lock the releasing vCPU would take it straight back, the
 * lab running every vCPU on one physical CPU) with the holder's number, so
 * that the upcall can tell whether the code it interrupted holds it. It is
 * taken with events masked: an upcall that wanted it while this vCPU spins
 * for it would wait behind its own ticket. The spin is `pause`, and
 * SCHEDOP_yield every SPIN_BEFORE_YIELD spins (the holder may be a vCPU
 * Xen has descheduled). Until a second vCPU runs it is no lock at all;
 * vCPU 0 takes it just before the first secondary starts.
 *
 * Messages between vCPUs are words in the target's struct vcpu plus one
 * event on its IPI port (EVTCHNOP_bind_ipi: the port's events go to that
 * vCPU, and any vCPU may send on it); the IPI handler needs no lock:
 *   - a wake-up: a thread of that vCPU became runnable (smp_kick); the
 *     event alone ends its idle thread's SCHEDOP_block;
 *   - a remote call: fn/arg, the caller's vCPU and call_seq; the target's
 *     idle thread runs it, sets done_seq and sends an IPI back;
 *   - a ping: the sender's bit or-ed into ping_from; the target's IPI
 *     handler answers with an IPI back, the bit in the sender's pong_from;
 *   - going down: state LEAVING; the idle thread hands every thread of its
 *     vCPU to vCPU 0 (sched_hand_off), sets DOWN, tells vCPU 0, lets the
 *     kernel lock go and calls VCPUOP_down on itself (a vCPU may stop only
 *     itself cleanly: from elsewhere Xen would stop it wherever it is).
 *     VCPUOP_up later makes that hypercall return, and the loop goes on.
 * A vCPU is initialised once (VCPUOP_initialise; Xen refuses a second one
 * with -EEXIST while the context is live); every later start is VCPUOP_up.
 * Waiting: wait_for_event, on any vCPU and in any thread, idle included
 * (the IPI back is an event of the waiting vCPU's).
 *
 * vCPU 0 also has a second IPI port, the timer kick: a vCPU going down
 * hands its timers (timer.c: one queue per vCPU) to vCPU 0, whose one-shot
 * timer only vCPU 0 can arm, so it asks vCPU 0 to. Its handler runs with
 * the kernel lock (it reads the queue).
 */
#include "kernel.h"
#include "events.h"
#include "sched.h"
#include "shell.h"
#include "smp.h"
#include "suspend.h"
#include "time.h"
#include "wait.h"
#include "xenstore.h"
#include "arch/x86_32/gdt.h"

/* Spins of spin_lock between SCHEDOP_yields: the holder may be descheduled. */
#define SPIN_BEFORE_YIELD 1024u
#define BRINGUP_TIMEOUT_NS (5ULL * NSEC_PER_SEC)

struct vcpu {
    struct percpu pc; /* %fs of this vCPU: self, cpu, magic */
    uint32_t state;   /* enum smp_state */
    bool initialised;
    bool changing;    /* a thread is taking it up or down */
    evtchn_port_t ipi_port, timer_port, kick_port; /* kick_port: vCPU 0 only */
    uint32_t ping_from, pong_from;        /* bit per vCPU: see above */
    unsigned long pongs[SMP_MAX_VCPUS];   /* answers received, by answering vCPU */
    void (*fn)(void *);
    void *arg;
    unsigned caller; /* the vCPU to tell when the call is done */
    uint32_t call_seq, done_seq;
    unsigned long ipis, timer_events, calls;
    uint64_t busy_ns;
};

static struct vcpu vcpus[SMP_MAX_VCPUS];
static unsigned nr_vcpus = 1;
bool smp_started;
static bool suspended; /* from the suspend hook to the end of the resume hook */

static const char *const state_names[] = {
    [VCPU_ABSENT] = "absent", [VCPU_OFFLINE] = "offline", [VCPU_ONLINE] = "online",
    [VCPU_LEAVING] = "leaving", [VCPU_DOWN] = "down",
};

const char *smp_state_name(enum smp_state s)
{
    return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

unsigned smp_cpu_of_fs(void)
{
    struct percpu *p = this_percpu();
    return p ? p->cpu : 0;
}

/* ---- the kernel lock (see the top of this file) ------------------------------ */

static struct {
    uint32_t next;    /* the next ticket to hand out */
    uint32_t serving; /* the ticket that holds the lock */
    uint32_t owner;   /* the holder's vCPU + 1; 0 when free */
} klock;

void kernel_lock(void)
{
    if (!smp_several())
        return;
    unsigned long flags = irq_save();
    uint32_t ticket = __atomic_fetch_add(&klock.next, 1, __ATOMIC_ACQUIRE);
    for (unsigned spins = 0; READ_ONCE(klock.serving) != ticket;) {
        __builtin_ia32_pause();
        if (++spins % SPIN_BEFORE_YIELD == 0)
            xen_sched_yield();
    }
    xen_mb(); /* nothing of the critical section before the acquire */
    WRITE_ONCE(klock.owner, smp_cpu() + 1);
    irq_restore(flags);
}

void kernel_unlock(void)
{
    if (!smp_several())
        return;
    /* Masked: an upcall between the two stores would find the lock not
     * ours and wait for a ticket only we can move on. */
    unsigned long flags = irq_save();
    WRITE_ONCE(klock.owner, 0);
    xen_mb(); /* the critical section's stores before the release */
    __atomic_store_n(&klock.serving, klock.serving + 1, __ATOMIC_RELEASE);
    irq_restore(flags);
}

bool kernel_lock_held(void)
{
    return !smp_several() || READ_ONCE(klock.owner) == smp_cpu() + 1;
}

bool kernel_lock_wanted(void)
{
    return smp_several() && READ_ONCE(klock.next) - READ_ONCE(klock.serving) > 1;
}

/* vCPU 0, in a thread, before the first secondary runs: from now on the
 * lock is real, and this vCPU holds it (ticket 0). */
static void kernel_lock_start(void)
{
    klock.next = 1;
    klock.serving = 0;
    klock.owner = 1;
    xen_mb();
}

unsigned smp_nr_vcpus(void)
{
    return nr_vcpus;
}

unsigned smp_nr_online(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < nr_vcpus; i++)
        n += READ_ONCE(vcpus[i].state) == VCPU_ONLINE;
    return n;
}

enum smp_state smp_state(unsigned cpu)
{
    return cpu < nr_vcpus ? (enum smp_state)READ_ONCE(vcpus[cpu].state) : VCPU_ABSENT;
}

void spin_lock(struct spinlock *l)
{
    for (unsigned spins = 0; __atomic_exchange_n(&l->held, 1, __ATOMIC_ACQUIRE);) {
        while (READ_ONCE(l->held)) {
            __builtin_ia32_pause();
            if (++spins % SPIN_BEFORE_YIELD == 0)
                xen_sched_yield();
        }
    }
    xen_mb(); /* nothing of the critical section before the acquire */
}

void smp_counters(unsigned cpu, struct smp_counters *out)
{
    const struct vcpu *c = &vcpus[cpu < SMP_MAX_VCPUS ? cpu : 0];
    *out = (struct smp_counters){READ_ONCE(c->ipis), READ_ONCE(c->timer_events),
                                 READ_ONCE(c->calls), c->ipi_port, c->timer_port,
                                 READ_ONCE(c->busy_ns)};
}

static void send_ipi(unsigned cpu)
{
    (void)evtchn_send(vcpus[cpu].ipi_port);
}

void smp_kick(unsigned cpu)
{
    if (cpu < nr_vcpus && smp_state(cpu) != VCPU_ABSENT)
        send_ipi(cpu);
}

void timer_kick(void)
{
    if (smp_several() && vcpus[0].kick_port)
        (void)evtchn_send(vcpus[0].kick_port);
}

/* Until *word differs from old (the change comes with an IPI to us). */
static void wait_change(const unsigned long *word, unsigned long old)
{
    while (READ_ONCE(*word) == old)
        wait_for_event();
}

/* ---- handlers: IPIs and the per-vCPU timer ------------------------------- */

static void ipi_handler(evtchn_port_t port, void *data)
{
    struct vcpu *self = data;
    unsigned me = self->pc.cpu;

    self->ipis++;
    uint32_t pings = __atomic_exchange_n(&self->ping_from, 0, __ATOMIC_SEQ_CST);
    while (pings) {
        unsigned from = (unsigned)__builtin_ctz(pings);
        pings &= pings - 1;
        __atomic_fetch_or(&vcpus[from].pong_from, 1u << me, __ATOMIC_SEQ_CST);
        send_ipi(from);
    }
    uint32_t pongs = __atomic_exchange_n(&self->pong_from, 0, __ATOMIC_SEQ_CST);
    while (pongs) {
        unsigned from = (unsigned)__builtin_ctz(pongs);
        pongs &= pongs - 1;
        WRITE_ONCE(self->pongs[from], self->pongs[from] + 1);
    }
}

/* A secondary's VIRQ_TIMER: its timer queue (timer.c), with the kernel lock. */
static void timer_handler(evtchn_port_t port, void *data)
{
    struct vcpu *self = data;
    WRITE_ONCE(self->timer_events, self->timer_events + 1);
    timer_virq(port, NULL);
}

/* vCPU 0's timer kick: with the kernel lock (the upcall took it). */
static void kick_handler(evtchn_port_t port, void *data)
{
    timer_rearm();
}

unsigned long smp_timer_wait(uint64_t deadline)
{
    (void)wait_until(NULL, NULL, deadline); /* a timer on this vCPU's queue */
    return READ_ONCE(vcpus[smp_cpu()].timer_events);
}

uint64_t smp_ping(unsigned to)
{
    unsigned me = smp_cpu();
    struct vcpu *self = &vcpus[me];

    if (to == me || smp_state(to) != VCPU_ONLINE)
        return 0;
    unsigned long before = READ_ONCE(self->pongs[to]);
    uint64_t start = monotonic_ns();
    __atomic_fetch_or(&vcpus[to].ping_from, 1u << me, __ATOMIC_SEQ_CST);
    send_ipi(to);
    wait_change(&self->pongs[to], before);
    uint64_t took = monotonic_ns() - start;
    return took ? took : 1;
}

/* ---- remote calls ---------------------------------------------------------- */

static bool call_pending(const struct vcpu *c)
{
    return READ_ONCE(c->done_seq) != READ_ONCE(c->call_seq);
}

/* The caller waits for c's idle thread to finish its call. */
static void wait_call_done(struct vcpu *c)
{
    while (call_pending(c))
        wait_for_event();
}

int smp_call_post(unsigned cpu, void (*fn)(void *), void *arg)
{
    if (cpu == smp_cpu()) {
        fn(arg);
        return 0;
    }
    if (smp_state(cpu) != VCPU_ONLINE)
        return -XEN_ENODEV;
    struct vcpu *c = &vcpus[cpu];
    wait_call_done(c); /* another thread's call */
    c->fn = fn;
    c->arg = arg;
    c->caller = smp_cpu();
    xen_wmb(); /* the call before its number */
    WRITE_ONCE(c->call_seq, c->call_seq + 1);
    send_ipi(cpu);
    return 0;
}

void smp_call_wait(unsigned cpu)
{
    if (cpu != smp_cpu() && cpu < nr_vcpus)
        wait_call_done(&vcpus[cpu]);
}

int smp_call(unsigned cpu, void (*fn)(void *), void *arg)
{
    int rc = smp_call_post(cpu, fn, arg);
    if (rc == 0)
        smp_call_wait(cpu);
    return rc;
}

/* ---- a secondary's idle thread ------------------------------------------------ */

/* On the leaving vCPU, in its idle thread, with the kernel lock, events
 * masked. */
static void go_down(struct vcpu *self)
{
    unsigned moved = sched_hand_off(self->pc.cpu, 0), timers = timer_hand_off(self->pc.cpu);
    if (moved || timers)
        printk("smp: vCPU %u going down: %u thread%s and %u timer%s handed to vCPU 0\n",
               self->pc.cpu, moved, moved == 1 ? "" : "s", timers, timers == 1 ? "" : "s");
    WRITE_ONCE(self->state, VCPU_DOWN);
    xen_mb();
    send_ipi(0);
    kernel_unlock(); /* never held by a vCPU that Xen does not run */
    long rc = HYPERVISOR_vcpu_op(VCPUOP_down, self->pc.cpu, NULL);
    kernel_lock();
    /* Back: vCPU 0 said VCPUOP_up (or Xen refused the down). */
    if (rc)
        printk("smp: vCPU %u: VCPUOP_down failed: %s\n", self->pc.cpu, xen_errname(rc));
    WRITE_ONCE(self->state, VCPU_ONLINE);
    xen_mb();
    send_ipi(0);
}

static void run_call(struct vcpu *self)
{
    uint32_t seq = READ_ONCE(self->call_seq);
    xen_rmb(); /* the call's fn/arg after its number */
    uint64_t start = monotonic_ns();
    irq_restore(0);
    self->fn(self->arg);
    (void)irq_save();
    self->busy_ns += monotonic_ns() - start;
    self->calls++;
    xen_wmb(); /* what the call wrote before "done" */
    WRITE_ONCE(self->done_seq, seq);
    send_ipi(self->caller);
}

/* A secondary's first code, on its boot stack, events masked: from here
 * on it is the vCPU's idle thread (sched_cpu_enter). */
static _Noreturn void secondary_main(void)
{
    struct vcpu *self = &vcpus[smp_cpu()];

    (void)irq_save(); /* masked from here on but in SCHEDOP_block, calls and threads */
    /* Xen starts it with a 100 Hz tick, as vCPU 0 (timer.c): an idle vCPU
     * should stay blocked. */
    long rc = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, self->pc.cpu, NULL);
    kernel_lock();
    if (rc)
        printk("smp: vCPU %u: VCPUOP_stop_periodic_timer failed: %s\n", self->pc.cpu,
               xen_errname(rc));
    sched_cpu_enter(self->pc.cpu);
    WRITE_ONCE(self->state, VCPU_ONLINE);
    xen_mb();
    send_ipi(0);
    for (;;) {
        if (call_pending(self))
            run_call(self);
        else if (READ_ONCE(self->state) == VCPU_LEAVING)
            go_down(self);
        else if (sched_others_runnable())
            thread_yield(); /* back when none of them can run */
        else {
            xen_sched_block(); /* unmasks, lets the kernel lock go; handlers run on the way back */
            (void)irq_save();
        }
    }
}

/* ---- bring-up and hot-plug ---------------------------------------------------- */

/* vCPU 0 until the vCPU's state is `want`, for at most BRINGUP_TIMEOUT_NS
 * (IPIs wake it; a stuck vCPU is reported, not waited on forever). */
static bool wait_state(unsigned cpu, enum smp_state want)
{
    uint64_t end = monotonic_ns() + BRINGUP_TIMEOUT_NS;
    while (smp_state(cpu) != want) {
        if (monotonic_ns() > end)
            return false;
        sleep_ms(1);
    }
    return true;
}

static int vcpu_ports(unsigned cpu)
{
    struct vcpu *c = &vcpus[cpu];
    int rc = evtchn_bind_ipi(cpu, ipi_handler, c, &c->ipi_port);
    if (rc == 0)
        evtchn_set_unlocked(c->ipi_port);
    if (rc == 0 && cpu != 0)
        rc = evtchn_bind_virq_vcpu(VIRQ_TIMER, cpu, timer_handler, c, &c->timer_port);
    if (rc == 0 && cpu == 0)
        rc = evtchn_bind_ipi(0, kick_handler, NULL, &c->kick_port);
    return rc;
}

/* One thread at a time takes a vCPU up or down (the hot-plug watch, a
 * suspend, the shell's self-tests). */
static void change_begin(struct vcpu *c)
{
    while (c->changing)
        sleep_ms(1);
    c->changing = true;
}

static int change_end(struct vcpu *c, int rc)
{
    c->changing = false;
    return rc;
}

static int vcpu_up(unsigned cpu);
static int vcpu_down(unsigned cpu);

int smp_vcpu_up(unsigned cpu)
{
    if (cpu == 0 || cpu >= nr_vcpus)
        return -XEN_EINVAL;
    change_begin(&vcpus[cpu]);
    return change_end(&vcpus[cpu], vcpu_up(cpu));
}

int smp_vcpu_down(unsigned cpu)
{
    if (cpu == 0 || cpu >= nr_vcpus)
        return -XEN_EINVAL; /* vCPU 0 takes the threads of those that go: it stays */
    change_begin(&vcpus[cpu]);
    return change_end(&vcpus[cpu], vcpu_down(cpu));
}

static int vcpu_up(unsigned cpu)
{
    struct vcpu *c = &vcpus[cpu];
    int rc;

    if (smp_state(cpu) == VCPU_ONLINE)
        return 0;
    if (!c->initialised) {
        if ((rc = vcpu_ports(cpu)) || (rc = smp_boot_vcpu(cpu, &c->pc, secondary_main)))
            return rc;
        c->initialised = true;
    }
    if (!smp_started)
        kernel_lock_start();
    WRITE_ONCE(smp_started, true); /* before it runs: the clock takes its lock from now on */
    long r = HYPERVISOR_vcpu_op(VCPUOP_up, cpu, NULL);
    if (r) {
        printk("smp: VCPUOP_up of vCPU %u failed: %s\n", cpu, xen_errname(r));
        return (int)r;
    }
    if (!wait_state(cpu, VCPU_ONLINE)) {
        printk("smp: vCPU %u did not come up\n", cpu);
        return -XEN_ETIMEDOUT;
    }
    printk("smp: vCPU %u online (ipi port %u, timer port %u)\n", cpu, (unsigned)c->ipi_port,
           (unsigned)c->timer_port);
    return 0;
}

static int vcpu_down(unsigned cpu)
{
    struct vcpu *c = &vcpus[cpu];

    if (smp_state(cpu) != VCPU_ONLINE)
        return 0;
    wait_call_done(c);
    WRITE_ONCE(c->state, VCPU_LEAVING); /* its scheduler goes to idle at its next switch */
    send_ipi(cpu);
    if (!wait_state(cpu, VCPU_DOWN)) {
        printk("smp: vCPU %u did not go down\n", cpu);
        return -XEN_ETIMEDOUT;
    }
    /* DOWN is set just before its VCPUOP_down: wait for Xen to agree. */
    for (unsigned i = 0; i < 1000 && HYPERVISOR_vcpu_op(VCPUOP_is_up, cpu, NULL) > 0; i++)
        sleep_ms(1);
    printk("smp: vCPU %u down\n", cpu);
    return 0;
}

/* The toolstack's wish for vCPU cpu: cpu/N/availability, "online" or
 * "offline"; online when there is no such key (dom0: no XenStore). */
static bool wanted_online(unsigned cpu)
{
    char path[32], val[16];
    snprintf(path, sizeof(path), "cpu/%u/availability", cpu);
    return xs_read(XS_TX_NONE, path, val, sizeof(val)) < 0 || strcmp(val, "offline") != 0;
}

static void hotplug_main(void *w)
{
    for (;;) {
        int rc = xs_watch_wait(w, NULL, 0, XS_TIMEOUT_MS);
        if (rc == -XEN_ETIMEDOUT)
            continue;
        if (rc)
            return; /* cancelled */
        if (suspended)
            continue; /* the resume hook brings up what cpu/N/availability wants */
        for (unsigned cpu = 1; cpu < nr_vcpus; cpu++) {
            bool want = wanted_online(cpu);
            enum smp_state now = smp_state(cpu);
            if (want && now != VCPU_ONLINE)
                (void)smp_vcpu_up(cpu);
            else if (!want && now == VCPU_ONLINE)
                (void)smp_vcpu_down(cpu);
        }
    }
}

/*
 * Suspend: the secondaries go down first (so nothing runs while shared_info
 * is off its frame), and come back up after. In a new domain (restore,
 * migration) every port is gone and so is the context of every vCPU that
 * was down when the toolstack saved (it saves only those up): their ports
 * are bound again and they are initialised again, on the same pages. In the
 * same domain (a checkpoint) VCPUOP_up resumes them. Which come back is
 * what cpu/N/availability says then (the hot-plug watch waits meanwhile).
 */
static int smp_suspend(void)
{
    suspended = true;
    for (unsigned cpu = 1; cpu < nr_vcpus; cpu++) {
        int rc = smp_vcpu_down(cpu);
        if (rc) {
            suspended = false;
            return rc;
        }
    }
    return 0;
}

static void smp_resume(bool new_domain)
{
    if (new_domain) {
        if (vcpu_ports(0))
            printk("smp: vCPU 0's IPI port not bound again: the others cannot answer\n");
        for (unsigned cpu = 1; cpu < nr_vcpus; cpu++) {
            vcpus[cpu].initialised = false;
            if (smp_state(cpu) == VCPU_DOWN)
                WRITE_ONCE(vcpus[cpu].state, VCPU_OFFLINE);
        }
    }
    for (unsigned cpu = 1; cpu < nr_vcpus; cpu++)
        if (wanted_online(cpu))
            (void)smp_vcpu_up(cpu);
    suspended = false;
}

static const struct suspend_hooks smp_hooks = {"smp", smp_suspend, smp_resume};

/* Xen's vCPUs of this domain: VCPUOP_is_up answers for those that exist
 * (0 or 1) and -ENOENT beyond. */
static unsigned count_vcpus(void)
{
    unsigned n = 1;
    while (n < SMP_MAX_VCPUS && HYPERVISOR_vcpu_op(VCPUOP_is_up, n, NULL) >= 0)
        n++;
    return n;
}

int smp_init(void)
{
    vcpus[0].pc.cpu = 0;
    vcpus[0].state = VCPU_ONLINE;
    vcpus[0].initialised = true;
    nr_vcpus = count_vcpus();
    for (unsigned i = 1; i < nr_vcpus; i++) {
        vcpus[i].pc = (struct percpu){.self = &vcpus[i].pc, .cpu = i, .magic = PERCPU_MAGIC};
        vcpus[i].state = VCPU_OFFLINE;
    }
    if (nr_vcpus == 1)
        return 0; /* one vCPU: nothing bound, nothing changes */
    int rc = vcpu_ports(0);
    if (rc)
        return rc;
    unsigned up = 1;
    for (unsigned i = 1; i < nr_vcpus; i++)
        if (wanted_online(i))
            up += smp_vcpu_up(i) == 0;
    printk("smp: %u of %u vCPUs online\n", up, nr_vcpus);
    suspend_register(&smp_hooks);
    if (!xen_is_dom0())
        (void)xs_watch_thread("cpu", "vcpu-hotplug", hotplug_main,
                              "xl vcpu-set will not be answered");
    return 0;
}

/* ---- the shell ------------------------------------------------------------------ */

static int cmd_cpus(int argc, char **argv)
{
    printk("vcpu  state     ipi port  ipis    timer port  timer events  calls   threads  runq  "
           "cpu time\n");
    for (unsigned i = 0; i < nr_vcpus; i++) {
        struct vcpu_runstate_info rs;
        uint64_t running = 0;
        if (HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, i, &rs) == 0)
            running = rs.time[RUNSTATE_running];
        const struct vcpu *c = &vcpus[i];
        unsigned threads, queued;
        sched_cpu_load(i, &threads, &queued);
        printk("%4u  %-8s  %8u  %6lu  %10u  %12lu  %6lu  %7u  %4u  %lu ms\n", i,
               smp_state_name(smp_state(i)), (unsigned)c->ipi_port, c->ipis,
               (unsigned)c->timer_port, c->timer_events, c->calls, threads, queued,
               (unsigned long)(running / NSEC_PER_MSEC));
    }
    printk("%u of %u vCPUs online; threads: on that vCPU (idle not counted); runq: runnable "
           "there\n", smp_nr_online(), nr_vcpus);
    return 0;
}
SHELL_COMMAND(cpus, "cpus", "cpus", "vCPUs: state, IPI and timer ports and counts, CPU time",
              cmd_cpus);
