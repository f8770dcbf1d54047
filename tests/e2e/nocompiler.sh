# SPDX-License-Identifier: GPL-2.0
# nocompiler.sh - every sample runs where there is no compiler: their BPF C was
# compiled when shark was built and is inside it. clang is hidden in a mount
# namespace (an empty tmpfs over LLVM's bin folder, where /usr/bin/clang
# points), and the cache starts empty and must stay without objects.
. "$(dirname "$0")/lib.bash"

S=$TOP/samples
LLVM=$(dirname "$(readlink -f "$(command -v clang)")")
export SHARK_CACHE=$T/cache
W="$PROGS/getppid_n 300"
printf 'main;work 3\nmain;rest 1\n' >"$T/a.folded"

# args for each sample: the -c workload ends the run; tools that need an
# argument get one that exists here
args_of() {
	case $1 in
	funccount.lua | funclatency.lua) echo "c:getppid" ;;
	stackcount.lua) echo "t:syscalls:sys_enter_getppid" ;;
	pycalls.lua) echo "-b /usr/bin/python3.11" ;;
	flamediff.lua) echo "$T/a.folded $T/a.folded" ;;
	*) ;;
	esac
}

cat >"$T/hidden.sh" <<EOF
mount -t tmpfs none '$LLVM' || exit 9
if command -v clang >/dev/null || [ -e /usr/bin/clang ]; then exit 8; fi
cd '$T'
for s in $S/*.lua; do
	n=\${s##*/}
	case \$n in
$(for s in "$S"/*.lua; do n=${s##*/}; printf '\t%s) a="%s" ;;\n' "$n" "$(args_of "$n")"; done)
	esac
	# shellcheck disable=SC2086
	timeout -s KILL 30 '$SHARK' -c '$W' "\$s" \$a >"\$n.out" 2>"\$n.err" </dev/null
	echo \$? >"\$n.rc"
done
EOF
unshare -m --propagation private sh "$T/hidden.sh"
RC=$?
check "clang hidden in a mount namespace (tmpfs over $LLVM)" rc=0
ran=0
for s in "$S"/*.lua; do
	name=${s##*/}
	[ -f "$T/$name.rc" ] || continue
	ran=$((ran + 1))
	RC=$(cat "$T/$name.rc")
	cp "$T/$name.out" "$T/out"
	cp "$T/$name.err" "$T/err"
	check "$name runs with no compiler and an empty cache" rc=0 '!err~clang' '!err~^[^ ]+:[0-9]+: '
done
ok_if "every sample ran ($ran)" [ "$ran" -ge 39 ]
ok_if "nothing was compiled: the cache holds no object" \
	[ "$(find "$SHARK_CACHE" -name '*.bpf.o' 2>/dev/null | wc -l)" = 0 ]

# with clang there, the same literal is not compiled either: shark has it
run -c "$W" "$S/execsnoop.lua"
check "execsnoop with clang present: no object compiled into the cache" rc=0 'out~^PCOMM'
ok_if "the cache is still without objects" [ "$(find "$SHARK_CACHE" -name '*.bpf.o' 2>/dev/null | wc -l)" = 0 ]

done_testing
