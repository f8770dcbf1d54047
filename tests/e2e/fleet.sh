# SPDX-License-Identifier: GPL-2.0
# fleet.sh - three agents, each in a network namespace of its own, push
# profiles over HTTPS (mbedTLS, a CA this test makes) to one shark serve
# with per-agent tokens; one token is revoked while they run; plain HTTP off
# loopback is refused on both sides; a server the agent's CA did not sign is
# not trusted; serve is stopped and restarted while the agents push, and
# every profile each agent made is stored once.
. "$(dirname "$0")/lib.bash"

# names and a subnet of this run: another run of this test may share the machine
RID=$(($$ % 100000)) NET=$((100 + $$ % 150))
NS=("shark-fleet-$RID-1" "shark-fleet-$RID-2" "shark-fleet-$RID-3")
VETH=("sf$RID-1" "sf$RID-2" "sf$RID-3")
SPID="" APIDS=() WPID=""
fleet_cleanup() {
	for p in $SPID "${APIDS[@]}" $WPID; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	for i in 1 2 3; do
		ip netns del "${NS[$((i - 1))]}" 2>/dev/null
		ip link del "${VETH[$((i - 1))]}" 2>/dev/null
		rm -rf "/etc/netns/${NS[$((i - 1))]}"
	done
	bg_cleanup
	rm -rf "$T"
}
trap fleet_cleanup EXIT

if ! command -v ip >/dev/null || ! command -v openssl >/dev/null; then
	skip "a fleet of agents over TLS" "ip (iproute2) or openssl missing: deps/install test installs them"
	done_testing
	exit 0
fi

# ----------------------------------------------------------- a CA, certs
cd "$T" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=shark fleet test CA" \
	>/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=serve.shark.test" >/dev/null 2>&1
printf 'subjectAltName=DNS:serve.shark.test\n' >ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext \
	>/dev/null 2>&1
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj "/CN=another CA" \
	>/dev/null 2>&1
ok_if "the test's CA signed a server certificate" openssl verify -CAfile ca.pem srv.pem

# ------------------------------------------- three hosts: netns + veth
for i in 1 2 3; do
	ns=${NS[$((i - 1))]}
	ip netns del "$ns" 2>/dev/null
	veth=${VETH[$((i - 1))]}
	ip link del "$veth" 2>/dev/null
	ip netns add "$ns"
	ip link add "$veth" type veth peer name eth0 netns "$ns"
	ip addr add "10.$NET.$i.1/24" dev "$veth"
	ip link set "$veth" up
	ip -n "$ns" addr add "10.$NET.$i.2/24" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$ns" link set lo up
	mkdir -p "/etc/netns/$ns"
	# ip netns exec binds this over /etc/hosts: the server by name, as TLS checks it
	printf '10.%d.%d.1 serve.shark.test\n127.0.0.1 localhost\n' "$NET" "$i" >"/etc/netns/$ns/hosts"
done

# --------------------------------------------------------------- serve
run serve --listen 0.0.0.0:0 --db "$T/refused.db" --token x
check "serve refuses plain HTTP off loopback" rc=2 "err~not loopback: .*--tls-cert and --tls-key, or --allow-plain"
for i in 1 2 3; do
	"$SHARK" serve --db "$T/fleet.db" --add-token "agent-$i" >"$T/token$i" 2>"$T/err" </dev/null
done
ok_if "three agent tokens made" bash -c "[ \$(cat '$T'/token? | grep -Ec '^[0-9a-f]{36}$') = 3 ]"
run serve --db "$T/fleet.db" --list-tokens
check "... and listed" rc=0 "out=agent-1
agent-2
agent-3"
"$SHARK" serve --listen 0.0.0.0:0 --db "$T/fleet.db" --token admin-token --tls-cert srv.pem --tls-key srv.key \
	>"$T/serve.out" 2>"$T/serve.err" </dev/null &
