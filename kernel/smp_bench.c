/*
 * smp_bench.c — `bench smp [ROUNDS]`: a CPU-bound workload split over 1, 2,
 * 4 ... of the online vCPUs (each share runs on its own vCPU at once: vCPU
 * 0's in this thread, the others as remote calls), its time and speed-up
 * against one vCPU, and the IPI round trip from vCPU 0 to each other vCPU.
 * The speed-up is bounded by the physical CPUs Xen has for the domain, not
 * by the vCPUs (the lab's Xen has one: docs/lab.md).
 */
#include "kernel.h"
#include "bench.h"
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
    for (unsigned long i = 0; i < s->rounds; i++) {
        x = x * 1103515245u + 12345u;
        x ^= x >> 16;
    }
    WRITE_ONCE(s->result, x);
}

/* The workload over the first `k` online vCPUs; its wall time in ns. */
static uint64_t run_on(const unsigned *cpus, unsigned k, unsigned long rounds)
{
    struct share shares[SMP_MAX_VCPUS];
    uint64_t start = monotonic_ns();
    for (unsigned i = 0; i < k; i++)
        shares[i] = (struct share){.rounds = rounds / k};
    for (unsigned i = 1; i < k; i++)
        (void)smp_call_post(cpus[i], crunch, &shares[i]);
    crunch(&shares[0]);
    for (unsigned i = 1; i < k; i++)
        smp_call_wait(cpus[i]);
    return monotonic_ns() - start;
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
