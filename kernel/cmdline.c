/*
 * cmdline.c — the kernel command line (interface manual: "start_info":
 * cmd_line, given by the toolstack's `extra=`/`cmdline=` or, for dom0, by
 * the boot loader's module line).
 *
 * Words are separated by spaces; a word is `key=value` or a bare `key`
 * (value ""); when a key appears twice the last one wins. Each part declares
 * the keys it understands with CMDLINE_PARAM (kernel.h), so the table is
 * built by the linker (.cmdline_params); a key no part declared is reported
 * at boot, by name, and otherwise ignored.
 */
#include "kernel.h"
#include "selftest.h"
#include "shell.h"

#define CMDLINE_MAX_WORDS 64

extern const struct cmdline_param __start_cmdline_params[], __stop_cmdline_params[];

struct word {
    const char *key;
    const char *value; /* "" for a bare word */
};

struct parsed {
    char buf[MAX_GUEST_CMDLINE];
    struct word words[CMDLINE_MAX_WORDS];
    unsigned n;
    const char *dropped; /* first word beyond CMDLINE_MAX_WORDS, or NULL */
};

static struct parsed boot;
static bool boot_parsed;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Split `text` into p (the words point into p->buf). */
static void parse_into(struct parsed *p, const char *text)
{
    strlcpy(p->buf, text ? text : "", sizeof(p->buf));
    p->n = 0;
    p->dropped = NULL;

    char *s = p->buf;
    for (;;) {
        while (is_space(*s))
            *s++ = '\0';
        if (!*s)
            return;
        char *word = s;
        while (*s && !is_space(*s))
            s++;
        if (*s)
            *s++ = '\0';
        if (p->n == CMDLINE_MAX_WORDS) {
            p->dropped = word;
            return;
        }
        char *eq = strchr(word, '=');
        if (eq)
            *eq = '\0';
        p->words[p->n].key = word;
        p->words[p->n].value = eq ? eq + 1 : "";
        p->n++;
    }
}

static const char *lookup(const struct parsed *p, const char *key)
{
    const char *value = NULL;
    for (unsigned i = 0; i < p->n; i++)
        if (!strcmp(p->words[i].key, key))
            value = p->words[i].value;
    return value;
}

static const struct parsed *boot_words(void)
{
    if (!boot_parsed) {
        parse_into(&boot, kernel_cmdline);
        boot_parsed = true;
    }
    return &boot;
}

bool cmdline_known(const char *key)
{
    for (const struct cmdline_param *p = __start_cmdline_params; p < __stop_cmdline_params; p++)
        if (!strcmp(p->key, key))
            return true;
    return false;
}

const char *cmdline_get(const char *key)
{
    return lookup(boot_words(), key);
}

unsigned cmdline_word_count(void)
{
    return boot_words()->n;
}

void cmdline_init(void)
{
    const struct parsed *p = boot_words();
    printk("cmdline: '%s'\n", kernel_cmdline);
    for (unsigned i = 0; i < p->n; i++) {
        if (!*p->words[i].key)
            printk("cmdline: word '=%s' has no key (ignored)\n", p->words[i].value);
        else if (!cmdline_known(p->words[i].key))
            printk("cmdline: unknown key '%s' (ignored)\n", p->words[i].key);
    }
    if (p->dropped)
        printk("cmdline: more than %u words; ignoring '%s' and the rest\n", CMDLINE_MAX_WORDS,
               p->dropped);
}

static int cmd_cmdline(int argc, char **argv)
{
    const struct parsed *p = boot_words();
    printk("cmdline: '%s'\n", kernel_cmdline);
    for (unsigned i = 0; i < p->n; i++)
        printk("  %s%s%s%s\n", p->words[i].key, *p->words[i].value ? "=" : "",
               p->words[i].value, cmdline_known(p->words[i].key) ? "" : "  (unknown)");
    printk("known keys:\n");
    for (const struct cmdline_param *k = __start_cmdline_params; k < __stop_cmdline_params; k++)
        printk("  %-12s %s\n", k->key, k->help);
    return 0;
}
SHELL_COMMAND(cmdline, "cmdline", "cmdline", "the command line and the keys parts understand",
              cmd_cmdline);

/* The parser on a fixed text, then the boot command line's own words. */
SELFTEST(cmdline)
{
    static struct parsed t;
    parse_into(&t, "  a=1 b\tc= =d a=2 k=v=w  ");
    ST_EXPECT(r, t.n == 6, "sample: %u words, expected 6", t.n);
    ST_EXPECT(r, lookup(&t, "a") && !strcmp(lookup(&t, "a"), "2"), "a: last one should win");
    ST_EXPECT(r, lookup(&t, "b") && !*lookup(&t, "b"), "bare word b should give \"\"");
    ST_EXPECT(r, lookup(&t, "c") && !*lookup(&t, "c"), "c= should give \"\"");
    ST_EXPECT(r, lookup(&t, "k") && !strcmp(lookup(&t, "k"), "v=w"), "k: value after first =");
    ST_EXPECT(r, lookup(&t, "") && !strcmp(lookup(&t, ""), "d"), "=d: empty key");
    ST_EXPECT(r, lookup(&t, "missing") == NULL, "missing key found");

    parse_into(&t, "");
    ST_EXPECT(r, t.n == 0, "empty line: %u words", t.n);

    const struct parsed *b = boot_words();
    unsigned unknown = 0;
    for (unsigned i = 0; i < b->n; i++)
        if (!cmdline_known(b->words[i].key))
            unknown++;
    ST_EXPECT(r, cmdline_known("selftest"), "key 'selftest' not declared");
    ST_PASS(r, "parser ok; boot line has %u words, %u unknown", b->n, unknown);
}
