/*
 * user.ld.S — the layout of a ring-3 program (user_abi.h): one flat image
 * at USER_IMAGE_VA, the entry (start.S) first, then code, read-only data,
 * data and bss, all within USER_IMAGE_PAGES. mk/user.mk runs it through
 * the C preprocessor and turns the result into a flat binary that the
 * kernel copies to fresh pages (the bss is the zeroed rest).
 */
#include "user_abi.h"

OUTPUT_FORMAT("elf32-i386")
OUTPUT_ARCH(i386)
ENTRY(_start)

SECTIONS
{
    . = USER_IMAGE_VA;
    .text : { KEEP(*(.text.start)) *(.text .text.*) }
    .rodata : { *(.rodata .rodata.*) }
    .data : { *(.data .data.*) }
    .bss : { *(.bss .bss.*) *(COMMON) }
    _end = .;
    /DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) }
}
ASSERT(_end - USER_IMAGE_VA <= USER_IMAGE_PAGES * USER_PAGE_SIZE, "program larger than USER_IMAGE_PAGES")
