/*
 * heap.c — the kernel heap: malloc, calloc, free (interface manual:
 * "Memory"; nothing Xen-specific happens here, it sits on page_alloc).
 *
 * Small blocks (up to HEAP_MAX_SMALL bytes) come from slabs: one page with a
 * header and equal slots of one power-of-two size class. A slab with free
 * slots is on its class's list; an empty one goes back to page_alloc.
 * Larger blocks get 2^k whole pages, a short header first. In both cases a
 * block never starts at offset 0 of its page, so free() finds the header at
 * p & PAGE_MASK.
 */
#include "mm.h"
#include "traps.h"

#define HEAP_ALIGN 16u
#define HEAP_MIN_SHIFT 4   /* 16-byte class */
#define HEAP_MAX_SHIFT 10  /* 1024-byte class */
#define HEAP_MAX_SMALL (1u << HEAP_MAX_SHIFT)
#define HEAP_CLASSES (HEAP_MAX_SHIFT - HEAP_MIN_SHIFT + 1)
#define SLAB_MAGIC 0x534c4142u  /* "SLAB" */
#define LARGE_MAGIC 0x4c415247u /* "LARG" */

struct slab {
    uint32_t magic;
    uint16_t cls;    /* slot size is 1 << (cls + HEAP_MIN_SHIFT) */
    uint16_t in_use;
    void *free;      /* singly linked free slots */
    struct slab *next, *prev; /* the class's list of slabs with free slots */
    bool listed;
};
#define SLAB_HDR ALIGN_UP(sizeof(struct slab), HEAP_ALIGN)

struct large {
    uint32_t magic;
    uint32_t order;
    size_t size;
};
#define LARGE_HDR ALIGN_UP(sizeof(struct large), HEAP_ALIGN)

static struct slab *partial[HEAP_CLASSES];
static struct heap_stats stats;

static unsigned class_of(size_t size)
{
    unsigned cls = 0;
    while ((1u << (cls + HEAP_MIN_SHIFT)) < size)
        cls++;
    return cls;
}

static void slab_unlist(struct slab *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        partial[s->cls] = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->listed = false;
}

static void slab_list(struct slab *s)
{
    s->prev = NULL;
    s->next = partial[s->cls];
    if (s->next)
        s->next->prev = s;
    partial[s->cls] = s;
    s->listed = true;
}

static struct slab *slab_new(unsigned cls)
{
    struct slab *s = page_alloc(0);
    size_t size = 1u << (cls + HEAP_MIN_SHIFT);

    if (!s)
        return NULL;
    s->magic = SLAB_MAGIC;
    s->cls = (uint16_t)cls;
    s->in_use = 0;
    s->free = NULL;
    /* Thread the slots onto the free list, lowest address first. */
    for (size_t off = PAGE_SIZE - size; off >= SLAB_HDR; off -= size) {
        void **slot = (void **)((char *)s + off);
        *slot = s->free;
        s->free = slot;
    }
    stats.pages++;
    slab_list(s);
    return s;
}

static void *small_alloc(size_t size)
{
    unsigned cls = class_of(size);
    struct slab *s = partial[cls] ? partial[cls] : slab_new(cls);
    void **slot;

    if (!s)
        return NULL;
    slot = s->free;
    s->free = *slot;
    s->in_use++;
    if (!s->free)
        slab_unlist(s);
    stats.bytes_in_use += 1u << (cls + HEAP_MIN_SHIFT);
    return slot;
}

static void *large_alloc(size_t size)
{
    unsigned order = 0;
    struct large *l;

    while (order <= PAGE_ALLOC_MAX_ORDER && ((size_t)PAGE_SIZE << order) - LARGE_HDR < size)
        order++;
    if (order > PAGE_ALLOC_MAX_ORDER || !(l = page_alloc(order)))
        return NULL;
    l->magic = LARGE_MAGIC;
    l->order = order;
    l->size = size;
    stats.pages += 1UL << order;
    stats.bytes_in_use += size;
    return (char *)l + LARGE_HDR;
}

void *malloc(size_t size)
{
    void *p = size <= HEAP_MAX_SMALL ? small_alloc(size) : large_alloc(size);

    if (p)
        stats.blocks_in_use++;
    return p;
}

void *calloc(size_t n, size_t size)
{
    void *p;

    if (size && n > (size_t)-1 / size)
        return NULL;
    p = malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

static void bad_free(void *p, const char *why)
{
    printk("free(%p): %s\n", p, why);
    backtrace_here();
}

void free(void *p)
{
    void *page = (void *)((unsigned long)p & PAGE_MASK);

    if (!p)
        return;
    if (page == p || virt_to_pfn(page) >= mm_direct_pfns()) {
        bad_free(p, "not a heap block");
        return;
    }
    if (*(uint32_t *)page == LARGE_MAGIC) {
        struct large *l = page;
        if (p != (char *)l + LARGE_HDR) {
            bad_free(p, "not the start of a block");
            return;
        }
        l->magic = 0;
        stats.bytes_in_use -= l->size;
        stats.pages -= 1UL << l->order;
        stats.blocks_in_use--;
        page_free(l, l->order);
        return;
    }
    struct slab *s = page;
    size_t size = 1u << (s->cls + HEAP_MIN_SHIFT);
    size_t off = (size_t)((char *)p - (char *)s);
    if (s->magic != SLAB_MAGIC || s->cls >= HEAP_CLASSES || off < SLAB_HDR ||
        (PAGE_SIZE - off) % size || s->in_use == 0) {
        bad_free(p, "not a heap block (or freed twice)");
        return;
    }
    *(void **)p = s->free;
    s->free = p;
    s->in_use--;
    stats.bytes_in_use -= size;
    stats.blocks_in_use--;
    if (s->in_use == 0) {
        /* Empty: back to the page allocator. */
        if (s->listed)
            slab_unlist(s);
        s->magic = 0;
        stats.pages--;
        page_free(s, 0);
    } else if (!s->listed) {
        slab_list(s);
    }
}

void heap_get_stats(struct heap_stats *s)
{
    *s = stats;
}
