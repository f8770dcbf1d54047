# SPDX-License-Identifier: GPL-2.0
# agent.sh - shark agent: its TOML config (refusals name file, line and key),
# jobs counting a known workload scraped by a real Prometheus, SIGHUP reloads
# that keep unchanged jobs, SIGTERM ending every job through its on_end,
# sandboxed jobs trying each way out, OTLP/HTTP decoded with OpenTelemetry's
# own protos through a collector outage, and profiles pushed to shark serve.
. "$(dirname "$0")/lib.bash"

JOBS=$TOP/tests/agent
AGENT_PIDS="PPID_PROM SPID" PPID_PROM="" SPID=""
. "$(dirname "$0")/agent_lib.bash"

# ---------------------------------------------------------------- config
cat >"$T/bad1.toml" <<'EOF'
[prometheus]
listen = "127.0.0.1:9"

[[job]]
name = "a"
script = "x.lua"
interval = "fast"
EOF
run agent --config "$T/bad1.toml"
check "a bad value: file, line and key" rc=1 "err~bad1\.toml:7: job\[1\]\.interval: expected a number of seconds"

printf '[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4318"\nprotcol = "HttpJson"\n' >"$T/bad2.toml"
run agent --config "$T/bad2.toml"
check "a misspelt key: file, line, key and the keys there are" rc=1 "err~bad2\.toml:4: otlp\.protcol: unknown key \(known: .*protocol"

printf '[daemon]\npid_file = "/tmp/x"\n\n[[job]]\nname = "a"\nscript = \n' >"$T/bad3.toml"
run agent --config "$T/bad3.toml"
check "a TOML syntax error: file and line from the parser" rc=1 "err~bad3\.toml:6: "

printf '[[job]]\nname = "a"\nscript = "a.lua"\n[[job]]\nname = "a"\nscript = "b.lua"\n' >"$T/bad4.toml"
run agent --config "$T/bad4.toml"
check "two jobs of one name" rc=1 "err~bad4\.toml:5: job\[2\]\.name: a job named \"a\" is already defined"

printf '[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4317/v1/metrics"\nprotocol = "Grpc"\n' >"$T/bad5.toml"
run agent --config "$T/bad5.toml"
check "a gRPC endpoint with a path: said why" rc=1 "err~bad5\.toml:3: otlp\.endpoint: protocol = \"Grpc\" takes http\[s\]://HOST\[:PORT\] without a path"

printf '[component]\npath = "x.wasm"\n' >"$T/bad6.toml"
run agent --config "$T/bad6.toml"
check "PSH's [component] with a wasm file: said why" rc=1 "err~bad6\.toml:2: component\.path: a WebAssembly component"

run agent --config "$T/missing.toml"
check "a missing config file" rc=1 "err~missing\.toml: cannot read"

run agent --bogus
check "a bad argument is a usage error" rc=2 "err~unknown argument '--bogus'"

# --------------------------------------------- jobs, Prometheus, on_end
MPORT=$(free_port)
held "$PROGS/getppid_n" 2345
cat >"$T/agent.toml" <<EOF
[prometheus]
listen = "127.0.0.1:$MPORT"

[[job]]
name = "count"
script = "$JOBS/count_pid.lua"
args = ["$WPID", "$T/count.done"]
interval = 0.2

[[job]]
name = "idle"
script = "$JOBS/idle.lua"
args = ["first"]

[[job]]
name = "syscalls"
script = "$JOBS/map_count.lua"
args = ["$WPID"]
interval = 0.2

[[job]]
name = "getppid_latency"
script = "template:latency"
args = ["from=syscalls:sys_enter_getppid", "to=syscalls:sys_exit_getppid", "pid=$WPID", "unit=ns"]
interval = 0.2
sandbox = true
[job.policy]
events = ["syscalls:sys_*_getppid"]
EOF
run agent --config "$T/agent.toml" --check
check "--check accepts a good config" rc=0 "out~agent\.toml: ok \(4 jobs\)"
start_agent "$T/agent.toml"
ok_if "the jobs attach and publish (the workload's counter is there)" \
	until_ok 20 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^workload_seen 1'"
