# SPDX-License-Identifier: GPL-2.0
# bundle.sh - shark bundle: one executable per script, run inside a bare
# Debian root (debootstrap minbase: no clang, libbpf, LuaJIT or shark), with
# the same output as under ./shark; damaged bundles and missing capabilities
# give clear messages.
. "$(dirname "$0")/lib.bash"

B=$TOP/tests/bundle
ROOT=$(bash "$TOP/tests/minbase" "$OUT/minbase") || { echo "Bail out! cannot make the minbase root"; exit 1; }
rm -rf "$ROOT/t" && mkdir -p "$ROOT/t"
cp "$PROGS/getppid_n" "$PROGS/probed" "$ROOT/t/"

# in_root CMD...: run CMD in the bare root, with /proc and /sys of its own
# (tracefs is not mounted there: shark mounts it), in a private mount namespace
in_root() {
	timeout -s KILL 30 unshare -m sh -c 'R=$1; shift; mount -t proc proc "$R/proc" && mount -t sysfs sysfs "$R/sys" &&
		exec chroot "$R" "$@"' sh "$ROOT" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
}

ok_if "the bare root has no clang, luajit, libbpf or shark" \
	test -z "$(chroot "$ROOT" sh -c 'command -v clang luajit shark bpftool; ls /usr/lib/*/libbpf* /usr/lib/*/libluajit*' 2>/dev/null)"

for s in perf_getppid cdef_getppid template_getppid usdt_ticks; do
	run bundle "$B/$s.lua" -o "$ROOT/t/$s"
	check "bundle $s.lua" rc=0 "err~wrote $ROOT/t/$s, [0-9.]+ MB: runtime"
done
size=$(stat -c %s "$ROOT/t/cdef_getppid")
echo "# bundle of cdef_getppid.lua: $size bytes"
if grep -q -a -m1 AddressSanitizer "$SHARK"; then
	skip "a bundle is at most 10 MB" "this shark is the ASan build (make asan): its size is not the release's"
else
	# the budget was 5 MB until unwinding, TLS, SQLite, journals and TOML came in (8.6 MB)
	ok_if "a bundle is at most 10 MB ($size bytes)" test "$size" -le 10485760
fi
ok_if "ldd of a bundle shows glibc only" \
	test -z "$(ldd "$ROOT/t/cdef_getppid" | grep -Ev 'linux-vdso|libc\.so|libm\.so|ld-linux')"

for s in perf_getppid cdef_getppid template_getppid; do
	run "$B/$s.lua" "$PROGS/getppid_n" 1234
	want=$(cat "$T/out")
	in_root "/t/$s" /t/getppid_n 1234
	check "$s in the bare root: the same exact count as under ./shark" rc=0 "out=$want" "out~ getppid 1234$"
done
run "$B/usdt_ticks.lua" "$PROGS/probed" 300
want=$(cat "$T/out")
in_root /t/usdt_ticks /t/probed 300
check "USDT and uprobe bundle in the bare root: as under ./shark" rc=0 "out=$want" \
	"out=usdt ticks 300, probed_add calls 300"

# samples, bundled and run in the bare root: start the tool, wait until it
# says it is ready (READY, a regex on its stdout or stderr), run the workload
# there, stop the tool with Ctrl-C
# in_root_traced READY 'WORKLOAD' TOOL ARGS...
in_root_traced() {
	local ready=$1 work=$2
	shift 2
	in_root sh -c 'ready=$1 work=$2; shift 2
		"$@" >/t/tool.out 2>/t/tool.err & pid=$!
		i=0; until grep -Eq "$ready" /t/tool.out /t/tool.err || [ $i -ge 200 ]; do sleep 0.05; i=$((i + 1)); done
		sh -c "$work" >/dev/null 2>&1; sleep 0.3; kill -INT $pid; wait $pid; rc=$?
		cat /t/tool.out; cat /t/tool.err >&2; exit $rc' sh "$ready" "$work" "$@"
}
for s in sched_switch io_sys_write_hist funclatency bashreadline; do
	run bundle "$TOP/samples/$s.lua" -o "$ROOT/t/$s"
	check "bundle samples/$s.lua" rc=0
done
run bundle "$TOP/samples/phpcalls.lua" -o "$T/phpcalls"
check "bundle samples/phpcalls.lua: its own BPF C and that of the ucalls module it requires" rc=0 \
	"err~, 2 BPF objects "
cp "$PROGS/funcs" "$ROOT/t/"
in_root_traced ' -> ' '/t/getppid_n 5' /t/sched_switch
check "sched_switch (perf.on only) bundled, in the bare root: the exec of the workload, switches" rc=0 \
	'out~^exec /t/getppid_n \(pid [0-9]+\)$' 'out~^[^ ]+ -> [^ ]+$'
in_root_traced '^tracing' 'cp /bin/dd /t/ddhist && /t/ddhist if=/dev/zero of=/dev/null bs=100 count=77 status=none' \
	/t/io_sys_write_hist -c ddhist
check "io_sys_write_hist (bpf.load of BPF C) bundled, in the bare root: ddhist's 77 writes in [64, 128)" rc=0 \
	'out~^\[64, 128\) +77 \|@+\|$'
