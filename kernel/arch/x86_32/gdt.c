/*
 * gdt.c — our own GDT (interface manual: "Segment Descriptor Tables";
 * hypercall appendix, "Segmentation Support": set_gdt, update_descriptor).
 *
 * At start of day Xen gives a PV guest no GDT of its own: the segment
 * registers hold Xen's flat selectors (FLAT_KERNEL_CS = 0xe019, ...),
 * which live in Xen's reserved part of every GDT (slots 7168 and up). A
 * guest that wants other segments installs a table of its own:
 *
 *   1. the table is ordinary guest memory, one page here, holding only
 *      descriptors Xen accepts (Xen checks all 512 slots of the page);
 *   2. every mapping of that page must be read-only: we rewrite its
 *      direct-map entry with update_va_mapping (map_page, mm.h). From then
 *      on only Xen writes it, through HYPERVISOR_update_descriptor;
 *   3. HYPERVISOR_set_gdt(frames, entries) takes MACHINE frame numbers and
 *      the number of slots in use, which must stay below
 *      FIRST_RESERVED_GDT_ENTRY: Xen's entries come after ours, in pages of
 *      its own, so they survive (and the trap table and callbacks, which
 *      name FLAT_KERNEL_CS, keep working);
 *   4. the segment registers are then reloaded with our selectors.
 *
 * Decision: the kernel runs on its own ring-1 flat selectors (KERNEL_CS,
 * KERNEL_DS, gdt.h) rather than Xen's. Both are flat 4 GiB ring-1 segments,
 * so nothing else changes; using ours shows that the table works and keeps
 * the kernel independent of the numbers of Xen's reserved slots (they did
 * change: in 2.0 they sat inside the guest's own table, around slot 256). What Xen's flat
 * selectors cannot give is a segment with a base and a limit: %fs holds
 * our per-CPU segment (base = struct percpu, limit = its size), set at run
 * time with update_descriptor, so `this_percpu()` is one %fs-relative load.
 *
 * Since 2.0: set_gdt and update_descriptor take machine addresses as
 * before, but update_descriptor takes one 64-bit descriptor (two words in
 * 2.0's listing), split by the 32-bit wrapper. On 64-bit Xen a 32-bit
 * guest's flat segments are no longer truncated below the hypervisor
 * (Xen lives outside the guest's 4 GiB), and Xen silently raises DPL 0 in
 * a code/data descriptor to 1.
 *
 * `gdt=off` on the command line keeps Xen's default table. The `gdt` shell
 * command is here too; the self-test is gdt_selftest.c.
 */
#include "gdt.h"

#include "mm.h"
#include "pagetable.h"
#include "shell.h"

#define GDT_SLOTS (PAGE_SIZE / sizeof(uint64_t)) /* descriptors in our one page */
_Static_assert(GDT_ENTRIES <= GDT_SLOTS, "our entries fit in one page");
_Static_assert(GDT_ENTRIES < FIRST_RESERVED_GDT_ENTRY, "set_gdt wants entries below Xen's");

static uint64_t gdt_table[GDT_SLOTS] __attribute__((aligned(PAGE_SIZE)));
/* The table's machine frame: looked up each time, as it changes when the
 * domain is restored or migrated (suspend.h). */
static xen_pfn_t gdt_mfn(void)
{
    return pfn_to_mfn(virt_to_pfn(gdt_table));
}
static bool installed;             /* set_gdt done, segment registers ours */
static bool percpu_ready;          /* %fs holds PERCPU_SEL */
static const char *install_note = "gdt_init has not run";

static struct percpu boot_percpu = {.self = &boot_percpu, .cpu = 0, .magic = PERCPU_MAGIC};

bool gdt_installed(void)
{
    return installed;
}

uint64_t gdt_read(unsigned idx)
{
    return idx < GDT_SLOTS ? READ_ONCE(gdt_table[idx]) : 0;
}

xen_pfn_t gdt_frame(void)
{
    return installed ? gdt_mfn() : 0;
}

const char *gdt_state(void)
{
    return install_note;
}

