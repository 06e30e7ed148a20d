/*
 * multicall_bench.c — `bench multicall`: the same hypercalls issued one by
 * one and batched with HYPERVISOR_multicall (interface manual:
 * "Multicalls"; Xen 4.17 public/xen.h multicall_entry).
 *
 * The calls are those of `bench mmu`'s single run: 4096 pages of the
 * scratch window mapped with one update_va_mapping each, then unmapped
 * (UVMF_INVLPG | UVMF_LOCAL), 8192 calls in all:
 *   single:  8192 update_va_mapping hypercalls;
 *   batched: the same 8192 calls as entries, MULTICALL_MAX per
 *            HYPERVISOR_multicall (multicall_run() checks every entry).
 * Xen does the same work per call either way; what the batch saves is the
 * guest->Xen transition per call. Counts come from xen_hypercall_count[]
 * (entries inside a multicall are not hypercalls of their own), times from
 * monotonic_ns(), both through bench_run (bench.h, shared with `bench mmu`).
 * Prints
 *   bench multicall: single (...): 8192 calls, 8192 hypercalls, T us
 *   bench multicall: batched (...): 8192 calls, 1024 hypercalls, T us
 */
#include "bench.h"
#include "mm.h"
#include "multicall.h"
#include "../arch/x86_32/pagetable.h"
#include "time.h"

#define MC_BENCH_PAGES 4096u
#define MC_BENCH_CALLS (2u * MC_BENCH_PAGES)
_Static_assert(MC_BENCH_PAGES <= MM_SCRATCH_PAGES, "bench maps inside the scratch window");

/* Call i of the 8192: a map for i < 4096, the unmap of page i - 4096 after. */
static unsigned long call_va(unsigned i)
{
    return mm_scratch_va(i % MC_BENCH_PAGES);
}

static unsigned long call_flags(unsigned i)
{
    return i < MC_BENCH_PAGES ? UVMF_NONE : UVMF_INVLPG | UVMF_LOCAL;
}

static void single(struct bench_run *r, pte_t pte)
{
    bench_run_start(r);
    for (unsigned i = 0; i < MC_BENCH_CALLS && !r->err; i++)
        r->err = (int)HYPERVISOR_update_va_mapping(call_va(i), i < MC_BENCH_PAGES ? pte : 0,
                                                   call_flags(i));
    bench_run_stop(r);
}

static void batched(struct bench_run *r, pte_t pte)
{
    struct multicall mc;

    multicall_init(&mc);
    bench_run_start(r);
    for (unsigned i = 0; i < MC_BENCH_CALLS && !r->err; i++) {
        uint64_t val = i < MC_BENCH_PAGES ? pte : 0;
        struct multicall_entry *e = multicall_add(&mc, __HYPERVISOR_update_va_mapping);
        e->args[0] = call_va(i);
        e->args[1] = (unsigned long)val; /* PAE: the 64-bit PTE takes two words, low first */
        e->args[2] = (unsigned long)(val >> 32);
        e->args[3] = call_flags(i);
        if (mc.count == MULTICALL_MAX || i + 1 == MC_BENCH_CALLS)
            r->err = (int)multicall_run(&mc, "bench multicall", NULL);
    }
    bench_run_stop(r);
}

int bench_multicall(void)
{
    struct bench_run s, b;
    void *page = page_alloc(0);

    if (!page) {
        printk("bench multicall: no free page\n");
        return 1;
    }
    memset(page, 0x5a, PAGE_SIZE);
    pte_t pte = pte_make(pfn_to_mfn(virt_to_pfn(page)), PTE_KERNEL_RW);
    single(&s, pte);
    if (!s.err)
        batched(&b, pte);
    page_free(page, 0);
    if (s.err || b.err) {
        printk("bench multicall: update_va_mapping failed: %d\n", s.err ? s.err : b.err);
        return 1;
    }
    char what[32];
    snprintf(what, sizeof(what), "%u calls", MC_BENCH_CALLS);
    bench_report_pair("multicall", what, "update_va_mapping each", &s, "multicall",
                      (unsigned)MULTICALL_MAX, &b);
    return 0;
}
