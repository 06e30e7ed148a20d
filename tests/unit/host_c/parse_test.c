/*
 * parse_test.c — kernel/lib.c's number parsing on the host: parse_u64 in
 * bases 10 and 16 and with the 0x rule, parse_ulong's 32-bit bound, junk
 * and overflow refused, and hex_digit.
 */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "rename.h"
#include "kernel.h"

static void u64_ok(const char *s, unsigned base, uint64_t want)
{
    uint64_t v = 0;
    bool ok = parse_u64(s, base, &v);
    CHECK(ok && v == want, "parse_u64(\"%s\", %u): %d %llu, want %llu", s, base, ok,
          (unsigned long long)v, (unsigned long long)want);
}

static void u64_bad(const char *s, unsigned base)
{
    uint64_t v = 12345;
    CHECK(!parse_u64(s, base, &v) && v == 12345, "parse_u64(\"%s\", %u) accepted", s, base);
}

int main(void)
{
    u64_ok("0", 10, 0);
    u64_ok("42", 10, 42);
    u64_ok("18446744073709551615", 10, UINT64_MAX);
    u64_ok("ff", 16, 255);
    u64_ok("FFFFFFFFFFFFFFFF", 16, UINT64_MAX);
    u64_ok("0x1F", 0, 31);
    u64_ok("0X10", 0, 16);
    u64_ok("010", 0, 10); /* decimal: no octal */
    u64_ok("123", 0, 123);
    u64_bad("", 10);
    u64_bad(NULL, 10);
    u64_bad("18446744073709551616", 10);  /* 2^64 */
    u64_bad("10000000000000000", 16);     /* 2^64 */
    u64_bad("12a", 10);
    u64_bad("g", 16);
    u64_bad("0x", 0);
    u64_bad("-1", 10);
    u64_bad(" 1", 10);
    u64_bad("1 ", 10);
    u64_bad("0x10", 10);

    unsigned long ul = 7;
    CHECK(parse_ulong("4294967295", &ul) && ul == 4294967295UL, "%lu", ul);
    CHECK(parse_ulong("0xffffffff", &ul) && ul == 0xffffffffUL, "%lu", ul);
    ul = 7;
    CHECK(!parse_ulong("4294967296", &ul) && ul == 7, "parse_ulong took 2^32: %lu", ul);
    CHECK(!parse_ulong("0x100000000", &ul) && ul == 7, "parse_ulong took 2^32: %lu", ul);
    CHECK(!parse_ulong("x", &ul), "parse_ulong took junk");

    CHECK(hex_digit('0') == 0 && hex_digit('9') == 9, "decimal digits");
    CHECK(hex_digit('a') == 10 && hex_digit('F') == 15, "hex digits");
    CHECK(hex_digit('g') == -1 && hex_digit(' ') == -1 && hex_digit('/') == -1, "not digits");
    return check_report();
}
