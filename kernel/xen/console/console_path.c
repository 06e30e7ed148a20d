/*
 * console_path.c — which way a console byte goes (interface manual
 * "Console"): dom0 through HYPERVISOR_console_io (console_dom0.c), a domU
 * through its ring (console.c), or console_io when the ring is unusable.
 *
 * Input waits in Xen rather than spinning: from console_input_init on, the
 * console event channel (domU: the ring's port, which xenconsoled notifies when
 * input arrives; dom0: VIRQ_CONSOLE, which Xen raises when serial input
 * arrives for dom0) has a handler, so console_getc can sleep in
 * wait_for_event() (events.h) until something comes. Before that it yields.
 * (console_resume, console.c, gives a new domain's ring port the handler.)
 */
#include "console_priv.h"
#include "events.h"
#include "sched.h"

void console_write(const char *s, size_t len)
{
    if (!len)
        return;
    if (xen_is_dom0() || !console_ring_write(s, len))
        console_io_write(s, len);
}

int console_trygetc(void)
{
    return xen_is_dom0() ? console_io_trygetc() : console_ring_trygetc();
}

bool console_input_events; /* the input event channel has a handler */

void console_event(evtchn_port_t port, void *data)
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
    } else if (console_ring_usable()) {
        rc = evtchn_set_handler(console_ring_evtchn, console_event, NULL);
    } else {
        return 0; /* console_io fallback: keep polling */
    }
    if (rc) {
        printk("console: no input event (%d); polling\n", rc);
        return rc;
    }
    console_input_events = true;
    return 0;
}

int console_getc(void)
{
    for (;;) {
        int c = console_trygetc();
        if (c >= 0)
            return c;
        if (console_input_events)
            wait_for_event();
        else
            xen_sched_yield();
    }
}
