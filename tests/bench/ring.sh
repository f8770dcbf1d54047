# SPDX-License-Identifier: GPL-2.0
# ring.sh - bpf.on_ring must not turn a program's wake-ups into a storm: the
# workload traced by a program that submits with flags 0 (the libbpf-
# bootstrap way: a wake-up whenever the reader has caught up) against the
# same program with BPF_RB_NO_WAKEUP. Paired interleaved rounds, medians.
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
N=${N:-1000000}
ROUNDS=${ROUNDS:-7}
W="$P/getppid_n $N"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT


cat >"$T/ring.lua" <<'LUA'
local flags = shark.args[1]
bpf.load(([[
struct event { u32 pid; u32 nr; };
SHARK_RINGBUF(events, struct event, 1 << 24);
SEC("tracepoint/syscalls/sys_enter_getppid")
int on(void *ctx)
{
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) { __sync_fetch_and_add(&events_drops, 1); return 1; }
  e->pid = bpf_get_current_pid_tgid() >> 32;
  bpf_ringbuf_submit(e, FLAGS);
  return 1;
}
]]):gsub("FLAGS", flags))
local n = 0
local h = bpf.on_ring("events", function() n = n + 1 end)
print("ready")
io.stdout:flush()
shark.on_end(function() print("events", n, "lost", h:lost()) end)
LUA

echo "== bpf.on_ring, $N getppid(), a record each: submit flags 0 vs BPF_RB_NO_WAKEUP ($ROUNDS paired rounds, medians)"
for ((r = 0; r < ROUNDS; r++)); do
	note_round none "$(time_cmd)"
	note_round wake "$(traced '^ready' "$SHARK" "$T/ring.lua" 0)"
	wake_events=$(grep -E '^events' "$T/tracer.out" | tr '\t' ' ')
	note_round nowake "$(traced '^ready' "$SHARK" "$T/ring.lua" BPF_RB_NO_WAKEUP)"
	nowake_events=$(grep -E '^events' "$T/tracer.out" | tr '\t' ' ')
done
base=$(median none)
w=$(median wake)
nw=$(median nowake)
row "program submits with" "workload s" "+ns/event"
row "(no tracing)" "$base" "0"
row "flags 0 (wake-up when caught up)" "$w" "$(added_ns "$w" "$base")"
echo "   last round: $wake_events"
row "BPF_RB_NO_WAKEUP" "$nw" "$(added_ns "$nw" "$base")"
echo "   last round: $nowake_events"
echo "flags 0 / NO_WAKEUP workload time: $(ratio "$w" "$nw")x"
echo "target: within 1.10x"
