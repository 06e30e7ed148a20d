/*
 * inet_csum.h — the Internet checksum (RFC 1071) for the lab's static C
 * programs that run in dom0: xenlab/bench/netload.c and the tests' peers
 * (tests/integration/net_peer.c). Both builds pass -I xenlab/include
 * (xenlab/cprog.py: STATIC_INCLUDE).
 */
#ifndef XENLAB_INET_CSUM_H
#define XENLAB_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* The one's complement of the one's complement sum of the 16-bit big-endian
 * words of p[0..n) (an odd last byte padded with zero), as a host-order
 * number: store it high byte first, or htons() it into a header field. */
static inline uint16_t inet_csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

#endif
