/*
 * core_selftest.c — self-tests of the core part (selftest.h): start of day,
 * the trap table, the console, hypercall accounting. (The command-line
 * suite is cmdline_selftest.c.)
 */
#include "kernel.h"
#include "console.h"
#include "mm.h"
#include "selftest.h"
#include "traps.h"

#define PAE_MAX_PAGES (1UL << 24) /* 64 GiB of 4 KiB pages: PAE's reach */
#define INT3_OPCODE 0xcc
#define UD2_LENGTH 2
#define TRAPS_MAGIC 0x5eed1e55u
#define UNMAPPED_ADDRESS 0x00001000UL /* the first 4 MiB are never mapped */
#define SELECTOR_RPL_MASK 3u
#define KERNEL_RING 1u /* a 32-bit PV kernel runs in ring 1 */

SELFTEST(start_of_day)
{
    const struct vcpu_time_info *t = &this_vcpu()->time;

    ST_EXPECT(r, !strncmp(start_info->magic, XEN_START_INFO_MAGIC, strlen(XEN_START_INFO_MAGIC)),
              "magic '%.32s'", start_info->magic);
    ST_EXPECT(r, start_info->nr_pages > 0 && start_info->nr_pages <= PAE_MAX_PAGES,
              "nr_pages %lu", (unsigned long)start_info->nr_pages);
    ST_EXPECT(r, ((unsigned long)shared_info & (PAGE_SIZE - 1)) == 0,
              "shared_info %p not page aligned", (void *)shared_info);
    /* Our page started as zeroes; only Xen's shared_info has a TSC scale. */
    ST_EXPECT(r, READ_ONCE(t->tsc_to_system_mul) != 0,
              "shared_info has no time record: not Xen's page?");
    ST_EXPECT(r, (unsigned long)_stext == KERNEL_VIRT_BASE,
              "image at 0x%lx, not KERNEL_VIRT_BASE", (unsigned long)_stext);
    ST_EXPECT(r, (unsigned char)hypercall_page[0] != INT3_OPCODE,
              "hypercall page not filled in by Xen");
    ST_EXPECT(r, kernel_cmdline != NULL, "kernel_cmdline not set");
    ST_EXPECT(r, xen_is_dom0() == ((start_info->flags & SIF_INITDOMAIN) != 0),
              "xen_is_dom0 disagrees with start_info->flags");
    ST_PASS(r, "%s, %lu pages, shared_info mapped (tsc mul 0x%x)",
            xen_is_dom0() ? "dom0" : "domU", (unsigned long)start_info->nr_pages,
            (unsigned)t->tsc_to_system_mul);
}

/* --- traps: int3, ud2 and a page fault, each caught by a temporary handler
 * that lets execution resume. --- */
static unsigned traps_seen;
static uint32_t traps_eax, traps_cs;
static unsigned long pf_resume_eip, pf_cr2;

static bool on_int3(struct trap_frame *f)
{
    traps_seen |= 1u << TRAP_BP;
    traps_eax = f->eax;
    traps_cs = f->cs;
    return true; /* int3 is a trap: eip is already past it */
}

static bool on_ud(struct trap_frame *f)
{
    traps_seen |= 1u << TRAP_UD;
    f->eip += UD2_LENGTH; /* a fault: skip the instruction */
    return true;
}

static bool on_pf(struct trap_frame *f)
{
    traps_seen |= 1u << TRAP_PF;
    pf_cr2 = trap_read_cr2();
    f->eip = pf_resume_eip;
    return true;
}

