# SPDX-License-Identifier: GPL-2.0
# fuzz_pprof.sh - the pprof decoder (what uploads of pprof files reach) under
# libFuzzer with ASan and UBSan: mutated profiles, gzipped and plain, seeded
# from real ones; a fixed number of runs, 0 crashes. Longer:
#   make .output/fuzz/fuzz_pprof_decode && .output/fuzz/fuzz_pprof_decode DIR -max_total_time=600
. "$(dirname "$0")/lib.bash"

FZ=$OUT/fuzz/fuzz_pprof_decode
if [ ! -x "$FZ" ]; then
	make -s -C "$TOP" "${FZ#"$TOP"/}" >"$T/build" 2>&1 || { cat "$T/build" | sed 's/^/# /'; }
fi
# clang (and its libFuzzer) is a build dependency: a target that does not build is a failure, not a skip
ok_if "the pprof fuzz target builds (clang, libFuzzer, ASan, UBSan)" test -x "$FZ"
if [ ! -x "$FZ" ]; then
	done_testing
	exit 0
fi
mkdir -p "$T/corpus"
run -e 'local stacks, pprof = require "shark.stacks", require "shark.pprof"
  local s = stacks.new{ period_type = "cpu", period_unit = "nanoseconds", period = 1000 }
  local a = s:frame{ name = "main", module = "/bin/x", build_id = "ab", addr = 4096, map = { start = 0, limit = 8192 } }
  local b = s:frame{ name = "k", kernel = true, module = "[kernel.kallsyms]", addr = "0xffffffff81000000" }
  s:add({ a, b }, 3); s:add({ a }, 1)
  io.open(shark.args[1] .. "/one.pb.gz", "wb"):write(pprof.encode(s))
  io.open(shark.args[1] .. "/folded.pb.gz", "wb"):write(pprof.encode(assert(stacks.from_folded("a;b;c 5\na;d 2\n"))))' \
	"$T/corpus"
check "seed profiles written" rc=0
for f in "$T"/corpus/*.pb.gz; do gunzip -c "$f" >"${f%.gz}"; done
timeout -s KILL 240 "$FZ" "$T/corpus" -runs=50000 -seed=1 >"$T/out" 2>"$T/err"
RC=$?
check "pprof decoder: 50000 mutated inputs under ASan and UBSan, no crash, no leak" rc=0 'err~Done 50000 runs' \
	'!err~ERROR: (Address|Leak)Sanitizer' '!err~runtime error'
done_testing
