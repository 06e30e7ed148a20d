/*
 * xenstore_answers.c — fuzzes what kernel/xen/xenstore/xenstore_ops.c and
 * xenbus_state.c make of xenstored's answers (Xen 4.17 io/xs_wire.h,
 * docs/misc/xenstore.txt): XS_READ values and numbers, XS_DIRECTORY lists,
 * XS_DIRECTORY_PART answers (generation count, names, the end marker, the
 * list changing under us), transaction ids and EAGAIN retries, XenbusState
 * values and a peer's path and domain id.
 *
 * The input is a script: an operation byte, a buffer size, then the
 * answers xenstored gives to the requests that operation makes (xs_fake.c).
 * Checks: a value read fits its buffer and ends with a NUL; a directory's
 * names lie within the buffer, as many as said; a state is a XenbusState; a
 * domain id is not a reserved one.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "xenbus.h"
#include "xenstore.h"
#include "xs_fake.h"

enum op { READ, READ_ULONG, DIRECTORY, TRANSACTION, STATE, PEER, OPS };

#define MAX_OPS 8
#define BUF_MAX 2048

static int read_in_tx(xs_tx_t tx, void *arg)
{
    char v[16];
    int rc = xs_read(tx, "control/shutdown", v, sizeof(v));
    return rc < 0 && rc != -XEN_ENOENT ? rc : 0;
}

static void one(struct fuzz_in *in)
{
    static char buf[BUF_MAX + 1];
    size_t size = fin_u16(in) % BUF_MAX + 1;
    unsigned long v;
    XenbusState s;
    domid_t id;
    int rc;
    switch (fin_u8(in) % OPS) {
    case READ:
        rc = xs_read(XS_TX_NONE, "device/vif/0/backend", buf, size);
        FUZZ_ASSERT(rc < (int)size);
        if (rc >= 0)
            FUZZ_ASSERT(buf[rc] == '\0');
        break;
    case READ_ULONG:
        rc = xs_read_ulong(XS_TX_NONE, "memory/target", &v);
        break;
    case DIRECTORY:
        buf[size] = 0x5a; /* past the buffer: never written */
        rc = xs_directory(XS_TX_NONE, "device/vbd", buf, size);
        FUZZ_ASSERT(buf[size] == 0x5a);
        if (rc > 0) {
            size_t at = 0;
            for (int i = 0; i < rc; i++) {
                size_t n = strnlen(buf + at, size - at);
                FUZZ_ASSERT(n < size - at);
                at += n + 1;
            }
        }
        break;
    case TRANSACTION:
        rc = xs_transaction(read_in_tx, NULL);
        break;
    case STATE:
        rc = xenbus_read_state("device/vif/0", &s);
        if (!rc)
            FUZZ_ASSERT((unsigned)s <= XenbusStateReconfigured);
        break;
    case PEER:
        rc = xenbus_read_peer("device/vif/0", "backend", buf, size, &id);
        if (!rc)
            FUZZ_ASSERT(id < DOMID_FIRST_RESERVED);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    xs_fake_feed(&in);
    for (unsigned i = 0; i < MAX_OPS && in.n; i++)
        one(&in);
    xs_fake_feed(NULL);
    return 0;
}
