/*
 * mm_alloc_selftest.c — self-test of the page allocator and the heap
 * (interface manual: "Memory"; the guest's own bookkeeping of the pages Xen
 * gave it).
 *
 * mm_alloc: blocks of mixed orders come back aligned, inside the direct
 *   map and disjoint (each page tagged, tags checked after all allocations);
 *   freed in another order they merge back so the free count returns; heap
 *   blocks of many sizes are aligned, disjoint and zeroed by calloc; after
 *   freeing everything the heap's counters and the free page count return.
 */
#include "mm.h"
#include "selftest.h"

#define ALLOC_BLOCKS 48u
#define ALLOC_MAX_TEST_ORDER 3u
#define HEAP_BLOCKS 96u
#define HEAP_ALIGNMENT 16u
#define HEAP_BIG_SIZE 9000u /* takes the whole-page path */
#define HEAP_BIG_EVERY 7u    /* every 7th block is a big one */
#define HEAP_SIZE_SPREAD 1500u
#define HEAP_SIZE_STEP 37u   /* coprime with the spread: sizes do not repeat soon */

static void *blocks[ALLOC_BLOCKS];
static void *heap_blocks[HEAP_BLOCKS];

static unsigned order_of(unsigned i)
{
    return i % (ALLOC_MAX_TEST_ORDER + 1);
}

/* Small sizes spread over 1..HEAP_SIZE_SPREAD bytes, and some big ones, so
 * that both heap paths are used. */
static size_t size_of(unsigned i)
{
    return i % HEAP_BIG_EVERY == HEAP_BIG_EVERY - 1 ? HEAP_BIG_SIZE
                                                    : 1u + (i * HEAP_SIZE_STEP) % HEAP_SIZE_SPREAD;
}

static void pages_test(struct selftest_result *r)
{
    unsigned long free0 = page_free_count();

    for (unsigned i = 0; i < ALLOC_BLOCKS; i++) {
        unsigned o = order_of(i);
        blocks[i] = page_alloc(o);
        ST_EXPECT(r, blocks[i] != NULL, "page_alloc(%u) failed with %lu free", o,
                  page_free_count());
        unsigned long pfn = virt_to_pfn(blocks[i]);
        ST_EXPECT(r, (pfn & ((1UL << o) - 1)) == 0, "order-%u block at unaligned pfn %#lx", o,
                  pfn);
        ST_EXPECT(r, pfn + (1UL << o) <= mm_direct_pfns(), "block at pfn %#lx past the direct map",
                  pfn);
        for (unsigned p = 0; p < (1u << o); p++)
            *(uint32_t *)((char *)blocks[i] + p * PAGE_SIZE) = i;
    }
    ST_EXPECT(r, page_free_count() < free0, "free count did not drop");
    for (unsigned i = 0; i < ALLOC_BLOCKS; i++)
        for (unsigned p = 0; p < (1u << order_of(i)); p++)
            ST_EXPECT(r, *(uint32_t *)((char *)blocks[i] + p * PAGE_SIZE) == i,
                      "block %u page %u overwritten: blocks overlap", i, p);
    ST_EXPECT(r, page_alloc(PAGE_ALLOC_MAX_ORDER + 1) == NULL, "oversized request succeeded");
    for (unsigned i = 1; i < ALLOC_BLOCKS; i += 2)
        page_free(blocks[i], order_of(i));
    for (unsigned i = 0; i < ALLOC_BLOCKS; i += 2)
        page_free(blocks[i], order_of(i));
    ST_EXPECT(r, page_free_count() == free0, "free pages %lu after freeing all, were %lu",
              page_free_count(), free0);
    /* Merged back: the largest block is available again if it was before. */
    void *big = page_alloc(PAGE_ALLOC_MAX_ORDER);
    ST_EXPECT(r, big != NULL || free0 < (1UL << PAGE_ALLOC_MAX_ORDER), "no order-%u block after "
              "freeing", PAGE_ALLOC_MAX_ORDER);
    if (big)
        page_free(big, PAGE_ALLOC_MAX_ORDER);
}

static void heap_test(struct selftest_result *r)
{
    struct heap_stats s0, s1;
    unsigned long free0 = page_free_count();

    heap_get_stats(&s0);
    for (unsigned i = 0; i < HEAP_BLOCKS; i++) {
        heap_blocks[i] = malloc(size_of(i));
        ST_EXPECT(r, heap_blocks[i] != NULL, "malloc(%u) failed", (unsigned)size_of(i));
        ST_EXPECT(r, ((unsigned long)heap_blocks[i] & (HEAP_ALIGNMENT - 1)) == 0,
                  "malloc(%u) = %p is not %u-byte aligned", (unsigned)size_of(i), heap_blocks[i],
                  HEAP_ALIGNMENT);
        memset(heap_blocks[i], (int)i, size_of(i));
    }
    for (unsigned i = 0; i < HEAP_BLOCKS; i++)
        for (size_t b = 0; b < size_of(i); b++)
            ST_EXPECT(r, ((uint8_t *)heap_blocks[i])[b] == (uint8_t)i,
                      "heap block %u byte %u overwritten: blocks overlap", i, (unsigned)b);
    for (unsigned i = 0; i < HEAP_BLOCKS; i += 2)
        free(heap_blocks[i]);
    for (unsigned i = 0; i < HEAP_BLOCKS; i += 2) {
        heap_blocks[i] = calloc(size_of(i), 1);
        ST_EXPECT(r, heap_blocks[i] != NULL, "calloc failed");
        for (size_t b = 0; b < size_of(i); b++)
            ST_EXPECT(r, ((uint8_t *)heap_blocks[i])[b] == 0, "calloc block %u not zeroed", i);
    }
    ST_EXPECT(r, calloc((size_t)-1 / 2, 4) == NULL, "calloc overflow not caught");
    for (unsigned i = 0; i < HEAP_BLOCKS; i++)
        free(heap_blocks[i]);
    free(NULL);
    heap_get_stats(&s1);
    ST_EXPECT(r, s1.bytes_in_use == s0.bytes_in_use && s1.blocks_in_use == s0.blocks_in_use,
              "heap use %lu bytes/%lu blocks after freeing all, was %lu/%lu", s1.bytes_in_use,
              s1.blocks_in_use, s0.bytes_in_use, s0.blocks_in_use);
    ST_EXPECT(r, s1.pages == s0.pages && page_free_count() == free0,
              "heap pages %lu (was %lu), free pages %lu (was %lu)", s1.pages, s0.pages,
              page_free_count(), free0);
}

SELFTEST(mm_alloc)
{
    pages_test(r);
    if (r->failed)
        return;
    heap_test(r);
    if (r->failed)
        return;
    ST_PASS(r, "%u page blocks (orders 0-%u) and %u heap blocks: aligned, disjoint, counts "
               "returned (%lu pages free)",
            ALLOC_BLOCKS, ALLOC_MAX_TEST_ORDER, HEAP_BLOCKS, page_free_count());
}
