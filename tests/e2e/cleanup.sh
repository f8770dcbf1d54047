# SPDX-License-Identifier: GPL-2.0
# cleanup.sh - after every kind of exit, nothing of shark's stays in the
# kernel: no perf event fd in any process, no tracefs probe entry, no
# process left behind.
. "$(dirname "$0")/lib.bash"

# Only what this test started counts: other shark runs on the machine are not
# ours to judge. Every process we start inherits SHARK_E2E_TAG (the -c child
# too, and anything shark might leave behind), so ours are found by it.
export SHARK_E2E_TAG=cleanup-$$
ours() { # the pids whose environment has our tag (our own shell's has no perf fd)
	grep -lsxF -z "SHARK_E2E_TAG=$SHARK_E2E_TAG" /proc/[0-9]*/environ | cut -d/ -f3
}
perf_fds() {
	local p
	for p in $(ours); do
		find "/proc/$p/fd" -lname 'anon_inode:\[perf_event\]' 2>/dev/null
	done | wc -l
}
sharks() { # our shark processes still alive
	local p
	for p in $(ours); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = shark ] && echo "$p"
	done
}
probes() {
	cat /sys/kernel/tracing/uprobe_events /sys/kernel/tracing/kprobe_events 2>/dev/null | md5sum
}

base_fds=$(perf_fds)
base_probes=$(probes)
script='perf.on("sched:sched_switch,syscalls:sys_enter_*,cpu-clock", { callchain_k = 1 }, function() end)
print("ready") io.stdout:flush()'

clean() { # NAME: check nothing stayed
	local left
	sleep 0.2
	left=$(perf_fds)
	ok_if "$1: no perf event fd left in any process we started ($left, before $base_fds)" \
		test "$left" -le "$base_fds"
	ok_if "$1: uprobe/kprobe events unchanged" test "$(probes)" = "$base_probes"
	ok_if "$1: no shark process of ours left" test -z "$(sharks)"
}

run -d 0.3 -e "$script"
check "-d" rc=0 out=ready
clean "after -d"

for sig in INT TERM KILL; do
	start -e "$script"
	wait_out ready
	# the running shark's own fds (its environ can be unreadable for a moment)
	during=$(find "/proc/$(pgrep -P "$BG" -x shark | head -1)/fd" -lname 'anon_inode:\[perf_event\]' 2>/dev/null |
		wc -l)
	ok_if "SIG$sig: perf fds open while running ($during)" test "$during" -gt 0
	signal $sig
	finish
	clean "after SIG$sig"
done

# BPF programs too: killed outright, the kernel drops them with the process
start -e 'bpf.count{ on = "raw_syscalls:sys_enter", by = "comm" } bpf.stacks{ freq = 49 }
print("ready") io.stdout:flush()'
wait_out ready
held=$(held_ids prog "$(pgrep -P "$BG" -x shark | head -1)")
ok_if "BPF programs loaded while running ($(echo $held))" test -n "$held"
signal KILL
finish
left=$(still_loaded prog $held)
ok_if "after SIGKILL: none of its BPF programs is left ($left)" test -z "$left"

run -e "$script"' error("boom")'
check "a Lua error after attaching" rc=1 'err~-e:2: boom'
clean "after an error"

start -c "$PROGS/sleeper v1ct1m 100000" -e "$script"
wait_out ready
# "ready" comes before the held child execs: kill our child by pid once it is
# the sleeper (pkill -x would miss it then, and hit other runs' sleepers)
victim="" i=0
while [ -z "$victim" ] && [ $((i += 1)) -le 200 ]; do
	for p in $(pgrep -P "$(pgrep -P "$BG" -x shark | head -1)" 2>/dev/null); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = v1ct1m ] && victim=$p
	done
	[ -z "$victim" ] && sleep 0.05
done
[ -n "$victim" ] && kill -KILL "$victim"
finish
check "the -c command killed: the run ends" rc=0
clean "after the traced command was killed"

run -c "$PROGS/getppid_n 10" -e "$script"' shark.on_end(function() shark.exit(3) end)'
check "shark.exit(3) from on_end" rc=3
clean "after shark.exit"

done_testing
