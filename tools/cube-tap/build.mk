# cube-tap: rtnetlink through libnl-route-3 and the node masquerade through libnftables. Only
# common/netlink.cpp includes libnl's headers, which live under their own directory.
LDLIBS_cube-tap := -lnl-route-3 -lnl-3 -lnftables -lbpf
CPPFLAGS_common += -I/usr/include/libnl3
