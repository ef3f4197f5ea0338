# cube-egress-rules: libcube's own libraries (SQLite, OpenSSL's libcrypto), OpenSSL's libssl for the
# proxy's TLS, libseccomp (the allowlist) for serve's process, and libnl-route for redirect
# (common/netlink.cpp). libnftables (apply, redirect, dns-relay) is opened with dlopen() by
# common/nft.cpp when a verb first needs it, so set, check and list start without it. systemd's
# notify protocol is spoken directly (proxy_notify.cpp): libsystemd would add six libraries to every
# command's start.
LDLIBS_cube-egress-rules := -lssl -lseccomp -lnl-route-3 -lnl-3
# g++ 12 mistakes Boost.Asio's coroutine frame allocator for a mismatched new/delete (GCC bug 109224).
CXXFLAGS_cube-egress-rules := -Wno-mismatched-new-delete
# Under SAN=1, ASan's instrumentation changes what g++ 12 inlines, and it then reports Boost.Beast's
# `return boost::none` in basic_parser::content_length as maybe-uninitialized: a false positive of a
# warning GCC documents as unreliable with sanitizers. The normal build keeps the warning. The unit
# tests that drive the parser (tests/unit/cube-egress-rules/proxy_http_test.cpp) get the same.
ifeq ($(SAN),1)
CXXFLAGS_cube-egress-rules += -Wno-maybe-uninitialized
CXXFLAGS_tests += -Wno-maybe-uninitialized
endif
