/*
 * shell.c — the console shell (not a Xen interface: the way to poke at the
 * kernel through the console of the "Console" chapter).
 *
 * Reads a line with console_getc (echoing it; backspace/DEL erase, Ctrl-C
 * drops the line), splits it on spaces and runs the command registered
 * under the first word with SHELL_COMMAND (the linker collects them in
 * .shell_cmds). Input is not trusted: a line longer than SHELL_MAX_LINE - 1
 * bytes is refused as a whole (the rest of it is read and discarded), a
 * line with non-printable bytes is refused naming the first one, and neither
 * reaches a command.
 */
#include "kernel.h"
#include "console.h"
#include "shell.h"

#define SHELL_PROMPT "xenolith> "
#define CH_CTRL_C 0x03
#define CH_BACKSPACE 0x08
#define CH_TAB 0x09
#define CH_LF 0x0a
#define CH_CR 0x0d
#define CH_DEL 0x7f
#define CH_PRINTABLE_FIRST 0x20
#define CH_PRINTABLE_LAST 0x7e

extern const struct shell_command __start_shell_cmds[], __stop_shell_cmds[];

enum line_status { LINE_OK, LINE_TOO_LONG, LINE_BAD_BYTE, LINE_CANCELLED };

struct line {
    char buf[SHELL_MAX_LINE];
    size_t len;
    enum line_status status;
    unsigned char bad_byte;
};

static bool last_was_cr;

static void echo(const char *s)
{
    console_write(s, strlen(s));
}

/* Reads one line. Returns when Enter (CR, LF, or CR LF as one) ends it. */
static void read_line(struct line *l)
{
    l->len = 0;
    l->status = LINE_OK;
    for (;;) {
        int c = console_getc();
        if (c == CH_LF && last_was_cr) { /* the LF of a CR LF pair */
            last_was_cr = false;
            continue;
        }
        last_was_cr = c == CH_CR;
        if (c == CH_CR || c == CH_LF) {
            echo("\n");
            l->buf[l->len] = '\0';
            return;
        }
        if (l->status != LINE_OK)
            continue; /* the line is refused already: discard to its end */
        if (c == CH_BACKSPACE || c == CH_DEL) {
            if (l->len) {
                l->len--;
                echo("\b \b");
            }
            continue;
        }
        if (c == CH_CTRL_C) {
            echo("^C");
            l->status = LINE_CANCELLED;
            continue;
        }
        if (c == CH_TAB)
            c = ' ';
        if (c < CH_PRINTABLE_FIRST || c > CH_PRINTABLE_LAST) {
            l->status = LINE_BAD_BYTE;
            l->bad_byte = (unsigned char)c;
            continue;
        }
        if (l->len == SHELL_MAX_LINE - 1) {
            l->status = LINE_TOO_LONG;
            continue;
        }
        l->buf[l->len++] = (char)c;
        char e[2] = {(char)c, '\0'};
        echo(e);
    }
}

static const struct shell_command *find_command(const char *name)
{
    for (const struct shell_command *c = __start_shell_cmds; c < __stop_shell_cmds; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

/* Splits in place; returns argc, or -1 when there are too many words. */
static int split(char *s, char **argv)
{
    int argc = 0;
    for (;;) {
        while (*s == ' ')
            *s++ = '\0';
        if (!*s)
            return argc;
        if (argc == SHELL_MAX_ARGS)
            return -1;
        argv[argc++] = s;
        while (*s && *s != ' ')
            s++;
    }
}

/* Split `line` in place and run its command: the command's result, 0 for an
 * empty line, or a negative error (already printed). */
static int run_line(char *line)
{
    char *argv[SHELL_MAX_ARGS + 1];
    int argc = split(line, argv);
    if (argc < 0) {
        printk("error: too many words (max %u)\n", SHELL_MAX_ARGS);
        return -XEN_E2BIG;
    }
    if (argc == 0)
        return 0;
    argv[argc] = NULL;
    const struct shell_command *c = find_command(argv[0]);
    if (!c) {
        printk("unknown command '%s' (try help)\n", argv[0]);
        return -XEN_ENOENT;
    }
    return c->fn(argc, argv);
}

int shell_exec(const char *line)
{
    char buf[SHELL_MAX_LINE];
    size_t len = strlen(line);
    if (len >= sizeof(buf)) {
        printk("error: line too long (max %u)\n", SHELL_MAX_LINE - 1);
        return -XEN_E2BIG;
    }
    memcpy(buf, line, len + 1);
    return run_line(buf);
}

_Noreturn void shell_run(void)
{
    static struct line l;
    printk("shell: %u commands, type help\n",
           (unsigned)(__stop_shell_cmds - __start_shell_cmds));
    for (;;) {
        echo(SHELL_PROMPT);
        read_line(&l);
        switch (l.status) {
        case LINE_OK:
            (void)run_line(l.buf);
            break;
        case LINE_TOO_LONG:
            printk("error: line too long (max %u)\n", SHELL_MAX_LINE - 1);
            break;
        case LINE_BAD_BYTE:
            printk("error: non-printable byte 0x%02x in line (line ignored)\n", l.bad_byte);
            break;
        case LINE_CANCELLED:
            break;
        }
    }
}

/* --- the shell's own commands --- */

static int cmd_help(int argc, char **argv)
{
    if (argc == 2) {
        const struct shell_command *c = find_command(argv[1]);
        if (!c) {
            printk("help: unknown command '%s'\n", argv[1]);
            return 1;
        }
        printk("usage: %s\n  %s\n", c->usage, c->help);
        return 0;
    }
    printk("commands:\n");
    for (const struct shell_command *c = __start_shell_cmds; c < __stop_shell_cmds; c++)
        printk("  %-34s %s\n", c->usage, c->help);
    return 0;
}
SHELL_COMMAND(help, "help", "help [command]", "list commands, or show one", cmd_help);

static int cmd_echo(int argc, char **argv)
{
    char out[SHELL_MAX_LINE + 1];
    size_t len = 0;
    for (int i = 1; i < argc; i++) {
        len += strlcpy(out + len, argv[i], sizeof(out) - len);
        if (len >= sizeof(out) - 1)
            break;
        if (i + 1 < argc)
            out[len++] = ' ';
    }
    out[len < sizeof(out) ? len : sizeof(out) - 1] = '\0';
    printk("%s\n", out);
    return 0;
}
SHELL_COMMAND(echo, "echo", "echo [word...]", "print the words", cmd_echo);
