/*
 * sys_arch.c — what lwIP needs from the kernel with NO_SYS=1 (lwIP 2.1
 * src/include/lwip/sys.h, mem.h): sys_now() in milliseconds for its
 * timers, from the kernel's monotonic clock; the allocator behind
 * mem_malloc and the pools (lwipopts.h: MEM_LIBC_MALLOC, MEMP_MEM_MALLOC),
 * the kernel's heap with a fixed bound, NET_MEM_MAX bytes in use (lwIP
 * counts them in its memory statistics, so the check reads those); and
 * atoi, which lwIP's netif_find uses.
 */
#include "kernel.h"
#include "mm.h"
#include "time.h"
#include "lwip/opt.h"
#include "lwip/stats.h"
#include "lwip/sys.h"

u32_t sys_now(void)
{
    return (u32_t)udiv64_32(monotonic_ns(), NSEC_PER_MSEC, NULL);
}

static unsigned long refused;

static bool within_bound(size_t size)
{
    if (lwip_stats.mem.used + size <= NET_MEM_MAX)
        return true;
    refused++;
    return false;
}

void *net_mem_alloc(size_t size)
{
    return within_bound(size) ? malloc(size) : NULL;
}

void *net_mem_calloc(size_t n, size_t size)
{
    if (size && n > NET_MEM_MAX / size)
        return NULL;
    return within_bound(n * size) ? calloc(n, size) : NULL;
}

void net_mem_free(void *p)
{
    free(p);
}

unsigned long net_mem_refused(void)
{
    return refused;
}

int atoi(const char *s)
{
    int v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return v;
}
