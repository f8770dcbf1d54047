# SPDX-License-Identifier: GPL-2.0
# otlp_grpc.sh - shark agent's OTLP/gRPC export ([otlp] protocol = "Grpc",
# HTTP/2 by nghttp2) to a real gRPC server (@grpc/grpc-js,
# tests/otlp/grpc_receiver.js) whose deserializers are OpenTelemetry's
# generated message types (metrics) and the strict v1.5.0 decoder
# (profiles): a known workload's 2345 getppid() calls arrive exactly through
# two UNAVAILABLE answers (retried, nothing dropped); INVALID_ARGUMENT and a
# RESOURCE_EXHAUSTED without RetryInfo drop the request, counted and logged
# with the status and message, one with RetryInfo is retried after its
# delay; TLS (ALPN h2) against a CA the test makes, and a wrong CA refused;
# plain gRPC off loopback refused by the config check.
. "$(dirname "$0")/lib.bash"

JOBS=$TOP/tests/agent
. "$(dirname "$0")/agent_lib.bash"
# config ENDPOINT [EXTRA]: the agent's config counting the held workload
config() {
	MPORT=$(free_port)
	cat >"$T/agent.toml" <<EOF
[prometheus]
listen = "127.0.0.1:$MPORT"

[otlp]
enable = true
endpoint = "$1"
protocol = "Grpc"
interval = 0.5
headers = { "X-Shark-Test" = "grpc" }
${2:-}

[otlp.timeout]
secs = 2

[[job]]
name = "count"
script = "$JOBS/count_pid.lua"
args = ["$WPID"]
interval = 0.2
EOF
}
dump() {
	sed "s/^/#   log: /" "$T/agent.log" "$T/recv.err" "$T/otlp.jsonl.errors" 2>/dev/null | tail -30
	grep -o "workload_getppid_total[^]]*" "$T/otlp.jsonl" 2>/dev/null | tail -2 | cut -c1-400 | sed "s/^/#   got: /"
}
# the workload's counter as OpenTelemetry's decoder read it
has_2345() { grep -q '"name":"workload_getppid_total".*"asInt":"2345"' "$T/otlp.jsonl" 2>/dev/null; }

# ---------------------------------------------------------------- config
printf '[otlp]\nenable = true\nendpoint = "http://192.0.2.7:4317"\nprotocol = "Grpc"\n' >"$T/bad1.toml"
run agent --check --config "$T/bad1.toml"
check "plain gRPC to a host that is not loopback is refused (file, line, key, what to do)" rc=1 \
	"err~bad1\.toml:3: otlp\.endpoint: plain http:// to a host that is not loopback: use https:// with ca_file, or set allow_plain"
printf '[otlp]\nenable = true\nendpoint = "https://collector.test"\nprotocol = "Grpc"\n' >"$T/bad2.toml"
run agent --check --config "$T/bad2.toml"
check "gRPC over TLS needs ca_file" rc=1 "err~bad2\.toml:3: otlp\.endpoint: an https:// URL needs ca_file"
printf '[otlp]\nenable = true\nendpoint = "http://192.0.2.7"\nprotocol = "Grpc"\nallow_plain = true\n' >"$T/ok.toml"
run agent --check --config "$T/ok.toml"
check "... unless allow_plain = true" rc=0 "out~ok\.toml: ok"

if ! { [ -d "$TOP/tests/otlp/node_modules/@grpc/grpc-js" ] && command -v node >/dev/null; }; then
	skip "OTLP/gRPC to a real gRPC server" "tests/otlp/node_modules missing (make test runs npm ci)"
	done_testing
	exit 0
fi

# ------------------------------------- UNAVAILABLE twice, then delivered
start_receiver grpc_receiver.js --fail 2 14 --message "collector is starting"
held "$PROGS/getppid_n" 2345
config "http://127.0.0.1:$RPORT"
start_agent "$T/agent.toml"
until_ok 20 bash -c "grep -q 'job count: started' '$T/agent.log'"
until_ok 20 bash -c "curl -sf http://127.0.0.1:$MPORT/metrics | grep -q '^workload_seen 1'"
release
until_ok 30 has_2345
r=$?
ok_if "OTLP/gRPC: grpc-js decodes a sum of exactly 2345 for the workload (MetricsService/Export)" test $r = 0
[ $r = 0 ] || dump
ok_if "... after two UNAVAILABLE answers, retried" test "$(cat "$T/otlp.jsonl.refused" 2>/dev/null)" = 2
ok_if "... the retry logged with the status and its message" \
	log_has "otlp: .*MetricsService/Export: gRPC UNAVAILABLE \(14\): collector is starting; [0-9]+ queued, retrying in"
ok_if "... the [otlp] headers went as metadata" grep -q '"x-shark-test":"grpc"' "$T/otlp.jsonl"
ok_if "... and nothing was undecodable" test ! -e "$T/otlp.jsonl.errors"
sent_some() { metrics | grep -Eq '^shark_agent_sent_total\{sink="otlp"\} [1-9]'; }
until_ok 10 sent_some
metrics >"$T/m.txt"
ok_if "... counted: sent > 0, none dropped, nothing left queued" \
	bash -c "grep -Eq '^shark_agent_sent_total\{sink=\"otlp\"\} [1-9]' '$T/m.txt' &&
		grep -qx 'shark_agent_dropped_total{sink=\"otlp\"} 0' '$T/m.txt'"
