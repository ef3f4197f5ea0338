# cube-logs confines its reader with libseccomp (common/seccomp).
LDLIBS_cube-logs := -lseccomp
