/*
 * check.c — check.h's counters and report, shared by every host harness.
 */
#include "check.h"

unsigned check_count, check_failures;

int check_report(void)
{
    if (check_failures) {
        printf("%u of %u checks failed\n", check_failures, check_count);
        return 1;
    }
    printf("ok %u checks\n", check_count);
    return 0;
}
