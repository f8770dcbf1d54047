# SPDX-License-Identifier: GPL-2.0
# grpc_client.sh - shark's gRPC client (core/grpc.c, nghttp2) against an
# HTTP/2 server that answers wrongly (tests/otlp/grpc_hostile.js, node's
# http2): a huge or over-bound message length, bad compressed flags, a cut
# message or prefix, two messages, no trailers, not gRPC at all, an HTTP
# error, a malformed grpc-status, headers over the bound, a reset stream, a
# silent server. Each is a clear error (or the status gRPC maps it to), no
# crash; then 1000 mutated responses in a row, every one answered.
. "$(dirname "$0")/lib.bash"

HPID=""
trap 'kill -KILL $HPID 2>/dev/null; wait 2>/dev/null; bg_cleanup; rm -rf "$T"' EXIT

if ! command -v node >/dev/null; then
	skip "shark's gRPC client against a hostile server" "node missing (deps/install test)"
	done_testing
	exit 0
fi
node "$TOP/tests/otlp/grpc_hostile.js" >"$T/h.out" 2>"$T/h.err" &
HPID=$!
until_ok 20 grep -q listening "$T/h.out"
PORT=$(sed -n 's/^listening //p' "$T/h.out")
CALL=$TOP/tests/otlp/grpc_call.lua

declare -A want=(
	[ok]='status 0 message "" http 200'
	[message]='status 13 message "disk full: 100%" http 200'
	[huge]='error the response message is 2147483647 bytes, more than the 1 MiB taken'
	[overbound]='error the response message is 1048577 bytes, more than the 1 MiB taken'
	[badflag]='error a malformed response message: compressed flag 7'
	[compressed]='error a compressed response message \(none was asked for\)'
	[truncated]='error the response ended inside its message \(10 of 100 bytes\)'
	[shortprefix]="error the response ended inside a message's 5-byte prefix \(3 bytes\)"
	[twomsgs]="error more response data than its one message's 1 bytes \(a unary call answers one message\)"
	[notrailers]='error the response has no grpc-status trailer'
	[html]='error not a gRPC response \(HTTP 200, content-type "text/html"\)'
	[http503]='status 14 message "HTTP 503 without a grpc-status" http 503'
	[badstatus]='error a malformed grpc-status: "abc"'
	[bigheaders]="error (the response's headers are larger than 16384 bytes|the server reset the stream)"
	[reset]='error the server reset the stream: INTERNAL_ERROR'
	[silent]="error no answer from 127\.0\.0\.1:$PORT within 5000 ms"
)
modes="ok message huge overbound badflag compressed truncated shortprefix twomsgs notrailers html http503 badstatus bigheaders reset silent"
# shellcheck disable=SC2086
run "$CALL" "http://127.0.0.1:$PORT" $modes
check "one call after another, shark exits 0" rc=0
for m in $modes; do
	ok_if "$m: ${want[$m]}" grep -Eqx "$m ${want[$m]}" "$T/out"
done

run "$CALL" "http://127.0.0.1:$PORT" 'random*1000' ok
check "1000 mutated responses: every call answered (a status or an error), none crashes" rc=0 \
	"out~^random calls 1000 answered [0-9]+$" "out~^ok status 0"

run "$CALL" "http://127.0.0.1:$PORT" size+3000000
check "a 3 MB message goes whole (HTTP/2 flow control over many windows)" rc=0 \
	'out~^size status 0 message "3000000/3000000" http 200$'

run "$CALL" "https://127.0.0.1:$PORT" ok
check "https:// without a CA file: said so" rc=0 "out~^ok error https needs a CA file to check the server against$"
run "$CALL" "http://127.0.0.1:1" ok
check "nothing listening: the address and why" rc=0 "out~^ok error 127\.0\.0\.1:1: Connection refused$"

done_testing
