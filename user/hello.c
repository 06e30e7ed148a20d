/*
 * hello.c — the first ring-3 program: says which privilege level it runs
 * at (the RPL bits of its own %cs), then exits with 0 if that is ring 3.
 */
#include "ulib.h"

#define RING_USER 3u

int main(void)
{
    unsigned cs = current_cs();
    unsigned cpl = cs & SELECTOR_RPL_MASK;

    print("hello from ring ");
    print_num(cpl, 10);
    print(": pid ");
    print_num((unsigned long)sys_getpid(), 10);
    print(", cs ");
    print_num(cs, 16);
    print(", CPL ");
    print_num(cpl, 10);
    print("\n");
    return cpl == RING_USER ? 0 : 1;
}
