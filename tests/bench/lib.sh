# Shared by the bench scripts, which source it; not a bench itself (not executable, so `make bench`
# does not run it).

# The median of the numbers on stdin, one per line: the middle one, or the mean of the middle two;
# "-" when there are none.
median() {
  sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
# The median of the arguments.
median_of() { printf '%s\n' "$@" | median; }
