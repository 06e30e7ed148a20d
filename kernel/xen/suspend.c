/*
 * suspend.c — suspend and resume, the guest's part of `xl save`, `xl
 * restore`, `xl migrate` and `xl save -c` (Xen 4.17 public/sched.h
 * SCHEDOP_shutdown + SHUTDOWN_suspend; public/arch-x86/xen.h
 * arch_shared_info; public/xen.h start_info; the toolstack's side is
 * libxenguest's save/restore of a PV domain).
 *
 * The toolstack asks with control/shutdown = "suspend" (control.c). Then,
 * in this order:
 *   1. XenStore quiet: no request in flight (xs_suspend);
 *   2. events masked; nothing below may switch threads;
 *   3. the page tables map only the domain's own frames: the grant table's
 *      frames unmapped, shared_info's page back on its own frame;
 *   4. start_info's store and console frames written as pfns (the restore
 *      side turns them into the new domain's frames and fills in the new
 *      event channels); the p2m frame lists current (p2m_publish);
 *   5. SCHEDOP_shutdown(SHUTDOWN_suspend), with start_info's machine frame
 *      in the hypercall's third argument (%edx), by which the save side
 *      finds start_info. It returns 0 in a new domain (restore, migration)
 *      and 1 in the same one (a checkpoint, or a suspend that failed);
 *   6. shared_info mapped again; in a new domain the p2m frame lists
 *      written again (every page has a new frame), VIRQs bound again, the
 *      console's and XenStore's new event channels taken; in the same
 *      domain start_info's frames put back; either way the grant table
 *      mapped again and the timers re-armed;
 *   7. events on; in a new domain every XenStore watch registered again and
 *      the control features advertised again (the domain id changed);
 *   8. the devices resume (suspend_register): in a new domain each
 *      frontend reconnects to its new backend.
 * Before step 1, the devices suspend: no I/O in flight, none started.
 * System time goes on from Xen's; the clock never goes back (time.c).
 */
#include "kernel.h"
#include "console.h"
#include "events.h"
#include "mm.h"
#include "shell.h"
#include "suspend.h"
#include "time.h"

static unsigned long resumes, new_domains;
static uint64_t last_suspend_ns;
static const struct suspend_hooks *hooks[SUSPEND_MAX_HOOKS];
static unsigned nr_hooks;

void suspend_register(const struct suspend_hooks *h)
{
    if (nr_hooks < SUSPEND_MAX_HOOKS)
        hooks[nr_hooks++] = h;
    else
        printk("suspend: no room for %s's steps: a suspend will leave it as it is\n", h->name);
}

/* Devices in registration order to suspend, the other way round to resume.
 * A device that cannot suspend cancels it: those before it resume. */
static int devices_suspend(void)
{
    for (unsigned i = 0; i < nr_hooks; i++) {
        int rc = hooks[i]->suspend();
        if (rc) {
            printk("suspend: %s cannot suspend: %s\n", hooks[i]->name, xen_errname(rc));
            while (i-- > 0)
                hooks[i]->resume(false);
            return rc;
        }
    }
    return 0;
}

static void devices_resume(bool new_domain)
{
    for (unsigned i = nr_hooks; i-- > 0;)
        hooks[i]->resume(new_domain);
}

static long hypercall_suspend(xen_pfn_t start_info_mfn)
{
    struct sched_shutdown sd = {.reason = SHUTDOWN_suspend};
    unsigned long a1 = SCHEDOP_shutdown, a2 = (unsigned long)&sd, a3 = start_info_mfn;
    long ret;

    xen_hypercall_count[__HYPERVISOR_sched_op]++;
    __asm__ __volatile__("call hypercall_page + %c[entry]"
                         : "=a"(ret), "+b"(a1), "+c"(a2), "+d"(a3)
                         : [entry] "i"(__HYPERVISOR_sched_op * 32)
                         : "memory");
    return ret;
}

/* Steps 3-6, events masked. Returns the hypercall's answer (0, 1) or an
 * error from before it. */
static long suspend_masked(void)
{
    xen_pfn_t si_mfn = virt_to_mfn(start_info);
    xen_pfn_t store = start_info->store_mfn, cons = start_info->console.domU.mfn;

    int rc = p2m_publish();
    if (rc)
        return rc;
    gnttab_suspend();
    rc = arch_shared_info_unmap();
    if (rc) {
        (void)gnttab_resume(false);
        return rc;
    }
    start_info->store_mfn = (xen_pfn_t)mfn_to_pfn(store);
    start_info->console.domU.mfn = (xen_pfn_t)mfn_to_pfn(cons);

    long answer = hypercall_suspend(si_mfn);

    bool new_domain = answer == 0;
    if (!new_domain) {
        start_info->store_mfn = store;
        start_info->console.domU.mfn = cons;
    } else {
        m2p_resume(); /* the new host's RAM bounds the m2p now */
    }
    if (arch_shared_info_map() != 0)
        kernel_shutdown(SHUTDOWN_crash); /* no shared_info: no events, no time */
    evtchn_resume(new_domain);  /* first: it forgets every port of the old domain */
    console_resume(new_domain); /* before a printk notifies the console's old port */
    if (new_domain)
        (void)p2m_publish();
    timer_resume();
    (void)gnttab_resume(new_domain);
    xs_resume(new_domain);
    return answer;
}

int kernel_suspend(void)
{
    if (xen_is_dom0()) {
        printk("suspend: dom0 cannot be suspended\n");
        return -XEN_EOPNOTSUPP;
    }
    printk("suspend: saving (resume %lu)\n", resumes + 1);
    console_flush();
    int rc = devices_suspend();
    if (rc)
        return rc;
    rc = xs_suspend();
    if (rc) {
        devices_resume(false);
        return rc;
    }
    uint64_t before = monotonic_ns();
    unsigned long flags = irq_save();
    long answer = suspend_masked();
    irq_restore(flags);
    if (answer < 0) {
        printk("suspend: not suspended: %s\n", xen_errname(answer));
        devices_resume(false);
        return (int)answer;
    }
    bool new_domain = answer == 0;
    resumes++;
    new_domains += new_domain;
    last_suspend_ns = monotonic_ns() - before;
    if (new_domain) {
        xs_domid_forget();
        xs_watches_resume();
        control_resume();
    }
    devices_resume(new_domain);
    printk("suspend: resumed in %s domain after %lu ms (%lu resumes, %lu in a new domain)\n",
           new_domain ? "a new" : "the same",
           (unsigned long)udiv64_32(last_suspend_ns, NSEC_PER_MSEC, NULL), resumes, new_domains);
    return 0;
}

int suspend_init(void)
{
    if (xen_is_dom0())
        return 0;
    int rc = p2m_publish();
    if (rc == 0)
        printk("suspend: p2m published for the toolstack (%lu entries)\n", p2m_size());
    return rc;
}

static int cmd_suspend(int argc, char **argv)
{
    printk("suspend: %lu resumes, %lu in a new domain; last suspended for %lu ms\n", resumes,
           new_domains, (unsigned long)udiv64_32(last_suspend_ns, NSEC_PER_MSEC, NULL));
    return 0;
}
SHELL_COMMAND(suspend, "suspend", "suspend",
              "how often the domain was saved and resumed (xl save/restore/migrate)", cmd_suspend);
