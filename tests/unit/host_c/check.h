/*
 * check.h — the host harnesses' one assertion: CHECK(cond, fmt, ...) prints
 * "FAIL file:line: ..." and counts the failure; main() returns
 * check_report(), which prints "ok N checks" or the failure count, and is
 * the process's exit status (tests/unit/test_host_c.py reads both).
 */
#ifndef HOST_C_CHECK_H
#define HOST_C_CHECK_H

#include <stdio.h>

extern unsigned check_count, check_failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        check_count++;                                                         \
        if (!(cond)) {                                                         \
            check_failures++;                                                  \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

int check_report(void);

#endif
