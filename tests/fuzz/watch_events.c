/*
 * watch_events.c — fuzzes what kernel/xen/xenstore/xenstore_watch.c makes of
 * XS_WATCH_EVENT payloads (Xen 4.17 io/xs_wire.h: "path\0token\0"): the
 * split into path and token, the token's watch, the bounded queue of
 * changed paths and its draining by xs_watch_wait.
 *
 * The input registers one to three watches (tokens xw1.., xenstored's OK
 * answers off the input, xs_fake.c), then is a script of events (length,
 * bytes; the transport's NUL added), waits (during which the reader may
 * deliver another event) and cancels. Checks: an event is taken
 * exactly when it is two non-empty strings filling its length; a queued
 * path is a NUL-terminated copy; every watch is freed at the end
 * (LeakSanitizer). xenstore_watch.c is included, not linked, to number
 * the tokens from 1 in every run.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "xs_fake.h"
#include "xenstore/xenstore_watch.c"

#define MAX_WATCHES 3
#define MAX_TURNS 64
#define EVENT_MAX 512

static const char *const paths[MAX_WATCHES] = {"control", "memory/target", "device/vif/0/state"};

static struct fuzz_in *script;

/* Two strings, each non-empty, that fill len. */
static bool well_formed(const char *body, uint32_t len)
{
    size_t p = strnlen(body, len);
    if (p == 0 || p >= len)
        return false;
    size_t t = strnlen(body + p + 1, len - p - 1);
    return t > 0 && p + 1 + t == len - 1;
}

/* An event off the input, delivered as the XenStore reader does: taken
 * exactly when well formed. */
static void deliver_one(struct fuzz_in *in, uint16_t len)
{
    static char body[EVENT_MAX + 1];
    len %= EVENT_MAX + 1;
    fin_bytes(in, body, len);
    body[len] = '\0';
    FUZZ_ASSERT(xs_watch_deliver(body, len) == well_formed(body, len));
}

/* A reader's wait: meanwhile (as the input says) the XenStore reader
 * delivers an event, which wakes the waiter; then the condition once. */
int wait_until(bool (*cond)(void *), void *arg, uint64_t deadline_ns)
{
    if (script && fin_u8(script) & 1)
        deliver_one(script, fin_u16(script));
    return cond && cond(arg) ? 0 : -XEN_ETIMEDOUT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    script = &in;
    struct xs_watch *w[MAX_WATCHES] = {0};
    next_token = 0; /* tokens xw1.. in every run */
    unsigned nw = fin_u8(&in) % MAX_WATCHES + 1;
    xs_fake_feed(&in);
    for (unsigned i = 0; i < nw; i++)
        if (xs_watch_add(paths[i], &w[i]))
            w[i] = NULL;

    for (unsigned t = 0; t < MAX_TURNS && in.n; t++) {
        uint16_t len = fin_u16(&in);
        if ((len & 0xc000) == 0xc000) { /* its thread is told to stop */
            if (w[len % MAX_WATCHES])
                xs_watch_cancel(w[len % MAX_WATCHES]);
            continue;
        }
        if (len & 0x8000) { /* a reader takes one event */
            struct xs_watch *x = w[len % MAX_WATCHES];
            char path[64];
            bool no_buf = len & 0x100; /* the caller wants the event, not the path */
            if (x && !xs_watch_wait(x, no_buf ? NULL : path, no_buf ? 0 : sizeof(path), 1) &&
                !no_buf)
                FUZZ_ASSERT(memchr(path, '\0', sizeof(path)));
            continue;
        }
        deliver_one(&in, len);
    }
    for (unsigned i = 0; i < nw; i++)
        if (w[i])
            (void)xs_watch_remove(w[i]);
    xs_fake_feed(NULL);
    script = NULL;
    return 0;
}
