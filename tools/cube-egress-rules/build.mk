# cube-egress-rules: libcube's own libraries (SQLite, OpenSSL's libcrypto) and OpenSSL's libssl, for
# the proxy's TLS (tests build ClientHellos with it too).
# The nftables enforcement will add -lnftables and libnl-route here.
LDLIBS_cube-egress-rules := -lssl
# g++ 12 mistakes Boost.Asio's coroutine frame allocator for a mismatched new/delete (GCC bug 109224).
CXXFLAGS_cube-egress-rules := -Wno-mismatched-new-delete
