/*
 * asm-offsets.c — numbers the assembly files need, taken from C so they are
 * never typed twice: Xen ABI constants from <abi/xen.h> (ELF note types) and
 * KERNEL_VIRT_BASE from mm.h. Add a DEFINE here when a .S file needs another
 * C constant or struct offset. Not linked into
 * the kernel: mk/kernel.mk compiles it to assembly and turns each
 * "->NAME value" marker into "#define NAME value" in
 * $(BUILD)/include/asm-offsets.h.
 */
#include "kernel.h"
#include "mm.h"

#define DEFINE(sym, val) __asm__ volatile("\n.ascii \"->" #sym " %c0\"" : : "i"(val))
#define OFFSET(sym, type, member) DEFINE(sym, offsetof(type, member))

void asm_offsets(void);
void asm_offsets(void)
{
    /* Xen ELF notes (public/elfnote.h). */
    DEFINE(ELFNOTE_GUEST_OS, XEN_ELFNOTE_GUEST_OS);
    DEFINE(ELFNOTE_GUEST_VERSION, XEN_ELFNOTE_GUEST_VERSION);
    DEFINE(ELFNOTE_XEN_VERSION, XEN_ELFNOTE_XEN_VERSION);
    DEFINE(ELFNOTE_LOADER, XEN_ELFNOTE_LOADER);
    DEFINE(ELFNOTE_PAE_MODE, XEN_ELFNOTE_PAE_MODE);
    DEFINE(ELFNOTE_VIRT_BASE, XEN_ELFNOTE_VIRT_BASE);
    DEFINE(ELFNOTE_PADDR_OFFSET, XEN_ELFNOTE_PADDR_OFFSET);
    DEFINE(ELFNOTE_ENTRY, XEN_ELFNOTE_ENTRY);
    DEFINE(ELFNOTE_HYPERCALL_PAGE, XEN_ELFNOTE_HYPERCALL_PAGE);
    DEFINE(ELFNOTE_FEATURES, XEN_ELFNOTE_FEATURES);

    DEFINE(ASM_KERNEL_VIRT_BASE, KERNEL_VIRT_BASE);
}
