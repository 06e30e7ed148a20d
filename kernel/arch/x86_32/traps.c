/*
 * traps.c — exceptions (interface manual: "Exceptions": set_trap_table,
 * the bounce frame, cr2 in vcpu_info).
 *
 * A PV kernel has no IDT of its own: it gives Xen a virtual trap table,
 * struct trap_info[] ended by an entry with address 0, one entry per vector:
 * the handler's cs:eip, and flags = the lowest privilege that may raise the
 * vector with a software `int` (1: kernel only; 3: anyone, for int3 and
 * into) plus "clear event enable" (Xen masks events on entry, like an
 * interrupt gate). We ask for that only on #PF: Xen keeps the faulting
 * address in vcpu_info->arch.cr2, and an event handler that faulted before
 * we read it would overwrite it. trap_dispatch reads cr2, then puts the
 * event mask back as it was (Xen saved it in bits 16-23 of the frame's cs).
 *
 * A vector with a registered handler (trap_set_handler) goes to it; if it
 * returns true execution resumes (at the frame's eip, which it may change).
 * Everything else is fatal: "*** FATAL <name> (vector N) ...", the dump,
 * SHUTDOWN_crash.
 *
 * A trap taken in ring 3 belongs to the process running there
 * (kernel/user/process.c): it ends that process with a line saying why,
 * and the kernel goes on. The system-call gate
 * (USER_SYSCALL_VECTOR, DPL 3) is the table's last entry.
 *
 * A page fault in a thread stack's guard (stack.c) is a stack overflow: the
 * handler may be running on the very stack that ran out, so it copies the
 * frame and moves to an emergency stack before printing
 * "*** FATAL stack overflow in thread NAME (guard page at 0x...)". Xen can
 * deliver that fault only while %esp is still above the guard (it writes
 * our exception frame at %esp); when %esp itself has gone into the guard,
 * Xen crashes the domain instead (see stack.c).
 */
#include "kernel.h"
#include "console.h"
#include "events.h"
#include "mm.h"
#include "sched.h"
#include "shell.h"
#include "time.h"
#include "traps.h"
#include "user.h"

#define TRAP_DPL_KERNEL 1   /* ring 1: the PV kernel */
#define TRAP_DPL_USER 3     /* ring 3 may use int3 / into */
#define TRAP_FLAG_MASK_EVENTS 4 /* trap_info.flags bit 2 (TI_SET_IF) */
#define UPCALL_MASK_SHIFT 16
#define UPCALL_MASK_BITS 0xffu
#define SELECTOR_BITS 0xffffu /* the frame's cs slot is 32 bits wide */

extern const unsigned long trap_entries[TRAP_NR]; /* entry.S */
extern void syscall_entry(void);                  /* user/ring3.S */

/* entry.S builds the frame with pushal (8 registers), vector, error code,
 * below what Xen pushed: keep traps.h's struct in step with that. */
#define WORD 4
_Static_assert(offsetof(struct trap_frame, eax) == 7 * WORD, "pushal order");
_Static_assert(offsetof(struct trap_frame, vector) == 8 * WORD, "vector after pushal");
_Static_assert(offsetof(struct trap_frame, error_code) == 9 * WORD, "then the error code");
_Static_assert(offsetof(struct trap_frame, eip) == 10 * WORD, "then Xen's bounce frame");
_Static_assert(offsetof(struct trap_frame, ss_user) == 14 * WORD, "ring-3 esp, ss last");

static const char *const trap_names[TRAP_NR] = {
    [TRAP_DE] = "divide error", [TRAP_DB] = "debug", [TRAP_NMI] = "NMI",
    [TRAP_BP] = "breakpoint", [TRAP_OF] = "overflow", [TRAP_BR] = "bound range",
    [TRAP_UD] = "invalid opcode", [TRAP_NM] = "device not available",
    [TRAP_DF] = "double fault", [9] = "coprocessor segment overrun",
    [TRAP_TS] = "invalid TSS", [TRAP_NP] = "segment not present",
    [TRAP_SS] = "stack fault", [TRAP_GP] = "general protection",
    [TRAP_PF] = "page fault", [TRAP_MF] = "x87 error", [TRAP_AC] = "alignment check",
    [TRAP_MC] = "machine check", [TRAP_XM] = "SIMD error",
};

#define EMERGENCY_STACK_SIZE 4096
#define STACK_ALIGN 16

static trap_handler_t handlers[TRAP_NR];
static struct trap_info trap_table[TRAP_NR + 2]; /* + the system-call gate, the terminator */
static unsigned long last_cr2;
static unsigned fatal_depth;

const char *trap_name(unsigned vector)
{
    return vector < TRAP_NR && trap_names[vector] ? trap_names[vector] : "unknown";
}

trap_handler_t trap_set_handler(unsigned vector, trap_handler_t h)
{
    if (vector >= TRAP_NR)
        panic("trap_set_handler: vector %u out of range", vector);
    trap_handler_t old = handlers[vector];
    handlers[vector] = h;
    return old;
}

unsigned long trap_read_cr2(void)
{
    return last_cr2;
}

