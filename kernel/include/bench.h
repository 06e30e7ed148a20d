/*
 * bench.h — the subcommands of the `bench` shell command that live outside
 * kernel/arch/x86_32/mmu_bench.c (which owns the command and `bench mmu`).
 * Every implementation is a *_bench.c file, left out of `make tiny` with
 * the command itself.
 */
#ifndef XENOLITH_BENCH_H
#define XENOLITH_BENCH_H

/* `bench multicall` (kernel/xen/multicall_bench.c): 0, or 1 after printing why. */
int bench_multicall(void);

#endif
