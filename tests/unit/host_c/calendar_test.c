/*
 * calendar_test.c — kernel/calendar.c on the host: utc_from_unix and
 * unix_from_utc against the host's gmtime/timegm-free reference (known
 * dates, leap days, century rules), both ways over every day from 1970 to
 * 2200, and utc_valid's limits.
 */
#include <stdio.h>

#include "check.h"
#include "rename.h"
#include "time.h"

struct known {
    uint64_t unix_sec;
    unsigned year, month, day, hour, min, sec;
};

static const struct known dates[] = {
    {0, 1970, 1, 1, 0, 0, 0},
    {951782400, 2000, 2, 29, 0, 0, 0},          /* 2000: leap (400) */
    {951868799, 2000, 2, 29, 23, 59, 59},
    {1078012800, 2004, 2, 29, 0, 0, 0},
    {2147483647, 2038, 1, 19, 3, 14, 7},        /* 32-bit time_t's end */
    {4107542400, 2100, 3, 1, 0, 0, 0},          /* 2100: not leap (100) */
    {4107456000, 2100, 2, 28, 0, 0, 0},
    {1767225599, 2025, 12, 31, 23, 59, 59},
};

static bool same_date(const struct utc_time *t, unsigned y, unsigned mo, unsigned d, unsigned h,
                      unsigned mi, unsigned s)
{
    return t->year == y && t->month == mo && t->day == d && t->hour == h && t->min == mi &&
           t->sec == s;
}

int main(void)
{
    for (unsigned i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
        const struct known *k = &dates[i];
        struct utc_time t;
        utc_from_unix(k->unix_sec, &t);
        CHECK(same_date(&t, k->year, k->month, k->day, k->hour, k->min, k->sec),
              "%llu -> %u-%02u-%02u %02u:%02u:%02u", (unsigned long long)k->unix_sec, t.year,
              t.month, t.day, t.hour, t.min, t.sec);
        CHECK(utc_valid(&t) && unix_from_utc(&t) == k->unix_sec, "%u-%02u-%02u back: %llu",
              t.year, t.month, t.day, (unsigned long long)unix_from_utc(&t));
    }

    /* Every day (at a time of day that moves) to 2200: there and back, and
     * each date follows the one before. */
    struct utc_time prev;
    utc_from_unix(0, &prev);
    unsigned bad = 0;
    for (uint64_t day = 1; day < 84000; day++) {
        uint64_t s = day * SECS_PER_DAY + (day * 7919) % SECS_PER_DAY;
        struct utc_time t;
        utc_from_unix(s, &t);
        bool next = (t.year == prev.year && t.month == prev.month && t.day == prev.day + 1) ||
                    (t.year == prev.year && t.month == prev.month + 1 && t.day == 1) ||
                    (t.year == prev.year + 1 && t.month == 1 && t.day == 1 && prev.month == 12);
        if (!utc_valid(&t) || unix_from_utc(&t) != s || !next)
            bad++;
        prev = t;
    }
    CHECK(bad == 0, "%u days wrong between 1970 and 2200", bad);

    struct utc_time t = {2023, 2, 29, 0, 0, 0};
    CHECK(!utc_valid(&t), "2023-02-29 accepted");
    t = (struct utc_time){2024, 2, 29, 23, 59, 59};
    CHECK(utc_valid(&t), "2024-02-29 refused");
    t = (struct utc_time){1900, 2, 28, 0, 0, 0};
    CHECK(!utc_valid(&t), "before the epoch accepted");
    t = (struct utc_time){2024, 13, 1, 0, 0, 0};
    CHECK(!utc_valid(&t), "month 13 accepted");
    t = (struct utc_time){2024, 4, 31, 0, 0, 0};
    CHECK(!utc_valid(&t), "April 31 accepted");
    t = (struct utc_time){2024, 1, 1, 24, 0, 0};
    CHECK(!utc_valid(&t), "hour 24 accepted");
    t = (struct utc_time){2024, 0, 1, 0, 0, 0};
    CHECK(!utc_valid(&t), "month 0 accepted");
    return check_report();
}
