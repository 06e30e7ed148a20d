/*
 * xs_fake.h — xs_fake.c's xenstored: answers come off `in`.
 */
#ifndef XS_FAKE_H
#define XS_FAKE_H

#include "fuzz_input.h"

void xs_fake_feed(struct fuzz_in *in); /* NULL: every request fails */

#endif
