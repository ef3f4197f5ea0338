# cube-rootfs: libarchive (tar, gzip, zstd), libext2fs + com_err (ext4), libseccomp (lock-down).
LDLIBS_cube-rootfs := -larchive -lext2fs -lcom_err -lseccomp
