# SPDX-License-Identifier: GPL-2.0
# samples_snoop.sh - the classic snoop tools (execsnoop, exitsnoop, opensnoop,
# killsnoop, sigsnoop, bashreadline, tcpconnect, tcpaccept, tcplife) on
# workloads whose pids, arguments, paths, signals, ports and bytes are known.
. "$(dirname "$0")/lib.bash"

S=$TOP/samples

run "$S/execsnoop.lua" -h
check "-h prints the usage" rc=0 'out~^usage: execsnoop \[options\]' 'out~-x, --fails'
run "$S/execsnoop.lua" --bogus
check "an unknown flag is a usage error" rc=2 'err~unknown option --bogus'

# --- execsnoop: the full argv of a known pid, and failed execs with -x

run -c "sh -c 'echo pid=\$\$; exec /bin/echo shark-argv \"two words\" 42'" "$S/execsnoop.lua"
pid=$(sed -n 's/^pid=//p' "$T/out")
check "execsnoop: the exec'd command line, pid, parent and result 0" rc=0 \
	'out~^PCOMM +PID +PPID +RET ARGS$' "out~^echo +$pid +[0-9]+ +0 /bin/echo shark-argv two words 42$"
run -c "sh -c '/nonexistent/shark-nope arg1; /bin/true shark-ok'" "$S/execsnoop.lua" -x
check "execsnoop -x: a failed exec with ENOENT (-2), no successful ones" rc=0 \
	'out~ -2 /nonexistent/shark-nope arg1$' '!out~shark-ok'
run -c "sh -c '/bin/true shark-json'" "$S/execsnoop.lua" -j -n true
check "execsnoop -j -n: JSON lines of the matching command only" rc=0 \
	'out~^\{.*"args":"\\/bin\\/true shark-json"' '!out~"args":"sh -c'

done_testing