stop_agent
ok_if "... and the agent exits 0 on SIGTERM" test "$RC" = 0
stop_receiver

# ------------------------------- INVALID_ARGUMENT: dropped, counted, said
start_receiver grpc_receiver.js --fail 1 3 --message "bad data points"
config "http://127.0.0.1:$RPORT"
start_agent "$T/agent.toml"
ok_if "INVALID_ARGUMENT drops the request, logging the status and its message" \
	until_ok 30 log_has "otlp: .*refused a request for good \(gRPC INVALID_ARGUMENT \(3\): bad data points\): dropped"
dropped_one() { metrics | grep -qx 'shark_agent_dropped_total{sink="otlp"} 1'; }
ok_if "... counted as dropped" until_ok 10 dropped_one
ok_if "... and the next export is delivered" until_ok 20 grep -q workload_getppid_total "$T/otlp.jsonl"
ok_if "... the refused one was not retried (one refusal, one drop)" \
	bash -c "[ \"\$(cat '$T/otlp.jsonl.refused')\" = 1 ] && grep -c 'refused a request for good' '$T/agent.log' | grep -qx 1"
stop_agent
stop_receiver

# --------------------------------------- RESOURCE_EXHAUSTED, RetryInfo or not
start_receiver grpc_receiver.js --fail 1 8 --message "over quota"
config "http://127.0.0.1:$RPORT"
start_agent "$T/agent.toml"
ok_if "RESOURCE_EXHAUSTED without RetryInfo: dropped (the spec: not recoverable)" \
	until_ok 30 log_has "refused a request for good \(gRPC RESOURCE_EXHAUSTED \(8\): over quota\): dropped"
stop_agent
stop_receiver
start_receiver grpc_receiver.js --fail 1 8 --message "slow down" --retry-info 1500
config "http://127.0.0.1:$RPORT"
start_agent "$T/agent.toml"
ok_if "... with RetryInfo (1.5 s): retried after its delay" \
	until_ok 30 log_has "gRPC RESOURCE_EXHAUSTED \(8\): slow down; [0-9]+ queued, retrying in 1\.5 s"
ok_if "... then delivered, none dropped" \
	until_ok 30 bash -c "grep -q workload_getppid_total '$T/otlp.jsonl' &&
		curl -sf http://127.0.0.1:$MPORT/metrics | grep -qx 'shark_agent_dropped_total{sink=\"otlp\"} 0'"
stop_agent
stop_receiver

# ----------------------------------------------------- TLS with ALPN h2
if command -v openssl >/dev/null; then
	(
		cd "$T" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
			-subj "/CN=shark grpc test CA"
		openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=localhost"
		printf 'subjectAltName=DNS:localhost\n' >ext
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext
		openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj "/CN=another CA"
	) >/dev/null 2>&1
	start_receiver grpc_receiver.js --tls "$T/srv.pem" "$T/srv.key"
	config "https://localhost:$RPORT" "ca_file = \"$T/ca.pem\""
	start_agent "$T/agent.toml"
	until_ok 30 bash -c "grep -q workload_getppid_total '$T/otlp.jsonl'"
	r=$?
	ok_if "gRPC over TLS (grpc-js createSsl, ALPN h2), the server checked against the test's CA" test $r = 0
	[ $r = 0 ] || dump
	stop_agent
	before=$(wc -l <"$T/otlp.jsonl")
	config "https://localhost:$RPORT" "ca_file = \"$T/other.pem\""
	start_agent "$T/agent.toml"
	ok_if "... another CA: refused, saying the certificate is not trusted" \
		until_ok 30 log_has "otlp: .*gRPC: TLS handshake: the server's certificate is not trusted"
	ok_if "... and nothing was delivered" test "$(wc -l <"$T/otlp.jsonl")" = "$before"
	stop_agent
	stop_receiver
else
	skip "gRPC over TLS" "openssl missing: deps/install test installs it"
fi

# ------------------------------------------------------ profiles over gRPC
start_receiver grpc_receiver.js
MPORT=$(free_port)
cat >"$T/prof.toml" <<EOF
[prometheus]
listen = "127.0.0.1:$MPORT"

[otlp]
enable = true
endpoint = "http://127.0.0.1:$RPORT"
protocol = "Grpc"
interval = 1
profiles = true

[profile]
hz = 99
interval = 1
EOF
start_agent "$T/prof.toml"
until_ok 30 grep -q 'job profile: started' "$T/agent.log"
"$PROGS/shares" 100 &
WPID=$!
wait "$WPID"
until_ok 60 bash -c "node '$TOP/tests/otlp/profiles_check.js' '$T/otlp.jsonl.profiles' $WPID 2>/dev/null |
	awk '/^leaf\.spin_(one|two) / { n += \$2 } END { exit !(n >= 50) }'"
r=$?
ok_if "OTLP profiles over gRPC (ProfilesService/Export): the workload's samples, read by the strict v1.5.0 decoder" \
	test $r = 0
[ $r = 0 ] || dump
node "$TOP/tests/otlp/profiles_check.js" "$T/otlp.jsonl.profiles" "$WPID" >"$T/facts" 2>/dev/null
ok_if "... every index in range, nothing undecodable" \
	bash -c "grep -qx 'invalid none' '$T/facts' && [ ! -e '$T/otlp.jsonl.errors' ]"
WPID=""
stop_agent
stop_receiver

done_testing
