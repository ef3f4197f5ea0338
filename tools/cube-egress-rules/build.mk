# cube-egress-rules: only libcube's own libraries so far (SQLite, OpenSSL's libcrypto for SHA-256).
# The nftables enforcement will add -lnftables and libnl-route here.
LDLIBS_cube-egress-rules :=
