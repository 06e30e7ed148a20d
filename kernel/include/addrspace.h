/*
 * addrspace.h — a ring-3 process's address space (interface manual:
 * "Page-table updates"; Xen 4.17 public/xen.h MMUEXT_PIN_L3_TABLE,
 * MMUEXT_NEW_BASEPTR). Implemented in kernel/arch/x86_32/user/addrspace.c;
 * used by kernel/user/process.c and, for the switch, kernel/sched.c.
 *
 * Each one is a PAE L3 of its own: slot 0 a user L2 and L1 that map the
 * program's image and stack (user_abi.h) with the user bit, slot 3 a copy
 * of the kernel's L2 (the kernel is in every address space, for ring 1
 * only). Xen refuses one L2 in slot 3 of two L3s, see addrspace.c.
 */
#ifndef XENOLITH_ADDRSPACE_H
#define XENOLITH_ADDRSPACE_H

#include "kernel.h"

struct addrspace;

/* Build, fill with a copy of image[0, len) (the rest of the image pages and
 * the stack zeroed) and pin. NULL when out of memory or Xen refused (both
 * printed). */
struct addrspace *addrspace_create(const uint8_t *image, size_t len);
/* Unpin and free. Not while it is the loaded base (the caller is a kernel
 * thread, which runs on the kernel's own). */
void addrspace_destroy(struct addrspace *as);
/* Its L3's pfn (the switch gives Xen its frame). */
unsigned long addrspace_base(const struct addrspace *as);
/* Copy [va, va + len) of the process's memory out, through the kernel's
 * own mapping of its pages (so it works whichever base is loaded, and a
 * bad address can never fault in the kernel). false, nothing copied, when
 * any byte of the range is not mapped for the process. */
bool addrspace_copy_from(const struct addrspace *as, void *dst, unsigned long va, size_t len);
/* The machine frame va maps to for the process (0 if none) and whether the
 * user bit allows ring 3: for self-tests (the kernel's half as the kernel's
 * tables have it: addrspace_kernel_l2 checks that the copy agrees). */
xen_pfn_t addrspace_lookup(const struct addrspace *as, unsigned long va, bool *user);
/* The frame of its slot-3 L2, and how many of its entries below Xen's part
 * equal the kernel's own: for self-tests. */
xen_pfn_t addrspace_kernel_l2(const struct addrspace *as, unsigned *same, unsigned *total);

/* The page-table base (addrspace.c), as the pfn of an L3. The kernel's own
 * is the L3 Xen's domain builder made; kernel threads run on it.
 * pt_switch_prepare adds MMUEXT_NEW_BASEPTR to a context switch's multicall
 * when `base` (0 = the kernel's) is not the one loaded. */
struct multicall;
unsigned long pt_kernel_base(void);
unsigned long pt_loaded_base(void);
void pt_switch_prepare(struct multicall *mc, unsigned long base);

#endif
