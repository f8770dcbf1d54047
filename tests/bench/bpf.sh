# SPDX-License-Identifier: GPL-2.0
# bpf.sh - the bpf module against libbpf-tools, BCC and bpftrace on one
# workload, side by side: in-kernel counting, one ring record per event into
# Lua, time to ready, memory.
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
N=${N:-5000000}
ROUNDS=${ROUNDS:-3}
W="$P/getppid_n $N"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export SHARK_CACHE=$T/cache

cat >"$T/count.lua" <<'LUA'
local c = bpf.count{ on = "raw_syscalls:sys_enter", by = "id" }
print("ready") io.stdout:flush()
shark.on_end(function() print("getppid", c[110]) end)
LUA
cat >"$T/ring.lua" <<'LUA'
bpf.cdef[[
struct event { u32 pid; u32 id; };
SHARK_RINGBUF(events, struct event, 16 << 20);
SEC("tracepoint/raw_syscalls/sys_enter")
int on(struct trace_event_raw_sys_enter *ctx)
{
  struct event e = { bpf_get_current_pid_tgid() >> 32, ctx->id };
  shark_ringbuf_output(events, &e, sizeof(e));
  return 1;
}
]]
local n = 0
local h = bpf.on_ring("events", function(e) n = n + 1 end)
print("ready") io.stdout:flush()
shark.on_end(function() print("records", n, "dropped", h:lost()) end)
LUA
"$SHARK" -d 0.1 "$T/ring.lua" >/dev/null 2>&1 # compile once: the runs below use the cache

echo "== system-wide raw_syscalls:sys_enter, workload: $N getppid() calls (best of $ROUNDS rounds, interleaved)"
for ((r = 0; r < ROUNDS; r++)); do
	note_best none "$(time_cmd)"
	note_best count "$(traced '^ready' "$SHARK" "$T/count.lua")"
	count_out=$(grep getppid "$T/tracer.out")
	note_best ring "$(traced '^ready' "$SHARK" "$T/ring.lua")"
	ring_out=$(grep records "$T/tracer.out")
	[ -x /usr/sbin/syscount ] && note_best syscount "$(traced 'Tracing|Ctrl' /usr/sbin/syscount)"
	[ -x /usr/sbin/syscount-bpfcc ] && note_best bcc "$(traced 'Tracing|Ctrl' /usr/sbin/syscount-bpfcc)"
	command -v bpftrace >/dev/null &&
		note_best bpftrace "$(traced 'Attaching' bpftrace -e 't:raw_syscalls:sys_enter { @[args->id] = count(); }')"
done
base=${best[none]}
row "tracer" "workload s" "slowdown"
row "none" "$base" "1.00x"
row "shark bpf.count{by = 'id'} (template)" "${best[count]}" "$(slowdown "${best[count]}" "$base")"
echo "   $count_out"
[ -n "${best[syscount]:-}" ] && row "libbpf-tools syscount" "${best[syscount]}" "$(slowdown "${best[syscount]}" "$base")"
[ -n "${best[bcc]:-}" ] && row "BCC syscount" "${best[bcc]}" "$(slowdown "${best[bcc]}" "$base")"
[ "${best[bcc]:-}" = fail ] && echo "   BCC needs kernel headers (/lib/modules/$(uname -r)/build), absent here"
[ -n "${best[bpftrace]:-}" ] && row "bpftrace @[args.id] = count()" "${best[bpftrace]}" "$(slowdown "${best[bpftrace]}" "$base")"
row "shark ring record per syscall into Lua" "${best[ring]}" "$(slowdown "${best[ring]}" "$base")"
echo "   $ring_out"
echo "targets: template count <= 1.8x; ring into Lua <= 2.4x with 0 lost"

echo
echo "== ready to trace, and peak RSS"
row "" "ready ms" "peak RSS MB"
ready_ms() { # script: ms from main() to the script's "ready" line, median of 5
	local i v=()
	for i in 1 2 3 4 5; do
		v+=("$("$SHARK" -e "$1"' print((shark.time() - shark.start_time) / 1e6) shark.exit()' 2>/dev/null)")
	done
	printf '%s\n' "${v[@]}" | sort -n | awk 'NR == 3 { printf "%.1f", $1 }'
}
row "shark template (bpf.count)" "$(ready_ms 'bpf.count{ on = "raw_syscalls:sys_enter", by = "id" }')" \
	"$(peak_rss_mb "$SHARK" -d 1 -e 'bpf.count{ on = "raw_syscalls:sys_enter", by = "id" }')"
row "shark cached bpf.cdef" "$(ready_ms 'bpf.cdef[[SEC("tracepoint/raw_syscalls/sys_enter") int on(void *c) { return 1; }]]')" ""
row "libbpf-tools syscount -d 1" "" "$(peak_rss_mb /usr/sbin/syscount -d 1)"
command -v bpftrace >/dev/null && row "bpftrace count, 1 s" "" \
	"$(peak_rss_mb bpftrace -e 't:raw_syscalls:sys_enter { @[args->id] = count(); } interval:s:1 { exit(); }')"
echo "targets: template ready <= 30 ms, RSS <= 16 MB; cached bpf.cdef ready <= 50 ms"
