/*
 * fpu.c — the x87 FPU in ring 3. The first FPU instruction after a switch
 * raises #NM (the kernel switches FPU state lazily, with CR0.TS): the one
 * trap from ring 3 that the kernel handles and returns from. A system
 * call between loading and using two values lets other threads (another
 * `fpu`) take the FPU meanwhile; the values must survive. Exits 0 when
 * 1 + 1 came out as 2. (Programs are compiled without FPU code: the x87
 * instructions are written out.)
 */
#include "ulib.h"

int main(void)
{
    int sum = 0;

    __asm__ __volatile__("fninit\n\tfld1\n\tfld1" ::: "memory");
    sys_yield();
    __asm__ __volatile__("faddp\n\tfistpl %0" : "=m"(sum) : : "memory");
    print("fpu: 1 + 1 = ");
    print_num((unsigned long)sum, 10);
    print(" on the x87 in ring 3\n");
    return sum == 2 ? 0 : 1;
}
