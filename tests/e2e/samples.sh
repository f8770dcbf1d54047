# SPDX-License-Identifier: GPL-2.0
# samples.sh - every sample runs as a user would run it, on real events.
. "$(dirname "$0")/lib.bash"

run "$TOP/samples/demo.lua" 1
check "demo: per-second counts from tracepoints, then the top syscalls, processes and commands" rc=0 \
	'out~^tracing for 1 s' 'out~^[0-9:]{8} +[0-9]+ +[0-9]+$' 'out~^busiest system calls$' \
	'out~^system calls by process$' 'out~^du\[[0-9]+\] +[0-9]+ \|@' 'out~^on-CPU time by command \(ms\)$' \
	'out~^(newfstatat|getdents64|fstatat64|statx) +[0-9]+ \|'

done_testing
