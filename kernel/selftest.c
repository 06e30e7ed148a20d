/*
 * selftest.c — the self-test framework (selftest.h). Suites registered with
 * SELFTEST(name) are collected by the linker in .selftests; `selftest=NAME|all`
 * on the command line (main.c) and `selftest NAME|all` on the shell run
 * them. Each suite prints exactly one line "selftest NAME: PASS|FAIL
 * <detail>", and a run ends with "selftest summary: N passed, M failed":
 * the markers tests match, like XTF's "Test result:" line.
 */
#include "kernel.h"
#include "selftest.h"
#include "shell.h"

extern const struct selftest __start_selftests[], __stop_selftests[];

CMDLINE_PARAM(selftest, "selftest", "run self-tests (NAME or all), then shut down");

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

int selftest_run(const char *name)
{
    unsigned passed = 0, failed = 0;
    bool all = !strcmp(name, "all");

    for (const struct selftest *t = __start_selftests; t < __stop_selftests; t++) {
        if (!all && strcmp(t->name, name))
            continue;
        if (run_one(t))
            passed++;
        else
            failed++;
    }
    if (!all && passed + failed == 0)
        return -1;
    printk("selftest summary: %u passed, %u failed\n", passed, failed);
    return (int)failed;
}

static int cmd_selftest(int argc, char **argv)
{
    if (argc > 2) {
        printk("usage: selftest [NAME|all]\n");
        return 1;
    }
    if (argc == 1) {
        printk("suites:");
        for (const struct selftest *t = __start_selftests; t < __stop_selftests; t++)
            printk(" %s", t->name);
        printk("\n(selftest NAME|all runs them)\n");
        return 0;
    }
    int failed = selftest_run(argv[1]);
    if (failed < 0) {
        printk("selftest: no suite named '%s'\n", argv[1]);
        return 1;
    }
    return failed ? 1 : 0;
}
SHELL_COMMAND(selftest, "selftest", "selftest [NAME|all]",
              "run self-test suites (no argument: list them)", cmd_selftest);
