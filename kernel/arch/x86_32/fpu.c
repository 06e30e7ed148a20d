/*
 * fpu.c — interface manual "CPU state": lazy FPU switching with
 * HYPERVISOR_fpu_taskswitch.
 *
 * A PV kernel cannot write CR0; fpu_taskswitch(1) sets its virtual CR0.TS
 * and fpu_taskswitch(0) clears it (the clts of a PV guest). Every context
 * switch adds fpu_taskswitch(1) to the switch's multicall. The next x87, MMX
 * or SSE instruction then faults with #NM, which Xen reflects to our trap
 * table; the handler clears TS, saves the registers into the thread that
 * last owned the FPU and loads the current thread's (or FNINIT for a thread
 * that never used it). Threads that never touch the FPU never pay for it.
 * (Xen 4.17 already clears the virtual TS when it delivers #NM; we still
 * say so ourselves: the interface does not promise it.)
 *
 * Save format: FXSAVE/FXRSTOR (x87 + SSE + MXCSR) when CPUID says the CPU
 * has them (every CPU a 64-bit Xen runs on does), else FNSAVE/FRSTOR.
 */
#include "kernel.h"
#include "fpu.h"
#include "smp.h"
#include "multicall.h"
#include "traps.h"

#define CPUID_LEAF_FEATURES 1
#define CPUID_EDX_FXSR (1u << 24) /* FXSAVE/FXRSTOR */
#define CPUID_EDX_SSE (1u << 25)
#define MXCSR_DEFAULT 0x1f80      /* all SIMD exceptions masked, round to nearest */

static bool have_fxsr, have_sse;
#if XENOLITH_SMP
#define FPU_CPUS SMP_MAX_VCPUS
#else
#define FPU_CPUS 1
#endif
/* Per vCPU: whose registers are in its FPU now, and the running thread's. */
static struct fpu_state *fpu_owners[FPU_CPUS], *fpu_currents[FPU_CPUS];
#define fpu_owner (fpu_owners[smp_cpu()])
#define fpu_current (fpu_currents[smp_cpu()])
static unsigned long nm_traps, state_loads;

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static void fpu_save(struct fpu_state *s)
{
    if (have_fxsr)
        __asm__ __volatile__("fxsave (%0)" : : "r"(s->area) : "memory");
    else
        __asm__ __volatile__("fnsave (%0); fwait" : : "r"(s->area) : "memory");
}

static void fpu_restore(const struct fpu_state *s)
{
    if (have_fxsr)
        __asm__ __volatile__("fxrstor (%0)" : : "r"(s->area) : "memory");
    else
        __asm__ __volatile__("frstor (%0)" : : "r"(s->area) : "memory");
}

static void fpu_fresh(void)
{
    uint32_t mxcsr = MXCSR_DEFAULT;
    __asm__ __volatile__("fninit" : : : "memory");
    if (have_sse)
        __asm__ __volatile__("ldmxcsr %0" : : "m"(mxcsr));
}

static void taskswitch(int set)
{
    long rc = HYPERVISOR_fpu_taskswitch(set);
    if (rc)
        panic("fpu: HYPERVISOR_fpu_taskswitch(%d) failed: %ld", set, rc);
}

/* #NM: device not available, because TS is set. */
static bool fpu_nm_trap(struct trap_frame *f)
{
    (void)f;
    nm_traps++;
    taskswitch(0);
    struct fpu_state *cur = fpu_current;
    if (!cur)
        panic("fpu: #NM with no current thread");
    if (fpu_owner == cur)
        return true; /* our registers are still there: nobody used the FPU since */
    if (fpu_owner)
        fpu_save(fpu_owner);
    if (cur->used)
        fpu_restore(cur);
    else
        fpu_fresh();
    cur->used = true;
    fpu_owner = cur;
    state_loads++;
    return true;
}

void fpu_init(struct fpu_state *boot_thread)
{
    uint32_t a, b, c, d;
    cpuid(CPUID_LEAF_FEATURES, &a, &b, &c, &d);
    have_fxsr = d & CPUID_EDX_FXSR;
    have_sse = (d & CPUID_EDX_SSE) && have_fxsr;
    fpu_thread_init(boot_thread);
    fpu_current = boot_thread;
    fpu_owner = NULL;
    trap_set_handler(TRAP_NM, fpu_nm_trap);
    /* Whatever boot left in the registers belongs to nobody: trap the first
     * use so that it gets a clean, owned state. */
    taskswitch(1);
    printk("fpu: lazy switching with %s\n", have_fxsr ? "FXSAVE/FXRSTOR" : "FNSAVE/FRSTOR");
}

void fpu_thread_init(struct fpu_state *s)
{
    memset(s->area, 0, sizeof(s->area));
    s->used = false;
}

void fpu_thread_exit(struct fpu_state *s)
{
    if (fpu_owner == s)
        fpu_owner = NULL;
}

void fpu_switch_prepare(struct multicall *mc, struct fpu_state *next)
{
    struct multicall_entry *e = multicall_add(mc, __HYPERVISOR_fpu_taskswitch);
    e->args[0] = 1;
    fpu_current = next;
}

#if XENOLITH_SMP
void fpu_switch_out(struct fpu_state *prev)
{
    if (fpu_owner != prev)
        return;
    /* With TS set (prev did not use the FPU since its last switch in), the
     * save takes a #NM first, which finds prev the owner and clears TS. */
    fpu_save(prev);
    fpu_owner = NULL;
}

void fpu_cpu_enter(struct fpu_state *s)
{
    fpu_owner = NULL;
    fpu_current = s;
}
#endif

bool fpu_is_owner(const struct fpu_state *s)
{
    for (unsigned i = 0; i < FPU_CPUS; i++)
        if (fpu_owners[i] == s)
            return true;
    return false;
}

unsigned long fpu_nm_traps(void)
{
    return nm_traps;
}

unsigned long fpu_state_loads(void)
{
    return state_loads;
}
