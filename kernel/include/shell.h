/*
 * shell.h — the console shell. Each part registers its commands with
 * SHELL_COMMAND; `help` lists them. A command returns 0 on success or
 * non-zero after printing its own error (kernel/shell.c).
 */
#ifndef XENOLITH_SHELL_H
#define XENOLITH_SHELL_H

#include "kernel.h"

#define SHELL_MAX_LINE 256
#define SHELL_MAX_ARGS 16

struct shell_command {
    const char *name;
    const char *usage; /* e.g. "balloon <MiB>" */
    const char *help;  /* one line */
    int (*fn)(int argc, char **argv);
};

#define SHELL_COMMAND(id, name_, usage_, help_, fn_)                            \
    static const struct shell_command __shell_cmd_##id                         \
        __attribute__((used, section(".shell_cmds"), aligned(4))) = {          \
            name_, usage_, help_, fn_}

/* Run one command line as if typed (for the toolstack's sysrq keys): the
 * command's result, or -XEN_ENOENT for an unknown command. Threads only. */
int shell_exec(const char *line);

/* The shell loop; prints the prompt "xenolith> " when ready for a line. */
_Noreturn void shell_run(void);

#endif
