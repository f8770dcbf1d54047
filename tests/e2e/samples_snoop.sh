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
# /bin/sh: the -c command is exec'd, and a bare sh would show its PATH search as failed execs too
run -c "/bin/sh -c '/nonexistent/shark-nope arg1; /bin/true shark-ok'" "$S/execsnoop.lua" -x
check "execsnoop -x: failed execs too (ENOENT, -2), as BCC's -x" rc=0 \
	'out~ -2 /nonexistent/shark-nope arg1$' 'out~ 0 /bin/true shark-ok$'
run -c "/bin/sh -c '/nonexistent/shark-nope arg1; /bin/true shark-ok'" "$S/execsnoop.lua"
check "execsnoop: no failed exec without -x" rc=0 '!out~ -2 /nonexistent/' 'out~ 0 /bin/true shark-ok$'
run -c "bash -c 'exec -a fake-argv0 /bin/echo shark-path'" "$S/execsnoop.lua"
check "execsnoop: the path exec'd, not argv[0], as BCC/libbpf-tools print it" rc=0 \
	'out~^echo +[0-9]+ +[0-9]+ +0 /bin/echo shark-path$' '!out~^echo .*fake-argv0'
run -c "sh -c '/bin/true shark-json'" "$S/execsnoop.lua" -j -n true
check "execsnoop -j -n: JSON lines of the matching command only, keys in column order, '/' unescaped" rc=0 \
	'out~^\{"time":[0-9.e+-]+,"comm":"true","pid":[0-9]+,"ppid":[0-9]+,"ret":0,"args":"/bin/true shark-json"\}$' \
	'!out~"args":"sh -c' '!out~\\/'



# --- exitsnoop: an exit code and a SIGKILL, for pids the workload reports

start "$S/exitsnoop.lua"
wait_out '^PCOMM +PID +PPID +TID +AGE\(s\) +EXIT_CODE$'
bash -c 'echo $$ >"$0"; exit 7' "$T/pid7"
sleep 30 & kpid=$!
until [ "$(cat /proc/$kpid/comm 2>/dev/null)" = sleep ]; do sleep 0.01; done
kill -KILL $kpid; wait $kpid 2>/dev/null
wait_out "^sleep +$kpid +"
signal INT; finish
check "exitsnoop: 'exit 7' shows code 7 for its pid, a SIGKILLed sleep shows the signal" rc=0 \
	"out~^bash +$(cat "$T/pid7") +$$ +$(cat "$T/pid7") +[0-9.]+ +code 7$" \
	"out~^sleep +$kpid +$$ +$kpid +[0-9.]+ +signal 9 \(KILL\)$"
run -c "sh -c 'exit 3'" "$S/exitsnoop.lua" -x -j
check "exitsnoop -x -j: the target's non-zero exit as JSON" rc=0 'out~^\{.*"exit_code":3' '!out~"exit_code":0'
# --- opensnoop: openat_n opens its path exactly N times

touch "$T/shark-open-target"
start "$S/opensnoop.lua" -n openat_n
wait_out '^PID +COMM +FD +ERR PATH$'
"$PROGS/openat_n" 37 "$T/shark-open-target" & pid=$!
wait $pid
wait_out "^$pid +openat_n +.* 0 $T/shark-open-target$"
sleep 0.3; signal INT; finish
check "opensnoop: the workload's opens of its path, with its pid, a fd and ERR 0" rc=0 \
	"out~^$pid +openat_n +[0-9]+ +0 $T/shark-open-target$" '!out~^[0-9]+ +[^o ]'
ok_if "opensnoop: exactly 37 opens of the path, all by the workload's pid" \
	test "$(grep -c " $T/shark-open-target\$" "$T/out")/$(grep -c "^$pid .* $T/shark-open-target\$" "$T/out")" = 37/37
