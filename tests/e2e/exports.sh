# SPDX-License-Identifier: GPL-2.0
# exports.sh - stack profiles of real runs exported as pprof (read by the real
# `go tool pprof`), speedscope JSON, SVG and folded; -f/-o of profile,
# offcputime and stackcount.
. "$(dirname "$0")/lib.bash"

S=$TOP/samples

have_go=1
command -v go >/dev/null || have_go=0
GO_SKIP="golang-go is not installed (deps/install test)"
export GOCACHE=${GOCACHE:-$T/gocache} HOME=${HOME:-$T}

# --- profile -f pprof: shares splits its CPU 1:2 between spin_one and spin_two by work

run -c "$PROGS/shares 40" "$S/profile.lua" -F 499 -f pprof -o "$T/cpu.pb.gz"
check "profile -f pprof -o FILE: written, samples told on stderr" rc=0 \
	"err~cpu.pb.gz: [0-9]+ samples in [0-9]+ stacks" "file:$T/cpu.pb.gz~."
if [ "$have_go" = 1 ]; then
	go tool pprof -top "$T/cpu.pb.gz" >"$T/top" 2>"$T/top.err"
	cp "$T/top" "$T/out"; cp "$T/top.err" "$T/err"; RC=0
	check "go tool pprof -top reads it: the binary, a CPU profile, spin_one and spin_two listed" rc=0 \
		'out~^File: shares$' 'out~^Type: cpu$' 'out~ spin_two$' 'out~ spin_one$' 'out~ main$'
	two=$(awk '$NF == "spin_two" { sub("%", "", $2); print int($2) }' "$T/top")
	one=$(awk '$NF == "spin_one" { sub("%", "", $2); print int($2) }' "$T/top")
	ok_if "go tool pprof: spin_two has about two thirds of the samples (${two:-?}% flat)" \
		[ "${two:-0}" -ge 52 -a "${two:-0}" -le 80 ]
	ok_if "go tool pprof: spin_one about one third (${one:-?}% flat)" [ "${one:-0}" -ge 20 -a "${one:-0}" -le 45 ]
	go tool pprof -raw "$T/cpu.pb.gz" >"$T/out" 2>"$T/err"; RC=$?
	id=$(readelf -n "$PROGS/shares" 2>/dev/null | awk '/Build ID/ { print $3 }')
	check "go tool pprof -raw: the mappings with their files and build-ids" rc=0 \
		"out~$PROGS/shares ${id:-no-build-id}" 'out~libc\.so\.6 [0-9a-f]{40}'
else
	skip "go tool pprof -top reads it" "$GO_SKIP"
	skip "go tool pprof: shares" "$GO_SKIP"
	skip "go tool pprof: shares" "$GO_SKIP"
	skip "go tool pprof -raw: mappings" "$GO_SKIP"