SPID=$!
until_ok 20 grep -q '^serving' "$T/serve.out"
PORT=$(sed -n 's/^serving https:\/\/[^:]*:\([0-9]*\)\/$/\1/p' "$T/serve.out")
ok_if "serve on HTTPS, every address" test -n "$PORT"
api() { curl -sf --cacert "$T/ca.pem" --resolve "serve.shark.test:$PORT:127.0.0.1" "https://serve.shark.test:$PORT/$1"; }
ok_if "... and curl trusts it through the test's CA" api api/profiles
reused=$(timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -servername serve.shark.test -tls1_2 -reconnect \
	-CAfile "$T/ca.pem" </dev/null 2>/dev/null | grep -c '^Reused,')
ok_if "... with session tickets: openssl's 5 reconnections resume the session ($reused)" test "$reused" = 5
ok_if "... from each of the three namespaces, by name, over its own link" \
	bash -c "for i in 1 2 3; do ip netns exec shark-fleet-$RID-\$i curl -sf --cacert '$T/ca.pem' \
		https://serve.shark.test:$PORT/api/profiles >/dev/null || exit 1; done"

# -------------------------------------------------------------- agents
for i in 1 2 3; do
	cat >"$T/a$i.toml" <<EOF
[server]
url = "https://serve.shark.test:$PORT"
token = "$(cat "$T/token$i")"
ca_file = "$T/ca.pem"

[profile]
hz = 99
interval = 4
labels = { host = "agent-$i" }

[prometheus]
listen = "127.0.0.1:9464"
EOF
	ip netns exec "${NS[$((i - 1))]}" "$SHARK" agent --config "$T/a$i.toml" >"$T/a$i.out" 2>"$T/a$i.log" </dev/null &
	APIDS+=($!)
done
# a thread may name itself anything: a tab and a ';' in its name
"$PROGS/fpchain" 4000 "$(printf 'fp\tchain;x')" >/dev/null 2>&1 &
for i in 1 2 3; do
	ok_if "agent-$i (its own netns) pushes profiles over HTTPS, labelled agent=agent-$i by its token" \
		until_ok 40 bash -c "curl -sf --cacert '$T/ca.pem' --resolve serve.shark.test:$PORT:127.0.0.1 \
			'https://serve.shark.test:$PORT/api/profiles?q=agent=agent-$i' | grep -q '\"host\":\"agent-$i\"'"
done
count_of() { api "api/profiles?q=agent=$1" | grep -o '"id":' | wc -l; }

# ------------------------- a serve restart shorter than the agents' queue bound
# metric I NAME: agent I's own count (its /metrics, on loopback in its netns)
metric() {
	ip netns exec "${NS[$(($1 - 1))]}" curl -sf "http://127.0.0.1:9464/metrics" | sed -n "s/^$2 //p"
}
# stored I: the profiles serve holds of host agent-I
stored() { api "api/profiles?host=agent-$1" | grep -o '"id":' | wc -l; }
# complete I: serve stored every profile agent I made: counted in serve
# first, then the agent's count, so a profile made in between cannot make
# a loss look complete
complete() {
	local s m
	s=$(stored "$1") && m=$(metric "$1" shark_agent_profiles_total)
	[ -n "$m" ] && [ "$s" = "$m" ]
}
# (every agent profiles the whole machine: on a busy one, ~20 profiles an
# interval each, and every upload is a TLS handshake: a 4 s interval keeps
# what they make below what one serve stores)
"$PROGS/fpchain" 15000 >/dev/null 2>&1 &   # busy during the outage: profiles to make, also on an idle machine
WPID=$!
kill -TERM "$SPID"
wait "$SPID" 2>/dev/null
SPID=""
sleep 12   # three intervals without a server
rm -f "$T/serve.out"   # the background's > truncates late: a poll could read the last run's line
for i in 1 2 3; do
	ok_if "serve stopped: agent-$i keeps making profiles and queues them (3 or more queued)" \
		until_ok 60 bash -c "ip netns exec ${NS[$((i - 1))]} curl -sf http://127.0.0.1:9464/metrics | \
			grep -Eq '^shark_agent_queue_length\{sink=\"profiles\"\} ([3-9]|[1-9][0-9]+)\$'"
