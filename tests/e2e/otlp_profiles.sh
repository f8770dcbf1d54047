# SPDX-License-Identifier: GPL-2.0
# otlp_profiles.sh - shark agent's OTLP profiles ([otlp] profiles = true, a
# development signal upstream, pinned to opentelemetry-proto v1.5.0): the
# profiler's profile of a known workload (shares: spin_one and spin_two at
# 1:2 by work, run from a file whose name is not UTF-8) reaches an OTLP/HTTP
# receiver at /v1development/profiles through a collector outage, is read by
# a strict v1.5.0 decoder (tests/otlp/profiles_v1_5.js: no npm package ships
# the profiles protos, see there) and says host, pid, comm, cgroup, the two
# functions in their proportion and the binary's build id; with the option
# off, nothing goes to that path. Bad configs are refused with file:line.
. "$(dirname "$0")/lib.bash"

. "$(dirname "$0")/agent_lib.bash"
# fact KEY: a line of profiles_check.js about the workload's pid
fact() { sed -n "s/^$1 //p" "$T/facts"; }
facts() { node "$TOP/tests/otlp/profiles_check.js" "$T/otlp.jsonl.profiles" "$WPID" >"$T/facts" 2>"$T/check.err"; }

# ---------------------------------------------------------------- config
printf '[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4318"\nprofiles = true\n' >"$T/bad1.toml"
run agent --check --config "$T/bad1.toml"
check "otlp.profiles without the profiler is refused: file, line, key and why" rc=1 \
	"err~bad1\.toml:4: otlp\.profiles: needs the profiler: add a \[profile\] section"
printf '[profile]\nhz = 19\n[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4318"\nprofiles = "yes"\n' \
	>"$T/bad2.toml"
run agent --check --config "$T/bad2.toml"
check "otlp.profiles must be a boolean" rc=1 "err~bad2\.toml:6: otlp\.profiles: expected"
printf '[profile]\nhz = 19\n[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4318"\nprofiles = true\n' \
	>"$T/good.toml"
run agent --check --config "$T/good.toml"
check "... and with a [profile] section it is taken" rc=0 "out~good\.toml: ok"

if ! { [ -d "$TOP/tests/otlp/node_modules/protobufjs" ] && command -v node >/dev/null; }; then
	skip "OTLP profiles decoded as opentelemetry-proto v1.5.0" "tests/otlp/node_modules missing (make test runs npm ci)"
	done_testing
	exit 0
fi

# ------------------------------------------------------------ profiles on
# the workload runs from a file named "shares\xff": its comm and path are
# not UTF-8, which a collector would refuse in a protobuf string
BAD=$(printf 'shares\377')
cp "$PROGS/shares" "$T/$BAD"
start_receiver receiver.js 1
MPORT=$(free_port)
cat >"$T/on.toml" <<EOF
[prometheus]
listen = "127.0.0.1:$MPORT"

[otlp]
enable = true
endpoint = "http://127.0.0.1:$RPORT"
protocol = "HttpJson"
interval = 1
profiles = true

[otlp.timeout]
secs = 2

[profile]
hz = 99
interval = 1
labels = { team = "e2e" }
EOF
start_agent "$T/on.toml"
until_ok 30 grep -q 'job profile: started' "$T/agent.log"
"$T/$BAD" 150 &
WPID=$!
wait "$WPID"
# the samples of its last second go out with the next flush
until_ok 60 bash -c "node '$TOP/tests/otlp/profiles_check.js' '$T/otlp.jsonl.profiles' $WPID 2>/dev/null |
	awk '/^leaf\.spin_(one|two) / { n += \$2 } END { exit !(n >= 100) }'"
