/*
 * console.c — the domU console ring (interface manual: "Console"; Xen 4.17
 * public/io/console.h), the protocol alone: finding the page, writing the
 * out ring, taking the in ring (console_in.c), notifying the backend.
 * Beside it: console_dom0.c (dom0, and a domU without a usable ring:
 * HYPERVISOR_console_io), console_path.c (which of the two a byte takes,
 * input by event, resume), console_priv.h (what they share).
 *
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
 * A full output ring (console_write may run with events masked) is waited
 * for by yielding, for at most CONSOLE_DRAIN_NS.
 */
#include "console_priv.h"
#include "events.h"
#include "mm.h"
#include "sched.h"
#include "suspend.h"
#include "time.h"

/* How long console_flush, and a fatal path facing a full ring, wait for
 * xenconsoled (Xen system time, which needs no set-up). */
#define CONSOLE_DRAIN_NS (2 * NSEC_PER_SEC)

static struct xencons_interface *ring;
evtchn_port_t console_ring_evtchn;
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
    struct evtchn_send send = {.port = console_ring_evtchn};
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
        console_io_write(msg, sizeof(msg) - 1);
        return;
    }
    ring = pfn_to_virt(pfn);
    console_ring_evtchn = start_info->console.domU.evtchn;
}

struct xencons_interface *console_ring(void)
{
    return ring_broken ? NULL : ring;
}

bool console_ring_usable(void)
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

void console_flush(void)
{
    if (xen_is_dom0() || !console_ring_usable())
        return;
    uint64_t deadline = xen_system_time_ns() + CONSOLE_DRAIN_NS;
    while (xen_system_time_ns() < deadline) {
        if (READ_ONCE(ring->out_cons) == out_prod)
            return;
        notify_backend();
        xen_sched_yield();
    }
}

bool console_ring_write(const char *s, size_t len)
{
    if (!console_ring_usable())
        return false;
    uint8_t old = mask_events();
    ring_write(s, len);
    restore_events(old);
    return true;
}

/* The in ring, emptied a chunk at a time with one notification to the
 * backend per chunk. */
static char domu_input[CONSOLE_INPUT_CHUNK];
static unsigned domu_input_len, domu_input_pos;

int console_ring_trygetc(void)
{
    if (domu_input_pos < domu_input_len)
        return (unsigned char)domu_input[domu_input_pos++];
    if (!console_ring_usable())
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

/* The ring is a page of ours and keeps its pfn; a new domain's backend
 * notifies on a new port. */
void console_resume(bool new_domain)
{
    if (!new_domain || xen_is_dom0() || !ring)
        return;
    console_ring_evtchn = start_info->console.domU.evtchn;
    if (console_input_events)
        (void)evtchn_set_handler(console_ring_evtchn, console_event, NULL);
}

