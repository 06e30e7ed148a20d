/*
 * calendar.c — UTC dates and seconds since the epoch (interface manual:
 * "Time": the wall clock in shared_info is wc_sec/wc_nsec since 1970-01-01
 * 00:00 UTC). The `date` command and the boot line print a date from it;
 * the CMOS RTC (physdev.c) gives a date, compared as seconds.
 *
 * Both directions count from 0000-03-01, so that the leap day is the last
 * day of a "year": eras of 400 years (146097 days), years of 365 days plus
 * the 4/100/400 leap rules, and months from March whose lengths follow
 * (153 * m + 2) / 5. No loop over years, and no table but February's.
 * Pure C: also built and run on the host (tests/unit/host_c).
 */
#include "time.h"

#define DAYS_0000_03_01_TO_1970_01_01 719468u
#define DAYS_PER_ERA 146097u
#define YEARS_PER_ERA 400u
#define MONTHS_PER_YEAR 12u
#define MARCH 3u
#define FEBRUARY 2u

void utc_from_unix(uint64_t unix_sec, struct utc_time *out)
{
    uint32_t secs_of_day;
    uint32_t days = (uint32_t)udiv64_32(unix_sec, SECS_PER_DAY, &secs_of_day);
    uint32_t z = days + DAYS_0000_03_01_TO_1970_01_01;
    uint32_t era = z / DAYS_PER_ERA;
    uint32_t doe = z - era * DAYS_PER_ERA;                                  /* [0, 146096] */
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;   /* [0, 399] */
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                 /* [0, 365] */
    uint32_t mp = (5 * doy + 2) / 153;                                      /* 0 = March */
    out->day = doy - (153 * mp + 2) / 5 + 1;
    out->month = mp < 10 ? mp + MARCH : mp - 9;
    out->year = yoe + era * YEARS_PER_ERA + (out->month <= FEBRUARY);
    out->hour = secs_of_day / SECS_PER_HOUR;
    out->min = secs_of_day % SECS_PER_HOUR / SECS_PER_MIN;
    out->sec = secs_of_day % SECS_PER_MIN;
}

uint64_t unix_from_utc(const struct utc_time *t)
{
    unsigned y = t->year - (t->month <= FEBRUARY);
    unsigned era = y / YEARS_PER_ERA;
    unsigned yoe = y - era * YEARS_PER_ERA;                                  /* [0, 399] */
    unsigned mp = t->month > FEBRUARY ? t->month - MARCH : t->month + 9;     /* 0 = March */
    unsigned doy = (153 * mp + 2) / 5 + t->day - 1;                          /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* [0, 146096] */
    uint64_t days = (uint64_t)era * DAYS_PER_ERA + doe - DAYS_0000_03_01_TO_1970_01_01;
    return days * SECS_PER_DAY + t->hour * SECS_PER_HOUR + t->min * SECS_PER_MIN + t->sec;
}

static unsigned days_in_month(unsigned year, unsigned month)
{
    static const uint8_t days[MONTHS_PER_YEAR] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days[month - 1] + (month == FEBRUARY && leap);
}

bool utc_valid(const struct utc_time *t)
{
    return t->year >= UNIX_EPOCH_YEAR && t->month >= 1 && t->month <= MONTHS_PER_YEAR &&
           t->day >= 1 && t->day <= days_in_month(t->year, t->month) &&
           t->hour < HOURS_PER_DAY && t->min < MINS_PER_HOUR && t->sec < SECS_PER_MIN;
}