r=$?
ok_if "OTLP profiles: the workload's profile reaches /v1development/profiles (100+ samples)" test $r = 0
[ $r = 0 ] || sed 's/^/#   log: /' "$T/agent.log" "$T/recv.err" "$T/otlp.jsonl.errors" 2>/dev/null
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/m.txt"
stop_agent
stop_receiver
facts
sed 's/^/#   /' "$T/facts" | grep -av '^#   leaf\.\(.*\) [0-9]*$' | head -20
ok_if "... through a collector outage: the 503 is retried, as for metrics" \
	test "$(cat "$T/otlp.jsonl.refused" 2>/dev/null)" = 1
ok_if "... every request read by the strict v1.5.0 decoder" test ! -s "$T/otlp.jsonl.errors"
ok_if "... every index in range, profile_id and time set (what v1.5.0 requires)" test "$(fact invalid)" = none
ok_if "... protobuf even when metrics go as OTLP/JSON" \
	bash -c "! grep -qv '\"type\":\"application/x-protobuf\"' '$T/otlp.jsonl.profiles'"
ok_if "... and the metrics went as JSON beside them" grep -q '"type":"application/json"' "$T/otlp.jsonl"
ok_if "... resource host.name is this host" test "$(fact host)" = "$(uname -n)"
UBAD=$(printf 'shares\357\277\275')
ok_if "... process.pid is the workload's; comm and service.name its comm, the byte that is not UTF-8 as U+FFFD" \
	test "$(fact comm)" = "$UBAD" -a "$(fact service)" = "$UBAD" -a "$(fact profiles)" -ge 1
CG=$(sed -n 's/^0:://p' /proc/self/cgroup)
ok_if "... process.linux.cgroup is its cgroup ($CG)" test "$(fact cgroup)" = "$CG"
ok_if "... sample types samples/count and cpu/nanoseconds, the period from hz (1e9/99 ns of cpu)" \
	test "$(fact sample_types)" = "samples/count,cpu/nanoseconds" -a "$(fact period)" = 10101010 \
	-a "$(fact period_type)" = cpu/nanoseconds
one=$(fact leaf.spin_one) two=$(fact leaf.spin_two)
ok_if "... spin_two has about two thirds of spin_one + spin_two ($one : $two)" \
	awk -v a="${one:-0}" -v b="${two:-0}" 'BEGIN { exit !(a > 0 && b / (a + b) > 0.5 && b / (a + b) < 0.8) }'
id=$(readelf -n "$PROGS/shares" 2>/dev/null | awk '/Build ID/ { print $3 }')
ok_if "... its mapping carries the binary's build id (${id:-none}) and file" \
	test -n "$id" -a "$(fact build_id.spin_one)" = "$id" -a "$(fact file.spin_one)" = "$T/$UBAD"
sent=$(sed -n 's/^shark_agent_sent_total{sink="otlp"} //p' "$T/m.txt")
ok_if "... counted in the OTLP queue's own numbers: sent ($sent), none dropped" \
	bash -c "[ '${sent:-0}' -ge 2 ] && grep -qx 'shark_agent_dropped_total{sink=\"otlp\"} 0' '$T/m.txt'"

# ----------------------------------------------------------- profiles off
start_receiver receiver.js 0
mkdir -p "$T/prof"
cat >"$T/off.toml" <<EOF
[otlp]
enable = true
endpoint = "http://127.0.0.1:$RPORT"
interval = 0.5

[profile]
hz = 99
interval = 0.5
directory = "$T/prof"
EOF
start_agent "$T/off.toml"
until_ok 30 grep -q 'job profile: started' "$T/agent.log"
"$PROGS/shares" 30 &
WPID=$!
wait "$WPID"
ok_if "profiles off (the default): the profiler still makes the workload's pprof" \
	until_ok 30 bash -c "ls '$T/prof' | grep -q -- '-$WPID-shares\.pb\.gz$'"
ok_if "... and metrics still go to the collector" until_ok 30 grep -q . "$T/otlp.jsonl"
stop_agent
stop_receiver
ok_if "... but nothing is sent to /v1development/profiles" \
	test ! -e "$T/otlp.jsonl.profiles" -a ! -e "$T/otlp.jsonl.404"

done_testing
