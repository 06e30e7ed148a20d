/*
 * blk_bulk.c — bulk I/O over blkfront's asynchronous API (blkfront.h,
 * blk_submit; Xen 4.17 public/io/blkif.h), for the `blk` shell command:
 *
 *   blk crc DEV LBA N [QD]        CRC-32 (IEEE 802.3, as zlib's crc32) of
 *                                 sectors LBA..LBA+N-1
 *   blk fill DEV LBA N SEED [QD]  those sectors written with a pattern,
 *                                 then a flush
 *   blk bench DEV seq|rand read|write SIZE QD SECONDS
 *                                 MB/s and IOPS of SIZE-byte requests, QD at
 *                                 once, for SECONDS (Xen system time)
 *
 * All three run one window of QD requests: chunks are submitted until QD
 * are in flight, and each is taken in order as it completes (a CRC needs
 * the bytes in order; a fill or a bench just reuses the buffer). The
 * pattern of a fill depends on the absolute byte offset, so a sector that
 * lands in the wrong place is seen: 32-bit little-endian word w of the disk
 * (byte offset 4w) holds pattern_word(seed, w).
 */
#include "kernel.h"
#include "blkfront.h"
#include "blkfront_priv.h"
#include "mm.h"
#include "time.h"

#define BULK_QD_MAX 32
#define BULK_CHUNK_BYTES (64u * 1024u) /* crc/fill: bytes per request */
#define BULK_BUF_BUDGET (4u * 1024u * 1024u) /* QD * SIZE at most */
#define BULK_BENCH_MAX_S 600u
#define USEC_PER_SEC 1000000ull
#define BYTES_PER_MB 1000000ull /* MB/s as fio and dd print it */
#define CRC32_POLY 0xedb88320u /* IEEE 802.3, reflected */

static uint32_t crc_table[256];

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    if (!crc_table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ CRC32_POLY : c >> 1;
            crc_table[i] = c;
        }
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t pattern_word(uint32_t seed, uint64_t w)
{
    uint32_t v = (uint32_t)w * 0x9e3779b1u ^ (uint32_t)(w >> 32) ^ seed;
    v ^= v >> 15;
    v *= 0x85ebca77u;
    v ^= v >> 13;
    return v;
}

static void pattern(uint8_t *buf, size_t bytes, uint64_t offset, uint32_t seed)
{
    for (size_t i = 0; i < bytes; i += 4) {
        uint32_t v = pattern_word(seed, (offset + i) / 4);
        memcpy(buf + i, &v, 4);
    }
}

struct bulk_slot {
    struct blk_request req;
    uint8_t *buf;
};

/* A range of sectors in chunks (crc, fill), or requests for a time (bench). */
struct bulk {
    struct blkdev *d;
    unsigned sector_size;
    enum blk_op op;
    uint64_t lba, n;      /* range */
    unsigned chunk;       /* sectors per request */
    uint32_t seed, crc;   /* fill / crc */
    bool random;          /* bench: where each request goes */
    uint32_t rng;
    uint64_t end_ns;      /* bench: no new request after this */
    uint64_t disk_chunks; /* bench: requests that fit the disk */
    uint64_t requests, bytes;
};

/* Where chunk `index` goes (lba, count); false when there is none. */
static bool place(struct bulk *b, uint64_t index, uint64_t *lba, unsigned *count)
{
    if (b->end_ns) { /* bench */
        if (monotonic_ns() >= b->end_ns)
            return false;
        uint64_t at = index % b->disk_chunks;
        if (b->random) {
            b->rng ^= b->rng << 13;
            b->rng ^= b->rng >> 17;
            b->rng ^= b->rng << 5;
            at = b->rng % b->disk_chunks;
        }
        *lba = at * b->chunk;
        *count = b->chunk;
        return true;
    }
    uint64_t first = index * b->chunk;
    if (first >= b->n)
        return false;
    *lba = b->lba + first;
    *count = (unsigned)(b->n - first < b->chunk ? b->n - first : b->chunk);
    return true;
}

/* Chunks are submitted until QD are in flight; each is taken in order as it
 * completes. 0 or the first error (what was in flight is still waited for). */
