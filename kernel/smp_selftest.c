/*
 * smp_selftest.c — self-tests of several vCPUs (smp.c, smp_boot.c, the
 * per-vCPU side of evtchn.c): an IPI round trip on every ordered pair, a
 * counter under one spinlock incremented by every vCPU at once (exact
 * total), each vCPU's own timer (VIRQ_TIMER bound to it) and the clock
 * monotonic across vCPUs, a port moved between vCPUs (EVTCHNOP_bind_vcpu),
 * and a vCPU taken down and brought back up; threads (sched.c): one on
 * every vCPU incrementing a counter under the kernel lock alone, a thread
 * moved between vCPUs, a wake-up across vCPUs, a thread whose vCPU goes
 * down running on, and one that runs while a program computes in ring 3 on
 * vCPU 0. SKIP with one vCPU online.
 */
#include "kernel.h"
#include "events.h"
#include "sched.h"
#include "selftest.h"
#include "smp.h"
#include "time.h"
#include "user.h"
#include "wait.h"

#define LOCK_ROUNDS 20000u
#define TIMER_DELAY_NS (2 * NSEC_PER_MSEC)
#define CLOCK_READS 2000u
#define EVENT_WAIT_MS 1000u
#define THREAD_ROUNDS 2000u
#define YIELD_EVERY 16u       /* rounds between yields: the lock changes hands */
#define HANDOFF_TICKS 5u      /* sleeps the handed-on thread must go on with */
#define NAP_MS 1000u          /* a sleep that spans its vCPU going down */
#define THREAD_WAIT_MS 10000u /* for a thread's step: the lab runs every vCPU on one CPU */

/* The online vCPUs in `cpus`; how many. */
static unsigned online_cpus(unsigned *cpus)
{
    unsigned n = 0;
    for (unsigned i = 0; i < smp_nr_vcpus(); i++)
        if (smp_state(i) == VCPU_ONLINE)
            cpus[n++] = i;
    return n;
}

#define NEED_SEVERAL(r, cpus, n)                                                       \
    unsigned cpus[SMP_MAX_VCPUS], n = online_cpus(cpus);                               \
    if (n < 2)                                                                         \
        ST_SKIP(r, "one vCPU online (boot with vcpus=2 or more)")

/* Until *flag is set, for at most THREAD_WAIT_MS; true if it was. */
static bool wait_flag(const volatile bool *flag)
{
    for (unsigned ms = 0; ms < THREAD_WAIT_MS && !*flag; ms++)
        sleep_ms(1);
    return *flag;
}

struct ping_job {
    unsigned to;
    uint64_t ns;
};

static void ping_from_here(void *arg)
{
    struct ping_job *j = arg;
    j->ns = smp_ping(j->to);
}

SELFTEST(smp_ipi)
{
    NEED_SEVERAL(r, cpus, n);
    uint64_t total = 0, worst = 0;
    unsigned pairs = 0;

    for (unsigned a = 0; a < n; a++)
        for (unsigned b = 0; b < n; b++) {
            if (a == b)
                continue;
            struct ping_job j = {.to = cpus[b]};
            ST_EXPECT(r, smp_call(cpus[a], ping_from_here, &j) == 0, "no call to vCPU %u", cpus[a]);
            ST_EXPECT(r, j.ns > 0, "vCPU %u -> %u: no answer", cpus[a], cpus[b]);
            total += j.ns;
            worst = j.ns > worst ? j.ns : worst;
            pairs++;
        }
    ST_PASS(r, "%u ordered pairs answered; round trip mean %lu us, worst %lu us", pairs,
            (unsigned long)(total / pairs / NSEC_PER_USEC), (unsigned long)(worst / NSEC_PER_USEC));
}

static struct spinlock count_lock;
static uint32_t counted; /* plain loads and stores: only the lock makes the total right */

static void count_up(void *arg)
{
    (void)arg;
    kernel_unlock(); /* only count_lock guards this: every vCPU at once */
    for (unsigned i = 0; i < LOCK_ROUNDS; i++) {
        spin_lock(&count_lock);
        WRITE_ONCE(counted, READ_ONCE(counted) + 1);
        spin_unlock(&count_lock);
    }
    kernel_lock();
}

