# cube-tap: rtnetlink through libnl-route-3 and the node masquerade through libnftables, which
# common/nft.cpp opens with dlopen() when setup or teardown first needs it (not linked: ensure and
# release start without it). Only common/netlink.cpp includes libnl's headers, which live under
# their own directory. libbpf's own libraries are named because the tool links its archive
# (LINK_STATIC in the Makefile), which does not carry them as the shared library does.
LDLIBS_cube-tap := -lnl-route-3 -lnl-3 -lbpf -lelf -lz
CPPFLAGS_common += -I/usr/include/libnl3
