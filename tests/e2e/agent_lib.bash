# SPDX-License-Identifier: GPL-2.0
# agent_lib.bash - what the agent's end-to-end tests share: the agent and a
# receiver in the background, a workload held until released, a free port.
# Source it after lib.bash. Processes started here (APID, RPID, WPID, and any
# variable named in AGENT_PIDS) are killed when the test exits.
APID="" RPID="" WPID=""
AGENT_PIDS=${AGENT_PIDS:-}
cleanup_all() {
	local v
	for v in APID RPID WPID $AGENT_PIDS; do
		[ -n "${!v:-}" ] && kill -KILL "${!v}" 2>/dev/null
	done
	wait 2>/dev/null
	bg_cleanup
	rm -rf "$T"
}
trap cleanup_all EXIT

# start_agent CONFIG: shark agent in the background, its log in $T/agent.log
# (outputs removed first: a background job's > truncates only once it runs,
# and a poll could read the last run's lines meanwhile)
start_agent() {
	rm -f "$T/agent.out" "$T/agent.log"
	"$SHARK" agent --config "$1" >"$T/agent.out" 2>"$T/agent.log" </dev/null &
	APID=$!
}
# stop_agent: SIGTERM, its exit status in RC
stop_agent() {
	[ -n "$APID" ] && kill -TERM "$APID" 2>/dev/null && wait "$APID"
	RC=$?
	APID=""
}
log_has() { grep -Eq -- "$1" "$T/agent.log"; }
free_port() {
	"$SHARK" -e 'local uv = require "uv"; local t = uv.new_tcp(); t:bind("127.0.0.1", 0)
	  print(t:getsockname().port); t:close()'
}
metrics() { curl -sf "http://127.0.0.1:$MPORT/metrics"; }

# held WORKLOAD ARGS...: a workload held on a fifo until release; sets WPID
held() {
	rm -f "$T/go"
	mkfifo "$T/go"
	sh -c 'read _ < "$0"; exec "$@"' "$T/go" "$@" &
	WPID=$!
}
release() { echo go >"$T/go"; wait "$WPID"; WPID=""; }

# start_receiver SCRIPT ARGS...: a node receiver from tests/otlp writing what
# it decodes to $T/otlp.jsonl; sets RPID and RPORT (from its "listening" line)
start_receiver() {
	local js=$1
	shift
	rm -f "$T/otlp.jsonl"* "$T/recv.out" "$T/recv.err"
	node "$TOP/tests/otlp/$js" "$T/otlp.jsonl" "$@" >"$T/recv.out" 2>"$T/recv.err" &
	RPID=$!
	until_ok 20 grep -q listening "$T/recv.out"
	RPORT=$(sed -n 's/^listening //p' "$T/recv.out")
}
stop_receiver() {
	kill -TERM "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=""
}
