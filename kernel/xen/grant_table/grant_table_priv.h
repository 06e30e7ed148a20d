/*
 * grant_table_priv.h — what the grant-table files (kernel/xen/grant_table*.c)
 * share and nobody else uses: the table's size and free list, kept by the
 * mechanism (grant_table.c), grown by grant_table_grow.c, mapped again by
 * grant_table_suspend.c and listed by grant_table_cmd.c.
 */
#ifndef XENOLITH_GRANT_TABLE_PRIV_H
#define XENOLITH_GRANT_TABLE_PRIV_H

#include "kernel.h"
#include "events.h"
#include "grant.h"
#include "mm.h"

#define GREFS_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define GREF_IN_USE 0xffffffffu
#define GREF_END 0xfffffffeu

/* The entries, mapped frame after frame in mm.h's grant area. */
static inline struct grant_entry_v1 *gnttab_table(void)
{
    return (struct grant_entry_v1 *)MM_GRANT_VA;
}

/* Free references: a list threaded through gnttab_next[] (gnttab_nr_entries
 * of them, malloc'd), GREF_IN_USE for a reference handed out. Changed with
 * events masked (handlers grant too). */
extern uint32_t *gnttab_next;
extern uint32_t gnttab_free_head;
extern unsigned gnttab_nr_frames, gnttab_max_frames, gnttab_nr_entries, gnttab_nr_free;
extern bool gnttab_ready; /* set up */

/* grant_table_grow.c: table frames [gnttab_nr_frames, want), mapped and
 * their references freed; 0 or -errno. gnttab_grow: the free list is
 * empty, grow if we may; true when references are free now. */
int gnttab_grow_to(unsigned want);
bool gnttab_grow(void);
extern unsigned gnttab_growths;

/* grant_table_defer.c: grants a peer still maps, and their counters. */
void gnttab_deferred_forget(void);
extern unsigned gnttab_nr_deferred;
extern unsigned long gnttab_deferrals, gnttab_deferred_ended, gnttab_deferred_lost;

#endif
