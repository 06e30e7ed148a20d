/*
 * mmu_bench.c — `bench mmu`: why page-table updates are batched (interface
 * manual: "Page-table updates"; Xen 4.17 public/xen.h mmu_update and
 * update_va_mapping).
 *
 * Maps 4096 pages of the scratch window and unmaps them again, twice:
 *   single:  one update_va_mapping per PTE (8192 hypercalls);
 *   batched: MMU_NORMAL_PT_UPDATE entries queued, MMU_BATCH per mmu_update,
 *            and one MMUEXT_TLB_FLUSH_LOCAL after the unmaps.
 * Each guest->Xen transition costs far more than Xen's work on one entry, so
 * the batched run wins by about the ratio of hypercalls. Counts come from
 * xen_hypercall_count[] (every hypercall wrapper bumps it), times from
 * monotonic_ns() when the time code is linked in.
 */
#include "bench.h"
#include "mm.h"
#include "pagetable.h"
#include "shell.h"
#include "time.h"

#pragma weak monotonic_ns /* the time code may not be there yet */

#define BENCH_PAGES 4096u
_Static_assert(BENCH_PAGES <= MM_SCRATCH_PAGES, "bench maps inside the scratch window");

static unsigned long hypercalls_total(void)
{
    unsigned long sum = 0;
    for (unsigned i = 0; i < XEN_NR_HYPERCALLS; i++)
        sum += xen_hypercall_count[i];
    return sum;
}

void bench_run_start(struct bench_run *r)
{
    r->timed = monotonic_ns != NULL;
    r->err = 0;
    r->ns = r->timed ? monotonic_ns() : 0;
    r->hypercalls = hypercalls_total();
}

void bench_run_stop(struct bench_run *r)
{
    r->hypercalls = hypercalls_total() - r->hypercalls;
    if (r->timed)
        r->ns = monotonic_ns() - r->ns;
}

static void single(struct bench_run *r, xen_pfn_t mfn)
{
    pte_t pte = pte_make(mfn, PTE_KERNEL_RW);

    bench_run_start(r);
    /* Not present -> present: nothing to flush. */
    for (unsigned i = 0; i < BENCH_PAGES && !r->err; i++)
        r->err = (int)HYPERVISOR_update_va_mapping(mm_scratch_va(i), pte, UVMF_NONE);
    for (unsigned i = 0; i < BENCH_PAGES && !r->err; i++)
        r->err = (int)HYPERVISOR_update_va_mapping(mm_scratch_va(i), 0, UVMF_INVLPG | UVMF_LOCAL);
    bench_run_stop(r);
    if (r->err)
        printk("update_va_mapping: error %d\n", r->err);
}

static void batched(struct bench_run *r, xen_pfn_t mfn, const uint64_t *l1_ma)
{
    pte_t pte = pte_make(mfn, PTE_KERNEL_RW);

    bench_run_start(r);
    for (unsigned i = 0; i < BENCH_PAGES; i++)
        mmu_queue_update(l1_ma[i / PT_ENTRIES] + (i % PT_ENTRIES) * PT_ENTRY_SIZE, pte);
    r->err = mmu_flush();
    for (unsigned i = 0; i < BENCH_PAGES && !r->err; i++)
        mmu_queue_update(l1_ma[i / PT_ENTRIES] + (i % PT_ENTRIES) * PT_ENTRY_SIZE, 0);
    if (!r->err)
        r->err = mmu_flush();
    if (!r->err)
        r->err = tlb_flush_local();
    bench_run_stop(r);
}

static void report(const char *bench, const char *name, const char *how, const char *what,
                   const struct bench_run *r)
{
    if (r->timed)
        printk("bench %s: %s (%s): %s, %lu hypercalls, %llu us\n", bench, name, how, what,
               r->hypercalls, (unsigned long long)(r->ns / NSEC_PER_USEC));
    else
        printk("bench %s: %s (%s): %s, %lu hypercalls, time n/a (no clock)\n", bench, name, how,
               what, r->hypercalls);
}

void bench_report_pair(const char *bench, const char *what, const char *single_how,
                       const struct bench_run *single, const char *batch_call, unsigned batch,
                       const struct bench_run *batched)
{
    char how[48];
    snprintf(how, sizeof(how), "%s, %u per call", batch_call, batch);
    report(bench, "single", single_how, what, single);
    report(bench, "batched", how, what, batched);
}

static int bench_mmu(void)
{
    uint64_t l1_ma[BENCH_PAGES / PT_ENTRIES];
    struct bench_run s, b;
    xen_pfn_t mfn;
    void *page = page_alloc(0);

    if (!page) {
        printk("bench mmu: no free page\n");
        return 1;
    }
    memset(page, 0x5a, PAGE_SIZE);
    mfn = pfn_to_mfn(virt_to_pfn(page));
    /* Machine addresses of the scratch window's L1 tables (MMU_NORMAL_PT_UPDATE
     * is command 0 in the low bits). */
    for (unsigned t = 0; t < ARRAY_SIZE(l1_ma); t++)
        l1_ma[t] = pt_entry_ma(mm_scratch_va(t * PT_ENTRIES)) | MMU_NORMAL_PT_UPDATE;

    single(&s, mfn);
    batched(&b, mfn, l1_ma);
    page_free(page, 0);
    if (s.err || b.err)
        return 1;
    char what[48];
    snprintf(what, sizeof(what), "%u maps + %u unmaps", BENCH_PAGES, BENCH_PAGES);
    bench_report_pair("mmu", what, "update_va_mapping per PTE", &s, "mmu_update",
                      (unsigned)MMU_BATCH, &b);
    return 0;
}

static int cmd_bench(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "mmu") == 0)
        return bench_mmu();
    if (argc == 2 && strcmp(argv[1], "multicall") == 0)
        return bench_multicall();
    if (argc == 3 && strcmp(argv[1], "console") == 0)
        return bench_console(argv[2]);
    if ((argc == 2 || argc == 3) && strcmp(argv[1], "smp") == 0)
        return bench_smp(argc == 3 ? argv[2] : NULL);
    printk("usage: bench mmu|multicall|console LINES|smp [ROUNDS]\n");
    return 1;
}
SHELL_COMMAND(bench, "bench", "bench mmu|multicall|console LINES|smp [ROUNDS]",
              "benchmarks: mmu = single vs batched PTE updates, multicall = separate vs batched "
              "calls, console = LINES predictable 64-byte lines and their rate, smp = a "
              "workload over 1, 2, 4 ... vCPUs and the IPI round trip",
              cmd_bench);
