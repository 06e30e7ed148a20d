/*
 * blk_writer.c — the `blkwriter` shell command: a background writer, to
 * show that disk writes carry on across a suspend, a restore or a live
 * migration (suspend.h) and that each lands once, where it should.
 *   blkwriter DEV FIRST COUNT   start: sectors FIRST .. FIRST+COUNT-1, one at
 *                               a time, each "blkwriter sector N" padded with
 *                               zeros, WRITER_PAUSE_MS apart
 *   blkwriter                   progress: written, errors, running or done
 * One writer at a time; a finished one is joined by the next command.
 */
#include "kernel.h"
#include "blkfront.h"
#include "mm.h"
#include "sched.h"
#include "shell.h"
#include "time.h"

#define WRITER_PAUSE_MS 20

static struct {
    struct thread *thread;
    struct blkdev *disk;
    unsigned long first, count, written, errors;
    volatile bool done;
    int last_error;
} w;

static void writer_main(void *arg)
{
    (void)arg;
    struct blk_info in;
    blk_get_info(w.disk, &in);
    uint8_t *buf = calloc(1, in.sector_size);
    for (unsigned long i = 0; buf && i < w.count; i++) {
        memset(buf, 0, in.sector_size);
        snprintf((char *)buf, in.sector_size, "blkwriter sector %lu", w.first + i);
        int rc = blk_write(w.disk, w.first + i, 1, buf);
        if (rc) {
            w.errors++;
            w.last_error = rc;
        } else {
            w.written++;
        }
        sleep_ms(WRITER_PAUSE_MS);
    }
    if (!buf)
        w.last_error = -XEN_ENOMEM;
    else if (blk_flush(w.disk))
        w.errors++;
    free(buf);
    w.done = true;
    thread_exit();
}

static void status(void)
{
    printk("blkwriter: %lu of %lu written, %lu errors%s%s, %s\n", w.written, w.count, w.errors,
           w.last_error ? ", last: " : "", w.last_error ? xen_errname(w.last_error) : "",
           w.done ? "done" : "running");
}

static int cmd_blkwriter(int argc, char **argv)
{
    if (w.thread && w.done) {
        thread_join(w.thread);
        w.thread = NULL;
    }
    if (argc == 1) {
        if (!w.count) {
            printk("blkwriter: none started\n");
            return 1;
        }
        status();
        return 0;
    }
    unsigned long first, count;
    struct blkdev *d = argc == 4 ? blk_find(argv[1]) : NULL;
    if (!d || !parse_ulong(argv[2], &first) || !parse_ulong(argv[3], &count) || !count) {
        printk("usage: blkwriter [DEV FIRST COUNT] (DEV a connected disk, COUNT > 0)\n");
        return 1;
    }
    if (w.thread) {
        printk("blkwriter: one is still running\n");
        return 1;
    }
    w.disk = d;
    w.first = first;
    w.count = count;
    w.written = w.errors = 0;
    w.last_error = 0;
    w.done = false;
    w.thread = thread_create("blkwriter", writer_main, NULL);
    if (!w.thread) {
        printk("blkwriter: no thread\n");
        return 1;
    }
    printk("blkwriter: writing sectors %lu..%lu of %s\n", first, first + count - 1, argv[1]);
    return 0;
}
SHELL_COMMAND(blkwriter, "blkwriter", "blkwriter [DEV FIRST COUNT]",
              "a background disk writer (sector N gets \"blkwriter sector N\")", cmd_blkwriter);