uint64_t gdt_slot_machine_address(unsigned idx)
{
    return virt_to_machine(&gdt_table[idx < GDT_SLOTS ? idx : 0]);
}

int gdt_update(unsigned idx, uint64_t desc)
{
    if (idx == GDT_ENTRY_NULL || idx >= GDT_SLOTS) {
        printk("gdt: entry %u is not ours to change (1..%u)\n", idx,
               (unsigned)GDT_SLOTS - 1);
        return -XEN_EINVAL;
    }
    /* Xen wants the machine address of the 8-byte slot. */
    uint64_t ma = virt_to_machine(&gdt_table[idx]);
    long rc = HYPERVISOR_update_descriptor(ma, desc);
    if (rc < 0)
        printk("gdt: Xen refused descriptor %#018llx for entry %u: %s\n",
               (unsigned long long)desc, idx, xen_errname(rc));
    return (int)rc;
}

struct percpu *this_percpu(void)
{
    struct percpu *p;

    if (!percpu_ready)
        return NULL;
    __asm__ __volatile__("movl %%fs:%c1, %0"
                         : "=r"(p)
                         : "i"(offsetof(struct percpu, self)));
    return p;
}

/* Reload %cs with a far jump and the data registers with moves. The old
 * and new segments are both flat, so the stack and every pointer stay
 * valid across the switch. %gs, which nothing uses, gets the null
 * selector (Xen started us with FLAT_KERNEL_DS there). */
static void load_kernel_segments(void)
{
    __asm__ __volatile__("ljmp %[cs], $1f\n"
                         "1:\n\t"
                         "movw %[ds], %%ds\n\t"
                         "movw %[ds], %%es\n\t"
                         "movw %[ds], %%ss\n\t"
                         "movw %[null], %%gs"
                         :
                         : [cs] "i"(KERNEL_CS), [ds] "r"(KERNEL_DS), [null] "r"((uint16_t)0)
                         : "memory");
}

uint64_t gdt_percpu_desc(struct percpu *p)
{
    return desc_make((uint32_t)(unsigned long)p, sizeof(*p) - 1,
                     DESC_TYPE_DATA_RW | DESC_TYPE_ACCESSED, false, DPL_KERNEL, DESC_DB);
}

/* Put the table's direct-map page back to read-write (after a failure). */
static void gdt_page_writable(void)
{
    int rc = map_page((unsigned long)gdt_table, gdt_mfn(), PTE_KERNEL_RW);
    if (rc < 0)
        printk("gdt: update_va_mapping (back to read-write) failed: %s\n", xen_errname(rc));
}

int gdt_init(void)
{
    const char *opt = cmdline_get("gdt");
    int rc;

    if (opt && strcmp(opt, "off") == 0) {
        install_note = "gdt=off";
        printk("gdt: gdt=off: keeping Xen's default GDT (cs %#x)\n", FLAT_KERNEL_CS);
        return 0;
    }

    /* 1. Fill the table while it is still writable. The per-CPU and
     *    scratch slots stay empty (not present) until run time. */
    memset(gdt_table, 0, sizeof(gdt_table));
    gdt_table[GDT_ENTRY_KERNEL_CS] = desc_flat(DESC_TYPE_CODE_XR);
    gdt_table[GDT_ENTRY_KERNEL_DS] = desc_flat(DESC_TYPE_DATA_RW);

    /* 2. Its only mapping becomes read-only. */
    rc = map_page((unsigned long)gdt_table, gdt_mfn(), PTE_KERNEL_RO);
    if (rc < 0) {
        install_note = "update_va_mapping (read-only) failed";
        printk("gdt: update_va_mapping of the GDT page read-only failed: %s\n", xen_errname(rc));
        return rc;
    }

    /* 3. Hand Xen the machine frame. */
    unsigned long frames[1] = {gdt_mfn()};
    rc = (int)HYPERVISOR_set_gdt(frames, GDT_ENTRIES);
    if (rc < 0) {
        install_note = "set_gdt refused";
        printk("gdt: set_gdt(mfn %#lx, %u entries) refused: %s\n", (unsigned long)gdt_mfn(),
               (unsigned)GDT_ENTRIES, xen_errname(rc));
        gdt_page_writable();
        return rc;
    }

    /* 4. Run on our selectors. */
    load_kernel_segments();
    installed = true;
    install_note = "installed";

    /* A descriptor changed at run time: the per-CPU segment for %fs. */
    rc = gdt_update(GDT_ENTRY_PERCPU, gdt_percpu_desc(&boot_percpu));
    if (rc == 0) {
        load_fs(PERCPU_SEL);
        percpu_ready = true;
    }
    printk("gdt: own GDT in mfn %#lx (read-only), %u entries below Xen's %u: cs %#x, ds/es/ss %#x, "
           "fs %#x (per-CPU), gs 0\n",
           (unsigned long)gdt_mfn(), (unsigned)GDT_ENTRIES, (unsigned)FIRST_RESERVED_GDT_ENTRY,
           KERNEL_CS, KERNEL_DS, percpu_ready ? PERCPU_SEL : 0);
    return rc;
}

