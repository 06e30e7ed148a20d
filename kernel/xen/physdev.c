/*
 * physdev.c — privileged operations: I/O ports (interface manual: "Privileged
 * operations"; hypercall appendix: 2.0's DOM0_IOPL "set I/O privilege level",
 * now PHYSDEVOP_set_iopl of physdev_op). Demonstrated on the CMOS real-time
 * clock, compared with the wall clock Xen publishes in shared_info ("Time").
 *
 * In 2.0, raising the I/O privilege level was a dom0_op: only a privileged
 * domain could ask. In Xen 4.17 any PV guest may set its virtual IOPL with
 * physdev_op(PHYSDEVOP_set_iopl, {iopl}): it costs Xen nothing, because
 * `in`/`out` in ring 1 still trap (the real EFLAGS.IOPL stays 0) and Xen
 * emulates them, checking each port against the domain's I/O-port
 * capabilities. Dom0 holds almost all ports; for the RTC Xen does the
 * index/data access itself under its own lock (the index written to port
 * 0x70 is kept per domain). A domU holds none: after set_iopl its reads
 * give all ones (0xff) and its writes are dropped. Without set_iopl the
 * same instructions raise #GP. So "not dom0" shows as port 0x71 reading
 * 0xff, not as an error from set_iopl (we report set_iopl's own error
 * should Xen ever refuse it).
 *
 * We hold IOPL 1 only while talking to the RTC and drop back to 0, so a
 * stray in/out elsewhere still faults.
 *
 * The RTC (Motorola MC146818, as every PC has): index port 0x70, data port
 * 0x71; time registers in BCD or binary and in 12- or 24-hour form as
 * status register B says; status A's UIP bit is set while the chip updates
 * its registers, so we read only when it is clear, twice, until two reads
 * agree. The RTC counts whole seconds: to compare it with Xen's wall clock
 * to better than a second we first wait for its seconds register to tick
 * and sample the wall clock at that moment. QEMU's RTC runs on UTC, and Xen
 * set its wall clock from the same RTC when it booted (the lab shows them
 * a steady ~0.4 s apart).
 *
 * Shell command `rtc`; the self-test `physdev` is physdev_selftest.c.
 */
#include "kernel.h"
#include "physdev.h"
#include "shell.h"
#include "time.h"

/* I/O privilege levels (EFLAGS.IOPL): ring 1 may use in/out at IOPL >= 1. */
#define IOPL_NONE 0u
#define IOPL_KERNEL 1u

/* CMOS / RTC ports and registers (MC146818 data sheet). */
#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT 0x71
#define RTC_SECONDS 0x00
#define RTC_MINUTES 0x02
#define RTC_HOURS 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0A
#define RTC_STATUS_B 0x0B
#define RTC_STATUS_D 0x0D
#define RTC_CENTURY 0x32 /* where PC firmware (and QEMU) keep it */
#define RTC_A_UIP 0x80   /* update in progress */
#define RTC_D_VRT 0x80   /* valid RAM and time: the only bit a real D has */
#define RTC_HOUR_PM 0x80
#define FLOATING_BUS 0xFF /* what a port nobody answers reads as */

#define RTC_STABLE_TRIES 5
#define RTC_UIP_WAIT_NS (50 * NSEC_PER_MSEC) /* UIP lasts ~2 ms */
#define RTC_TICK_WAIT_NS (1100 * NSEC_PER_MSEC) /* a second, and some */

#define DEFAULT_CENTURY 20u /* when the century register is missing */
#define CENTURY_MIN 19u
#define CENTURY_MAX 21u
#define HOURS_PER_HALF_DAY 12u

static long set_iopl(unsigned level)
{
    struct physdev_set_iopl op = {.iopl = level};
    return HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &op);
}

static inline void port_out8(uint16_t port, uint8_t v)
{
    __asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint8_t port_in8(uint16_t port)
{
    uint8_t v;
    __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static uint8_t cmos_read(uint8_t reg)
{
    port_out8(CMOS_INDEX_PORT, reg);
    return port_in8(CMOS_DATA_PORT);
}

static bool rtc_wait_not_updating(void)
{
    uint64_t deadline = monotonic_ns() + RTC_UIP_WAIT_NS;
    while (cmos_read(RTC_STATUS_A) & RTC_A_UIP)
        if (monotonic_ns() > deadline)
            return false;
    return true;
}

/* Wait until the seconds register changes: the RTC's time is then its
 * reading plus at most one poll, instead of anywhere inside a second. */
static bool rtc_wait_tick(void)
{
    uint64_t deadline = monotonic_ns() + RTC_TICK_WAIT_NS;
    uint8_t first, now;

    if (!rtc_wait_not_updating())
        return false;
    first = cmos_read(RTC_SECONDS);
    do {
        if (monotonic_ns() > deadline || !rtc_wait_not_updating())
            return false;
        now = cmos_read(RTC_SECONDS);
    } while (now == first);
    return true;
}

/* Raw registers, in the order they are read. */
struct rtc_raw {
    uint8_t sec, min, hour, day, month, year, century;
};

static bool rtc_read_raw(struct rtc_raw *t)
{
    if (!rtc_wait_not_updating())
        return false;
    t->sec = cmos_read(RTC_SECONDS);
    t->min = cmos_read(RTC_MINUTES);
    t->hour = cmos_read(RTC_HOURS);
    t->day = cmos_read(RTC_DAY);
    t->month = cmos_read(RTC_MONTH);
    t->year = cmos_read(RTC_YEAR);
    t->century = cmos_read(RTC_CENTURY);
    return true;
}

static unsigned bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 0xFu);
}

static unsigned rtc_value(uint8_t raw, bool binary)
{
    return binary ? raw : bcd(raw);
}

