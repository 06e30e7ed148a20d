/*
 * printk.c — formatted output (kernel.h). vsnprintf implements the subset
 * of C's printf the kernel uses: flags "-0+ #", width and precision (also
 * "*"), length modifiers hh h l ll z t j, conversions d i u x X o c s p %.
 * No floating point (the kernel is built without the FPU).
 *
 * printk formats into a buffer on the stack and hands the whole text to
 * console_write in one call, so a marker line is never split by another
 * writer (architecture.md: "one per line, never split across writes").
 *
 * A capture (printk_capture_start) sends one thread's printk output into a
 * buffer instead, so that what a shell command prints can be served (the
 * HTTP server's pages); other threads still print to the console. Only
 * with the drivers (the server is one): `make tiny` has no capture.
 */
#include "kernel.h"
#include "console.h"
#include "sched.h"
#include "time.h"

#define PRINTK_BUF 1024

struct out {
    char *buf;
    size_t size; /* capacity including the NUL */
    size_t len;  /* characters produced (may exceed size) */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_repeat(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, plus, space, alt, upper;
    int width, precision; /* precision < 0: none */
};

/* Digits of v in base (8, 10 or 16), least significant first. 64-bit
 * values are divided in 32-bit halves so no libgcc helper is needed on the
 * hot path. */
static int to_digits(uint64_t v, unsigned base, bool upper, char *tmp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        uint32_t hi = (uint32_t)(v >> 32), lo = (uint32_t)v;
        uint32_t rem_hi = hi % base;
        uint64_t mid = ((uint64_t)rem_hi << 32) | lo;
        /* mid < base * 2^32, so mid / base fits 32 bits: one 64/32 divide. */
        uint32_t q_lo, rem;
        __asm__("divl %4" : "=a"(q_lo), "=d"(rem) : "a"((uint32_t)mid),
                "d"((uint32_t)(mid >> 32)), "rm"((uint32_t)base));
        v = ((uint64_t)(hi / base) << 32) | q_lo;
        tmp[n++] = digits[rem];
    } while (v);
    return n;
}

