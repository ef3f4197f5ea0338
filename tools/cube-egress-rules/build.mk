# cube-egress-rules: libcube's own libraries (SQLite, OpenSSL's libcrypto for SHA-256), and for
# redirect and dns-relay libnftables and libnl-route (common/nft.cpp, common/netlink.cpp).
LDLIBS_cube-egress-rules := -lnl-route-3 -lnl-3 -lnftables
