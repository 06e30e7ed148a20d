/*
 * sched_selftest.c — self-test of cooperative threads (sched.c, switch.S):
 * three threads that each log their name and yield interleave round-robin
 * (ABCABC...); thread_block waits for thread_wake, and a wake that comes
 * before the block is not lost; thread_join waits for exit and frees the
 * slot, so the threads can be created again.
 */
#include "kernel.h"
#include "sched.h"
#include "selftest.h"

#define SCHED_THREADS 3
#define SCHED_ROUNDS 5
#define SCHED_REPEATS 3 /* create/join cycles: slots and stacks come back */

static char sched_log[SCHED_THREADS * SCHED_ROUNDS + 1];
static unsigned sched_log_len;

static void logger(void *arg)
{
    char me = (char)(unsigned long)arg;
    for (unsigned i = 0; i < SCHED_ROUNDS; i++) {
        if (sched_log_len < sizeof(sched_log) - 1)
            sched_log[sched_log_len++] = me;
        thread_yield();
    }
}

static volatile unsigned sleeper_stage;

static void sleeper(void *arg)
{
    (void)arg;
    sleeper_stage = 1;
    thread_block(); /* until main wakes us */
    sleeper_stage = 2;
    thread_wake(thread_current()); /* an early wake ... */
    thread_block();                /* ... makes this return at once */
    sleeper_stage = 3;
}

static void interleave(struct selftest_result *r)
{
    struct thread *t[SCHED_THREADS];
    sched_log_len = 0;
    memset(sched_log, 0, sizeof(sched_log));
    for (unsigned i = 0; i < SCHED_THREADS; i++) {
        char name[] = "sched-A";
        name[sizeof(name) - 2] = (char)('A' + i);
        t[i] = thread_create(name, logger, (void *)(unsigned long)('A' + i));
        ST_EXPECT(r, t[i], "thread_create %s failed", name);
    }
    for (unsigned i = 0; i < SCHED_THREADS; i++)
        thread_join(t[i]);
    ST_EXPECT(r, sched_log_len == SCHED_THREADS * SCHED_ROUNDS, "log has %u entries: %s",
              sched_log_len, sched_log);
    for (unsigned i = 0; i < sched_log_len; i++)
        ST_EXPECT(r, sched_log[i] == 'A' + (char)(i % SCHED_THREADS), "not round-robin: %s",
                  sched_log);
}

SELFTEST(sched)
{
    for (unsigned rep = 0; rep < SCHED_REPEATS; rep++) {
        interleave(r);
        if (r->failed)
            return;
    }

    sleeper_stage = 0;
    struct thread *s = thread_create("sched-sleeper", sleeper, NULL);
    ST_EXPECT(r, s, "thread_create sleeper failed");
    thread_yield();
    ST_EXPECT(r, sleeper_stage == 1, "sleeper at stage %u, expected blocked at 1", sleeper_stage);
    thread_yield();
    ST_EXPECT(r, sleeper_stage == 1, "blocked sleeper ran without a wake (stage %u)",
              sleeper_stage);
    thread_wake(s);
    thread_join(s);
    ST_EXPECT(r, sleeper_stage == 3, "sleeper ended at stage %u", sleeper_stage);

    thread_yield(); /* alone: returns at once */
    ST_PASS(r, "%u threads x %u yields round-robin (%s), %u create/join cycles, block/wake "
               "incl. early wake", SCHED_THREADS, SCHED_ROUNDS, sched_log, SCHED_REPEATS);
}
