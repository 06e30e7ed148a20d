/*
 * stdlib.h — lwIP includes <stdlib.h> for atoi (netif_find, by name "vif0"
 * style) and, with MEM_LIBC_MALLOC, for the allocator it does not use here
 * (mem_clib_* are the stack's bounded allocator, lwipopts.h). atoi is in
 * drivers/net/sys_arch.c.
 */
#ifndef XENOLITH_LWIP_STDLIB_H
#define XENOLITH_LWIP_STDLIB_H

#include "kernel.h"

int atoi(const char *s);

#endif
