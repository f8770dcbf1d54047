# SPDX-License-Identifier: GPL-2.0
# output.sh - the printed formats, against golden files in tests/fixtures.
. "$(dirname "$0")/lib.bash"
F=$TOP/tests/fixtures

run -e 'shark.print_hist({ read = 120, write = 40, openat = 7, ["a very long key name that is long"] = 80 })'
check "print_hist: sorted by value, bars" rc=0 "out=$(cat "$F/print_hist.txt")"

run -e 'shark.print_hist({ a = 1, b = 2, c = 3, d = 4 }, { top = 2, desc = true, width = 10, title = "top 2" })'
check "print_hist options: top, desc, width, title" rc=0 "out=$(cat "$F/print_hist_opts.txt")"

run -e 'shark.print_hist_raw({ ["main\nmid\nleaf"] = 12, ["main\nidle"] = 3 })'
check "print_hist_raw: DTrace-style key, value, blank line" rc=0 "out=$(cat "$F/print_hist_raw.txt")"

done_testing
