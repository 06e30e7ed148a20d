/*
 * cmdline_parse.h — the command-line parser's own types, shared by
 * kernel/cmdline.c (the parser) and kernel/cmdline_selftest.c (its
 * self-test). Other parts use cmdline_get() and friends from kernel.h.
 */
#ifndef XENOLITH_CMDLINE_PARSE_H
#define XENOLITH_CMDLINE_PARSE_H

#include "kernel.h"

#define CMDLINE_MAX_WORDS 64

struct cmdline_word {
    const char *key;
    const char *value; /* "" for a bare word */
};

struct cmdline_words {
    char buf[MAX_GUEST_CMDLINE];
    struct cmdline_word words[CMDLINE_MAX_WORDS];
    unsigned n;
    const char *dropped; /* first word beyond CMDLINE_MAX_WORDS, or NULL */
};

/* Split `text` into p (the words point into p->buf). */
void cmdline_parse(struct cmdline_words *p, const char *text);
/* The value of the last word with this key, or NULL. */
const char *cmdline_lookup(const struct cmdline_words *p, const char *key);
/* The boot command line's words (parsed on first use). */
const struct cmdline_words *cmdline_boot_words(void);

#endif
