# SPDX-License-Identifier: GPL-2.0
# journal.sh - shark record / report / replay on real events of tests/progs
# workloads: exact counts through the journal, live output == replayed
# output, callchains, BPF ring records, encryption, damage and cuts.
. "$(dirname "$0")/lib.bash"
FIX=$TOP/tests/fixtures

# --- record -e, report: exact counts by comm and dso

run record -o "$T/o.journal" -e syscalls:sys_enter_openat -- "$PROGS/openat_n" 777 /etc/hostname 100
check "record -e syscalls:sys_enter_openat -- openat_n 777: wrote the journal, 0 lost" rc=0 \
	"err~wrote .*/o.journal: [0-9]+ samples, 0 ring records, 0 lost"
run report "$T/o.journal" -s comm,dso -f csv
check "report -s comm,dso: exactly 777 samples of openat_n in libc (its syscall() calls)" rc=0 \
	"out~^event,overhead,samples,period,comm,dso$" "out~^syscalls:sys_enter_openat,[0-9.]+,777,777,openat_n,libc\.so\.6$"
run report "$T/o.journal" -s sym
check "report text: perf report's header and symbol names" rc=0 "out~^# Samples: [0-9]+ of event 'syscalls:sys_enter_openat'" \
	"out~[0-9.]+%  +777  \[\.\] syscall$"
run report "$T/o.journal" -s comm,pid -f json
check "report -f json: one object per row, keys and overhead" rc=0 'out~^\{.*"comm":"openat_n".*\}$' 'out~"overhead":'

# --- a script: live output == replayed output

run record -o "$T/s.journal" "$FIX/journal_openat.lua" -- "$PROGS/openat_n" 500 /etc/hostname 50
cp "$T/out" "$T/live"
check "record script.lua: the script runs live and prints its counts" rc=0 \
	"out~^openat_n /etc/hostname flags=131328	500$"
run replay "$T/s.journal" "$FIX/journal_openat.lua"
ok_if "replay script.lua: exactly the live output (user strings from the journal)" cmp -s "$T/live" "$T/out"
check "replay: exits 0 and says nothing" rc=0 quiet

# timers follow the recorded clock; shark.time() is the event's time inside handlers
cat >"$T/clock.lua" <<'LUA'
local n, ticks, bad, last = 0, 0, 0, 0
perf.on("syscalls:sys_enter_openat", function(e)
  n = n + 1
  if shark.time() ~= e.time then bad = bad + 1 end
end)
set_interval(1, function() ticks = ticks + 1; if shark.time() < last then bad = bad + 1 end; last = shark.time() end)
shark.on_end(function() print("events", n, "clock mismatches", bad, "ticks", ticks > 0) end)
LUA
run replay "$T/s.journal" "$T/clock.lua"
check "replay: shark.time() is each event's recorded time; intervals fire in order" rc=0 \
	"out~^events	50[0-9]	clock mismatches	0	ticks	true$"

cat >"$T/other.lua" <<'LUA'
local n = 0
perf.on("sched:sched_switch", function() n = n + 1 end)
shark.on_end(function() print("switches", n) end)
LUA
run replay "$T/s.journal" "$T/other.lua"
check "replay: events the journal does not have are said, not silently empty" rc=0 "out=switches	0" \
	"err~perf.on\(\"sched:sched_switch\"\): the journal has no such events"

# --- callchains: folded and svg from the journal

run record -o "$T/cg.journal" -e cpu-clock -F 999 -g -- "$PROGS/fpchain" 300
check "record -e cpu-clock -g -- fpchain 300" rc=0 "err~wrote .* [1-9][0-9]* samples"
run report "$T/cg.journal" -f folded
check "report -f folded: fpchain's frames main;mid;leaf (frame pointers), comm at the root" rc=0 \
	"out~^fpchain;([^ ]*;)?main;mid;leaf [0-9]+$"
run report "$T/cg.journal" -f svg -o "$T/flame.svg"
check "report -f svg -o: a flame graph with leaf in it" rc=0 "file:$T/flame.svg~<svg" "file:$T/flame.svg~leaf"
run report "$T/cg.journal" -f pprof -o "$T/cg.pb.gz"
check "report -f pprof -o: written" rc=0
if command -v go >/dev/null; then
	ok_if "go tool pprof -top reads it: main, mid and leaf of fpchain" bash -c \
		"go tool pprof -top '$T/cg.pb.gz' 2>&1 | grep -q ' leaf\$' && go tool pprof -top '$T/cg.pb.gz' | grep -q ' mid\$'"
else
	skip "go tool pprof reads it" "golang-go is not installed (deps/install test)"
fi
run report "$T/cg.journal" -f pprof
check "report -f pprof to a terminal: refused, it is binary" rc=2 "err~give -o OUT"
run record -o "$T/dw.journal" -e cpu-clock -F 999 --call-graph dwarf -- "$PROGS/fpchain" 300
check "record --call-graph dwarf -- fpchain 300" rc=0 "err~wrote .* [1-9][0-9]* samples"
run report "$T/dw.journal" -f folded
check "report -f folded of a dwarf journal: main;mid;leaf, unwound from the copied stacks when recorded" rc=0 \
	"out~^fpchain;([^ ]*;)?main;mid;leaf [0-9]+$"