SELFTEST(smp_lock)
{
    NEED_SEVERAL(r, cpus, n);
    counted = 0;
    for (unsigned i = 1; i < n; i++)
        ST_EXPECT(r, smp_call_post(cpus[i], count_up, NULL) == 0, "no call to vCPU %u", cpus[i]);
    count_up(NULL); /* vCPU 0 too, at the same time */
    for (unsigned i = 1; i < n; i++)
        smp_call_wait(cpus[i]);
    ST_EXPECT(r, counted == n * LOCK_ROUNDS, "counter %u, want %u (%u vCPUs x %u)", counted,
              n * LOCK_ROUNDS, n, LOCK_ROUNDS);
    ST_PASS(r, "%u vCPUs x %u locked increments = %u", n, LOCK_ROUNDS, counted);
}

struct timer_job {
    uint64_t before, start, end, deadline;
    unsigned long fired_before, fired;
    bool monotonic;
};

static void timer_here(void *arg)
{
    struct timer_job *j = arg;
    j->start = monotonic_ns();
    j->monotonic = true;
    uint64_t last = j->start;
    for (unsigned i = 0; i < CLOCK_READS; i++) {
        uint64_t t = monotonic_ns();
        if (t < last)
            j->monotonic = false;
        last = t;
    }
    j->deadline = monotonic_ns() + TIMER_DELAY_NS;
    j->fired = smp_timer_wait(j->deadline);
    j->end = monotonic_ns();
}

SELFTEST(smp_timer)
{
    NEED_SEVERAL(r, cpus, n);
    for (unsigned i = 1; i < n; i++) {
        struct timer_job j = {.before = monotonic_ns()};
        struct smp_counters c;
        smp_counters(cpus[i], &c);
        j.fired_before = c.timer_events;
        ST_EXPECT(r, smp_call(cpus[i], timer_here, &j) == 0, "no call to vCPU %u", cpus[i]);
        uint64_t after = monotonic_ns();
        ST_EXPECT(r, j.fired > j.fired_before, "vCPU %u: its VIRQ_TIMER did not come", cpus[i]);
        ST_EXPECT(r, j.end >= j.deadline, "vCPU %u: timer early by %lu ns", cpus[i],
                  (unsigned long)(j.deadline - j.end));
        ST_EXPECT(r, j.before <= j.start && j.start <= j.end && j.end <= after,
                  "clock not monotonic across vCPUs 0 -> %u -> 0: %llu %llu %llu %llu", cpus[i],
                  (unsigned long long)j.before, (unsigned long long)j.start,
                  (unsigned long long)j.end, (unsigned long long)after);
        ST_EXPECT(r, j.monotonic, "vCPU %u: clock went back", cpus[i]);
    }
    ST_PASS(r, "%u secondary vCPUs: own timer fired (%lu ms), clock monotonic across vCPUs",
            n - 1, (unsigned long)(TIMER_DELAY_NS / NSEC_PER_MSEC));
}

struct seen {
    unsigned cpu;
    unsigned long events;
};

static void note_cpu(evtchn_port_t port, void *data)
{
    struct seen *s = data;
    WRITE_ONCE(s->cpu, smp_cpu());
    WRITE_ONCE(s->events, s->events + 1);
}

/* Send on `from`; true when the handler of the other end ran (on some vCPU). */
static bool send_and_see(evtchn_port_t from, struct seen *s)
{
    unsigned long before = READ_ONCE(s->events);
    if (evtchn_send(from))
        return false;
    for (unsigned ms = 0; ms < EVENT_WAIT_MS && READ_ONCE(s->events) == before; ms++)
        sleep_ms(1);
    return READ_ONCE(s->events) != before;
}

