# SPDX-License-Identifier: GPL-2.0
# stacks.sh - stack profile exports: fold + symbolize 1 M real samples, the
# SVG (and pprof, speedscope) of 50 000 unique stacks.
. "$(dirname "$0")/lib.bash"

echo "== stacks: fold + symbolize, flame graph SVG, pprof, speedscope"
"$SHARK" -q "$TOP/tests/bench/stacks.lua" "$OUT/progs" 1000000
