/*
 * time.c — interface manual "Time": Xen system time and the wall clock.
 *
 * System time (ns since Xen booted) is published per VCPU in
 * vcpu_info->time: a (tsc_timestamp, system_time) pair taken together, and
 * the scale from TSC ticks to ns (tsc_to_system_mul, a 0.32 fixed-point
 * factor, after shifting the delta by tsc_shift). Now is
 *     system_time + (((rdtsc() - tsc_timestamp) << tsc_shift) * mul) >> 32.
 * Xen rewrites the record when it recalibrates; it makes `version` odd while
 * it writes, so we copy the fields and retry if the version was odd or moved.
 * The wall clock is the UTC time at system time 0 (shared_info->wc_sec,
 * wc_nsec, and for a 32-bit guest arch.wc_sec_hi), under its own version.
 *
 * Every 64-bit operation here is a multiply, shift or add: gcc open-codes
 * those for -m32; divisions go through udiv64_32() (time.h).
 */
#include "kernel.h"
#include "events.h"
#include "shell.h"
#include "time.h"
#include "smp.h"

uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void read_record(struct time_record *r, uint64_t *tsc_now)
{
    const volatile struct vcpu_time_info *t = &this_vcpu()->time;
    uint32_t version;

    do {
        version = t->version;
        xen_rmb();
        r->tsc_timestamp = t->tsc_timestamp;
        r->system_time = t->system_time;
        r->mul = t->tsc_to_system_mul;
        r->shift = t->tsc_shift;
        if (tsc_now)
            *tsc_now = rdtsc();
        xen_rmb();
    } while ((version & 1) || version != t->version);
}

/* (delta << shift) * mul >> 32, as 64 x 32 -> 96-bit product, top 64 bits. */
static uint64_t scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    uint64_t lo_part = ((uint64_t)(uint32_t)delta * mul) >> 32;
    uint64_t hi_part = (uint64_t)(uint32_t)(delta >> 32) * mul;
    return hi_part + lo_part;
}

uint64_t tsc_delta_to_ns(uint64_t tsc_delta)
{
    struct time_record r;
    read_record(&r, NULL);
    return scale_delta(tsc_delta, r.mul, r.shift);
}

/*
 * Ticks from the record's stamp to `tsc`, taken as a signed difference. Xen's
 * stamp may be "negative": when Xen emulates the TSC for a PV domain (vTSC, on
 * a host whose TSC it does not trust), the domain's TSC starts at 0 when the
 * domain is made, and a stamp Xen took before that is written as the two's
 * complement of the ticks before it (gtime_to_gtsc() in xen/arch/x86/time.c).
 * Comparing the two as unsigned numbers would stop the clock until Xen's next
 * recalibration, up to a second later. A TSC read just before Xen's own stamp
 * (a small negative difference) counts as no time.
 */
static uint64_t ticks_since_stamp(const struct time_record *r, uint64_t tsc)
{
    int64_t delta = (int64_t)(tsc - r->tsc_timestamp);
    return delta > 0 ? (uint64_t)delta : 0;
}

uint64_t xen_system_time_ns(void)
{
    struct time_record r;
    uint64_t tsc;

    read_record(&r, &tsc);
    return r.system_time + scale_delta(ticks_since_stamp(&r, tsc), r.mul, r.shift);
}

/*
 * The kernel's clock: Xen system time, never going back and never standing
 * still. Xen's record is per VCPU and is rewritten when Xen recalibrates or
 * moves the VCPU to another CPU; unless Xen sets XEN_PVCLOCK_TSC_STABLE_BIT
 * (not under QEMU/TCG, whose TSC Xen cannot trust), a reading may come out
 * below the previous one, by as much as Xen's local clocks disagree. Clamping
 * alone would then freeze the clock for that long (a whole boot's figures
 * read 0). Instead the step is absorbed: `ahead` is how far our clock is
 * ahead of Xen's, and while it is non-zero our clock runs at half of Xen's
 * rate until Xen's has caught up (twice the step, at most). Timers are armed
 * in Xen's time (xen_time_at), so they still fire when our clock says.
 */
static struct clock_state clk;

uint64_t clock_absorb(struct clock_state *c, uint64_t raw)
{
    if (c->last == 0) {
        c->last = c->last_raw = raw;
    } else if (raw < c->last_raw) {
        uint64_t back = c->last_raw - raw;
        c->ahead += back;
        c->steps_back++;
        if (back > c->largest_back_ns)
            c->largest_back_ns = back;
    } else {
        uint64_t advance = raw - c->last_raw;
        uint64_t slew = advance / 2 < c->ahead ? advance / 2 : c->ahead;
        c->ahead -= slew;
        c->last += advance - slew;
    }
    c->last_raw = raw;
    return c->last;
}

