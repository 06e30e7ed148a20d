/*
 * run_cmd.c — the shell's commands for ring-3 processes: `run`, `ps`,
 * `kill` (user.h).
 *
 * `run NAME` starts the program and waits for it: a program that ends
 * within RUN_WAIT_MS has said how ("process N (NAME) exited with status 0",
 * "... killed: page fault at ...") before the prompt comes back; one that
 * is still running then (`run spin`) stays in the background, and the
 * shell goes on answering while it computes. `run NAME &` does not wait.
 */
#include "shell.h"
#include "user.h"

#define RUN_WAIT_MS 2000

static int cmd_run(int argc, char **argv)
{
    if (argc < 2) {
        for (unsigned i = 0; i < user_program_count(); i++)
            printk("  %-8s %s\n", user_program_at(i)->name, user_program_at(i)->help);
        return 0;
    }
    bool background = argc > 2 && strcmp(argv[2], "&") == 0;
    if (argc > 2 && !background) {
        printk("usage: run [NAME [&]]\n");
        return 1;
    }
    int pid = process_spawn(argv[1]);
    if (pid < 0)
        return 1;
    if (!background) {
        struct process_info info;
        if (process_wait((unsigned)pid, RUN_WAIT_MS, &info) == 0)
            return info.end == END_EXIT && info.status == 0 ? 0 : 1;
    }
    printk("process %d (%s) running in the background (ps; kill %d)\n", pid, argv[1], pid);
    return 0;
}
SHELL_COMMAND(run, "run", "run [NAME [&]]",
              "start a ring-3 program (alone: list them) and wait for it, up to 2 s", cmd_run);

static const char *const state_names[] = {[P_FREE] = "free", [P_RUNNING] = "running",
                                          [P_ENDED] = "ended"};

static int cmd_ps(int argc, char **argv)
{
    struct process_info list[PROCESS_MAX];
    unsigned n = process_list(list, PROCESS_MAX);

    if (n == 0) {
        printk("no processes\n");
        return 0;
    }
    printk("  pid  name      state     syscalls  preempted  written  L3 pfn\n");
    for (unsigned i = 0; i < n; i++) {
        unsigned long calls = list[i].bad_syscalls;
        for (unsigned c = 0; c < SYS_NR; c++)
            calls += list[i].syscalls[c];
        printk("%5u  %-8s  %-8s  %8lu  %9lu  %7lu  %#lx\n", list[i].pid, list[i].name,
               state_names[list[i].state], calls, list[i].preemptions, list[i].bytes_written,
               list[i].l3_pfn);
    }
    printk("%lu time slices of %u ms\n", user_slices(), USER_SLICE_MS);
    return 0;
}
SHELL_COMMAND(ps, "ps", "ps", "list ring-3 processes", cmd_ps);

static int cmd_kill(int argc, char **argv)
{
    unsigned long pid;

    if (argc != 2 || !parse_ulong(argv[1], &pid)) {
        printk("usage: kill PID\n");
        return 1;
    }
    if (process_kill((unsigned)pid)) {
        printk("kill: no running process %lu\n", pid);
        return 1;
    }
    /* It ends on its way back to ring 3, within a slice: wait for its line. */
    return process_wait((unsigned)pid, RUN_WAIT_MS, NULL) == 0 ? 0 : 1;
}
SHELL_COMMAND(kill, "kill", "kill PID", "end a ring-3 process", cmd_kill);
