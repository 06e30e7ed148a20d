/*
 * bench.h — the subcommands of the `bench` shell command that live outside
 * kernel/arch/x86_32/mmu_bench.c (which owns the command and `bench mmu`).
 * Every implementation is a *_bench.c file, left out of `make tiny` with
 * the command itself.
 */
#ifndef XENOLITH_BENCH_H
#define XENOLITH_BENCH_H

#include "kernel.h"

/* One timed run: hypercalls made (every wrapper counts in xen_hypercall_count[])
 * and Xen system time taken between bench_run_start() and bench_run_stop()
 * (timed is false, ns 0, when the time code is not linked in). err is the
 * run's own: start clears it. Implemented in mmu_bench.c. */
struct bench_run {
    unsigned long hypercalls;
    uint64_t ns;
    bool timed;
    int err;
};
void bench_run_start(struct bench_run *r);
void bench_run_stop(struct bench_run *r);

/* The two lines of a single-vs-batched benchmark:
 *   bench BENCH: single (SINGLE_HOW): WHAT, N hypercalls, T us
 *   bench BENCH: batched (BATCH_CALL, BATCH per call): WHAT, N hypercalls, T us */
void bench_report_pair(const char *bench, const char *what, const char *single_how,
                       const struct bench_run *single, const char *batch_call, unsigned batch,
                       const struct bench_run *batched);

/* `bench multicall` (kernel/xen/multicall_bench.c): 0, or 1 after printing why. */
int bench_multicall(void);

/* `bench console LINES` (kernel/xen/console/console_bench.c): predictable output in volume;
 * 0, or 1 after printing why. */
int bench_console(const char *lines);

/* `bench smp [ROUNDS]` (kernel/smp_bench.c): a CPU-bound workload over 1, 2, 4 ...
 * vCPUs and the IPI round trip; 0, or 1 after printing why. */
int bench_smp(const char *rounds);

#endif