in_root_traced '^Tracing 1 functions' '/t/funcs nap 3 20' /t/funclatency -m /t/funcs:work_nap
check "funclatency (bpf.latency template on a uprobe pair) bundled: 3 calls of 20 ms, none under 16 ms" rc=0 \
	'out~^\[16, 32\) +[0-9]+ \|' 'out~^count: 3$'
ok_if "... all 3 at 16 ms or more ($(hist_at_least 16))" [ "$(hist_at_least 16)" = 3 ]
in_root_traced '^TIME +PID +COMMAND' 'printf "echo typed-in-root\nexit\n" | bash --norc -i' /t/bashreadline
check "bashreadline (uretprobe on the root's own bash) bundled: the typed line" rc=0 \
	'out~^[0-9:]{8} +[0-9]+ +echo typed-in-root$'
ok_if "running the bundles compiled nothing and cached nothing" test ! -e "$ROOT/root/.cache/shark"

in_root /t/usdt_ticks --help
check "--help shows the script's usage" rc=0 "out~^usage: usdt_ticks \[options\] PROG N" "out~USDT ticks"
in_root /t/perf_getppid --help
check "--help of a script without options: its header comment" rc=0 \
	"out~^perf_getppid.lua - getppid\(\) calls of a workload" '!out~SPDX'
in_root /t/cdef_getppid --shark-version
check "--shark-version says what the bundle was made from" rc=0 \
	"out~^cdef_getppid: a bundle of cdef_getppid.lua, made [0-9T:-]+Z with shark [0-9.]+ \(LuaJIT"
in_root /t/cdef_getppid --shark-verbose --shark-verbose /t/getppid_n 3
check "--shark-verbose twice: libbpf's messages, and the script's output" rc=0 "out=cdef getppid 3" \
	"err~^libbpf: loading object 'cdef_getppid' from buffer" '!err~libbpf: libbpf:'
in_root /t/usdt_ticks -z
check "the script's own usage errors" rc=2 "err~^usdt_ticks: unknown option -z"
run bundle "$B/usdt_ticks.lua" -o "$T/ut" --name ticker
"$T/ut" -h >"$T/out" 2>"$T/err"; RC=$?
check "--name: the name the tool's usage gives" rc=0 "out~^usage: ticker \[options\] PROG N"

# damaged bundles: a clear message and exit 1, never a crash
# (its program headers are its last bytes: the kernel refuses to exec it
# rather than map a file whose end is missing and crash)
for cut in 100 400000 2000000; do
	cp "$ROOT/t/template_getppid" "$T/tool"
	truncate -s -$cut "$T/tool"
	timeout 10 bash -c '"$1"' sh "$T/tool" >"$T/out" 2>"$T/err"; RC=$?
	check "a bundle truncated by $cut bytes is refused by exec, no crash" rc=126 "err~Exec format error"
done
cp "$ROOT/t/template_getppid" "$T/tool"
at=$(grep -boa 'with the compiler-free bpf.count' "$T/tool" | tail -1 | cut -d: -f1)
printf 'X' | dd of="$T/tool" bs=1 seek="$at" conv=notrunc 2>/dev/null
timeout 10 "$T/tool" >"$T/out" 2>"$T/err"; RC=$?
check "a modified bundle fails its checksum" rc=1 "err~do not match its checksum"
cp "$ROOT/t/template_getppid" "$T/tool"
echo junk >>"$T/tool"
timeout 10 "$T/tool" >"$T/out" 2>"$T/err"; RC=$?
check "a bundle with bytes appended says so" rc=1 "err~this bundle is damaged"

# what the target lacks, said exactly
timeout -s KILL 30 unshare -m sh -c 'R=$1; mount -t proc proc "$R/proc" && mount -t sysfs sysfs "$R/sys" &&
	mount -t tmpfs none "$R/sys/kernel/btf" && chroot "$R" /t/cdef_getppid /t/getppid_n 10' sh "$ROOT" \
	>"$T/out" 2>"$T/err" </dev/null
RC=$?
check "no BTF on the target: the BPF bundle says so" rc=1 "err~this kernel has no BTF \(/sys/kernel/btf/vmlinux is missing"
timeout -s KILL 30 unshare -m sh -c 'R=$1; mount -t proc proc "$R/proc" && mount -t sysfs sysfs "$R/sys" &&
	mount -t tmpfs none "$R/sys/kernel/btf" && chroot "$R" /t/perf_getppid /t/getppid_n 10' sh "$ROOT" \
	>"$T/out" 2>"$T/err" </dev/null
RC=$?
check "no BTF: a perf-only bundle still runs" rc=0 "out=perf getppid 10"
timeout -s KILL 30 unshare -m sh -c 'R=$1; mount -t proc proc "$R/proc" && mount -t sysfs sysfs "$R/sys" &&
	mount -t tmpfs none "$R/sys/kernel" && chroot "$R" /t/perf_getppid /t/getppid_n 10' sh "$ROOT" \
	>"$T/out" 2>"$T/err" </dev/null
