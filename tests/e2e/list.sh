# SPDX-License-Identifier: GPL-2.0
# list.sh - shark -l (events of this machine), shark test (what works here),
# and tracefs mounted on demand.
. "$(dirname "$0")/lib.bash"

run -l
check "shark -l lists software, hardware and tracepoint events" rc=0 \
	'out~^cpu-clock +\[software event\]$' 'out~^cycles +\[hardware event\]' \
	'out~^sched:sched_switch +\[tracepoint\]$' 'out~^syscalls:sys_enter_openat +\[tracepoint\]$'
ok_if "shark -l lists as many tracepoints as tracefs has" \
	test "$(grep -c '\[tracepoint\]$' "$T/out")" -eq "$(wc -l </sys/kernel/tracing/available_events)"

run -l 'sched:sched_s*'
check "shark -l GLOB filters" rc=0 'out~^sched:sched_switch ' '!out~sched:sched_wakeup ' '!out~cpu-clock'

run -l -v sched:sched_switch
check "shark -l -v shows fields, C types, offsets and what Lua gets" rc=0 \
	'out~^sched:sched_switch \(id [0-9]+\)$' 'out~prev_comm +char\[16\] +8 +16 +char\[N\]' \
	'out~prev_state +long +32 +8 +number'
run -l -v syscalls:sys_enter_openat
check "shark -l -v: syscall string arguments are read from the task" rc=0 \
	"out~filename +const char \\* +24 +8 +string, read from the task's memory"

run -l 'nothing:here*'
check "shark -l with no match: exit 1" rc=1 "err~no event matches 'nothing:here\\*'"

if "$SHARK" test hardware >/dev/null 2>&1; then hw=ok; else hw=no; fi
run test
check "shark test reports every source" rc=0 'out~^tracefs +ok ' 'out~^tracepoints +ok ' \
	'out~^software +ok ' "out~^hardware +$hw " 'out~^callchain-kernel +ok ' 'out~^callchain-user +ok ' \
	'out~^kprobes +(ok|no) ' 'out~^uprobes +(ok|no) '
run test tracepoints software
check "shark test FEATURE exits 0 when it works" rc=0 'out~^tracepoints +ok' 'out~^software +ok'
run test kprobes
if grep -q '^kprobes *no' "$T/out"; then
	check "shark test FEATURE exits 1 with the reason when it does not" rc=1 'out~CONFIG_KPROBES'
else
	check "shark test kprobes exits 0 where kprobes exist" rc=0
fi
run test btf bpf-ring bpf-uprobe bpf-usdt
check "shark test covers BPF: CO-RE load, ring records, a uprobe and a USDT probe, exact counts" rc=0 \
	'out~^btf +ok .*CO-RE' 'out~^bpf-ring +ok .* 100 of 100 ' 'out~^bpf-uprobe +ok +100 of 100 ' \
	'out~^bpf-usdt +ok +100 of 100 .* sum 5050$'
ok_if "shark test leaves no BPF program loaded" [ "$(bpftool prog show 2>/dev/null | grep -c 'on_getppid\|on_uprobe\|on_usdt')" = 0 ]
run test warp-drive
check "shark test with an unknown feature: exit 2" rc=2 "err~unknown feature 'warp-drive'"

# tracefs absent (a fresh boot): shark mounts it. Only when nothing else uses it.
if mountpoint -q /sys/kernel/tracing && umount /sys/kernel/tracing 2>/dev/null; then
	run -l sched:sched_switch
	check "with tracefs unmounted, shark mounts it and lists" rc=0 'out~^sched:sched_switch'
	ok_if "tracefs is mounted again" mountpoint -q /sys/kernel/tracing
else
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
	skip "mounting tracefs" "tracefs is busy here (something else holds it), it cannot be unmounted for the test"
fi

done_testing
