# SPDX-License-Identifier: GPL-2.0
# bundle.sh - a bundle starts as fast as ./shark: ready-to-trace wall time of
# BPF scripts (attach, then exit at once), bundle against ./shark (warm
# compile cache) and bpftrace, side by side; and the size of the bundles.
. "$(dirname "$0")/lib.bash"

N=${N:-15}
T=$(mktemp -d /tmp/shark-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
cat >"$T/tpl.lua" <<'LUA'
bpf.count{ on = "raw_syscalls:sys_enter", by = "syscall" }
print(("%.3f"):format((shark.time() - shark.start_time) / 1e6))
shark.exit(0)
LUA
cat >"$T/cdef.lua" <<'LUA'
bpf.cdef[[
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024);
         __type(key, u32); __type(value, u64); } counts SEC(".maps");
SEC("tracepoint/raw_syscalls/sys_enter")
int on_enter(void *ctx) { u32 pid = bpf_get_current_pid_tgid() >> 32; shark_count(&counts, &pid); return 1; }
]]
print(("%.3f"):format((shark.time() - shark.start_time) / 1e6))
shark.exit(0)
LUA
"$SHARK" -q bundle "$T/tpl.lua" -o "$T/tpl" && "$SHARK" -q bundle "$T/cdef.lua" -o "$T/cdef" || exit 1
"$SHARK" "$T/cdef.lua" >/dev/null   # warm the compile cache for ./shark

# ready_ms N CMD...: median time from main() to attached, as the script prints it
ready_ms() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do "$@" 2>/dev/null; done | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'
}

echo "== bundle: ready to trace (main() to attached), median of $N runs"
row "command" "ready ms" "peak RSS MB"
row "./shark tpl.lua (bpf.count template)" "$(ready_ms "$N" "$SHARK" "$T/tpl.lua")" "-"
row "bundle of tpl.lua" "$(ready_ms "$N" "$T/tpl")" "-"
row "./shark cdef.lua (bpf.cdef, cached object)" "$(ready_ms "$N" "$SHARK" "$T/cdef.lua")" "-"
row "bundle of cdef.lua" "$(ready_ms "$N" "$T/cdef")" "-"
echo
echo "== bundle: whole run (exec, load, attach, detach, exit), median of $N runs"
row "command" "wall ms" "peak RSS MB"
a=$(wall_ms "$N" "$SHARK" "$T/tpl.lua");  row "./shark tpl.lua (bpf.count template)" "$a" "$(peak_rss_mb "$SHARK" "$T/tpl.lua")"
b=$(wall_ms "$N" "$T/tpl");                row "bundle of tpl.lua" "$b" "$(peak_rss_mb "$T/tpl")"
c=$(wall_ms "$N" "$SHARK" "$T/cdef.lua"); row "./shark cdef.lua (bpf.cdef, cached object)" "$c" "$(peak_rss_mb "$SHARK" "$T/cdef.lua")"
d=$(wall_ms "$N" "$T/cdef");               row "bundle of cdef.lua" "$d" "$(peak_rss_mb "$T/cdef")"
if command -v bpftrace >/dev/null; then
	e=$(wall_ms 5 bpftrace -e 'tracepoint:raw_syscalls:sys_enter { @[pid] = count(); } BEGIN { exit(); }')
	row "bpftrace, the same map (5 runs)" "$e" "-"
	echo "ratio: bpftrace / bundle of cdef.lua = $(ratio "$e" "$d")x"
fi
echo "ratio: bundle / ./shark: template $(ratio "$b" "$a")x, bpf.cdef $(ratio "$d" "$c")x"
echo "size: bundle of tpl.lua $(stat -c %s "$T/tpl") bytes, of cdef.lua $(stat -c %s "$T/cdef") bytes (goal <= 5 MB)"
echo "target: a bundle of a BPF script ready to trace in <= 30 ms"
