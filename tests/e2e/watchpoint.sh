# SPDX-License-Identifier: GPL-2.0
# watchpoint.sh - hardware watchpoints (perf's mem:, PERF_TYPE_BREAKPOINT):
# exact counts of the writes and reads of a global of tests/progs/watched, by
# its address and by its name (a PIE executable: the name is looked up in its
# ELF symbols and placed where the process maps it).
. "$(dirname "$0")/lib.bash"

mkfifo "$T/go"
"$PROGS/watched" 1000 <"$T/go" >"$T/addr" & W=$!
exec 7>"$T/go"
for i in $(seq 100); do [ -s "$T/addr" ] && break; sleep 0.05; done
A=$(cat "$T/addr")
start -p "$W" -e "local n, m, k = 0, 0, 0
perf.on('mem:$A/8:w', function() n = n + 1 end)
perf.on('mem:counter/8:rw', function() m = m + 1 end)
perf.on('mem:counter:w', function(e) k = k + 1 end)
print('ready')
shark.on_end(function() print(n, m, k) end)"
wait_out '^ready$'
echo go >&7
exec 7>&-
wait "$W"
finish
check "mem:ADDR/8:w counts the 1000 writes; mem:counter/8:rw the 1000 writes and 500 reads; mem:counter:w (4 bytes)" \
	rc=0 "out~^1000	1500	1000$"

run -e 'perf.on("mem:counter", function() end)'
check "mem:NAME with no process: the error says what is missing" rc=1 "err~a variable's name needs the process"
run -p $$ -e 'perf.on("mem:no_such_var", function() end)'
check "mem:NAME not in the executable: named, with the file" rc=1 "err~no variable 'no_such_var' in /"
run -e 'perf.on("mem:0x1000/3:w", function() end)'
check "mem:ADDR/3: the lengths a watchpoint covers" rc=1 "err~a watchpoint covers 1, 2, 4 or 8 bytes"
run -e 'perf.on("mem:0x1000:q", function() end)'
check "mem:ADDR:q: the accesses there are" rc=1 "err~after the address, /LEN and :rwx"

done_testing