static int window(struct bulk *b, unsigned qd)
{
    struct bulk_slot slots[BULK_QD_MAX];
    size_t chunk_bytes = (size_t)b->chunk * b->sector_size;
    memset(slots, 0, sizeof(slots));
    int rc = 0;
    for (unsigned i = 0; i < qd && !rc; i++)
        if (!(slots[i].buf = malloc(chunk_bytes)))
            rc = -XEN_ENOMEM;
    if (!rc && b->op == BLK_WRITE && b->end_ns) /* bench writes: any data will do */
        for (unsigned i = 0; i < qd; i++)
            pattern(slots[i].buf, chunk_bytes, 0, i);
    uint64_t next = 0, head = 0;
    for (;;) {
        uint64_t lba;
        unsigned count;
        while (!rc && next - head < qd && place(b, next, &lba, &count)) {
            struct bulk_slot *s = &slots[next % qd];
            s->req = (struct blk_request){.op = b->op, .sector = lba, .count = count,
                                          .buf = s->buf};
            if (b->op == BLK_WRITE && !b->end_ns)
                pattern(s->buf, (size_t)count * b->sector_size, lba * b->sector_size, b->seed);
            rc = blk_submit(b->d, &s->req);
            if (!rc)
                next++;
        }
        if (head == next)
            break;
        struct bulk_slot *s = &slots[head % qd];
        (void)blk_wait(&s->req);
        size_t bytes = (size_t)s->req.count * b->sector_size;
        if (s->req.rc && !rc)
            rc = s->req.rc;
        if (!s->req.rc) {
            b->requests++;
            b->bytes += bytes;
            if (b->op == BLK_READ && !b->end_ns)
                b->crc = crc32_update(b->crc, s->buf, bytes);
        }
        head++;
    }
    for (unsigned i = 0; i < qd; i++)
        free(slots[i].buf);
    return rc;
}

static bool setup(struct bulk *b, const char *name, unsigned qd, size_t request_bytes)
{
    struct blk_info in;
    if (!(b->d = blk_cmd_disk(name)))
        return false;
    blk_get_info(b->d, &in);
    b->sector_size = in.sector_size ? in.sector_size : XEN_BLKIF_SECTOR_SIZE;
    if (!qd || qd > BULK_QD_MAX) {
        printk("blk: QD must be 1..%u\n", BULK_QD_MAX);
        return false;
    }
    if (!request_bytes || request_bytes % b->sector_size ||
        request_bytes * qd > BULK_BUF_BUDGET) {
        printk("blk: SIZE must be a multiple of %u bytes and SIZE*QD at most %u KiB\n",
               b->sector_size, BULK_BUF_BUDGET / 1024);
        return false;
    }
    b->chunk = (unsigned)(request_bytes / b->sector_size);
    return true;
}

/* "4096", "4k", "1m" */
static bool size_arg(const char *s, uint64_t *out)
{
    char num[24];
    size_t len = strlen(s);
    uint64_t unit = 1;
    if (len && (s[len - 1] == 'k' || s[len - 1] == 'K'))
        unit = 1024;
    else if (len && (s[len - 1] == 'm' || s[len - 1] == 'M'))
        unit = 1024 * 1024;
    if (unit > 1)
        len--;
    if (!len || len >= sizeof(num))
        return blk_cmd_number("SIZE", s, out);
    memcpy(num, s, len);
    num[len] = '\0';
    if (!blk_cmd_number("SIZE", num, out))
        return false;
    *out *= unit;
    return true;
}

static unsigned long elapsed_us(uint64_t since)
{
    return (unsigned long)((monotonic_ns() - since) / NSEC_PER_USEC);
}

