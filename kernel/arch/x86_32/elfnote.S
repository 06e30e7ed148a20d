/*
 * elfnote.S — the Xen ELF notes (interface manual: "Booting a guest";
 * Xen 4.17 public/elfnote.h, read by libelf in both the dom0 builder and
 * xl's domain builder).
 *
 * Each note is name "Xen", a type XEN_ELFNOTE_* and a string or a 32-bit
 * number. The values and why:
 *   GUEST_OS "Xenolith", GUEST_VERSION, LOADER "generic" (libelf refuses
 *     anything that is neither "generic" nor Linux), XEN_VERSION "xen-3.0"
 *     (the only ABI libelf accepts);
 *   PAE_MODE "yes": a PAE kernel; 64-bit Xen runs it as a compat (32-bit)
 *     PV guest and turns on VMASST_TYPE_pae_extended_cr3;
 *   VIRT_BASE KERNEL_VIRT_BASE, PADDR_OFFSET 0: kernel.ld gives load
 *     addresses = virtual - KERNEL_VIRT_BASE, and libelf computes
 *     virt_kstart = lowest p_paddr + VIRT_BASE - PADDR_OFFSET;
 *   ENTRY _start; HYPERCALL_PAGE hypercall_page (Xen fills it in);
 *   FEATURES: features the kernel *supports* (no "!", so none is required):
 *     pae_pgdir_above_4gb (the L3 table may live above 4 GiB: Xen is given
 *     MFNs, never a 32-bit CR3), writable_page_tables (Xen only offers it
 *     to translated guests; the kernel issues mmu_update either way) and
 *     dom0 (the kernel can run as the hardware domain).
 */
#include <abi/elfnote.h>
#include "asm-offsets.h"
#include "kernel.h"

/* gas strips the quotes from a macro argument: xen_note_str puts them back. */
.macro xen_note_begin type:req
    .p2align 2
    .long 2f - 1f           /* namesz */
    .long 4f - 3f           /* descsz */
    .long \type
1:  .asciz "Xen"
2:  .p2align 2
3:
.endm
.macro xen_note_end
4:  .p2align 2
.endm
.macro xen_note_str type:req, str:req
    xen_note_begin \type
    .asciz "\str"
    xen_note_end
.endm
.macro xen_note_long type:req, value:req
    xen_note_begin \type
    .long \value
    xen_note_end
.endm

    .section .note.Xen, "a", @note
    xen_note_str  XEN_ELFNOTE_GUEST_OS,       "Xenolith"
    xen_note_str  XEN_ELFNOTE_GUEST_VERSION,  XENOLITH_VERSION
    xen_note_str  XEN_ELFNOTE_XEN_VERSION,    "xen-3.0"
    xen_note_str  XEN_ELFNOTE_LOADER,         "generic"
    xen_note_str  XEN_ELFNOTE_PAE_MODE,       "yes"
    xen_note_str  XEN_ELFNOTE_FEATURES,       "writable_page_tables|pae_pgdir_above_4gb|dom0"
    xen_note_long XEN_ELFNOTE_VIRT_BASE,      ASM_KERNEL_VIRT_BASE
    xen_note_long XEN_ELFNOTE_PADDR_OFFSET,   0
    xen_note_long XEN_ELFNOTE_ENTRY,          _start
    xen_note_long XEN_ELFNOTE_HYPERCALL_PAGE, hypercall_page

    .section .note.GNU-stack, "", @progbits
