/*
 * console.c — the guest console (interface manual: "Console"; Xen 4.17
 * public/io/console.h and HYPERVISOR_console_io).
 *
 * dom0 (SIF_INITDOMAIN): Xen owns the physical console. CONSOLEIO_write
 *   puts bytes on Xen's serial line, CONSOLEIO_read takes what arrived on it
 *   (Xen switches serial input to dom0 at the end of its boot).
 * domU: one shared page, struct xencons_interface, at machine frame
 *   start_info->console.domU.mfn, read by xenconsoled in dom0. Two byte
 *   rings, each with free-running 32-bit indexes: we produce "out" (advance
 *   out_prod) and consume "in" (advance in_cons); after either we notify
 *   the backend on the event channel start_info->console.domU.evtchn.
 *   The data must be visible before the index that publishes it (wmb), and
 *   an index read must come before the data it covers (rmb). Indexes come
 *   from another domain: a distance larger than the ring means the page is
 *   corrupt, and we stop trusting it rather than index out of bounds.
 *
 * The page is found before the memory part has set anything up: its MFN is
 * translated with the machine-to-physical table (mfn_to_pfn, p2m.c, which
 * asks Xen where that table is), and the PFN is inside the region the domain builder
 * mapped at KERNEL_VIRT_BASE (kernel, start_info, xenstore and console
 * pages, bootstrap page tables), so the direct-map address already works.
 *
 * Event delivery is masked while a write touches the ring, so an event
 * handler that prints cannot interleave with a half-published write.
 *
 * Input waits in Xen rather than spinning: from console_input_init on, the
 * console event channel (domU: the ring's port, which xenconsoled notifies when
 * input arrives; dom0: VIRQ_CONSOLE, which Xen raises when serial input
 * arrives for dom0) has a handler, so console_getc can sleep in
 * wait_for_event() (events.h) until something comes. Before that, and for
 * a full output ring (console_write may run with events masked), it yields.
 */
#include "kernel.h"
#include "suspend.h"
#include "console.h"
#include "events.h"
#include "mm.h"
#include "sched.h"
#include "time.h"

/* How long console_flush, and a fatal path facing a full ring, wait for
 * xenconsoled (Xen system time, which needs no set-up). */
#define CONSOLE_DRAIN_NS (2 * NSEC_PER_SEC)

static struct xencons_interface *ring;
static evtchn_port_t ring_port;
static bool ring_broken;
static bool initialised;

/* --- event mask (vcpu_info->evtchn_upcall_mask), kept local so the console
 * works before the event-channel part is up. --- */
static uint8_t mask_events(void)
{
    struct vcpu_info *v = this_vcpu();
    uint8_t old = v->evtchn_upcall_mask;
    v->evtchn_upcall_mask = 1;
    barrier();
    return old;
}

static void restore_events(uint8_t old)
{
    upcall_mask_restore_kick(this_vcpu(), old); /* delivers an event that arrived meanwhile */
}

