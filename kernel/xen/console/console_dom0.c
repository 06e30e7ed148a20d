/*
 * console_dom0.c — the console through HYPERVISOR_console_io (interface
 * manual "Console"; Xen 4.17 public/xen.h CONSOLEIO_write, CONSOLEIO_read).
 *
 * dom0 (SIF_INITDOMAIN): Xen owns the physical console. CONSOLEIO_write
 * puts bytes on Xen's serial line, CONSOLEIO_read takes what arrived on it
 * (Xen switches serial input to dom0 at the end of its boot). A domU whose
 * ring cannot be found writes here too (Xen prints it only with
 * guest_loglvl, and a release Xen refuses it).
 */
#include "console_priv.h"

void console_io_write(const char *s, size_t len)
{
    /* Xen 4.17 writes it all (continuing long writes itself) and
     * returns 0; a positive return is taken as "this much written". A
     * refusal (a domU on a release Xen) leaves nowhere to write. */
    while (len) {
        long n = HYPERVISOR_console_io(CONSOLEIO_write, (int)len, (char *)s);
        if (n <= 0 || (size_t)n > len)
            return;
        s += n;
        len -= (size_t)n;
    }
}

/* dom0: CONSOLEIO_read takes what Xen's serial ring holds; keep a few
 * bytes here so a pasted line costs one hypercall per chunk, not per byte. */
static char dom0_input[CONSOLE_INPUT_CHUNK];
static unsigned dom0_input_len, dom0_input_pos;

int console_io_trygetc(void)
{
    if (dom0_input_pos == dom0_input_len) {
        long n = HYPERVISOR_console_io(CONSOLEIO_read, sizeof(dom0_input), dom0_input);
        if (n <= 0 || n > (long)sizeof(dom0_input))
            return -1;
        dom0_input_len = (unsigned)n;
        dom0_input_pos = 0;
    }
    return (unsigned char)dom0_input[dom0_input_pos++];
}
