/*
 * diskload.c — the Linux bench peer's disk load, the counterpart of
 * Xenolith's `blk bench` (drivers/blkfront/blk_bulk.c). Built on the host
 * with gcc -static (xenlab/bench/diskload.py) and put into the peer's
 * initramfs. Every transfer is O_DIRECT (no page cache), as fio's direct=1.
 *
 *   diskload DEV read MIB         sequential, 1 MiB per pread() from offset 0
 *   diskload DEV write MIB        sequential, 1 MiB per pwrite() from offset 0
 *   diskload DEV randread N QD    N reads of 4 KiB at random 4 KiB-aligned
 *                                 offsets, QD in flight (Linux native AIO,
 *                                 io_submit/io_getevents, as fio's libaio
 *                                 engine; raw system calls, no libaio)
 *
 * Places come from a fixed-seed generator (not blk bench's own: both spread
 * uniformly over the disk, and the bench's disks are sparse). Prints
 *   diskload: KIND DEV bytes=B ios=N qd=Q seconds=T
 * Time is CLOCK_MONOTONIC around the transfers; writes are not followed by
 * fsync() (no cache flush sent to the backend), as blk bench sends none.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#define SEQ_BLOCK (1024 * 1024)
#define RAND_BLOCK 4096
#define MAX_QD 64
#define SEED 0x2545f491u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A 64-bit LCG (Knuth's MMIX constants), fixed seed: the same places every run. */
static uint64_t next_place(uint64_t *state, uint64_t blocks)
{
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return (*state >> 33) % blocks;
}

static void *aligned(size_t size)
{
    void *p = NULL;
    if (posix_memalign(&p, RAND_BLOCK, size)) {
        fprintf(stderr, "diskload: no %zu-byte buffer\n", size);
        exit(2);
    }
    memset(p, 0xa5, size);
    return p;
}

static void report(const char *kind, const char *dev, unsigned long long bytes,
                   unsigned long ios, int qd, double secs)
{
    printf("diskload: %s %s bytes=%llu ios=%lu qd=%d seconds=%.6f\n", kind, dev, bytes, ios, qd,
           secs);
}

static int sequential(int fd, const char *dev, int write, unsigned long mib)
{
    char *buf = aligned(SEQ_BLOCK);
    double start = now();
    for (unsigned long i = 0; i < mib; i++) {
        off_t at = (off_t)i * SEQ_BLOCK;
        ssize_t n = write ? pwrite(fd, buf, SEQ_BLOCK, at) : pread(fd, buf, SEQ_BLOCK, at);
        if (n != SEQ_BLOCK) {
            perror(write ? "diskload: pwrite" : "diskload: pread");
            return 1;
        }
    }
    report(write ? "write" : "read", dev, (unsigned long long)mib * SEQ_BLOCK, mib, 1,
           now() - start);
    free(buf);
    return 0;
}

static long sys_io_setup(unsigned nr, aio_context_t *ctx)
{
    return syscall(SYS_io_setup, nr, ctx);
}

static void prepare(struct iocb *cb, int fd, char *buf, uint64_t blocks, uint64_t *state)
{
    memset(cb, 0, sizeof(*cb));
    cb->aio_fildes = (uint32_t)fd;
    cb->aio_lio_opcode = IOCB_CMD_PREAD;
    cb->aio_buf = (uint64_t)(uintptr_t)buf;
    cb->aio_nbytes = RAND_BLOCK;
    cb->aio_offset = (int64_t)(next_place(state, blocks) * RAND_BLOCK);
    cb->aio_data = (uint64_t)(uintptr_t)cb;
}

static int random_reads(int fd, const char *dev, unsigned long count, int qd)
{
    uint64_t size = 0;
    aio_context_t ctx = 0;
    struct iocb cbs[MAX_QD], *submit[MAX_QD];
    struct io_event events[MAX_QD];
    char *bufs = aligned((size_t)qd * RAND_BLOCK);
    uint64_t state = SEED;

    if (ioctl(fd, BLKGETSIZE64, &size) < 0 || size < RAND_BLOCK) {
        perror("diskload: BLKGETSIZE64");
        return 1;
    }
    if (sys_io_setup((unsigned)qd, &ctx) < 0) {
        perror("diskload: io_setup");
        return 1;
    }
    uint64_t blocks = size / RAND_BLOCK;
    unsigned long issued = 0, done = 0;
    int first = (unsigned long)qd < count ? qd : (int)count;
    double start = now();
    for (int i = 0; i < first; i++) {
        prepare(&cbs[i], fd, bufs + (size_t)i * RAND_BLOCK, blocks, &state);
        submit[i] = &cbs[i];
    }
    if (syscall(SYS_io_submit, ctx, (long)first, submit) != first) {
        perror("diskload: io_submit");
        return 1;
    }
    issued = (unsigned long)first;
    while (done < count) {
        long got = syscall(SYS_io_getevents, ctx, 1L, (long)MAX_QD, events, NULL);
        if (got < 0) {
            perror("diskload: io_getevents");
            return 1;
        }
        int again = 0;
        for (long i = 0; i < got; i++) {
            struct iocb *cb = (struct iocb *)(uintptr_t)events[i].data;
            if (events[i].res != RAND_BLOCK) {
                fprintf(stderr, "diskload: a read returned %lld\n", (long long)events[i].res);
                return 1;
            }
            done++;
            if (issued < count) {
                prepare(cb, fd, (char *)(uintptr_t)cb->aio_buf, blocks, &state);
                submit[again++] = cb;
                issued++;
            }
        }
        if (again && syscall(SYS_io_submit, ctx, (long)again, submit) != again) {
            perror("diskload: io_submit");
            return 1;
        }
    }
    report("randread", dev, (unsigned long long)count * RAND_BLOCK, count, qd, now() - start);
    syscall(SYS_io_destroy, ctx);
    free(bufs);
    return 0;
}

int main(int argc, char **argv)
{
    int write = argc == 4 && strcmp(argv[2], "write") == 0;
    int randread = argc == 5 && strcmp(argv[2], "randread") == 0;
    if (!(write || randread || (argc == 4 && strcmp(argv[2], "read") == 0))) {
        fprintf(stderr, "usage: diskload DEV read|write MIB | diskload DEV randread N QD\n");
        return 2;
    }
    unsigned long n = strtoul(argv[3], NULL, 10);
    int qd = randread ? atoi(argv[4]) : 1;
    if (n == 0 || qd < 1 || qd > MAX_QD) {
        fprintf(stderr, "diskload: bad size or queue depth (1..%d)\n", MAX_QD);
        return 2;
    }
    int fd = open(argv[1], (write ? O_WRONLY : O_RDONLY) | O_DIRECT);
    if (fd < 0) {
        perror("diskload: open");
        return 2;
    }
    int rc = randread ? random_reads(fd, argv[1], n, qd) : sequential(fd, argv[1], write, n);
    close(fd);
    return rc;
}
