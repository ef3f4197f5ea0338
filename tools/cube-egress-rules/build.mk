# cube-egress-rules: libcube's own libraries (SQLite, OpenSSL's libcrypto), OpenSSL's libssl for the
# proxy's TLS, libsystemd (sd_notify) and libseccomp (the allowlist) for serve's process, and
# libnftables and libnl-route for apply, redirect and dns-relay (common/nft.cpp, common/netlink.cpp).
LDLIBS_cube-egress-rules := -lssl -lsystemd -lseccomp -lnl-route-3 -lnl-3 -lnftables
# g++ 12 mistakes Boost.Asio's coroutine frame allocator for a mismatched new/delete (GCC bug 109224).
CXXFLAGS_cube-egress-rules := -Wno-mismatched-new-delete
