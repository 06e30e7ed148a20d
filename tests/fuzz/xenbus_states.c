/*
 * xenbus_states.c — fuzzes what the frontend life cycle makes of the
 * XenBus state values and keys a backend publishes (kernel/xen/frontend.c
 * over xenbus_state.c; Xen 4.17 public/io/xenbus.h): the backend's path and
 * id (frontend_init), "<backend>/state" while waiting for a state, while
 * closing and while watching a connected backend (watch_main), the numbers
 * and feature flags it writes, and which devices are listed as present
 * (frontend_list leaves out those Closing or Closed).
 *
 * frontend.c is included, not linked, to run its watch thread: here
 * thread_create runs the thread's function at once and thread_exit comes
 * back to it; a thread still watching when the input runs out is stopped
 * as frontend_unwatch_backend stops it. xenstored's answers come off the
 * input (xs_fake.c). The input is a script of operations.
 * Checks: a backend path taken is absolute and its id no reserved one; a
 * wait that succeeds reached a state asked for; every state reported is a
 * XenbusState; the watch thread ends, reporting the backend gone at most
 * once, in a state that means gone (Unknown, Closing, Closed); a listing
 * lies within its buffer; every watch thread is joined.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "xs_fake.h"
#include "frontend.c"

enum op { INIT, LIST, WAIT, CLOSE, WATCH, U64, ULONG, FEATURE, NAMES, OPS };

#define MAX_OPS 12
#define BUF_MAX 1024

static struct fuzz_in *script;
static jmp_buf thread_done;
static bool in_thread;
static unsigned gone_calls;
static XenbusState gone_state;
static struct {
    void (*fn)(void *);
    void *arg;
} created; /* the thread made and not yet run */

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg)
{
    FUZZ_ASSERT(!created.fn && !in_thread);
    if (fin_u8(script) == 0xff)
        return NULL; /* no thread to be had */
    created.fn = fn;
    created.arg = arg;
    return (struct thread *)1;
}

/* The thread made runs once its maker is done, until it ends. */
static void run_created(void)
{
    if (!created.fn)
        return;
    in_thread = true;
    if (!setjmp(thread_done))
        created.fn(created.arg);
    in_thread = false;
    created.fn = NULL;
}

_Noreturn void thread_exit(void)
{
    FUZZ_ASSERT(in_thread);
    longjmp(thread_done, 1);
}

/* The watch thread's wait: over at once; once the input has run out, the
 * driver stops watching (frontend_unwatch_backend), else it would wait for
 * ever on a backend that no longer answers. */
int wait_until(bool (*cond)(void *), void *arg, uint64_t deadline_ns)
{
    if (!script->n)
        for (struct backend_watch *bw = watching; bw; bw = bw->next)
            bw->stop = true;
    return cond && cond(arg) ? 0 : -XEN_ETIMEDOUT;
}

int evtchn_close(evtchn_port_t port)
{
    return fin_u8(script) == 0xff ? -XEN_EINVAL : 0;
}

static void gone(struct xenbus_frontend *fe, XenbusState st, void *arg)
{
    FUZZ_ASSERT(arg == fe);
    gone_calls++;
    gone_state = st;
}

static bool a_state(XenbusState st)
{
    return (unsigned)st <= XenbusStateReconfigured;
}

static void one(struct fuzz_in *in, struct xenbus_frontend *fe)
{
    static char buf[BUF_MAX + 1];
    size_t size = fin_u16(in) % BUF_MAX + 1;
    XenbusState st = (XenbusState)0x5a5a;
    uint64_t v64;
    unsigned long v;
    int rc;
    switch (fin_u8(in) % OPS) {
    case INIT: {
        /* Sometimes an id too long for a path (ids are the toolstack's). */
        static char long_id[XENBUS_PATH_MAX];
        memset(long_id, '7', sizeof(long_id) - 1);
        bool too_long = fin_u8(in) == 0xff;
        rc = frontend_init(fe, "vbd", too_long ? long_id : "768");
        FUZZ_ASSERT(fe->driver);
        FUZZ_ASSERT(too_long ? rc == -XEN_ENAMETOOLONG : !strcmp(fe->node, "device/vbd/768"));
        if (!rc)
            FUZZ_ASSERT(fe->backend[0] == '/' && fe->backend_id < DOMID_FIRST_RESERVED &&
                        strnlen(fe->backend, sizeof(fe->backend)) < sizeof(fe->backend));
        break;
    }
    case LIST: {
        buf[size] = 0x5a;
        rc = frontend_list("vbd", buf, size);
        FUZZ_ASSERT(buf[size] == 0x5a);
        size_t at = 0;
        for (int i = 0; i < rc; i++) {
            size_t n = strnlen(buf + at, size - at);
            FUZZ_ASSERT(n < size - at);
            at += n + 1;
        }
        break;
    }
    case WAIT: {
        uint32_t mask = fin_u16(in);
        bool told = !(mask & 0x8000); /* else the caller does not ask which */
        rc = frontend_wait_backend(fe, mask, fin_u8(in), told ? &st : NULL);
        if (told)
            FUZZ_ASSERT(a_state(st));
        if (!rc && told)
            FUZZ_ASSERT(mask & XENBUS_STATE_BIT(st));
        break;
    }
    case CLOSE:
        fe->has_evtchn = fin_u8(in) & 1;
        (void)frontend_close(fe);
        FUZZ_ASSERT(!fe->has_evtchn);
        break;
    case WATCH: {
        unsigned before = gone_calls;
        rc = frontend_watch_backend(fe, gone, fe);
        FUZZ_ASSERT(!rc == !!watching);
        run_created();
        FUZZ_ASSERT(!watching); /* the thread ran and ended */
        FUZZ_ASSERT(gone_calls <= before + 1);
        if (rc)
            FUZZ_ASSERT(gone_calls == before);
        if (gone_calls > before)
            FUZZ_ASSERT(gone_state == XenbusStateUnknown || closing_or_closed(gone_state));
        break;
    }
    case U64:
        rc = frontend_backend_u64(fe, "sectors", &v64);
        break;
    case ULONG:
        rc = frontend_backend_ulong(fe, "sector-size", &v);
        break;
    case FEATURE:
        (void)frontend_backend_feature(fe, "feature-flush-cache", fin_u8(in) & 1);
        break;
    case NAMES: {
        XenbusState any = (XenbusState)fin_u32(in);
        FUZZ_ASSERT(xenbus_state_name(any) && frontend_gone_reason(any));
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    struct xenbus_frontend fe = {.driver = "blkfront"};
    script = &in;
    xs_fake_feed(&in);
    strcpy(fe.node, "device/vbd/768");
    strcpy(fe.backend, "/local/domain/0/backend/vbd/1/768");
    for (unsigned i = 0; i < MAX_OPS && in.n; i++)
        one(&in, &fe);
    reap_watchers();
    FUZZ_ASSERT(!watching && !n_ended_watchers);
    xs_fake_feed(NULL);
    return 0;
}
