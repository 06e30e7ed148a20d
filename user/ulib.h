/*
 * ulib.h — what a Xenolith ring-3 program has: the system calls of
 * kernel/include/user_abi.h as functions, and printing of strings and
 * numbers on top of SYS_write. Header-only, freestanding; every program
 * defines `int main(void)`, which start.S calls and whose result is the
 * exit status.
 */
#ifndef XENOLITH_ULIB_H
#define XENOLITH_ULIB_H

#include "user_abi.h"

static inline long syscall3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ __volatile__("int %[vec]"
                         : "=a"(ret)
                         : [vec] "i"(USER_SYSCALL_VECTOR), "a"(nr), "b"(a), "c"(b), "d"(c)
                         : "memory");
    return ret;
}

static inline _Noreturn void sys_exit(int status)
{
    syscall3(SYS_exit, status, 0, 0);
    __builtin_unreachable();
}
static inline long sys_write(const void *buf, unsigned long len)
{
    return syscall3(SYS_write, (long)buf, (long)len, 0);
}
static inline long sys_yield(void)
{
    return syscall3(SYS_yield, 0, 0, 0);
}
static inline long sys_sleep(unsigned long ms)
{
    return syscall3(SYS_sleep, (long)ms, 0, 0);
}
static inline long sys_getpid(void)
{
    return syscall3(SYS_getpid, 0, 0, 0);
}

static inline unsigned long ustrlen(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static inline void print(const char *s)
{
    sys_write(s, ustrlen(s));
}

/* n in base 10 or 16 ("0x" prefix), no padding. */
static inline void print_num(unsigned long n, unsigned base)
{
    char buf[16];
    unsigned i = sizeof(buf);
    do {
        unsigned d = (unsigned)(n % base);
        buf[--i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        n /= base;
    } while (n);
    if (base == 16) {
        buf[--i] = 'x';
        buf[--i] = '0';
    }
    sys_write(buf + i, sizeof(buf) - i);
}

/* The privilege level this code runs at: the RPL bits of %cs. */
#define SELECTOR_RPL_MASK 3u
#define SELECTOR_BITS 0xffffu /* a 32-bit read of %cs may carry junk above them */
static inline unsigned current_cs(void)
{
    unsigned cs;
    __asm__ __volatile__("movl %%cs, %0" : "=r"(cs));
    return cs & SELECTOR_BITS;
}

int main(void);

#endif
