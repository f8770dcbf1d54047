# SPDX-License-Identifier: GPL-2.0
# harden.sh - another local user attacks a root shark through the files it
# writes: the compile cache, sharkcloud's output names. Root must refuse.
. "$(dirname "$0")/lib.bash"

U="setpriv --reuid=65534 --regid=65534 --clear-groups"
chmod 0711 "$T"
mkdir -m 1777 "$T/pub"	# like /tmp: root-owned, sticky, world-writable

# A BPF source never compiled before: a cache hit must not hide a write.
src() {
	cat <<LUA
local o = bpf.cdef[[
/* $1 */
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024);
  __type(key, u32); __type(value, u64); } hits SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_getppid")
int c(void *ctx)
{
  u32 pid = bpf_get_current_pid_tgid() >> 32;
  u64 one = 1, *v = bpf_map_lookup_elem(&hits, &pid);
  if (v) __sync_fetch_and_add(v, 1); else bpf_map_update_elem(&hits, &pid, &one, BPF_NOEXIST);
  return 1;
}
char LICENSE[] SEC("license") = "GPL";
]]
shark.on_end(function() print(o.maps.hits[shark.target().pid]) end)
LUA
}

# --- no /tmp fallback when HOME is unset (system services, env -i)

$U mkdir -p -m 0777 /tmp/.cache/shark 2>/dev/null
touch "$T/mark"
src "env -i $$ $(date +%s%N)" >"$T/envi.lua"
env -i PATH="$PATH" timeout -s KILL 30 "$SHARK" -c "$PROGS/getppid_n 7" "$T/envi.lua" >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "env -i: root compiles BPF C into its own cache" rc=0 out=7
ok_if "env -i: nothing written under /tmp/.cache" \
	test -z "$(find /tmp/.cache -newer "$T/mark" 2>/dev/null)"
ok_if "root's cache is /var/cache/shark, 0700" test "$(stat -c %a:%U /var/cache/shark 2>&1)" = 700:root

# --- a cache tree made by another user is refused

$U mkdir -p -m 0777 "$T/pub/att/shark/obj"
src "att $$" >"$T/att.lua"
SHARK_CACHE=$T/pub/att/shark run -c "$PROGS/getppid_n 3" "$T/att.lua"
check "a cache directory owned by another user is refused" rc=1 \
	"err~pub/att is owned by another user: refusing to use it"
ok_if "nothing was written in the other user's tree" test -z "$(find "$T/pub/att" -user 0)"

$U mkdir -p -m 0755 "$T/pub/up"
mkdir -p "$T/own" && chmod 0700 "$T/own"
SHARK_CACHE=$T/pub/up/root-owned run -c "$PROGS/getppid_n 3" "$T/att.lua"
check "a cache below another user's directory is refused" rc=1 "err~owned by another user"

# --- a planted symlink is not followed, not even to a root-only directory

mkdir -m 0700 "$T/secret"
echo secret >"$T/secret/keep" && chmod 0600 "$T/secret/keep"
$U ln -s "$T/secret" "$T/pub/link"
SHARK_CACHE=$T/pub/link run -c "$PROGS/getppid_n 3" "$T/att.lua"
check "a symlinked cache directory is refused" rc=1 "err~symbolic link"
ok_if "the symlink's target is untouched" test "$(ls -A "$T/secret")" = keep

mkdir -m 0777 "$T/wide"
SHARK_CACHE=$T/wide run -c "$PROGS/getppid_n 3" "$T/att.lua"
check "a world-writable cache directory is refused" rc=1 "err~writable by other users"

# --- a cached object is checked against its key before it is loaded

