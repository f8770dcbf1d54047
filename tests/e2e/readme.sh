# SPDX-License-Identifier: GPL-2.0
# readme.sh - the README's code blocks run as written, so they cannot drift.
# Every indented code block of README.md follows a marker line:
#   <!-- readme-test: sh; expect: REGEX; expect: REGEX -->   a shell block, `shark` is ./shark
#   <!-- readme-test: lua ARGS; expect: REGEX -->            a Lua script: shark ARGS script.lua
#   <!-- readme-test: no (why) -->                           not runnable (a synopsis, make targets)
# Each command of a shell block gets Ctrl-C (SIGINT, which ends a run as a
# user would) after 3 s. The blocks run in a folder with samples/ and a Makefile
# whose `make` spins briefly. Output (stdout and stderr) must match every REGEX.
. "$(dirname "$0")/lib.bash"

README=$TOP/README.md
W=$T/readme
mkdir -p "$W/bin"
ln -s "$TOP/samples" "$W/samples"
printf 'all:\n\t@i=0; while [ $$i -lt 200000 ]; do i=$$((i + 1)); done\n' >"$W/Makefile"
# --foreground: timeout then signals shark alone. Without it, it also signals
# its process group, and under load shark takes the two SIGINTs as a second
# Ctrl-C (leave at once, exit 130) before its on_end handlers run.
cat >"$W/bin/shark" <<EOF
#!/bin/sh
exec timeout --foreground --preserve-status -s INT -k 20 3 "$SHARK" "\$@"
EOF
chmod +x "$W/bin/shark"

# each block: $T/b/N.line (its line), N.marker (the marker before it, or
# nothing), N.body (its lines without their 4 spaces)
mkdir -p "$T/b"
awk -v dir="$T/b" '
	/^<!-- readme-test:/ { marker = $0; mline = NR; next }
	/^    / && !inb {
		inb = 1; n++
		print NR > (dir "/" n ".line"); close(dir "/" n ".line")
		printf "%s", (mline == NR - 1 ? marker : "") > (dir "/" n ".marker"); close(dir "/" n ".marker")
	}
	/^    / { print substr($0, 5) > (dir "/" n ".body"); next }
	/^$/ && inb { print "" > (dir "/" n ".body"); next }
	{ inb = 0; marker = "" }
' "$README"

blocks=0
for f in $(ls "$T/b"/*.line | sort -V); do
	b=${f%.line}
	line=$(cat "$f")
	marker=$(cat "$b.marker")
	body=$(cat "$b.body")
	blocks=$((blocks + 1))
	spec=${marker#<!-- readme-test: }
	spec=${spec% -->}
	if [ -z "$marker" ]; then
		check "README.md:$line: the code block has a readme-test marker" rc=0 false
		continue
	fi
	case $spec in
	no\ *) continue ;;
	esac
	kind=${spec%%;*}
	expects=()
	rest=${spec#"$kind"}
	while [[ $rest == *"; expect: "* ]]; do
		rest=${rest#*; expect: }
		expects+=("out~${rest%%; expect: *}")
	done
	case $kind in
	sh)
		printf '%s\n' "$body" >"$W/block.sh"
		(cd "$W" && PATH="$W/bin:$PATH" timeout -s KILL 120 bash "$W/block.sh" >"$T/out" 2>&1 </dev/null)
		RC=$?
		;;
	lua\ *)
		printf '%s\n' "$body" >"$W/block.lua"
		# shellcheck disable=SC2086 # the marker's arguments, split as a shell would
		(cd "$W" && timeout -s KILL 60 "$SHARK" ${kind#lua } "$W/block.lua" >"$T/out" 2>&1 </dev/null)
		RC=$?
		;;
	*)
		check "README.md:$line: a known readme-test kind ('$kind')" rc=0 false
		continue
		;;
	esac
	: >"$T/err"
	check "README.md:$line: the $kind block runs as written" rc=0 "${expects[@]}"
done
ok_if "README.md has its code blocks ($blocks)" [ "$blocks" -ge 9 ]

# the sizes the README states are what a bundle measures (within 10%)
(cd "$W" && "$SHARK" bundle samples/execsnoop.lua -o "$W/execsnoop" >"$T/out" 2>&1)
total=$(sed -n 's/.*wrote .*, \([0-9.]*\) MB: runtime \([0-9.]*\) KB.*BPF object[s]* \([0-9.]*\) KB.*/\1 \2 \3/p' "$T/out")
said=$(tr '\n' ' ' <"$README" | sed -n \
	's/.*only; about \([0-9.]*\) MB).*samples\/execsnoop.lua`: *\([0-9.]*\) MB, of which its BPF object \([0-9.]*\) KB.*/\1 \2 \3/p')
ok_if "README's bundle sizes (runtime MB, execsnoop MB, its BPF object KB: $said) are the measured ones ($total)" \
	awk -v m="$total" -v s="$said" 'BEGIN { split(m, a, " "); split(s, b, " ")
		r[1] = a[2] / 1024 / b[1]; r[2] = a[1] / b[2]; r[3] = a[3] / b[3]
		for (i = 1; i <= 3; i++) if (!(r[i] > 0.9 && r[i] < 1.1)) exit 1 }'

done_testing
