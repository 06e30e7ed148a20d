/*
 * fpu_selftest_fpu.c — the compiler-generated half of the lazy FPU self-test
 * (fpu.c). Built with FPU code generation (mk/kernel.mk: files *_fpu.c get
 * -msse -msse2 -mfpmath=sse), so float arithmetic here is SSE code and
 * double results come back in x87 st(0) (the i386 calling convention).
 *
 * Two threads sum 1/k in single precision, yielding every few steps, one
 * with MXCSR rounding to nearest, the other toward zero: the rounding mode
 * is FPU state that lives across the yields only in the FPU. Each thread's
 * sum is first computed alone, then both run interleaved; the results must
 * match bit for bit (and the two modes must give different sums, or the
 * test would prove nothing).
 *
 * The kernel's other stacks are only 4-byte aligned where SSE spills may
 * want 16: every function here that can run SSE code realigns its stack
 * (force_align_arg_pointer).
 */
#include "kernel.h"
#include "sched.h"

#define MATH_TERMS 300
#define MATH_YIELD_EVERY 7
#define MXCSR_NEAREST 0x1f80
#define MXCSR_RC_ZERO 0x7f80

bool fpu_math_check(char *why, size_t len);

struct math_worker {
    uint32_t mxcsr;
    float sum;
    double check; /* returned through x87 st(0) */
};

static __attribute__((noinline)) double widen(float f)
{
    return (double)f * 2.0;
}

__attribute__((force_align_arg_pointer)) static void math_worker(void *arg)
{
    struct math_worker *w = arg;
    volatile float sum = 0.0f; /* volatile: one add per term, in order */

    __asm__ __volatile__("ldmxcsr %0" : : "m"(w->mxcsr));
    for (unsigned k = 1; k <= MATH_TERMS; k++) {
        sum = sum + 1.0f / (float)k;
        if (k % MATH_YIELD_EVERY == 0)
            thread_yield();
    }
    w->sum = sum;
    w->check = widen(sum);
}

static bool run(struct math_worker *w, unsigned n)
{
    struct thread *t[2];
    for (unsigned i = 0; i < n; i++) {
        t[i] = thread_create("fpu-math", math_worker, &w[i]);
        if (!t[i])
            return false;
    }
    for (unsigned i = 0; i < n; i++)
        thread_join(t[i]);
    return true;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    return u;
}

__attribute__((force_align_arg_pointer)) bool fpu_math_check(char *why, size_t len)
{
    struct math_worker alone[2] = {{.mxcsr = MXCSR_NEAREST}, {.mxcsr = MXCSR_RC_ZERO}};
    struct math_worker both[2] = {{.mxcsr = MXCSR_NEAREST}, {.mxcsr = MXCSR_RC_ZERO}};

    if (!run(&alone[0], 1) || !run(&alone[1], 1) || !run(both, 2)) {
        snprintf(why, len, "fpu math: thread_create failed");
        return false;
    }
    if (bits(alone[0].sum) == bits(alone[1].sum)) {
        snprintf(why, len, "fpu math: both rounding modes gave %#x: test proves nothing",
                 (unsigned)bits(alone[0].sum));
        return false;
    }
    for (unsigned i = 0; i < 2; i++) {
        if (bits(both[i].sum) != bits(alone[i].sum) || both[i].check != alone[i].check) {
            snprintf(why, len, "fpu math: thread %u (mxcsr %#x) summed %#x interleaved, %#x alone",
                     i, (unsigned)both[i].mxcsr, (unsigned)bits(both[i].sum),
                     (unsigned)bits(alone[i].sum));
            return false;
        }
    }
    snprintf(why, len, "SSE sums in 2 rounding modes match solo runs (%#x, %#x)",
             (unsigned)bits(both[0].sum), (unsigned)bits(both[1].sum));
    return true;
}
