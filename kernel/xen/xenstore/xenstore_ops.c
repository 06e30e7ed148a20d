/*
 * xenstore_ops.c — XenStore operations (interface manual: "XenStore";
 * Xen 4.17 io/xs_wire.h and docs/misc/xenstore.txt for each payload):
 *   XS_READ              path\0                  -> value (no NUL)
 *   XS_WRITE             path\0 value            -> OK\0
 *   XS_MKDIR, XS_RM      path\0                  -> OK\0
 *   XS_DIRECTORY         path\0                  -> name\0name\0...
 *   XS_DIRECTORY_PART    path\0 offset\0         -> gen\0 name\0...[\0]
 *   XS_TRANSACTION_START \0                      -> id\0 (decimal)
 *   XS_TRANSACTION_END   T\0 (commit) | F\0      -> OK\0 (or EAGAIN: redo)
 * Each is one xs_request() (xenstore.c), except a directory whose list of
 * names is longer than one message (XENSTORE_PAYLOAD_MAX): xenstored answers
 * XS_DIRECTORY with E2BIG, and the list is read in parts with
 * XS_DIRECTORY_PART (see directory_parts). Answers are checked for shape
 * before use (a directory ends with a NUL, a transaction id is a number).
 */
#include "kernel.h"
#include "suspend.h"
#include "mm.h"
#include "xenstore.h"
#include "xenstore_priv.h"

#define XS_PRINTF_MAX 256 /* longest value xs_printf formats */

static int path_request(uint32_t type, xs_tx_t tx, const char *path, char **reply, uint32_t *len)
{
    struct xs_part part = {path, strlen(path) + 1};
    return xs_request(type, tx, &part, 1, reply, len);
}

/* For requests whose answer is just "OK". */
static int path_op(uint32_t type, xs_tx_t tx, const char *path)
{
    char *reply;
    uint32_t len;
    int rc = path_request(type, tx, path, &reply, &len);
    if (!rc)
        free(reply);
    return rc;
}

int xs_read(xs_tx_t tx, const char *path, char *buf, size_t size)
{
    char *reply;
    uint32_t len;
    int rc = path_request(XS_READ, tx, path, &reply, &len);
    if (rc)
        return rc;
    if (len >= size) {
        rc = -XEN_E2BIG;
    } else {
        memcpy(buf, reply, len);
        buf[len] = '\0';
        rc = (int)len;
    }
    free(reply);
    return rc;
}

/* Numbers in XenStore are short; a longer value is not one. */
#define XS_NUMBER_MAX 32

int xs_read_ulong(xs_tx_t tx, const char *path, unsigned long *out)
{
    char buf[XS_NUMBER_MAX];
    int rc = xs_read(tx, path, buf, sizeof(buf));
    if (rc == -XEN_E2BIG) {
        printk("xenstore: %s: value too long to be a number\n", path);
        return -XEN_EINVAL;
    }
    if (rc < 0)
        return rc;
    if (!parse_ulong(buf, out)) {
        printk("xenstore: %s: value '%s' is not a number\n", path, buf);
        return -XEN_EINVAL;
    }
    return 0;
}

int xs_write(xs_tx_t tx, const char *path, const char *value)
{
    struct xs_part parts[2] = {{path, strlen(path) + 1}, {value, strlen(value)}};
    return xs_request_ack(XS_WRITE, tx, parts, 2);
}

int xs_printf(xs_tx_t tx, const char *path, const char *fmt, ...)
{
    char value[XS_PRINTF_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(value))
        return -XEN_E2BIG;
    return xs_write(tx, path, value);
}

int xs_mkdir(xs_tx_t tx, const char *path)
{
    return path_op(XS_MKDIR, tx, path);
}

int xs_rm(xs_tx_t tx, const char *path)
{
    return path_op(XS_RM, tx, path);
}

static int count_names(const char *list, size_t len)
{
    int count = 0;
    for (size_t i = 0; i < len; i++)
        count += list[i] == '\0';
    return count;
}

/* XS_DIRECTORY_PART (xs_wire.h's header comment; xenstored since Xen 4.9):
 * the request names the directory and a byte offset into its list of
 * names; the answer is the directory node's generation count, then as many
 * whole names from that offset as fit in one message, and one more NUL (an
 * empty name) once the list's end is in it. The generation count changes
 * with every change of the node: parts read under one count belong to one
 * list, so when it changes the reading starts again from offset 0. */
#define XS_GEN_MAX 24     /* a generation count: a decimal 64-bit number */
#define XS_OFFSET_MAX 12  /* a decimal offset */
#define XS_DIR_RESTARTS 8 /* the directory changed under us this often: give up */