static void put_number(struct out *o, uint64_t v, bool negative, unsigned base,
                       const struct spec *sp)
{
    char tmp[24];
    int ndigits = 0, prec = sp->precision;
    const char *prefix = "";

    if (!(v == 0 && prec == 0))
        ndigits = to_digits(v, base, sp->upper, tmp);
    if (negative)
        prefix = "-";
    else if (sp->plus)
        prefix = "+";
    else if (sp->space)
        prefix = " ";
    if (sp->alt && base == 16 && v)
        prefix = sp->upper ? "0X" : "0x";
    /* '#' with 'o': a leading 0, unless the digits already begin with one
     * (a value of 0 printed as "0"). */
    if (sp->alt && base == 8 && prec <= ndigits && (v || !ndigits))
        prec = ndigits + 1;

    int zeros = prec > ndigits ? prec - ndigits : 0;
    int body = (int)strlen(prefix) + zeros + ndigits;
    int pad = sp->width > body ? sp->width - body : 0;

    if (!sp->left && !(sp->zero && sp->precision < 0))
        put_repeat(o, ' ', pad);
    for (const char *p = prefix; *p; p++)
        put(o, *p);
    if (!sp->left && sp->zero && sp->precision < 0)
        put_repeat(o, '0', pad);
    put_repeat(o, '0', zeros);
    while (ndigits)
        put(o, tmp[--ndigits]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

static void put_string(struct out *o, const char *s, const struct spec *sp)
{
    if (!s)
        s = "(null)";
    int len = (int)strnlen(s, sp->precision < 0 ? (size_t)-1 : (size_t)sp->precision);
    int pad = sp->width > len ? sp->width - len : 0;
    if (!sp->left)
        put_repeat(o, ' ', pad);
    for (int i = 0; i < len; i++)
        put(o, s[i]);
    if (sp->left)
        put_repeat(o, ' ', pad);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};

    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        struct spec sp = {.precision = -1};
        for (;;) {
            char f = *++fmt;
            if (f == '-') sp.left = true;
            else if (f == '0') sp.zero = true;
            else if (f == '+') sp.plus = true;
            else if (f == ' ') sp.space = true;
            else if (f == '#') sp.alt = true;
            else break;
        }
        if (*fmt == '*') {
            sp.width = va_arg(ap, int);
            if (sp.width < 0) {
                sp.left = true;
                sp.width = -sp.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                sp.width = sp.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            sp.precision = 0;
            if (*fmt == '*') {
                sp.precision = va_arg(ap, int);
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    sp.precision = sp.precision * 10 + (*fmt++ - '0');
            }
        }
        enum length len = LEN_INT;
        if (*fmt == 'h') {
            len = LEN_SHORT;
            if (*++fmt == 'h') {
                len = LEN_CHAR;
                fmt++;
            }
        } else if (*fmt == 'l') {
            len = LEN_LONG;
            if (*++fmt == 'l') {
                len = LEN_LLONG;
                fmt++;
            }
        } else if (*fmt == 'z' || *fmt == 't') {
            len = LEN_SIZE;
            fmt++;
        } else if (*fmt == 'j') {
            len = LEN_LLONG;
            fmt++;
        }

        char conv = *fmt;
        if (!conv)
            break;
        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v;
            switch (len) {
            case LEN_LLONG: v = va_arg(ap, long long); break;
            case LEN_LONG: v = va_arg(ap, long); break;
            case LEN_SIZE: v = va_arg(ap, ptrdiff_t); break;
            case LEN_SHORT: v = (short)va_arg(ap, int); break;
            case LEN_CHAR: v = (signed char)va_arg(ap, int); break;
            default: v = va_arg(ap, int); break;
            }
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_number(&o, mag, v < 0, 10, &sp);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v;
            switch (len) {
            case LEN_LLONG: v = va_arg(ap, unsigned long long); break;
            case LEN_LONG: v = va_arg(ap, unsigned long); break;
            case LEN_SIZE: v = va_arg(ap, size_t); break;
            case LEN_SHORT: v = (unsigned short)va_arg(ap, unsigned); break;
            case LEN_CHAR: v = (unsigned char)va_arg(ap, unsigned); break;
            default: v = va_arg(ap, unsigned); break;
            }
            sp.upper = conv == 'X';
            put_number(&o, v, false, conv == 'u' ? 10 : conv == 'o' ? 8 : 16, &sp);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            sp.alt = true;
            put_number(&o, v, false, 16, &sp);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_repeat(&o, ' ', sp.left ? 0 : sp.width - 1);
            put(&o, c);
            put_repeat(&o, ' ', sp.left ? sp.width - 1 : 0);
            break;
        }
        case 's':
            put_string(&o, va_arg(ap, const char *), &sp);
            break;
        case '%':
            put(&o, '%');
            break;
        default: /* unknown conversion: print it as it was written */
            put(&o, '%');
            put(&o, conv);
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

#if XENOLITH_DRIVERS
static struct printk_capture *capture;
static struct thread *capture_thread;

void printk_capture_start(struct printk_capture *c)
{
    c->len = 0;
    c->truncated = false;
    capture = c;
    capture_thread = thread_current();
}

void printk_capture_end(void)
{
    capture = NULL;
    capture_thread = NULL;
}

static void captured(const char *text, size_t len)
{
    size_t room = capture->size - capture->len;
    if (len > room) {
        len = room;
        capture->truncated = true;
    }
    memcpy(capture->buf + capture->len, text, len);
    capture->len += len;
}
#endif

static int vprintk(const char *fmt, va_list ap)
{
    char buf[PRINTK_BUF];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
#if XENOLITH_DRIVERS
    if (capture && capture_thread == thread_current()) {
        captured(buf, len);
        return n;
    }
#endif
    console_write(buf, len);
    return n;
}

int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

bool ratelimit_ok(struct ratelimit *rl)
{
    uint64_t now = monotonic_ns();
    if (now - rl->window >= NSEC_PER_SEC) {
        if (rl->suppressed)
            printk("%s: %lu more %s messages suppressed\n", rl->who, rl->suppressed, rl->what);
        rl->window = now;
        rl->printed = 0;
        rl->suppressed = 0;
    }
    if (rl->printed < rl->burst) {
        rl->printed++;
        return true;
    }
    rl->suppressed++;
    return false;
}

void ratelimit_vprintk(struct ratelimit *rl, const char *reason, const char *fmt, va_list ap)
{
    if (!ratelimit_ok(rl))
        return;
    char text[96];
    vsnprintf(text, sizeof(text), fmt, ap);
    printk("%s: %s %s: %s\n", rl->who, rl->what, reason, text);
}