SELFTEST(smp_evtchn)
{
    NEED_SEVERAL(r, cpus, n);
    evtchn_port_t a, b;
    struct seen s = {0};
    int rc = evtchn_alloc_unbound(DOMID_SELF, &a);
    ST_EXPECT(r, rc == 0, "alloc_unbound: %s", xen_errname(rc));
    rc = evtchn_bind_interdomain(DOMID_SELF, a, &b);
    if (rc == 0)
        rc = evtchn_set_handler(b, note_cpu, &s);
    bool ok = rc == 0;
    unsigned target = cpus[n - 1], seen_there = 0, seen_back = 0;
    if (ok) {
        rc = evtchn_bind_vcpu(b, target);
        ok = rc == 0 && send_and_see(a, &s);
        seen_there = s.cpu;
    }
    if (ok) {
        rc = evtchn_bind_vcpu(b, 0);
        ok = rc == 0 && send_and_see(a, &s);
        seen_back = s.cpu;
    }
    (void)evtchn_close(b);
    (void)evtchn_close(a);
    ST_EXPECT(r, ok, "port %u: bind_vcpu or delivery failed (%s)", (unsigned)b, xen_errname(rc));
    ST_EXPECT(r, seen_there == target && seen_back == 0,
              "port %u's handler ran on vCPU %u after bind_vcpu %u, on %u after bind_vcpu 0",
              (unsigned)b, seen_there, target, seen_back);
    ST_PASS(r, "port %u moved to vCPU %u and back: its handler ran there, then on vCPU 0",
            (unsigned)b, target);
}

struct ticker {
    volatile bool stop;
    volatile unsigned long ticks;
    volatile unsigned last_cpu;
};

static void ticker_main(void *arg)
{
    struct ticker *k = arg;
    while (!k->stop) {
        k->last_cpu = smp_cpu();
        k->ticks++;
        sleep_ms(1);
    }
}

/* Asleep on its vCPU's timer queue while that vCPU goes down: the timer
 * is handed on too, and ends the sleep on vCPU 0. */
struct napper {
    volatile bool asleep, woke;
    volatile unsigned woke_on;
};

static void napper_main(void *arg)
{
    struct napper *p = arg;
    p->asleep = true;
    sleep_ms(NAP_MS);
    p->woke_on = smp_cpu();
    p->woke = true;
}

/* Until the ticker has gone on for `more` ticks beyond `from`. */
static bool ticks_past(const struct ticker *k, unsigned long from, unsigned long more)
{
    for (unsigned ms = 0; ms < THREAD_WAIT_MS && k->ticks < from + more; ms++)
        sleep_ms(1);
    return k->ticks >= from + more;
}

SELFTEST(smp_hotplug)
{
    NEED_SEVERAL(r, cpus, n);
    unsigned cpu = cpus[n - 1];
    struct ticker k = {.last_cpu = ~0u};
    struct napper nap = {.woke_on = ~0u};
    struct thread *t = thread_create("ticker", ticker_main, &k);
    struct thread *napper = thread_create("napper", napper_main, &nap);
    if (!t || !napper) {
        k.stop = true;
        nap.asleep = true;
        if (t)
            thread_join(t);
        if (napper)
            thread_join(napper);
        ST_EXPECT(r, false, "no threads");
    }
    int moved = thread_move(t, cpu) | thread_move(napper, cpu);
    bool ticking = ticks_past(&k, 0, HANDOFF_TICKS) && wait_flag(&nap.asleep);
    unsigned ran_on = k.last_cpu;
    int rc = smp_vcpu_down(cpu);
    long up = HYPERVISOR_vcpu_op(VCPUOP_is_up, cpu, NULL);
    bool answered = smp_ping(cpu) != 0;
    bool went_on = ticks_past(&k, k.ticks, HANDOFF_TICKS);
    unsigned ran_on_after = k.last_cpu, placed_after = thread_vcpu(t);
    bool napped = wait_flag(&nap.woke);
    int rc_up = smp_vcpu_up(cpu);
    k.stop = true;
    thread_join(t);
    thread_join(napper);
    ST_EXPECT(r, moved == 0 && ticking && ran_on == cpu, "ticker on vCPU %u: move %d, ticking %d",
              ran_on, moved, ticking);
    ST_EXPECT(r, rc == 0, "vCPU %u down: %s", cpu, xen_errname(rc));
    ST_EXPECT(r, up == 0, "vCPU %u: VCPUOP_is_up says %ld after its VCPUOP_down", cpu, up);
    ST_EXPECT(r, !answered, "vCPU %u answered an IPI while down", cpu);
    ST_EXPECT(r, went_on && ran_on_after == 0 && placed_after == 0,
              "the ticker after vCPU %u went down: going on %d, ran on %u, placed on %u", cpu,
              went_on, ran_on_after, placed_after);
    ST_EXPECT(r, napped && nap.woke_on == 0,
              "a sleep on vCPU %u's timer queue across its going down: woke %d, on vCPU %u", cpu,
              napped, nap.woke_on);
    ST_EXPECT(r, rc_up == 0, "vCPU %u back up: %s", cpu, xen_errname(rc_up));
    ST_EXPECT(r, smp_ping(cpu) != 0, "vCPU %u: no IPI answer after VCPUOP_up", cpu);
    ST_PASS(r, "vCPU %u down (VCPUOP_down on itself, is_up 0; its threads and timers handed to "
            "vCPU 0: one runs on there, one's sleep ends there) and up again (VCPUOP_up), "
            "answers IPIs", cpu);
}

