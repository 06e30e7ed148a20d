/*
 * gdt_selftest.c — the `gdt` self-test (interface manual: "Segment
 * Descriptor Tables"; set_gdt and update_descriptor as Xen 4.17 checks
 * them, see gdt.c):
 *   - set_gdt worked: the CPU runs on our selectors and `lar` sees our code
 *     segment with DPL 1;
 *   - a descriptor set at run time is in use: %fs reaches struct percpu;
 *   - update_descriptor on the live (read-only) table: a small data segment
 *     is moved and read through %gs after each reload;
 *   - Xen's fix-up: a DPL 0 code segment is stored with DPL 1;
 *   - requests Xen must refuse (TSS, 64-bit code, call gate into Xen's
 *     slots, misaligned slot address, too many entries, a writable frame),
 *     each reported "gdt: Xen refused ...".
 * All of it uses the scratch slot, which no segment register holds except
 * briefly %gs here.
 */
#include "gdt.h"

#include "fault_guard.h"
#include "mm.h"
#include "selftest.h"
#include "traps.h"

static uint32_t scratch_words[4] = {0x11111111u, 0x22222222u, 0x33333333u, 0x44444444u};

static uint32_t gs_read32(uint32_t offset)
{
    uint32_t v;
    __asm__ __volatile__("movl %%gs:(%1), %0" : "=r"(v) : "r"(offset) : "memory");
    return v;
}

static bool limit_faulted; /* the last st_update_works saw #GP past the limit */

/* Load %gs:offset; false if it faulted (the value is then not read):
 * reading past a segment's limit raises #GP. */
static bool gs_read32_checked(uint32_t offset, uint32_t *out)
{
    static struct fault_guard guard;
    uint32_t v = 0;

    fault_guard_arm(&guard, TRAP_GP);
    __asm__ __volatile__(FAULT_GUARD_ASM("movl %%gs:(%[off]), %[v]")
                         : [v] "+r"(v), FAULT_GUARD_OUT(&guard)
                         : [off] "r"(offset)
                         : "memory");
    fault_guard_disarm(&guard);
    *out = v;
    return guard.hits == 0;
}

/* A small data segment over scratch_words[first..first+1] (8 bytes). */
static uint64_t scratch_desc(unsigned first)
{
    return desc_make((uint32_t)(unsigned long)&scratch_words[first], 2 * sizeof(uint32_t) - 1,
                     DESC_TYPE_DATA_RW | DESC_TYPE_ACCESSED, false, DPL_KERNEL, DESC_DB);
}

/* update_descriptor on a live table: point the scratch slot at words 0-1,
 * read through %gs, move it to words 2-3, reload %gs, read again. */
static bool st_update_works(struct selftest_result *r)
{
    struct segregs s;
    uint32_t limit = 0, a = 0, b = 0, past = 0;
    int rc1, rc2 = 0;
    bool past_ok = true;

    segregs_read(&s);
    rc1 = gdt_update(GDT_ENTRY_SCRATCH, scratch_desc(0));
    if (rc1 == 0) {
        load_gs(SCRATCH_SEL);
        a = gs_read32(sizeof(uint32_t)); /* scratch_words[1] */
        (void)seg_lsl(SCRATCH_SEL, &limit);
        past_ok = gs_read32_checked(2 * sizeof(uint32_t), &past); /* just past the limit */
        rc2 = gdt_update(GDT_ENTRY_SCRATCH, scratch_desc(2));
        load_gs(SCRATCH_SEL); /* the CPU caches a descriptor until reloaded */
        b = gs_read32(0);     /* scratch_words[2] */
        load_gs(s.gs);
    }
    (void)gdt_update(GDT_ENTRY_SCRATCH, 0);
    if (rc1 != 0 || rc2 != 0) {
        selftest_fail(r, "update_descriptor of the scratch slot failed: %s",
                      xen_errname(rc1 ? rc1 : rc2));
        return false;
    }
    if (a != scratch_words[1] || b != scratch_words[2] || limit != 2 * sizeof(uint32_t) - 1) {
        selftest_fail(r, "read through %%gs gave %#x/%#x (want %#x/%#x), limit %#x", a, b,
                      scratch_words[1], scratch_words[2], limit);
        return false;
    }
    /* Real CPUs fault here; QEMU's TCG applies segment bases but does not
     * check limits, so under the lab this is reported, not required. */
    limit_faulted = !past_ok;
    if (past_ok)
        printk("gdt: reading %%gs:%u past the %u-byte limit did not fault (gave %#x): "
               "this CPU does not check segment limits (QEMU TCG)\n",
               (unsigned)(limit + 1), (unsigned)(limit + 1), past);
    return true;
}

/* Descriptors Xen must refuse: each is tried on the (unused) scratch slot,
 * which must stay empty. */
