/*
 * xenstore_cmd.c — the `xs` shell command: XenStore by hand (interface
 * manual: "XenStore"). Relative paths are under /local/domain/<our id>.
 *   xs read PATH | readnum PATH | write PATH VALUE... | ls PATH | rm PATH |
 *      mkdir PATH | watch PATH [SECONDS] | domid | stats
 * Errors print "xs: <op> <path>: <-ENAME>" and the command returns 1.
 */
#include "kernel.h"
#include "console.h"
#include "mm.h"
#include "shell.h"
#include "time.h"
#include "xenstore.h"

#define XS_CMD_VALUE_MAX 1024
#define XS_CMD_LIST_MAX (32 * 1024) /* more than one message: XS_DIRECTORY_PART */
#define XS_WATCH_DEFAULT_S 5
#define XS_WATCH_MAX_S 600
#define XS_WATCH_POLL_MS 100 /* how often `xs watch` looks for a key press */

static int fail(const char *op, const char *path, int rc)
{
    printk("xs: %s %s: %s\n", op, path, xen_errname(rc));
    return 1;
}

static int do_read(const char *path)
{
    static char value[XS_CMD_VALUE_MAX];
    int rc = xs_read(XS_TX_NONE, path, value, sizeof(value));
    if (rc < 0)
        return fail("read", path, rc);
    printk("%s\n", value);
    return 0;
}

static int do_readnum(const char *path)
{
    unsigned long v;
    int rc = xs_read_ulong(XS_TX_NONE, path, &v);
    if (rc == -XEN_EINVAL) {
        printk("xs: readnum %s: not a number (%s)\n", path, xen_errname(rc));
        return 1;
    }
    if (rc)
        return fail("readnum", path, rc);
    printk("%lu\n", v);
    return 0;
}

static int do_write(const char *path, int argc, char **argv)
{
    static char value[SHELL_MAX_LINE];
    size_t len = 0;
    value[0] = '\0';
    for (int i = 0; i < argc; i++) { /* the shell split it on spaces: join */
        int n = snprintf(value + len, sizeof(value) - len, "%s%s", i ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= sizeof(value) - len)
            return fail("write", path, -XEN_E2BIG);
        len += (size_t)n;
    }
    int rc = xs_write(XS_TX_NONE, path, value);
    return rc ? fail("write", path, rc) : 0;
}

/* quiet: only the count and the bytes of names (a big directory takes a
 * while to print through the console ring). */
static int do_ls(const char *path, bool quiet)
{
    char *list = malloc(XS_CMD_LIST_MAX);
    if (!list)
        return fail("ls", path, -XEN_ENOMEM);
    int n = xs_directory(XS_TX_NONE, path, list, XS_CMD_LIST_MAX);
    if (n < 0) {
        free(list);
        return fail("ls", path, n);
    }
    const char *p = list;
    for (int i = 0; i < n; i++, p += strlen(p) + 1)
        if (!quiet)
            printk("%s\n", p);
    if (quiet)
        printk("(%d entries, %lu bytes of names)\n", n, (unsigned long)(p - list));
    else
        printk("(%d entries)\n", n);
    free(list);
    return 0;
}

static int do_watch(const char *path, unsigned long seconds)
{
    struct xs_watch *w;
    static char changed[XS_CMD_VALUE_MAX];
    int rc = xs_watch_add(path, &w);
    if (rc)
        return fail("watch", path, rc);
    printk("xs: watching %s for %lu s (any key stops)\n", path, seconds);
    uint64_t end = monotonic_ns() + seconds * NSEC_PER_SEC;
    unsigned long events = 0;
    while (monotonic_ns() < end) {
        rc = xs_watch_wait(w, changed, sizeof(changed), XS_WATCH_POLL_MS);
        if (!rc) {
            events++;
            printk("xs: watch event %s\n", changed);
        } else if (rc != -XEN_ETIMEDOUT) {
            fail("watch", path, rc);
            break;
        }
        if (console_trygetc() >= 0)
            break;
    }
    printk("xs: watch %s done: %lu events, %lu lost\n", path, events, xs_watch_lost(w));
    rc = xs_watch_remove(w);
    return rc ? fail("unwatch", path, rc) : 0;
}

static int cmd_xs(int argc, char **argv)
{
    if (xen_is_dom0()) {
        printk("xs: no xenstore in dom0 mode (Xenolith is dom0: no xenstored runs)\n");
        return 1;
    }
    if (!xs_available()) {
        printk("xs: xenstore is not set up (see the boot log)\n");
        return 1;
    }
    const char *op = argc > 1 ? argv[1] : "";
    if (argc == 2 && !strcmp(op, "domid")) {
        domid_t id;
        int rc = xs_domid(&id);
        if (rc)
            return fail("domid", "domid", rc);
        printk("domid %u\n", id);
        return 0;
    }
    if (argc == 2 && !strcmp(op, "stats")) {
        struct xs_stats s;
        xs_get_stats(&s);
        printk("xenstore: %lu requests, %lu replies, %lu watch events; %lu bad messages, "
               "%lu unexpected, %lu timeouts, %lu ring resyncs\n", s.requests, s.replies,
               s.watch_events, s.bad_messages, s.unexpected, s.timeouts, s.ring_resets);
        return 0;
    }
    if (argc == 3 && !strcmp(op, "read"))
        return do_read(argv[2]);
    if (argc == 3 && !strcmp(op, "readnum"))
        return do_readnum(argv[2]);
    if (argc >= 4 && !strcmp(op, "write"))
        return do_write(argv[2], argc - 3, argv + 3);
    if (argc == 3 && !strcmp(op, "ls"))
        return do_ls(argv[2], false);
    if (argc == 4 && !strcmp(op, "ls") && !strcmp(argv[2], "-q"))
        return do_ls(argv[3], true);
    if (argc == 3 && !strcmp(op, "rm")) {
        int rc = xs_rm(XS_TX_NONE, argv[2]);
        return rc ? fail("rm", argv[2], rc) : 0;
    }
    if (argc == 3 && !strcmp(op, "mkdir")) {
        int rc = xs_mkdir(XS_TX_NONE, argv[2]);
        return rc ? fail("mkdir", argv[2], rc) : 0;
    }
    if ((argc == 3 || argc == 4) && !strcmp(op, "watch")) {
        unsigned long s = XS_WATCH_DEFAULT_S;
        if (argc == 4 && (!parse_ulong(argv[3], &s) || s == 0 || s > XS_WATCH_MAX_S)) {
            printk("xs: watch: seconds must be 1-%u\n", XS_WATCH_MAX_S);
            return 1;
        }
        return do_watch(argv[2], s);
    }
    printk("usage: xs read|readnum|ls|rm|mkdir PATH | xs write PATH VALUE | "
           "xs watch PATH [SECONDS] | xs domid | xs stats\n");
    return 1;
}
SHELL_COMMAND(xs, "xs", "xs read|readnum|write|ls|rm|mkdir|watch|domid|stats ...",
              "XenStore: read/write/list/remove keys, watch a path (domU only)", cmd_xs);