/* ---- threads on every vCPU ---------------------------------------------------- */

struct spread {
    uint32_t counter; /* plain: the kernel lock alone keeps the total right */
    uint32_t seen;    /* bit per vCPU a thread ran on */
    uint32_t wrong;   /* threads that ran on another vCPU than placed */
};

struct spread_job {
    struct spread *sp;
    unsigned cpu;
};

static void spread_main(void *arg)
{
    struct spread_job *j = arg;
    for (unsigned i = 0; i < THREAD_ROUNDS; i++) {
        j->sp->counter = j->sp->counter + 1;
        j->sp->seen |= 1u << smp_cpu();
        if (smp_cpu() != j->cpu)
            j->sp->wrong++;
        if (i % YIELD_EVERY == 0)
            thread_yield(); /* lets a waiting vCPU have the lock */
    }
}

SELFTEST(smp_threads)
{
    NEED_SEVERAL(r, cpus, n);
    struct spread sp = {0};
    struct spread_job jobs[SMP_MAX_VCPUS];
    struct thread *t[SMP_MAX_VCPUS];
    unsigned made = 0, want = 0;
    int moved = 0;
    for (unsigned i = 0; i < n; i++) {
        jobs[i] = (struct spread_job){&sp, cpus[i]};
        want |= 1u << cpus[i];
        if (!(t[made] = thread_create("spread", spread_main, &jobs[i])))
            break;
        moved |= thread_move(t[made++], cpus[i]);
    }
    for (unsigned i = 0; i < made; i++)
        thread_join(t[i]);
    ST_EXPECT(r, made == n && moved == 0, "%u of %u threads made, thread_move %d", made, n, moved);
    ST_EXPECT(r, sp.counter == n * THREAD_ROUNDS, "counter %u, want %u (%u threads x %u)",
              sp.counter, n * THREAD_ROUNDS, n, THREAD_ROUNDS);
    ST_EXPECT(r, sp.seen == want, "vCPUs seen %#x, want %#x", sp.seen, want);
    ST_EXPECT(r, sp.wrong == 0, "%u rounds ran on another vCPU than their thread's", sp.wrong);
    ST_PASS(r, "%u threads, one per vCPU (seen %#x), x %u increments under the kernel lock = %u",
            n, sp.seen, THREAD_ROUNDS, sp.counter);
}

struct hop {
    unsigned first, second;
    volatile bool placed, go, done;
};

static void hop_main(void *arg)
{
    struct hop *h = arg;
    h->first = smp_cpu();
    h->placed = true;
    while (!h->go)
        thread_block();
    thread_yield(); /* a move takes effect at a switch */
    h->second = smp_cpu();
    h->done = true;
}

SELFTEST(smp_move)
{
    NEED_SEVERAL(r, cpus, n);
    unsigned a = cpus[1], b = cpus[n - 1] != a ? cpus[n - 1] : cpus[0];
    struct hop h = {.first = ~0u, .second = ~0u};
    struct thread *t = thread_create("hop", hop_main, &h);
    ST_EXPECT(r, t, "no thread");
    int rc1 = thread_move(t, a);
    bool placed = wait_flag(&h.placed);
    int rc2 = thread_move(t, b);
    h.go = true;
    thread_wake(t);
    bool done = wait_flag(&h.done);
    thread_join(t);
    ST_EXPECT(r, rc1 == 0 && rc2 == 0 && placed && done, "move %d/%d, placed %d, done %d", rc1,
              rc2, placed, done);
    ST_EXPECT(r, h.first == a && h.second == b, "ran on vCPU %u, then on %u; want %u, then %u",
              h.first, h.second, a, b);
    ST_PASS(r, "a thread ran on vCPU %u, was moved, ran on vCPU %u (smp_cpu)", a, b);
}

