/*
 * evtchn_peer.c — the dom0 end of an interdomain event channel, for
 * test_kernel_events_time.py. Built on the host (gcc -static) and run in the
 * lab's Linux dom0, where /dev/xen/evtchn (the xen-evtchn driver) lets a
 * process bind event channels.
 *
 *   evtchn_peer DOMID PORT TIMEOUT_S [storm SECONDS]
 *
 * Binds to the guest's unbound PORT (IOCTL_EVTCHN_BIND_INTERDOMAIN returns
 * our local port), drops the one notification Xen raises on every new
 * interdomain binding, prints "peer: ready", notifies the guest once
 * ("peer: notified"), then waits up to TIMEOUT_S seconds for the guest to
 * notify back: "peer: event on port N" (exit 0) or "peer: timeout" (exit 3).
 * The driver delivers events as port numbers from read(); writing a port
 * back unmasks it. With `storm SECONDS` it plays a hostile peer instead:
 * after "peer: ready" it notifies without pause for that long, then prints
 * "peer: storm done, N notifications" and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <xen/xen.h> /* domid_t, used by the driver header */
#include <xen/sys/evtchn.h>

#define DRAIN_QUIET_MS 300

static int wait_event(int fd, int timeout_ms, uint32_t *port)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n <= 0)
        return n;
    if (read(fd, port, sizeof(*port)) != (ssize_t)sizeof(*port))
        return -1;
    if (write(fd, port, sizeof(*port)) != (ssize_t)sizeof(*port)) /* unmask */
        return -1;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 6) {
        fprintf(stderr, "usage: %s DOMID PORT TIMEOUT_S [storm SECONDS]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    int fd = open("/dev/xen/evtchn", O_RDWR);
    if (fd < 0) {
        printf("peer: open /dev/xen/evtchn: %s\n", strerror(errno));
        return 2;
    }
    struct ioctl_evtchn_bind_interdomain bind = {
        .remote_domain = (unsigned)atoi(argv[1]),
        .remote_port = (unsigned)atoi(argv[2]),
    };
    int local = ioctl(fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &bind);
    if (local < 0) {
        printf("peer: bind to dom %u port %u: %s\n", bind.remote_domain, bind.remote_port,
               strerror(errno));
        return 2;
    }
    uint32_t port;
    int drained = 0;
    while (wait_event(fd, DRAIN_QUIET_MS, &port) > 0)
        drained++;
    printf("peer: ready, local port %d bound to dom %u port %u (%d dropped)\n", local,
           bind.remote_domain, bind.remote_port, drained);

    struct ioctl_evtchn_notify notify = {.port = (unsigned)local};
    if (argc == 6 && !strcmp(argv[4], "storm")) {
        time_t end = time(NULL) + atoi(argv[5]);
        unsigned long sent = 0;
        while (time(NULL) < end)
            for (int i = 0; i < 1000; i++, sent++)
                if (ioctl(fd, IOCTL_EVTCHN_NOTIFY, &notify) < 0) {
                    printf("peer: notify: %s\n", strerror(errno));
                    return 2;
                }
        printf("peer: storm done, %lu notifications\n", sent);
        return 0;
    }
    if (ioctl(fd, IOCTL_EVTCHN_NOTIFY, &notify) < 0) {
        printf("peer: notify: %s\n", strerror(errno));
        return 2;
    }
    printf("peer: notified\n");
    int rc = wait_event(fd, atoi(argv[3]) * 1000, &port);
    if (rc > 0) {
        printf("peer: event on port %u\n", port);
        return 0;
    }
    printf(rc == 0 ? "peer: timeout\n" : "peer: read failed\n");
    return 3;
}
