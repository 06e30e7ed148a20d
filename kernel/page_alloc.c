/*
 * page_alloc.c — the physical page allocator (interface manual: "Memory":
 * Xen gives a PV guest a number of pages and leaves their management to the
 * guest; it only counts them, see memory.c and balloon.c).
 *
 * A binary buddy allocator over the direct-mapped pfns left after boot
 * (mm_boot_finish). A free block of 2^k pages starts at a pfn aligned to 2^k;
 * its buddy is the block at pfn ^ 2^k. Free blocks sit on one list per order,
 * the list nodes living in the free pages themselves (they are mapped: only
 * direct-map pfns are managed). One byte per pfn says "a free block of order
 * k starts here", which is all that freeing needs to find a free buddy.
 */
#include "mm.h"
#include "traps.h"

#define NOT_FREE 0xFFu /* state[]: this pfn does not start a free block */

struct free_block {
    struct free_block *next, *prev;
};

static struct free_block free_list[PAGE_ALLOC_MAX_ORDER + 1]; /* list heads */
static uint8_t *state;
static unsigned long first_pfn, end_pfn;
static unsigned long free_pages, managed_pages;

static void list_push(unsigned long pfn, unsigned order)
{
    struct free_block *b = pfn_to_virt(pfn), *head = &free_list[order];

    b->next = head->next;
    b->prev = head;
    head->next->prev = b;
    head->next = b;
    state[pfn] = (uint8_t)order;
}

static void list_remove(unsigned long pfn)
{
    struct free_block *b = pfn_to_virt(pfn);

    b->prev->next = b->next;
    b->next->prev = b->prev;
    state[pfn] = NOT_FREE;
}

void page_alloc_init(unsigned long first, unsigned long end, uint8_t *st)
{
    state = st;
    first_pfn = first;
    end_pfn = end;
    memset(state, NOT_FREE, end);
    for (unsigned o = 0; o <= PAGE_ALLOC_MAX_ORDER; o++)
        free_list[o].next = free_list[o].prev = &free_list[o];
    /* Cut [first, end) into the largest aligned blocks that fit. */
    for (unsigned long pfn = first; pfn < end;) {
        unsigned o = PAGE_ALLOC_MAX_ORDER;
        while ((pfn & ((1UL << o) - 1)) || pfn + (1UL << o) > end)
            o--;
        list_push(pfn, o);
        pfn += 1UL << o;
    }
    managed_pages = free_pages = end > first ? end - first : 0;
}

void *page_alloc(unsigned order)
{
    unsigned o = order;

    if (order > PAGE_ALLOC_MAX_ORDER || !state) /* !state: before mm_init */
        return NULL;
    while (o <= PAGE_ALLOC_MAX_ORDER && free_list[o].next == &free_list[o])
        o++;
    if (o > PAGE_ALLOC_MAX_ORDER)
        return NULL;
    unsigned long pfn = virt_to_pfn(free_list[o].next);
    list_remove(pfn);
    /* Split: keep the lower half, free the upper one, until it fits. */
    while (o > order) {
        o--;
        list_push(pfn + (1UL << o), o);
    }
    free_pages -= 1UL << order;
    return pfn_to_virt(pfn);
}

void page_free(void *p, unsigned order)
{
    unsigned long pfn = virt_to_pfn(p);

    if (((unsigned long)p & ~PAGE_MASK) || order > PAGE_ALLOC_MAX_ORDER || pfn < first_pfn ||
        pfn + (1UL << order) > end_pfn || (pfn & ((1UL << order) - 1)) || state[pfn] != NOT_FREE) {
        printk("page_free(%p, order %u): not a block this allocator handed out\n", p, order);
        backtrace_here();
        return;
    }
    free_pages += 1UL << order;
    /* Merge with the buddy while it is a free block of the same order. */
    while (order < PAGE_ALLOC_MAX_ORDER) {
        unsigned long buddy = pfn ^ (1UL << order);
        if (buddy < first_pfn || buddy + (1UL << order) > end_pfn || state[buddy] != order)
            break;
        list_remove(buddy);
        if (buddy < pfn)
            pfn = buddy;
        order++;
    }
    list_push(pfn, order);
}

unsigned long page_free_count(void)
{
    return free_pages;
}

unsigned long page_managed_count(void)
{
    return managed_pages;
}