struct sleeper {
    volatile bool waiting, flag, woke;
    unsigned before, after;
};

static bool flag_set(void *arg)
{
    return ((struct sleeper *)arg)->flag;
}

static void sleeper_main(void *arg)
{
    struct sleeper *s = arg;
    s->before = smp_cpu();
    s->waiting = true;
    (void)wait_until(flag_set, s, WAIT_FOREVER);
    s->after = smp_cpu();
    s->woke = true;
}

SELFTEST(smp_wake)
{
    NEED_SEVERAL(r, cpus, n);
    unsigned target = cpus[n - 1];
    struct sleeper s = {.before = ~0u, .after = ~0u};
    struct thread *t = thread_create("sleeper", sleeper_main, &s);
    ST_EXPECT(r, t, "no thread");
    int rc = thread_move(t, target);
    bool waiting = wait_flag(&s.waiting);
    sleep_ms(1); /* into its thread_block */
    uint64_t start = monotonic_ns();
    s.flag = true;
    thread_wake(t); /* from here (vCPU 0): an IPI to the target */
    bool woke = wait_flag(&s.woke);
    uint64_t took = monotonic_ns() - start;
    thread_join(t);
    ST_EXPECT(r, rc == 0 && waiting && woke, "move %d, waiting %d, woke %d", rc, waiting, woke);
    ST_EXPECT(r, s.before == target && s.after == target,
              "slept on vCPU %u, woke on %u; want %u", s.before, s.after, target);
    ST_PASS(r, "a thread on vCPU %u blocked in wait_until, woken from vCPU %u, ran there again "
            "(%lu us)", target, smp_cpu(), (unsigned long)(took / NSEC_PER_USEC));
}

#if XENOLITH_USER
#define RING3_MS 300u      /* the program computes this long, vCPU 0 busy with it */
#define RING3_MIN_TICKS 5u /* sleeps the thread elsewhere must get through meanwhile */
#define RING3_WAIT_MS 5000u

/* A program spinning in ring 3 on vCPU 0 holds no kernel lock: a thread on
 * another vCPU, which needs it for every sleep, goes on meanwhile. */
SELFTEST(smp_ring3)
{
    NEED_SEVERAL(r, cpus, n);
    struct ticker k = {.last_cpu = ~0u};
    struct thread *t = thread_create("ticker", ticker_main, &k);
    ST_EXPECT(r, t, "no thread");
    int moved = thread_move(t, cpus[n - 1]);
    bool ticking = ticks_past(&k, 0, 1);
    int pid = process_spawn("spin");
    unsigned long before = k.ticks;
    sleep_ms(RING3_MS); /* vCPU 0: the program, in ring 3 */
    unsigned long during = k.ticks - before;
    struct process_info list[PROCESS_MAX];
    unsigned procs = process_list(list, PROCESS_MAX);
    bool spinning = false;
    for (unsigned i = 0; i < procs; i++)
        spinning |= pid > 0 && list[i].pid == (unsigned)pid && list[i].state == P_RUNNING;
    struct process_info info;
    int killed = pid > 0 ? process_kill((unsigned)pid) : pid;
    int waited = pid > 0 ? process_wait((unsigned)pid, RING3_WAIT_MS, &info) : pid;
    k.stop = true;
    thread_join(t);
    ST_EXPECT(r, moved == 0 && ticking, "ticker on vCPU %u: move %d, ticking %d", cpus[n - 1],
              moved, ticking);
    ST_EXPECT(r, pid > 0 && spinning && killed == 0 && waited == 0,
              "spin: pid %d, running %d, kill %d, wait %d", pid, spinning, killed, waited);
    ST_EXPECT(r, during >= RING3_MIN_TICKS,
              "vCPU %u's thread slept %lu times in %u ms of a ring-3 loop on vCPU 0, want >= %u",
              cpus[n - 1], during, RING3_MS, RING3_MIN_TICKS);
    ST_PASS(r, "while a program looped in ring 3 on vCPU 0 (no kernel lock there), a thread on "
            "vCPU %u slept and woke %lu times in %u ms", cpus[n - 1], during, RING3_MS);
}
#endif
