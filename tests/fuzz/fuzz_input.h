/*
 * fuzz_input.h — the fuzz targets' reader of libFuzzer's input: numbers and
 * byte runs taken off the front of it. An input that runs out reads as
 * zeros, so every input, however short, is a whole scenario.
 */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

static inline size_t fin_bytes(struct fuzz_in *in, void *dst, size_t len)
{
    size_t got = len < in->n ? len : in->n;
    memcpy(dst, in->p, got);
    memset((uint8_t *)dst + got, 0, len - got);
    in->p += got;
    in->n -= got;
    return got;
}

static inline uint8_t fin_u8(struct fuzz_in *in)
{
    uint8_t v;
    fin_bytes(in, &v, sizeof(v));
    return v;
}

static inline uint16_t fin_u16(struct fuzz_in *in)
{
    uint16_t v;
    fin_bytes(in, &v, sizeof(v));
    return v;
}

static inline uint32_t fin_u32(struct fuzz_in *in)
{
    uint32_t v;
    fin_bytes(in, &v, sizeof(v));
    return v;
}

/* The backend's turn on a front ring (io/ring.h): up to `max` responses,
 * raw off the input, and rsp_prod just past them. */
#define FIN_RESPONSES(in, ring, max)                                           \
    do {                                                                       \
        unsigned k_ = fin_u8(in) % ((max) + 1);                                \
        for (unsigned i_ = 0; i_ < k_; i_++)                                   \
            fin_bytes((in), RING_GET_RESPONSE((ring), (ring)->rsp_cons + i_),  \
                      sizeof(*RING_GET_RESPONSE((ring), 0)));                  \
        (ring)->sring->rsp_prod = (ring)->rsp_cons + k_;                       \
    } while (0)

/* fakes.c: pages allocated and not freed so far, and at most how many
 * (-1: no limit); whether the peer still maps the pages whose grants are
 * ended from now on. */
long fuzz_pages_out(void);
void fuzz_pages_limit(long limit);
void fuzz_grants_held(bool held);

/* A harness's own check of what the kernel did: a failure is a crash for
 * libFuzzer (the input is kept as an artifact). */
#define FUZZ_ASSERT(cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FUZZ_ASSERT %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                           \
        }                                                                      \
    } while (0)

#endif
