/*
 * xs_fake.c — xenstored as the fuzzer plays it, for the targets that fuzz
 * what XenStore answers rather than how it gets here (xenstore_ring.c
 * fuzzes the transport): each xs_request takes its answer off the input
 * set by xs_fake_feed: a byte choosing an error (as xs_request returns
 * for an XS_ERROR answer) or an answer of the request's type, then its
 * length and bytes, malloc'd with the NUL xs_request adds. An input that
 * has run out answers -XEN_EIO, so every loop of requests ends.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "xenstore.h"
#include "xenstore/xenstore_priv.h"
#include "xs_fake.h"

static struct fuzz_in *feed;

static const int errors[] = {-XEN_ENOENT, -XEN_E2BIG, -XEN_EAGAIN, -XEN_EACCES, -XEN_EINVAL};
#define ERROR_KINDS (sizeof(errors) / sizeof(errors[0]))

void xs_fake_feed(struct fuzz_in *in)
{
    feed = in;
}

int xs_request(uint32_t type, xs_tx_t tx, const struct xs_part *parts, unsigned n,
               char **reply, uint32_t *len)
{
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += parts[i].len;
    FUZZ_ASSERT(total <= XENSTORE_PAYLOAD_MAX && n <= XS_MAX_PARTS);
    if (!feed || !feed->n)
        return -XEN_EIO;
    uint8_t kind = fin_u8(feed);
    if (kind < ERROR_KINDS)
        return errors[kind];
    uint32_t l = fin_u16(feed) % (XENSTORE_PAYLOAD_MAX + 1);
    char *body = malloc(l + 1);
    FUZZ_ASSERT(body);
    fin_bytes(feed, body, l);
    body[l] = '\0';
    *reply = body;
    *len = l;
    return 0;
}

bool xs_ensure_ready(void)
{
    return true;
}

bool xs_available(void)
{
    return true;
}

void xs_count_bad(void) {}