/* ---- shell: `gdt` ---- */

static const char *desc_kind(uint64_t d)
{
    if (!(d & DESC_P))
        return "not present";
    if (!(d & DESC_S)) {
        switch (desc_type(d)) {
        case DESC_TYPE_SYS_LDT: return "LDT";
        case DESC_TYPE_SYS_TSS32: return "32-bit TSS";
        case DESC_TYPE_SYS_CALL_GATE32: return "32-bit call gate";
        default: return "system";
        }
    }
    if (desc_type(d) & DESC_TYPE_CODE)
        return (d & DESC_L) ? "code, 64-bit" : "code";
    return "data";
}

static const char *slot_use(unsigned idx)
{
    switch (idx) {
    case GDT_ENTRY_NULL: return "null";
    case GDT_ENTRY_KERNEL_CS: return "kernel code";
    case GDT_ENTRY_KERNEL_DS: return "kernel data, stack";
    case GDT_ENTRY_PERCPU: return "per-CPU (%fs)";
    case GDT_ENTRY_SCRATCH: return "scratch (self-test, failsafe)";
    default: return "";
    }
}

static int cmd_gdt(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct segregs s;
    uint32_t limit;

    if (!installed) {
        printk("gdt: not installed (%s); Xen's default table is in use\n", install_note);
    } else {
        printk("gdt: mfn %#lx mapped read-only, %u of %u slots below Xen's reserved entries\n",
               (unsigned long)gdt_mfn(), (unsigned)GDT_ENTRIES, (unsigned)FIRST_RESERVED_GDT_ENTRY);
        printk("  idx  sel     descriptor          base        limit       kind          dpl  use\n");
        for (unsigned i = 0; i < GDT_ENTRIES; i++) {
            uint64_t d = gdt_read(i);
            printk("  %3u  0x%04x  %016llx    0x%08x  0x%08x  %-12s  %u    %s\n", i,
                   i ? GDT_SEL(i, SEL_RPL_KERNEL) : 0, (unsigned long long)d, desc_base(d),
                   desc_limit(d), desc_kind(d), desc_dpl(d), slot_use(i));
        }
    }
    segregs_read(&s);
    printk("segment registers: cs 0x%04x ds 0x%04x es 0x%04x fs 0x%04x gs 0x%04x ss 0x%04x\n", s.cs,
           s.ds, s.es, s.fs, s.gs, s.ss);
    if (seg_lsl(FLAT_KERNEL_CS, &limit))
        printk("Xen's FLAT_KERNEL_CS %#x (slot %u) is still there: limit %#x\n", FLAT_KERNEL_CS,
               FLAT_KERNEL_CS >> SEL_INDEX_SHIFT, limit);
    if (percpu_ready)
        printk("this_percpu() through %%fs = %p (cpu %u)\n", (void *)this_percpu(),
               this_percpu()->cpu);
    return 0;
}
SHELL_COMMAND(gdt, "gdt", "gdt", "print our GDT entries and the segment registers", cmd_gdt);