int traps_init(void)
{
    unsigned n = 0;
    for (unsigned v = 0; v < TRAP_NR; v++) {
        if (!trap_entries[v])
            continue;
        struct trap_info *t = &trap_table[n++];
        t->vector = (uint8_t)v;
        t->flags = (v == TRAP_BP || v == TRAP_OF) ? TRAP_DPL_USER : TRAP_DPL_KERNEL;
        if (v == TRAP_PF)
            t->flags |= TRAP_FLAG_MASK_EVENTS;
        t->cs = FLAT_KERNEL_CS;
        t->address = trap_entries[v];
    }
#if XENOLITH_USER /* make tiny has no user mode (mk/kernel.mk) */
    /* The system-call gate (user/ring3.S): ring 3 may raise it. */
    trap_table[n].vector = USER_SYSCALL_VECTOR;
    trap_table[n].flags = TRAP_DPL_USER | TRAP_FLAG_MASK_EVENTS;
    trap_table[n].cs = FLAT_KERNEL_CS;
    trap_table[n++].address = (unsigned long)syscall_entry;
#endif
    /* trap_table[n] stays zero: address 0 ends the table. */
    long rc = HYPERVISOR_set_trap_table(trap_table);
    if (rc) {
        printk("traps: set_trap_table failed: %s\n", xen_errname(rc));
        return (int)rc;
    }
    return 0;
}

const struct trap_info *traps_table(void)
{
    return trap_table;
}

/* Registers and a symbolised backtrace starting at this frame. */
static void trap_dump(const struct trap_frame *f)
{
    printk("eax %08x ebx %08x ecx %08x edx %08x\n", f->eax, f->ebx, f->ecx, f->edx);
    printk("esi %08x edi %08x ebp %08x esp %08x\n", f->esi, f->edi, f->ebp, trap_frame_esp(f));
    printk("eip %08x cs %04x eflags %08x event mask %u\n", f->eip, f->cs & SELECTOR_BITS, f->eflags,
           (f->cs >> UPCALL_MASK_SHIFT) & UPCALL_MASK_BITS);
    backtrace_from(f->eip, f->ebp);
}

static void print_pf_cause(const struct trap_frame *f)
{
    printk("cr2 0x%08lx " PF_CAUSE_FMT "\n", last_cr2, PF_CAUSE_ARGS(f->error_code));
}

/* ---- stack overflow: report it from a stack that has room ---------------- */

static uint8_t emergency_stack[EMERGENCY_STACK_SIZE] __attribute__((aligned(STACK_ALIGN)));
static const struct trap_frame *overflow_frame; /* on the old stack: Xen could write it */
static const char *overflow_thread;
static unsigned long overflow_guard, overflow_guard_end;

static _Noreturn void stack_overflow_fatal(void)
{
    printk("*** FATAL stack overflow in thread %s (guard page at 0x%08lx)\n", overflow_thread,
           last_cr2 & PAGE_MASK);
    printk("its guard is 0x%08lx-0x%08lx, its stack starts above\n", overflow_guard,
           overflow_guard_end - 1);
    print_pf_cause(overflow_frame);
    trap_dump(overflow_frame);
    kernel_shutdown(SHUTDOWN_crash);
}

static _Noreturn void stack_overflow(const struct trap_frame *f, const char *thread,
                                     unsigned long guard, unsigned long guard_end)
{
    overflow_frame = f;
    overflow_thread = thread;
    overflow_guard = guard;
    overflow_guard_end = guard_end;
    /* Events stay masked (Xen masked them for #PF): nothing else may run on
     * the old stack. The dump reads it only through the frame Xen wrote and
     * the frame-pointer chain, which backtrace.c checks page by page. */
    __asm__ volatile("movl %0, %%esp\n\t"
                     "xorl %%ebp, %%ebp\n\t"
                     "call *%1"
                     :
                     : "r"((unsigned long)(emergency_stack + sizeof(emergency_stack))),
                       "r"(stack_overflow_fatal)
                     : "memory");
    __builtin_unreachable();
}

static _Noreturn void trap_fatal(const struct trap_frame *f)
{
    unsigned long off = 0;
    const char *sym = symbol_lookup(f->eip, &off);
    char where[96];

    if (sym)
        snprintf(where, sizeof(where), "<%s+0x%lx>", sym, off);
    else
        snprintf(where, sizeof(where), "<?>");
    printk("*** FATAL %s (vector %u) error 0x%x at eip 0x%08x %s\n", trap_name(f->vector),
           f->vector, f->error_code, f->eip, where);
    if (fatal_depth > 1) {
        /* The dump itself faulted: say so and stop. */
        printk("*** FATAL fault while handling a fatal fault; no dump\n");
        kernel_shutdown(SHUTDOWN_crash);
    }
    if (f->vector == TRAP_PF)
        print_pf_cause(f);
    trap_dump(f);
    kernel_shutdown(SHUTDOWN_crash);
}

void trap_dispatch(struct trap_frame *f)
{
    bool user = XENOLITH_USER && trap_from_user(f); /* make tiny runs no ring 3 */

    if (user)
        kernel_lock(); /* ring 3 runs without it (process.c, user_return_work) */

    if (f->vector == TRAP_PF) {
        last_cr2 = this_vcpu()->arch.cr2;
        unsigned long guard, guard_end;
        const char *owner = user ? NULL : stack_guard_owner(last_cr2, &guard, &guard_end);
        if (owner && !fatal_depth++)
            stack_overflow(f, owner, guard, guard_end);
        /* Events were masked for us (TRAP_FLAG_MASK_EVENTS): restore. */
        upcall_mask_restore_kick(this_vcpu(),
                                 (uint8_t)((f->cs >> UPCALL_MASK_SHIFT) & UPCALL_MASK_BITS));
    }
    /* From ring 3 only the lazy FPU's #NM is the kernel's business (the FPU
     * state is the thread's); any other trap there is the program's fault
     * and ends its process, never the kernel. */
#if XENOLITH_USER
    if (user && !(f->vector == TRAP_NM && handlers[TRAP_NM]))
        process_trap(f);
#endif
    if (f->vector < TRAP_NR && handlers[f->vector] && !fatal_depth && handlers[f->vector](f))
        return;
    fatal_depth++;
    trap_fatal(f);
}

