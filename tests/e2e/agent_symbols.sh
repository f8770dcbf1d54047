# SPDX-License-Identifier: GPL-2.0
# agent_symbols.sh - the always-on profiler's symbol caches stay bounded:
# processes that exited, their files and symbol tables are dropped by the
# sweeps after each window (counted per pid, exactly), one still in use is
# kept; names are read in place from the files (user) and in one pass over
# kallsyms (kernel); and the agent's profiles still name a known program's
# functions window after window, with the caches' sizes in /metrics.
. "$(dirname "$0")/lib.bash"

APID=""
trap '[ -n "$APID" ] && kill -KILL "$APID" 2>/dev/null; wait 2>/dev/null; bg_cleanup; rm -rf "$T"' EXIT

# ------------------------------------------------ the caches, by pid
run "$TOP/tests/agent/symcache.lua" 20 "$PROGS/sleeper"
val() { sed -n "s/^$1\t//p" "$T/out"; }
check "20 short-lived processes, each its own file: each named from its file while it runs" rc=0 "out~^named	20$"
ok_if "... a kernel address named in one pass over kallsyms (not loading it)" \
	test "$(val kernel_batch) $(val kernel_name)" = "1 schedule"
ok_if "... all 20 (and one long-lived) kept before any sweep" \
	test "$(val before_known) $(val before_procs)" = "20 21"
ok_if "... gone, but used in the window: kept by the first sweep" test "$(val sweep1_known)" = 20
ok_if "... gone and unused for a window: none of the 20 after the second sweep" test "$(val sweep2_known)" = 0
ok_if "... the cache holds one process, the long-lived one still in use" \
	test "$(val sweep2_procs) $(val sweep3_procs) $(val long_kept)" = "1 1 yes"
ok_if "... their 20 files dropped: only the long-lived one's files are left (it, libc, ld.so)" \
	test "$(val evicted_procs) $(val evicted_dsos)" = "20 20" -a "$(val after_dsos)" -le 3
ok_if "... and one symbol table, still naming it right" \
	test "$(val after_tables) $(val long_named_after)" = "1 main"

# ------------------------------------------------ the agent's profiler
port=$("$SHARK" -e 'local uv = require "uv"; local t = uv.new_tcp(); t:bind("127.0.0.1", 0)
  print(t:getsockname().port); t:close()')
mkdir -p "$T/prof"
printf '[prometheus]\nlisten = "127.0.0.1:%s"\n\n[profile]\nhz = 99\ninterval = 1\ndirectory = "%s/prof"\n' \
	"$port" "$T" >"$T/agent.toml"
"$SHARK" agent --config "$T/agent.toml" >"$T/agent.out" 2>"$T/agent.log" </dev/null &
APID=$!
# swept N: the profiler has swept its caches at least N times
swept() {
	local n
	n=$(curl -sf "http://127.0.0.1:$port/metrics" | sed -n 's/^shark_agent_symbol_cache{what="sweeps"} //p')
	[ -n "$n" ] && [ "$n" -ge "$1" ]
}
until_ok 30 swept 1
"$PROGS/fpchain" 3000 >/dev/null 2>&1 &
FPID=$!
wait "$FPID"
until_ok 30 swept 4
names() {
	local f
	for f in "$T/prof"/*-"$FPID"-*.pb.gz; do go tool pprof -raw "$f" 2>/dev/null; done
}
names >"$T/raw"
ok_if "the agent: fpchain's profiles name leaf, mid and main (read in place), across sweeps" \
	bash -c "grep -qw leaf '$T/raw' && grep -qw mid '$T/raw' && grep -qw main '$T/raw'"
curl -sf "http://127.0.0.1:$port/metrics" >"$T/m"
ok_if "... /metrics shows what the caches hold and what the sweeps dropped" \
	bash -c "grep -Eq '^shark_agent_symbol_cache\{what=\"procs\"\} [0-9]+$' '$T/m' &&
	  grep -Eq '^shark_agent_symbol_cache_evicted_total\{what=\"procs\"\} [0-9]+$' '$T/m'"
kill -TERM "$APID"
wait "$APID"
RC=$?
APID=""
check "SIGTERM: the agent ends cleanly" rc=0
done_testing
