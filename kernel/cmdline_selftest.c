/*
 * cmdline_selftest.c — the `cmdline` self-test (selftest.h): the parser of
 * kernel/cmdline.c on a fixed text, then the boot command line's own words.
 */
#include "kernel.h"
#include "cmdline_parse.h"
#include "selftest.h"

static struct cmdline_words sample; /* too big for the stack */

static const char *sample_get(const char *key)
{
    return cmdline_lookup(&sample, key);
}

SELFTEST(cmdline)
{
    cmdline_parse(&sample, "  a=1 b\tc= =d a=2 k=v=w  ");
    ST_EXPECT(r, sample.n == 6, "sample: %u words, expected 6", sample.n);
    ST_EXPECT(r, sample_get("a") && !strcmp(sample_get("a"), "2"), "a: last one should win");
    ST_EXPECT(r, sample_get("b") && !*sample_get("b"), "bare word b should give \"\"");
    ST_EXPECT(r, sample_get("c") && !*sample_get("c"), "c= should give \"\"");
    ST_EXPECT(r, sample_get("k") && !strcmp(sample_get("k"), "v=w"), "k: value after first =");
    ST_EXPECT(r, sample_get("") && !strcmp(sample_get(""), "d"), "=d: empty key");
    ST_EXPECT(r, sample_get("missing") == NULL, "missing key found");

    cmdline_parse(&sample, "");
    ST_EXPECT(r, sample.n == 0, "empty line: %u words", sample.n);

    const struct cmdline_words *b = cmdline_boot_words();
    unsigned unknown = 0;
    for (unsigned i = 0; i < b->n; i++)
        if (!cmdline_known(b->words[i].key))
            unknown++;
    ST_EXPECT(r, cmdline_known("selftest"), "key 'selftest' not declared");
    ST_PASS(r, "parser ok; boot line has %u words, %u unknown", b->n, unknown);
}
