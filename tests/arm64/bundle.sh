# SPDX-License-Identifier: GPL-2.0
# bundle.sh - shark bundle --arch arm64: aarch64 bundles made by this (x86)
# shark on the arm64 runtime of make ARCH=arm64, run under qemu-user as far
# as an emulator of user space goes: usage, version, the checksum check, and
# the BPF C inside compiled for arm64's pt_regs. Tracing needs an arm64
# kernel: qemu-user emulates no bpf(2) or perf_event_open(2).
. "$(dirname "$0")/../e2e/lib.bash"

A=${ARM64_OUT:-$TOP/.output/arm64}
QEMU=${SHARK_QEMU_USER:-qemu-aarch64-static}
export SHARK_RUNTIME_ARM64=$A/shark

run bundle --arch arm64 "$TOP/samples/execsnoop.lua" -o "$T/execsnoop"
check "bundle --arch arm64 samples/execsnoop.lua" rc=0 \
	"err~wrote $T/execsnoop, [0-9.]+ MB: runtime [0-9.]+ KB \(arm64\), script [0-9.]+ KB, 0 modules, 1 BPF object"
ok_if "the bundle is an aarch64 executable" sh -c "file -b '$T/execsnoop' | grep -q '^ELF 64-bit LSB executable, ARM aarch64'"
ok_if "it links glibc only" \
	test "$(readelf -d "$T/execsnoop" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')" = \
	"ld-linux-aarch64.so.1 libc.so.6 libm.so.6 "

# under qemu-user: the bundle starts, checks itself and reads its script
timeout -s KILL 60 "$QEMU" "$T/execsnoop" -h >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "under $QEMU: ./execsnoop -h prints the sample's usage" rc=0 "out~^usage: execsnoop " "out~-x, --fails"
timeout -s KILL 60 "$QEMU" "$T/execsnoop" --shark-version >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "--shark-version: made from execsnoop.lua, for arm64" rc=0 "out~a bundle of execsnoop.lua" \
	"out~runs with shark [0-9.]+ for arm64"
cp "$T/execsnoop" "$T/damaged"
size=$(stat -c %s "$T/damaged")
printf 'X' | dd of="$T/damaged" bs=1 seek=$((size - 70000)) conv=notrunc 2>/dev/null
timeout -s KILL 60 "$QEMU" "$T/damaged" -h >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "a damaged arm64 bundle is refused by its checksum" rc=1 \
	"err~this bundle is damaged: its bytes do not match its checksum" !out~usage
timeout -s KILL 60 "$QEMU" "$T/execsnoop" -d 1 >"$T/out" 2>"$T/err" </dev/null
RC=$?
if [ $RC = 1 ] && grep -q "cannot load the BPF object: Function not implemented" "$T/err"; then
	skip "execsnoop traces exec()s" "$QEMU emulates no bpf(2) (ENOSYS): it needs an arm64 kernel"
else
	check "execsnoop under $QEMU: only bpf(2) missing" rc=1 "err~Function not implemented"
fi

export T
# BPF C for arm64 against this machine's x86 vmlinux.h: CO-RE moves kernel
# structs, but pt_regs is arm64's own (shark_cross.bpf.h), so argument 2 of
# a probed function is regs[1] at 8, where x86 reads si at 104
run -e 'local src = [[SEC("uprobe") int on_call(struct pt_regs *ctx)
{ long a = PT_REGS_PARM2(ctx); bpf_printk("%ld", a); return 0; }]]
for _, a in ipairs({ "x86", "arm64" }) do
  local o = assert(require("bpf").compile(src, "parm2.bpf.c", 1, a))
  local f = assert(io.open(os.getenv("T") .. "/" .. a .. ".o", "wb")); f:write(o); f:close()
end'
check "BPF C compiled for x86 and for arm64" rc=0
ok_if "PT_REGS_PARM2 reads offset 104 (si) for x86" sh -c "llvm-objdump -d '$T/x86.o' | grep -q '= \*(u64 \*)(r1 + 104)'"
ok_if "and offset 8 (regs[1]) for arm64" sh -c "llvm-objdump -d '$T/arm64.o' | grep -q '= \*(u64 \*)(r1 + 8)'"
# the aarch64 shark compiles for arm64 by default, as make ARCH=arm64 prebuilds
# the samples' BPF C with it under qemu (clang is this machine's)
SHARK_CACHE=$T/cache timeout -s KILL 120 "$QEMU" "$A/shark" -e 'local src = [[SEC("uprobe") int on_call(struct pt_regs *ctx)
{ long a = PT_REGS_PARM2(ctx); bpf_printk("%ld", a); return 0; }]]
local o = assert(require("bpf").compile(src, "parm2.bpf.c", 1))
local f = assert(io.open(os.getenv("T") .. "/own.o", "wb")); f:write(o); f:close()' >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "the aarch64 shark under $QEMU compiles BPF C" rc=0
ok_if "for arm64 by default: offset 8" sh -c "llvm-objdump -d '$T/own.o' | grep -q '= \*(u64 \*)(r1 + 8)'"

# a bundle's program headers move to its end; their PT_LOAD keeps the file's
# address - offset, since qemu-user (and kernels before 5.18) pass the loader
# the first segment's address + e_phoff as AT_PHDR: an x86 bundle under
# qemu-x86_64 (a layout without it crashed there with SIGSEGV)
run bundle "$TOP/samples/execsnoop.lua" -o "$T/execsnoop-x86"
check "an x86 bundle of execsnoop.lua" rc=0
timeout -s KILL 60 qemu-x86_64-static "$T/execsnoop-x86" -h >"$T/out" 2>"$T/err" </dev/null
RC=$?
check "it starts where AT_PHDR is the first segment + e_phoff (qemu-x86_64-static)" rc=0 "out~^usage: execsnoop-x86 "

# the runtime: found beside this shark or named; a clear error otherwise
SHARK_RUNTIME_ARM64=$T/nothing run bundle --arch arm64 "$TOP/samples/execsnoop.lua" -o "$T/x"
check "a missing arm64 runtime says how to build it" rc=1 "err~needs shark's arm64 runtime, and $T/nothing does not exist" \
	"err~make ARCH=arm64"
run bundle --arch arm64 --runtime "$OUT/shark" "$TOP/samples/execsnoop.lua" -o "$T/x"
check "an x86 shark is refused as the arm64 runtime" rc=1 "err~is not a shark for arm64 \(ELF machine 62\)"
run bundle --arch sparc "$TOP/samples/execsnoop.lua" -o "$T/x"
check "an unknown --arch is a usage error" rc=2 "err~--arch sparc: not one of x86, arm64"
ok_if "and none of them wrote a file" test ! -e "$T/x"

done_testing
