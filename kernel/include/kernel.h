/*
 * kernel.h — what every Xenolith file may use: printk, panic, the boot-time
 * globals from start of day (start_info, shared_info) and the command
 * line (the keys are cmdline.c's table).
 *
 * Implemented in kernel/main.c, kernel/printk.c, kernel/lib.c.
 */
#ifndef XENOLITH_KERNEL_H
#define XENOLITH_KERNEL_H

/* The one line assembly files may use (elfnote.S: XEN_ELFNOTE_GUEST_VERSION). */
#define XENOLITH_VERSION "0.1"

#ifndef __ASSEMBLY__

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <abi/xen.h>
#include <abi/rings.h> /* the one barrier vocabulary: xen_mb, xen_rmb, xen_wmb */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define unlikely(x) __builtin_expect(!!(x), 0)
#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))
#define barrier() __asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Start of day (kernel/arch/x86_32/setup.c): set before kernel_main. */
extern struct start_info *start_info;   /* as Xen passed it in %esi */
/* A copy taken at boot, for the fields only the domain builder writes (pt_base,
 * nr_pt_frames, mfn_list): a resume is only promised new store and console
 * fields, and the PV shim's resume rewrites a 32-bit guest's page through a
 * 64-bit layout (write_start_info() in xen/arch/x86/pv/shim.c), garbling the
 * others. */
extern const struct start_info *boot_start_info;
extern struct shared_info *shared_info; /* mapped at a fixed page */
extern const char *kernel_cmdline;      /* start_info->cmd_line, NUL-terminated */
bool xen_is_dom0(void);                  /* start_info->flags & SIF_INITDOMAIN */
struct vcpu_info *this_vcpu(void);       /* the calling vCPU's, in shared_info */
/* The boot path: entry.S _start -> arch_start (setup.c) -> kernel_main (main.c). */
_Noreturn void arch_start(struct start_info *si);
_Noreturn void kernel_main(void);
extern uint64_t kernel_banner_ns; /* Xen system time (ns) at the boot banner */
/* Linker-script symbols (kernel.ld). */
extern char _stext[], _etext[], _srodata[], _erodata[], _sdata[], _edata[];
extern char __bss_start[], __bss_end[], _end[];

/* kernel/xen/version.c, hypercall.c. */
unsigned xen_version_number(void);         /* XENVER_version: major << 16 | minor */
/* Xen's XENVER_extraversion or XENVER_capabilities string in `out` (len > 0,
 * NUL-terminated): whole through Xen 4.20's XENVER_*2 subop when Xen has it
 * (*whole = true), else the legacy fixed-size subop's (truncating) answer.
 * Returns the length, or Xen's error. _legacy asks only the old subop;
 * xen_version_subop2 maps an old subop to its XENVER_*2 (-1: none). */
long xen_version_text(int cmd, char *out, size_t len, bool *whole);
long xen_version_text_legacy(int cmd, char *out, size_t len);
int xen_version_subop2(int cmd);
const char *xen_hypercall_name(unsigned nr); /* "mmu_update", or "?" */
/* kernel/xen/errno.c: a hypercall result as Xen's errno name ("-EINVAL");
 * 0 is "0", a number without a name is printed as the number. */
const char *xen_errname(long rc);
/* The reverse, for an errno name without the '-' ("ENOENT"): -XEN_ENOENT;
 * 0 when it is not one of those names. */
int xen_errno_from_name(const char *name);

/* Console output (kernel/printk.c). Safe before everything else; one call to
 * printk writes its whole text in one console write, so markers never split. */
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The calling thread's printk output into buf (size bytes, not
 * NUL-terminated; what does not fit is cut and `truncated` set) instead of
 * the console, until printk_capture_end; one capture at a time. */
struct printk_capture {
    char *buf;
    size_t size, len;
    bool truncated;
};
void printk_capture_start(struct printk_capture *c);
void printk_capture_end(void);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* At most `burst` messages a second (kernel/printk.c): ratelimit_ok says
 * whether one may be printed now; the rest are counted and reported as
 * "<who>: <n> more <what> messages suppressed" once the next second opens.
 *   static struct ratelimit rl = RATELIMIT_INIT("net", "drop", 5); */
struct ratelimit {
    const char *who, *what;
    unsigned burst;
    unsigned printed;
    unsigned long suppressed;
    uint64_t window; /* monotonic_ns() at the start of the current second */
};
#define RATELIMIT_INIT(who_, what_, burst_) {.who = (who_), .what = (what_), .burst = (burst_)}
bool ratelimit_ok(struct ratelimit *rl);
/* "<who>: <what> <reason>: <formatted text>" if `rl` allows a message now. */
void ratelimit_vprintk(struct ratelimit *rl, const char *reason, const char *fmt, va_list ap);

/* Fatal errors: print "*** FATAL <msg>", a backtrace, then SCHEDOP_shutdown
 * with SHUTDOWN_crash. */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Symbols (kernel/symbols.c): the function containing addr, or NULL;
 * *offset = addr - its start. */
const char *symbol_lookup(unsigned long addr, unsigned long *offset);

/* SCHEDOP_shutdown with SHUTDOWN_poweroff / _reboot / _crash; never returns. */
_Noreturn void kernel_shutdown(unsigned reason);
/* The SHUTDOWN_* reason a word names (shutdown.c): "poweroff", "halt" (a
 * poweroff), "reboot", "crash", "suspend"; false for any other word. */
bool shutdown_reason_of(const char *word, unsigned *reason);

/* Command-line parameters (kernel/cmdline.c): `key=value` words. The keys
 * the kernel understands are one table in cmdline.c; unknown keys are
 * reported at boot. */
struct cmdline_param {
    const char *key;
    const char *help;
};
/* Value of `key` on the command line, or NULL; a bare word gives "". When
 * a key appears more than once the last one wins. */
const char *cmdline_get(const char *key);
/* Parse kernel_cmdline and report unknown keys (kernel_main calls it). */
void cmdline_init(void);
bool cmdline_known(const char *key);   /* some part declared `key` */

/* kernel/lib.c: the freestanding C library subset. */
void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
size_t strlcpy(char *dst, const char *src, size_t size);
/* Parse a decimal (or 0x hex) unsigned number; returns false on junk or overflow. */
bool parse_ulong(const char *s, unsigned long *out);
/* The same for 64 bits in `base` (10 or 16; 0: decimal, or hex after "0x"). */
bool parse_u64(const char *s, unsigned base, uint64_t *out);
/* The value of hex digit c (0-9, a-f, A-F), or -1. */
int hex_digit(char c);

#endif /* !__ASSEMBLY__ */
#endif
