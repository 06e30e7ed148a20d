/*
 * console.h — the console (interface manual: "Console"; Xen 4.17: io/console.h
 * ring for a domU, HYPERVISOR_console_io for dom0). Owner: kernel/xen/console.c
 * (core).
 */
#ifndef XENOLITH_CONSOLE_H
#define XENOLITH_CONSOLE_H

#include "kernel.h"

void console_write(const char *s, size_t len); /* whole buffer, in order */
int console_getc(void);  /* blocks; returns a byte */
int console_trygetc(void); /* -1 when nothing is there */

#endif
