# SPDX-License-Identifier: GPL-2.0
# serve_stop.sh - a SIGTERM that reaches shark serve while it decodes an
# upload: the stop is not the upload's fault, so the client never gets a 4xx
# (an agent drops a profile refused 4xx). The upload is answered 2xx or its
# connection closes unanswered (an agent retries). Deterministic: the
# pprof decoder is wrapped so that serve signals itself from inside it.
. "$(dirname "$0")/lib.bash"

cat >"$T/held.lua" <<'LUA'
-- shark serve whose pprof decoder sends serve a SIGTERM on the first upload
-- and waits (in calls, where the stop's hook fires) for the stop to unwind it
local uv = require "uv"
local shark = require "shark"
local real = require "shark.pprof"
local wrapped, first = setmetatable({}, { __index = real }), true
function wrapped.decode(bytes)
  if first then
    first = false
    io.stderr:write("decoding: SIGTERM\n")
    uv.kill(uv.os_getpid(), "sigterm")
    for _ = 1, 500 do uv.sleep(10) end   -- the stop unwinds here
    io.stderr:write("decoding: not stopped\n")
  end
  return real.decode(bytes)
end
package.loaded["shark.pprof"] = wrapped
require("shark.cmd.serve").main(shark.args)
LUA

# a real pprof profile (profile.lua of fpchain)
run -c "$PROGS/fpchain 300" "$TOP/samples/profile.lua" -F 199 -U -f pprof -o "$T/cpu.pb.gz"
check "a pprof profile to upload" rc=0

start "$T/held.lua" --listen 127.0.0.1:0 --db "$T/shark.db" --token tok
wait_out '^serving ' || echo "# serve did not start: $(cat "$T/err")"
URL=$(sed -n 's/^serving //p' "$T/out")
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer tok" \
	--data-binary "@$T/cpu.pb.gz" "${URL}api/profiles?kind=flamegraph&upload_id=u1")
finish
ok_if "the SIGTERM arrived while serve decoded the upload" grep -q '^decoding: SIGTERM' "$T/err"
ok_if "... the client got no 4xx (HTTP $code: $(head -c 100 "$T/body"))" \
	bash -c "case $code in 000|2??) true ;; *) false ;; esac"
check "... serve ended as a SIGTERM ends it, without an error" '!err~not a pprof|internal error|stack traceback'

# the agent's retry: the same upload to a restarted serve is stored once
start serve --listen 127.0.0.1:0 --db "$T/shark.db" --token tok
wait_out '^serving '
URL=$(sed -n 's/^serving //p' "$T/out")
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer tok" \
	--data-binary "@$T/cpu.pb.gz" "${URL}api/profiles?kind=flamegraph&upload_id=u1")
ok_if "the retry to the restarted serve is stored (HTTP $code)" bash -c "case $code in 20?) true ;; *) false ;; esac"
ok_if "... one profile in the database" \
	test "$(curl -s "${URL}api/profiles" | grep -o '"id":' | wc -l)" = 1
signal TERM
finish

# ------------------------------------------------------------ an agent
# The agent pushes to the held serve (its first upload stops serve inside
# the decoder), then to serve restarted on the same port and database:
# every profile it made is stored, none dropped.
rm -f "$T/shark.db"*
start "$T/held.lua" --listen 127.0.0.1:0 --db "$T/shark.db" --token tok
wait_out '^serving '
URL=$(sed -n 's/^serving //p' "$T/out")
PORT=${URL##*:}
PORT=${PORT%/}
cat >"$T/agent.toml" <<TOML
[server]
url = "http://127.0.0.1:$PORT"
token = "tok"

[profile]
hz = 99
interval = 1
labels = { host = "stop-test-$$" }

[prometheus]
listen = "127.0.0.1:0"
TOML
"$SHARK" agent --config "$T/agent.toml" >"$T/agent.out" 2>"$T/agent.log" </dev/null &
APID=$!
"$PROGS/fpchain" 4000 >/dev/null 2>&1 &   # something to profile, also on an idle machine
WPID=$!
# the agent's /metrics: on a free port, as its log says
until_ok 30 grep -q 'prometheus: serving http://127.0.0.1:[0-9]*/' "$T/agent.log"
PROM=$(sed -n 's|.*prometheus: serving http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$T/agent.log" | head -1)
trap 'kill -TERM $APID $WPID 2>/dev/null; bg_cleanup; rm -rf "$T"' EXIT
finish   # the held serve: stopped by its first upload
ok_if "the agent's first upload reached serve as it stopped" grep -q '^decoding: SIGTERM' "$T/err" ||
	head -5 "$T/agent.log" | sed 's/^/# agent: /'
start serve --listen "127.0.0.1:$PORT" --db "$T/shark.db" --token tok
ok_if "serve restarted on the same port and database" wait_out '^serving '
metric() { curl -sf "http://127.0.0.1:$PROM/metrics" | sed -n "s/^$1 //p"; }
stored() { curl -sf "${URL}api/profiles?host=stop-test-$$" | grep -o '"id":' | wc -l; }
# serve's count first, then the agent's: a profile made in between cannot
# make a loss look complete
complete() {
	local s m
	s=$(stored) && m=$(metric shark_agent_profiles_total)
	[ -n "$m" ] && [ "$m" -ge 2 ] && [ "$s" = "$m" ]
}
ok_if "every profile the agent made is stored, none lost or stored twice (made = stored)" until_ok 60 complete
ok_if "... $(metric shark_agent_profiles_total) made, $(stored) stored, 0 dropped" \
	test "$(metric 'shark_agent_dropped_total{sink="profiles"}')" = 0
grep -h "refused\|dropp" "$T/agent.log" | head -3 | sed 's/^/# agent: /'
kill -TERM "$APID" "$WPID" 2>/dev/null
wait "$APID" "$WPID" 2>/dev/null
signal TERM
finish
done_testing
