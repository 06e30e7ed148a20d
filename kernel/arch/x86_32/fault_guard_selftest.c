/*
 * fault_guard_selftest.c — the self-tests' fault guard (fault_guard.h):
 * a trap handler (traps.c's trap_set_handler) for one vector that resumes
 * after the guarded instruction. Named *_selftest.c so that a build without
 * self-tests leaves it out with them (mk/kernel.mk).
 */
#include "kernel.h"
#include "fault_guard.h"

static struct fault_guard *armed;

static bool fault_guard_trap(struct trap_frame *f)
{
    struct fault_guard *g = armed;

    if (g == NULL || f->eip != g->fault_eip)
        return g && g->previous ? g->previous(f) : false;
    g->error_code = f->error_code;
    g->cr2 = f->vector == TRAP_PF ? trap_read_cr2() : 0;
    g->hits++;
    f->eip = g->resume_eip;
    return true;
}

void fault_guard_arm(struct fault_guard *g, unsigned vector)
{
    if (armed)
        panic("fault_guard_arm: a guard is already armed");
    g->fault_eip = 0;
    g->hits = 0;
    g->vector = vector;
    armed = g;
    g->previous = trap_set_handler(vector, fault_guard_trap);
}

void fault_guard_disarm(struct fault_guard *g)
{
    (void)trap_set_handler(g->vector, g->previous);
    g->fault_eip = 0;
    armed = NULL;
}