export SHARK_CACHE=$T/cache
src "sealed $$" >"$T/sealed.lua"
run -c "$PROGS/getppid_n 5" "$T/sealed.lua"
check "a compiled object is cached" rc=0 out=5
obj=$(ls "$SHARK_CACHE"/obj/*.bpf.o)
ok_if "the cache is 0700 and its files 0600" \
	test "$(stat -c %a "$SHARK_CACHE" "$SHARK_CACHE/obj" "$obj" | tr '\n' ' ')" = "700 700 600 "
cp "$obj" "$T/good.o"
printf 'not an object' >"$obj"
run -c "$PROGS/getppid_n 4" "$T/sealed.lua"
check "a damaged cached object is compiled again, not loaded" rc=0 out=4
ok_if "the damaged object was replaced" cmp -s "$obj" "$T/good.o"
head -c 100 "$T/good.o" >"$obj"
SHARK_CLANG=/nonexistent run -c "$PROGS/getppid_n 4" "$T/sealed.lua"
check "a truncated cached object is not loaded" rc=1 "err~needs clang" '!err~libbpf'
cp "$T/good.o" "$obj"
SHARK_CLANG=/nonexistent run -c "$PROGS/getppid_n 6" "$T/sealed.lua"
check "an intact cached object loads without clang" rc=0 out=6

# --- sharkcloud's output: new files only, two graphs in a second get two names

mkdir -m 0700 "$T/cloud"
SHARK_CLOUD_DIR=$T/cloud run -e '
local a = sharkcloud.senddata("flamegraph", { ["main;f"] = 3 })
local b = sharkcloud.senddata("flamegraph", { ["main;g"] = 4 })
print(a ~= b, io.open(a):read("*a"):find("main", 1, true) ~= nil, io.open(b):read("*a"):find("g", 1, true) ~= nil)'
check "two sharkcloud graphs in one second get two files" rc=0 "out=true	true	true"

echo secret >"$T/victim" && chmod 0600 "$T/victim"
now=$(date +%s)
for i in 0 1 2 3 4 5; do
	$U ln -s "$T/victim" "$T/pub/shark-flamegraph-$(date -d "@$((now + i))" +%Y%m%d-%H%M%S).svg"
done
SHARK_CLOUD_DIR=$T/pub run -e 'print(sharkcloud.senddata("flamegraph", { ["main;f"] = 3 }))'
check "sharkcloud writes a new name beside another user's symlink" rc=0 'out~-2\.svg$'
ok_if "the symlink's target is untouched" test "$(cat "$T/victim")" = secret

# --- /tmp/perf-PID.map planted by another user

TOP_FRAME='local c, top, max = {}, nil, 0
perf.on("cpu-clock", { callchain_u = 1, freq = 499 }, function(e) c[e.callchain] = (c[e.callchain] or 0) + 1 end)
shark.on_end(function() for k, v in pairs(c) do if v > max then top, max = k, v end end print((tostring(top):gsub("\n", ";"))) end)'

# jit_start: a root process running JIT-like code with no map; sets JPID, JADDR
jit_start() {
	"$PROGS/jitmap" 6000 nomap >"$T/jit" &
	JPID=$!
	for _ in $(seq 100); do [ -s "$T/jit" ] && break; sleep 0.05; done
	JADDR=$(cat "$T/jit")
}

jit_start
$U mkfifo "/tmp/perf-$JPID.map"
run -d 1 -p "$JPID" -e "$TOP_FRAME"
check "a FIFO as /tmp/perf-PID.map: -d still ends the run, samples still counted" rc=0 'out~^.+$'
rm -f "/tmp/perf-$JPID.map"; kill "$JPID"; wait "$JPID" 2>/dev/null

jit_start
$U sh -c "echo '$JADDR 40 spoofed_by_nobody' >/tmp/perf-$JPID.map"
run -d 1 -p "$JPID" -e "$TOP_FRAME"
check "a map written by another user does not name a root process's code" rc=0 'out~^.+$' '!out~spoofed'
rm -f "/tmp/perf-$JPID.map"; kill "$JPID"; wait "$JPID" 2>/dev/null

$U "$PROGS/jitmap" 4000 &
JPID=$!
sleep 0.3
run -d 1 -p "$JPID" -e "$TOP_FRAME"
check "a process's own map names its code (owner: the process's user)" rc=0 'out~^jitted_spin'
kill "$JPID" 2>/dev/null; wait "$JPID" 2>/dev/null
rm -f "/tmp/perf-$JPID.map"

# --- a template does not blind other tracers of its tracepoint

# getpgid(-1), a syscall no other test traces: another tracer's program
# returning 0 would hide it from perf stat as well
# (named for this run: counted by comm system-wide, as perf stat's child, and
# another suite running at the same time has its own)
HDN=hdn$$
cp "$PROGS/syscall_nr" "$T/$HDN"
TP=syscalls:sys_enter_getpgid
PSTAT="perf stat -x, -o $T/stat -e $TP $T/$HDN 121 5000"
run -c "$PSTAT" -e 'local c = bpf.count{ on = "'$TP'", by = "comm", pid = -1 }
shark.on_end(function() print(c["'$HDN'"]) end)'
check "bpf.count counts the workload's 5000 getpgid" rc=0 out=5000
ok_if "perf stat on the same tracepoint sees all 5000 too" grep -q "^5000,,$TP" "$T/stat"
run -c "$PSTAT" -e 'local c = bpf.latency{ from = "'$TP'", to = "syscalls:sys_exit_getpgid", pid = -1 }
shark.on_end(function() print(c:count()) end)'
ok_if "perf stat sees all 5000 beside bpf.latency" grep -q "^5000,,$TP" "$T/stat"
run -c "$PSTAT" -e 'local c = bpf.count{ on = "'$TP'", by = "comm", pid = -1, private = true }
shark.on_end(function() print(c["'$HDN'"]) end)'
check "private = true: the template still counts" rc=0 out=5000
ok_if "private = true hides the events from perf stat, as asked" grep -q "^0,,$TP" "$T/stat"

# --- every pid input gets shark -p's check

printf 'local o = require("shark.getopt").parse({ name = "tool", "pid" })\nprint(o.pid)\n' >"$T/tool.lua"
for v in 0 -5 1.5 nan 4294967297; do
	run "$T/tool.lua" -p "$v"
	check "getopt's -p $v is refused with shark -p's words" rc=2 "err~-p wants a process id, not '$v'" '!out~.'
done
run "$T/tool.lua" -p $$
check "getopt's -p PID is a number" rc=0 "out=$$"
run -p -5 -e 'print(1)'
check "shark -p -5 is refused" rc=2 "err~-p wants a process id, not '-5'"

# --- print_hist with inf and NaN; getopt numbers are finite

run -e 'local t = {} for i = 1, 60 do t["k" .. i] = i % 3 == 0 and 0 / 0 or i end
t.inf, t.ninf = 1 / 0, -1 / 0 shark.print_hist(t, { top = 3 }) shark.print_hist(t, { desc = true, top = 2 })'
check "print_hist sorts and draws inf and NaN values" rc=0 "out=key  value  distribution
k58     58 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ |
k59     59 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
inf    inf |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
key  value  distribution
inf    inf |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
k59     59 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|" quiet

printf 'local o = require("shark.getopt").parse({ name = "tool", { "m", "min", "N", "at least N", type = "number" } })\nprint(o.min)\n' >"$T/num.lua"
for v in nan inf -inf 1e400; do
	run "$T/num.lua" -m "$v"
	check "getopt type = number refuses $v" rc=2 "err~N wants a number, got '$v'"
done
run "$T/num.lua" -m 2.5
check "getopt type = number takes 2.5" rc=0 out=2.5

# --- -c: the command's status decoded and told; it dies with shark

P=$PROGS/pidsleep
run -c "$P $T/pid 10 0" -e 'shark.on_end(function() local t = shark.target() print(t.status, t.signal) end)'
check "-c: a command that succeeds: status 0, nothing said" rc=0 "out=0	nil" quiet
run -c "$P $T/pid 10 3" -e 'shark.on_end(function() local t = shark.target() print(t.status, t.signal) end)'
check "-c: a failing command: status 3 (not 768), said on stderr, shark's own status stays 0" rc=0 \
	"out=3	nil" "err~exited with status 3"
run -q -c "$P $T/pid 10 3" -e ''
check "-c: -q keeps the status quiet" rc=0 quiet
run -c "sh -c 'kill -9 \$\$'" -e 'shark.on_end(function() local t = shark.target() print(t.status, t.signal) end)'
check "-c: a command killed by a signal: status 137, signal 9" rc=0 "out=137	9" "err~was killed by signal 9"

rm -f "$T/pid"
"$SHARK" -c "$P $T/pid 30000" -e '' >/dev/null 2>&1 &
sp=$!
for _ in $(seq 100); do [ -s "$T/pid" ] && break; sleep 0.05; done
cpid=$(cat "$T/pid")
kill -9 "$sp"
wait "$sp" 2>/dev/null
for _ in $(seq 100); do [ -d "/proc/$cpid" ] || break; sleep 0.05; done
ok_if "-c: the command does not outlive a SIGKILLed shark" test -n "$cpid" -a ! -d "/proc/$cpid"

SHARK_NO_PIDFD=1 run -c "$P $T/pid 100 4" -e 'shark.on_end(function() print(shark.target().status) end)'
check "-c without pidfd_open (old kernels): the end of the command is seen" rc=0 out=4
sleep 0.4 &
sp=$!
SHARK_NO_PIDFD=1 run -p $sp -e 'shark.on_end(function() print("gone", shark.target().running) end)
set_interval(50, function() end)'
check "-p without pidfd_open: the run ends when the process exits" rc=0 "out=gone	false"
wait $sp 2>/dev/null

# --- tracepoint formats are checked against the record (captured formats, edited)

F=$T/tracefs
for e in raw_syscalls/sys_enter raw_syscalls/sys_exit syscalls/sys_enter_getpgid; do
	mkdir -p "$F/events/$e"
	cp "/sys/kernel/tracing/events/$e/id" "/sys/kernel/tracing/events/$e/format" "$F/events/$e/"
done
FMT=$F/events/syscalls/sys_enter_getpgid/format
cp "$FMT" "$T/format.orig"
# getpgid(-1): the pid argument's low 32 bits read as a __data_loc say 64 KiB at offset 65535
sed 's/field:pid_t pid;\toffset:16;\tsize:8;/field:__data_loc char[] pid;\toffset:16;\tsize:4;/' "$T/format.orig" >"$FMT"
SHARK_TRACEFS=$F run -c "$PROGS/syscall_nr 121 3" -e 'perf.on("syscalls:sys_enter_getpgid", function(e)
  print(e.raw.pid, e.raw.__syscall_nr) end)'
check "a __data_loc pointing past the record reads as nil, nothing else" rc=0 "out=nil	121
nil	121
nil	121"
sed 's/field:pid_t pid;\toffset:16;\tsize:8;/field:pid_t pid;\toffset:9000;\tsize:8;/' "$T/format.orig" >"$FMT"
SHARK_TRACEFS=$F run -c "$PROGS/syscall_nr 121 3" -e 'perf.on("syscalls:sys_enter_getpgid", function(e) print(e.raw.pid) end)'
check "a field past the largest record: the format is refused, saying which field" rc=1 \
	"err~malformed format of syscalls:sys_enter_getpgid: field 'pid' \(offset 9000, size 8\) lies past the largest record"
sed 's/field:pid_t pid;\toffset:16;\tsize:8;/field:__data_loc char[] pid;\toffset:16;\tsize:8;/' "$T/format.orig" >"$FMT"
SHARK_TRACEFS=$F run -c "$PROGS/syscall_nr 121 3" -e 'perf.on("syscalls:sys_enter_getpgid", function(e) print(e.raw.pid) end)'
check "a __data_loc of 8 bytes is refused" rc=1 "err~field 'pid' \(offset 16, size 8\) is a __data_loc that is not 4 bytes"

# --- messages

$U "$SHARK" -l 'sched:*' >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "tracefs mounted but unreadable is said so (not 'not mounted')" rc=1 \
	"err~tracefs is mounted at /sys/kernel/tracing but this user cannot read its events" '!err~not mounted'

echo 'not an ELF object' >"$T/junk.bpf.o"
run -e 'bpf.load("'"$T"'/junk.bpf.o")'
check "libbpf's error codes in words, not 'Unknown error 4001'" rc=1 \
	"err~^-e:1: bpf: cannot open the BPF object junk.bpf: BPF object format invalid" '!err~Unknown error'
# (the verifier walks a million instructions first: a slow machine gets 2 minutes)
timeout -s KILL 120 "$SHARK" -e 'bpf.load[[
SEC("tracepoint/syscalls/sys_enter_getpgid")
int big(void *ctx) { volatile u64 s = 0; for (int i = 0; i < 2000000; i++) s += i; return s & 1; }
]]' >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "a program too large for the verifier is called that, not ENOSPC" rc=1 \
	"err~rejected BPF program 'big' .*: the program is too large or too complex for the verifier" \
	'!err~No space left on device'
cp "$PROGS/probed" "$T/probed_stripped" && strip "$T/probed_stripped"
run -e 'local o = bpf.load[[
SEC("uprobe") int up(void *ctx) { return 0; }
]] o.progs.up:attach_uprobe{ binary = "'"$T"'/probed_stripped", func = "probed_add" }'
check "a uprobe by name on a stripped binary says it is stripped" rc=1 \
	"err~^-e:3: cannot attach 'up' to uprobe .*probed_stripped:probed_add: .*probed_stripped is stripped \(no symbol table\)" \
	'!err~No such file'
run -e 'local o = bpf.load[[
SEC("uprobe") int up(void *ctx) { return 0; }
]] o.progs.up:attach_uprobe{ binary = "'"$PROGS"'/probed", func = "no_such_fn" }'
check "a uprobe on a function the binary lacks names it" rc=1 "err~no function 'no_such_fn' in .*/probed"
run -e 'bpf.load("'"$T"'/missing/prog")'
check "a missing path given to bpf.load is not compiled as C" rc=1 "err~^-e:1: bpf.load: no such file: .*/missing/prog$" \
	'!err~does not compile'

# --- a binary replaced while it runs (mv new app): names come from the mapped image

cp "$PROGS/fpchain" "$T/app"
cp "$PROGS/funcs" "$T/new"
"$T/app" 6000 &
apid=$!
sleep 0.3
mv "$T/new" "$T/app"
run -d 1 -p "$apid" -e "$TOP_FRAME"
check "a binary replaced while it runs is symbolized from the running image" rc=0 'out~^leaf;mid;main;'
kill "$apid"; wait "$apid" 2>/dev/null

rm -rf "$T/pub"/* 2>/dev/null
done_testing
