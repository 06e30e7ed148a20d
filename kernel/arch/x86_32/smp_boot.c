/*
 * smp_boot.c — a secondary vCPU's first context (interface manual: "Virtual
 * CPUs"; Xen 4.17 public/vcpu.h VCPUOP_initialise, public/arch-x86/xen.h
 * struct vcpu_guest_context, xen-x86_32.h xen_pfn_to_cr3).
 *
 * vCPU 0 starts where the domain builder put it; every other vCPU of a PV
 * guest starts from a whole register and MMU context that the guest hands
 * Xen once (VCPUOP_initialise; later ups resume where it went down). What
 * it needs, in the order Xen checks it (arch_set_info_guest):
 *   - a GDT of its own: one page, a copy of vCPU 0's descriptors but its
 *     own per-CPU segment (%fs -> its struct percpu, so smp_cpu() answers),
 *     made read-only before Xen takes it (gdt_frames, gdt_ents);
 *   - page tables: an L3 of its own whose slot 3 is a private copy of the
 *     kernel's L2 (pt_kernel_slot_copy: Xen refuses an L3 whose slot-3 L2
 *     another L3 uses), pinned, in ctrlreg[3] as Xen's "extended cr3"
 *     (xen_pfn_to_cr3: the frame number rotated, VMASST_TYPE_pae_extended_cr3
 *     lets it lie above 4 GiB);
 *   - a stack: esp for its first instruction and kernel_ss/kernel_sp, the
 *     stack Xen switches to when it enters the kernel from ring 3 (never,
 *     here) — the same one;
 *   - the trap table (trap_ctxt, indexed by vector: the one vCPU 0 gave
 *     set_trap_table), the event and failsafe callbacks (the same entry
 *     points: upcall.S serves whichever vCPU it runs on);
 *   - flags: VGCF_in_kernel (it starts in ring 1),
 *     VGCF_failsafe_disables_events (as CALLBACKF_mask_events for vCPU 0);
 *     eflags with IF, as Xen wants for a PV guest.
 * Its events start masked (Xen's initial evtchn_upcall_mask is 1): the
 * entry function unmasks when it is ready.
 */
#include "kernel.h"
#include "mm.h"
#include "smp.h"
#include "traps.h"
#include "gdt.h"
#include "pagetable.h"

#define SECONDARY_STACK_ORDER 2 /* 16 KiB, a thread's: the idle thread, its calls, handlers */
#define EFLAGS_IF 0x200u
#define EFLAGS_RESERVED 0x2u    /* bit 1 always reads 1 */

/* Entry points in upcall.S. */
extern char hypervisor_callback[], failsafe_callback[];

/* A vCPU's pages, taken at its first bring-up and kept: a restored domain
 * initialises its vCPUs again (the toolstack saves no context of a vCPU
 * that is down), on the same GDT, L3 (pinned: restored pinned) and stack. */
static struct vcpu_pages {
    uint64_t *gdt;
    pte_t *l3;
    uint8_t *stack;
} pages[SMP_MAX_VCPUS];

/* The context Xen copies at VCPUOP_initialise; one bring-up at a time
 * (smp.c serialises them), so one buffer. */
static struct vcpu_guest_context boot_ctxt;

static void *zeroed_page(unsigned order)
{
    void *p = page_alloc(order);
    if (p)
        memset(p, 0, PAGE_SIZE << order);
    return p;
}

static xen_pfn_t mfn_of(const void *page)
{
    return pfn_to_mfn(virt_to_pfn(page));
}

/* The L3 and its slot-3 copy, pinned; NULL (pages kept out of use when Xen
 * may hold them) on failure. */
