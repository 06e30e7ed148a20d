/*
 * control.c — the toolstack's requests (Xen 4.17 docs/misc/xenstore-paths:
 * ~/control/shutdown, ~/control/feature-*, ~/control/sysrq).
 *
 * `xl shutdown`, `xl reboot` and `xl save`/`migrate` write a word into
 * control/shutdown ("poweroff", "halt", "reboot", "suspend"); `xl sysrq`
 * writes one key into control/sysrq. A guest tells the toolstack which
 * requests it answers with control/feature-poweroff, -reboot and -suspend
 * ("1"), and acknowledges a request by clearing the node in the same
 * transaction that read it: libxl waits for that before it waits for the
 * domain to stop. An unknown word is left in place (not acknowledged) and
 * reported once, so the toolstack times out instead of believing us.
 *
 * A thread "control" watches control/ and acts; domU only (dom0 has no
 * XenStore here). Suspend is suspend.c's; the sysrq keys run the shell's
 * dump commands.
 */
#include "kernel.h"
#include "sched.h"
#include "shell.h"
#include "suspend.h"
#include "xenstore.h"

#define CONTROL_WORD_MAX 32

static const struct {
    char key;
    const char *command;
} sysrq_keys[] = {
    {'t', "threads"},
    {'m', "mem"},
    {'e', "events"},
};

static const char *const features[] = {"feature-poweroff", "feature-reboot", "feature-suspend"};

struct request {
    char path[24];              /* "control/shutdown" or "control/sysrq" */
    char value[CONTROL_WORD_MAX];
    bool (*known)(const char *value);
};

/* What the toolstack may ask for: every reason but a crash. */
static bool known_shutdown(const char *value)
{
    unsigned reason;
    return shutdown_reason_of(value, &reason) && reason != SHUTDOWN_crash;
}

static bool known_sysrq(const char *value)
{
    for (size_t i = 0; i < ARRAY_SIZE(sysrq_keys); i++)
        if (value[0] == sysrq_keys[i].key && value[1] == '\0')
            return true;
    return false;
}

/* Read the request and, when we answer it, clear it: in one transaction. */
static int take_request(xs_tx_t tx, void *arg)
{
    struct request *rq = arg;
    int rc = xs_read(tx, rq->path, rq->value, sizeof(rq->value));
    if (rc == -XEN_ENOENT || rc == -XEN_E2BIG) {
        rq->value[0] = '\0'; /* nothing asked, or not a word we know */
        return rc == -XEN_E2BIG ? rc : 0;
    }
    if (rc < 0 || rq->value[0] == '\0' || !rq->known(rq->value))
        return rc < 0 ? rc : 0;
    return xs_write(tx, rq->path, "");
}

/* The request at `path` now: "" when none; the word otherwise. */
static bool next_request(struct request *rq, char *last_unknown, size_t size)
{
    int rc = xs_transaction(take_request, rq);
    if (rc < 0) {
        if (rc != -XEN_ENOENT)
            printk("control: cannot read %s: %s\n", rq->path, xen_errname(rc));
        return false;
    }
    if (rq->value[0] == '\0')
        return false;
    if (!rq->known(rq->value)) {
        if (strcmp(last_unknown, rq->value))
            printk("control: unknown request %s = '%s' (not acknowledged)\n", rq->path,
                   rq->value);
        snprintf(last_unknown, size, "%s", rq->value);
        return false;
    }
    last_unknown[0] = '\0';
    return true;
}

static void do_shutdown(const char *word)
{
    unsigned reason;
    if (!shutdown_reason_of(word, &reason))
        return;
    printk("control: the toolstack asks for %s\n", word);
    if (reason != SHUTDOWN_suspend)
        kernel_shutdown(reason);
    int rc = kernel_suspend();
    if (rc)
        printk("control: suspend failed: %s\n", xen_errname(rc));
}

static void do_sysrq(const char *key)
{
    for (size_t i = 0; i < ARRAY_SIZE(sysrq_keys); i++) {
        if (key[0] == sysrq_keys[i].key) {
            printk("control: sysrq '%c': %s\n", key[0], sysrq_keys[i].command);
            (void)shell_exec(sysrq_keys[i].command);
        }
    }
}

static void control_main(void *arg)
{
    struct xs_watch *w = arg;
    struct request shutdown_rq = {"control/shutdown", "", known_shutdown};
    struct request sysrq_rq = {"control/sysrq", "", known_sysrq};
    char unknown_shutdown[CONTROL_WORD_MAX] = "", unknown_sysrq[CONTROL_WORD_MAX] = "";
    for (;;) {
        int rc = xs_watch_wait(w, NULL, 0, XS_TIMEOUT_MS);
        if (rc == -XEN_ETIMEDOUT)
            continue;
        if (next_request(&sysrq_rq, unknown_sysrq, sizeof(unknown_sysrq)))
            do_sysrq(sysrq_rq.value);
        if (next_request(&shutdown_rq, unknown_shutdown, sizeof(unknown_shutdown)))
            do_shutdown(shutdown_rq.value);
    }
}

static int control_advertise(void)
{
    int first = 0;
    for (size_t i = 0; i < ARRAY_SIZE(features); i++) {
        char path[40];
        snprintf(path, sizeof(path), "control/%s", features[i]);
        int rc = xs_write(XS_TX_NONE, path, "1");
        if (rc) {
            printk("control: cannot write %s: %s\n", path, xen_errname(rc));
            first = first ? first : rc;
        }
    }
    return first;
}

/* A new domain's XenStore home is written afresh by the toolstack. */
void control_resume(void)
{
    (void)control_advertise();
}

int control_init(void)
{
    if (!xs_available())
        return 0;
    int rc = xs_watch_thread("control", "control", control_main,
                             "xl shutdown will not be answered");
    if (rc)
        return rc;
    rc = control_advertise();
    printk("control: answering shutdown (poweroff, halt, reboot, suspend) and sysrq (t m e)\n");
    return rc;
}