/* blk crc DEV LBA N [QD] and blk fill DEV LBA N SEED [QD] */
int blk_cmd_range(bool fill, int argc, char **argv)
{
    struct bulk b = {.op = fill ? BLK_WRITE : BLK_READ};
    uint64_t lba, n, seed = 0, qd = 8;
    int q = fill ? 6 : 5;
    if (!blk_cmd_number("LBA", argv[3], &lba) || !blk_cmd_number("N", argv[4], &n) ||
        (fill && !blk_cmd_number("SEED", argv[5], &seed)) || (argc > q && !blk_cmd_number("QD", argv[q], &qd)))
        return 1;
    if (!setup(&b, argv[2], (unsigned)qd, BULK_CHUNK_BYTES))
        return 1;
    uint64_t per_request = (n + qd - 1) / qd; /* keeps QD in flight over a small range */
    if (per_request && per_request < b.chunk)
        b.chunk = (unsigned)per_request;
    b.lba = lba;
    b.n = n;
    b.seed = (uint32_t)seed;
    uint64_t t0 = monotonic_ns();
    int rc = n ? window(&b, (unsigned)qd) : -XEN_EINVAL;
    if (!rc && fill)
        rc = blk_flush(b.d);
    unsigned long us = elapsed_us(t0);
    if (rc) {
        printk("blk: %s %s %llu+%llu: %s\n", fill ? "fill" : "crc", argv[2],
               (unsigned long long)lba, (unsigned long long)n, xen_errname(rc));
        return 1;
    }
    if (fill)
        printk("blk: fill %s %llu+%llu seed %u: %llu bytes in %lu us\n", argv[2],
               (unsigned long long)lba, (unsigned long long)n, (unsigned)seed,
               (unsigned long long)b.bytes, us);
    else
        printk("blk: crc %s %llu+%llu: crc32 0x%08x, %llu bytes in %lu us\n", argv[2],
               (unsigned long long)lba, (unsigned long long)n, (unsigned)b.crc,
               (unsigned long long)b.bytes, us);
    return 0;
}

/* blk bench DEV seq|rand read|write SIZE QD SECONDS */
int blk_cmd_bench(int argc, char **argv)
{
    struct bulk b = {.rng = 0x2545f491u};
    uint64_t size, qd, secs;
    (void)argc;
    bool rnd = !strcmp(argv[3], "rand"), wr = !strcmp(argv[4], "write");
    if ((!rnd && strcmp(argv[3], "seq")) || (!wr && strcmp(argv[4], "read"))) {
        printk("blk: bench DEV seq|rand read|write SIZE QD SECONDS\n");
        return 1;
    }
    if (!size_arg(argv[5], &size) || !blk_cmd_number("QD", argv[6], &qd) ||
        !blk_cmd_number("SECONDS", argv[7], &secs))
        return 1;
    if (!secs || secs > BULK_BENCH_MAX_S) {
        printk("blk: SECONDS must be 1..%u\n", BULK_BENCH_MAX_S);
        return 1;
    }
    if (!setup(&b, argv[2], (unsigned)qd, (size_t)size))
        return 1;
    struct blk_info in;
    blk_get_info(b.d, &in);
    b.op = wr ? BLK_WRITE : BLK_READ;
    b.random = rnd;
    b.disk_chunks = in.sectors / b.chunk;
    if (!b.disk_chunks) {
        printk("blk: %s is smaller than one request\n", in.name);
        return 1;
    }
    uint64_t t0 = monotonic_ns();
    b.end_ns = t0 + secs * NSEC_PER_SEC;
    int rc = window(&b, (unsigned)qd);
    uint64_t us = (monotonic_ns() - t0) / NSEC_PER_USEC;
    if (rc) {
        printk("blk: bench %s: %s after %llu requests\n", in.name, xen_errname(rc),
               (unsigned long long)b.requests);
        return 1;
    }
    uint64_t bytes_s = us ? b.bytes * USEC_PER_SEC / us : 0;
    uint64_t iops = us ? b.requests * USEC_PER_SEC / us : 0;
    printk("blk: bench %s %s %s size %llu qd %u: %llu requests, %llu bytes in %llu us: "
           "%llu.%03llu MB/s, %llu IOPS\n", in.name, argv[3], argv[4], (unsigned long long)size,
           (unsigned)qd, (unsigned long long)b.requests, (unsigned long long)b.bytes,
           (unsigned long long)us, (unsigned long long)(bytes_s / BYTES_PER_MB),
           (unsigned long long)(bytes_s / (BYTES_PER_MB / 1000) % 1000), (unsigned long long)iops);
    return 0;
}
