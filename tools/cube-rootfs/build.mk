# cube-rootfs: libarchive (tar, zstd), ISA-L (gzip), libext2fs + com_err (ext4), libseccomp (lock-down).
LDLIBS_cube-rootfs := -larchive -lisal -lext2fs -lcom_err -lseccomp