run -c "$PROGS/openat_n 3 /nonexistent/shark-missing" "$S/opensnoop.lua" -x -e
check "opensnoop -x -e: 3 failed opens of a missing path, FD -1, ERR 2 (ENOENT), flags O_NOFOLLOW|O_NOCTTY" rc=0 \
	'out~^PID +COMM +FD +ERR FLAGS +PATH$' 'out~^[0-9]+ +openat_n +-1 +2 00400400 /nonexistent/shark-missing$' \
	'!out~ 0 [0-9]{8} /'
ok_if "opensnoop -x: exactly the 3 failed opens" test "$(grep -c shark-missing "$T/out")" = 3
run -c "$PROGS/openat_n 2 /nonexistent/shark-json" "$S/opensnoop.lua" -j -n openat
check "opensnoop -j -n: JSON lines with fd, err and path, in column order" rc=0 \
	'out~^\{"time":[0-9.e+-]+,"pid":[0-9]+,"tid":[0-9]+,"comm":"openat_n","fd":-1,"err":2,"flags":[0-9]+,"path":"/nonexistent/shark-json"\}$'

# --- killsnoop and sigsnoop: kill -USR1 from this shell to a sleeping pid

sleeping() { sleep 30 & spid=$!; until [ "$(cat /proc/$spid/comm 2>/dev/null)" = sleep ]; do sleep 0.01; done; }
start "$S/killsnoop.lua"
wait_out '^TIME +PID +COMM +SIG +TPID +RESULT$'
sleeping
kill -USR1 $spid; wait $spid 2>/dev/null
kill -0 999999 2>/dev/null
wait_out " 999999 +-3$"
signal INT; finish
check "killsnoop: this shell's kill -USR1 of a sleeping pid (signal 10, result 0), a kill of no such pid (-ESRCH)" \
	rc=0 "out~^[0-9:]{8} +$$ +bash +10 +$spid +0$" "out~^[0-9:]{8} +$$ +bash +0 +999999 +-3$"

start "$S/sigsnoop.lua"
wait_out '^TIME +PID +COMM +SIG +TPID +TCOMM +RESULT$'
sleeping
kill -USR1 $spid; wait $spid 2>/dev/null
wait_out " SIGCHLD +$$ "
signal INT; finish
check "sigsnoop: SIGUSR1 from this shell to sleep, and the kernel's SIGCHLD from the dying sleep to this shell" \
	rc=0 "out~^[0-9:]{8} +$$ +bash +SIGUSR1 +$spid +sleep +delivered$" \
	"out~^[0-9:]{8} +$spid +sleep +SIGCHLD +$$ +bash +delivered$"
run "$S/sigsnoop.lua" -s NOPE
check "sigsnoop -s with an unknown signal: a usage error" rc=2 "err~SIGNAL: invalid value 'NOPE'"

# --- bashreadline: lines typed into an interactive bash (bash -i reads stdin with readline)

start "$S/bashreadline.lua"
wait_out '^TIME +PID +COMMAND$'
printf 'echo shark-typed-$$\nexit\n' | bash --norc -i >"$T/bash.out" 2>/dev/null
bpid=$(sed -n 's/^shark-typed-//p' "$T/bash.out")
wait_out 'shark-typed'
signal INT; finish
check "bashreadline: the typed line, unexpanded, with the interactive bash's pid" rc=0 \
	"out~^[0-9:]{8} +$bpid +echo shark-typed-\\\$\\\$$" "out~^[0-9:]{8} +$bpid +exit$"

# --- tcpconnect, tcpaccept, tcplife: a bash /dev/tcp client and a python
# server on loopback, IPv4 and IPv6, on fixed high ports, known byte counts

cat >"$T/server.py" <<'PY'
import os, socket, sys
fam, addr, port, nread, nsend, ready = sys.argv[1:7]
s = socket.socket(socket.AF_INET6 if fam == "6" else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, int(port)))
s.listen()
open(ready, "w").write("%d\n" % os.getpid())
c, peer = s.accept()
data = b""
while len(data) < int(nread):
    data += c.recv(65536)
