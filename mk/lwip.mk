# lwIP, the kernel's TCP/IP stack (drivers/net/), for the default
# configuration (tiny has no drivers, so no stack).
#
# The source is Debian's `lwip` source package, fetched, pinned and cached
# outside the clone by the lab's parts (xenlab/parts/lwip.py; `python -m
# xenlab.parts path lwip-src` prints the unpacked tree, fetching it once).
# $(LWIP_TREE) is a symbolic link to that tree, made on the first build
# (and again when the pin in xenlab/parts/lwip.py changes), so the rules
# below name lwIP's files before the tree exists.
#
# lwIP's files are compiled with the kernel's flags, freestanding for i386,
# against the project's port (drivers/net/port/: lwipopts.h, arch/cc.h and
# the two C headers lwIP includes, string.h and stdlib.h); sys_now() and the
# allocator lwIP uses are drivers/net/sys_arch.c. The objects go under
# $(KOBJ)/lwip/ and are linked with the kernel's. Every file of drivers/
# gets lwIP's include path (the stack's glue is there).
LWIP_TREE := $(KERNEL_OUT)/lwip-src
LWIP_PORT := drivers/net/port
LWIP_CPPFLAGS := -I$(LWIP_PORT) -I$(LWIP_TREE)/src/include
# What NO_SYS=1, IPv4, ARP, ICMP, raw, UDP and TCP need of lwIP 2.1 (files
# of features lwipopts.h turns off compile to nothing, so are not listed).
LWIP_SRCS := core/init.c core/def.c core/inet_chksum.c core/ip.c core/mem.c core/memp.c \
             core/netif.c core/pbuf.c core/raw.c core/stats.c core/tcp.c core/tcp_in.c \
             core/tcp_out.c core/timeouts.c core/udp.c \
             core/ipv4/etharp.c core/ipv4/icmp.c core/ipv4/ip4.c core/ipv4/ip4_addr.c \
             netif/ethernet.c
LWIP_OBJS := $(patsubst %.c,$(KOBJ)/lwip/%.o,$(LWIP_SRCS))
LWIP_FILES := $(addprefix $(LWIP_TREE)/src/,$(LWIP_SRCS))

$(LWIP_TREE): xenlab/parts/lwip.py | bootstrap
	@mkdir -p $(dir $@)
	@echo "  LWIP    fetching Debian's lwip source (python -m xenlab.parts path lwip-src)"
	$(Q)tree="$$($(PY) -m xenlab.parts path lwip-src)" && ln -sfn "$$tree" $@
	@echo "  LWIP    $@ -> $$(readlink $@)"

# lwIP's sources come with the link.
$(LWIP_FILES): | $(LWIP_TREE) ;

$(LWIP_OBJS): $(KOBJ)/lwip/%.o: $(LWIP_TREE)/src/%.c $(LWIP_PORT)/lwipopts.h | $(GEN_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      lwip/$*.c"
	$(Q)$(KCC) $(KERNEL_CPPFLAGS) $(LWIP_CPPFLAGS) $(KERNEL_CFLAGS) $(KERNEL_NOFPU_FLAGS) \
	  -c $< -o $@

# The stack's glue (drivers/) includes lwIP's headers.
$(KOBJ)/drivers/%.o: KERNEL_CPPFLAGS += $(LWIP_CPPFLAGS)
$(filter $(KOBJ)/drivers/%,$(KERNEL_OBJS)): | $(LWIP_TREE)
