/*
 * console_input.c — fuzzes the reading of the domU console's input ring
 * (kernel/xen/console/console_in.c; Xen 4.17 public/io/console.h): the bytes and
 * in_prod xenconsoled writes, and in_cons, which lives in the same page
 * and which a backend can scribble on too.
 *
 * The input picks the start index, then is a script of backend turns:
 * type some bytes (at most what fits), move in_prod or in_cons anywhere;
 * each is followed by one console_in_take into a buffer of a size the
 * input picks. Checks, against the ring as the harness left it: with
 * sane indexes the bytes come out in order, min(size, pending) of them,
 * and in_cons moves past exactly those; with a distance beyond the ring
 * nothing is read and in_cons jumps to in_prod.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "kernel.h"
#include "console.h"

enum turn { TYPE, ANY_PROD, ANY_CONS, TURNS };

#define MAX_TURNS 32
#define TAKE_MAX 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    static struct xencons_interface page;
    memset(&page, 0, sizeof(page));
    page.in_cons = page.in_prod = fin_u32(&in);

    for (unsigned t = 0; t < MAX_TURNS && in.n; t++) {
        switch (fin_u8(&in) % TURNS) {
        case TYPE: {
            XENCONS_RING_IDX used = page.in_prod - page.in_cons;
            unsigned room = used > sizeof(page.in) ? 0 : (unsigned)(sizeof(page.in) - used);
            unsigned k = fin_u16(&in) % (room + 1);
            for (unsigned i = 0; i < k; i++)
                page.in[MASK_XENCONS_IDX(page.in_prod + i, page.in)] = (char)fin_u8(&in);
            page.in_prod += k;
            break;
        }
        case ANY_PROD:
            page.in_prod = fin_u32(&in);
            break;
        case ANY_CONS:
            page.in_cons = fin_u32(&in);
            break;
        }
        static char dst[TAKE_MAX + 1];
        unsigned want = fin_u8(&in) % (TAKE_MAX + 1);
        XENCONS_RING_IDX cons = page.in_cons, prod = page.in_prod;
        XENCONS_RING_IDX pending = prod - cons;
        dst[want] = 0x5a; /* past the buffer: never written */
        unsigned n = console_in_take(&page, dst, want);
        FUZZ_ASSERT(dst[want] == 0x5a);
        if (pending > sizeof(page.in)) {
            FUZZ_ASSERT(n == 0 && page.in_cons == prod);
            continue;
        }
        FUZZ_ASSERT(n == (pending < want ? pending : want));
        FUZZ_ASSERT(page.in_cons == cons + n);
        for (unsigned i = 0; i < n; i++)
            FUZZ_ASSERT(dst[i] == page.in[MASK_XENCONS_IDX(cons + i, page.in)]);
    }
    return 0;
}
