/*
 * console_priv.h — what the console files (kernel/xen/console*.c) share and
 * nobody else uses: the domU ring (console.c) and HYPERVISOR_console_io
 * (console_dom0.c), each behind the same few calls, chosen by
 * console_path.c.
 */
#ifndef XENOLITH_CONSOLE_PRIV_H
#define XENOLITH_CONSOLE_PRIV_H

#include "kernel.h"
#include "console.h"

/* Input is taken a chunk at a time: one hypercall or one notification per
 * chunk, not per byte. */
#define CONSOLE_INPUT_CHUNK 64

/* console.c: the ring is found and not corrupt (finds it on first use). */
bool console_ring_usable(void);
/* ... write all of s (events masked meanwhile; false, writing nothing,
 * when the ring is unusable), take one input byte or -1. */
bool console_ring_write(const char *s, size_t len);
int console_ring_trygetc(void);
/* ... the port the backend notifies (new after resume in a new domain). */
extern evtchn_port_t console_ring_evtchn;

/* console_path.c: the input event channel has console_event as handler. */
extern bool console_input_events;
void console_event(evtchn_port_t port, void *data);

/* console_dom0.c: the same through HYPERVISOR_console_io. */
void console_io_write(const char *s, size_t len);
int console_io_trygetc(void);

#endif
