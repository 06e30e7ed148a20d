/*
 * physdev_selftest.c — the `physdev` self-test (interface manual:
 * "Privileged operations"): as dom0 the CMOS RTC read through
 * PHYSDEVOP_set_iopl agrees with Xen's wall clock; as a domU the same
 * reading must be refused (see kernel/xen/physdev.c).
 */
#include "kernel.h"
#include "physdev.h"
#include "selftest.h"
#include "time.h"

#define RTC_MAX_SKEW_S 2 /* RTC - wall clock tolerance */

SELFTEST(physdev)
{
    struct rtc_reading t;
    char why[128];

    rtc_read(&t);
    rtc_why(&t, why, sizeof(why));

    if (!xen_is_dom0()) {
        /* A domU must not reach the hardware clock: the refusal is the pass. */
        ST_EXPECT(r, t.outcome == RTC_PORTS_REFUSED || t.outcome == RTC_IOPL_REFUSED,
                  "domU read the CMOS RTC (%s): Xen should not allow that", why);
        ST_PASS(r, "domU: refusal expected and seen: %s", why);
        return;
    }
    ST_EXPECT(r, t.outcome == RTC_OK, "dom0: %s", why);
    int64_t skew = rtc_skew_ms(&t);
    int64_t limit = (int64_t)RTC_MAX_SKEW_S * MSEC_PER_SEC;
    ST_EXPECT(r, skew <= limit && skew >= -limit, "dom0: RTC - wall clock = %lld ms (limit %u s)",
              (long long)skew, RTC_MAX_SKEW_S);
    ST_PASS(r, "dom0: RTC %u-%02u-%02u %02u:%02u:%02u, RTC - wall clock = %lld ms (%s)",
            t.date.year, t.date.month, t.date.day, t.date.hour, t.date.min, t.date.sec,
            (long long)skew, (t.status_b & RTC_B_BINARY) ? "binary" : "BCD");
}
