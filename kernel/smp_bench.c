/*
 * smp_bench.c — `bench smp [ROUNDS]`: a CPU-bound workload split over 1, 2,
 * 4 ... of the online vCPUs (each share a thread placed on its own vCPU,
 * computing without the kernel lock, so that they run at once), its time
 * and speed-up against one vCPU, and the IPI round trip from vCPU 0 to
 * each other vCPU.
 * The speed-up is bounded by the physical CPUs Xen has for the domain, not
 * by the vCPUs (the lab's Xen has one: docs/lab.md).
 */
#include "kernel.h"
#include "bench.h"
#include "sched.h"
#include "smp.h"
#include "time.h"

#define DEFAULT_ROUNDS (256UL * 1000 * 1000) /* 1-2 s on one vCPU in the lab */
#define PINGS 100u

struct share {
    unsigned long rounds;
    uint32_t result; /* kept, so the loop is not optimised away */
};

static void crunch(void *arg)
{
    struct share *s = arg;
    uint32_t x = s->rounds | 1;
    kernel_unlock(); /* its own data only */
    for (unsigned long i = 0; i < s->rounds; i++) {
        x = x * 1103515245u + 12345u;
        x ^= x >> 16;
    }
    kernel_lock();
    WRITE_ONCE(s->result, x);
}

/* The workload over the first `k` online vCPUs, a thread on each; its wall
 * time in ns, 0 when a thread could not be made or placed. */
static uint64_t run_on(const unsigned *cpus, unsigned k, unsigned long rounds)
{
    struct share shares[SMP_MAX_VCPUS];
    struct thread *t[SMP_MAX_VCPUS];
    unsigned made = 0;
    bool placed = true;
    uint64_t start = monotonic_ns();
    for (unsigned i = 0; i < k; i++) {
        shares[i] = (struct share){.rounds = rounds / k};
        if (!(t[made] = thread_create("crunch", crunch, &shares[i])))
            break;
        placed &= thread_move(t[made++], cpus[i]) == 0;
    }
    for (unsigned i = 0; i < made; i++)
        thread_join(t[i]);
    return made == k && placed ? monotonic_ns() - start : 0;
}

int bench_smp(const char *arg)
{
    unsigned long rounds = DEFAULT_ROUNDS;
    unsigned cpus[SMP_MAX_VCPUS], n = 0;

    if (arg && (!parse_ulong(arg, &rounds) || rounds == 0)) {
        printk("bench smp: ROUNDS is a positive number, not '%s'\n", arg);
        return 1;
    }
    for (unsigned i = 0; i < smp_nr_vcpus(); i++)
        if (smp_state(i) == VCPU_ONLINE)
            cpus[n++] = i;
    uint64_t one = 0;
    for (unsigned k = 1;; k = k * 2 <= n ? k * 2 : n) { /* 1, 2, 4 ... and n */
        uint64_t ns = run_on(cpus, k, rounds);
        if (!ns) {
            printk("bench smp: %u threads could not be made and placed\n", k);
            return 1;
        }
        if (k == 1)
            one = ns;
        unsigned long x100 = (unsigned long)(ns ? one * 100 / ns : 0);
        printk("bench smp: %u vCPU%s: %lu rounds in %lu ms, speed-up %lu.%02lu\n", k,
               k == 1 ? "" : "s", rounds, (unsigned long)(ns / NSEC_PER_MSEC), x100 / 100,
               x100 % 100);
        if (k == n)
            break;
    }
    for (unsigned i = 1; i < n; i++) {
        uint64_t total = 0;
        for (unsigned p = 0; p < PINGS; p++)
            total += smp_ping(cpus[i]);
        printk("bench smp: ipi round trip 0 -> %u: mean %lu us over %u\n", cpus[i],
               (unsigned long)(total / PINGS / NSEC_PER_USEC), PINGS);
    }
    return 0;
}