RC=$?
check "no tracefs on the target (and no place to mount it): the bundle says so" rc=1 \
	"err~^perf_getppid.lua:7: perf.on\\(\"syscalls:sys_enter_getppid\"\\): tracefs is not mounted and cannot be"
in_root setpriv --reuid=65534 --regid=65534 --clear-groups /t/template_getppid /t/getppid_n 10
check "not root: the bundle says what it needs" rc=1 \
	"err~loading BPF programs needs root \(or the capabilities CAP_BPF and CAP_PERFMON\): shark runs as uid 65534"
in_root setpriv --reuid=65534 --regid=65534 --clear-groups /t/perf_getppid /t/getppid_n 10
check "not root, perf events" rc=1 "err~tracing needs root \(or the capabilities CAP_PERFMON\)"

# every sample bundles (its BPF C compiled now), and the bundle answers -h
fails=""
for f in "$TOP"/samples/*.lua; do
	name=$(basename "$f" .lua)
	if ! "$SHARK" -q bundle "$f" -o "$T/b-$name" 2>"$T/berr" || ! "$T/b-$name" -h 2>&1 | grep -q "^usage: b-$name"; then
		fails="$fails $name"
		sed 's/^/# /' "$T/berr"
	fi
	rm -f "$T/b-$name"
done
ok_if "every sample bundles, and its bundle prints its usage (failed:${fails:- none})" test -z "$fails"

# a .bpf.c file next to the script, named by a literal: compiled into the bundle
mkdir -p "$T/fileprog"
printf '%s\n' 'SEC("tracepoint/syscalls/sys_enter_getppid") int on_getppid(void *ctx) { return 1; }' \
	>"$T/fileprog/getppid.bpf.c"
printf '%s\n' 'local obj = bpf.load("getppid.bpf.c")' 'print(obj.progs.on_getppid ~= nil)' 'shark.exit()' \
	>"$T/fileprog/tool.lua"
run bundle "$T/fileprog/tool.lua" -o "$T/filetool"
check "bundle a script that loads a .bpf.c file of its folder" rc=0 "err~1 BPF object"
(cd / && timeout 20 "$T/filetool") >"$T/out" 2>"$T/err"; RC=$?
check "... the bundle loads it from inside itself, run from anywhere" rc=0 out=true

# bundle-time failures
cp "$B/cdef_getppid.lua" "$B/workload.lua" "$T/"
sed -i 's/max_entries, 4096/max_entries, 4095/' "$T/cdef_getppid.lua"   # new text: not in any cache
SHARK_CACHE=$T/cache SHARK_CLANG=/nonexistent run bundle "$T/cdef_getppid.lua" -o "$T/nope"
check "bundling BPF C without clang fails at bundle time, naming the source line" rc=1 \
	"err~cdef_getppid.lua:6: compiling BPF C needs clang, and '/nonexistent' was not found"
ok_if "... and writes no bundle" test ! -e "$T/nope"
cat >"$T/dyn.lua" <<'LUA'
bpf.cdef(table.concat({ 'SEC("tracepoint/sched/sched_switch")', "int x(void *c) { return 1; }" }, "\n"))
LUA
run bundle "$T/dyn.lua" -o "$T/dyn"
"$T/dyn" >"$T/out" 2>"$T/err"; RC=$?
check "BPF C built at run time: the bundle names the limit" rc=1 \
	"err~^dyn.lua:1: bpf: this bundle holds no compiled object for this BPF C: only text written as a string literal"
# a script that reads no arguments: its bundle takes shark's -c/-p/-d/-o/-q,
# and an argument nobody would read is an error
run bundle "$B/target_getppid.lua" -o "$ROOT/t/target_getppid"
check "bundle target_getppid.lua (no options of its own)" rc=0
in_root /t/target_getppid -c "/t/getppid_n 42"
check "a bundle without options takes shark's -c: the command's 42 getppid" rc=0 "out=target getppid 42"
in_root /t/target_getppid -q -o /t/out.txt -c "/t/getppid_n 7"
check "... and -o FILE, -q" rc=0 'out=' && ok_if "-o wrote the file" grep -qx "target getppid 7" "$ROOT/t/out.txt"
sleep 30 & SL=$!
in_root /t/target_getppid -p "$SL" -d 0.3
kill "$SL"; wait "$SL" 2>/dev/null
check "... and -p PID -d SECONDS: the run ends after -d" rc=0 "out=target getppid none"
in_root /t/target_getppid -p 999999
check "... -p of no process: the error, exit 1" rc=1 "err~^target_getppid: cannot trace process 999999: no such process$"
in_root /t/target_getppid -d 2 extra
check "... an argument nobody reads: a usage error, exit 2" rc=2 \
	"err~^target_getppid: unexpected argument 'extra': this tool takes shark's options only \(-d SECONDS"

run bundle
check "shark bundle without a script: usage" rc=2 "err~^shark bundle: expected script.lua"
run bundle /nonexistent.lua
check "shark bundle of a missing file" rc=1 "err~^shark bundle: cannot read /nonexistent.lua"

done_testing
