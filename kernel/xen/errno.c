/*
 * errno.c — Xen's errno values as names, for messages. Hypercalls return
 * -XEN_E* on failure; the values are Xen's own (public/errno.h), which the
 * generated <abi/xen.h> provides as enum xen_errno (XEN_EPERM, XEN_EINVAL,
 * ...). xen_errname(-XEN_EINVAL) is "-EINVAL"; 0 is "0"; a value outside the
 * enum is printed as its number.
 */
#include "kernel.h"

#define XEN_ERRNO(name) [XEN_##name] = "-" #name

/* Indexed by the positive value. The aliases (EWOULDBLOCK = EAGAIN,
 * EDEADLOCK = EDEADLK) are left out: one name per value. */
static const char *const xen_errno_names[] = {
    XEN_ERRNO(EPERM),     XEN_ERRNO(ENOENT),      XEN_ERRNO(ESRCH),
    XEN_ERRNO(EIO),       XEN_ERRNO(ENXIO),       XEN_ERRNO(E2BIG),
    XEN_ERRNO(ENOEXEC),   XEN_ERRNO(EBADF),       XEN_ERRNO(ECHILD),
    XEN_ERRNO(EAGAIN),    XEN_ERRNO(ENOMEM),      XEN_ERRNO(EACCES),
    XEN_ERRNO(EFAULT),    XEN_ERRNO(EBUSY),       XEN_ERRNO(EEXIST),
    XEN_ERRNO(EXDEV),     XEN_ERRNO(ENODEV),      XEN_ERRNO(ENOTDIR),
    XEN_ERRNO(EISDIR),    XEN_ERRNO(EINVAL),      XEN_ERRNO(ENFILE),
    XEN_ERRNO(EMFILE),    XEN_ERRNO(ENOSPC),      XEN_ERRNO(EROFS),
    XEN_ERRNO(EMLINK),    XEN_ERRNO(EDOM),        XEN_ERRNO(ERANGE),
    XEN_ERRNO(EDEADLK),   XEN_ERRNO(ENAMETOOLONG), XEN_ERRNO(ENOLCK),
    XEN_ERRNO(ENOSYS),    XEN_ERRNO(ENOTEMPTY),   XEN_ERRNO(ENODATA),
    XEN_ERRNO(ETIME),     XEN_ERRNO(EBADMSG),     XEN_ERRNO(EOVERFLOW),
    XEN_ERRNO(EILSEQ),    XEN_ERRNO(ENOTSOCK),    XEN_ERRNO(EMSGSIZE),
    XEN_ERRNO(EOPNOTSUPP), XEN_ERRNO(EADDRINUSE), XEN_ERRNO(EADDRNOTAVAIL),
    XEN_ERRNO(ENOBUFS),   XEN_ERRNO(EISCONN),     XEN_ERRNO(ENOTCONN),
    XEN_ERRNO(ETIMEDOUT), XEN_ERRNO(ECONNREFUSED),
};

/* Numbers without a name are formatted into one of a few rotating slots, so
 * several calls in one printk (or from nested messages) stay distinct. */
#define OTHER_SLOTS 4
#define OTHER_LEN 24

const char *xen_errname(long rc)
{
    static char other[OTHER_SLOTS][OTHER_LEN];
    static unsigned next;

    if (rc == 0)
        return "0";
    if (rc < 0 && -(unsigned long)rc < ARRAY_SIZE(xen_errno_names) &&
        xen_errno_names[-(unsigned long)rc])
        return xen_errno_names[-(unsigned long)rc];
    char *buf = other[next++ % OTHER_SLOTS];
    snprintf(buf, OTHER_LEN, "%ld", rc);
    return buf;
}

int xen_errno_from_name(const char *name)
{
    for (unsigned e = 1; e < ARRAY_SIZE(xen_errno_names); e++) {
        const char *n = xen_errno_names[e];
        if (n && !strcmp(n + 1, name)) /* n + 1: past the '-' */
            return -(int)e;
    }
    return 0;
}
