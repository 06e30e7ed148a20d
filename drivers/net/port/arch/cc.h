/*
 * arch/cc.h — what lwIP asks of its platform (lwIP 2.1 src/include/lwip/
 * arch.h): the compiler's types (gcc's freestanding stdint.h, stddef.h),
 * printf formats without inttypes.h, character classes without ctype.h,
 * diagnostics through printk and assertions that stop the kernel with
 * panic (an lwIP assertion is a bug of ours or lwIP's, never the peer's:
 * lwIP checks what comes off the wire without asserting).
 * x86 is little-endian: lwIP's default BYTE_ORDER.
 */
#ifndef XENOLITH_LWIP_ARCH_CC_H
#define XENOLITH_LWIP_ARCH_CC_H

#include "kernel.h"

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H 1
#define LWIP_NO_LIMITS_H 1
#define LWIP_NO_UNISTD_H 1
typedef int ssize_t;
#define SSIZE_MAX __INT_MAX__

#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define LWIP_PLATFORM_DIAG(x) do { printk x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) panic("lwip: assertion \"%s\" failed at %s:%d", x, __FILE__, __LINE__)

#endif
