# SPDX-License-Identifier: GPL-2.0
# fleet_view.sh - shark serve's fleet view: profiles of three hosts (pprof, as
# agents push them, with exactly known counts and times, and pprofs of real
# runs) selected by label and time range (GET /api/profiles?host=..&from=..),
# merged (GET /api/merge: the exact sums, also read back by go tool pprof),
# counted per label (/api/labels) and over time (/api/timeline); refusals
# of bad parameters; an old database gets the new column; then the /fleet
# page in Debian's headless chromium (tests/browser/fleet.js).
. "$(dirname "$0")/lib.bash"

SPID=""
trap 'stop_serve; bg_cleanup; rm -rf "$T"' EXIT
TOKEN=fleet-token
T0=1699999980   # 2023-11-14T22:13:00Z: the synthetic profiles' first minute

start_serve() {
	rm -f "$T/serve.out"
	"$SHARK" serve --listen 127.0.0.1:0 "$@" >"$T/serve.out" 2>"$T/serve.err" </dev/null &
	SPID=$!
	until_ok 30 grep -q '^serving' "$T/serve.out" || return 1
	URL=$(sed -n 's/^serving //p' "$T/serve.out")
}
stop_serve() {
	[ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	SPID=""
}
# post QUERY FILE: the status in $T/code, the answer in $T/body
post() {
	curl -s -o "$T/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		--data-binary "@$2" "${URL}api/profiles?$1" >"$T/code"
}
get() { curl -s -o "$T/body" -w '%{http_code}' "${URL}$1" >"$T/code"; }
# has KEY VALUE: the JSON answer in $T/body has "KEY":VALUE (at any place)
has() { grep -Eq "\"$1\":$2[,}]" "$T/body"; }
id_of() { sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/body"; }
# ids QUERY: the ids GET /api/profiles?QUERY lists, sorted, space-separated
ids() { curl -s "${URL}api/profiles?$1" | grep -o '"id":[0-9]*' | cut -d: -f2 | sort -n | tr '\n' ' ' | sed 's/ $//'; }
# folded text of a merge, sorted
merged() { curl -s "${URL}api/merge?$1&format=folded" | sort; }

# A pprof the way the agent makes one: shark.stacks + shark.pprof, with the
# time the samples were taken in the profile.
cat >"$T/mk.lua" <<'EOF'
local stacks, pprof = require "shark.stacks", require "shark.pprof"
local folded, t, out = arg[1], tonumber(arg[2]), arg[3]
local counts = {}
for stack, n in folded:gmatch("([^\n]+) (%d+)") do counts[stack] = tonumber(n) end
local s = stacks.of(counts)
local f = assert(io.open(out, "wb"))
f:write(pprof.encode(s, { time_ns = t * 1e9, duration_ns = 60e9 }))
f:close()
EOF

if ! start_serve --db "$T/fleet.db" --token "$TOKEN"; then
	echo "not ok 1 - shark serve did not start"; cat "$T/serve.err"; echo "1..1"; exit 1
fi

# --- three hosts, a profile a minute each: main;mid;leaf 10, main;only_HOST k
#     (k = 1, 2, 3 for a, b, c), main;mid;minute_M 1
made=0
declare -A ID
for h in a b c; do
	k=$(( $(printf '%d' "'$h") - 96 ))
	for m in 0 1 2; do
		printf 'main;mid;leaf 10\nmain;only_%s %d\nmain;mid;minute_%d 1\n' "$h" "$k" "$m" >"$T/f"
		"$SHARK" "$T/mk.lua" "$(cat "$T/f")" $((T0 + 60 * m)) "$T/$h$m.pb.gz" 2>>"$T/mk.err"
		post "kind=flamegraph&title=$h-$m&label.host=$h&label.service=svc-$h&label.pid=$((100 + m))" "$T/$h$m.pb.gz"
		[ "$(cat "$T/code")" = 201 ] && made=$((made + 1))
		ID[$h$m]=$(id_of)
	done
done
ok_if "9 pprof profiles of hosts a, b, c (3 minutes each) uploaded (201: $made)" test "$made" = 9

# --- the list filters by label and time
ok_if "host=a lists exactly a's three" test "$(ids host=a)" = "${ID[a0]} ${ID[a1]} ${ID[a2]}"
ok_if "host=a&host=b&from=T0+60 lists a's and b's last two" \
	test "$(ids "host=a&host=b&from=$((T0 + 60))")" = "${ID[a1]} ${ID[a2]} ${ID[b1]} ${ID[b2]}"
ok_if "from=T0&to=T0+60 (to excluded) lists the first minute of each host" \
	test "$(ids "from=$T0&to=$((T0 + 60))")" = "${ID[a0]} ${ID[b0]} ${ID[c0]}"
ok_if "... the same range as UTC times" \
	test "$(ids "from=2023-11-14T22:13:00Z&to=2023-11-14T22:14:00Z")" = "${ID[a0]} ${ID[b0]} ${ID[c0]}"
ok_if "two labels must both match (host=c&pid=102)" test "$(ids "host=c&pid=102")" = "${ID[c2]}"
ok_if "label.NAME works for any label (label.service=svc-b)" \
	test "$(ids "label.service=svc-b")" = "${ID[b0]} ${ID[b1]} ${ID[b2]}"
ok_if "the list says when each profile's samples were taken (taken, from the pprof)" \
	bash -c "curl -s '${URL}api/profiles?host=a&to=$((T0 + 1))' | grep -q '\"taken\":$T0[,}]'"

# --- the merge: exact sums
printf 'main;mid;leaf 60\nmain;mid;minute_0 2\nmain;mid;minute_1 2\nmain;mid;minute_2 2\nmain;only_a 3\nmain;only_b 6\n' \
	>"$T/want"
merged "host=a&host=b" >"$T/got"
ok_if "merge host=a&host=b: every stack's exact sum" diff "$T/got" "$T/want"
get "api/merge?host=a&host=b&host=c"
r=0; has profiles 9 && has samples 117 && grep -q 'main;mid;leaf 90' "$T/body" || r=1
ok_if "merge of the 3 hosts (json): 9 profiles, 117 samples, leaf 90" test $r = 0
ok_if "merge of a time range: from=T0+60&to=T0+120 sums the middle minute" \
	test "$(merged "from=$((T0 + 60))&to=$((T0 + 120))" | tr '\n' '|')" = \
	"main;mid;leaf 30|main;mid;minute_1 3|main;only_a 1|main;only_b 2|main;only_c 3|"
get "api/merge?host=b&limit=2"
r=0; has profiles 2 && has matched 3 && grep -q 'minute_2 1' "$T/body" && ! grep -q 'minute_0' "$T/body" || r=1
ok_if "limit=2 merges the newest two of the three (matched 3)" test $r = 0
curl -s -o "$T/m.pb.gz" "${URL}api/merge?host=a&host=b&host=c&format=pprof"
if (cd "$T" && HOME=$T timeout 60 go tool pprof -traces "$T/m.pb.gz") >"$T/traces" 2>"$T/go.err"; then
	leaf=$(awk '/^-+\+-+$/ { v = 0; next } NF == 2 && $1 ~ /^[0-9]+$/ { v = $1; f = $2; if (f == "leaf") s += v }
		END { print s + 0 }' "$T/traces")
	total=$(awk 'NF == 2 && $1 ~ /^[0-9]+$/ { s += $1 } END { print s + 0 }' "$T/traces")
	ok_if "go tool pprof reads the merged pprof: 117 samples, 90 of them in leaf ($total, $leaf)" \
		test "$total" = 117 -a "$leaf" = 90
else
	ok_if "go tool pprof reads the merged pprof ($(head -c 200 "$T/go.err"))" false
fi
get "api/merge?host=nobody"
r=0; grep -qx 200 "$T/code" && has profiles 0 || r=1
ok_if "an empty selection merges to nothing: 200, 0 profiles" test $r = 0
get "api/merge?host=nobody&format=folded"
ok_if "... and 404 for a file format" test "$(cat "$T/code")" = 404

# --- real profiles of fpchain from three "hosts": the merge is the sum of each
for i in 1 2 3; do
	run -c "$PROGS/fpchain 600" "$TOP/samples/profile.lua" -F 199 -U -f pprof -o "$T/real$i.pb.gz"
	post "kind=flamegraph&title=real-$i&label.host=real-$i&label.service=fpchain" "$T/real$i.pb.gz"
	ID[real$i]=$(id_of)
	curl -s "${URL}api/profiles/${ID[real$i]}?format=folded" >"$T/real$i.folded"
done
ok_if "three real profiles of fpchain stored (main;mid;leaf in each)" \
	bash -c "grep -lE '(^|;)main;mid;leaf [0-9]+$' '$T'/real?.folded | wc -l | grep -qx 3"
awk '{ n = $NF; $NF = ""; sub(/ $/, ""); s[$0] += n } END { for (k in s) print k " " s[k] }' "$T"/real?.folded \
	| sort >"$T/real.want"
merged "service=fpchain" >"$T/real.got"
ok_if "merge service=fpchain: the exact per-stack sum of the three ($(wc -l <"$T/real.want") stacks)" \
	bash -c "test -s '$T/real.want' && diff '$T/real.got' '$T/real.want'"

# --- labels with counts, the timeline
get "api/labels?host=a"
ok_if "labels host=a: host keeps every value with its count (a, b, c: 3 each), service only a's" \
	bash -c "grep -q '\"host\":\[\[\"a\",3\],\[\"b\",3\],\[\"c\",3\]' '$T/body' && \
		grep -q '\"service\":\[\[\"svc-a\",3\]\]' '$T/body' && grep -q '\"total\":3' '$T/body'"
get "api/timeline?by=host&step=60&host=a&host=c"
r=0
grep -q '"value":"a"' "$T/body" && grep -q '"value":"c"' "$T/body" && ! grep -q '"value":"b"' "$T/body" &&
	[ "$(grep -o '"counts":\[[0-9,]*\]' "$T/body" | sort -u)" = "\"counts\":[$T0,1,$((T0 + 60)),1,$((T0 + 120)),1]" ] &&
	has step 60 || r=1
ok_if "timeline by host, 60 s steps: one profile a minute for a and c, nothing else" test $r = 0

# --- bad parameters: 400 and what is wrong
bad=0
while IFS='|' read -r q want; do
	get "$q"
	if [ "$(cat "$T/code")" != 400 ] || ! grep -qF "$want" "$T/body"; then
		bad=$((bad + 1)); echo "# $q -> $(cat "$T/code") $(cat "$T/body")"
	fi
done <<EOF
api/profiles?hots=a|unknown parameter 'hots'
api/merge?from=yesterday|from: expected seconds since the epoch or a UTC time
api/merge?to=2023-13-01T00:00:00Z|to: expected seconds
api/merge?from=$((T0 + 60))&to=$T0|from ($((T0 + 60))) must be before to ($T0)
api/merge?limit=0|limit: expected a whole number from 1 to 100000
api/merge?label.bad%20name=x|bad label name 'bad name'
api/merge?format=xml|format must be folded, json, svg, pprof or speedscope
api/merge?kind=heatmap|only flame graphs merge
api/timeline?by=a%3Bb|by: bad label name 'a;b'
api/timeline?step=0|step: expected whole seconds
api/labels?kind=pie|kind must be flamegraph or heatmap
EOF
ok_if "11 bad parameters: 400 with what is wrong" test "$bad" = 0
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${URL}api/merge")
ok_if "POST /api/merge: 405" test "$code" = 405
printf 'main 1\n' >"$T/one"
post "kind=flamegraph&time=soon" "$T/one"
ok_if "an upload with a bad time=: 400, nothing stored" bash -c "test \"\$(cat '$T/code')\" = 400 && \
	grep -qF \"time: expected seconds\" '$T/body'"

# --- an upload sent again with its upload_id (its answer was lost) is stored once
before=$(ids "" | wc -w)
post "kind=flamegraph&title=once&upload_id=run1-7" "$T/one"; first=$(cat "$T/code"):$(id_of)
post "kind=flamegraph&title=once&upload_id=run1-7" "$T/one"; again=$(cat "$T/code"):$(id_of)
ok_if "upload_id: sent twice, stored once (201 then 200 with the same id: $first, $again)" \
	test "${first%%:*}" = 201 -a "${again%%:*}" = 200 -a "${first#*:}" = "${again#*:}" -a "$(ids "" | wc -w)" = $((before + 1))
post "kind=flamegraph&upload_id=a%20b" "$T/one"
ok_if "... a malformed upload_id: 400" test "$(cat "$T/code")" = 400

# --- a database made before the 'taken' column: migrated, rows kept
cat >"$T/old.lua" <<'EOF'
-- old.lua make DB T0 | read DB: the schema before 'taken', through shark's SQLite
local sqlite = require "shark.sqlite"
local db = assert(sqlite.open(arg[2]))
if arg[1] == "make" then
  db:exec([[CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE profiles (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, title TEXT NOT NULL,
labels TEXT NOT NULL, time INTEGER NOT NULL, samples INTEGER NOT NULL, bytes INTEGER NOT NULL, data BLOB NOT NULL);]])
  db:run("INSERT INTO profiles VALUES (NULL, 'flamegraph', 'old', '{\"host\":\"h\"}', ?, 4, 9, 'main;x 4')",
    tonumber(arg[3]))
else
  for _, r in ipairs(db:rows("SELECT taken FROM profiles")) do print(("%d"):format(r.taken)) end
end
db:close()
EOF
"$SHARK" "$T/old.lua" make "$T/old.db" "$T0"
run serve --db "$T/old.db" --list-tokens
ok_if "an old database opens, and gets the column 'taken' (its upload time)" \
	bash -c "test $RC = 0 && test \"\$('$SHARK' '$T/old.lua' read '$T/old.db')\" = $T0"

# --- an XSS attempt for the page: a label value and a frame with markup
printf 'main;<script>alert(1)</script> 5\n' >"$T/x"
post "kind=flamegraph&title=x&label.host=%3Cimg%20src%3Dx%20onerror%3Dalert(2)%3E&time=$T0" "$T/x"

# --- the /fleet page in headless chromium
data="{\"t0\":$T0,\"a0\":${ID[a0]}}"
mkdir -p "$OUT"
NODE_PATH="$TOP/tests/browser/node_modules" timeout -s KILL 120 node "$TOP/tests/browser/fleet.js" "$URL" "$data" \
	"$OUT" >"$T/browser" 2>&1
while IFS= read -r line; do
	case $line in
	PASS\ *) n=$((n + 1)); echo "ok $n - chromium: ${line#PASS }" ;;
	FAIL\ *) n=$((n + 1)); echo "not ok $n - chromium: ${line#FAIL }" ;;
	esac
done <"$T/browser"
ok_if "chromium: the fleet browser test ran to its end ($(tail -1 "$T/browser" | head -c 100))" \
	grep -q '^PASS no script errors' "$T/browser"
ok_if "... screenshots in $OUT" test -s "$OUT/fleet-two-hosts.png" -a -s "$OUT/fleet-range.png" \
	-a -s "$OUT/fleet-diff.png"

stop_serve
done_testing
