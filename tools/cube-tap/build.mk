# cube-tap: rtnetlink through libnl-route-3 and the node masquerade through libnftables, which
# common/nft.cpp opens with dlopen() when setup or teardown first needs it (not linked: ensure and
# release start without it). Only common/netlink.cpp includes libnl's headers, which live under
# their own directory.
LDLIBS_cube-tap := -lnl-route-3 -lnl-3 -lbpf
CPPFLAGS_common += -I/usr/include/libnl3