#if XENOLITH_SMP
/* With several vCPUs, one clock for all: each reads its own vcpu_info's
 * time record, and Xen's per-CPU records may disagree by a little, which
 * clock_absorb takes as a step back. The reading is taken inside the lock,
 * so the readings it absorbs are in the order they were taken. */
static struct spinlock clk_lock;
#endif

uint64_t monotonic_ns(void)
{
    unsigned long flags = irq_save();
#if XENOLITH_SMP
    bool several = smp_several(); /* one vCPU: no lock, as ever */
    if (several)
        spin_lock(&clk_lock);
#endif
    uint64_t now = clock_absorb(&clk, xen_system_time_ns());
#if XENOLITH_SMP
    if (several)
        spin_unlock(&clk_lock);
#endif
    irq_restore(flags);
    return now;
}

/* When our clock will read `deadline`, in Xen's time: while it is ahead it
 * runs at half Xen's rate (clock_absorb), so from the last reading (Xen's
 * last_raw, ours last = last_raw + ahead) the `rest` to go takes twice as
 * long in Xen's time for as long as the lead lasts. Never early: a timer
 * armed for it fires when our clock has got there. */
uint64_t xen_time_at(uint64_t deadline)
{
    unsigned long flags = irq_save();
    uint64_t raw = clk.last_raw, ours = clk.last, ahead = clk.ahead;
    irq_restore(flags);
    if (deadline <= ours)
        return raw > 1 ? raw : 1;
    uint64_t rest = deadline - ours;
    return rest <= ahead ? raw + 2 * rest : raw + rest + ahead;
}

uint64_t wallclock_ns(void)
{
    const volatile struct shared_info *s = shared_info;
    uint32_t version, sec, sec_hi, nsec;

    do {
        version = s->wc_version;
        xen_rmb();
        sec = s->wc_sec;
        nsec = s->wc_nsec;
        sec_hi = s->arch.wc_sec_hi; /* 32-bit guests: the high word lives in arch */
        xen_rmb();
    } while ((version & 1) || version != s->wc_version);
    uint64_t boot = (((uint64_t)sec_hi << 32) | sec) * NSEC_PER_SEC + nsec;
    return boot + monotonic_ns();
}

int time_init(void)
{
    struct time_record r;
    read_record(&r, NULL);
    /* TSC frequency = (10^9 << 32) / mul, then undo the shift. */
    uint64_t hz = udiv64_32(NSEC_PER_SEC << 32, r.mul, NULL);
    hz = r.shift < 0 ? hz << -r.shift : hz >> r.shift;
    uint64_t wall = wallclock_ns();
    struct utc_time t;
    utc_from_unix(udiv64_32(wall, NSEC_PER_SEC, NULL), &t);
    bool stable = this_vcpu()->time.flags & XEN_PVCLOCK_TSC_STABLE_BIT;
    printk("time: TSC %lu kHz (%s), system time %lu ms, wall clock "
           "%04u-%02u-%02u %02u:%02u:%02u UTC\n",
           (unsigned long)udiv64_32(hz, 1000, NULL),
           stable ? "stable across CPUs" : "not marked stable: steps back are absorbed",
           (unsigned long)udiv64_32(monotonic_ns(), NSEC_PER_MSEC, NULL), t.year, t.month, t.day,
           t.hour, t.min, t.sec);
    return 0;
}

/* ---- shell ----------------------------------------------------------------- */

static int cmd_uptime(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint32_t ns;
    uint64_t sec = udiv64_32(monotonic_ns(), NSEC_PER_SEC, &ns);
    printk("up %lu.%03lu s (Xen system time)\n", (unsigned long)sec,
           (unsigned long)(ns / NSEC_PER_MSEC));
    return 0;
}
SHELL_COMMAND(uptime, "uptime", "uptime", "seconds since Xen booted (Xen system time)", cmd_uptime);

static int cmd_date(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    uint32_t ns;
    uint64_t sec = udiv64_32(wallclock_ns(), NSEC_PER_SEC, &ns);
    struct utc_time t;
    utc_from_unix(sec, &t);
    printk("%04u-%02u-%02u %02u:%02u:%02u UTC unix=%lu.%03lu\n", t.year, t.month, t.day, t.hour,
           t.min, t.sec, (unsigned long)sec, (unsigned long)(ns / NSEC_PER_MSEC));
    return 0;
}
SHELL_COMMAND(date, "date", "date", "wall clock (UTC) from Xen's shared_info", cmd_date);

uint64_t time_record_sample(struct time_record *r, uint32_t *version, uint64_t *tsc)
{
    read_record(r, tsc);
    *version = this_vcpu()->time.version;
    return r->system_time + scale_delta(ticks_since_stamp(r, *tsc), r->mul, r->shift);
}

void clock_state_get(struct clock_state *out)
{
    unsigned long flags = irq_save();
    *out = clk;
    irq_restore(flags);
}
