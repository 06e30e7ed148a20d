/*
 * selftest.h — the in-kernel self-test framework. Each part of the interface
 * registers a suite with SELFTEST(name); `selftest NAME|all` on the shell
 * and `selftest=NAME|all` on the command line run them. Each suite prints
 * exactly one line `selftest NAME: PASS|FAIL <detail>`; a run ends with
 * `selftest summary: N passed, M failed`. Owner: kernel/selftest.c (core).
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

/* Runs one suite by name, or every suite for "all"; returns failures
 * (-1 if no suite has that name). Prints the lines described above. */
int selftest_run(const char *name);

#endif
