/*
 * time_bench.c — the `clock` shell command: Xen's time record, raw, and how
 * the kernel's clock follows it (interface manual "Time"; kernel/xen/time.c).
 * A measuring tool, like the other *_bench.c commands, so the tiny build
 * leaves it out.
 *
 * `clock` prints the VCPU's time record as Xen published it and what it
 * gives now; `clock watch SECONDS` reads it back to back for that long and
 * prints every pair of consecutive readings whose step is negative or over
 * CLOCK_WATCH_STEP_NS, with both records: the way to see a clock that jumps.
 */
#include "kernel.h"
#include "events.h"
#include "shell.h"
#include "time.h"

#define CLOCK_WATCH_STEP_NS (10 * NSEC_PER_MSEC)

static void print_record(const char *tag, const struct time_record *r, uint32_t version,
                         uint64_t tsc, uint64_t now)
{
    printk("clock: %s v=%u tsc_ts=%llu sys=%llu mul=%u shift=%d tsc=%llu now=%llu\n", tag,
           version, (unsigned long long)r->tsc_timestamp, (unsigned long long)r->system_time,
           r->mul, r->shift, (unsigned long long)tsc, (unsigned long long)now);
}

static int cmd_clock(int argc, char **argv)
{
    struct time_record r, prev;
    uint32_t v, prev_v;
    uint64_t tsc, prev_tsc, seconds;

    uint64_t now = time_record_sample(&r, &v, &tsc);
    if (argc == 1) {
        print_record("now", &r, v, tsc, now);
        uint64_t mono = monotonic_ns();
        struct clock_state clk;
        clock_state_get(&clk);
        printk("clock: monotonic=%llu ahead_of_xen=%llu steps_back=%llu largest_back=%llu "
               "tsc_stable=%u\n", (unsigned long long)mono, (unsigned long long)clk.ahead,
               (unsigned long long)clk.steps_back, (unsigned long long)clk.largest_back_ns,
               (unsigned)(this_vcpu()->time.flags & XEN_PVCLOCK_TSC_STABLE_BIT));
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "watch") || !parse_u64(argv[2], 10, &seconds) ||
        seconds == 0 || seconds > 600) {
        printk("usage: clock [watch SECONDS (1-600)]\n");
        return -XEN_EINVAL;
    }
    uint64_t start = now, end = now + seconds * NSEC_PER_SEC, prev_now = now;
    unsigned long reads = 0, steps = 0;
    while (now < end) {
        prev = r;
        prev_v = v;
        prev_tsc = tsc;
        now = time_record_sample(&r, &v, &tsc);
        reads++;
        if (now < prev_now || now - prev_now > CLOCK_WATCH_STEP_NS) {
            steps++;
            print_record("before", &prev, prev_v, prev_tsc, prev_now);
            print_record("after", &r, v, tsc, now);
        }
        prev_now = now;
    }
    printk("clock: watched %llu ns of system time in %lu reads, %lu steps\n",
           (unsigned long long)(now - start), reads, steps);
    return 0;
}
SHELL_COMMAND(clock, "clock", "clock [watch SECONDS]",
              "the VCPU's time record, raw; `watch` reports steps between back-to-back reads",
              cmd_clock);
