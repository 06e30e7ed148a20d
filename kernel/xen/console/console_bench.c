/*
 * console_bench.c — `bench console LINES`: console output in volume whose
 * every byte is known in advance, and the rate it went out at (interface
 * manual: "Console"; the same console_write as printk, so the ring and
 * xenconsoled in a domU, CONSOLEIO_write in dom0).
 *
 * The lab reads it back at the far end of its console path (Xen's serial,
 * QEMU's UART, the lab's reader) and compares it byte by byte with what it
 * computes itself (xenlab/console_pattern.py), so a byte doubled, dropped
 * or altered anywhere on the way is seen, and where. Between the two marker
 * lines come LINES lines of CONSOLE_PATTERN_LINE bytes each:
 *   "pat NNNNNNNN " (the line number, from 0), then a payload of letters
 *   and digits in which byte j of line n is ALPHABET[(n + j) % 62]
 *   (neighbours always differ, so a doubled byte shows), then "\n".
 *   console pattern: begin LINES lines of 64 bytes
 *   ...
 *   console pattern: end LINES lines, B bytes in T us
 * Lines go out a block at a time (CONSOLE_PATTERN_BLOCK lines per write),
 * as a busy kernel writes.
 */
#include "bench.h"
#include "console.h"
#include "time.h"

#define CONSOLE_PATTERN_LINE 64u
#define CONSOLE_PATTERN_HEAD 13u /* "pat NNNNNNNN " */
#define CONSOLE_PATTERN_BLOCK 16u
#define CONSOLE_PATTERN_MAX_LINES 100000000ul /* 6.4 GB: more than any test asks */

static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
#define ALPHABET_LEN (sizeof(alphabet) - 1)

static void pattern_line(char *out, unsigned long n)
{
    snprintf(out, CONSOLE_PATTERN_HEAD + 1, "pat %08lu ", n);
    for (unsigned j = 0; j < CONSOLE_PATTERN_LINE - CONSOLE_PATTERN_HEAD - 1; j++)
        out[CONSOLE_PATTERN_HEAD + j] = alphabet[(n + j) % ALPHABET_LEN];
    out[CONSOLE_PATTERN_LINE - 1] = '\n';
}

int bench_console(const char *lines_arg)
{
    static char block[CONSOLE_PATTERN_BLOCK * CONSOLE_PATTERN_LINE];
    unsigned long lines;

    if (!parse_ulong(lines_arg, &lines) || lines == 0 || lines > CONSOLE_PATTERN_MAX_LINES) {
        printk("bench console: bad line count '%s' (1..%lu)\n", lines_arg,
               CONSOLE_PATTERN_MAX_LINES);
        return 1;
    }
    printk("console pattern: begin %lu lines of %u bytes\n", lines, CONSOLE_PATTERN_LINE);
    console_flush();
    uint64_t start = monotonic_ns();
    for (unsigned long n = 0; n < lines;) {
        unsigned k = 0;
        for (; k < CONSOLE_PATTERN_BLOCK && n < lines; k++, n++)
            pattern_line(block + k * CONSOLE_PATTERN_LINE, n);
        console_write(block, k * CONSOLE_PATTERN_LINE);
    }
    console_flush();
    uint64_t us = (monotonic_ns() - start) / 1000;
    printk("console pattern: end %lu lines, %llu bytes in %llu us\n", lines,
           (unsigned long long)lines * CONSOLE_PATTERN_LINE, (unsigned long long)us);
    return 0;
}
