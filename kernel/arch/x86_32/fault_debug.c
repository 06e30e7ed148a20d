/*
 * fault_debug.c — the `fault` shell command: exceptions raised on purpose,
 * to see the fatal path (traps.c) and the stack guards (stack.c) work.
 * A debugging aid (every kind crashes the domain), so the tiny build
 * leaves it out, as it leaves out the other *_debug.c files.
 */
#include "kernel.h"
#include "console.h"
#include "events.h"
#include "mm.h"
#include "sched.h"
#include "shell.h"
#include "time.h"
#include "traps.h"

#define UNMAPPED_ADDRESS 0x00001000UL /* the first 4 MiB are never mapped */
#define FAULT_KINDS "pf|ud|gp|de|bp|panic|stack|guard|stackdeep"

static volatile unsigned fault_divisor; /* 0, and opaque to the compiler */
static volatile unsigned fault_depth_limit = ~0u; /* never reached: opaque */

/* Recurse with a 256-byte frame until the stack runs into its guard. */
static unsigned fault_recurse(unsigned depth)
{
    volatile unsigned char frame[256];

    frame[0] = (unsigned char)depth;
    if (depth == fault_depth_limit)
        return 0;
    return fault_recurse(depth + 1) + frame[0];
}

/* `fault stackdeep`: recurse with small frames (a 64-byte array, each
 * filled), until a frame lies partly in the stack's canary (stack.c): the
 * stack pointer is then inside the canary's STACK_CANARY_BYTES, short of
 * the guard. noinline: gcc would otherwise inline a few levels into one
 * frame several times as large, which could step over the canary. */
#define DEEP_FRAME_BYTES 64
static __attribute__((noinline)) unsigned deep_recurse(unsigned long canary_end, unsigned depth)
{
    volatile unsigned char frame[DEEP_FRAME_BYTES];

    for (unsigned i = 0; i < sizeof(frame); i++)
        frame[i] = (unsigned char)depth;
    if ((unsigned long)frame < canary_end)
        return depth;
    unsigned deepest = deep_recurse(canary_end, depth + 1);
    return deepest + (frame[0] != (unsigned char)depth); /* + 0, but no tail call */
}

enum fault_stack_kind { FAULT_STACK_RECURSE, FAULT_STACK_GUARD, FAULT_STACK_DEEP };
static const char *const fault_stack_verbs[] = { /* by kind, for the first line */
    [FAULT_STACK_RECURSE] = "recursing on",
    [FAULT_STACK_GUARD] = "reading below",
    [FAULT_STACK_DEEP] = "recursing into the canary of",
};

/* arg: the enum fault_stack_kind.
 *   stack: recurse until the stack runs into its guard (Xen crashes us);
 *   guard: read the word below the stack while %esp still has room, the
 *          one guard hit Xen can deliver to our handler;
 *   stackdeep: into the canary and back, then switch away (a short sleep:
 *          a yield with nobody else runnable does not switch): the switch
 *          finds the canary damaged. */
static void fault_stack_thread(void *arg)
{
    unsigned long lowest, top;
    enum fault_stack_kind kind = (enum fault_stack_kind)(uintptr_t)arg;

    thread_stack_bounds(thread_current(), &lowest, &top);
    printk("fault: thread %s %s its stack 0x%08lx-0x%08lx, guard below\n",
           thread_name(thread_current()), fault_stack_verbs[kind], lowest, top - 1);
    if (kind == FAULT_STACK_GUARD) {
        (void)*(volatile unsigned long *)(lowest - sizeof(unsigned long));
    } else if (kind == FAULT_STACK_DEEP) {
        unsigned depth = deep_recurse(lowest + STACK_CANARY_BYTES, 0);
        printk("fault: %u frames deep, back up; switching away\n", depth);
        sleep_ms(1);
        printk("fault: the canary check let %s run on?\n", thread_name(thread_current()));
    } else {
        printk("fault: recursion returned %u?\n", fault_recurse(0));
    }
}

static int cmd_fault(int argc, char **argv)
{
    if (argc != 2) {
        printk("usage: fault " FAULT_KINDS "\n");
        return 1;
    }
    const char *kind = argv[1];
    if (!strcmp(kind, "pf")) {
        printk("fault: reading unmapped address 0x%08lx\n", UNMAPPED_ADDRESS);
        (void)*(volatile unsigned long *)UNMAPPED_ADDRESS;
    } else if (!strcmp(kind, "ud")) {
        printk("fault: executing ud2\n");
        __asm__ volatile("ud2");
    } else if (!strcmp(kind, "gp")) {
        printk("fault: executing hlt (privileged outside ring 0)\n");
        __asm__ volatile("hlt");
    } else if (!strcmp(kind, "de")) {
        printk("fault: dividing by zero\n");
        /* divl itself: gcc turns 1u / x into (x == 1), which never traps. */
        unsigned q, rem;
        __asm__ volatile("divl %2" : "=a"(q), "=d"(rem) : "rm"(fault_divisor), "0"(1u), "1"(0u));
        printk("fault: 1/0 = %u rem %u?\n", q, rem);
    } else if (!strcmp(kind, "bp")) {
        printk("fault: executing int3\n");
        __asm__ volatile("int3");
    } else if (!strcmp(kind, "panic")) {
        panic("requested with the shell's fault command");
    } else if (!strcmp(kind, "stack") || !strcmp(kind, "guard") || !strcmp(kind, "stackdeep")) {
        enum fault_stack_kind k = !strcmp(kind, "stack")   ? FAULT_STACK_RECURSE
                                  : !strcmp(kind, "guard") ? FAULT_STACK_GUARD
                                                           : FAULT_STACK_DEEP;
        struct thread *t = thread_create("stackhog", fault_stack_thread, (void *)(uintptr_t)k);
        if (!t)
            return 1;
        thread_join(t);
    } else {
        printk("fault: unknown kind '%s' (" FAULT_KINDS ")\n", kind);
        return 1;
    }
    printk("fault: still running?\n");
    return 1;
}
SHELL_COMMAND(fault, "fault", "fault " FAULT_KINDS,
              "raise an exception on purpose (fatal: the domain crashes)", cmd_fault);
