/*
 * user_abi.h — the interface between Xenolith and its ring-3 programs: the
 * system-call gate, the call numbers and errors, and where a program lives
 * in its address space. Our own ABI, not Xen's; compiled into the kernel
 * (kernel/user/, kernel/arch/x86_32/user/) and into the programs (user/),
 * so each number is written once. Usable from C and assembly.
 *
 * A call: `int $USER_SYSCALL_VECTOR` with the call number in %eax and up to
 * three arguments in %ebx, %ecx, %edx; the result comes back in %eax (>= 0,
 * or -USER_E*), every other register is preserved.
 *
 *   SYS_exit(status)         ends the process; does not return
 *   SYS_write(buf, len)      puts len bytes on the console; returns len,
 *                            -USER_EINVAL past USER_WRITE_MAX, -USER_EFAULT
 *                            when any byte is not the process's memory
 *   SYS_yield()              lets other threads run; returns 0
 *   SYS_sleep(ms)            sleeps at least ms milliseconds (less when the
 *                            process is killed); returns 0, -USER_EINVAL
 *                            past USER_SLEEP_MAX_MS
 *   SYS_getpid()             returns the process id (>= 1)
 *   any other number         -USER_ENOSYS
 *
 * Address space (each process its own; the kernel's 3-4 GiB is in every
 * one but reachable from ring 1 only):
 *   0 .. USER_IMAGE_VA                      never mapped (null pointers fault)
 *   USER_IMAGE_VA, USER_IMAGE_PAGES pages   the program: code, data, bss,
 *                                           entry at USER_IMAGE_VA
 *   USER_STACK_TOP - USER_STACK_PAGES pages .. USER_STACK_TOP   the stack;
 *                                           unmapped below it (a guard)
 */
#ifndef XENOLITH_USER_ABI_H
#define XENOLITH_USER_ABI_H

#define USER_SYSCALL_VECTOR 0x80

#define SYS_exit 0
#define SYS_write 1
#define SYS_yield 2
#define SYS_sleep 3
#define SYS_getpid 4
#define SYS_NR 5

#define USER_ENOSYS 38 /* no such call */
#define USER_EFAULT 14 /* a buffer outside the process's mapped memory */
#define USER_EINVAL 22 /* an argument out of range */

#define USER_WRITE_MAX 1024
#define USER_SLEEP_MAX_MS 60000

#define USER_PAGE_SIZE 4096 /* the x86 page; the kernel checks it is XEN_PAGE_SIZE */
#define USER_IMAGE_VA 0x00400000
#define USER_IMAGE_PAGES 8
#define USER_STACK_PAGES 4
/* The image and the stack share one L1 table (2 MiB): the stack at its top. */
#define USER_STACK_TOP 0x00600000

#endif
