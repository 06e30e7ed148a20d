/*
 * spin.c — a ring-3 busy loop that never makes a system call: only the
 * timer can take the CPU from it (the kernel preempts on the way back to
 * ring 3). Runs until killed (`kill PID`).
 */
#include "ulib.h"

int main(void)
{
    volatile unsigned long n = 0;

    print("spin: spinning in ring 3 until killed\n");
    for (;;)
        n++;
}
