/*
 * selftest.c — the self-test framework (selftest.h), in XTF's manner: each
 * suite gives one result, PASS, FAIL or SKIP, on one line; a run ends with
 * XTF's own result line, so a CI that runs XTF's tests (and reads a
 * guest's last "Test result:" line as xtf-runner does) runs Xenolith's
 * unchanged.
 *
 * Suites registered with SELFTEST(name) / SELFTEST_IN(name, where) are
 * collected by the linker in .selftests; `selftest=NAME[,NAME...]|all|list`
 * on the command line (main.c) and `selftest NAME[,NAME...]|all|list` on
 * the shell run or list them. Lines, the markers tests match:
 *   "selftest NAME: PASS|FAIL|SKIP <detail>"     one per suite run
 *   "selftest: no suite named 'NAME'"            counted as a failure
 *   "suite NAME dom0|domU|both FILE"             one per suite, for `list`
 *                                                and before an `all` run
 *   "selftest summary: N passed, M failed, K skipped"
 *   "Test result: SUCCESS|SKIP|FAILURE"          XTF's: FAILURE if any
 *                                                failed, SKIP if nothing
 *                                                passed but some skipped
 * A suite declared for the other kind of domain is not run: "SKIP dom0
 * only" / "SKIP domU only".
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

struct selftest_counts {
    unsigned passed, failed, skipped;
};

static const char *const where_names[] = {
    [ST_DOM0] = "dom0", [ST_DOMU] = "domU", [ST_BOTH] = "both"};

/* How many suites the linker collected. The tiny configuration has none
 * and says so at build time (XENOLITH_SELFTESTS=0, mk/kernel.mk), so the
 * compiler drops the runner there. */
static size_t suite_count(void)
{
    return XENOLITH_SELFTESTS ? (size_t)(__stop_selftests - __start_selftests) : 0;
}

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

void selftest_skip(struct selftest_result *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->skipped = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

static unsigned this_domain(void)
{
    return xen_is_dom0() ? ST_DOM0 : ST_DOMU;
}

static void run_one(const struct selftest *t, struct selftest_counts *c)
{
    static struct selftest_result r;
    memset(&r, 0, sizeof(r));
    if (t->where & this_domain())
        t->fn(&r);
    else
        selftest_skip(&r, "%s only", where_names[t->where]);
    const char *verdict = r.failed ? "FAIL" : (r.skipped ? "SKIP" : "PASS");
    printk("selftest %s: %s %s\n", t->name, verdict, r.detail);
    if (r.failed)
        c->failed++;
    else if (r.skipped)
        c->skipped++;
    else
        c->passed++;
}

static void list_suites(void)
{
    for (const struct selftest *t = __start_selftests; t < __stop_selftests; t++)
        printk("suite %s %s %s\n", t->name, where_names[t->where], t->file);
}

/* Runs the suites named name[0..len) ("all": every suite), adding to the
 * counts; an unknown name is reported and counted as a failure. */
static void run_named(const char *name, size_t len, struct selftest_counts *c)
{
    bool all = len == 3 && !strncmp(name, "all", 3);
    bool found = false;

    if (all) /* what a whole run covers, so a reader can tell none went missing */
        list_suites();

    for (const struct selftest *t = __start_selftests; t < __stop_selftests; t++) {
        if (!all && (strlen(t->name) != len || strncmp(t->name, name, len)))
            continue;
        found = true;
        run_one(t, c);
    }
    if (!found && !all) {
        printk("selftest: no suite named '%.*s'\n", (int)len, name);
        c->failed++;
    }
}

/* XTF's report line (its include/xtf/report.h states; xtf-runner reads the
 * last one a guest prints). */
static void report(const struct selftest_counts *c)
{
    printk("selftest summary: %u passed, %u failed, %u skipped\n", c->passed, c->failed,
           c->skipped);
    printk("Test result: %s\n",
           c->failed ? "FAILURE" : (!c->passed && c->skipped ? "SKIP" : "SUCCESS"));
}

int selftest_run(const char *names)
{
    struct selftest_counts c = {0};
    bool ran = false;

    if (suite_count() == 0) {
        /* The tiny configuration (mk/kernel.mk) leaves every suite out.
         * Asking for tests that are not there is a failure, not a pass. */
        printk("selftest: this kernel was built without self-tests\n");
        c.failed = 1;
        report(&c);
        return 1;
    }
    for (const char *p = names;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 4 && !strncmp(p, "list", 4)) {
            list_suites();
        } else {
            run_named(p, len, &c);
            ran = true;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    if (ran)
        report(&c);
    return (int)c.failed;
}

static int cmd_selftest(int argc, char **argv)
{
    if (argc > 2) {
        printk("usage: selftest [NAME[,NAME...]|all|list]\n");
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
        printk("\n(selftest NAME[,NAME...]|all runs them, list says where)\n");
        return 0;
    }
    return selftest_run(argv[1]) ? 1 : 0;
}
SHELL_COMMAND(selftest, "selftest", "selftest [NAME[,NAME...]|all|list]",
              "run self-test suites (no argument: list them)",
              cmd_selftest);
