# SPDX-License-Identifier: GPL-2.0
# bundle_flip.sh - a bundle with any one byte changed is refused before any
# of its code runs (the checksum covers the whole file but its slot, checked
# first thing): sampled positions across the whole file, each must exit
# with a message, never run the script, crash or hang.
. "$(dirname "$0")/lib.bash"

echo 'print("ran the script")' >"$T/tool.lua"
run bundle "$T/tool.lua" -o "$T/tool"
check "bundle a one-line script" rc=0
B=$T/tool
size=$(stat -c %s "$B")

# The dynamic loader applies these tables before any code of the bundle
# runs (as for every dynamically linked program): a changed relocation can
# crash ld.so itself. Crashes there are counted apart, not as shark's.
sections() {	# NAME OFFSET SIZE of every section, in hex
	readelf -S -W "$B" | sed -n 's/^ *\[ *[0-9]*\] *//p' | awk '{ print $1, $4, $5 }'
}
loader=$(sections | while read -r name off len; do
	case $name in .rela.dyn | .rela.plt | .dynamic | .got | .got.plt) echo "$((16#$off)):$((16#$len))" ;; esac
done | tr '\n' ' ')
in_loader() {
	local r
	for r in $loader; do
		[ "$1" -ge "${r%%:*}" ] && [ "$1" -lt $(( ${r%%:*} + ${r##*:} )) ] && return 0
	done
	return 1
}

flip() {	# flip POS XOR: one byte of a copy, run it; sets RC
	cp "$B" "$T/f"
	local v
	v=$(od -An -tu1 -j "$1" -N1 "$T/f" | tr -d ' ')
	printf "\\$(printf '%03o' $(( v ^ $2 )))" | dd of="$T/f" bs=1 seek="$1" conv=notrunc status=none
	timeout -s KILL 10 "$T/f" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
}

N=160 bad="" loader_crashes=0 refused=0
stride=$((size / N))
for ((i = 0; i < N; i++)); do
	pos=$(( i * stride + (i * 7919) % stride ))
	flip "$pos" $(( i % 2 ? 0xff : 0x01 ))
	if [ "$RC" -ge 128 ] && in_loader "$pos"; then
		loader_crashes=$((loader_crashes + 1))
	elif [ "$RC" -eq 0 ] || [ "$RC" -ge 128 ] || grep -q "ran the script" "$T/out"; then
		bad="$bad $pos:rc$RC"
	else
		refused=$((refused + 1))
	fi
done
echo "# loader tables (offset:size): $loader"
echo "# $N flips over $size bytes: $refused refused, $loader_crashes crashed in the dynamic loader's tables"
ok_if "every flipped byte outside the loader's tables is refused, no crash, no hang (bad:${bad:- none})" \
	test -z "$bad"

# the slot itself: its magic, its sizes, its checksum
slot=$(sections | while read -r name off _; do [ "$name" = .shark_bundle ] && echo $((16#$off)); done)
for d in 0 5 13 16 24 32 40 48 56; do
	flip $((slot + d)) 0x01
	check "a changed byte $d of the bundle's slot is refused, not run as a plain shark" rc=1 \
		"err~^this bundle is damaged: " '!out~.'
done
flip 100 0x20
check "a changed byte in the ELF header's padding is refused by the checksum" rc=1 \
	"err~this bundle is damaged: its bytes do not match its checksum"
flip $((size - 1)) 0x01
check "a changed last byte (the moved program headers) is refused" '!out~ran the script'

done_testing
