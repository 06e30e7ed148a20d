/*
 * cmdline.c — the kernel command line (interface manual: "start_info":
 * cmd_line, given by the toolstack's `extra=`/`cmdline=` or, for dom0, by
 * the boot loader's module line).
 *
 * Words are separated by spaces; a word is `key=value` or a bare `key`
 * (value ""); when a key appears twice the last one wins. The keys the
 * kernel understands are the table below, each with the part that reads it;
 * a key not in it is reported at boot, by name, and otherwise ignored. The
 * self-test is cmdline_selftest.c.
 */
#include "kernel.h"
#include "cmdline_parse.h"
#include "shell.h"

static const struct cmdline_param params[] = {
    {"quiet", "shorter boot messages"},                                         /* main.c */
    {"selftest", "run self-tests (NAME[,NAME...]|all|list), then shut down"},  /* selftest.c */
    {"gdt", "gdt=off keeps Xen's default GDT (its flat selectors only)"}, /* arch/x86_32/gdt.c */
#if XENOLITH_DRIVERS
    {"ip", "IPv4 address/prefix of each vif, in vif order, e.g. "
           "ip=10.0.0.2/24,10.1.0.2/24"},                                 /* drivers/net/addr.c */
    {"http", "http=PORT serves the kernel's state over HTTP/1.1 on that TCP port"},
                                                                          /* drivers/net/http.c */
#endif
};

static struct cmdline_words boot;
static bool boot_parsed;

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Split `text` into p (the words point into p->buf). */
void cmdline_parse(struct cmdline_words *p, const char *text)
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

const char *cmdline_lookup(const struct cmdline_words *p, const char *key)
{
    const char *value = NULL;
    for (unsigned i = 0; i < p->n; i++)
        if (!strcmp(p->words[i].key, key))
            value = p->words[i].value;
    return value;
}

const struct cmdline_words *cmdline_boot_words(void)
{
    if (!boot_parsed) {
        cmdline_parse(&boot, kernel_cmdline);
        boot_parsed = true;
    }
    return &boot;
}

bool cmdline_known(const char *key)
{
    for (unsigned i = 0; i < ARRAY_SIZE(params); i++)
        if (!strcmp(params[i].key, key))
            return true;
    return false;
}

const char *cmdline_get(const char *key)
{
    return cmdline_lookup(cmdline_boot_words(), key);
}

void cmdline_init(void)
{
    const struct cmdline_words *p = cmdline_boot_words();
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
    const struct cmdline_words *p = cmdline_boot_words();
    printk("cmdline: '%s'\n", kernel_cmdline);
    for (unsigned i = 0; i < p->n; i++)
        printk("  %s%s%s%s\n", p->words[i].key, *p->words[i].value ? "=" : "",
               p->words[i].value, cmdline_known(p->words[i].key) ? "" : "  (unknown)");
    printk("known keys:\n");
    for (unsigned i = 0; i < ARRAY_SIZE(params); i++)
        printk("  %-12s %s\n", params[i].key, params[i].help);
    return 0;
}
SHELL_COMMAND(cmdline, "cmdline", "cmdline", "the command line and the keys parts understand",
              cmd_cmdline);