# every job attached (its first snapshot came) before the workload runs
for j in count idle syscalls getppid_latency; do
	until_ok 30 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'shark_agent_job_up{job=\"$j\"} 1'"
	r=$?
	ok_if "job $j is up (attached) before the workload is released" test $r = 0
done
release
ok_if "/metrics counts exactly the workload's 2345 getppid() calls" \
	until_ok 20 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'workload_getppid_total{comm=\"getppid_n\"} 2345'"
metrics >"$T/m.txt"
ok_if "... its gap histogram holds 2344 gaps, cumulative to +Inf" \
	grep -qx 'workload_gap_ns_bucket{le="+Inf"} 2344' "$T/m.txt"
until_ok 20 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'workload_syscalls_total{syscall=\"getppid\"} 2345'"
r=$?
ok_if "a BPF map as metrics: the template's in-kernel count of getppid is 2345 too" test $r = 0
[ $r = 0 ] || { sed 's/^/#   log: /' "$T/agent.log"; metrics | grep -E 'syscalls|latency' | head -5 | sed 's/^/#   /'; }
until_ok 20 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'shark_getppid_latency_ns_count{key=\"all\"} 2345'"
r=$?
ok_if "template:latency, sandboxed: a histogram of the workload's 2345 getppid() latencies" test $r = 0
[ $r = 0 ] || { sed 's/^/#   log: /' "$T/agent.log"; metrics | grep -E 'latency_ns_(count|bucket)' | head -5 | sed 's/^/#   /'; }
ok_if "... and the agent's own series say the jobs run" \
	grep -qx 'shark_agent_job_up{job="idle"} 1' "$T/m.txt"
curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other" >"$T/code"
ok_if "another path is 404" test "$(cat "$T/code")" = 404

# a real Prometheus scrapes the agent
if command -v prometheus >/dev/null; then
	PPORT=$(free_port)
	cat >"$T/prom.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: shark
    static_configs:
      - targets: ["127.0.0.1:$MPORT"]
EOF
	prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
		--web.listen-address="127.0.0.1:$PPORT" >"$T/prom.log" 2>&1 &
	PPID_PROM=$!
	query() {
		curl -sf "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
			"$SHARK" -e 'local r = require("cjson").decode(io.read("*a"))
			  local v = r.data.result[1]; print(v and v.value[2] or "none")'
	}
	ok_if "Prometheus scrapes the agent: workload_getppid_total = 2345" \
		until_ok 30 bash -c "[ \"\$(curl -sf http://127.0.0.1:$PPORT/api/v1/query --data-urlencode 'query=workload_getppid_total' | grep -o '\"2345\"')\" = '\"2345\"' ]"
	ok_if "... and the histogram's count through histogram buckets: 2344" \
		test "$(query 'sum(workload_gap_ns_count)')" = 2344
	ok_if "... and the target is up with no scrape errors" test "$(query 'up{job="shark"}')" = 1
	kill -TERM $PPID_PROM
	wait $PPID_PROM 2>/dev/null
	PPID_PROM=""
else
	skip "Prometheus scrapes the agent" "prometheus is not installed (deps/install test)"
fi

# --------------------------------------------------------------- reload
count_pid=$(sed -n 's/.*job count: started, pid \([0-9]*\).*/\1/p' "$T/agent.log" | head -1)
sed -i 's/args = \["first"\]/args = ["second"]/' "$T/agent.toml"
cat >>"$T/agent.toml" <<EOF

[[job]]
name = "added"
script = "$JOBS/idle.lua"
args = ["added"]
EOF
kill -HUP "$APID"
ok_if "SIGHUP: an added job starts" \
	until_ok 20 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q 'idle_job_info{name=\"added\"} 1'"
ok_if "... a changed job restarts with its new arguments" \
	until_ok 20 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q 'idle_job_info{name=\"second\"} 1'"