SELFTEST(traps)
{
    uint8_t mask_before = this_vcpu()->evtchn_upcall_mask;
    trap_handler_t old_bp = trap_set_handler(TRAP_BP, on_int3);
    trap_handler_t old_ud = trap_set_handler(TRAP_UD, on_ud);
    trap_handler_t old_pf = trap_set_handler(TRAP_PF, on_pf);

    traps_seen = 0;
    __asm__ volatile("int3" : : "a"(TRAPS_MAGIC) : "memory");
    __asm__ volatile("ud2" ::: "memory");
    __asm__ volatile("movl $1f, %0\n\t"
                     "movl (%1), %%eax\n"
                     "1:"
                     : "=m"(pf_resume_eip)
                     : "r"(UNMAPPED_ADDRESS)
                     : "eax", "memory");
    uint8_t mask_after = this_vcpu()->evtchn_upcall_mask;

    trap_set_handler(TRAP_BP, old_bp);
    trap_set_handler(TRAP_UD, old_ud);
    trap_set_handler(TRAP_PF, old_pf);

    ST_EXPECT(r, traps_seen & (1u << TRAP_BP), "int3 did not reach its handler");
    ST_EXPECT(r, traps_eax == TRAPS_MAGIC, "frame eax 0x%x, expected 0x%x", traps_eax,
              TRAPS_MAGIC);
    /* The selector may be Xen's flat one or the GDT part's own; the ring is 1. */
    ST_EXPECT(r, (traps_cs & SELECTOR_RPL_MASK) == KERNEL_RING, "frame cs 0x%x is not ring %u",
              (unsigned)(uint16_t)traps_cs, KERNEL_RING);
    ST_EXPECT(r, traps_seen & (1u << TRAP_UD), "ud2 did not reach its handler");
    ST_EXPECT(r, traps_seen & (1u << TRAP_PF), "page fault did not reach its handler");
    ST_EXPECT(r, pf_cr2 == UNMAPPED_ADDRESS, "cr2 0x%lx, expected 0x%lx", pf_cr2,
              UNMAPPED_ADDRESS);
    ST_EXPECT(r, mask_after == mask_before, "event mask %u after #PF, was %u", mask_after,
              mask_before);
    ST_PASS(r, "int3, ud2 and #PF (cr2 0x%lx) handled and resumed", pf_cr2);
}

/* --- console: one long line in one write; in a domU the ring is sane and
 * the backend drains it. The integration test checks the line arrived
 * whole. --- */
#define LONG_LINE_BODY 200

SELFTEST(console)
{
    char line[LONG_LINE_BODY + 64];
    size_t n = (size_t)snprintf(line, sizeof(line), "console: long line ");
    for (unsigned i = 0; i < LONG_LINE_BODY; i++)
        line[n++] = (char)('a' + i % 26);
    n += (size_t)snprintf(line + n, sizeof(line) - n, " end (%u)\n", LONG_LINE_BODY);
    console_write(line, n);

    struct xencons_interface *ring = console_ring();
    if (xen_is_dom0()) {
        ST_EXPECT(r, ring == NULL, "dom0 should use console_io, not a ring");
        ST_PASS(r, "console_io, %zu-byte line in one write", n);
        return;
    }
    ST_EXPECT(r, ring != NULL, "domU has no usable console ring");
    uint32_t out_used = READ_ONCE(ring->out_prod) - READ_ONCE(ring->out_cons);
    uint32_t in_used = READ_ONCE(ring->in_prod) - READ_ONCE(ring->in_cons);
    ST_EXPECT(r, out_used <= sizeof(ring->out), "out ring has %u bytes in %zu", out_used,
              sizeof(ring->out));
    ST_EXPECT(r, in_used <= sizeof(ring->in), "in ring has %u bytes in %zu", in_used,
              sizeof(ring->in));
    console_flush();
    ST_EXPECT(r, READ_ONCE(ring->out_cons) == READ_ONCE(ring->out_prod),
              "backend did not drain the out ring (%u left)",
              READ_ONCE(ring->out_prod) - READ_ONCE(ring->out_cons));
    ST_PASS(r, "ring at pfn 0x%lx, %zu-byte line in one write, drained",
            virt_to_pfn(ring), n);
}

SELFTEST(hypercall_count)
{
    unsigned long before = xen_hypercall_count[__HYPERVISOR_xen_version];
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);
    unsigned long after = xen_hypercall_count[__HYPERVISOR_xen_version];
    ST_EXPECT(r, v > 0, "xen_version returned %ld", v);
    ST_EXPECT(r, after == before + 1, "xen_version count %lu -> %lu", before, after);
    ST_EXPECT(r, !strcmp(xen_hypercall_name(__HYPERVISOR_xen_version), "xen_version"),
              "name of %u is '%s'", __HYPERVISOR_xen_version,
              xen_hypercall_name(__HYPERVISOR_xen_version));
    ST_PASS(r, "xen_version count %lu -> %lu", before, after);
}
