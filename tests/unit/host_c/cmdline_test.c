/*
 * cmdline_test.c — kernel/cmdline.c's parser on the host (start_info
 * cmd_line: space-separated words, `key=value` or a bare `key`, the last of
 * a key winning): words and values, white space of every kind, a word
 * without a key, the word limit and the buffer limit (MAX_GUEST_CMDLINE).
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "rename.h"
#include "kernel.h"
#include "cmdline_parse.h"

const char *kernel_cmdline = "";

static struct cmdline_words w;

static const char *value(const char *key)
{
    return cmdline_lookup(&w, key);
}

static bool is(const char *got, const char *want)
{
    return got && !strcmp(got, want);
}

int main(void)
{
    cmdline_parse(&w, "quiet ip=10.0.0.2/24 selftest=mm_p2m,gdt");
    CHECK(w.n == 3 && !w.dropped, "%u words", w.n);
    CHECK(is(value("quiet"), ""), "bare word: %s", value("quiet"));
    CHECK(is(value("ip"), "10.0.0.2/24"), "ip: %s", value("ip"));
    CHECK(is(value("selftest"), "mm_p2m,gdt"), "selftest: %s", value("selftest"));
    CHECK(value("absent") == NULL, "absent key found");
    CHECK(value("qui") == NULL && value("quiet2") == NULL, "prefixes are not keys");

    cmdline_parse(&w, "  a=1\tb=2\n\na=3 \r c==x d= ");
    CHECK(w.n == 5, "%u words", w.n);
    CHECK(is(value("a"), "3"), "the last a wins: %s", value("a"));
    CHECK(is(value("b"), "2") && is(value("c"), "=x") && is(value("d"), ""), "values");

    cmdline_parse(&w, "=orphan k=v");
    CHECK(w.n == 2 && is(w.words[0].key, "") && is(w.words[0].value, "orphan"),
          "a word without a key keeps an empty key");

    cmdline_parse(&w, NULL);
    CHECK(w.n == 0, "NULL: %u words", w.n);
    cmdline_parse(&w, "   ");
    CHECK(w.n == 0, "blanks: %u words", w.n);

    /* One word more than CMDLINE_MAX_WORDS: the first one beyond is named. */
    char many[MAX_GUEST_CMDLINE];
    size_t len = 0;
    for (unsigned i = 0; i <= CMDLINE_MAX_WORDS && len + 8 < sizeof(many); i++)
        len += (size_t)sprintf(many + len, "w%u ", i);
    cmdline_parse(&w, many);
    CHECK(w.n == CMDLINE_MAX_WORDS, "%u words kept", w.n);
    CHECK(is(w.dropped, "w64"), "dropped: %s", w.dropped ? w.dropped : "(none)");

    /* Longer than Xen's buffer: cut, still terminated. */
    char longer[MAX_GUEST_CMDLINE + 16];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    longer[0] = 'k';
    longer[1] = '=';
    cmdline_parse(&w, longer);
    CHECK(w.n == 1 && strlen(value("k")) == MAX_GUEST_CMDLINE - 3, "cut to %zu",
          value("k") ? strlen(value("k")) : 0);
    return check_report();
}
