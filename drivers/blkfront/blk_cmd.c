/*
 * blk_cmd.c — the `blk` shell command: virtual disks by hand (interface
 * manual: "Device drivers"; Xen 4.17 public/io/blkif.h).
 *   blk                          list disks
 *   blk read DEV SECTOR [COUNT]  hexdump of the first bytes, the text they
 *                                start with, and an FNV-1a checksum of all
 *   blk write DEV SECTOR TEXT    TEXT padded with zeros to one sector
 *   blk check DEV                pattern to the last sector, read back, restored
 *   blk rescan                   new devices, backends' sizes again
 *   blk crc | fill | bench ...   bulk I/O, see blk_bulk.c
 * Errors print "blk: ..." (and blkfront's own line) and return 1.
 */
#include "kernel.h"
#include "blkfront.h"
#include "blkfront_priv.h"
#include "mm.h"
#include "shell.h"
#include "xenbus.h"
#include "xenstore.h"

#define BLK_CMD_MAX_SECTORS 64 /* blk read COUNT limit */
#define BLK_CMD_DUMP_BYTES 64
#define BLK_CMD_TEXT_MAX 64

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a 32-bit offset basis and prime */
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

static int list(void)
{
    unsigned n = blk_count();
    if (!n) {
        printk("blk: no disks%s\n", xs_available() ? "" : " (no XenStore in dom0 mode)");
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        struct blk_info in;
        blk_get_info(blk_get(i), &in);
        printk("%-6s vbd %-6lu %10llu sectors x %4u bytes (%llu KiB) %s%s %s%s "
               "requests %lu errors %lu bad-responses %lu\n",
               in.name, in.vdev, (unsigned long long)in.sectors, in.sector_size,
               (unsigned long long)(in.sectors * in.sector_size / 1024), in.readonly ? "ro" : "rw",
               in.flush ? " flush" : "", xenbus_state_name(in.state),
               in.broken ? " BROKEN" : "", in.requests, in.errors, in.bad_responses);
    }
    return 0;
}

struct blkdev *blk_cmd_disk(const char *name)
{
    struct blkdev *d = blk_find(name);
    if (!d)
        printk("blk: no disk named '%s' (try `blk`)\n", name);
    return d;
}

bool blk_cmd_number(const char *what, const char *s, uint64_t *out)
{
    if (parse_u64(s, 0, out))
        return true;
    printk("blk: %s '%s' is not a number\n", what, s);
    return false;
}

static void dump(const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 16) {
        char hex[16 * 3 + 1], asc[17];
        size_t len = 0;
        for (size_t i = 0; i < 16; i++) {
            len += (size_t)snprintf(hex + len, sizeof(hex) - len, "%02x ", p[off + i]);
            asc[i] = p[off + i] >= 0x20 && p[off + i] < 0x7f ? (char)p[off + i] : '.';
        }
        asc[16] = '\0';
        printk("%04x: %s |%s|\n", (unsigned)off, hex, asc);
    }
}

static int do_read(int argc, char **argv)
{
    uint64_t sector, count = 1;
    struct blkdev *d = blk_cmd_disk(argv[2]);
    if (!d || !blk_cmd_number("SECTOR", argv[3], &sector) || (argc > 4 && !blk_cmd_number("COUNT", argv[4], &count)))
        return 1;
    if (!count || count > BLK_CMD_MAX_SECTORS) {
        printk("blk: COUNT must be 1..%u\n", BLK_CMD_MAX_SECTORS);
        return 1;
    }
    struct blk_info in;
    blk_get_info(d, &in);
    size_t bytes = (size_t)count * (in.sector_size ? in.sector_size : 1);
    uint8_t *buf = malloc(bytes);
    if (!buf) {
        printk("blk: out of memory\n");
        return 1;
    }
    int rc = blk_read(d, sector, (unsigned)count, buf);
    if (rc) {
        printk("blk: read %s %llu+%llu: %s\n", in.name, (unsigned long long)sector,
               (unsigned long long)count, xen_errname(rc));
        free(buf);
        return 1;
    }
    dump(buf, bytes < BLK_CMD_DUMP_BYTES ? bytes : BLK_CMD_DUMP_BYTES);
    char text[BLK_CMD_TEXT_MAX + 1];
    size_t t = 0;
    while (t < BLK_CMD_TEXT_MAX && t < bytes && buf[t] >= 0x20 && buf[t] < 0x7f) {
        text[t] = (char)buf[t];
        t++;
    }
    text[t] = '\0';
    printk("blk: text \"%s\"\n", text);
    printk("blk: read %s sector %llu count %llu: %u bytes, fnv1a 0x%08x\n", in.name,
           (unsigned long long)sector, (unsigned long long)count,
           (unsigned)bytes, fnv1a(buf, bytes));
    free(buf);
    return 0;
}

