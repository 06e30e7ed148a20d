/*
 * console_in.c — reading the domU console's input ring (interface manual:
 * "Console"; Xen 4.17 public/io/console.h: in[], in_cons, in_prod).
 *
 * xenconsoled produces keystrokes at in_prod, we consume them at in_cons;
 * both indexes are free-running and live in a page the backend can write.
 * A distance larger than the ring means the page is corrupt: everything it
 * claims is dropped (in_cons = in_prod) instead of read out of bounds.
 * Events and the notification are console.c's: it masks events around the
 * call and notifies the backend when bytes were taken.
 */
#include "kernel.h"
#include "console.h"

unsigned console_in_take(struct xencons_interface *ring, char *dst, unsigned size)
{
    XENCONS_RING_IDX cons = ring->in_cons;
    XENCONS_RING_IDX prod = READ_ONCE(ring->in_prod);
    xen_rmb(); /* the index before the data it covers */
    if ((XENCONS_RING_IDX)(prod - cons) > sizeof(ring->in)) {
        ring->in_cons = prod;
        return 0;
    }
    unsigned n = 0;
    for (; cons != prod && n < size; cons++)
        dst[n++] = ring->in[MASK_XENCONS_IDX(cons, ring->in)];
    if (n) {
        xen_mb(); /* finish reading the bytes before giving their slots back */
        ring->in_cons = cons;
    }
    return n;
}
