/*
 * printk_test.c — kernel/printk.c's vsnprintf on the host, checked against
 * the host C library's, which is the reference for every conversion the
 * kernel supports (flags - 0 + space #, width and precision, * for both,
 * hh h l ll z j, d i u x X o p c s %), and for truncation: the return value
 * is the whole length, the buffer always NUL-terminated. And a capture:
 * printk's output into a buffer, cut where it is full.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "rename.h"
#include "kernel.h"
#include "console.h"

/* printk.c writes through the console and rate-limits by the clock. */
void console_write(const char *s, size_t len)
{
    fwrite(s, 1, len, stdout);
}

uint64_t monotonic_ns(void)
{
    return 0;
}

/* One thread on the host: the capture is always this one's. */
struct thread *thread_current(void)
{
    return NULL;
}

#undef snprintf
#undef vsnprintf
#define BUF 256

/* Format with both and compare (text and return value), at full size and
 * at a few truncating sizes. */
static void same(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void same(const char *fmt, ...)
{
    static const size_t sizes[] = {BUF, 8, 1, 0};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char want[BUF], got[BUF];
        memset(want, 'W', sizeof(want));
        memset(got, 'W', sizeof(got));
        va_list a, b;
        va_start(a, fmt);
        int nw = vsnprintf(want, sizes[i], fmt, a);
        va_end(a);
        va_start(b, fmt);
        int ng = k_vsnprintf(got, sizes[i], fmt, b);
        va_end(b);
        CHECK(nw == ng, "\"%s\" size %zu: returned %d, libc %d", fmt, sizes[i], ng, nw);
        CHECK(memcmp(want, got, sizeof(want)) == 0, "\"%s\" size %zu: \"%.*s\", libc \"%.*s\"",
              fmt, sizes[i], (int)(sizes[i] ? sizes[i] : 1), got,
              (int)(sizes[i] ? sizes[i] : 1), want);
    }
}

int main(void)
{
    same("plain text, no conversion");
    same("%d %d %d %i", 0, 42, -42, -2147483647 - 1);
    same("%u %u %x %X %o", 0u, 4294967295u, 0xdeadbeefu, 0xdeadbeefu, 8u);
    same("%5d|%-5d|%05d|%+d|% d|%+05d", 42, 42, 42, 42, 42, -42);
    same("%.3d|%8.3d|%-8.3d|%.0d|%.0x", 7, 7, 7, 0, 0u);
    same("%#x %#X %#o %#o %#x", 255u, 255u, 8u, 0u, 0u);
    same("%#.0o|%#.3o|%#5o|%#-5o|", 0u, 8u, 8u, 8u);
    same("%08x %-8x| %#010x", 0xabcu, 0xabcu, 0xabcu);
    same("%ld %lu %lx %li", -123456789L, 4000000000UL, 0xfeedfaceUL, 17L);
    same("%lld %llu %llx %llX", -9223372036854775807LL - 1, 18446744073709551615ULL,
         0x0123456789abcdefULL, 0xfedcba9876543210ULL);
    same("%zu %td %zx", (size_t)4096, (ptrdiff_t)-4096, (size_t)0xffff);
    same("%jd %ju", (intmax_t)-5, (uintmax_t)5);
    same("%hd %hu %hhd %hhu %hx", (short)-1, (unsigned short)65535, (signed char)-3,
         (unsigned char)250, (unsigned short)0xbeef);
    same("%c%c%c|%3c|%-3c|", 'a', 'b', 'c', 'x', 'y');
    same("%s|%10s|%-10s|%.2s|%8.3s|%-8.3s|", "text", "right", "left", "cut", "abcdef", "abcdef");
    same("%.*s|%*d|%-*d|%*d", 3, "abcdef", 6, 42, 6, 42, -6, 42);
    same("%.32s", "xen-3.0-x86_32p");
    same("%p %p", (void *)0x12345678, (void *)0xc0001000);
    same("100%% %s %%", "sure");
    same("%d%s%u", 1, "-", 2u);
    /* A long line: truncated at every size, the full length returned. */
    same("%s %s %s %s", "0123456789abcdef0123456789abcdef", "0123456789abcdef",
         "0123456789abcdef0123456789abcdef0123456789abcdef", "end");

    /* NULL strings: glibc prints "(null)" too, but that is no C standard. */
    char got[16];
    const char *volatile none = NULL; /* volatile: the compiler cannot see it is NULL */
    CHECK(k_snprintf(got, sizeof(got), "%s", none) == 6 && !strcmp(got, "(null)"), "%s", got);
    /* Unknown conversions are printed as written (glibc differs). A variable
     * format, so the compiler does not refuse it. */
    const char *odd = "%q%y";
    CHECK(k_snprintf(got, sizeof(got), odd) == 4 && !strcmp(got, "%q%y"), "%s", got);

    char page[12];
    struct printk_capture c = {.buf = page, .size = sizeof(page)};
    printk_capture_start(&c);
    k_printk("net: %d\n", 42);
    CHECK(c.len == 8 && !memcmp(page, "net: 42\n", 8) && !c.truncated, "%.*s", (int)c.len, page);
    k_printk("0123456789");
    printk_capture_end();
    CHECK(c.len == sizeof(page) && c.truncated && !memcmp(page + 8, "0123", 4), "cut at %zu",
          c.len);
    return check_report();
}