ok_if "... an unchanged job keeps running (one start, same pid)" \
	test "$(grep -c 'job count: started' "$T/agent.log")" = 1 -a -d "/proc/$count_pid"
metrics >"$T/m.txt"
ok_if "... and keeps its counts" grep -qx 'workload_getppid_total{comm="getppid_n"} 2345' "$T/m.txt"
cp "$T/agent.toml" "$T/agent.good"
printf '[[job]]\nname = "x"\nscript = "y.lua"\nbogus = 1\n' >"$T/agent.toml"
kill -HUP "$APID"
ok_if "a reload with a bad config is refused, naming file, line and key" \
	until_ok 10 log_has "reload refused, keeping the running configuration: .*agent\.toml:4: job\[1\]\.bogus"
ok_if "... and the running jobs go on" \
	bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q 'idle_job_info{name=\"added\"} 1'"
cp "$T/agent.good" "$T/agent.toml"

# ---------------------------------------------------------------- SIGTERM
jobpids=$(pgrep -P "$APID" | tr '\n' ' ')
stop_agent
ok_if "SIGTERM: the agent exits 0" test "$RC" = 0
ok_if "... every job ran its on_end" grep -q "on_end ran" "$T/count.done"
ok_if "... and no job process is left" bash -c "for p in $jobpids; do [ -d /proc/\$p ] && exit 1; done; exit 0"

# ------------------------------------------------------------------ daemon
mkdir -p "$T/d"
cat >"$T/d/daemon.toml" <<EOF
[daemon]
pid_file = "$T/d/agent.pid"
stdout_file = "$T/d/out.log"
stderr_file = "$T/d/err.log"
working_directory = "/"

[[job]]
name = "idle"
script = "$JOBS/idle.lua"
EOF
(cd "$T/d" && "$SHARK" agent --config daemon.toml --daemon >"$T/out" 2>"$T/err" </dev/null)
RC=$?
check "--daemon: detaches and says its pid" rc=0 "out~^shark agent: daemon started, pid [0-9]+$"
dpid=$(sed -n 's/.*pid \([0-9]*\)$/\1/p' "$T/out")
ok_if "... writes the pid file [daemon] names" until_ok 20 bash -c "[ \"\$(cat '$T/d/agent.pid' 2>/dev/null)\" = '$dpid' ]"
ok_if "... runs in its own session, in working_directory, config found by its full path" \
	bash -c "[ \"\$(ps -o sid= -p $dpid | tr -d ' ')\" = $dpid ] && [ \"\$(readlink /proc/$dpid/cwd)\" = / ]"
ok_if "... logs to stderr_file" until_ok 20 grep -q "job idle: started" "$T/d/err.log"
kill -TERM "$dpid"
ok_if "... SIGTERM ends it and removes the pid file" until_ok 20 bash -c "[ ! -e '$T/d/agent.pid' ] && [ ! -d /proc/$dpid ]"