static void rtc_decode(const struct rtc_raw *t, uint8_t status_b, struct utc_time *d)
{
    bool binary = status_b & RTC_B_BINARY;
    bool h24 = status_b & RTC_B_24H;
    unsigned hour = rtc_value(t->hour & (uint8_t)~RTC_HOUR_PM, binary);
    unsigned century = rtc_value(t->century, binary);

    if (!h24) /* 12 AM is hour 0, 12 PM is hour 12 */
        hour = hour % HOURS_PER_HALF_DAY + ((t->hour & RTC_HOUR_PM) ? HOURS_PER_HALF_DAY : 0);
    if (century < CENTURY_MIN || century > CENTURY_MAX) /* no century register here */
        century = DEFAULT_CENTURY;
    d->sec = rtc_value(t->sec, binary);
    d->min = rtc_value(t->min, binary);
    d->hour = hour;
    d->day = rtc_value(t->day, binary);
    d->month = rtc_value(t->month, binary);
    d->year = century * 100 + rtc_value(t->year, binary);
}

/* The part that runs with IOPL 1. */
static void rtc_read_ports(struct rtc_reading *out)
{
    struct rtc_raw a, b;

    /* A real status D has only VRT set; nobody's port reads 0xff. */
    out->status_d = cmos_read(RTC_STATUS_D);
    if (out->status_d == FLOATING_BUS || !(out->status_d & RTC_D_VRT)) {
        out->outcome = RTC_PORTS_REFUSED;
        return;
    }
    out->status_b = cmos_read(RTC_STATUS_B);
    out->aligned = rtc_wait_tick();
    out->wall_ns = wallclock_ns();
    out->outcome = RTC_BUSY;
    for (unsigned i = 0; i < RTC_STABLE_TRIES; i++) {
        if (!rtc_read_raw(&a) || !rtc_read_raw(&b))
            return;
        if (memcmp(&a, &b, sizeof(a)) == 0) {
            rtc_decode(&a, out->status_b, &out->date);
            out->outcome = utc_valid(&out->date) ? RTC_OK : RTC_NONSENSE;
            if (out->outcome == RTC_OK)
                out->unix_sec = unix_from_utc(&out->date);
            return;
        }
    }
}

void rtc_read(struct rtc_reading *out)
{
    memset(out, 0, sizeof(*out));
    out->xen_rc = set_iopl(IOPL_KERNEL);
    if (out->xen_rc < 0) {
        out->outcome = RTC_IOPL_REFUSED;
        return;
    }
    rtc_read_ports(out);
    long rc = set_iopl(IOPL_NONE);
    if (rc < 0)
        printk("rtc: physdev_op(PHYSDEVOP_set_iopl, 0) failed: %s\n", xen_errname(rc));
}

void rtc_why(const struct rtc_reading *t, char *buf, size_t size)
{
    const char *who = xen_is_dom0() ? "" : ": not dom0";

    switch (t->outcome) {
    case RTC_IOPL_REFUSED:
        snprintf(buf, size, "I/O privilege refused by Xen (%s)%s", xen_errname(t->xen_rc), who);
        break;
    case RTC_PORTS_REFUSED:
        snprintf(buf, size,
                 "CMOS port access refused by Xen (set_iopl gave %s, port %#x reads %#x)%s",
                 xen_errname(t->xen_rc), CMOS_DATA_PORT, t->status_d, who);
        break;
    case RTC_BUSY:
        snprintf(buf, size, "the RTC stayed busy (update in progress) or kept changing");
        break;
    case RTC_NONSENSE:
        snprintf(buf, size, "the RTC gave an impossible date %u-%02u-%02u %02u:%02u:%02u",
                 t->date.year, t->date.month, t->date.day, t->date.hour, t->date.min,
                 t->date.sec);
        break;
    case RTC_OK:
        snprintf(buf, size, "ok");
        break;
    }
}

int64_t rtc_skew_ms(const struct rtc_reading *t)
{
    return (int64_t)(t->unix_sec * MSEC_PER_SEC) - (int64_t)(t->wall_ns / NSEC_PER_MSEC);
}

static int cmd_rtc(int argc, char **argv)
{
    struct rtc_reading t;
    struct utc_time w;
    char why[128];

    rtc_read(&t);
    if (t.outcome != RTC_OK) {
        rtc_why(&t, why, sizeof(why));
        printk("rtc: %s\n", why);
        return 1;
    }
    uint64_t wall = t.wall_ns;
    utc_from_unix(wall / NSEC_PER_SEC, &w);
    int64_t skew = rtc_skew_ms(&t);
    printk("rtc: CMOS RTC  %u-%02u-%02u %02u:%02u:%02u UTC (%s, %s)\n", t.date.year,
           t.date.month, t.date.day, t.date.hour, t.date.min, t.date.sec,
           (t.status_b & RTC_B_BINARY) ? "binary" : "BCD",
           (t.status_b & RTC_B_24H) ? "24h" : "12h");
    printk("rtc: wall clock %u-%02u-%02u %02u:%02u:%02u.%03u UTC (shared_info)\n", w.year,
           w.month, w.day, w.hour, w.min, w.sec,
           (unsigned)(wall % NSEC_PER_SEC / NSEC_PER_MSEC));
    printk("rtc: RTC - wall clock = %lld ms (%s)\n", (long long)skew,
           t.aligned ? "read as the RTC's second began"
                     : "the RTC counts whole seconds: up to -1000 ms is rounding");
    return 0;
}
SHELL_COMMAND(rtc, "rtc", "rtc", "read the CMOS clock (needs I/O ports: dom0) and compare",
              cmd_rtc);
