/*
 * netfront_rx_test.c — netfront_rx_check (drivers/netfront/ring.c) on the
 * host: what netfront accepts of a receive response (Xen 4.17
 * public/io/netif.h) before it reads the page: the slot's id, a positive
 * status, offset + length within the page, no NETRXF_more_data; the offset
 * and length it then reads.
 */
#include <stdio.h>

#include "check.h"
#include "rename.h"
#include "mm.h"
#include "netfront.h"

static enum netfront_drop check_rsp(uint16_t id, uint16_t offset, uint16_t flags, int16_t status,
                                    unsigned *off, unsigned *len)
{
    struct netif_rx_response rsp = {.id = id, .offset = offset, .flags = flags,
                                    .status = status};
    return netfront_rx_check(&rsp, 3, off, len);
}

int main(void)
{
    unsigned off = 0, len = 0;
    CHECK(check_rsp(3, 10, 0, 60, &off, &len) == NF_DROP_NR && off == 10 && len == 60,
          "a good frame: off %u len %u", off, len);
    CHECK(check_rsp(3, 0, 0, PAGE_SIZE, &off, &len) == NF_DROP_NR && len == PAGE_SIZE,
          "a whole page");
    off = len = 99;
    CHECK(check_rsp(4, 10, 0, 60, &off, &len) == NF_DROP_RX_BAD_ID, "another slot's id");
    CHECK(check_rsp(3, 10, 0, NETIF_RSP_ERROR, &off, &len) == NF_DROP_RX_ERROR, "an error");
    CHECK(check_rsp(3, 10, 0, NETIF_RSP_DROPPED, &off, &len) == NF_DROP_RX_ERROR, "dropped");
    CHECK(check_rsp(3, 10, 0, 0, &off, &len) == NF_DROP_RX_EMPTY, "no data");
    CHECK(check_rsp(3, 1, 0, PAGE_SIZE, &off, &len) == NF_DROP_RX_BAD_LENGTH, "past the page");
    CHECK(check_rsp(3, PAGE_SIZE, 0, 1, &off, &len) == NF_DROP_RX_BAD_LENGTH, "offset at end");
    CHECK(check_rsp(3, 10, NETRXF_more_data, 60, &off, &len) == NF_DROP_RX_MORE_DATA,
          "a multi-slot frame");
    CHECK(off == 99 && len == 99, "a dropped response leaves off/len alone: %u %u", off, len);
    return check_report();
}