# ----------------------------------------------------------------- sandbox
MPORT=$(free_port)
{
	printf '[prometheus]\nlisten = "127.0.0.1:%s"\n' "$MPORT"
	printf '\n[[job]]\nname = "bystander"\nscript = "%s"\nargs = ["still here"]\nsandbox = true\n' "$JOBS/idle.lua"
	for rule in ffi io os_execute require_ffi debug bytecode getfenv event pid bpf_c; do
		printf '\n[[job]]\nname = "%s"\nscript = "%s"\nargs = ["%s"]\nsandbox = true\n' \
			"$rule" "$JOBS/escape.lua" "$rule"
		printf '[job.policy]\nevents = ["syscalls:sys_enter_getppid"]\npids = [%d]\n' $$
	done
	printf '\n[[job]]\nname = "memory"\nscript = "%s"\nargs = ["memory"]\nsandbox = true\n' "$JOBS/escape.lua"
	printf '[job.policy]\nmemory_mb = 64\n'
	printf '\n[[job]]\nname = "cpu"\nscript = "%s"\nargs = ["cpu"]\nsandbox = true\n' "$JOBS/escape.lua"
	printf '[job.policy]\ncpu_seconds = 1\n'
} >"$T/sandbox.toml"
start_agent "$T/sandbox.toml"
declare -A want=(
	[ffi]="sandbox: ffi: 'ffi' is not available"
	[io]="sandbox: io: 'io' is not available"
	[os_execute]="sandbox: os \(time, clock, date and difftime only\): os\.execute is not allowed"
	[require_ffi]="sandbox: require: module 'ffi' is not allowed"
	[debug]="sandbox: debug: 'debug' is not available"
	[bytecode]="sandbox: string\.dump: string\.dump is not allowed"
	[getfenv]="sandbox: getfenv: 'getfenv' is not available"
	[event]="sandbox: events: event 'sched:sched_switch' is not in the job's policy"
	[pid]="sandbox: pids: pid 1 is not in the job's policy"
	[bpf_c]="sandbox: bpf \(only the prebuilt templates; no BPF C in a sandbox\): bpf\.cdef is not allowed"
	[memory]="exceeded its memory \(policy memory_mb\)"
	[cpu]="exceeded its CPU time \(policy cpu_seconds\)"
)
for rule in ffi io os_execute require_ffi debug bytecode getfenv event pid bpf_c memory cpu; do
	ok_if "sandbox: $rule ends the job, naming the rule" \
		until_ok 30 log_has "job $rule: (broke its sandbox: .*)?${want[$rule]}"
done
ok_if "... no job that broke a rule is restarted" bash -c "! grep -q 'restarting' '$T/agent.log'"
ok_if "... and the other job keeps running" \
	bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q 'idle_job_info{name=\"still here\"} 1'"
stop_agent

# --------------------------------------------------------------------- OTLP
if [ -d "$TOP/tests/otlp/node_modules/protobufjs" ] && command -v node >/dev/null; then
	for proto in HttpBinary HttpJson; do
		rm -f "$T/otlp.jsonl"*
		rm -f "$T/recv.out" "$T/recv.err"
		node "$TOP/tests/otlp/receiver.js" "$T/otlp.jsonl" 2 >"$T/recv.out" 2>"$T/recv.err" &
		RPID=$!
		until_ok 20 grep -q listening "$T/recv.out"
		RPORT=$(sed -n 's/^listening //p' "$T/recv.out")
		held "$PROGS/getppid_n" 777
		cat >"$T/otlp.toml" <<EOF
[otlp]
enable = true
endpoint = "http://127.0.0.1:$RPORT"
protocol = "$proto"
interval = 0.5

[otlp.timeout]
secs = 2

[[job]]
name = "count"
script = "$JOBS/count_pid.lua"
args = ["$WPID"]
interval = 0.2
EOF
		start_agent "$T/otlp.toml"
		until_ok 20 bash -c "grep -q 'job count: started' '$T/agent.log'"
		sleep 1
		release
		until_ok 30 bash -c "[ \"\$(cat '$T/otlp.jsonl.refused' 2>/dev/null)\" = 2 ] && grep -q . '$T/otlp.jsonl'"
		r=$?
		ok_if "OTLP $proto: the collector's outage (two 503s) is retried after Retry-After" test $r = 0
		[ $r = 0 ] || sed 's/^/#   log: /' "$T/agent.log" "$T/recv.err" "$T/recv.out"
		ok_if "... OpenTelemetry's decoder reads a sum of exactly 777 for the workload" \
			until_ok 30 bash -c "grep -q '\"name\":\"workload_getppid_total\".*\"asInt\":\"777\"' '$T/otlp.jsonl'"
		ok_if "... with the comm attribute, cumulative and monotonic" \
			bash -c "grep '\"asInt\":\"777\"' '$T/otlp.jsonl' | head -1 | grep -q '\"aggregationTemporality\":2,\"isMonotonic\":true' && grep -q '\"key\":\"comm\",\"value\":{\"stringValue\":\"getppid_n\"}' '$T/otlp.jsonl'"
		ok_if "... the histogram has 776 gaps in explicit buckets" \
			bash -c "grep -q '\"name\":\"workload_gap_ns\",\"description\":\"Time between two calls.\",[^]]*\"histogram\":{\"dataPoints\":\[{[^]]*\"count\":\"776\"' '$T/otlp.jsonl'"
		ok_if "... the resource names the host and shark" \
			grep -q '"key":"service.name","value":{"stringValue":"shark-agent"}' "$T/otlp.jsonl"
		ok_if "... and nothing was undecodable" test ! -s "$T/otlp.jsonl.errors"
		stop_agent
		kill -TERM $RPID
		wait $RPID 2>/dev/null
		RPID=""
	done
