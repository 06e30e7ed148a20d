/*
 * console.h — the console (interface manual: "Console"; Xen 4.17: io/console.h
 * ring for a domU, HYPERVISOR_console_io for dom0). Implemented in
 * kernel/xen/: console.c (the ring), console_in.c (reading the input ring),
 * console_dom0.c (console_io), console_path.c (which of them, input events).
 *
 * Output is usable from the first instruction of kernel_main (console_init
 * is its first call); printk is the usual way in. Input: console_getc blocks
 * (waiting in Xen), console_trygetc polls.
 */
#ifndef XENOLITH_CONSOLE_H
#define XENOLITH_CONSOLE_H

#include "kernel.h"

void console_init(void);   /* picks console_io (dom0) or the ring (domU) */
/* Start of day (main.c): console input by event instead of polling. */
int console_input_init(void);
void console_write(const char *s, size_t len); /* whole buffer, in order */
int console_getc(void);  /* blocks; returns a byte */
int console_trygetc(void); /* -1 when nothing is there */

/* Wait (bounded) until the backend has consumed everything written, so the
 * last lines are seen before a shutdown. */
void console_flush(void);

/* The domU ring, or NULL in dom0 mode (for the self-test and `info`). */
struct xencons_interface *console_ring(void);

/* console_in.c: copy at most `size` bytes the in ring holds to dst and give
 * their space back: how many (0 when empty or when the indexes are corrupt,
 * whose bytes are then dropped). The caller notifies the backend. */
unsigned console_in_take(struct xencons_interface *ring, char *dst, unsigned size);

#endif