fi
# shark reads its own pprof back: the same samples as go tool pprof saw
run -e 'local f = assert(io.open(shark.args[1], "rb")); local s = assert(require("shark.pprof").decode(f:read("*a")))
  local n = {}; for _, st in ipairs(s.stacks) do local leaf = s.frames[st[#st]].name; n[leaf] = (n[leaf] or 0) + st.count end
  print(s.sample_type, s.unit, s.period_type, s.period, (n.spin_one or 0) + (n.spin_two or 0) > 0)' "$T/cpu.pb.gz"
check "pprof decoded by shark: samples/count, cpu period 1/499 s, the spin frames" rc=0 \
	'out=samples	count	cpu	2004008	true'

# --- speedscope from a real run, checked against the format's required fields

run -c "$PROGS/fpchain 300" "$S/profile.lua" -F 199 -f speedscope -o "$T/cpu.speedscope.json"
RC=0
python3 - "$T/cpu.speedscope.json" >"$T/out" 2>"$T/err" <<'EOF' || RC=$?
import json, sys
d = json.load(open(sys.argv[1]))
assert d["$schema"] == "https://www.speedscope.app/file-format-schema.json", "schema"
frames = d["shared"]["frames"]
assert all(isinstance(f["name"], str) for f in frames), "frame names"
p = d["profiles"][0]
for k in ("type", "name", "unit", "startValue", "endValue", "samples", "weights"):
    assert k in p, "missing " + k
assert p["type"] == "sampled" and p["unit"] == "none", "sampled, unit none"
assert len(p["samples"]) == len(p["weights"]) > 0, "a weight per sample"
assert all(0 <= i < len(frames) for s in p["samples"] for i in s), "indices in range"
assert p["endValue"] == sum(p["weights"]), "endValue is the total"
stacks = [";".join(frames[i]["name"] for i in s) for s in p["samples"]]
print("\n".join(stacks))
EOF
check "profile -f speedscope: \$schema, shared.frames, a sampled profile with every required field" rc=0 \
	'out~^fpchain;.*;main;mid;leaf$' quiet

# --- stackcount -f pprof: exact counts survive the trip

run -c "$PROGS/getppid_fp 1000" "$S/stackcount.lua" syscalls:sys_enter_getppid -U -f pprof -o "$T/getppid.pb.gz"
check "stackcount -f pprof -o FILE" rc=0 "file:$T/getppid.pb.gz~."
if [ "$have_go" = 1 ]; then
	go tool pprof -top "$T/getppid.pb.gz" >"$T/out" 2>"$T/err"; RC=$?
	check "go tool pprof -top: exactly 1000 getppid events, all in ask_parent <- main" rc=0 \
		'out~^Type: events$' 'out~accounting for 1000, 100% of 1000 total' \
		'out~^ +1000 +100% +100% +1000 +100% +ask_parent$' 'out~^ +0 +0% +100% +1000 +100% +main$'
else
	skip "go tool pprof -top: exactly 1000 getppid events" "$GO_SKIP"
fi
run -c "$PROGS/getppid_n 300" "$S/stackcount.lua" syscalls:sys_enter_getppid -K -f pprof -o "$T/k.pb.gz"
if [ "$have_go" = 1 ]; then
	go tool pprof -raw "$T/k.pb.gz" >"$T/out" 2>"$T/err"; RC=$?
	hex40='[0-9a-f]{40}'
	kid=$(od -An -tx1 -v /sys/kernel/notes 2>/dev/null | tr -d ' \n' | grep -o '474e5500[0-9a-f]*' | cut -c9-48)
	check "stackcount -K -f pprof: kernel frames in the [kernel.kallsyms] mapping, with the kernel's build-id" \
		rc=0 "out~\\[kernel\\.kallsyms\\] ${kid:-$hex40}" 'out~do_syscall_64'
else
	skip "stackcount -K -f pprof: kernel frames" "$GO_SKIP"
fi

# --- offcputime -f svg / folded -o

run -c "$PROGS/pidsleep $T/pid 50" "$S/offcputime.lua" -f svg -o "$T/off.svg" -m 10000
check "offcputime -f svg -o FILE: a flame graph of the sleep, in microseconds" rc=0 \
	"file:$T/off.svg~<g data-name=\"pidsleep\"" "file:$T/off.svg~<title>do_nanosleep \\([0-9]+ microseconds" \
	"file:$T/off.svg~Off-CPU time"
run -c "$PROGS/pidsleep $T/pid 50" "$S/offcputime.lua" -f folded -o "$T/off.folded" -m 10000
check "offcputime -f folded -o FILE: the folded line in the file, nothing on stdout" rc=0 out= \
	"file:$T/off.folded~^pidsleep;([^;]+;)*do_nanosleep;.* [0-9]+$"

# --- -j through the histogram shape

run -c "$PROGS/fpchain 200" "$S/cpudist.lua" -j
RC2=$RC
python3 - "$T/out" >"$T/out2" 2>&1 <<'EOF' || RC2=1
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
h = json.loads(lines[0])
assert h["kind"] == "log2" and h["unit"] == "us", h
b = h["buckets"]
assert sum(x["count"] for x in b) == h["total"] > 0, "total"
assert all(x["hi"] == 2 * x["lo"] or x["lo"] < 2 for x in b), "log2 bounds"
assert all(b[i]["hi"] == b[i + 1]["lo"] for i in range(len(b) - 1)), "contiguous"
print("ok")
EOF
RC=$RC2; cp "$T/out2" "$T/out"
check "cpudist -j: one JSON histogram (kind, unit, total = the sum of contiguous [lo, hi) buckets)" rc=0 'out=ok'
run -c "$PROGS/fpchain 200" "$S/cpudist.lua" -j -P
check "cpudist -j -P: a JSON line per process, its pid as key" rc=0 'out~^\{.*"key":[0-9]+' 'out~"kind":"log2"'

# (on a busy machine a preemption can keep a task off CPU over 10 ms: 200 ms never)
run -c "$PROGS/pidsleep $T/pid 300" "$S/offcputime.lua" -f pprof -o "$T/off.pb.gz" -m 200000
if [ "$have_go" = 1 ]; then
	go tool pprof -top "$T/off.pb.gz" >"$T/out" 2>"$T/err"; RC=$?
	check "offcputime -f pprof: go tool pprof reads off-CPU time in microseconds, the sleep's kernel frames" rc=0 \
		'out~^Type: offcpu$' 'out~ms +100% +__schedule$' 'out~ms +100% +do_nanosleep$'
else
	skip "offcputime -f pprof: go tool pprof reads it" "$GO_SKIP"
fi

# --- -j through the rows shape (shark.table): JSON lines of the same columns

run -c "sh -c 'sleep 5 & kill -USR1 \$!; wait'" "$S/killsnoop.lua" -j
check "killsnoop -j: a JSON line of the kill: pid, comm, sig, signal, tpid, result" rc=0 \
	'out~^\{.*"signal":"SIGUSR1"' 'out~"sig":10[,}]' 'out~"result":0[,}]' 'out~"comm":"sh"' '!out~^TIME'
run -c "sh -c 'sleep 5 & kill -USR1 \$!; wait'" "$S/sigsnoop.lua" -j
check "sigsnoop -j: JSON lines, SIGUSR1 delivered" rc=0 'out~^\{.*"signal":"SIGUSR1"' 'out~"result":"delivered"' \
	'!out~^TIME'
run_in 'echo shark-json-typed
exit
' -c "bash --norc -i" "$S/bashreadline.lua" -j
check "bashreadline -j: the typed lines as JSON with pid and comm" rc=0 \
	'out~^\{.*"command":"echo shark-json-typed"' 'out~"comm":"bash"' '!out~^TIME'

# --- flamediff: a differential flame graph of two profiles

printf 'main;a 10\nmain;b 10\nmain;c 10\n' >"$T/before.folded"
printf 'main;a 30\nmain;b 5\nmain;c 15\n' >"$T/after.folded"
run "$S/flamediff.lua" "$T/before.folded" "$T/after.folded" -o "$T/diff.svg"
check "flamediff of two known profiles: a grew (full red), b shrank (blue), main unchanged (near white)" rc=0 \
	"file:$T/diff.svg~data-name=\"a\" [^>]*data-fill=\"rgb\\(178,24,43\\)\" data-delta=\"26\\.66" \
	"file:$T/diff.svg~data-name=\"b\" [^>]*data-fill=\"rgb\\(60,120,181\\)\" data-delta=\"-23\\.33" \
	"file:$T/diff.svg~data-name=\"main\" [^>]*data-fill=\"rgb\\(247,247,247\\)\" data-delta=\"0\\.000000\""
if command -v xmllint >/dev/null; then
	ok_if "flamediff: well-formed XML" xmllint --noout "$T/diff.svg"
else
	skip "flamediff: well-formed XML" "xmllint is not installed"
fi
run "$S/flamediff.lua" "$T/cpu.pb.gz" "$T/cpu.pb.gz"
check "flamediff of a real pprof with itself: every frame unchanged" rc=0 'out~data-name="spin_two"' \
	'!out~data-delta="-?[0-9]*\.0*[1-9]' 'out~</svg>'
printf 'main;a\n' >"$T/bad.folded"
run "$S/flamediff.lua" "$T/bad.folded" "$T/after.folded"
check "flamediff of a malformed file: which file, which line, exit 1" rc=1 \
	"err~bad.folded: folded stacks: line 1: expected 'frame;frame;... COUNT', got 'main;a'"

# --- keyed reports as JSON: softirqs totals (rows shape) and histograms (hist shape)

cat >"$T/udp.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
for _ in range(200):
    s.sendto(b"x", s.getsockname())
    s.recv(16)
PY
run -c "python3 $T/udp.py" "$S/softirqs.lua" -C -j
check "softirqs -C -j: a JSON line per vector, net_rx counted for the 200 datagrams" rc=0 \
	'out~^\{.*"softirq":"net_rx"' '!out~^SOFTIRQ'
ok_if "softirqs -C -j: net_rx >= 200" python3 -c 'import json, sys
n = [json.loads(l)["total_count"] for l in open(sys.argv[1]) if json.loads(l)["softirq"] == "net_rx"]
sys.exit(not (n and n[0] >= 200))' "$T/out"
run -c "python3 $T/udp.py" "$S/softirqs.lua" -D -N -j
check "softirqs -D -N -j: a JSON histogram per vector, in ns, its key beside" rc=0 \
	'out~^\{.*"key":"net_rx"' 'out~"unit":"nsecs"' 'out~"kind":"log2"' '!out~^softirq ='

# --- bad options

run "$S/profile.lua" -f png
check "profile -f png: a usage error naming the formats" rc=2 "err~'png' is not one of folded, svg, pprof, speedscope"
run -c "$PROGS/fpchain 100" "$S/profile.lua" -f folded -o /nonexistent/dir/x
check "profile -o to a folder that does not exist: the reason, exit 1" rc=1 \
	'err~cannot write /nonexistent/dir/x: No such file or directory'

done_testing
