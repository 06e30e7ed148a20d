/*
 * selftest.h — the in-kernel self-test framework, in the manner of XTF (the
 * Xen Test Framework). Each part of the interface registers a suite with
 * SELFTEST(name) (it runs as dom0 and as a domU) or SELFTEST_IN(name,
 * where) (ST_DOM0 or ST_DOMU only); `selftest NAME[,NAME...]|all|list` on
 * the shell and `selftest=NAME[,NAME...]|all|list` on the command line run
 * or list them (e.g. `selftest=mm_p2m,gdt`).
 *
 * Each suite prints exactly one line `selftest NAME: PASS|FAIL|SKIP
 * <detail>`: SKIP when it cannot run here (ST_SKIP, or a suite declared for
 * the other kind of domain: "SKIP domU only"). An unknown name prints
 * `selftest: no suite named 'NAME'` and counts as a failure; a run ends
 * with `selftest summary: N passed, M failed, K skipped` and XTF's
 * `Test result: SUCCESS|SKIP|FAILURE`. `list` prints one line per suite,
 * `suite NAME dom0|domU|both FILE`, and so does `all` before it runs them. Suites go in files named *_selftest.c,
 * which `make tiny` leaves out (kernel-internals.md); a suite is named for
 * its file, or begins with the file's part. Implemented in
 * kernel/selftest.c.
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
    bool failed;  /* FAIL; the first failure's detail is kept */
    bool skipped; /* SKIP (ST_SKIP), unless it failed first */
    char detail[160];
};

/* Where a suite runs (XTF's TEST-ENVS): the other kind of domain reports
 * it as SKIP. */
#define ST_DOM0 1u
#define ST_DOMU 2u
#define ST_BOTH (ST_DOM0 | ST_DOMU)

struct selftest {
    const char *name;
    void (*fn)(struct selftest_result *r);
    unsigned where; /* ST_DOM0, ST_DOMU or ST_BOTH */
    const char *file;
};

#define SELFTEST_IN(name_, where_)                                             \
    static void selftest_fn_##name_(struct selftest_result *r);                \
    static const struct selftest __selftest_##name_                            \
        __attribute__((used, section(".selftests"), aligned(4))) = {           \
            #name_, selftest_fn_##name_, (where_), __FILE__};                  \
    static void selftest_fn_##name_(struct selftest_result *r)
#define SELFTEST(name_) SELFTEST_IN(name_, ST_BOTH)

/* Record a failure (first one wins) / a pass detail / a skip and its reason. */
void selftest_fail(struct selftest_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void selftest_note(struct selftest_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void selftest_skip(struct selftest_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ST_EXPECT(r, cond, ...)                                                \
    do {                                                                       \
        if (!(cond)) {                                                         \
            selftest_fail((r), __VA_ARGS__);                                   \
            return;                                                            \
        }                                                                      \
    } while (0)
#define ST_PASS(r, ...) selftest_note((r), __VA_ARGS__)
/* This suite cannot run here: SKIP with the reason, and return. */
#define ST_SKIP(r, ...)                                                        \
    do {                                                                       \
        selftest_skip((r), __VA_ARGS__);                                       \
        return;                                                                \
    } while (0)

/* Runs the suites in a comma-separated list of names ("all": every suite;
 * "list": print the list instead); returns the number of failures, unknown
 * names included. Prints the lines described above. */
int selftest_run(const char *names);

#endif
