/*
 * selftest.h — the in-kernel self-test framework. Each part of the interface
 * registers a suite with SELFTEST(name); `selftest NAME[,NAME...]|all` on
 * the shell and `selftest=NAME[,NAME...]|all` on the command line run them
 * (e.g. `selftest=mm_p2m,gdt`). Each suite prints exactly one line
 * `selftest NAME: PASS|FAIL <detail>`; an unknown name prints
 * `selftest: no suite named 'NAME'` and counts as a failure; a run ends with
 * `selftest summary: N passed, M failed`. Suites go in files named
 * *_selftest.c, which `make tiny` leaves out (kernel-internals.md).
 * Implemented in kernel/selftest.c.
 *
 *   SELFTEST(time) {
 *       uint64_t a = monotonic_ns(), b = monotonic_ns();
 *       ST_EXPECT(r, b >= a, "clock went back: %llu -> %llu", a, b);
 *       ST_PASS(r, "monotonic over %u reads", 2u);
 *   }
 */
#ifndef XENOLITH_SELFTEST_H
#define XENOLITH_SELFTEST_H

#include "kernel.h"

struct selftest_result {
    bool failed;
    char detail[160];
};

struct selftest {
    const char *name;
    void (*fn)(struct selftest_result *r);
};

#define SELFTEST(name_)                                                        \
    static void selftest_fn_##name_(struct selftest_result *r);                \
    static const struct selftest __selftest_##name_                            \
        __attribute__((used, section(".selftests"), aligned(4))) = {           \
            #name_, selftest_fn_##name_};                                      \
    static void selftest_fn_##name_(struct selftest_result *r)

/* Record a failure (first one wins) / a pass detail. */
void selftest_fail(struct selftest_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void selftest_note(struct selftest_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ST_EXPECT(r, cond, ...)                                                \
    do {                                                                       \
        if (!(cond)) {                                                         \
            selftest_fail((r), __VA_ARGS__);                                   \
            return;                                                            \
        }                                                                      \
    } while (0)
#define ST_PASS(r, ...) selftest_note((r), __VA_ARGS__)

/* Runs the suites in a comma-separated list of names ("all": every suite);
 * returns the number of failures, unknown names included. Prints the lines
 * described above. */
int selftest_run(const char *names);

#endif
