/*
 * blk_bench.c — `blkbench DISK MIB`: sequential read throughput of one
 * virtual disk, the figure `make bench` compares with Linux's
 * `dd iflag=direct` (interface manual: "Device drivers"; Xen 4.17
 * public/io/blkif.h).
 *
 * Reads MIB MiB from sector 0 on, one blk_read() of BLK_BENCH_REQUEST bytes
 * at a time (blkfront splits each into ring requests of at most
 * BLKIF_MAX_SEGMENTS_PER_REQUEST pages), and prints
 *   blkbench: xvda read N MiB in T us (R KiB/s)
 * Time is monotonic_ns() (Xen system time).
 */
#include "kernel.h"
#include "blkfront.h"
#include "mm.h"
#include "shell.h"
#include "time.h"

#define BLK_BENCH_REQUEST_ORDER 8u /* 2^8 pages: 1 MiB per blk_read() */
#define BLK_BENCH_REQUEST (PAGE_SIZE << BLK_BENCH_REQUEST_ORDER)
#define BYTES_PER_MIB (1024ul * 1024ul)
#define BYTES_PER_KIB 1024ul

static int cmd_blkbench(int argc, char **argv)
{
    unsigned long mib;
    if (argc != 3 || !parse_ulong(argv[2], &mib) || mib == 0) {
        printk("usage: blkbench DISK MIB\n");
        return 1;
    }
    struct blkdev *d = blk_find(argv[1]);
    struct blk_info in;
    if (!d) {
        printk("blkbench: no disk %s\n", argv[1]);
        return 1;
    }
    blk_get_info(d, &in);
    unsigned per_call = BLK_BENCH_REQUEST / in.sector_size;
    uint64_t calls = (uint64_t)mib * BYTES_PER_MIB / BLK_BENCH_REQUEST;
    if (calls * per_call > in.sectors) {
        printk("blkbench: %s has only %llu sectors\n", in.name, (unsigned long long)in.sectors);
        return 1;
    }
    void *buf = page_alloc(BLK_BENCH_REQUEST_ORDER);
    if (!buf) {
        printk("blkbench: no %lu KiB buffer\n", (unsigned long)(BLK_BENCH_REQUEST / BYTES_PER_KIB));
        return 1;
    }
    int rc = 0;
    uint64_t start = monotonic_ns();
    for (uint64_t i = 0; i < calls && !rc; i++)
        rc = blk_read(d, i * per_call, per_call, buf);
    uint64_t ns = monotonic_ns() - start;
    page_free(buf, BLK_BENCH_REQUEST_ORDER);
    if (rc) {
        printk("blkbench: %s: read failed: %s\n", in.name, xen_errname(rc));
        return 1;
    }
    uint64_t us = ns / NSEC_PER_USEC;
    uint64_t kib = (uint64_t)mib * (BYTES_PER_MIB / BYTES_PER_KIB);
    printk("blkbench: %s read %lu MiB in %llu us (%llu KiB/s)\n", in.name, mib,
           (unsigned long long)us,
           (unsigned long long)(us ? kib * (NSEC_PER_SEC / NSEC_PER_USEC) / us : 0));
    return 0;
}
SHELL_COMMAND(blkbench, "blkbench", "blkbench DISK MIB",
              "benchmark: sequential read of MIB MiB in 1 MiB calls", cmd_blkbench);
