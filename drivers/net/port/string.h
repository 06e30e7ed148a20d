/*
 * string.h — lwIP includes <string.h>; the freestanding kernel has no C
 * library, so this names kernel/lib.c's (declared in kernel.h). Only on
 * the include path of drivers/ (mk/lwip.mk).
 */
#ifndef XENOLITH_LWIP_STRING_H
#define XENOLITH_LWIP_STRING_H

#include "kernel.h"

#endif
