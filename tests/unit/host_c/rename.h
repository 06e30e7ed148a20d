/*
 * rename.h — host builds only: the kernel's own C library (kernel/lib.c)
 * and formatter (kernel/printk.c) under names of their own, so that the
 * host's C library, which the harness uses to report, keeps the standard
 * ones. Given to every file of a host harness with -include; kernel files
 * are compiled unchanged.
 */
#define memset k_memset
#define memcpy k_memcpy
#define memmove k_memmove
#define memcmp k_memcmp
#define strlen k_strlen
#define strnlen k_strnlen
#define strcmp k_strcmp
#define strncmp k_strncmp
#define strchr k_strchr
#define strlcpy k_strlcpy
#define snprintf k_snprintf
#define vsnprintf k_vsnprintf
#define printk k_printk
