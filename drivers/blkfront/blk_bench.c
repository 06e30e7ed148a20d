/*
 * blk_bench.c — `blkbench`: throughput and IOPS of one virtual disk, the
 * figures `make bench` compares with Linux's O_DIRECT I/O on /dev/xvda
 * (interface manual: "Device drivers"; Xen 4.17 public/io/blkif.h).
 *
 *   blkbench DISK MIB            read MIB MiB from sector 0 on, 1 MiB per call
 *   blkbench DISK write MIB      write MIB MiB from sector 0 on, 1 MiB per call
 *   blkbench DISK randread N     N reads of 4 KiB at random 4 KiB-aligned places
 *
 * The sequential runs make one blk_read()/blk_write() of BLK_BENCH_REQUEST
 * bytes at a time (blkfront splits each into ring requests of at most
 * BLKIF_MAX_SEGMENTS_PER_REQUEST pages); the random one makes one 4 KiB
 * call at a time: blk_read/blk_write are synchronous, so that is queue
 * depth 1 (deeper queues: `blk bench`, blk_bulk.c, on blk_submit). Places come from a
 * fixed-seed xorshift, so every run reads the same ones. Prints
 *   blkbench: xvda read N MiB in T us (R KiB/s)
 *   blkbench: xvda write N MiB in T us (R KiB/s)
 *   blkbench: xvda randread N x 4 KiB in T us (R IOPS)
 * Writes change the disk: give it a scratch disk. Time is monotonic_ns()
 * (Xen system time); the write run does not flush the backend's cache.
 * Only the public blkfront.h calls are used.
 */
#include "kernel.h"
#include "blkfront.h"
#include "mm.h"
#include "shell.h"
#include "time.h"

#define BLK_BENCH_REQUEST_ORDER 8u /* 2^8 pages: 1 MiB per call */
#define BLK_BENCH_REQUEST (PAGE_SIZE << BLK_BENCH_REQUEST_ORDER)
#define BLK_BENCH_RANDOM 4096u     /* bytes per random read */
#define BLK_BENCH_SEED 0x2545f491u
#define BYTES_PER_MIB (1024ul * 1024ul)
#define BYTES_PER_KIB 1024ul

enum blk_bench_kind { BENCH_READ, BENCH_WRITE, BENCH_RANDREAD };

static uint64_t per_second(uint64_t count, uint64_t us)
{
    return us ? count * (NSEC_PER_SEC / NSEC_PER_USEC) / us : 0;
}

static uint32_t xorshift32(uint32_t *state)
{
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* Sequential: `mib` MiB in 1 MiB calls from sector 0; returns 0 or Xen's error. */
static int sequential(struct blkdev *d, const struct blk_info *in, bool write, unsigned long mib,
                      void *buf, uint64_t *ns)
{
    unsigned per_call = BLK_BENCH_REQUEST / in->sector_size;
    uint64_t calls = (uint64_t)mib * BYTES_PER_MIB / BLK_BENCH_REQUEST;
    int rc = 0;

    if (write)
        memset(buf, 0xa5, BLK_BENCH_REQUEST);
    uint64_t start = monotonic_ns();
    for (uint64_t i = 0; i < calls && !rc; i++)
        rc = write ? blk_write(d, i * per_call, per_call, buf)
                   : blk_read(d, i * per_call, per_call, buf);
    *ns = monotonic_ns() - start;
    return rc;
}

/* `count` 4 KiB reads at random 4 KiB-aligned places, one at a time. */
static int random_reads(struct blkdev *d, const struct blk_info *in, unsigned long count,
                        void *buf, uint64_t *ns)
{
    unsigned per_call = BLK_BENCH_RANDOM / in->sector_size;
    uint64_t blocks = in->sectors / per_call;
    uint32_t state = BLK_BENCH_SEED;
    int rc = 0;

    uint64_t start = monotonic_ns();
    for (unsigned long i = 0; i < count && !rc; i++)
        rc = blk_read(d, (xorshift32(&state) % blocks) * per_call, per_call, buf);
    *ns = monotonic_ns() - start;
    return rc;
}

static int usage(void)
{
    printk("usage: blkbench DISK MIB | blkbench DISK write MIB | blkbench DISK randread N\n");
    return 1;
}

static int cmd_blkbench(int argc, char **argv)
{
    enum blk_bench_kind kind = BENCH_READ;
    unsigned long n;
    if (argc == 4 && strcmp(argv[2], "write") == 0)
        kind = BENCH_WRITE;
    else if (argc == 4 && strcmp(argv[2], "randread") == 0)
        kind = BENCH_RANDREAD;
    else if (argc != 3)
        return usage();
    if (!parse_ulong(argv[argc - 1], &n) || n == 0)
        return usage();
    struct blkdev *d = blk_find(argv[1]);
    struct blk_info in;
    if (!d) {
        printk("blkbench: no disk %s\n", argv[1]);
        return 1;
    }
    blk_get_info(d, &in);
    if (in.sector_size > BLK_BENCH_RANDOM) {
        printk("blkbench: %s: sectors of %u bytes\n", in.name, in.sector_size);
        return 1;
    }
    uint64_t need = kind == BENCH_RANDREAD ? BLK_BENCH_RANDOM / in.sector_size
                                           : (uint64_t)n * BYTES_PER_MIB / in.sector_size;
    if (need > in.sectors) {
        printk("blkbench: %s has only %llu sectors\n", in.name, (unsigned long long)in.sectors);
        return 1;
    }
    void *buf = page_alloc(BLK_BENCH_REQUEST_ORDER);
    if (!buf) {
        printk("blkbench: no %lu KiB buffer\n", (unsigned long)(BLK_BENCH_REQUEST / BYTES_PER_KIB));
        return 1;
    }
    uint64_t ns = 0;
    int rc = kind == BENCH_RANDREAD ? random_reads(d, &in, n, buf, &ns)
                                    : sequential(d, &in, kind == BENCH_WRITE, n, buf, &ns);
    page_free(buf, BLK_BENCH_REQUEST_ORDER);
    const char *what = kind == BENCH_WRITE ? "write" : kind == BENCH_RANDREAD ? "randread" : "read";
    if (rc) {
        printk("blkbench: %s: %s failed: %s\n", in.name, what, xen_errname(rc));
        return 1;
    }
    uint64_t us = ns / NSEC_PER_USEC;
    if (kind == BENCH_RANDREAD)
        printk("blkbench: %s randread %lu x 4 KiB in %llu us (%llu IOPS)\n", in.name, n,
               (unsigned long long)us, (unsigned long long)per_second(n, us));
    else
        printk("blkbench: %s %s %lu MiB in %llu us (%llu KiB/s)\n", in.name, what, n,
               (unsigned long long)us,
               (unsigned long long)per_second((uint64_t)n * (BYTES_PER_MIB / BYTES_PER_KIB), us));
    return 0;
}
SHELL_COMMAND(blkbench, "blkbench", "blkbench DISK [write|randread] N",
              "benchmark: sequential read/write of N MiB in 1 MiB calls, or N random 4 KiB reads",
              cmd_blkbench);
