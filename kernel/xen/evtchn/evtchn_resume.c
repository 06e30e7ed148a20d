/*
 * evtchn_resume.c — event channels after suspend/resume and migration
 * (interface manual "Event channels"; Xen 4.17 public/sched.h
 * SHUTDOWN_suspend: the resumed domain may be a new one). Called by
 * suspend.c; the mechanism is evtchn.c's.
 */
#include "evtchn_priv.h"
#include "suspend.h"

/* A new domain has no event channel at all (and its shared_info every port
 * unmasked and idle): every port we knew is gone. VIRQs are ours alone, so
 * they are bound again here, to the same handlers, maybe on other ports;
 * the owners of the other ports (console, XenStore, frontends) make their
 * own. Called with events masked. */
void evtchn_resume(bool new_domain)
{
    if (!new_domain)
        return;
    struct virq_binding {
        uint32_t virq;
        evtchn_handler_t handler;
        void *data;
    } virqs[NR_VIRQS];
    unsigned n = 0;
    for (evtchn_port_t port = 0; port < EVTCHN_NR_PORTS; port++)
        if (evtchn_ports[port].kind == PORT_VIRQ && n < ARRAY_SIZE(virqs)
#if XENOLITH_SMP /* another vCPU's VIRQs are smp.c's to bind, when it is back up */
            && evtchn_ports[port].vcpu == 0
#endif
        )
            virqs[n++] = (struct virq_binding){evtchn_ports[port].virq, evtchn_ports[port].handler,
                                               evtchn_ports[port].data};
    memset(evtchn_ports, 0, sizeof(evtchn_ports));
    (void)evtchn_register_callbacks();
    for (unsigned i = 0; i < n; i++)
        (void)evtchn_bind_virq(virqs[i].virq, virqs[i].handler, virqs[i].data, NULL);
}