else
	skip "OTLP export decoded by OpenTelemetry's protos" "tests/otlp/node_modules missing (make test runs npm ci)"
fi

# ------------------------------------------------- profiles to shark serve
SPORT=$(free_port)
TOKEN=agent-e2e-token
rm -f "$T/serve.out"
"$SHARK" serve --listen "127.0.0.1:$SPORT" --db "$T/serve.db" --token "$TOKEN" >"$T/serve.out" 2>&1 &
SPID=$!
until_ok 20 grep -q '^serving' "$T/serve.out"
MPORT=$(free_port)
cat >"$T/prof.toml" <<EOF
[prometheus]
listen = "127.0.0.1:$MPORT"

[profile]
hz = 99
interval = 1
upload = "http://127.0.0.1:$SPORT"
token = "$TOKEN"
directory = "$T/prof"
labels = { team = "e2e" }
EOF
mkdir -p "$T/prof"
start_agent "$T/prof.toml"
"$PROGS/fpchain" 3000 >/dev/null 2>&1 &
FPID=$!
ok_if "profiles: the profiler's pprofs reach shark serve, labelled with host, comm, pid and the config's" \
	until_ok 30 bash -c "curl -sf 'http://127.0.0.1:$SPORT/api/profiles' | grep -q '\"team\":\"e2e\"'"
ok_if "... the busy test program has its own profile, labelled with its pid" \
	until_ok 30 bash -c "curl -sf 'http://127.0.0.1:$SPORT/api/profiles' | grep -q '\"pid\":\"$FPID\"'"
ok_if "... and pprof files in the folder, read by go tool pprof" \
	bash -c "f=\$(ls '$T/prof'/*.pb.gz | head -1) && go tool pprof -raw \"\$f\" >/dev/null 2>&1"
wait $FPID 2>/dev/null
kill -TERM $SPID
wait $SPID 2>/dev/null
SPID=""
ok_if "shark serve stopped: the agent queues and retries" until_ok 30 log_has "profiles: .*retrying in"
ok_if "... and queues at least one profile meanwhile" \
	until_ok 30 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -Eq '^shark_agent_queue_length\{sink=\"profiles\"\} [1-9]'"
rm -f "$T/serve.out"
"$SHARK" serve --listen "127.0.0.1:$SPORT" --db "$T/serve.db" --token "$TOKEN" >"$T/serve.out" 2>&1 &
SPID=$!
until_ok 20 grep -q '^serving' "$T/serve.out"
ok_if "... serve restarted: the queue drains into it" until_ok 30 log_has "profiles: delivering again"
metrics >"$T/m.txt"
sent=$(sed -n 's/^shark_agent_sent_total{sink="profiles"} //p' "$T/m.txt")
ok_if "... none dropped" grep -qx 'shark_agent_dropped_total{sink="profiles"} 0' "$T/m.txt"
stored=$(curl -sf "http://127.0.0.1:$SPORT/api/profiles" | grep -o '"id":' | wc -l)
ok_if "... every profile the agent sent is stored ($sent sent, $stored stored)" \
	test -n "$sent" -a "$stored" -ge "$sent" -a "$sent" -gt 0
stop_agent
kill -TERM $SPID
wait $SPID 2>/dev/null
SPID=""

done_testing
