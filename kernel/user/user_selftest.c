/*
 * user_selftest.c — self-tests for ring-3 processes (user.h), each running
 * the built-in programs on real Xen:
 *
 * user_hello: `hello` exits with 0, which it does only when its %cs says
 *   ring 3, and made the calls it should; a run gives back every page.
 * user_syscalls: `check` makes every call with good and bad arguments and
 *   exits 0 when every answer was right (an unknown call, buffers in the
 *   kernel's half, unmapped or running off the stack, sizes too big).
 * user_fault: `fault` (a write to the kernel's half) and `badop` (hlt) end
 *   with the trap that ended them, #PF with the address in cr2 and #GP; the
 *   kernel goes on.
 * user_fpu: two `fpu`s at once: each loads the x87 stack, yields (so the
 *   other takes the FPU: #NM from ring 3, handled, back to ring 3) and
 *   adds; both must exit 0.
 * user_spin: two `spin`s (no system calls at all) share the CPU with this
 *   thread: its sleeps end on time and its yields come back, so the timer
 *   preempts both; `kill` ends them.
 * user_addrspace: a new process has an L3 of its own, whose slot 3 is a
 *   copy of the kernel's L2 (a different frame, the same entries), maps its
 *   image and stack for ring 3, the kernel for ring 1 only, nothing at 0 or
 *   below the stack; the kernel's own tables map nothing of it. And Xen
 *   refuses to pin an L3 that shares the kernel's slot-3 L2 ("PAE L3 3rd
 *   slot is shared" in `xl dmesg` with guest_loglvl=all).
 */
#include "addrspace.h"
#include "fpu.h"
#include "mm.h"
#include "process_priv.h"
#include "sched.h"
#include "selftest.h"
#include "time.h"
#include "wait.h"
#include "traps.h"
#include "../arch/x86_32/pagetable.h"

#define WAIT_MS 5000
#define SPINNERS 2
#define SLEEP_MS 20
#define SLEEPS 10
/* A sleep may end this much late while programs spin: a slice or two, and
 * room for a busy lab host; without preemption it would never end. */
#define LATE_MS 1000
#define YIELD_MS 100
#define KERNEL_L3_SLOT pt_l3_index(KERNEL_VIRT_BASE)

static int run_to_end(const char *program, struct process_info *info)
{
    int pid = process_spawn(program);
    if (pid < 0)
        return pid;
    return process_wait((unsigned)pid, WAIT_MS, info);
}

SELFTEST(user_hello)
{
    struct process_info info;
    int rc = run_to_end("hello", &info); /* the first run also starts the reaper */
    unsigned long free_before = page_free_count();

    ST_EXPECT(r, rc == 0, "hello did not end within %u ms (%d)", WAIT_MS, rc);
    rc = run_to_end("hello", &info);
    ST_EXPECT(r, rc == 0, "hello did not end within %u ms (%d)", WAIT_MS, rc);
    ST_EXPECT(r, page_free_count() == free_before, "%lu free pages before a run, %lu after",
              free_before, page_free_count());
    ST_EXPECT(r, info.end == END_EXIT && info.status == 0, "hello: %s",
              process_end_text(info.pid));
    ST_EXPECT(r, info.syscalls[SYS_getpid] == 1 && info.syscalls[SYS_write] > 0 &&
                     info.syscalls[SYS_exit] == 1,
              "hello's calls: getpid %lu write %lu exit %lu", info.syscalls[SYS_getpid],
              info.syscalls[SYS_write], info.syscalls[SYS_exit]);
    ST_PASS(r, "pid %u ran in ring 3, %lu bytes written, exited with 0; its pages all came back",
            info.pid, info.bytes_written);
}

SELFTEST(user_syscalls)
{
    struct process_info info;
    int rc = run_to_end("check", &info);

    ST_EXPECT(r, rc == 0, "check did not end within %u ms (%d)", WAIT_MS, rc);
    ST_EXPECT(r, info.end == END_EXIT, "check: %s", process_end_text(info.pid));
    ST_EXPECT(r, info.status == 0, "check: wrong answer in check %d (user/check.c)", info.status);
    for (unsigned c = 0; c < SYS_NR; c++)
        ST_EXPECT(r, info.syscalls[c] > 0, "check never made call %u", c);
    ST_EXPECT(r, info.bad_syscalls == 1, "%lu unknown calls counted, 1 made", info.bad_syscalls);
    ST_PASS(r, "%u calls answered right, the bad ones with -ENOSYS, -EFAULT, -EINVAL", SYS_NR);
}

