/*
 * grant_table_cmd.c — the `grants` shell command: the grant table's size,
 * the references in use and the grants a peer still maps (grant_table.c,
 * grant_table_defer.c).
 */
#include "grant_table_priv.h"
#include "shell.h"

static int cmd_grants(int argc, char **argv)
{
    struct gnttab_info i;
    if (!gnttab_available()) {
        printk("grants: no grant table (set-up failed, see the boot log)\n");
        return 1;
    }
    (void)gnttab_retry_deferred();
    gnttab_get_info(&i);
    printk("grant table v1: %u frames (max %u), %u entries, %u reserved, %u in use, %u free; "
           "grown %u times\n", i.frames, i.max_frames, i.entries,
           (unsigned)GNTTAB_NR_RESERVED_ENTRIES, i.in_use, i.free, i.growths);
    printk("still mapped by a peer: %u deferred now; %lu deferred in all, %lu ended since, "
           "%lu pages leaked\n", i.deferred, gnttab_deferrals, gnttab_deferred_ended, gnttab_deferred_lost);
    for (uint32_t ref = GNTTAB_NR_RESERVED_ENTRIES; ref < gnttab_nr_entries; ref++)
        if (gnttab_next[ref] == GREF_IN_USE)
            printk("  ref %u: domid %u frame %#x flags %#x\n", ref, gnttab_table()[ref].domid,
                   gnttab_table()[ref].frame, gnttab_table()[ref].flags);
    return 0;
}
SHELL_COMMAND(grants, "grants", "grants", "grant table: size, references in use", cmd_grants);
