# SPDX-License-Identifier: GPL-2.0
# serve.sh - shark serve on a free loopback port with a temporary database:
# uploads from real runs (profile, flamegraph_in_cloud, heatmap_in_cloud),
# the API's refusals (401, 413, 400), 50 concurrent uploads, a restart, and
# the pages in Debian's headless chromium (tests/browser/viewer.js).
. "$(dirname "$0")/lib.bash"

SPID=""
trap 'stop_serve; bg_cleanup; rm -rf "$T"' EXIT
export SHARK_CLOUD_CONFIG=/nonexistent SHARK_CLOUD_DIR=$T
TOKEN=e2e-token-1

# start_serve ARGS...: shark serve in the background; sets URL, or fails.
start_serve() {
	rm -f "$T/serve.out"
	"$SHARK" serve --listen 127.0.0.1:0 "$@" >"$T/serve.out" 2>"$T/serve.err" </dev/null &
	SPID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		URL=$(sed -n 's/^serving //p' "$T/serve.out")
		PORT=${URL##*:}
		PORT=${PORT%/}
		[ -n "$URL" ] && return 0
		sleep 0.05
	done
	return 1
}
stop_serve() {
	[ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	SPID=""
}
# post QUERY FILE [TOKEN]: the HTTP status in $T/code, the answer in $T/body
post() {
	curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer ${3-$TOKEN}" \
		--data-binary "@$2" "${URL}api/profiles?$1" >"$T/code"
}
count() { curl -s "${URL}api/profiles" | grep -o '"id":' | wc -l; }
id_of() { sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/body"; }

# --- usage errors
run serve --listen nonsense
check "a bad --listen: exit 2 and what it wants" rc=2 "err~--listen wants ADDR:PORT, not 'nonsense'"
run serve --listen 127.0.0.1:0 --db /nonexistent/dir/shark.db
check "a database that cannot be made: exit 1 and why" rc=1 'err~^shark serve: cannot open /nonexistent/dir/shark.db'
run serve -h
check "serve -h: the options and the default port" rc=0 'out~--listen ADDR:PORT' 'out~127\.0\.0\.1:7411'

# --- a token is made at first start and kept
start_serve --db "$T/first.db"
ok_if "first start without --token prints a new token and the URL" grep -Eq '^token: [0-9a-f]{36} ' "$T/serve.out"
first=$(sed -n 's/^token: \([0-9a-f]*\).*/\1/p' "$T/serve.out")
ok_if "... the URL is on loopback" grep -Eq '^serving http://127\.0\.0\.1:[0-9]+/$' "$T/serve.out"
stop_serve
start_serve --db "$T/first.db"
ok_if "... a restart keeps that token (no new one printed)" bash -c "! grep -q '^token:' '$T/serve.out'"
printf 'main;a 1\n' >"$T/one.folded"
post "kind=flamegraph&title=first" "$T/one.folded" "$first"
ok_if "... and uploads with the kept token are accepted (201)" test "$(cat "$T/code")" = 201
ok_if "the database file and its WAL are private to their owner (0600)" \
	test "$(stat -c %a "$T/first.db" "$T/first.db-wal" 2>&1 | sort -u)" = 600
stop_serve

# --- the server of the rest of the test
if ! start_serve --db "$T/shark.db" --token "$TOKEN" --max-body 1; then
	echo "not ok 1 - shark serve did not start"; cat "$T/serve.err"; echo "1..1"; exit 1
fi
export SHARK_CLOUD_URL=$URL SHARK_CLOUD_TOKEN=$TOKEN

# --- uploads from real runs
run -c "$PROGS/fpchain 1500" "$TOP/samples/profile.lua" -F 199 -U --upload --title "fpchain profile" --label run=e2e
check "profile.lua --upload: a real profile of fpchain, its view's URL printed" rc=0 \
	"out~^Open flamegraph at: ${URL}p/[0-9]+$"
flame=$(sed -n 's|^Open flamegraph at: .*/p/\([0-9]*\)$|\1|p' "$T/out")
curl -s "${URL}api/profiles/$flame?format=folded" >"$T/flame.folded"
ok_if "... stored with the known frames main;mid;leaf" grep -Eq '(^|;)main;mid;leaf [0-9]+$' "$T/flame.folded"
curl -s "${URL}api/profiles?q=run=e2e" >"$T/list.json"
ok_if "... listed with its title and labels (?q= filters on labels)" \
	grep -q "\"title\":\"fpchain profile\"" "$T/list.json"

run -c "$PROGS/fpchain 1500" "$TOP/samples/flamegraph_in_cloud.lua" -u -F 199
check "flamegraph_in_cloud: uploads the samples with their times" rc=0 "out~^Open flamegraph at: ${URL}p/[0-9]+$"
timed=$(sed -n 's|^Open flamegraph at: .*/p/\([0-9]*\)$|\1|p' "$T/out")
curl -s "${URL}api/profiles/$timed?format=json" >"$T/timed.json"
ok_if "... the view has per-sample times (timed) and leaf frames" \
	bash -c "grep -q '\"timed\":\[' '$T/timed.json' && grep -q 'mid;leaf' '$T/timed.json'"

run -c "dd if=/dev/zero of=/dev/null bs=1 count=3000 status=none" "$TOP/samples/heatmap_in_cloud.lua"
check "heatmap_in_cloud: dd's 3000 write(2) calls uploaded as a heat map" rc=0 \
	'out~^3000 write\(2\) calls over [0-9]+ s$' "out~^Open heatmap at: ${URL}p/[0-9]+$"
heat=$(sed -n 's|^Open heatmap at: .*/p/\([0-9]*\)$|\1|p' "$T/out")
events=$(curl -s "${URL}api/profiles/$heat?format=folded" | awk '{ s += $3 } END { print s + 0 }')
ok_if "... its rows hold the 3000 calls ($events)" test "$events" = 3000

# --- a pprof file from a real run (profile.lua -f pprof), uploaded by curl
run -c "$PROGS/fpchain 1000" "$TOP/samples/profile.lua" -F 199 -U -f pprof -o "$T/cpu.pb.gz"
post "kind=flamegraph&title=pprof%20upload&label.format=pprof" "$T/cpu.pb.gz"
ok_if "a pprof file of fpchain uploaded: 201 ($(head -c 80 "$T/body"))" test "$(cat "$T/code")" = 201
pprof_id=$(id_of)
ok_if "... read as stacks with the known frames main;mid;leaf" \
	bash -c "curl -s '${URL}api/profiles/$pprof_id?format=folded' | grep -Eq '(^|;)main;mid;leaf [0-9]+$'"
curl -s -o "$T/back.pb.gz" "${URL}api/profiles/$pprof_id?format=pprof"
post "kind=flamegraph&title=pprof%20again" "$T/back.pb.gz"
ok_if "... exported again as pprof (gzip) that uploads again (201)" \
	bash -c "test \"\$(head -c 2 '$T/back.pb.gz' | od -An -tx1 | tr -d ' ')\" = 1f8b && test \"\$(cat '$T/code')\" = 201"
ok_if "... and as speedscope JSON with its schema" \
	bash -c "curl -s '${URL}api/profiles/$pprof_id?format=speedscope' | grep -q 'file-format-schema.json'"

# --- the original's heat-map rows ("time latency", microseconds) and a pprof-less folded upload by curl
printf '1000 12\n2000 40\n1500000 900 3\n' >"$T/rows.txt"
post "kind=heatmap&title=rows" "$T/rows.txt"
ok_if "curl: heat-map rows 'time latency [count]' are accepted (201)" test "$(cat "$T/code")" = 201
printf 'main;foo;bar 20\nmain;baz 5\n' >"$T/a.folded"
printf 'main;foo;bar 5\nmain;baz 20\n' >"$T/b.folded"
post "kind=flamegraph&title=before" "$T/a.folded"; a=$(id_of)
post "kind=flamegraph&title=after" "$T/b.folded"; b=$(id_of)
ok_if "curl: two folded profiles for the diff (201, ids $a $b)" test -n "$a" -a -n "$b"
printf 'main;<script>alert(1)</script> 7\nmain;ok 1\n' >"$T/xss.folded"
post "kind=flamegraph&title=%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E" "$T/xss.folded"; xss=$(id_of)
ok_if "a frame named <script>...</script> and a title with markup are stored as they are" \
	bash -c "curl -s '${URL}api/profiles/$xss?format=folded' | grep -qF 'main;<script>alert(1)</script> 7'"
curl -s "${URL}api/profiles/$xss?format=svg" >"$T/xss.svg"
ok_if "... the SVG export escapes it" bash -c "grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' '$T/xss.svg' && \
	! grep -qF '<script>alert(1)' '$T/xss.svg'"

# --- refusals: nothing stored
before=$(count)
post "kind=flamegraph" "$T/a.folded" ""
ok_if "no token: 401" test "$(cat "$T/code")" = 401
post "kind=flamegraph" "$T/a.folded" "wrong-token"
ok_if "a wrong token: 401" test "$(cat "$T/code")" = 401
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${URL}api/profiles/$a")
ok_if "DELETE without the token: 401" test "$code" = 401
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/big"
post "kind=flamegraph" "$T/big"
ok_if "a body over --max-body (1 MB): 413" test "$(cat "$T/code")" = 413
bad=0
for body in 'main;foo x' 'main;;foo 1' 'main;foo' ';main 1' 'main 1.5' 'main -3' \
	"$(printf 'main\001 1\nok 2')" "$(printf '\037\213garbage')" '@x main 1' 'main 0'; do
	printf '%s\n' "$body" >"$T/bad"
	post "kind=flamegraph" "$T/bad"
	if [ "$(cat "$T/code")" != 400 ] || ! grep -q '"error":"' "$T/body"; then
		bad=$((bad + 1)); echo "# not refused: $(cat -v "$T/bad") -> $(cat "$T/code") $(cat "$T/body")"
	fi
done
head -c 300 "$T/cpu.pb.gz" >"$T/cut1.pb.gz"
{ head -c 40 "$T/cpu.pb.gz"; head -c 200 /dev/urandom; } >"$T/cut2.pb.gz"
{ printf '\n\003abc\000'; head -c 100 /dev/urandom; } >"$T/cut3.pb"
for f in cut1.pb.gz cut2.pb.gz cut3.pb; do
	post "kind=flamegraph" "$T/$f"
	if [ "$(cat "$T/code")" != 400 ] || ! grep -q '"error":"' "$T/body"; then
		bad=$((bad + 1)); echo "# not refused: $f -> $(cat "$T/code") $(cat "$T/body")"
	fi
done
ok_if "13 malformed flame graph bodies (3 of them broken pprof): 400 with what is wrong" test "$bad" = 0
printf 'main;foo x\n' >"$T/bad"; post "kind=flamegraph" "$T/bad"
ok_if "... the message names the line" grep -q 'line 1: the count is not a whole number' "$T/body"
for body in '12' 'a b' '1 -2' '1 2 3 4' '1 2 x'; do
	printf '%s\n' "$body" >"$T/bad"
	post "kind=heatmap" "$T/bad"
	[ "$(cat "$T/code")" = 400 ] || { bad=$((bad + 1)); echo "# heat map not refused: $body"; }
done
ok_if "5 malformed heat-map bodies: 400" test "$bad" = 0
post "kind=pie" "$T/a.folded"
ok_if "an unknown kind: 400" test "$(cat "$T/code")" = 400
code=$(printf 'GARBAGE\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat >&3; head -c 12 <&3" \
	2>/dev/null | sed 's/\r//' | head -1)
ok_if "a request that is not HTTP: 400 ($code)" test "$code" = "HTTP/1.1 400"
ok_if "nothing was stored by any refused request" test "$(count)" = "$before"
code=$(curl -s -o /dev/null -w '%{http_code}' "${URL}api/profiles/99999")
ok_if "an unknown profile: 404" test "$code" = 404

# --- 50 concurrent uploads
before=$(count)
for i in $(seq 1 50); do
	printf 'main;worker_%d 1\n' "$i" >"$T/c$i"
	curl -s -o "$T/c$i.body" -w '%{http_code}\n' -X POST -H "Authorization: Bearer $TOKEN" --data-binary "@$T/c$i" \
		"${URL}api/profiles?kind=flamegraph&title=concurrent-$i" >"$T/c$i.code" &
done
wait_curls() { local p; for p in $(jobs -p); do [ "$p" = "$SPID" ] || wait "$p"; done; }
wait_curls
created=$(cat "$T"/c*.code | grep -c '^201$')
ok_if "50 concurrent uploads: 50 answered 201 ($created)" test "$created" = 50
curl -s "${URL}api/profiles?q=concurrent-" | grep -o '"title":"concurrent-[0-9]*"' | sort -u >"$T/conc"
ok_if "... all 50 listed, each once ($(wc -l <"$T/conc"))" test "$(wc -l <"$T/conc")" = 50 -a "$(count)" = $((before + 50))
intact=0
for i in $(seq 1 50); do
	id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/c$i.body")
	curl -s "${URL}api/profiles/$id?format=folded" | cmp -s - "$T/c$i" && intact=$((intact + 1))
done
ok_if "... none corrupted: each reads back exactly as sent ($intact)" test "$intact" = 50

# --- restart keeps everything
all=$(count)
stop_serve
start_serve --db "$T/shark.db" --token "$TOKEN" --max-body 1
export SHARK_CLOUD_URL=$URL
ok_if "after a restart the $all profiles are still listed" test "$(count)" = "$all"
ok_if "... and read back the same" bash -c "curl -s '${URL}api/profiles/$flame?format=folded' | cmp -s - '$T/flame.folded'"

# --- the pages, in headless chromium
ids="{\"pprof\":$pprof_id,\"flame\":$flame,\"timed\":$timed,\"heat\":$heat,\"heatEvents\":3000,\"a\":$a,\"b\":$b,\"xss\":$xss}"
mkdir -p "$OUT"
NODE_PATH="$TOP/tests/browser/node_modules" timeout -s KILL 120 node "$TOP/tests/browser/viewer.js" "$URL" "$ids" "$OUT" \
	>"$T/browser" 2>&1
while IFS= read -r line; do
	case $line in
	PASS\ *) n=$((n + 1)); echo "ok $n - chromium: ${line#PASS }" ;;
	FAIL\ *) n=$((n + 1)); echo "not ok $n - chromium: ${line#FAIL }" ;;
	esac
done <"$T/browser"
ok_if "chromium: the browser test ran to its end" bash -c "grep -q '^PASS no script errors' '$T/browser'"
ok_if "... screenshots of each page in $OUT" test -s "$OUT/serve-flame.png" -a -s "$OUT/serve-heatmap.png" \
	-a -s "$OUT/serve-diff.png" -a -s "$OUT/serve-scope.png" -a -s "$OUT/serve-list.png"

# --- delete
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "Authorization: Bearer $TOKEN" "${URL}api/profiles/$a")
ok_if "DELETE with the token: 204, then the profile is gone (404)" bash -c "test '$code' = 204 && \
	test \"\$(curl -s -o /dev/null -w '%{http_code}' '${URL}api/profiles/$a')\" = 404"

# --- an unreachable server: a message, the data kept, the exit status unchanged
SHARK_CLOUD_URL=http://127.0.0.1:1/ run -c "$PROGS/fpchain 300" "$TOP/samples/profile.lua" -U --upload
check "upload to an unreachable server: exit 0, a clear message, the data saved to a file" rc=0 \
	"err~sharkcloud: cannot reach http://127.0.0.1:1/: Connection refused; the data is saved in $T/shark-flamegraph-"
saved=$(ls "$T"/shark-flamegraph-*.folded 2>/dev/null | head -1)
ok_if "... the saved file holds the folded stacks" grep -Eq 'main;mid;leaf [0-9]+$' "${saved:-/dev/null}"

# --- the decoders under mutated input (minutes of it: shark tests/fuzz/upload.lua 300)
"$SHARK" "$TOP/tests/fuzz/upload.lua" 5 >"$T/fuzz" 2>&1
ok_if "fuzz: 5 s of mutated uploads, 0 crashes ($(head -1 "$T/fuzz" | cut -c1-70))" \
	bash -c "grep -q '^ok 1 - .*, 0 crashes$' '$T/fuzz' && grep -q '^ok 2 ' '$T/fuzz'"
"$SHARK" "$TOP/tests/fuzz/http.lua" 3 "$PORT" "$TOKEN" >"$T/hfuzz" 2>&1
ok_if "fuzz: 3 s of mutated HTTP requests, the server still answers, never 500 ($(head -1 "$T/hfuzz" | cut -c3-60))" \
	bash -c "grep -q '^ok 1 ' '$T/hfuzz' && grep -q '^ok 2 ' '$T/hfuzz'"

stop_serve
ok_if "shark serve ends on SIGTERM and leaves no listening socket" bash -c "! ss -ltn | grep -q ':$PORT '"
done_testing