SELFTEST(user_fault)
{
    struct process_info info;
    int rc = run_to_end("fault", &info);

    ST_EXPECT(r, rc == 0, "fault did not end within %u ms (%d)", WAIT_MS, rc);
    ST_EXPECT(r, info.end == END_TRAP && info.trap == TRAP_PF, "fault: %s",
              process_end_text(info.pid));
    ST_EXPECT(r, trap_read_cr2() == KERNEL_VIRT_BASE, "cr2 %#lx, the program wrote at %#lx",
              trap_read_cr2(), KERNEL_VIRT_BASE);
    rc = run_to_end("badop", &info);
    ST_EXPECT(r, rc == 0, "badop did not end within %u ms (%d)", WAIT_MS, rc);
    ST_EXPECT(r, info.end == END_TRAP && info.trap == TRAP_GP, "badop: %s",
              process_end_text(info.pid));
    ST_PASS(r, "#PF at %#lx and #GP (hlt) in ring 3 ended their processes", KERNEL_VIRT_BASE);
}

#define FPU_PROCESSES 2

SELFTEST(user_fpu)
{
    int pid[FPU_PROCESSES];
    struct process_info info;
    unsigned long before = fpu_nm_traps();

    for (unsigned i = 0; i < FPU_PROCESSES; i++) {
        pid[i] = process_spawn("fpu");
        ST_EXPECT(r, pid[i] > 0, "spawn fpu: %d", pid[i]);
    }
    for (unsigned i = 0; i < FPU_PROCESSES; i++) {
        ST_EXPECT(r, process_wait((unsigned)pid[i], WAIT_MS, &info) == 0, "fpu %d did not end",
                  pid[i]);
        ST_EXPECT(r, info.end == END_EXIT && info.status == 0, "fpu %d: %s", pid[i],
                  process_end_text((unsigned)pid[i]));
    }
    ST_EXPECT(r, fpu_nm_traps() - before >= FPU_PROCESSES, "%lu #NM for %u FPU programs",
              fpu_nm_traps() - before, FPU_PROCESSES);
    ST_PASS(r, "%u programs added on the x87 across a yield; %lu #NM meanwhile", FPU_PROCESSES,
            fpu_nm_traps() - before);
}

SELFTEST(user_spin)
{
    int pid[SPINNERS];
    struct process_info info;
    uint64_t worst = 0;
    unsigned long yields = 0;

    for (unsigned i = 0; i < SPINNERS; i++) {
        pid[i] = process_spawn("spin");
        ST_EXPECT(r, pid[i] > 0, "spawn spin: %d", pid[i]);
    }
    for (unsigned i = 0; i < SLEEPS; i++) {
        uint64_t t0 = monotonic_ns();
        sleep_ms(SLEEP_MS);
        uint64_t late = monotonic_ns() - t0 - (uint64_t)SLEEP_MS * NSEC_PER_MSEC;
        worst = late > worst ? late : worst;
    }
    for (uint64_t end = deadline_ms(YIELD_MS); monotonic_ns() < end; yields++)
        thread_yield(); /* comes back only when the timer preempts a spinner */
    struct process_info list[PROCESS_MAX];
    unsigned n = process_list(list, PROCESS_MAX), preempted = 0;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < SPINNERS; j++)
            preempted += list[i].pid == (unsigned)pid[j] && list[i].state == P_RUNNING &&
                         list[i].preemptions > 0;
    for (unsigned j = 0; j < SPINNERS; j++) {
        ST_EXPECT(r, process_kill((unsigned)pid[j]) == 0, "spin %d is gone before kill", pid[j]);
        ST_EXPECT(r, process_wait((unsigned)pid[j], WAIT_MS, &info) == 0 && info.end == END_KILLED,
                  "spin %d: %s", pid[j], process_end_text((unsigned)pid[j]));
    }
    ST_EXPECT(r, preempted == SPINNERS, "%u of %u spinners were running and preempted", preempted,
              SPINNERS);
    ST_EXPECT(r, worst < (uint64_t)LATE_MS * NSEC_PER_MSEC, "a %u ms sleep ended %llu us late",
              SLEEP_MS, (unsigned long long)(worst / NSEC_PER_USEC));
    ST_PASS(r, "%u spinners preempted; %u sleeps of %u ms at most %llu us late; %lu yields "
               "in %u ms", SPINNERS, SLEEPS, SLEEP_MS, (unsigned long long)(worst / NSEC_PER_USEC),
            yields, YIELD_MS);
}

