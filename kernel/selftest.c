/*
 * selftest.c — the self-test framework (selftest.h). Suites registered with
 * SELFTEST(name) are collected by the linker in .selftests;
 * `selftest=NAME[,NAME...]|all` on the command line (main.c) and
 * `selftest NAME[,NAME...]|all` on the shell run them. Each suite prints
 * exactly one line "selftest NAME: PASS|FAIL <detail>" (an unknown name:
 * "selftest: no suite named 'NAME'", counted as a failure), and a run ends
 * with "selftest summary: N passed, M failed": the markers tests match,
 * then XTF's own result line, "Test result: SUCCESS" or "Test result:
 * FAILURE", so a CI that runs XTF's tests (and reads a guest's last
 * "Test result:" line as xtf-runner does) can run Xenolith's unchanged.
 *
 * Suites live in files named *_selftest.c (and *_selftest_fpu.c), so a
 * build can leave them all out (`make tiny`, mk/kernel.mk). A kernel
 * without suites answers any run with "selftest: this kernel was built
 * without self-tests" and counts it as one failure.
 */
#include "kernel.h"
#include "selftest.h"
#include "shell.h"

extern const struct selftest __start_selftests[], __stop_selftests[];

/* How many suites the linker collected (none in the tiny configuration). */
static size_t suite_count(void)
{
    return (size_t)(__stop_selftests - __start_selftests);
}

CMDLINE_PARAM(selftest, "selftest", "run self-tests (NAME[,NAME...] or all), then shut down");

void selftest_fail(struct selftest_result *r, const char *fmt, ...)
{
    if (r->failed)
        return; /* the first failure is the one that explains */
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

void selftest_note(struct selftest_result *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

static bool run_one(const struct selftest *t)
{
    static struct selftest_result r;
    memset(&r, 0, sizeof(r));
    t->fn(&r);
    printk("selftest %s: %s %s\n", t->name, r.failed ? "FAIL" : "PASS", r.detail);
    return !r.failed;
}

/* Runs the suites named name[0..len) ("all": every suite), adding to the
 * counts; an unknown name is reported and counted as a failure. */
static void run_named(const char *name, size_t len, unsigned *passed, unsigned *failed)
{
    bool all = len == 3 && !strncmp(name, "all", 3);
    bool found = false;

    for (const struct selftest *t = __start_selftests; t < __stop_selftests; t++) {
        if (!all && (strlen(t->name) != len || strncmp(t->name, name, len)))
            continue;
        found = true;
        if (run_one(t))
            (*passed)++;
        else
            (*failed)++;
    }
    if (!found && !all) {
        printk("selftest: no suite named '%.*s'\n", (int)len, name);
        (*failed)++;
    }
}

/* XTF's report line (its include/xtf/report.h states; xtf-runner reads the
 * last one a guest prints): no failure is SUCCESS, any is FAILURE. */
static void xtf_result(unsigned failed)
{
    printk("Test result: %s\n", failed ? "FAILURE" : "SUCCESS");
}

int selftest_run(const char *names)
{
    unsigned passed = 0, failed = 0;

    if (suite_count() == 0) {
        /* The tiny configuration (mk/kernel.mk) leaves every suite out.
         * Asking for tests that are not there is a failure, not a pass. */
        printk("selftest: this kernel was built without self-tests\n");
        printk("selftest summary: 0 passed, 1 failed\n");
        xtf_result(1);
        return 1;
    }
    for (const char *p = names;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        run_named(p, len, &passed, &failed);
        if (!comma)
            break;
        p = comma + 1;
    }
    printk("selftest summary: %u passed, %u failed\n", passed, failed);
    xtf_result(failed);
    return (int)failed;
}

static int cmd_selftest(int argc, char **argv)
{
    if (argc > 2) {
        printk("usage: selftest [NAME[,NAME...]|all]\n");
        return 1;
    }
    if (argc == 1) {
        if (suite_count() == 0) {
            printk("selftest: this kernel was built without self-tests\n");
            return 0;
        }
        printk("suites:");
        for (const struct selftest *t = __start_selftests; t < __stop_selftests; t++)
            printk(" %s", t->name);
        printk("\n(selftest NAME[,NAME...]|all runs them)\n");
        return 0;
    }
    return selftest_run(argv[1]) ? 1 : 0;
}
SHELL_COMMAND(selftest, "selftest", "selftest [NAME[,NAME...]|all]",
              "run self-test suites (no argument: list them)", cmd_selftest);