static void notify_backend(void)
{
    struct evtchn_send send = {.port = ring_port};
    (void)HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

void console_init(void)
{
    if (initialised)
        return;
    initialised = true;
    if (xen_is_dom0())
        return;

    unsigned long pfn = mfn_to_pfn(start_info->console.domU.mfn);
    if (pfn >= start_info->nr_pages) { /* M2P_INVALID too */
        ring_broken = true;
        static const char msg[] = "console: ring mfn has no pfn; using console_io\n";
        (void)HYPERVISOR_console_io(CONSOLEIO_write, sizeof(msg) - 1, (char *)msg);
        return;
    }
    ring = pfn_to_virt(pfn);
    ring_port = start_info->console.domU.evtchn;
}

struct xencons_interface *console_ring(void)
{
    return ring_broken ? NULL : ring;
}

static bool ring_usable(void)
{
    if (!initialised)
        console_init();
    return ring && !ring_broken;
}

/* The ring's producer index is ours: kept here, written to the page, never
 * read back from it (a backend scribbling on the page cannot move it). */
static XENCONS_RING_IDX out_prod;
static bool out_prod_known;
/* Bytes given up because the backend stopped draining the ring; while it
 * does not, writes do not wait again (`stalled`). */
static unsigned long dropped;
static bool stalled, noting;

static void note_dropped(void);

/* Copy s to the out ring, each '\n' as "\r\n": all that fits at once (one
 * barrier and one index update), waiting while the ring is full, then one
 * notification. Stops without notifying when the ring is corrupt. A ring
 * that stays full for CONSOLE_DRAIN_NS loses the rest of the text (counted,
 * and said once the ring drains): events are masked here, so waiting for
 * ever would hang the kernel on a backend that stopped reading. */
static void ring_write(const char *s, size_t len)
{
    uint64_t deadline = 0;
    bool cr_put = false; /* the '\r' before s[i] == '\n' is on the ring */
    size_t i = 0;
    if (!out_prod_known) {
        out_prod = READ_ONCE(ring->out_prod);
        out_prod_known = true;
    }
    if (dropped && !noting)
        note_dropped();
    while (i < len) {
        XENCONS_RING_IDX cons = READ_ONCE(ring->out_cons);
        XENCONS_RING_IDX prod = out_prod, start = prod;
        xen_mb(); /* read cons before writing data into the space it frees */
        if ((XENCONS_RING_IDX)(prod - cons) > sizeof(ring->out)) {
            ring_broken = true;
            return;
        }
        for (; i < len && (XENCONS_RING_IDX)(prod - cons) < sizeof(ring->out); prod++) {
            char c = s[i];
            if (c == '\n' && !cr_put) {
                c = '\r';
                cr_put = true;
            } else {
                cr_put = false;
                i++;
            }
            ring->out[MASK_XENCONS_IDX(prod, ring->out)] = c;
        }
        if (prod != start) {
            xen_wmb(); /* data before the index that publishes it */
            out_prod = prod;
            WRITE_ONCE(ring->out_prod, prod);
            deadline = 0;
            stalled = false;
            continue;
        }
        /* Full: tell the backend and give it the CPU, for a while. */
        notify_backend();
        uint64_t now = xen_system_time_ns();
        if (!deadline)
            deadline = now + CONSOLE_DRAIN_NS;
        if (stalled || now > deadline) {
            stalled = true;
            dropped += len - i;
            return;
        }
        xen_sched_yield();
    }
    notify_backend();
}

static void note_dropped(void)
{
    char note[80];
    int n = snprintf(note, sizeof(note),
                     "\n[console: %lu bytes lost: the backend did not drain the ring]\n",
                     dropped);
    dropped = 0;
    noting = true;
    ring_write(note, n > 0 && (size_t)n < sizeof(note) ? (size_t)n : 0);
    noting = false;
}

void console_write(const char *s, size_t len)
{
    if (!len)
        return;
    if (xen_is_dom0() || !ring_usable()) {
        /* Xen 4.17 writes it all (continuing long writes itself) and
         * returns 0; a positive return is taken as "this much written". A
         * refusal (a domU on a release Xen) leaves nowhere to write. */
        while (len) {
            long n = HYPERVISOR_console_io(CONSOLEIO_write, (int)len, (char *)s);
            if (n <= 0 || (size_t)n > len)
                return;
            s += n;
            len -= (size_t)n;
        }
        return;
    }
    uint8_t old = mask_events();
    ring_write(s, len);
    restore_events(old);
}

void console_flush(void)
{
    if (xen_is_dom0() || !ring_usable())
        return;
    uint64_t deadline = xen_system_time_ns() + CONSOLE_DRAIN_NS;
    while (xen_system_time_ns() < deadline) {
        if (READ_ONCE(ring->out_cons) == out_prod)
            return;
        notify_backend();
        xen_sched_yield();
    }
}

/* dom0: CONSOLEIO_read takes what Xen's serial ring holds; keep a few
 * bytes here so a pasted line costs one hypercall per chunk, not per byte. */
#define DOM0_INPUT_CHUNK 64
static char dom0_input[DOM0_INPUT_CHUNK];
static unsigned dom0_input_len, dom0_input_pos;

static int dom0_trygetc(void)
{
    if (dom0_input_pos == dom0_input_len) {
        long n = HYPERVISOR_console_io(CONSOLEIO_read, sizeof(dom0_input), dom0_input);
        if (n <= 0 || n > (long)sizeof(dom0_input))
            return -1;
        dom0_input_len = (unsigned)n;
        dom0_input_pos = 0;
    }
    return (unsigned char)dom0_input[dom0_input_pos++];
}

/* domU: the same for the in ring, emptied a chunk at a time with one
 * notification to the backend per chunk. */
static char domu_input[DOM0_INPUT_CHUNK];
static unsigned domu_input_len, domu_input_pos;

int console_trygetc(void)
{
    if (xen_is_dom0())
        return dom0_trygetc();
    if (domu_input_pos < domu_input_len)
        return (unsigned char)domu_input[domu_input_pos++];
    if (!ring_usable())
        return -1;

    uint8_t old = mask_events();
    unsigned n = console_in_take(ring, domu_input, sizeof(domu_input));
    if (n)
        notify_backend();
    restore_events(old);
    domu_input_len = n;
    domu_input_pos = 0;
    return n ? (unsigned char)domu_input[domu_input_pos++] : -1;
}

static bool input_events; /* the input event channel has a handler */

static void console_event(evtchn_port_t port, void *data)
{
    /* Nothing to do here: wait_for_event() returns after any handled event,
     * and console_getc then looks at the ring. */
    (void)port;
    (void)data;
}

int console_input_init(void)
{
    int rc;
    if (xen_is_dom0()) {
        evtchn_port_t port;
        rc = evtchn_bind_virq(VIRQ_CONSOLE, console_event, NULL, &port);
    } else if (ring_usable()) {
        rc = evtchn_set_handler(ring_port, console_event, NULL);
    } else {
        return 0; /* console_io fallback: keep polling */
    }
    if (rc) {
        printk("console: no input event (%d); polling\n", rc);
        return rc;
    }
    input_events = true;
    return 0;
}

void console_resume(bool new_domain)
{
    /* The ring is a page of ours and keeps its pfn; a new domain's backend
     * notifies on a new port. */
    if (!new_domain || xen_is_dom0() || !ring)
        return;
    ring_port = start_info->console.domU.evtchn;
    if (input_events)
        (void)evtchn_set_handler(ring_port, console_event, NULL);
}

int console_getc(void)
{
    for (;;) {
        int c = console_trygetc();
        if (c >= 0)
            return c;
        if (input_events)
            wait_for_event();
        else
            xen_sched_yield();
    }
}