/* An L3 whose slot 3 is the kernel's own L2: Xen's answer to pinning it. */
static int pin_shared_slot3(void)
{
    const pte_t *kernel_l3 = (const pte_t *)boot_start_info->pt_base;
    pte_t *l3 = page_alloc(0);
    int rc, undo;

    if (!l3)
        return -XEN_ENOMEM;
    memset(l3, 0, PAGE_SIZE);
    l3[KERNEL_L3_SLOT] = kernel_l3[KERNEL_L3_SLOT];
    direct_map_queue_readonly(virt_to_pfn(l3));
    if ((rc = mmu_flush()) == 0) {
        rc = (int)HYPERVISOR_mmuext_op(&(struct mmuext_op){.cmd = MMUEXT_PIN_L3_TABLE,
                                                           .arg1.mfn = virt_to_mfn(l3)},
                                       1, NULL, DOMID_SELF);
        if (rc == 0)
            (void)mmuext_unpin(virt_to_mfn(l3));
    }
    direct_map_queue_set(virt_to_pfn(l3), virt_to_mfn(l3));
    if ((undo = mmu_flush()) == 0)
        page_free(l3, 0); /* else it stays out of use */
    return rc ? rc : undo ? undo : 0;
}

SELFTEST(user_addrspace)
{
    static const char kernel_byte = 1;
    struct process_info info;
    int pid = process_spawn("hello"); /* runnable, not run until we block */
    ST_EXPECT(r, pid > 0, "spawn hello: %d", pid);
    const struct addrspace *as = process_by_pid((unsigned)pid)->as;
    unsigned same, total;
    bool user = false;
    unsigned long stack_bottom = USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE;

    unsigned long base = addrspace_base(as);
    xen_pfn_t l2 = addrspace_kernel_l2(as, &same, &total);
    const pte_t *kernel_l3 = (const pte_t *)boot_start_info->pt_base;
    ST_EXPECT(r, base != pt_kernel_base() && pt_loaded_base() == pt_kernel_base(),
              "L3 pfn %#lx, the kernel's %#lx, loaded %#lx", base, pt_kernel_base(),
              pt_loaded_base());
    ST_EXPECT(r, l2 != pte_frame(kernel_l3[KERNEL_L3_SLOT]) && same == total,
              "slot-3 L2 %#lx (kernel's %#llx): %u of %u entries the kernel's", (unsigned long)l2,
              (unsigned long long)pte_frame(kernel_l3[KERNEL_L3_SLOT]), same, total);
    ST_EXPECT(r, addrspace_lookup(as, USER_IMAGE_VA, &user) && user, "image not mapped for ring 3");
    ST_EXPECT(r, addrspace_lookup(as, USER_STACK_TOP - PAGE_SIZE, &user) && user,
              "stack not mapped for ring 3");
    ST_EXPECT(r, addrspace_lookup(as, (unsigned long)&kernel_byte, &user) ==
                         virt_to_mfn(&kernel_byte) && !user,
              "kernel page at %p: frame %#lx (want %#lx), user %d", (const void *)&kernel_byte,
              (unsigned long)addrspace_lookup(as, (unsigned long)&kernel_byte, &user),
              (unsigned long)virt_to_mfn(&kernel_byte), user);
    ST_EXPECT(r, !addrspace_lookup(as, 0, &user) && !addrspace_lookup(as, stack_bottom - PAGE_SIZE, &user) &&
                     !addrspace_lookup(as, USER_STACK_TOP, &user),
              "null page, stack guard or above the stack mapped");
    ST_EXPECT(r, pt_lookup(USER_IMAGE_VA) == 0, "the kernel's own tables map user space");
    ST_EXPECT(r, process_wait((unsigned)pid, WAIT_MS, &info) == 0 && info.end == END_EXIT &&
                     info.status == 0, "hello: %s", process_end_text((unsigned)pid));
    int shared = pin_shared_slot3();
    ST_EXPECT(r, shared == -XEN_EINVAL, "pinning an L3 that shares the kernel's slot-3 L2: %s, "
              "want EINVAL", xen_errname(shared));
    ST_PASS(r, "own L3 pfn %#lx, slot-3 L2 copy mfn %#lx (%u entries), user/kernel split; a shared "
               "slot-3 L2 is refused (%s)", (unsigned long)base, (unsigned long)l2, total,
            xen_errname(shared));
}
