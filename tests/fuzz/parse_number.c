/*
 * parse_number.c — fuzzes parse_u64 and parse_ulong (kernel/lib.c), which
 * read every number XenStore and the toolstack give us (memory/target,
 * backend ids, ring references, transaction ids) and the shell's.
 *
 * The input is the string (NUL added) and a base byte. The host's strtoull
 * is the reference: parse_u64 must accept exactly the strings that are one
 * or more digits of the base (base 0: decimal, or hexadecimal after 0x)
 * and fit 64 bits, with strtoull's value; parse_ulong the same within
 * 32 bits.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "kernel.h"

#define STR_MAX 64

/* strtoull's reading of s: true when s is digits of the base and nothing
 * else (strtoull would also skip spaces and a sign, and take a 0x prefix in
 * base 16, which the kernel refuses); *range when it does not fit. */
static bool reference(const char *s, unsigned base, unsigned long long *v, bool *range)
{
    if (base == 0) { /* decimal, or hexadecimal after 0x: never octal */
        base = 10;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            base = 16;
            s += 2;
        }
    }
    char *end;
    errno = 0;
    *v = strtoull(s, &end, (int)base);
    *range = errno == ERANGE;
    return isxdigit((unsigned char)s[0]) && end != s && *end == '\0' && !strpbrk(s, "xX");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned bases[] = {0, 10, 16, 8, 2};
    if (!size)
        return 0;
    unsigned base = bases[data[0] % 5];
    char s[STR_MAX + 1];
    size_t n = size - 1 < STR_MAX ? size - 1 : STR_MAX;
    memcpy(s, data + 1, n);
    s[n] = '\0';

    uint64_t v = 0;
    bool ok = parse_u64(s, base, &v);
    unsigned long long ref;
    bool range;
    bool ref_ok = reference(s, base, &ref, &range) && !range;
    FUZZ_ASSERT(ok == ref_ok);
    if (ok)
        FUZZ_ASSERT(v == ref);

    unsigned long ul = 0;
    bool ok32 = parse_ulong(s, &ul);
    if (base == 0)
        FUZZ_ASSERT(ok32 == (ref_ok && ref <= ~0UL) && (!ok32 || ul == ref));
    return 0;
}