static bool st_refusals(struct selftest_result *r, unsigned *count)
{
    /* A call gate into Xen's private part of the GDT: its first reserved
     * slot (Xen accepts gates to our own slots, to the LDT and to
     * FLAT_KERNEL_CS only, and emulates them). */
    uint64_t bad_gate = ((uint64_t)DESC_TYPE_SYS_CALL_GATE32 << DESC_TYPE_SHIFT) |
                        ((uint64_t)DPL_KERNEL << DESC_DPL_SHIFT) | DESC_P |
                        ((uint64_t)GDT_SEL(FIRST_RESERVED_GDT_ENTRY, 0) << GATE_SEL_SHIFT);
    const struct {
        const char *what;
        uint64_t desc;
    } bad[] = {
        {"32-bit TSS (system descriptor)",
         desc_make((uint32_t)(unsigned long)scratch_words, sizeof(scratch_words) - 1,
                   DESC_TYPE_SYS_TSS32, true, DPL_KERNEL, 0)},
        {"64-bit code segment (L bit)",
         desc_make(0, FLAT_LIMIT, DESC_TYPE_CODE_XR | DESC_TYPE_ACCESSED, false, DPL_KERNEL,
                   DESC_L)},
        {"call gate into Xen's reserved slots", bad_gate},
    };

    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        int rc = gdt_update(GDT_ENTRY_SCRATCH, bad[i].desc);
        if (rc >= 0 || gdt_read(GDT_ENTRY_SCRATCH) != 0) {
            (void)gdt_update(GDT_ENTRY_SCRATCH, 0);
            selftest_fail(r, "Xen accepted a %s", bad[i].what);
            return false;
        }
        ++*count;
    }

    /* Misaligned machine address: not a slot boundary. */
    long rc = HYPERVISOR_update_descriptor(gdt_slot_machine_address(GDT_ENTRY_SCRATCH) + 4,
                                           desc_flat(DESC_TYPE_DATA_RW));
    if (rc >= 0) {
        selftest_fail(r, "update_descriptor at a misaligned address succeeded");
        return false;
    }
    printk("gdt: Xen refused update_descriptor at a misaligned address: %s\n", xen_errname(rc));
    ++*count;

    /* set_gdt: too many entries (Xen's own start at FIRST_RESERVED_GDT_ENTRY),
     * and a frame that is mapped writable. Both fail before Xen drops the
     * table in use, so ours stays loaded. */
    unsigned long frames[1] = {gdt_frame()};
    rc = HYPERVISOR_set_gdt(frames, FIRST_RESERVED_GDT_ENTRY + 1);
    if (rc >= 0) {
        selftest_fail(r, "set_gdt with %u entries succeeded", FIRST_RESERVED_GDT_ENTRY + 1);
        return false;
    }
    printk("gdt: Xen refused set_gdt with %u entries: %s\n", FIRST_RESERVED_GDT_ENTRY + 1,
           xen_errname(rc));
    ++*count;
    frames[0] = pfn_to_mfn(virt_to_pfn(scratch_words));
    rc = HYPERVISOR_set_gdt(frames, GDT_ENTRIES);
    if (rc >= 0) {
        frames[0] = gdt_frame(); /* put ours back before anything reloads a segment */
        (void)HYPERVISOR_set_gdt(frames, GDT_ENTRIES);
        selftest_fail(r, "set_gdt accepted a frame mapped writable");
        return false;
    }
    printk("gdt: Xen refused set_gdt on a frame mapped writable: %s\n", xen_errname(rc));
    ++*count;
    return true;
}

SELFTEST(gdt)
{
    struct segregs s;
    uint32_t access = 0, limit = 0;
    unsigned refused = 0;

    ST_EXPECT(r, gdt_installed(), "our GDT is not installed (%s)", gdt_state());

    /* set_gdt worked: the CPU runs on our selectors and sees our entries. */
    segregs_read(&s);
    ST_EXPECT(r, s.cs == KERNEL_CS && s.ss == KERNEL_DS, "cs %#x ss %#x, want %#x %#x", s.cs,
              s.ss, KERNEL_CS, KERNEL_DS);
    ST_EXPECT(r, seg_lar(KERNEL_CS, &access) && (access & ACCESS_P) &&
                     ((access >> ACCESS_DPL_SHIFT) & DESC_DPL_MASK) == DPL_KERNEL,
              "lar %#x: access %#x", KERNEL_CS, access);

    /* The descriptor set at run time (update_descriptor) is in use: %fs. */
    struct percpu *p = this_percpu();
    ST_EXPECT(r, p && p->self == p && p->magic == PERCPU_MAGIC, "%%fs:0 gave %p (magic %#x)",
              (void *)p, p ? p->magic : 0);
    ST_EXPECT(r, seg_lsl(PERCPU_SEL, &limit) && limit == sizeof(struct percpu) - 1,
              "per-CPU limit %#x, want %#x", limit, (unsigned)sizeof(struct percpu) - 1);

    if (!st_update_works(r))
        return;

    /* Xen's fix-up: DPL 0 (its own ring) becomes the guest kernel's ring 1. */
    uint64_t dpl0 = desc_make(0, FLAT_LIMIT, DESC_TYPE_CODE_XR | DESC_TYPE_ACCESSED, false,
                              DPL_XEN, DESC_DB);
    int rc = gdt_update(GDT_ENTRY_SCRATCH, dpl0);
    unsigned stored_dpl = desc_dpl(gdt_read(GDT_ENTRY_SCRATCH));
    (void)gdt_update(GDT_ENTRY_SCRATCH, 0);
    ST_EXPECT(r, rc == 0 && stored_dpl == DPL_KERNEL, "DPL 0 code: rc %d, stored DPL %u", rc,
              stored_dpl);

    if (!st_refusals(r, &refused))
        return;
    ST_PASS(r, "set_gdt ok (mfn %#lx), %%fs per-CPU ok, update_descriptor moved %%gs ok "
               "(limit %s), DPL 0 -> %u, %u bad requests refused",
            (unsigned long)gdt_frame(), limit_faulted ? "enforced" : "not checked by CPU",
            stored_dpl, refused);
}
