/*
 * fpu_selftest.c — self-test of lazy FPU switching (fpu.c, "CPU state").
 *
 * Two threads each put their own values in the FPU — a number on the x87
 * register stack, a pattern in %xmm7, the x87 control word and MXCSR (two
 * different rounding modes) — then yield to each other many times, checking
 * after every yield that all four are still theirs. Both load their state
 * once and keep it only in registers, so if a switch did not save the
 * registers of one thread and restore the other's on its next #NM, the
 * other thread's values would show through (and the x87 stack would hold
 * both numbers). Then fpu_selftest_fpu.c runs compiler-generated SSE code in
 * two threads with different rounding modes and compares with runs alone.
 *
 * This file is built without FPU code generation (mk/kernel.mk), so the
 * compiler itself never touches these registers; the asm needs no clobbers
 * (and gcc refuses FPU clobbers under -mno-sse -mno-80387).
 */
#include "kernel.h"
#include "fpu.h"
#include "sched.h"
#include "selftest.h"

#define FPU_ROUNDS 20
#define X87_FCW_DEFAULT 0x037f /* all exceptions masked, 64-bit precision, nearest */
#define X87_FCW_RC_ZERO 0x0f7f /* same, rounding toward zero */
#define MXCSR_NEAREST 0x1f80
#define MXCSR_RC_ZERO 0x7f80

struct fpu_worker {
    const char *name;
    double x87_value;
    uint32_t xmm[4];
    uint16_t fcw;
    uint32_t mxcsr;
    unsigned rounds_ok;
    char error[96];
};

/* In fpu_selftest_fpu.c (built with FPU code generation). */
bool fpu_math_check(char *why, size_t len);

static void fpu_reg_worker(void *arg)
{
    struct fpu_worker *w = arg;

    __asm__ __volatile__("fninit");
    __asm__ __volatile__("fldcw %0" : : "m"(w->fcw));
    __asm__ __volatile__("ldmxcsr %0" : : "m"(w->mxcsr));
    __asm__ __volatile__("fldl %0" : : "m"(w->x87_value));
    __asm__ __volatile__("movdqu %0, %%xmm7" : : "m"(w->xmm));
    for (unsigned i = 0; i < FPU_ROUNDS; i++) {
        thread_yield();
        double st0;
        uint16_t fcw;
        uint32_t mxcsr, xmm[4];
        __asm__ __volatile__("fstl %0" : "=m"(st0));
        __asm__ __volatile__("fnstcw %0" : "=m"(fcw));
        __asm__ __volatile__("stmxcsr %0" : "=m"(mxcsr));
        __asm__ __volatile__("movdqu %%xmm7, %0" : "=m"(xmm));
        if (memcmp(&st0, &w->x87_value, sizeof(st0)) || fcw != w->fcw || mxcsr != w->mxcsr ||
            memcmp(xmm, w->xmm, sizeof(xmm))) {
            snprintf(w->error, sizeof(w->error),
                     "%s after yield %u: fcw %#x mxcsr %#x xmm7[0] %#x (want %#x %#x %#x)",
                     w->name, i, fcw, (unsigned)mxcsr, (unsigned)xmm[0], w->fcw,
                     (unsigned)w->mxcsr, (unsigned)w->xmm[0]);
            break;
        }
        w->rounds_ok++;
    }
    __asm__ __volatile__("fstp %st(0)"); /* leave the x87 stack empty */
}

SELFTEST(fpu)
{
    static struct fpu_worker w[2] = {
        {.name = "fpu-A", .x87_value = 3.25, .xmm = {0x11111111, 0x22222222, 0x33333333, 0x44444444},
         .fcw = X87_FCW_DEFAULT, .mxcsr = MXCSR_NEAREST},
        {.name = "fpu-B", .x87_value = -1.5e300, .xmm = {0xa5a5a5a5, 0x5a5a5a5a, 0xdeadbeef, 0x0badf00d},
         .fcw = X87_FCW_RC_ZERO, .mxcsr = MXCSR_RC_ZERO},
    };
    unsigned long loads0 = fpu_state_loads(), nm0 = fpu_nm_traps();
    struct thread *t[2];

    for (unsigned i = 0; i < 2; i++) {
        w[i].rounds_ok = 0;
        w[i].error[0] = 0;
        t[i] = thread_create(w[i].name, fpu_reg_worker, &w[i]);
        ST_EXPECT(r, t[i], "thread_create %s failed", w[i].name);
    }
    thread_join(t[0]);
    thread_join(t[1]);
    unsigned long loads = fpu_state_loads() - loads0, nms = fpu_nm_traps() - nm0;
    for (unsigned i = 0; i < 2; i++) {
        ST_EXPECT(r, !w[i].error[0], "%s", w[i].error);
        ST_EXPECT(r, w[i].rounds_ok == FPU_ROUNDS, "%s kept its state %u of %u rounds", w[i].name,
                  w[i].rounds_ok, FPU_ROUNDS);
    }
    /* Each A->B->A alternation needs the other's registers loaded. */
    ST_EXPECT(r, loads >= FPU_ROUNDS, "only %lu FPU state loads (%lu #NM) for %u alternations",
              loads, nms, FPU_ROUNDS);

    char why[sizeof(r->detail)];
    ST_EXPECT(r, fpu_math_check(why, sizeof(why)), "%s", why);
    ST_PASS(r, "2 threads kept x87 st0, xmm7, FCW and MXCSR over %u yields each (%lu #NM, %lu "
               "loads); %s", FPU_ROUNDS, nms, loads, why);
}
