/*
 * xenstore_watch.c — XenStore watches (interface manual: "XenStore",
 * XS_WATCH / XS_UNWATCH / XS_WATCH_EVENT; Xen 4.17 io/xs_wire.h).
 *
 * XS_WATCH carries "path\0token\0"; xenstored answers OK, fires the watch
 * once at once and then whenever path or anything below it changes, with an
 * XS_WATCH_EVENT (req_id 0) whose payload is "changed-path\0token\0". Our
 * token is "xw<N>", unique per watch, so an event finds its watch by token;
 * an event for a token we no longer know (it was in flight when we
 * unwatched) is dropped silently. The transport's reader thread delivers
 * events here: each changed path is copied into the watch's queue (bounded:
 * beyond XS_WATCH_QUEUE they are counted as lost) and the thread waiting in
 * xs_watch_wait, if any, is woken.
 */
#include "kernel.h"
#include "suspend.h"
#include "mm.h"
#include "sched.h"
#include "xenstore.h"
#include "xenstore_priv.h"
#include "wait.h"

#define XS_TOKEN_LEN 16

struct xs_watch {
    struct xs_watch *next;
    char token[XS_TOKEN_LEN];
    char *path;
    char *queue[XS_WATCH_QUEUE];
    unsigned head, count;
    unsigned long lost;
    struct thread *waiter;
    unsigned long resumed; /* the last resume it was registered again for */
    volatile bool cancelled; /* xs_watch_cancel: the waiter returns at once */
};

static struct xs_watch *watches;
static unsigned long next_token, resumes;

unsigned long xs_watch_lost(const struct xs_watch *w)
{
    return w->lost;
}

/* "a\0b\0" exactly: two strings that fill len. */
static bool split_event(const char *body, uint32_t len, const char **path, const char **token)
{
    size_t plen = strnlen(body, len);
    if (plen == 0 || plen >= len)
        return false;
    size_t tlen = strnlen(body + plen + 1, len - plen - 1);
    if (tlen == 0 || plen + 1 + tlen + 1 != len) /* bytes after the token: not an event */
        return false;
    *path = body;
    *token = body + plen + 1;
    return true;
}

bool xs_watch_deliver(const char *body, uint32_t len)
{
    const char *path, *token;
    if (!split_event(body, len, &path, &token))
        return false;
    struct xs_watch *w = watches;
    while (w && strcmp(w->token, token))
        w = w->next;
    if (!w)
        return true; /* unwatched meanwhile: not an error */
    if (w->count == XS_WATCH_QUEUE) {
        w->lost++;
        return true;
    }
    size_t n = strlen(path) + 1;
    char *copy = malloc(n);
    if (!copy) {
        w->lost++;
        return true;
    }
    memcpy(copy, path, n);
    w->queue[(w->head + w->count) % XS_WATCH_QUEUE] = copy;
    w->count++;
    if (w->waiter)
        thread_wake(w->waiter);
    return true;
}

static int watch_op(uint32_t type, struct xs_watch *w)
{
    struct xs_part parts[2] = {{w->path, strlen(w->path) + 1},
                               {w->token, strlen(w->token) + 1}};
    return xs_request_ack(type, XS_TX_NONE, parts, 2);
}

static void unlink_watch(struct xs_watch *w)
{
    for (struct xs_watch **pp = &watches; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            return;
        }
}

static void free_watch(struct xs_watch *w)
{
    while (w->count) {
        free(w->queue[w->head]);
        w->head = (w->head + 1) % XS_WATCH_QUEUE;
        w->count--;
    }
    free(w->path);
    free(w);
}

void xs_watches_resume(void)
{
    /* xenstored of a new domain knows none of them: register each again
     * (it fires each once, as at the first registration). Each request
     * blocks, and meanwhile another thread may remove any watch (its own):
     * so no pointer is kept across one; the walk starts again from the head
     * and skips those already done. */
    resumes++;
    for (;;) {
        struct xs_watch *w = watches;
        while (w && w->resumed == resumes)
            w = w->next;
        if (!w)
            return;
        w->resumed = resumes;
        char path[64];
        snprintf(path, sizeof(path), "%s", w->path);
        int rc = watch_op(XS_WATCH, w); /* w may be gone once this returns */
        if (rc)
            printk("xenstore: watch %s after resume: %s\n", path, xen_errname(rc));
    }
}

int xs_watch_add(const char *path, struct xs_watch **out)
{
    if (!xs_ensure_ready())
        return -XEN_ENODEV;
    struct xs_watch *w = calloc(1, sizeof(*w));
    size_t n = strlen(path) + 1;
    if (!w || !(w->path = malloc(n))) {
        free(w);
        return -XEN_ENOMEM;
    }
    memcpy(w->path, path, n);
    snprintf(w->token, sizeof(w->token), "xw%lu", ++next_token);
    /* In the table first: the first event may follow the OK at once. */
    w->next = watches;
    watches = w;
    int rc = watch_op(XS_WATCH, w);
    if (rc) {
        unlink_watch(w);
        free_watch(w);
        return rc;
    }
    *out = w;
    return 0;
}

int xs_watch_thread(const char *path, const char *name, void (*fn)(void *w),
                    const char *without)
{
    struct xs_watch *w;
    int rc = xs_watch_add(path, &w);
    if (rc) {
        printk("xenstore: cannot watch %s: %s; %s\n", path, xen_errname(rc), without);
        return rc;
    }
    if (!thread_create(name, fn, w)) {
        printk("xenstore: no thread to watch %s; %s\n", path, without);
        (void)xs_watch_remove(w);
        return -XEN_ENOMEM;
    }
    return 0;
}

static bool has_event(void *arg)
{
    const struct xs_watch *w = arg;
    return READ_ONCE(w->count) != 0 || w->cancelled;
}

void xs_watch_cancel(struct xs_watch *w)
{
    w->cancelled = true;
    if (w->waiter)
        thread_wake(w->waiter);
}

int xs_watch_wait(struct xs_watch *w, char *buf, size_t size, unsigned long timeout_ms)
{
    w->waiter = thread_current();
    int rc = wait_until(has_event, w, deadline_ms(timeout_ms));
    w->waiter = NULL;
    if (rc)
        return rc;
    if (!w->count)
        return -XEN_ENOENT;
    char *path = w->queue[w->head];
    w->head = (w->head + 1) % XS_WATCH_QUEUE;
    w->count--;
    if (buf && size)
        strlcpy(buf, path, size);
    free(path);
    return 0;
}

int xs_watch_remove(struct xs_watch *w)
{
    int rc = watch_op(XS_UNWATCH, w);
    unlink_watch(w);
    free_watch(w);
    return rc;
}
