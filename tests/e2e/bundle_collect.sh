# SPDX-License-Identifier: GPL-2.0
# bundle_collect.sh - shark bundle finds the BPF C of a script however it is
# written, and refuses to write a bundle that would fail on the target.
. "$(dirname "$0")/lib.bash"

export SHARK_CACHE=$T/cache

# a bundle runs where clang is missing and nothing is cached
runb() {
	local b=$1; shift
	SHARK_CLANG=/nonexistent SHARK_CACHE=$T/empty timeout -s KILL 30 "$b" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
}

# the workload module of the bundle tests, and a script around one line of BPF C
cp "$TOP/tests/bundle/workload.lua" "$T/"
COUNT='require("workload").run(shark.args, function(pid) print(bpf.var.hits[pid]) end)'
MAP='struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4096); __type(key, u32); __type(value, u64); } hits SEC(".maps");'
BODY='SEC("tracepoint/syscalls/sys_enter_getpgid") int c(void *ctx) { u32 p = bpf_get_current_pid_tgid() >> 32; shark_count(\&hits, \&p); return 1; }'

printf 'bpf.cdef[[ %s %s ]]\n%s\n' "$MAP" "$BODY" "$COUNT" | sed 's/\\&/\&/g' >"$T/oneline.lua"
run bundle "$T/oneline.lua" -o "$T/oneline"
check "a one-line bpf.cdef[[ SEC(...) ... ]] is bundled" rc=0 "err~1 BPF object"
runb "$T/oneline" "$PROGS/syscall_nr" 121 9
check "... and its bundle runs it without clang" rc=0 out=9

printf 'bpf.cdef("%s %s")\n%s\n' "$(printf '%s' "$MAP" | sed 's/"/\\"/g')" \
	"$(printf '%s' "$BODY" | sed 's/"/\\"/g; s/\\&/\&/g')" "$COUNT" >"$T/quoted.lua"
run bundle "$T/quoted.lua" -o "$T/quoted"
check "a quoted bpf.cdef(\"...\") is bundled" rc=0 "err~1 BPF object"
runb "$T/quoted" "$PROGS/syscall_nr" 121 4
check "... and its bundle runs it without clang" rc=0 out=4

printf 'print("x")\nlocal o = bpf.load("missing.bpf.c")\n' >"$T/nofile.lua"
run bundle "$T/nofile.lua" -o "$T/nofile"
check "a .bpf.c file that does not exist fails at bundle time, naming the line" rc=1 \
	"err~nofile.lua:2: the BPF file 'missing.bpf.c' does not exist"
ok_if "... and no bundle is written" test ! -e "$T/nofile"

printf 'local h = require "hist"\nlocal m = require "no_such_module"\nprint(h, m)\n' >"$T/nomod.lua"
run bundle "$T/nomod.lua" -o "$T/nomod"
check "a required module found nowhere fails at bundle time" rc=1 \
	"err~nomod.lua:2: require 'no_such_module': no .*no_such_module.lua next to the script and no such module in shark"
ok_if "... and no bundle is written" test ! -e "$T/nomod"

printf 'local c = require "cjson"\nlocal h = require "hist"\nlocal t = require "shark.table"\nprint(c ~= nil and h ~= nil and t ~= nil)\n' >"$T/libs.lua"
run bundle "$T/libs.lua" -o "$T/libs"
check "modules of the runtime (cjson, hist, shark.table) need nothing taken along" rc=0
runb "$T/libs"
check "... and the bundle finds them" rc=0 out=true

printf 'print("use SEC(\\"...\\") in BPF C")\n' >"$T/text.lua"
run bundle "$T/text.lua" -o "$T/text"
check "a message that mentions SEC(\"...\") is not taken for BPF C" rc=0 "err~0 BPF objects"

done_testing
