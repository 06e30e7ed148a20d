/*
 * check.c — every system call once, and the errors the kernel must give
 * for bad arguments (an unknown call, a buffer outside the process, too
 * long a write or sleep). Exits 0 when all answers are right, otherwise the
 * number of the first wrong check; the self-test `user_syscalls` runs it.
 */
#include "ulib.h"

#define SLEEP_MS 20
#define UNKNOWN_CALL 999
#define KERNEL_HALF 0xC0000000ul
#define UNMAPPED 0x1000ul

static const char msg[] = "check: system calls from ring 3\n";

int main(void)
{
    long pid = sys_getpid();

    if (pid < 1)
        return 1;
    if (sys_write(msg, sizeof(msg) - 1) != (long)sizeof(msg) - 1)
        return 2;
    if (sys_yield() != 0)
        return 3;
    if (sys_sleep(SLEEP_MS) != 0)
        return 4;
    if (sys_getpid() != pid)
        return 5;
    if (syscall3(UNKNOWN_CALL, 0, 0, 0) != -USER_ENOSYS)
        return 6;
    if (sys_write((const void *)KERNEL_HALF, 1) != -USER_EFAULT)
        return 7;
    if (sys_write((const void *)UNMAPPED, 1) != -USER_EFAULT)
        return 8;
    if (sys_write(msg, USER_WRITE_MAX + 1) != -USER_EINVAL)
        return 9;
    if (sys_sleep(USER_SLEEP_MAX_MS + 1) != -USER_EINVAL)
        return 10;
    /* A buffer that runs off the end of the stack into the unmapped rest. */
    if (sys_write((const void *)(USER_STACK_TOP - 1), 2) != -USER_EFAULT)
        return 11;
    return 0;
}
