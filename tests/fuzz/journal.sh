#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# journal.sh [SECONDS] - fuzz the journal reader under ASan/UBSan: record
# seed journals of real events (tracepoint samples with user strings, and
# cpu-clock samples with callchains), then read mutations of them for
# SECONDS (default 120). Prints TAP; a crash fails it.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-120}
make -s .output/fuzz_journal shark progs || exit 1
T=$(mktemp -d /tmp/shark-fuzz.XXXXXX)
trap 'rm -rf "$T"' EXIT
P=.output/progs
./shark -q record -o "$T/tp.journal" tests/fixtures/journal_openat.lua -- $P/openat_n 300 /etc/hostname >/dev/null
./shark -q record -o "$T/cg.journal" -e cpu-clock -F 999 -g -- $P/fpchain 200
if .output/fuzz_journal "$secs" "$T/tp.journal" "$T/cg.journal" >"$T/log" 2>"$T/err"; then
	echo "ok 1 - $(cat "$T/log") in ${secs}s"
else
	echo "not ok 1 - the reader crashed on a mutated journal"
	head -40 "$T/err" | sed 's/^/#   /'
fi
echo "1..1"