static pte_t *vcpu_l3(void)
{
    void *tables[2] = {zeroed_page(0), zeroed_page(0)};
    pte_t *l3 = tables[0];
    const pte_t *kl3 = (const pte_t *)boot_start_info->pt_base;

    if (!tables[0] || !tables[1]) {
        printk("smp: no memory for an L3\n");
        return NULL;
    }
    /* Slots 0-2 as the kernel's (empty below the kernel but for processes,
     * which run on vCPU 0's own L3s); slot 3 a private copy. */
    for (unsigned i = 0; i < pt_l3_index(KERNEL_VIRT_BASE); i++)
        l3[i] = kl3[i];
    pt_kernel_slot_copy(l3, tables[1]);
    if (pt_tables_writable(tables, 2, false) ||
        mmuext_pin(MMUEXT_PIN_L3_TABLE, mfn_of(l3))) {
        printk("smp: Xen refused the vCPU's L3\n");
        return NULL;
    }
    return l3;
}

/* A GDT page like vCPU 0's, with the per-CPU slot pointing at pc. */
static uint64_t *vcpu_gdt(struct percpu *pc)
{
    uint64_t *gdt = zeroed_page(0);

    if (!gdt)
        return NULL;
    for (unsigned i = 0; i < GDT_ENTRIES; i++)
        gdt[i] = gdt_read(i);
    gdt[GDT_ENTRY_PERCPU] = gdt_percpu_desc(pc);
    if (pt_tables_writable((void *const *)&gdt, 1, false))
        return NULL;
    return gdt;
}

int smp_boot_vcpu(unsigned cpu, struct percpu *pc, void (*entry)(void))
{
    struct vcpu_guest_context *c = &boot_ctxt;

    if (!gdt_installed() || !this_percpu()) {
        printk("smp: vCPU %u needs the kernel's own GDT (gdt=off?)\n", cpu);
        return -XEN_EOPNOTSUPP;
    }
    struct vcpu_pages *p = &pages[cpu];
    if (!p->gdt)
        p->gdt = vcpu_gdt(pc);
    if (!p->l3)
        p->l3 = vcpu_l3();
    if (!p->stack)
        p->stack = zeroed_page(SECONDARY_STACK_ORDER);
    if (!p->gdt || !p->l3 || !p->stack) {
        printk("smp: no memory (or a refused table) for vCPU %u\n", cpu);
        return -XEN_ENOMEM;
    }
    uint64_t *gdt = p->gdt;
    pte_t *l3 = p->l3;
    uint8_t *stack = p->stack;
    unsigned long top = (unsigned long)stack + (PAGE_SIZE << SECONDARY_STACK_ORDER);

    memset(c, 0, sizeof(*c));
    c->flags = VGCF_in_kernel | VGCF_failsafe_disables_events;
    c->user_regs.cs = KERNEL_CS;
    c->user_regs.ds = c->user_regs.es = c->user_regs.ss = KERNEL_DS;
    c->user_regs.fs = PERCPU_SEL;
    c->user_regs.eip = (unsigned long)entry;
    /* As after a call: the ABI's 16-byte alignment holds at entry + 4. */
    c->user_regs.esp = top - sizeof(unsigned long);
    c->user_regs.eflags = EFLAGS_IF | EFLAGS_RESERVED;
    for (const struct trap_info *t = traps_table(); t->address; t++)
        c->trap_ctxt[t->vector] = *t;
    c->gdt_frames[0] = mfn_of(gdt);
    c->gdt_ents = GDT_ENTRIES;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = top;
    c->ctrlreg[3] = xen_pfn_to_cr3(mfn_of(l3));
    c->event_callback_cs = FLAT_KERNEL_CS;
    c->event_callback_eip = (unsigned long)hypervisor_callback;
    c->failsafe_callback_cs = FLAT_KERNEL_CS;
    c->failsafe_callback_eip = (unsigned long)failsafe_callback;

    long rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, cpu, c);
    if (rc) {
        printk("smp: VCPUOP_initialise of vCPU %u refused: %s\n", cpu, xen_errname(rc));
        return (int)rc;
    }
    printk("smp: vCPU %u initialised: gdt mfn %#lx, L3 mfn %#lx (own slot-3 L2), stack %p\n", cpu,
           (unsigned long)mfn_of(gdt), (unsigned long)mfn_of(l3), (void *)top);
    return 0;
}