c.sendall(b"x" * int(nsend))
c.close()
print(os.getpid(), peer[1])
PY
PORT4=47311 PORT6=47312
# exchange FAMILY ADDR PORT: client sends 3000 bytes, server 10240 back then
# closes; sets spid (server), cpid and cport (client)
exchange() {
	rm -f "$T/ready"
	python3.11 "$T/server.py" "$1" "$2" "$3" 3000 10240 "$T/ready" >"$T/server.out" & local sv=$!
	until [ -s "$T/ready" ]; do sleep 0.02; done
	bash -c 'echo $$ >"$0"; exec 3<>"/dev/tcp/$1/$2"; head -c 3000 /dev/zero >&3; cat <&3 >/dev/null' \
		"$T/client" "$2" "$3"
	wait $sv
	read -r spid cport <"$T/server.out"
	cpid=$(cat "$T/client")
}

start "$S/tcpconnect.lua"
wait_out '^PID +COMM +IP +SADDR +DADDR +DPORT$'
exchange 4 127.0.0.1 $PORT4; c4=$cpid
exchange 6 ::1 $PORT6; c6=$cpid
wait_out " $PORT6$"
signal INT; finish
check "tcpconnect: bash's connects to the IPv4 and IPv6 listeners, with its pids" rc=0 \
	"out~^$c4 +bash +4 +127\.0\.0\.1 +127\.0\.0\.1 +$PORT4$" "out~^$c6 +bash +6 +::1 +::1 +$PORT6$"
run "$S/tcpconnect.lua" -h
check "tcpconnect -h lists its filters" rc=0 'out~-P, --port PORT' 'out~-4, --ipv4'

start "$S/tcpaccept.lua" -P $PORT4
wait_out '^PID +COMM +IP +RADDR +RPORT +LADDR +LPORT$'
exchange 6 ::1 $PORT6
exchange 4 127.0.0.1 $PORT4
wait_out " $PORT4$"
signal INT; finish
check "tcpaccept -P: the server's accept of the client's port, in the server's pid; the other port filtered" rc=0 \
	"out~^$spid +python3.11 +4 +127\.0\.0\.1 +$cport +127\.0\.0\.1 +$PORT4$" "!out~ $PORT6$"

start "$S/tcplife.lua" -j
sleep 1
exchange 4 127.0.0.1 $PORT4; s4=$spid c4=$cpid p4=$cport
exchange 6 ::1 $PORT6
wait_out "\"rport\":$PORT6"
signal INT; finish
# one line per session end: pid comm laddr:lport raddr:rport tx rx
python3.11 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e["pid"], e["comm"], "%s:%d" % (e["laddr"], e["lport"]), "%s:%d" % (e["raddr"], e["rport"]),
          e["tx_bytes"], e["rx_bytes"])
' "$T/out" >"$T/life" 2>&1
ok_if "tcplife: the IPv4 server end: its pid, ports, TX 10240 and RX 3000 bytes" \
	grep -qx "$s4 python3.11 127.0.0.1:$PORT4 127.0.0.1:$p4 10240 3000" "$T/life"
ok_if "tcplife: the IPv4 client end: bash's pid, TX 3000 and RX 10240 bytes" \
	grep -qx "$c4 bash 127.0.0.1:$p4 127.0.0.1:$PORT4 3000 10240" "$T/life"
ok_if "tcplife: the IPv6 client and server ends (::1), same byte counts" \
	grep -qx "$cpid bash ::1:$cport ::1:$PORT6 3000 10240" "$T/life"
ok_if "tcplife: the IPv6 server end" grep -qx "$spid python3.11 ::1:$PORT6 ::1:$cport 10240 3000" "$T/life"
run "$S/tcplife.lua" -4 -d 0.5
check "tcplife: the table header" rc=0 'out~^PID +COMM +LADDR +LPORT +RADDR +RPORT +TX_KB +RX_KB +MS$'

done_testing
