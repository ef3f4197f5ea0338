# cube-egress-rules: SQLite and OpenSSL's libcrypto (libcube's), and libnftables for the kernel side.
LDLIBS_cube-egress-rules := -lnftables
