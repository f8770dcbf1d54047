# SPDX-License-Identifier: GPL-2.0
# serve.sh - shark serve: upload and store of a 10 MB folded profile, idle
# RSS, and how soon a page of 50 000 unique stacks is interactive in chromium.
. "$(dirname "$0")/lib.bash"

T=$(mktemp -d /tmp/shark-bench-serve.XXXXXX)
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
"$SHARK" serve --listen 127.0.0.1:0 --db "$T/db" --token bench >"$T/out" 2>&1 &
SPID=$!
for ((i = 0; i < 100; i++)); do grep -q '^serving' "$T/out" && break; sleep 0.05; done
URL=$(sed -n 's/^serving //p' "$T/out")
rss() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$SPID/status"; }

# 100 000 unique stacks of 8-14 frames, ~100 bytes a line
awk 'BEGIN { srand(7); for (i = 0; i < 100000; i++) { d = 8 + i % 7; s = "main";
	for (j = 1; j < d; j++) s = s ";fn_" int(rand() * 400) "_" j; printf "%s;leaf_%d %d\n", s, i, 1 + i % 50 } }' \
	>"$T/big.folded"
# 50 000 unique stacks for the page
head -n 50000 "$T/big.folded" >"$T/50k.folded"
mb=$(du -m "$T/big.folded" | cut -f1)

echo "== shark serve"
row "measure" "value" "target"
row "RSS idle after start (MB)" "$(rss)" "<= 16"
times=()
for i in 1 2 3 4 5; do
	times+=("$(curl -s -o "$T/r" -w '%{time_total}' -X POST -H 'Authorization: Bearer bench' \
		--data-binary @"$T/big.folded" "${URL}api/profiles?kind=flamegraph&title=big")")
	grep -q '"id"' "$T/r" || { echo "upload failed: $(cat "$T/r")"; exit 1; }
done
up=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END { printf "%.3f", a[3] }')
row "upload + store of ${mb} MB, 100k stacks (s, median of 5)" "$up" "<= 1"
sleep 1
row "RSS idle after 5 uploads (MB)" "$(rss)" "<= 16"
curl -s -X POST -H 'Authorization: Bearer bench' --data-binary @"$T/50k.folded" \
	"${URL}api/profiles?kind=flamegraph&title=50k" >"$T/r"
id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/r")
get=$(curl -s -o /dev/null -w '%{time_total}' "${URL}api/profiles/$id?format=json")
row "GET the 50k-stack view's JSON (s)" "$get" ""
if [ -x /usr/bin/chromium ] && [ -d "$TOP/tests/browser/node_modules/playwright-core" ]; then
	read -r load zoom < <(NODE_PATH="$TOP/tests/browser/node_modules" node "$TOP/tests/browser/bench.js" \
		"${URL}p/$id" 5)
	row "page of 50 000 unique stacks interactive (ms)" "$load" "<= 2000"
	row "... one click-to-zoom redrawn (ms)" "$zoom" ""
else
	echo "chromium or playwright-core missing (deps/install test; make browser-deps): no page timing"
fi
row "RSS after serving the pages (MB)" "$(rss)" ""
