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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "kernel.h"

#define STR_MAX 64

/* What the kernel promises to accept: no sign, no spaces, no empty digits. */
static bool well_formed(const char *s, unsigned base)
{
    if (base == 0) {
        base = 10;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
            base = 16;
            s += 2;
        }
    }
    if (!*s)
        return false;
    for (; *s; s++) {
        int d = hex_digit(*s);
        if (d < 0 || (unsigned)d >= base)
            return false;
    }
    return true;
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
    errno = 0;
    /* Base 0 is decimal unless 0x (strtoull's would take a leading 0 as octal). */
    bool hex = base == 0 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    unsigned long long ref =
        well_formed(s, base) ? strtoull(s, NULL, hex ? 16 : base ? (int)base : 10) : 0;
    bool ref_ok = well_formed(s, base) && errno != ERANGE;
    FUZZ_ASSERT(ok == ref_ok);
    if (ok)
        FUZZ_ASSERT(v == ref);

    unsigned long ul = 0;
    bool ok32 = parse_ulong(s, &ul);
    if (base == 0)
        FUZZ_ASSERT(ok32 == (ref_ok && ref <= ~0UL) && (!ok32 || ul == ref));
    return 0;
}