done
rm -f "$T/serve.out"   # (else the first server's "serving" line answers the wait below)
"$SHARK" serve --listen "0.0.0.0:$PORT" --db "$T/fleet.db" --token admin-token --tls-cert srv.pem --tls-key srv.key \
	>"$T/serve.out" 2>"$T/serve.err" </dev/null &
SPID=$!
ok_if "serve restarted on the same port and database" until_ok 20 grep -q '^serving' "$T/serve.out"
kill -TERM "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
WPID=""
for i in 1 2 3; do
	ok_if "agent-$i: every profile it made is stored, none lost or stored twice (made = stored)" \
		until_ok 90 complete "$i"
	ok_if "... $(metric $i shark_agent_profiles_total) made, $(stored $i) stored, 0 dropped" \
		test "$(metric $i 'shark_agent_dropped_total{sink="profiles"}')" = 0
	grep -h "refused\|dropp" "$T/a$i.log" | head -3 | sed 's/^/# agent-'$i': /'
done

odd=$(api "api/profiles?comm=fp%09chain%3Bx&limit=1" | grep -o '"id":[0-9]*' | cut -d: -f2)
api "api/profiles/${odd:-0}?format=folded" >"$T/odd.folded"
ok_if "a process named 'fp<TAB>chain;x' is stored: labelled as it is, its frame written out (fp\\x09chain:x)" \
	grep -q '^fp\\x09chain:x;' "$T/odd.folded"
run serve --db "$T/fleet.db" --revoke-token agent-3
check "a token is revoked while the server runs" rc=0 "out=revoked: agent-3"
ok_if "... agent-3's next upload is refused (401) and dropped, said in its log" \
	until_ok 30 grep -q "refused a request for good (HTTP 401)" "$T/a3.log"
before=$(count_of agent-3)
sleep 3
ok_if "... and nothing more of agent-3 is stored ($before before, $(count_of agent-3) after)" \
	test "$(count_of agent-3)" = "$before"
n1=$(count_of agent-1)
ok_if "... while agent-1 goes on" until_ok 20 bash -c "[ \$(curl -sf --cacert '$T/ca.pem' \
	--resolve serve.shark.test:$PORT:127.0.0.1 'https://serve.shark.test:$PORT/api/profiles?q=agent=agent-1' \
	| grep -o '\"id\":' | wc -l) -gt $n1 ]"
ok_if "the list filters by label across the fleet (host=agent-2 only)" \
	bash -c "api() { curl -sf --cacert '$T/ca.pem' --resolve serve.shark.test:$PORT:127.0.0.1 \"https://serve.shark.test:$PORT/\$1\"; }
		out=\$(api 'api/profiles?q=host=agent-2'); echo \"\$out\" | grep -q agent-2 && ! echo \"\$out\" | grep -q '\"host\":\"agent-1\"'"
for p in "${APIDS[@]}"; do kill -TERM "$p"; done
wait "${APIDS[@]}" 2>/dev/null
APIDS=()

# ------------------------------------------------- what agents refuse
cat >"$T/plain.toml" <<EOF
[profile]
upload = "http://10.$NET.1.1:$PORT"
token = "x"
EOF
run agent --config "$T/plain.toml" --check
check "an agent refuses plain HTTP to a host off loopback" rc=1 \
	"err~plain\.toml:2: profile\.upload: plain http:// to a host that is not loopback"
cat >"$T/noca.toml" <<EOF
[profile]
upload = "https://serve.shark.test:$PORT"
EOF
run agent --config "$T/noca.toml" --check
check "... and https without a CA to check the server against" rc=1 "err~profile\.upload: an https:// URL needs ca_file"
sed -e "s|$T/ca.pem|$T/other.pem|" "$T/a1.toml" >"$T/other.toml"
ip netns exec "${NS[0]}" "$SHARK" agent --config "$T/other.toml" >"$T/o.out" 2>"$T/o.log" </dev/null &
APIDS=($!)
ok_if "a server the agent's CA did not sign is not trusted (nothing sent, said why)" \
	until_ok 30 grep -q "the server's certificate is not trusted" "$T/o.log"
kill -TERM "${APIDS[0]}"
wait "${APIDS[0]}" 2>/dev/null
APIDS=()
cd "$TOP" || exit 1

done_testing