static int directory_part(xs_tx_t tx, const char *path, size_t offset, char *gen, char *buf,
                          size_t room, size_t *got, bool *end)
{
    char off[XS_OFFSET_MAX];
    snprintf(off, sizeof(off), "%lu", (unsigned long)offset);
    struct xs_part parts[2] = {{path, strlen(path) + 1}, {off, strlen(off) + 1}};
    char *reply;
    uint32_t len;
    int rc = xs_request(XS_DIRECTORY_PART, tx, parts, 2, &reply, &len);
    if (rc)
        return rc;
    size_t glen = strnlen(reply, len);
    const char *names = reply + glen + 1;
    size_t nlen = glen < len ? len - glen - 1 : 0;
    if (glen == 0 || glen >= len || glen >= XS_GEN_MAX || (nlen && names[nlen - 1] != '\0')) {
        xs_count_bad();
        printk("xenstore: directory part %s@%s: malformed answer (%u bytes)\n", path, off,
               (unsigned)len);
        free(reply);
        return -XEN_EIO;
    }
    memcpy(gen, reply, glen + 1);
    /* The end: no names left, or the last name is the empty one. */
    *end = nlen == 0 || nlen == 1 || names[nlen - 2] == '\0';
    if (*end && nlen)
        nlen--;
    if (!*end && nlen == 0) {
        xs_count_bad();
        free(reply);
        return -XEN_EIO; /* would never end */
    }
    if (nlen > room) {
        rc = -XEN_E2BIG;
    } else {
        memcpy(buf, names, nlen);
        *got = nlen;
    }
    free(reply);
    return rc;
}

static int directory_parts(xs_tx_t tx, const char *path, char *buf, size_t size)
{
    char first_gen[XS_GEN_MAX], gen[XS_GEN_MAX];
    for (unsigned attempt = 0; attempt < XS_DIR_RESTARTS; attempt++) {
        size_t have = 0;
        bool end = false, changed = false;
        while (!end && !changed) {
            size_t got = 0;
            int rc = directory_part(tx, path, have, gen, buf + have, size - have, &got, &end);
            if (rc)
                return rc;
            if (have == 0)
                memcpy(first_gen, gen, sizeof(gen));
            changed = strcmp(first_gen, gen) != 0;
            have += got;
        }
        if (!changed)
            return count_names(buf, have);
    }
    printk("xenstore: directory %s kept changing while read in parts\n", path);
    return -XEN_EAGAIN;
}

int xs_directory(xs_tx_t tx, const char *path, char *buf, size_t size)
{
    char *reply;
    uint32_t len;
    int rc = path_request(XS_DIRECTORY, tx, path, &reply, &len);
    if (rc == -XEN_E2BIG)
        return directory_parts(tx, path, buf, size); /* longer than one message */
    if (rc)
        return rc;
    if (len && reply[len - 1] != '\0') {
        xs_count_bad();
        printk("xenstore: directory %s: answer does not end with a NUL\n", path);
        rc = -XEN_EIO;
    } else if (len > size) {
        rc = -XEN_E2BIG;
    } else {
        memcpy(buf, reply, len);
        rc = count_names(reply, len);
    }
    free(reply);
    return rc;
}

int xs_transaction_start(xs_tx_t *tx)
{
    static const char empty[1] = "";
    struct xs_part part = {empty, 1};
    char *reply;
    uint32_t len;
    int rc = xs_request(XS_TRANSACTION_START, XS_TX_NONE, &part, 1, &reply, &len);
    if (rc)
        return rc;
    unsigned long id;
    if (!parse_ulong(reply, &id) || id == 0 || id > UINT32_MAX) {
        xs_count_bad();
        printk("xenstore: transaction id '%.*s' is not a number\n", (int)(len < 32 ? len : 32),
               reply);
        rc = -XEN_EIO;
    } else {
        *tx = (xs_tx_t)id;
    }
    free(reply);
    return rc;
}

int xs_transaction_end(xs_tx_t tx, bool abort)
{
    struct xs_part part = {abort ? "F" : "T", 2};
    return xs_request_ack(XS_TRANSACTION_END, tx, &part, 1);
}

int xs_transaction(int (*fn)(xs_tx_t tx, void *arg), void *arg)
{
    int rc = -XEN_EAGAIN;
    for (unsigned attempt = 0; attempt < XS_TX_RETRIES && rc == -XEN_EAGAIN; attempt++) {
        xs_tx_t tx;
        if ((rc = xs_transaction_start(&tx)))
            return rc;
        int err = fn(tx, arg);
        if (err) {
            (void)xs_transaction_end(tx, true);
            return err;
        }
        rc = xs_transaction_end(tx, false);
    }
    return rc;
}

static domid_t cached_domid;
static bool domid_known;

void xs_domid_forget(void)
{
    domid_known = false;
}

int xs_domid(domid_t *out)
{
    if (!domid_known) {
        unsigned long id;
        int rc = xs_read_ulong(XS_TX_NONE, "domid", &id);
        if (rc)
            return rc;
        if (id >= DOMID_FIRST_RESERVED) {
            printk("xenstore: domid %lu is not a domain id\n", id);
            return -XEN_EINVAL;
        }
        cached_domid = (domid_t)id;
        domid_known = true;
    }
    *out = cached_domid;
    return 0;
}