static int do_write(int argc, char **argv)
{
    uint64_t sector;
    struct blkdev *d = blk_cmd_disk(argv[2]);
    if (!d || !blk_cmd_number("SECTOR", argv[3], &sector))
        return 1;
    struct blk_info in;
    blk_get_info(d, &in);
    if (!in.connected) {
        printk("blk: %s is not connected\n", in.name);
        return 1;
    }
    uint8_t *buf = calloc(1, in.sector_size);
    if (!buf) {
        printk("blk: out of memory\n");
        return 1;
    }
    size_t len = 0;
    for (int i = 4; i < argc; i++) { /* the shell split TEXT on spaces: join */
        int n = snprintf((char *)buf + len, in.sector_size - len, "%s%s", i > 4 ? " " : "", argv[i]);
        if (n < 0 || (size_t)n >= in.sector_size - len) {
            printk("blk: TEXT longer than one sector (%u bytes)\n", in.sector_size);
            free(buf);
            return 1;
        }
        len += (size_t)n;
    }
    int rc = blk_write(d, sector, 1, buf);
    if (!rc)
        rc = blk_flush(d);
    free(buf);
    if (rc) {
        printk("blk: write %s sector %llu: %s\n", in.name, (unsigned long long)sector,
               xen_errname(rc));
        return 1;
    }
    printk("blk: wrote %u bytes + %u zeros to %s sector %llu\n", (unsigned)len,
           in.sector_size - (unsigned)len, in.name, (unsigned long long)sector);
    return 0;
}

static int do_check(const char *name)
{
    struct blkdev *d = blk_cmd_disk(name);
    if (!d)
        return 1;
    struct blk_info in;
    blk_get_info(d, &in);
    if (!in.connected || !in.sectors) {
        printk("blk: %s is not connected\n", in.name);
        return 1;
    }
    uint64_t last = in.sectors - 1;
    uint8_t *saved = malloc(in.sector_size), *pat = malloc(in.sector_size),
            *back = malloc(in.sector_size);
    int rc = saved && pat && back ? 0 : -XEN_ENOMEM;
    const char *step = "memory";
    if (!rc) {
        for (unsigned i = 0; i < in.sector_size; i++)
            pat[i] = (uint8_t)(i * 7 + 0x5a);
        step = "read original";
        rc = blk_read(d, last, 1, saved);
    }
    if (!rc) {
        step = "write pattern";
        rc = blk_write(d, last, 1, pat);
        if (!rc) {
            step = "read back";
            rc = blk_read(d, last, 1, back);
            if (!rc && memcmp(pat, back, in.sector_size)) {
                step = "compare";
                rc = -XEN_EIO;
            }
            int r = blk_write(d, last, 1, saved); /* always put it back */
            if (!rc && r) {
                step = "restore";
                rc = r;
            }
            if (!rc && (rc = blk_flush(d)))
                step = "flush";
        }
    }
    free(saved);
    free(pat);
    free(back);
    if (rc) {
        printk("blk: check %s: FAILED at %s: %s\n", in.name, step, xen_errname(rc));
        return 1;
    }
    printk("blk: check %s: OK (sector %llu written, read back, restored)\n", in.name,
           (unsigned long long)last);
    return 0;
}

static int cmd_blk(int argc, char **argv)
{
    if (argc == 1)
        return list();
    if (!strcmp(argv[1], "read") && (argc == 4 || argc == 5))
        return do_read(argc, argv);
    if (!strcmp(argv[1], "write") && argc >= 5)
        return do_write(argc, argv);
    if (!strcmp(argv[1], "check") && argc == 3)
        return do_check(argv[2]);
    if (!strcmp(argv[1], "crc") && (argc == 5 || argc == 6))
        return blk_cmd_range(false, argc, argv);
    if (!strcmp(argv[1], "fill") && (argc == 6 || argc == 7))
        return blk_cmd_range(true, argc, argv);
    if (!strcmp(argv[1], "bench") && argc == 8)
        return blk_cmd_bench(argc, argv);
    if (!strcmp(argv[1], "rescan") && argc == 2) {
        int n = blk_rescan();
        if (n < 0) {
            printk("blk: rescan: %s\n", xen_errname(n));
            return 1;
        }
        return list();
    }
    printk("usage: blk | blk read DEV SECTOR [COUNT] | blk write DEV SECTOR TEXT | "
           "blk check DEV | blk rescan | blk crc DEV LBA N [QD] | blk fill DEV LBA N SEED [QD] | "
           "blk bench DEV seq|rand read|write SIZE QD SECONDS\n");
    return 1;
}
SHELL_COMMAND(blk, "blk", "blk [read|write|check|rescan|crc|fill|bench ...]",
              "virtual disks (blkfront): list, read, write, check, rescan, crc, fill, bench",
              cmd_blk);
