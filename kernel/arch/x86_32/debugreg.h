/*
 * debugreg.h — hardware watchpoints through set_debugreg/get_debugreg, as
 * kernel/arch/x86_32/debugreg.c offers them to its shell command and to its
 * self-test (debugreg_selftest.c). Implemented in debugreg.c.
 */
#ifndef XENOLITH_ARCH_DEBUGREG_H
#define XENOLITH_ARCH_DEBUGREG_H

#include "kernel.h"

/* Debug registers (Intel SDM Vol. 3B, 17.2 "Debug Registers"). */
#define DR_ADDR_FIRST 0 /* DR0..DR3 hold linear addresses */
#define DR_ADDR_COUNT 4
#define DR_STATUS 6     /* DR6 */
#define DR_CONTROL 7    /* DR7 */
#define DR_BAD_NUMBER 8 /* no such register */

#define DR6_B_MASK 0xFu             /* B0..B3: which breakpoint fired */
#define DR7_L(n) (1u << ((n) * 2))  /* local enable of breakpoint n */
#define DR7_GD (1u << 13)           /* general detect: trap on any mov %dr */
#define DR7_RW_SHIFT(n) (16 + (n) * 4)
#define DR7_LEN_SHIFT(n) (18 + (n) * 4)
#define DR7_RW_WRITE 1u /* R/W field: break on data writes */
#define DR7_RW_IO 2u    /* break on I/O (needs CR4.DE) */
#define DR7_LEN_4 3u    /* LEN field: 4 bytes (address 4-aligned) */
#define WATCH_ALIGN 4u

#define SYM_BUF 64 /* room for "name+0xoff" */

/* What the #DB handler saw. */
extern volatile unsigned watch_hits;
extern volatile unsigned long watch_last_eip, watch_last_dr6;
extern unsigned long watch_addr[DR_ADDR_COUNT]; /* armed addresses; 0 = slot free */

/* "name+0xoff" for a code address, in buf ("?" without a symbol). */
const char *debugreg_symbolize(unsigned long addr, char *buf, size_t size);
/* get_debugreg(reg): false when Xen refused. */
/* Start of day (main.c): the #DB handler that reports watchpoint hits. */
int debugreg_init(void);
bool dr_read(int reg, unsigned long *val);
/* Arm breakpoint slot n on writes to the 4 bytes at addr (0 disarms); Xen's
 * refusal is printed and returned. */
long watch_set(unsigned n, unsigned long addr);

/* The watched variable and its writers (separate functions, so the
 * reported symbol says which one wrote). watched_write stores `v` and gives
 * the address of the next instruction: the eip a data breakpoint reports
 * (it traps after the write). */
extern volatile uint32_t watched;
unsigned long watched_write(uint32_t v);
uint32_t watched_read(void);

#endif
