/*
 * physdev.h — the CMOS real-time clock as kernel/xen/physdev.c reads it
 * through the I/O ports PHYSDEVOP_set_iopl opens, shared with its self-test
 * (kernel/xen/physdev_selftest.c) and the `rtc` shell command.
 */
#ifndef XENOLITH_XEN_PHYSDEV_H
#define XENOLITH_XEN_PHYSDEV_H

#include "time.h"

/* Status register B (MC146818 data sheet). */
#define RTC_B_24H 0x02    /* hours 0-23 (else 1-12 with RTC_HOUR_PM) */
#define RTC_B_BINARY 0x04 /* binary (else BCD) */

enum rtc_outcome {
    RTC_OK,
    RTC_IOPL_REFUSED,  /* set_iopl failed: xen_rc says why */
    RTC_PORTS_REFUSED, /* IOPL granted, but the ports read as nobody's */
    RTC_BUSY,          /* UIP never cleared / reads never agreed */
    RTC_NONSENSE,      /* values out of range */
};

struct rtc_reading {
    enum rtc_outcome outcome;
    long xen_rc;       /* set_iopl's answer */
    uint8_t status_b, status_d;
    bool aligned;      /* read just after the seconds register ticked */
    struct utc_time date;
    uint64_t unix_sec;
    uint64_t wall_ns;  /* Xen's wall clock when the RTC was read */
};

/* Raise IOPL, read the RTC (waiting for its seconds to tick), drop IOPL. */
void rtc_read(struct rtc_reading *out);
/* One line saying why the RTC could not be read, without the "rtc: ". */
void rtc_why(const struct rtc_reading *t, char *buf, size_t size);
/* RTC minus wall clock, in milliseconds, at the moment of the reading. */
int64_t rtc_skew_ms(const struct rtc_reading *t);

#endif
