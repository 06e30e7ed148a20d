/*
 * smp.h — several vCPUs (interface manual: "Virtual CPUs", public/vcpu.h:
 * VCPUOP_initialise, _up, _down, _is_up; public/event_channel.h:
 * EVTCHNOP_bind_ipi, EVTCHNOP_bind_vcpu). Implemented in kernel/smp.c (the
 * vCPU table, IPIs, remote calls, hot-plug, `cpus`) and
 * kernel/arch/x86_32/smp_boot.c (a secondary's first context).
 *
 * The shape: threads run on every online vCPU, each on its own run queue
 * (sched.c); each vCPU has an idle thread that blocks it with
 * SCHEDOP_block. A secondary's idle thread is its first context (on its
 * boot stack) and also takes work posted to it (smp_call). The kernel is
 * correct across vCPUs by one lock, the kernel lock below: the rest of the
 * kernel keeps "events masked on this vCPU" as its lock, and the kernel
 * lock makes sure only one vCPU at a time is in such code. IPIs are
 * served without it (their handlers touch atomics only), so a vCPU waiting
 * for the lock still answers them. Each vCPU runs its own timer queue on
 * its own VIRQ_TIMER (timer.c).
 *
 * `make tiny` has none of it (XENOLITH_SMP 0): smp_cpu() is then 0.
 */
#ifndef XENOLITH_SMP_H
#define XENOLITH_SMP_H

#include "kernel.h"

/* vCPUs this kernel can drive: one vcpu_info each, inline in shared_info
 * (XEN_LEGACY_MAX_VCPUS of them for a 32-bit guest), and one bit each in
 * the IPI message words below. */
#define SMP_MAX_VCPUS 8
_Static_assert(SMP_MAX_VCPUS <= XEN_LEGACY_MAX_VCPUS, "vcpu_info inline in shared_info");

#if XENOLITH_SMP
/* Set before a second vCPU first runs, never cleared (smp.c). */
extern bool smp_started;
/* More than vCPU 0 has ever been started: until then every per-vCPU
 * question has the answer 0, at the price of one load. */
static inline bool smp_several(void)
{
    return READ_ONCE(smp_started);
}
/* The vCPU number in the calling vCPU's per-CPU segment (%fs). */
unsigned smp_cpu_of_fs(void);
/* The calling vCPU's number: 0 until a second one has run. */
static inline unsigned smp_cpu(void)
{
    return smp_several() ? smp_cpu_of_fs() : 0;
}
#else
static inline unsigned smp_cpu(void)
{
    return 0;
}
#endif

/* ---- the kernel lock ------------------------------------------------------ */

/* One lock for the whole kernel (smp.c, "the kernel lock" there): a vCPU
 * holds it while it runs a thread or a handler that touches shared state,
 * so that "events masked on this vCPU" (irq_save), the kernel's lock on one
 * vCPU, stays one across vCPUs. A ticket lock, taken with events masked;
 * not recursive, but "held by this vCPU" is known, so the upcall takes it
 * only when the code it interrupted did not hold it. Released while the
 * vCPU blocks in Xen (schedop.c), by a thread that runs on its own data
 * only (kernel_unlock / kernel_lock around it), and at a thread switch
 * when another vCPU waits (sched.c). No-ops until a second vCPU runs. */
#if XENOLITH_SMP
void kernel_lock(void);
void kernel_unlock(void);
bool kernel_lock_held(void);   /* by the calling vCPU */
bool kernel_lock_wanted(void); /* another vCPU waits for it */
/* An IPI to `cpu` that ends its SCHEDOP_block (a thread woke there). */
void smp_kick(unsigned cpu);
#else
static inline void kernel_lock(void)
{
}
static inline void kernel_unlock(void)
{
}
static inline bool kernel_lock_held(void)
{
    return true;
}
#endif

/* ---- spinlocks ------------------------------------------------------------ */

/* A test-and-test-and-set lock: `pause` while it is held, and after a long
 * spin a SCHEDOP_yield, because the holder may be a vCPU that Xen has
 * descheduled (the lab runs every vCPU on one physical CPU). Never held
 * across a block or a thread switch. Take it with events masked when a
 * handler on the same vCPU may take it too. */
struct spinlock {
    uint32_t held;
};
void spin_lock(struct spinlock *l);
static inline void spin_unlock(struct spinlock *l)
{
    xen_mb(); /* the critical section's stores before the release */
    __atomic_store_n(&l->held, 0, __ATOMIC_RELEASE);
}

/* ---- the vCPU table ------------------------------------------------------- */

enum smp_state {
    VCPU_ABSENT,  /* beyond the domain's vCPUs */
    VCPU_OFFLINE, /* Xen has it, never started (the toolstack wants it offline) */
    VCPU_ONLINE,  /* running threads (its idle thread at least) */
    VCPU_LEAVING, /* asked to go down */
    VCPU_DOWN,    /* VCPUOP_down done on itself; VCPUOP_up brings it back */
};
const char *smp_state_name(enum smp_state s);

unsigned smp_nr_vcpus(void);   /* the domain's vCPUs (those Xen says exist) */
unsigned smp_nr_online(void);  /* ONLINE ones, vCPU 0 included */
enum smp_state smp_state(unsigned cpu);

/* Start of day (main.c, after sched_init): vCPU 0's IPI port, then every
 * other vCPU Xen lists, each initialised and brought up. */
int smp_init(void);

/* Run fn(arg) on vCPU `cpu`'s idle thread (with the kernel lock, like any
 * thread) and wait (this thread; events flow) for it to return. The
 * calling vCPU runs it here. 0, or -XEN_ENODEV when that vCPU is not
 * online. smp_call_post/_wait split it, to keep several vCPUs busy at once. */
int smp_call(unsigned cpu, void (*fn)(void *), void *arg);
int smp_call_post(unsigned cpu, void (*fn)(void *), void *arg);
void smp_call_wait(unsigned cpu);

/* One IPI from the calling vCPU to `to` and one back; the round trip's
 * time in ns, or 0 when `to` is not online. Any vCPU, any thread (an idle
 * thread's remote call too). */
uint64_t smp_ping(unsigned to);

/* Counters of one vCPU, for `cpus` and the self-tests. */
struct smp_counters {
    unsigned long ipis, timer_events, calls;
    evtchn_port_t ipi_port, timer_port;
    uint64_t busy_ns; /* time in calls */
};
void smp_counters(unsigned cpu, struct smp_counters *out);

/* On the calling secondary vCPU: wait until monotonic time `deadline`
 * with a timer on its own queue (timer.c), which its own one-shot timer
 * and VIRQ_TIMER run; the count of its VIRQ_TIMERs seen after. */
unsigned long smp_timer_wait(uint64_t deadline);

/* Hot-plug (smp.c): take a secondary down / bring it back up, as the
 * toolstack's cpu/N/availability asks; 0 or Xen's error. */
int smp_vcpu_down(unsigned cpu);
int smp_vcpu_up(unsigned cpu);

/* kernel/arch/x86_32/smp_boot.c: what a secondary vCPU needs before its
 * first instruction (GDT with pc as its per-CPU block, page tables, stack,
 * context), then VCPUOP_initialise; `entry` runs on its stack with events
 * masked. */
struct percpu;
int smp_boot_vcpu(unsigned cpu, struct percpu *pc, void (*entry)(void));

#endif
