/*
 * events.h — event channels (interface manual: "Event channels"). The upcall
 * registered with set_callbacks walks the two-level pending bitmaps in
 * shared_info and calls the handler bound to each port.
 * Owner: kernel/xen/evtchn.c (events & time).
 */
#ifndef XENOLITH_EVENTS_H
#define XENOLITH_EVENTS_H

#include "kernel.h"

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *data);

/* Bind a handler to a port we already own and unmask it. */
int evtchn_set_handler(evtchn_port_t port, evtchn_handler_t h, void *data);
int evtchn_bind_virq(unsigned virq, evtchn_handler_t h, void *data, evtchn_port_t *port);
int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port);
int evtchn_send(evtchn_port_t port);
int evtchn_close(evtchn_port_t port);
void evtchn_mask(evtchn_port_t port);
void evtchn_unmask(evtchn_port_t port);

/* Event delivery on/off (vcpu_info->evtchn_upcall_mask). */
unsigned long irq_save(void);       /* masks, returns the old mask */
void irq_restore(unsigned long flags);
void irq_enable(void);

/* Block the VCPU in Xen (SCHEDOP_block) until an event or the timer fires,
 * then run pending handlers. Used by the idle loop and console input. */
void wait_for_event(void);

#endif
