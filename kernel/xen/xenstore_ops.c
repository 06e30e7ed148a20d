/*
 * xenstore_ops.c — XenStore operations (interface manual: "XenStore";
 * Xen 4.17 io/xs_wire.h and docs/misc/xenstore.txt for each payload):
 *   XS_READ              path\0                  -> value (no NUL)
 *   XS_WRITE             path\0 value            -> OK\0
 *   XS_MKDIR, XS_RM      path\0                  -> OK\0
 *   XS_DIRECTORY         path\0                  -> name\0name\0...
 *   XS_TRANSACTION_START \0                      -> id\0 (decimal)
 *   XS_TRANSACTION_END   T\0 (commit) | F\0      -> OK\0 (or EAGAIN: redo)
 * Each is one xs_request() (xenstore.c); answers are checked for shape
 * before use (a directory ends with a NUL, a transaction id is a number).
 */
#include "kernel.h"
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
    char *reply;
    uint32_t len;
    int rc = xs_request(XS_WRITE, tx, parts, 2, &reply, &len);
    if (!rc)
        free(reply);
    return rc;
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

int xs_directory(xs_tx_t tx, const char *path, char *buf, size_t size)
{
    char *reply;
    uint32_t len;
    int rc = path_request(XS_DIRECTORY, tx, path, &reply, &len);
    if (rc)
        return rc;
    if (len && reply[len - 1] != '\0') {
        xs_count_bad();
        printk("xenstore: directory %s: answer does not end with a NUL\n", path);
        rc = -XEN_EIO;
    } else if (len > size) {
        rc = -XEN_E2BIG;
    } else {
        int count = 0;
        for (uint32_t i = 0; i < len; i++)
            count += reply[i] == '\0';
        memcpy(buf, reply, len);
        rc = count;
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
    char *reply;
    uint32_t len;
    int rc = xs_request(XS_TRANSACTION_END, tx, &part, 1, &reply, &len);
    if (!rc)
        free(reply);
    return rc;
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

int xs_domid(domid_t *out)
{
    static domid_t cached;
    static bool known;
    if (!known) {
        unsigned long id;
        int rc = xs_read_ulong(XS_TX_NONE, "domid", &id);
        if (rc)
            return rc;
        if (id >= DOMID_FIRST_RESERVED) {
            printk("xenstore: domid %lu is not a domain id\n", id);
            return -XEN_EINVAL;
        }
        cached = (domid_t)id;
        known = true;
    }
    *out = cached;
    return 0;
}
