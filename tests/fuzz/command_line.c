/*
 * command_line.c — fuzzes the kernel command line's parser (kernel/cmdline.c;
 * start_info's cmd_line, which the toolstack's extra=/cmdline= writes):
 * splitting into key=value words, the word limit, lookups and the boot
 * report of unknown keys.
 *
 * The input is the command line (cut to MAX_GUEST_CMDLINE - 1 bytes, a
 * NUL added, as start_info's is). Checks: every word is a non-empty run of
 * non-space bytes inside the parser's copy, keys have no '=', a lookup
 * gives the last word with that key, and no more than CMDLINE_MAX_WORDS.
 * cmdline.c is included, not linked, so that the boot report parses each
 * input afresh (it keeps the boot words once parsed).
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "cmdline.c"

const char *kernel_cmdline = "";

static bool inside(const struct cmdline_words *p, const char *s)
{
    return s >= p->buf && s < p->buf + sizeof(p->buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[MAX_GUEST_CMDLINE];
    static struct cmdline_words p;
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    cmdline_parse(&p, text);
    FUZZ_ASSERT(p.n <= CMDLINE_MAX_WORDS);
    FUZZ_ASSERT(!p.dropped || (p.n == CMDLINE_MAX_WORDS && inside(&p, p.dropped)));
    for (unsigned i = 0; i < p.n; i++) {
        const struct cmdline_word *w = &p.words[i];
        FUZZ_ASSERT(inside(&p, w->key) && !strchr(w->key, '=') && !strchr(w->key, ' '));
        FUZZ_ASSERT(!*w->value || inside(&p, w->value));
        FUZZ_ASSERT(*w->key || *w->value || w->value > w->key); /* "=" alone has a value "" */
        const char *last = w->value;
        for (unsigned j = i + 1; j < p.n; j++)
            if (!strcmp(p.words[j].key, w->key))
                last = p.words[j].value;
        FUZZ_ASSERT(cmdline_lookup(&p, w->key) == last);
    }
    kernel_cmdline = text;
    boot_parsed = false;
    cmdline_init(); /* the boot report, on a fresh parse of the same text */
    return 0;
}
