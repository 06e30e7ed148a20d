/*
 * badop.c — a privileged instruction in ring 3 (hlt): general protection.
 * The kernel ends the process and says why.
 */
#include "ulib.h"

int main(void)
{
    print("badop: executing hlt in ring 3\n");
    __asm__ __volatile__("hlt");
    print("badop: hlt went through\n");
    return 1;
}
