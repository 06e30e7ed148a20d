/*
 * xenstore_ring.c — fuzzes the XenStore reader (kernel/xen/xenstore/xenstore.c;
 * Xen 4.17 public/io/xs_wire.h, docs/misc/xenstore-ring.txt): the bytes
 * xenstored writes into the response ring and its rsp_prod, framed into
 * struct xsd_sockmsg headers and payloads, handed to waiters by req_id or
 * to the watch table (xenstore_watch.c, real), and XS_ERROR names turned
 * into errnos (xs_error_code, errno.c).
 *
 * xenstore.c is included, not linked, to reach its reader (reader_poll)
 * and the table of requests in flight, which are static. The input picks
 * a start index and which requests wait (req_id 1..4, a type each), then
 * is a script of xenstored turns: write some bytes into the ring (at most
 * what fits) or move rsp_prod anywhere, then one reader_poll. Checks: the
 * reader takes all it is given (or resyncs to rsp_prod), never holds more
 * than a header and XENSTORE_PAYLOAD_MAX bytes, and completes a waiter
 * only with an answer of its type or XS_ERROR, NUL-terminated, or an
 * error.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "xenstore.c"

#define WAITERS 4
#define MAX_TURNS 32

static const uint32_t waiter_types[] = {XS_READ, XS_DIRECTORY, XS_DIRECTORY_PART,
                                        XS_TRANSACTION_START, XS_WRITE, XS_WATCH};

/* A completed waiter, as xs_request would take it. */
static void check_answer(struct pending *p)
{
    if (p->err) {
        FUZZ_ASSERT(p->err < 0 && !p->body);
        return;
    }
    FUZZ_ASSERT(p->body && p->body[p->len] == '\0' && p->len <= XENSTORE_PAYLOAD_MAX);
    FUZZ_ASSERT(p->rtype == p->type || p->rtype == XS_ERROR);
    if (p->rtype == XS_ERROR)
        FUZZ_ASSERT(xs_error_code(p->body, p->len) < 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    static struct xenstore_domain_interface page;
    memset(&page, 0, sizeof(page));
    memset(pending, 0, sizeof(pending));
    ring = &page;
    ready = true;
    in_got = 0;
    rsp_cons = page.rsp_cons = page.rsp_prod = fin_u32(&in);
    uint8_t waiting = fin_u8(&in);
    for (unsigned i = 0; i < WAITERS; i++)
        if (waiting & (1u << i))
            pending[i] = (struct pending){.used = true, .req_id = i + 1,
                                          .type = waiter_types[fin_u8(&in) % 6]};

    for (unsigned t = 0; t < MAX_TURNS && in.n; t++) {
        uint16_t n = fin_u16(&in);
        if (n & 0x8000) {
            page.rsp_prod = fin_u32(&in);
        } else {
            uint32_t room = XENSTORE_RING_SIZE - (page.rsp_prod - rsp_cons);
            n = (uint16_t)(n % (room + 1));
            for (uint16_t i = 0; i < n; i++)
                page.rsp[MASK_XENSTORE_IDX(page.rsp_prod + i)] = (char)fin_u8(&in);
            page.rsp_prod += n;
        }
        (void)reader_poll();
        FUZZ_ASSERT(rsp_cons == page.rsp_prod && page.rsp_cons == rsp_cons);
        FUZZ_ASSERT(in_got <= XS_HDR_LEN + XENSTORE_PAYLOAD_MAX);
    }
    for (unsigned i = 0; i < XS_MAX_PENDING; i++) {
        if (pending[i].done)
            check_answer(&pending[i]);
        free(pending[i].body);
    }
    return 0;
}