# --- BPF ring records (with their type), replayed to bpf.on_ring

run record -o "$T/r.journal" "$TOP/samples/exitsnoop.lua" -- "$PROGS/openat_n" 1 /etc/hostname
cp "$T/out" "$T/live"
check "record exitsnoop.lua: one exit of the command" rc=0 "out~openat_n +[0-9]+ .* 0$"
run report "$T/r.journal"
check "report: the ring's records and their type" rc=0 "out~^# Records: 1 of BPF ring 'events' \(ctype<struct [a-z0-9_]*event>, [0-9]+ bytes\)$"
run replay "$T/r.journal" "$TOP/samples/exitsnoop.lua"
ok_if "replay exitsnoop.lua: the live output" cmp -s "$T/live" "$T/out"

# --- encryption

head -c 32 /dev/urandom >"$T/key"
head -c 32 /dev/urandom >"$T/other"
run record -o "$T/e.journal" --encrypt "$T/key" -e syscalls:sys_enter_openat -- "$PROGS/openat_n" 777 /etc/hostname 100
check "record --encrypt" rc=0 "err~encrypted"
ok_if "an encrypted journal does not show the command's name" bash -c "! grep -q openat_n '$T/e.journal'"
run report "$T/e.journal"
check "report without the key: a clear error, exit 1" rc=1 "err~encrypted: give its key \(--key KEYFILE\)"
run report "$T/e.journal" --key "$T/other"
check "report with a wrong key: a clear error, exit 1" rc=1 "err~chunk 0 at byte 64 does not decrypt: wrong key"
run report "$T/e.journal" --key "$T/key" -s comm,dso -f csv
check "report with the key: the exact count" rc=0 "out~,777,777,openat_n,libc\.so\.6$"
echo short >"$T/badkey"
run record -o "$T/f.journal" --encrypt "$T/badkey" -e syscalls:sys_enter_openat -- "$PROGS/openat_n" 1 /etc/hostname
check "record --encrypt with a malformed key file: refused" rc=1 "err~32 bytes or 64 hex digits"

# --- damage: a flipped byte, a cut (40000 samples: three chunks of samples)

run record -o "$T/g.journal" -e syscalls:sys_enter_openat -- "$PROGS/openat_n" 40000 /etc/hostname 100
check "record 40000 openat: 0 lost" rc=0 "err~wrote .*: 400[0-9][0-9] samples, 0 ring records, 0 lost"
cat >"$T/flags.lua" <<'LUA'
local n = 0
perf.on("syscalls:sys_enter_openat", function(e) if e.raw.flags == 0x20100 then n = n + 1 end end)
shark.on_end(function() print("openat", n) end)
LUA
run replay "$T/g.journal" "$T/flags.lua"
check "replay: exactly 40000 openat with the workload's flags" rc=0 "out=openat	40000"
size=$(stat -c %s "$T/g.journal")
cp "$T/g.journal" "$T/d.journal"
printf '\xff' | dd of="$T/d.journal" bs=1 seek=$((size / 2)) conv=notrunc status=none
run report "$T/d.journal"
check "a flipped byte: the reader names the chunk and exits 1" rc=1 \
	"err~d.journal: chunk [0-9]+ at byte [0-9]+ (is damaged|has a damaged header)"
run replay --salvage "$T/d.journal" "$T/flags.lua"
check "--salvage: skips that chunk, reads the others, says so" rc=0 "err~: chunk [0-9]+ at byte [0-9]+ .*: skipped" \
	"err~1 damaged chunk skipped" "out~^openat	[1-9][0-9]+$"
ok_if "--salvage: fewer than 40000 (one chunk's samples are gone)" bash -c "! grep -q '40000' '$T/out'"
head -c $((size - 200)) "$T/g.journal" >"$T/c.journal"
run replay "$T/c.journal" "$T/flags.lua"
check "a cut journal: every complete chunk is read (all samples), and where it ended is said" rc=0 \
	"err~ends inside chunk [0-9]+ at byte [0-9]+ \(cut short" "out=openat	40000"
head -c 40 "$T/g.journal" >"$T/h.journal"
run report "$T/h.journal"
check "a journal cut inside its header: refused" rc=1 "err~not a shark journal"
printf 'not a journal at all, not at all, not at all, not at all, not at all, not at all\n' >"$T/n.journal"
run report "$T/n.journal"
check "not a journal: refused" rc=1 "err~not a shark journal"
run report "$T/missing.journal"
check "a missing file: refused" rc=1 "err~cannot read .*missing.journal: No such file"

# --- usage

run record -o "$T/u.journal"
check "record with neither -e nor a script: usage, exit 2" rc=2 "err~give -e EVENT"
run report "$T/o.journal" -s bogus
check "report --sort with an unknown key: exit 2" rc=2 "err~unknown sort key 'bogus'"
run replay "$T/o.journal"
check "replay without a script: usage, exit 2" rc=2 "err~expected FILE script.lua"

done_testing
